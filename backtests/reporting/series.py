"""Curves derived for the tearsheet: equity vs benchmark, underwater, monthly table, rolling beta/alpha.

Pure functions of the loaded frames (fractions, not percent; money in base currency).
The strategy and the benchmark are compared on the benchmark's session clock
(``returns.csv``); without that file only the strategy's own curve (``equity.csv``, marked
at every listing close) is available and the benchmark-relative panels are left out.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from backtests.reporting.load import ResultsFolder
from data_loaders.calendars import sessions_per_year
from data_loaders.errors import UserError
from data_loaders.markets import get_listing

ROLLING_WINDOW_SESSIONS = 63
"""Window of the rolling beta and alpha (about a quarter of Hong Kong sessions)."""


@dataclass(frozen=True, kw_only=True)
class Curves:
    """Strategy (and benchmark) value in base currency on one clock.

    Attributes
    ----------
    strategy_equity_base
        Equity, indexed by naive timestamps (session dates, or UTC instants without tz).
    benchmark_equity_base
        The benchmark rebased to the strategy's starting capital (``None`` without returns.csv).
    strategy_return, benchmark_return
        Per-period simple returns on the same index (``None`` without returns.csv).
    start_value_base
        The capital both curves start from.
    clock
        Human description of the index ("HSTECH sessions" ...).
    """

    strategy_equity_base: pd.Series
    benchmark_equity_base: pd.Series | None
    strategy_return: pd.Series | None
    benchmark_return: pd.Series | None
    start_value_base: float
    clock: str


def curves_from_returns(returns: pd.DataFrame, *, initial_cash_base: float | None, benchmark: str) -> Curves:
    """Curves from ``returns.csv`` (strategy and benchmark on the benchmark's sessions).

    The benchmark is rebased so that it starts from the same capital as the strategy:
    ``start * cumprod(1 + benchmark_return)`` (a missing first return counts as 0).
    """
    frame = returns.dropna(subset=["session"]).sort_values("session")
    index = pd.DatetimeIndex(frame["session"]).tz_localize(None) if getattr(
        frame["session"].dt, "tz", None) is not None else pd.DatetimeIndex(frame["session"])
    equity = pd.Series(frame["equity_base"].to_numpy(dtype=float), index=index, name="strategy")
    rs = pd.Series(frame["strategy_return"].to_numpy(dtype=float), index=index, name="strategy")
    rb = pd.Series(frame["benchmark_return"].to_numpy(dtype=float), index=index, name="benchmark")
    if initial_cash_base is not None and initial_cash_base > 0:
        start = float(initial_cash_base)
    elif len(equity):
        first_r = rs.iloc[0] if np.isfinite(rs.iloc[0]) else 0.0
        start = float(equity.iloc[0]) / (1.0 + first_r)
    else:
        start = 1.0
    bench = start * (1.0 + rb.fillna(0.0)).cumprod()
    return Curves(strategy_equity_base=equity, benchmark_equity_base=bench.rename("benchmark"),
                  strategy_return=rs, benchmark_return=rb, start_value_base=start,
                  clock=f"{benchmark} sessions" if benchmark else "benchmark sessions")


def curves_from_equity(equity: pd.DataFrame, *, initial_cash_base: float | None) -> Curves:
    """Strategy-only curve from ``equity.csv`` (marked at every traded listing's close)."""
    frame = equity.dropna(subset=["instant_utc"]).sort_values("instant_utc", kind="stable")
    index = pd.DatetimeIndex(frame["instant_utc"]).tz_convert("UTC").tz_localize(None)
    curve = pd.Series(frame["equity_base"].to_numpy(dtype=float), index=index, name="strategy")
    start = float(initial_cash_base) if initial_cash_base else (float(curve.iloc[0]) if len(curve) else 1.0)
    return Curves(strategy_equity_base=curve, benchmark_equity_base=None, strategy_return=None,
                  benchmark_return=None, start_value_base=start, clock="every listing close (UTC)")


def underwater(equity: pd.Series, start_value: float | None = None) -> pd.Series:
    """Drawdown from the running peak, a fraction <= 0 (``start_value`` counts as the first peak)."""
    values = equity.to_numpy(dtype=float)
    peaks = np.maximum.accumulate(values) if len(values) else values
    if start_value is not None and len(values):
        peaks = np.maximum(peaks, float(start_value))
    with np.errstate(divide="ignore", invalid="ignore"):
        dd = values / peaks - 1.0
    return pd.Series(dd, index=equity.index, name="drawdown")


def monthly_returns(curves: Curves) -> pd.DataFrame:
    """Year x month table of compounded strategy returns (fractions; NaN = no data).

    Columns ``1..12`` and ``"year"`` (the compounded year, over the months present).
    With per-period returns these are ``prod(1 + r) - 1`` per month; from an equity curve
    alone, month-end to month-end (the first month from the starting capital).
    """
    if curves.strategy_return is not None:
        r = curves.strategy_return.fillna(0.0)
        monthly = (1.0 + r).groupby([r.index.year, r.index.month]).prod() - 1.0
    else:
        eq = curves.strategy_equity_base
        ends = eq.groupby([eq.index.year, eq.index.month]).last()
        prev = ends.shift(1)
        prev.iloc[0] = curves.start_value_base
        monthly = ends / prev - 1.0
    monthly.index.names = ["year", "month"]
    table = monthly.unstack("month").reindex(columns=range(1, 13))
    year = (1.0 + table.fillna(0.0)).prod(axis=1) - 1.0
    table["year"] = year.where(table.notna().any(axis=1))
    return table


def rolling_beta_alpha(strategy_return: pd.Series, benchmark_return: pd.Series, *,
                       window_sessions: int = ROLLING_WINDOW_SESSIONS,
                       periods_per_year: float | None = None) -> pd.DataFrame:
    """OLS beta and alpha of strategy on benchmark returns over a trailing window.

    ``alpha`` is the per-session intercept times ``periods_per_year`` (simple annualisation,
    a fraction per year) when given, else per session. Windows with fewer than
    ``window_sessions`` complete pairs or a flat benchmark are NaN. Each value uses only
    the window ending at its own session.
    """
    pair = pd.concat([strategy_return.rename("s"), benchmark_return.rename("b")], axis=1)
    ok = pair.notna().all(axis=1)
    pair = pair.where(ok)
    roll = pair.rolling(window_sessions, min_periods=window_sessions)
    mean_s, mean_b = roll["s"].mean(), roll["b"].mean()
    cov = roll["s"].cov(pair["b"])
    var = roll["b"].var()
    beta = cov / var.where(var > 0)
    alpha = mean_s - beta * mean_b
    if periods_per_year:
        alpha = alpha * periods_per_year
    return pd.DataFrame({"beta": beta, "alpha": alpha})


def annualisation(summary: dict | None, benchmark: str, index: pd.DatetimeIndex) -> tuple[float | None, str]:
    """Periods per year for annualising, and where it came from.

    ``summary["metrics"]["periods_per_year"]`` when the run wrote it, else the average
    number of sessions per calendar year of the benchmark's exchange calendar over the
    span (never a fixed 252); ``(None, reason)`` when neither is known.
    """
    metrics = (summary or {}).get("metrics") or {}
    ppy = metrics.get("periods_per_year")
    if isinstance(ppy, (int, float)) and not isinstance(ppy, bool) and ppy > 0:
        return float(ppy), "summary.json metrics.periods_per_year"
    if not benchmark or not len(index):
        return None, "no benchmark calendar known"
    try:
        code = get_listing(benchmark).market.calendar_code
    except UserError:
        return None, f"benchmark {benchmark!r} is not a known listing"
    if code is None:
        return None, f"benchmark {benchmark!r} has no exchange calendar"
    return sessions_per_year(code, index.min(), index.max()), f"{code} sessions per calendar year"


def benchmark_name(folder: ResultsFolder) -> str:
    """The run's benchmark symbol from ``summary.json`` (``""`` when unknown)."""
    return str((folder.summary or {}).get("benchmark", "") or "")


def curves_for(folder: ResultsFolder) -> Curves | None:
    """The folder's curves: from ``returns.csv`` (with the benchmark), else ``equity.csv``, else ``None``."""
    summary = folder.summary or {}
    initial = summary.get("initial_cash_base")
    initial = float(initial) if isinstance(initial, (int, float)) and not isinstance(initial, bool) else None
    if folder.returns is not None and len(folder.returns.dropna(subset=["session"])):
        return curves_from_returns(folder.returns, initial_cash_base=initial, benchmark=benchmark_name(folder))
    if folder.equity is not None and len(folder.equity.dropna(subset=["instant_utc"])):
        return curves_from_equity(folder.equity, initial_cash_base=initial)
    return None


def complete_returns(curves: Curves) -> tuple[pd.Series, pd.Series] | None:
    """Strategy and benchmark session returns where both are known (``None`` without returns.csv)."""
    if curves.strategy_return is None or curves.benchmark_return is None:
        return None
    both = pd.concat([curves.strategy_return, curves.benchmark_return], axis=1).dropna()
    return both.iloc[:, 0], both.iloc[:, 1]


def paired_returns(folder: ResultsFolder) -> tuple[Curves, pd.Series, pd.Series] | None:
    """The folder's curves with the strategy and benchmark returns where both are known."""
    curves = curves_for(folder)
    pair = complete_returns(curves) if curves is not None else None
    return None if pair is None else (curves, *pair)
