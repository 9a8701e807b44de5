"""Daily bars from akshare (Eastmoney and Sina endpoints), normalised to the canonical schema.

akshare is a thin scraper: each function hits one vendor page and returns that page's table,
with Chinese headers for some calls (``stock_hk_hist``: 日期 开盘 收盘 最高 最低 成交量 ...)
and English ones for others (``stock_hk_daily``: date open high low close volume ...), dates
as ``datetime.date`` objects, strings or datetimes. :class:`AkshareRoute` records, per
function, which columns mean what; every frame then goes through
:func:`data_loaders.validation.normalise_bars` like any CSV file.

The network sits behind one seam, :class:`Fetcher` (``fetch(call) -> DataFrame``). The
default :class:`AkshareModuleFetcher` calls the installed akshare module; tests pass a fetcher
that returns recorded frames or raises, the way httpx's ``MockTransport`` replaces the wire.

Adjustment mapping (never mixed: the akshare function and its ``adjust`` argument are
recorded in ``DailyBars.source``)

========== ================ ===============================================================
ours       akshare adjust   meaning
========== ================ ===============================================================
raw        ``""``           unadjusted traded prices (不复权)
adjusted   ``"qfq"``        forward-adjusted (前复权): the latest bar keeps its traded price,
                            earlier bars are adjusted for dividends and splits. That is the
                            anchoring of the CSV folder's ``adj_close`` (anchored at the last
                            row), but the vendor may *subtract* cash dividends where the CSV
                            scales, so returns across an ex-date can differ slightly.
(unused)   ``"hfq"``        back-adjusted (后复权), anchored at the first bar: its levels are
                            no traded price of any date, so catalyst-bt never requests it.
========== ================ ===============================================================

Indices and FX have no adjustment: both settings return the same series.
"""

from __future__ import annotations

import importlib
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import Protocol

import pandas as pd
import requests

from data_loaders.errors import NetworkSourceError, SourceUnavailableError
from data_loaders.markets import Listing, get_listing
from data_loaders.schema import Adjustment, DailyBars, DataIssue
from data_loaders.validation import normalise_bars

AKSHARE_ADJUST: Mapping[Adjustment, str] = {"raw": "", "adjusted": "qfq"}

# Column meaning per akshare function family (akshare header -> canonical name).
EASTMONEY_HIST_COLUMNS: Mapping[str, str] = {
    "日期": "date", "开盘": "open", "最高": "high", "最低": "low", "收盘": "close", "成交量": "volume",
}
SINA_DAILY_COLUMNS: Mapping[str, str] = {
    "date": "date", "open": "open", "high": "high", "low": "low", "close": "close", "volume": "volume",
}
EASTMONEY_FX_COLUMNS: Mapping[str, str] = {
    "日期": "date", "今开": "open", "最高": "high", "最低": "low", "最新价": "close",
}

# Upstream symbols come from the listing registry (``upstream = { eastmoney = "106.BABA" }``)
# where the rule below does not fit: Eastmoney prefixes US tickers with a venue code
# (105 Nasdaq, 106 NYSE, 107 NYSE Arca/AMEX) that the ticker alone does not tell, and
# Sina names indices its own way (".IXIC").

_HELP = "Check the network, or use --data-dir DIR with CSV files / --source synthetic"


@dataclass(frozen=True, kw_only=True, slots=True)
class AkshareCall:
    """One akshare function call: the name and its keyword arguments (all strings)."""

    function: str
    kwargs: tuple[tuple[str, str], ...] = ()

    def describe(self) -> str:
        """``stock_hk_hist(symbol='09988', adjust='qfq')`` — dates left out: they vary per call."""
        shown = ", ".join(f"{k}={v!r}" for k, v in self.kwargs if k in ("symbol", "adjust"))
        return f"{self.function}({shown})"


class Fetcher(Protocol):
    """The network seam: run one akshare call and return its frame unchanged."""

    def fetch(self, call: AkshareCall) -> pd.DataFrame:
        """Return what ``akshare.<call.function>(**call.kwargs)`` returns; raise what it raises."""
        ...


class AkshareModuleFetcher:
    """The real fetcher: calls the installed akshare module (imported on first use)."""

    def fetch(self, call: AkshareCall) -> pd.DataFrame:
        akshare = importlib.import_module("akshare")
        return getattr(akshare, call.function)(**dict(call.kwargs))


@dataclass(frozen=True, kw_only=True, slots=True)
class AkshareRoute:
    """How one akshare function delivers one of our listings.

    Attributes
    ----------
    function
        akshare function name.
    symbol
        The ``symbol`` argument akshare expects ("09988", "106.BABA", "HSTECH").
    columns
        akshare column -> canonical column (``date open high low close [volume]``).
    takes_adjust
        Whether the function has an ``adjust`` argument (stocks yes, indices and FX no).
    takes_range
        Whether it takes ``period``/``start_date``/``end_date`` (Eastmoney ``*_hist``).
    """

    function: str
    symbol: str
    columns: Mapping[str, str]
    takes_adjust: bool = False
    takes_range: bool = False

    def call(self, adjustment: Adjustment, start: pd.Timestamp | None, end: pd.Timestamp | None) -> AkshareCall:
        kwargs: list[tuple[str, str]] = [("symbol", self.symbol)]
        if self.takes_range:
            kwargs += [
                ("period", "daily"),
                ("start_date", f"{start:%Y%m%d}" if start is not None else "19700101"),
                ("end_date", f"{end:%Y%m%d}" if end is not None else "20500101"),
            ]
        if self.takes_adjust:
            kwargs.append(("adjust", AKSHARE_ADJUST[adjustment]))
        return AkshareCall(function=self.function, kwargs=tuple(kwargs))


