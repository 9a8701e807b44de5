"""Returns on each listing's own session clock, and the benchmark matched to that clock.

Returns
-------
Simple close-to-close returns of **dividend-adjusted** closes (``DailyBars`` with
``adjustment="adjusted"``), so an ex-dividend drop is not an abnormal return. Simple
returns make a CAR the plain sum of abnormal returns, the convention in event studies.
Each listing's returns live on its exchange calendar's sessions between its first and
last bar; a session without a bar, and the session after it, have no return (NaN): gaps
are reported and never filled.

Matching a benchmark to a listing's clock
-----------------------------------------
Every session carries its close instant (UTC), so a benchmark is matched to a listing by
close instants, never by date labels:

* **Same calendar** (9988.HK vs HSTECH, both XHKG): the benchmark return of the same
  session. A benchmark bar missing on a listing session makes that session unusable and is
  reported (not filled).
* **Different calendars** (BABA on XNYS vs HSTECH on XHKG). HSTECH closes at 08:00 UTC,
  BABA at 20:00/21:00 UTC of the same date, so BABA's return of date D spans HK's session
  D (its overnight gap) *and* the US session D, which HK prices only on D+1. The
  benchmark level matched to a listing session is the benchmark close at the *last*
  benchmark close at or before the listing's close (``last_close``) or the *first* at or
  after it (``next_close``); when two listing sessions map to the same benchmark close
  (an HK holiday) the benchmark return in between is 0 — nothing was priced there.
  ``cross_clock = "dimson"`` (the default for such pairs) regresses on the last-close
  matched return at lags -1, 0 and +1 (Dimson 1979) and reports beta as their sum. The
  abnormal return subtracts the full fitted model, so the lead term (HK's next session)
  also takes out Hong Kong's market-wide reaction to news that broke in US hours.

Default benchmarks (:data:`~backtests.event_study.spec.DEFAULT_BENCHMARKS`)
---------------------------------------------------------------------------
9988.HK vs HSTECH (same clock) and **BABA vs KWEB** (KraneShares China internet ETF,
same NYSE close: a benchmark on the US clock). Measured on ../shared/data/prices,
2023-2025, R² of BABA's daily returns: KWEB same session 0.69; HSTECH Dimson (-1, 0, +1)
0.34; HSTECH last close (same date) 0.25; HSTECH next close 0.05. A non-synchronous
benchmark leaves most of BABA's market move in its "abnormal" return, so KWEB is the
default and HSTECH + Dimson the documented alternative. Both benchmarks hold Alibaba
itself (roughly 7-10 % weight), which shrinks abnormal returns by about that share of
beta times the firm's own move; no ex-Alibaba index is in the data.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data_loaders.calendars import session_closes_utc, sessions_between
from data_loaders.markets import get_listing
from data_loaders.schema import DailyBars
from backtests.event_study.spec import CrossClock, ReturnModel

_MAX_DATES = 6


def _listed(dates: pd.DatetimeIndex) -> str:
    shown = ", ".join(f"{d:%Y-%m-%d}" for d in dates[:_MAX_DATES])
    return shown + (f" (+{len(dates) - _MAX_DATES} more)" if len(dates) > _MAX_DATES else "")


def calendar_code(bars: DailyBars) -> str:
    """The exchange calendar of ``bars``' listing.

    Raises
    ------
    ValueError
        For a symbol without exchange sessions (FX).
    """
    code = get_listing(bars.symbol).market.calendar_code
    if code is None:
        raise ValueError(f"{bars.symbol} has no exchange sessions; an event study needs a listing or index")
    return code


@dataclass(frozen=True, kw_only=True)
class SessionReturns:
    """Simple returns of one instrument on its calendar's sessions.

    Attributes
    ----------
    symbol, calendar
        Instrument and exchange calendar code.
    sessions
        Calendar sessions from the first to the last bar (naive labels).
    closes_ns
        Each session's close instant, UTC nanoseconds (int64).
    closes
        Adjusted close per session, NaN where the data has no bar.
    returns
        ``close[t] / close[t-1] - 1``; NaN when either bar is missing (and for the first).
    """

    symbol: str
    calendar: str
    sessions: pd.DatetimeIndex
    closes_ns: np.ndarray
    closes: np.ndarray
    returns: np.ndarray

    @property
    def missing(self) -> pd.DatetimeIndex:
        """Sessions in the span without a bar."""
        return self.sessions[np.isnan(self.closes)]


@functools.lru_cache(maxsize=64)
def _session_grid(code: str, first: pd.Timestamp, last: pd.Timestamp) -> tuple[pd.DatetimeIndex, np.ndarray]:
    """Sessions of ``code`` in ``[first, last]`` and their close instants (UTC ns); cached,
    as a study asks for the same span of each listing several times."""
    sessions = sessions_between(code, first, last)
    closes_ns = session_closes_utc(code, sessions).asi8 if len(sessions) else np.array([], dtype=np.int64)
    closes_ns.setflags(write=False)
    return sessions, closes_ns


def session_returns(bars: DailyBars) -> SessionReturns:
    """Returns of ``bars`` on its calendar's sessions (gaps stay NaN; see module doc)."""
    code = calendar_code(bars)
    frame = bars.frame
    if len(frame) == 0:
        sessions = pd.DatetimeIndex([], name="session")
        closes_ns = np.array([], dtype=np.int64)
    else:
        sessions, closes_ns = _session_grid(code, frame.index[0], frame.index[-1])
    closes = frame["close"].reindex(sessions).to_numpy(dtype=float)
    returns = np.full(len(closes), np.nan)
    if len(closes) > 1:
        returns[1:] = closes[1:] / closes[:-1] - 1.0
    return SessionReturns(symbol=bars.symbol, calendar=code, sessions=sessions, closes_ns=closes_ns,
                          closes=closes, returns=returns)


