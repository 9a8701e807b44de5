"""Per-combination metrics, vectorised over many equity curves at once.

Both sweep engines end here: the kernel passes its marks a block of combinations at a time
(:func:`from_marks`, then :func:`row_metrics`), the backtrader fallback a single row built
from a :class:`~backtests.results.BacktestResult` (:func:`metrics_matrix`). Definitions follow
``backtests.metrics`` (the engine's ``summary["metrics"]``) exactly, on the same series:

* the equity curve is marked after every session close of a traded listing (the engine's
  ``equity.csv`` clock);
* returns live on the benchmark's session clock: at each benchmark close the equity is the
  latest mark at or before it (initial cash before the first), the first return is measured
  from the initial cash (``backtests.engine.returns_on_clock``);
* annualisation uses ``sessions_per_year`` of the benchmark's calendar, never 252.

The parity tests compare every column here with the engine's own summary.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from data_loaders.calendars import sessions_per_year
from data_loaders.markets import get_listing
from data_loaders.schema import DailyBars

#: Columns of a sweep row, in order (all float64). The first group repeats
#: ``backtests.metrics.METRIC_KEYS`` (benchmark clock); the second the engine summary's
#: equity-curve figures.
ROW_METRICS: tuple[str, ...] = (
    "total_return", "annualised_return", "volatility_annual", "sharpe", "sortino", "max_drawdown",
    "max_drawdown_duration_sessions", "alpha_annual", "beta", "information_ratio", "tracking_error_annual",
    "hit_rate", "average_trade_pnl_base", "trade_count", "exposure",
    "final_equity_base", "open_trade_count", "costs_base", "min_cash_base", "max_positions_to_equity",
)


@dataclass(frozen=True, kw_only=True)
class BenchClock:
    """The benchmark's session clock over the run.

    Attributes
    ----------
    sessions
        Session labels (naive dates).
    close_ns
        Close instants, UTC nanoseconds.
    returns
        Benchmark simple returns (the first from the first session's open).
    periods_per_year
        ``sessions_per_year`` of the benchmark's calendar over the run's years.
    """

    sessions: pd.DatetimeIndex
    close_ns: np.ndarray
    returns: np.ndarray
    periods_per_year: float

    @classmethod
    def of(cls, benchmark: DailyBars) -> "BenchClock":
        frame = benchmark.frame
        close = frame["close"].to_numpy(dtype=float)
        prev = np.empty_like(close)
        if len(close):
            prev[0] = float(frame["open"].iloc[0])
            prev[1:] = close[:-1]
        code = get_listing(benchmark.symbol).market.calendar_code
        ppy = sessions_per_year(code, frame.index[0], frame.index[-1]) if len(frame) else float("nan")
        return cls(sessions=pd.DatetimeIndex(frame.index), close_ns=utc_ns(frame["close_utc"]),
                   returns=close / prev - 1.0, periods_per_year=ppy)


def utc_ns(values: object) -> np.ndarray:
    """Tz-aware instants -> int64 UTC nanoseconds."""
    idx = pd.DatetimeIndex(values)
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    return idx.as_unit("ns").asi8.copy()


def _finite(x: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(x), x, np.nan)


def in_order_sum(x: np.ndarray) -> np.ndarray:
    """Column sums of a C-contiguous ``T x C`` array added in time order (numpy's reduction over
    the leading axis of two or more columns; a single column is accumulated, where a reduction
    would sum it pairwise). So a column's sum does not depend on how many columns there are."""
    if x.shape[1] == 1 and len(x):
        return np.add.accumulate(x[:, 0])[-1:]
    return np.add.reduce(x, axis=0)


MOMENT_COLUMNS = 128


def bench_positions(clock_ns: np.ndarray, bench: BenchClock) -> np.ndarray:
    """Position on a mark clock of the latest mark at or before each benchmark close (-1: none)."""
    return np.searchsorted(clock_ns, bench.close_ns, side="right") - 1


@dataclass(frozen=True, kw_only=True, slots=True)
class Returns:
    """Benchmark-clock returns of ``C`` combinations and what else their marks give.

    Attributes
    ----------
    by_time
        ``T x C`` (time-major, C-contiguous) strategy returns.
    exposure
        Share of benchmark sessions with a position.
    curve
        The equity-curve columns of :data:`ROW_METRICS` (final equity, least cash, most
        positions per unit of equity).
    """

    by_time: np.ndarray
    exposure: np.ndarray
    curve: dict[str, np.ndarray]


def from_marks(*, cash: np.ndarray, positions: np.ndarray, at: np.ndarray, initial_cash_base: float,
               equity: np.ndarray | None = None) -> Returns:
    """:class:`Returns` from ``C x K`` cash, net position value and equity at each mark
    (``equity`` None: ``cash + positions``, computed in ``cash``'s place; ``positions`` is
    overwritten too). ``at``: :func:`bench_positions`.

    The equity at each benchmark close is the latest mark at or before it (initial cash before
    the first); the first return is measured from the initial cash
    (``backtests.engine.returns_on_clock``)."""
    c, k = cash.shape
    t = len(at)
    init = float(initial_cash_base)
    known = at >= 0
    safe = np.maximum(at, 0)
    with np.errstate(all="ignore"):
        curve = {"min_cash_base": cash.min(axis=1) if k else np.full(c, init)}
        equity = np.add(cash, positions, out=cash) if equity is None else equity
        if k:
            level = np.ascontiguousarray(equity[:, safe].T)
            level[~known] = init
            exposure = ((positions[:, safe] != 0) & known).mean(axis=1) if t else np.full(c, np.nan)
        else:
            level = np.full((t, c), init)
            exposure = np.zeros(c) if t else np.full(c, np.nan)
        r = np.empty_like(level)
        np.divide(level[1:], level[:-1], out=r[1:])
        np.divide(level[:1], init, out=r[:1])
        r -= 1.0
        curve["final_equity_base"] = equity[:, -1].copy() if k else np.full(c, init)
        ratio = np.divide(np.abs(positions, out=positions), equity, out=positions)
        curve["max_positions_to_equity"] = ratio.max(axis=1) if k else np.zeros(c)
    return Returns(by_time=r, exposure=exposure, curve=curve)


def metrics_matrix(*, clock_ns: np.ndarray, equity: np.ndarray, cash: np.ndarray, positions: np.ndarray,
                   bench: BenchClock, initial_cash_base: float, closed_pnl_base: np.ndarray,
                   costs_base: np.ndarray, open_trades: np.ndarray) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Every :data:`ROW_METRICS` column for ``C`` curves, and the ``C x T`` return matrix.

    Parameters
    ----------
    clock_ns
        ``K`` mark instants (UTC ns, increasing).
    equity, cash, positions
        ``C x K`` base-currency equity, cash and net position value at each mark.
    closed_pnl_base
        ``C x M`` net P&L (base) of closed trades, NaN padding.
    costs_base, open_trades
        Per combination: costs of every fill in base currency; trades open at the end.
    """
    got = from_marks(cash=np.array(cash, dtype=float), positions=np.array(positions, dtype=float),
                     equity=np.asarray(equity, dtype=float), at=bench_positions(clock_ns, bench),
                     initial_cash_base=initial_cash_base)
    by_row = np.ascontiguousarray(got.by_time.T)
    return row_metrics(got, by_row, bench=bench, closed_pnl_base=closed_pnl_base, costs_base=costs_base,
                       open_trades=open_trades), by_row


def row_metrics(got: Returns, by_row: np.ndarray, *, bench: BenchClock, closed_pnl_base: np.ndarray,
                costs_base: np.ndarray, open_trades: np.ndarray) -> dict[str, np.ndarray]:
    """Every :data:`ROW_METRICS` column of ``C`` combinations (``by_row``: ``got.by_time``
    transposed, C-contiguous; ``closed_pnl_base`` etc. as in :func:`metrics_matrix`). Sums run
    in time order, except alpha's mean (numpy's pairwise row mean): the kernel's figures have
    always been summed so. A combination's values depend on its own returns only."""
    c, n = by_row.shape
    ppy = bench.periods_per_year
    out: dict[str, np.ndarray] = {}
    # sessions on which some combination has a return: on the others every return is 0.0 (never
    # -0.0: a ratio minus 1), which adds nothing to a sum in time order and moves no wealth
    live = np.flatnonzero((got.by_time != 0).any(axis=1))
    with np.errstate(all="ignore"):
        mdd, duration, growth = _drawdown(got.by_time, live)
        out["max_drawdown"], out["max_drawdown_duration_sessions"] = mdd, duration
        if n:
            out["total_return"] = _finite(growth - 1.0)
            out["annualised_return"] = _finite(np.where(growth < 0, np.nan, growth ** (ppy / n) - 1.0))
        if n >= 2:
            step = max(2, MOMENT_COLUMNS)  # a few columns at a time: the temporaries stay in cache
            for a in range(0, c, step):
                part = slice(a, min(c, a + step))
                got_part = _moments(np.ascontiguousarray(got.by_time[:, part]), by_row[part], live, bench)
                for key, value in got_part.items():
                    out.setdefault(key, np.full(c, np.nan))[part] = value
        closed = ~np.isnan(closed_pnl_base)
        count = closed.sum(axis=1)
        pnl = np.where(closed, closed_pnl_base, 0.0)
        out["hit_rate"] = np.where(count > 0, (pnl > 0).sum(axis=1) / np.maximum(count, 1), np.nan)
        out["average_trade_pnl_base"] = np.where(count > 0, pnl.sum(axis=1) / np.maximum(count, 1), np.nan)
        out["trade_count"] = count.astype(float)
    out.update(got.curve, exposure=got.exposure, open_trade_count=open_trades, costs_base=costs_base)
    nan = np.full(c, np.nan)
    return {key: np.array(out.get(key, nan), dtype=float).reshape(c) for key in ROW_METRICS}