def akshare_routes(listing: Listing) -> tuple[AkshareRoute, ...]:
    """The akshare routes for ``listing``, preferred first (the rest are fallbacks).

    Raises
    ------
    SourceUnavailableError
        No akshare function is mapped for this listing.
    """
    sym = listing.symbol
    eastmoney, sina = listing.upstream_symbol("eastmoney"), listing.upstream_symbol("sina")
    routes: tuple[AkshareRoute, ...] = ()
    if listing.market.code == "HK" and listing.kind in ("stock", "etf"):
        code = eastmoney or sym.split(".")[0].zfill(5)  # rule: "9988.HK" -> "09988"
        routes = (
            AkshareRoute(function="stock_hk_hist", symbol=code, columns=EASTMONEY_HIST_COLUMNS,
                         takes_adjust=True, takes_range=True),
            AkshareRoute(function="stock_hk_daily", symbol=sina or code, columns=SINA_DAILY_COLUMNS,
                         takes_adjust=True),
        )
    elif listing.market.code == "HK" and listing.kind == "index" and sina:
        routes = (AkshareRoute(function="stock_hk_index_daily_sina", symbol=sina, columns=SINA_DAILY_COLUMNS),)
    elif listing.market.code == "US" and listing.kind == "index" and sina:
        routes = (AkshareRoute(function="index_us_stock_sina", symbol=sina, columns=SINA_DAILY_COLUMNS),)
    elif listing.market.code == "US" and listing.kind != "index":
        sina_route = AkshareRoute(function="stock_us_daily", symbol=sina or sym, columns=SINA_DAILY_COLUMNS,
                                  takes_adjust=True)
        if eastmoney:
            routes = (AkshareRoute(function="stock_us_hist", symbol=eastmoney, columns=EASTMONEY_HIST_COLUMNS,
                                   takes_adjust=True, takes_range=True), sina_route)
        else:
            routes = (sina_route,)
    elif listing.kind == "fx":
        routes = (AkshareRoute(function="forex_hist_em", symbol=sym, columns=EASTMONEY_FX_COLUMNS),)
    if not routes:
        raise SourceUnavailableError(
            f"akshare has no mapping for {sym}; use --data-dir DIR with a {sym}.csv file, or --source "
            f"synthetic, or declare the upstream symbol in its [[listing]] (upstream = {{ sina = \"...\" }} "
            f"for an index)")
    return routes


@dataclass(frozen=True, kw_only=True, slots=True)
class RetryPolicy:
    """Bounded retries with exponential backoff for transient network failures.

    Attributes
    ----------
    attempts
        Calls per route before giving up (>= 1).
    backoff_s
        Wait before the second attempt; doubles each time (1 s, 2 s, 4 s ...).
    timeout_s
        Wall-clock limit of one attempt. Sina's akshare functions set no HTTP timeout of
        their own, so the limit is enforced around the call.
    """

    attempts: int = 3
    backoff_s: float = 1.0
    timeout_s: float = 30.0

    def __post_init__(self) -> None:
        if self.attempts < 1 or self.backoff_s < 0 or self.timeout_s <= 0:
            raise ValueError(f"RetryPolicy needs attempts >= 1, backoff_s >= 0, timeout_s > 0; got {self}")

    def delay_s(self, failed_attempts: int) -> float:
        """Seconds to wait after ``failed_attempts`` failures (1 -> backoff_s)."""
        return self.backoff_s * 2 ** (failed_attempts - 1)


class FetchTimeout(TimeoutError):
    """One attempt did not answer within ``RetryPolicy.timeout_s``."""


# Failures worth another attempt: the wire, not the request. requests' JSONDecodeError is
# a RequestException too (an HTML error page instead of JSON is usually transient).
RETRYABLE: tuple[type[BaseException], ...] = (requests.exceptions.RequestException, ConnectionError,
                                              TimeoutError, OSError)


def _call_with_timeout(fn: Callable[[], pd.DataFrame], timeout_s: float) -> pd.DataFrame:
    box: dict[str, object] = {}

    def run() -> None:
        try:
            box["value"] = fn()
        except BaseException as exc:  # handed to the caller's thread below
            box["error"] = exc

    # A daemon thread: an abandoned call (hung socket) cannot keep the process alive.
    worker = threading.Thread(target=run, name="akshare-fetch", daemon=True)
    worker.start()
    worker.join(timeout_s)
    if worker.is_alive():
        raise FetchTimeout(f"no answer within {timeout_s:g} s")
    if "error" in box:
        raise box["error"]  # type: ignore[misc]
    return box["value"]  # type: ignore[return-value]