def matched_benchmark_returns(bench: SessionReturns, closes_ns: np.ndarray,
                              how: CrossClock) -> np.ndarray:
    """Benchmark returns on a listing's clock, matched by close instants.

    Parameters
    ----------
    bench
        The benchmark on its own calendar.
    closes_ns
        The listing's session closes (UTC ns), ascending.
    how
        ``last_close``: benchmark close at the last benchmark close <= each listing close;
        ``next_close``: at the first benchmark close >= it. (``dimson`` uses ``last_close``.)

    Returns
    -------
    numpy.ndarray
        One return per listing session; 0.0 where both ends map to the same benchmark
        close; NaN where a mapped benchmark session has no bar or lies outside its data.
    """
    if how == "next_close":
        pos = np.searchsorted(bench.closes_ns, closes_ns, side="left")
    else:
        pos = np.searchsorted(bench.closes_ns, closes_ns, side="right") - 1
    inside = (pos >= 0) & (pos < len(bench.closes_ns))
    level = np.full(len(closes_ns), np.nan)
    level[inside] = bench.closes[pos[inside]]
    out = np.full(len(closes_ns), np.nan)
    if len(closes_ns) > 1:
        out[1:] = level[1:] / level[:-1] - 1.0
        same = (pos[1:] == pos[:-1]) & inside[1:] & np.isfinite(level[1:])
        out[1:][same] = 0.0
    return out


@dataclass(frozen=True, kw_only=True)
class Design:
    """The regression of one listing: ``y = X @ theta + e`` on the listing's sessions.

    Attributes
    ----------
    listing
        The listing's :class:`SessionReturns`.
    benchmark
        Benchmark symbol (``None`` for ``constant_mean`` without one).
    benchmark_desc
        How it is matched, e.g. ``"HSTECH (dimson -1,0,+1)"``.
    y
        Dependent variable: the return, or return minus benchmark (``market_adjusted``).
    X
        Regressors ``(n_sessions, k)``; ``k = 0`` for ``market_adjusted``.
    param_names
        Names of the ``k`` parameters (``alpha``, ``beta`` or ``beta_lag/beta_0/beta_lead``).
    listing_ok, benchmark_ok
        Per session: the listing's / the benchmark's return is available.
    notes
        Data findings that concern every row of the listing (benchmark gaps ...).
    """

    listing: SessionReturns
    benchmark: str | None
    benchmark_desc: str
    y: np.ndarray
    X: np.ndarray
    param_names: tuple[str, ...]
    listing_ok: np.ndarray
    benchmark_ok: np.ndarray
    notes: tuple[str, ...] = ()

    @property
    def valid(self) -> np.ndarray:
        """Sessions usable in a regression or an event window."""
        return self.listing_ok & self.benchmark_ok

    @property
    def k(self) -> int:
        return self.X.shape[1]


