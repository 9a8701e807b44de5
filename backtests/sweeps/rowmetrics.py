"""Per-combination metrics, vectorised over many equity curves at once.

Both sweep engines end here: the kernel passes a matrix of curves (one row per
combination), the backtrader fallback a single row built from a
:class:`~backtests.results.BacktestResult`. Definitions follow ``backtests.metrics`` (the
engine's ``summary["metrics"]``) exactly, on the same series:

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


def _row_std(x: np.ndarray) -> np.ndarray:
    return np.std(x, axis=1, ddof=1) if x.shape[1] >= 2 else np.full(x.shape[0], np.nan)


def _finite(x: np.ndarray) -> np.ndarray:
    return np.where(np.isfinite(x), x, np.nan)


def returns_matrix(*, clock_ns: np.ndarray, equity: np.ndarray, positions: np.ndarray, bench: BenchClock,
                   initial_cash_base: float) -> tuple[np.ndarray, np.ndarray]:
    """(returns, held) on the benchmark clock: ``C x T`` strategy returns and position values."""
    at = np.searchsorted(clock_ns, bench.close_ns, side="right") - 1
    known = at >= 0
    safe = np.where(known, at, 0)
    level = np.where(known[None, :], equity[:, safe], float(initial_cash_base)) if equity.shape[1] else \
        np.full((equity.shape[0], len(at)), float(initial_cash_base))
    held = np.where(known[None, :], positions[:, safe], 0.0) if positions.shape[1] else \
        np.zeros((positions.shape[0], len(at)))
    prev = np.empty_like(level)
    if level.shape[1]:
        prev[:, 0] = float(initial_cash_base)
        prev[:, 1:] = level[:, :-1]
    return level / prev - 1.0, held


def _drawdown(r: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Max drawdown and its duration per row (``backtests.metrics.max_drawdown_spell``)."""
    c, n = r.shape
    if n == 0:
        return np.full(c, np.nan), np.full(c, np.nan)
    wealth = np.concatenate([np.ones((c, 1)), np.cumprod(1.0 + r, axis=1)], axis=1)
    peaks = np.maximum.accumulate(wealth, axis=1)
    dd = (wealth - peaks) / peaks
    trough = np.argmin(dd, axis=1)
    rows = np.arange(c)
    mdd = dd[rows, trough]
    pos = np.arange(n + 1)[None, :]
    at_peak = (dd >= 0) & (pos <= trough[:, None])
    peak = np.where(at_peak, pos, -1).max(axis=1)
    back = (pos > trough[:, None]) & (wealth >= wealth[rows, np.maximum(peak, 0)][:, None])
    first_back = np.where(back, pos, n + 1).min(axis=1)
    end = np.where(first_back <= n, first_back, n)  # never recovered: to the end
    duration = np.where(mdd < 0, end - peak, 0).astype(float)
    return np.where(mdd < 0, mdd, 0.0), duration


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
    ppy = bench.periods_per_year
    r, held = returns_matrix(clock_ns=clock_ns, equity=equity, positions=positions, bench=bench,
                             initial_cash_base=initial_cash_base)
    c, n = r.shape
    b = np.broadcast_to(bench.returns, r.shape)
    out: dict[str, np.ndarray] = {}
    with np.errstate(all="ignore"):
        growth = np.prod(1.0 + r, axis=1)
        out["total_return"] = _finite(growth - 1.0) if n else np.full(c, np.nan)
        ann = np.where(growth < 0, np.nan, growth ** (ppy / n) - 1.0) if n else np.full(c, np.nan)
        out["annualised_return"] = _finite(ann)
        constant = (r.max(axis=1) == r.min(axis=1)) if n else np.ones(c, bool)
        std = _row_std(r)
        mean = r.mean(axis=1) if n else np.full(c, np.nan)
        few = n < 2
        out["volatility_annual"] = np.nan if few else np.where(constant, 0.0, _finite(std * math.sqrt(ppy)))
        sharpe = np.where(std > 0, mean / std * math.sqrt(ppy), np.nan)
        out["sharpe"] = np.full(c, np.nan) if few else np.where(constant, np.nan, _finite(sharpe))
        shortfall = np.minimum(r, 0.0)
        downside = np.sqrt(np.mean(shortfall ** 2, axis=1)) * math.sqrt(ppy) if n else np.full(c, np.nan)
        sortino = np.where(downside > 0, mean * ppy / downside, np.nan)
        out["sortino"] = np.full(c, np.nan) if few else _finite(sortino)
        mdd, duration = _drawdown(r)
        out["max_drawdown"] = mdd
        out["max_drawdown_duration_sessions"] = duration
        bench_r = bench.returns
        b_constant = n < 2 or bench_r.max() == bench_r.min()
        b_dev = bench_r - bench_r.mean() if n else bench_r
        variance = float(np.mean(b_dev ** 2)) if n else float("nan")
        if b_constant or not variance >= 1e-30:
            beta = np.full(c, np.nan)
        else:
            beta = _finite(np.mean(b_dev[None, :] * (r - mean[:, None]), axis=1) / variance)
        out["beta"] = beta
        a = np.mean(r - beta[:, None] * b, axis=1) if n else np.full(c, np.nan)
        alpha = np.where(np.isnan(beta) | (1.0 + a <= 0), np.nan, (1.0 + a) ** ppy - 1.0)
        out["alpha_annual"] = _finite(alpha)
        active = r - b
        a_std = _row_std(active)
        a_constant = (active.max(axis=1) == active.min(axis=1)) if n else np.ones(c, bool)
        out["tracking_error_annual"] = np.full(c, np.nan) if few else np.where(
            a_constant, 0.0, _finite(a_std * math.sqrt(ppy)))
        ir = np.where(a_std > 0, active.mean(axis=1) / a_std * math.sqrt(ppy), np.nan) if n else np.full(c, np.nan)
        out["information_ratio"] = np.full(c, np.nan) if few else np.where(a_constant, np.nan, _finite(ir))
        closed = ~np.isnan(closed_pnl_base)
        count = closed.sum(axis=1)
        hits = (np.where(closed, closed_pnl_base, 0.0) > 0).sum(axis=1)
        out["hit_rate"] = np.where(count > 0, hits / np.maximum(count, 1), np.nan)
        total = np.where(closed, closed_pnl_base, 0.0).sum(axis=1)
        out["average_trade_pnl_base"] = np.where(count > 0, total / np.maximum(count, 1), np.nan)
        out["trade_count"] = count.astype(float)
        out["exposure"] = (held != 0).mean(axis=1) if n else np.full(c, np.nan)
        k = equity.shape[1]
        out["final_equity_base"] = equity[:, -1] if k else np.full(c, float(initial_cash_base))
        out["open_trade_count"] = np.asarray(open_trades, dtype=float)
        out["costs_base"] = np.asarray(costs_base, dtype=float)
        out["min_cash_base"] = cash.min(axis=1) if k else np.full(c, float(initial_cash_base))
        out["max_positions_to_equity"] = (np.abs(positions) / equity).max(axis=1) if k else np.zeros(c)
    return {key: np.asarray(out[key], dtype=float).reshape(c) for key in ROW_METRICS}, r