def _drawdown(r: np.ndarray, live: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Max drawdown, its duration (``backtests.metrics.max_drawdown_spell``) and the growth
    ``prod(1 + r)`` (in session order) of each column of ``r`` (``T x C``).

    Wealth starts at 1 (the first peak). A session is at a peak when its drawdown is ``>= 0``;
    the spell runs from the last such session up to the trough to the first one after it, or
    to the end. (Where the drawdown is a number, wealth back at the peak after the trough is
    exactly a new peak; where it is NaN the row reports none.) Wealth only moves on sessions
    with a return: it is compounded over those (``live``, a superset of them) alone, each run of
    sessions after one repeating its values (a product with 1.0 changes no bit).
    """
    n, c = r.shape
    if n == 0:
        return np.full(c, np.nan), np.full(c, np.nan), np.ones(c)
    live = np.flatnonzero((r != 0).any(axis=1)) if live is None else live
    at = np.append(0, live + 1)  # wealth position (0: the start) where each compact column begins
    width = len(at)
    wealth = np.empty((c, width))
    wealth[:, 0] = 1.0
    np.add(r[live].T, 1.0, out=wealth[:, 1:])
    np.multiply.accumulate(wealth, axis=1, out=wealth)
    growth = wealth[:, -1].copy()
    peaks = np.maximum.accumulate(wealth, axis=1)
    dd = np.subtract(wealth, peaks, out=wealth)
    dd /= peaks
    trough = np.argmin(dd, axis=1)
    cols = np.arange(c)
    mdd = dd[cols, trough]
    hits = np.flatnonzero(dd >= 0)  # every column is at its peak at position 0
    start = cols * width
    after = np.searchsorted(hits, start + trough, side="right")
    peak = hits[after - 1] - start  # the last at-peak run before the trough ends where the next one starts
    nxt = hits[np.minimum(after, len(hits) - 1)] - start
    back = (after < len(hits)) & (nxt < width)
    end = np.where(back, at[np.minimum(nxt, width - 1)], n)  # never back at the peak: to the end
    deep = mdd < 0
    spell = end - (at[np.minimum(peak + 1, width - 1)] - 1)
    return np.where(deep, mdd, 0.0), np.where(deep, spell, 0).astype(float), growth


def _moments(r: np.ndarray, by_row: np.ndarray, live: np.ndarray, bench: BenchClock) -> dict[str, np.ndarray]:
    """The mean/dispersion columns of ``n >= 2`` sessions of returns ``r`` (``T x C``; ``by_row``
    its transpose): the numpy formulas of ``backtests.metrics`` (``mean``, ``std(ddof=1)``).
    What the zero returns off the ``live`` sessions add nothing to is taken over those alone."""
    n, c = r.shape
    ppy = bench.periods_per_year
    root = math.sqrt(ppy)
    out: dict[str, np.ndarray] = {}
    seen = r[live]
    idle = np.setdiff1d(np.arange(n), live)
    mean = in_order_sum(seen) / n
    constant = _spread(seen, np.zeros(len(idle)))
    dev = np.subtract(r, mean)
    work = np.empty_like(r)
    bench_r = bench.returns[:, None]
    b_dev = bench_r - bench.returns.mean()
    variance = float(np.mean(b_dev ** 2))
    beta = np.full(c, np.nan)
    if bench.returns.max() != bench.returns.min() and variance >= 1e-30:
        beta = _finite(in_order_sum(np.multiply(dev, b_dev, out=work)) / n / variance)
    std = np.sqrt(in_order_sum(np.square(dev, out=dev)) / (n - 1))
    out["volatility_annual"] = np.where(constant, 0.0, _finite(std * root))
    out["sharpe"] = np.where(constant, np.nan, _finite(np.where(std > 0, mean / std * root, np.nan)))
    shortfall = np.minimum(seen, 0.0)
    downside = np.sqrt(in_order_sum(np.square(shortfall, out=shortfall)) / n) * root
    out["sortino"] = _finite(np.where(downside > 0, mean * ppy / downside, np.nan))
    out["beta"] = beta
    if not np.isnan(beta).all():
        a = (by_row - beta[:, None] * bench.returns[None, :]).sum(axis=1) / n
        out["alpha_annual"] = _finite(np.where(np.isnan(beta) | (1.0 + a <= 0), np.nan, (1.0 + a) ** ppy - 1.0))
    active = np.subtract(r, bench_r, out=work)
    a_constant = _spread(active[live], -bench.returns[idle])
    a_mean = in_order_sum(active) / n
    a_std = np.sqrt(in_order_sum(np.square(np.subtract(active, a_mean, out=active), out=active)) / (n - 1))
    out["tracking_error_annual"] = np.where(a_constant, 0.0, _finite(a_std * root))
    out["information_ratio"] = np.where(a_constant, np.nan, _finite(np.where(a_std > 0, a_mean / a_std * root, np.nan)))
    return out


def _spread(seen: np.ndarray, rest: np.ndarray) -> np.ndarray:
    """Per column: is it constant over the rows ``seen`` and the values ``rest`` (the same in
    every column)? (``max == min`` over both, NaN included.)"""
    hi = np.full(seen.shape[1], rest.max() if len(rest) else -np.inf)
    lo = np.full(seen.shape[1], rest.min() if len(rest) else np.inf)
    if len(seen):
        hi = np.maximum(hi, seen.max(axis=0))
        lo = np.minimum(lo, seen.min(axis=0))
    return hi == lo