class DesignError(ValueError):
    """A listing/benchmark/model combination that cannot be built (reported per listing)."""


def build_design(listing: SessionReturns, bench: SessionReturns | None, model: ReturnModel,
                 cross_clock: CrossClock) -> Design:
    """Dependent variable and regressors of ``model`` for one listing (see module doc).

    Raises
    ------
    DesignError
        A model that needs a benchmark without one, or ``market_adjusted`` with a
        Dimson-matched benchmark on another clock (it needs a single benchmark return).
    """
    r = listing.returns
    n = len(r)
    listing_ok = np.isfinite(r)
    notes: list[str] = []
    if model == "constant_mean":
        return Design(listing=listing, benchmark=bench.symbol if bench else None,
                      benchmark_desc="none (constant mean)", y=r, X=np.ones((n, 1)),
                      param_names=("alpha",), listing_ok=listing_ok, benchmark_ok=np.ones(n, bool))
    if bench is None:
        raise DesignError(f"model {model!r} needs a benchmark for {listing.symbol}; name one in "
                          f"[study.benchmarks] or use model = \"constant_mean\"")
    same_clock = bench.calendar == listing.calendar
    how: CrossClock = "last_close" if same_clock else cross_clock
    x0 = matched_benchmark_returns(bench, listing.closes_ns, "next_close" if how == "next_close" else "last_close")
    if how == "dimson":
        if model == "market_adjusted":
            raise DesignError(
                f"model 'market_adjusted' needs one benchmark return per session, but {bench.symbol} "
                f"({bench.calendar}) is on another clock than {listing.symbol} ({listing.calendar}) and "
                f"cross_clock = 'dimson'; set cross_clock = 'last_close' or use a same-clock benchmark "
                f"(e.g. KWEB for BABA)")
        lag = np.r_[np.nan, x0[:-1]] if n else x0
        lead = np.r_[x0[1:], np.nan] if n else x0
        cols = np.column_stack([lag, x0, lead]) if n else np.empty((0, 3))
        names: tuple[str, ...] = ("beta_lag", "beta_0", "beta_lead")
        desc = f"{bench.symbol} (dimson -1,0,+1 by close time)"
    else:
        cols = x0.reshape(-1, 1)
        names = ("beta",)
        desc = bench.symbol if same_clock else f"{bench.symbol} ({how.replace('_', ' ')})"
    benchmark_ok = np.isfinite(cols).all(axis=1)
    lost = listing_ok & ~benchmark_ok
    # The first/last sessions legitimately lack a lag/lead; only report real gaps.
    if bench.missing.size:
        inner = lost.copy()
        if n:
            inner[:2] = False
            inner[-1:] = False
        if inner.any():
            notes.append(
                f"benchmark {bench.symbol} has no bar on {_listed(bench.missing)}; {int(inner.sum())} "
                f"{listing.symbol} session(s) matched to them are unusable (gaps are not filled): "
                f"{_listed(listing.sessions[inner])}")
    if len(bench.sessions) and n:
        beyond = listing_ok & ((listing.closes_ns < bench.closes_ns[0]) | (listing.closes_ns > bench.closes_ns[-1]))
        if beyond.any():
            notes.append(
                f"benchmark {bench.symbol} covers {bench.sessions[0]:%Y-%m-%d} to {bench.sessions[-1]:%Y-%m-%d}; "
                f"{int(beyond.sum())} {listing.symbol} session(s) outside it are unusable: "
                f"{_listed(listing.sessions[beyond])}")
    if model == "market_adjusted":
        return Design(listing=listing, benchmark=bench.symbol, benchmark_desc=desc, y=r - cols[:, 0],
                      X=np.empty((n, 0)), param_names=(), listing_ok=listing_ok, benchmark_ok=benchmark_ok,
                      notes=tuple(notes))
    X = np.column_stack([np.ones(n), cols])
    return Design(listing=listing, benchmark=bench.symbol, benchmark_desc=desc, y=r, X=X,
                  param_names=("alpha", *names), listing_ok=listing_ok, benchmark_ok=benchmark_ok,
                  notes=tuple(notes))