def _reason(exc: BaseException) -> str:
    text = f"{type(exc).__name__}: {exc}"
    return text if len(text) <= 240 else text[:237] + "..."


def utc_now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")


@dataclass(kw_only=True)
class AkshareSource:
    """:class:`~data_loaders.schema.PriceSource` over akshare.

    Parameters
    ----------
    fetcher
        The network seam (default: the installed akshare module).
    retry
        Attempts, backoff and per-attempt timeout.
    sleep
        Called with the backoff delay in seconds (tests pass a recorder).
    clock
        Current UTC instant: bars of a session that has not closed yet (a fetch during
        trading hours) are dropped and reported, never cached as if final.
    """

    fetcher: Fetcher = field(default_factory=AkshareModuleFetcher)
    retry: RetryPolicy = field(default_factory=RetryPolicy)
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], pd.Timestamp] = utc_now

    name = "akshare"

    def daily_bars(
        self,
        symbol: str,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
        adjustment: Adjustment = "raw",
    ) -> DailyBars:
        """Fetch ``symbol`` through its routes (fallbacks in order) and validate it.

        Raises
        ------
        UnknownSymbolError
            ``symbol`` is not a catalyst-bt listing.
        SourceUnavailableError
            Every route failed (network down, no rows, unexpected columns); the message
            names the symbol, each function tried with its reason, and what to do.
        DataValidationError
            akshare answered with unusable prices (message names the rows).
        """
        listing = get_listing(symbol)
        lo = pd.Timestamp(start) if start is not None else None
        hi = pd.Timestamp(end) if end is not None else None
        failures: list[tuple[str, str]] = []
        for route in akshare_routes(listing):
            call = route.call(adjustment, lo, hi)
            try:
                raw = self._fetch(call)
                table = _canonical_table(raw, route, adjustment)
            except SourceUnavailableError as exc:
                failures.append((route.function, str(exc)))
                continue
            bars = normalise_bars(
                table, listing=listing, adjustment=adjustment, source=f"akshare:{call.describe()}",
                origin=f"akshare:{symbol} ({route.function})", row_label=lambda i, f=route.function: f"{f} row {i}",
                start=lo, end=hi,
            )
            return self._drop_unfinished(bars)
        (first, reason), *rest = failures
        more = "".join(f"; fallback {f}: {r}" for f, r in rest)
        raise NetworkSourceError(f"akshare could not fetch {symbol} ({first}): {reason}{more}. {_HELP}")

    def _fetch(self, call: AkshareCall) -> pd.DataFrame:
        """One route with bounded retries; non-transient failures are not retried."""
        for attempt in range(1, self.retry.attempts + 1):
            try:
                frame = _call_with_timeout(lambda: self.fetcher.fetch(call), self.retry.timeout_s)
            except RETRYABLE as exc:
                if attempt == self.retry.attempts:
                    raise NetworkSourceError(
                        f"{_reason(exc)} (after {attempt} attempt{'s' if attempt > 1 else ''})") from exc
                self.sleep(self.retry.delay_s(attempt))
                continue
            except Exception as exc:  # akshare's parsers fail on unexpected pages (unknown symbol ...)
                raise NetworkSourceError(f"unexpected answer: {_reason(exc)}") from exc
            if not isinstance(frame, pd.DataFrame) or frame.empty:
                raise NetworkSourceError(f"returned no rows for {call.describe()} (symbol unknown upstream?)")
            return frame
        raise AssertionError("unreachable: RetryPolicy.attempts >= 1")

    def _drop_unfinished(self, bars: DailyBars) -> DailyBars:
        now = self.clock()
        unfinished = bars.frame["close_utc"] > now
        if not unfinished.any():
            return bars
        dates = tuple(bars.frame.index[unfinished.to_numpy()].strftime("%Y-%m-%d"))
        issue = DataIssue(kind="incomplete_session_dropped", sessions=dates,
                          message=f"session(s) {', '.join(dates)} had not closed at fetch time "
                                  f"{now:%Y-%m-%d %H:%M} UTC; their partial bars were dropped")
        return replace(bars, frame=bars.frame.loc[~unfinished.to_numpy()], issues=(*bars.issues, issue))


def _canonical_table(raw: pd.DataFrame, route: AkshareRoute, adjustment: Adjustment) -> pd.DataFrame:
    """Rename ``raw``'s columns to ours; a missing column means akshare's output changed."""
    needed = [c for c, ours in route.columns.items() if ours != "volume"]
    missing = [c for c in needed if c not in raw.columns]
    if missing:
        raise NetworkSourceError(
            f"returned columns {list(raw.columns)} without {missing}: akshare's output format "
            f"changed; pin the akshare version in setup.cfg or report it")
    present = {c: ours for c, ours in route.columns.items() if c in raw.columns}
    table = raw[list(present)].rename(columns=present)
    if adjustment == "adjusted":
        # akshare's qfq prices are already adjusted (or, for indices and FX, need none):
        # a factor of 1 tells normalise_bars to keep them as they are.
        table = table.assign(adj_close=table["close"])
    return table.reset_index(drop=True)
