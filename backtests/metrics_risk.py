"""The quantstats-level risk set: tails, drawdown periods, time under water, rolling ratios.

Pure functions of a return series, with the conventions of :mod:`backtests.metrics` (simple
per-session returns on the benchmark's session clock; ``periods_per_year`` from the
exchange calendar, required, never 252; NaN when a figure is undefined; ``ValueError`` for
NaN/infinite input). Kept apart from :mod:`backtests.metrics` (the headline figures written to
``summary.json``) so that module stays small; the tearsheet computes these from ``returns.csv``.

Definitions (checked against empyrical-reloaded and quantstats in tests/test_metrics_risk.py):

* ``calmar_ratio`` -- annualised (geometric) return / |max drawdown| (empyrical ``calmar_ratio``).
* ``skew``, ``kurtosis`` -- sample skewness and *excess* kurtosis, bias-corrected (pandas,
  as quantstats).
* ``var_95``, ``cvar_95`` -- historical one-session value at risk: the 5th percentile of the
  session returns (linear interpolation), and the mean of the returns at or below it
  (empyrical ``value_at_risk`` / ``conditional_value_at_risk``); no normality assumed.
* ``best_session_return``, ``worst_session_return`` -- largest and smallest session return.
* ``profit_factor`` -- sum of positive session returns / |sum of negative ones| (quantstats,
  session-based); ``profit_factor_trades`` -- the same over trades' net P&L.
* Drawdown periods start at a peak of compounded wealth (the starting wealth 1 counts as the
  first peak, as in :func:`backtests.metrics.max_drawdown_spell`) and end at the first session
  back at or above it. ``underwater_sessions`` counts the sessions that closed below the peak.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backtests.metrics import NAN, _check_ppy, _float, _values, annualised_return, max_drawdown

RISK_METRIC_KEYS: tuple[str, ...] = (
    "calmar_ratio", "longest_underwater_sessions", "skew", "kurtosis", "var_95", "cvar_95",
    "best_session_return", "worst_session_return", "positive_sessions_rate", "profit_factor",
    "profit_factor_trades",
)
"""Keys of :func:`risk_metrics`, in display order."""


@dataclass(frozen=True, kw_only=True, slots=True)
class DrawdownPeriod:
    """One spell below a previous peak of compounded wealth.

    Positions count the start (wealth 1, before the first return) as 0 and return ``i``
    (0-based) as ``i + 1``; :func:`label_of` turns them into session labels.

    Attributes
    ----------
    depth
        Deepest fall below the peak in the spell, a fraction < 0.
    peak_position, trough_position
        Last position at the peak; position of the lowest wealth (first one on ties).
    end_position
        First position back at or above the peak, or the last position when not recovered.
    recovered
        Whether wealth got back to the peak.
    underwater_sessions
        Sessions that closed below the peak (``end - peak - 1`` when recovered, else
        ``end - peak``: a lower bound when the spell is still open).
    """

    depth: float
    peak_position: int
    trough_position: int
    end_position: int
    recovered: bool
    underwater_sessions: int


def drawdown_periods(returns: pd.Series | Sequence[float]) -> list[DrawdownPeriod]:
    """Every drawdown spell of compounded wealth ``1, (1+r0), (1+r0)(1+r1), ...``, in time order."""
    r = _values(returns, "returns")
    wealth = np.concatenate([[1.0], np.cumprod(1.0 + r)])
    peaks = np.maximum.accumulate(wealth)
    below = wealth < peaks
    out: list[DrawdownPeriod] = []
    i, n = 1, len(wealth)
    while i < n:
        if not below[i]:
            i += 1
            continue
        start = i
        while i < n and below[i]:
            i += 1
        recovered = i < n
        end = i if recovered else n - 1
        spell = wealth[start: (i if recovered else n)] / peaks[start - 1] - 1.0
        trough = start + int(np.argmin(spell))
        out.append(DrawdownPeriod(depth=float(spell.min()), peak_position=start - 1, trough_position=trough,
                                  end_position=end, recovered=recovered,
                                  underwater_sessions=(i - start)))
    return out


def worst_drawdowns(returns: pd.Series | Sequence[float], n: int = 10) -> list[DrawdownPeriod]:
    """The ``n`` deepest drawdown spells, deepest first (ties: the earlier first)."""
    if n < 1:
        raise ValueError(f"n must be a whole number >= 1, got {n!r}")
    periods = drawdown_periods(returns)
    return sorted(periods, key=lambda p: (p.depth, p.peak_position))[:n]


def longest_underwater(returns: pd.Series | Sequence[float]) -> float:
    """Most sessions in one spell below a previous peak (0.0 without drawdown; NaN when empty)."""
    r = _values(returns, "returns")
    if len(r) == 0:
        return NAN
    return float(max((p.underwater_sessions for p in drawdown_periods(r)), default=0))


def label_of(index: pd.Index, position: int) -> object:
    """The session label of a drawdown position (``"start"`` for position 0, before the first session)."""
    return "start" if position == 0 else index[position - 1]


def calmar_ratio(returns: pd.Series | Sequence[float], *, periods_per_year: float) -> float:
    """Annualised geometric return over |max drawdown|; NaN with no drawdown or no sessions."""
    mdd = max_drawdown(returns)
    if not (mdd < 0):
        return NAN
    return _float(annualised_return(returns, periods_per_year=periods_per_year) / abs(mdd))


def value_at_risk(returns: pd.Series | Sequence[float], *, cutoff: float = 0.05) -> float:
    """Historical one-session VaR: the ``cutoff`` quantile of the returns (a return, usually < 0)."""
    if not 0.0 < cutoff < 1.0:
        raise ValueError(f"cutoff must be a probability between 0 and 1 (e.g. 0.05), got {cutoff!r}")
    r = _values(returns, "returns")
    return NAN if len(r) == 0 else float(np.percentile(r, 100.0 * cutoff))


def conditional_value_at_risk(returns: pd.Series | Sequence[float], *, cutoff: float = 0.05) -> float:
    """Historical CVaR (expected shortfall): the mean of the returns at or below :func:`value_at_risk`."""
    r = _values(returns, "returns")
    if len(r) == 0:
        return NAN
    var = value_at_risk(r, cutoff=cutoff)
    return float(np.mean(r[r <= var]))


def _moment(r: np.ndarray, kind: str) -> float:
    if len(r) < (3 if kind == "skew" else 4) or np.max(r) == np.min(r):
        return NAN
    s = pd.Series(r)
    return _float(s.skew() if kind == "skew" else s.kurt())


def profit_factor(values: pd.Series | Sequence[float]) -> float:
    """``sum(v > 0) / |sum(v < 0)|``; NaN without any loss (or without values)."""
    v = _values(list(values) if not isinstance(values, pd.Series) else values, "values")
    losses = float(-v[v < 0].sum())
    return NAN if not losses > 0 else _float(float(v[v > 0].sum()) / losses)


def risk_metrics(returns: pd.Series | Sequence[float], *, periods_per_year: float,
                 trade_pnl_base: Sequence[float] | None = None) -> dict[str, float]:
    """The risk set keyed by :data:`RISK_METRIC_KEYS` (plain floats; NaN where undefined).

    Parameters
    ----------
    returns
        Simple per-session returns (no NaN) on the benchmark's session clock.
    periods_per_year
        Sessions per year of the benchmark's exchange (calendar). Required.
    trade_pnl_base
        Net P&L per closed trade (base currency) for ``profit_factor_trades``; ``None`` -> NaN.
    """
    _check_ppy(periods_per_year)
    r = _values(returns, "returns")
    empty = len(r) == 0
    pnl = None if trade_pnl_base is None else list(trade_pnl_base)
    out = {
        "calmar_ratio": calmar_ratio(r, periods_per_year=periods_per_year),
        "longest_underwater_sessions": longest_underwater(r),
        "skew": _moment(r, "skew"),
        "kurtosis": _moment(r, "kurt"),
        "var_95": value_at_risk(r),
        "cvar_95": conditional_value_at_risk(r),
        "best_session_return": NAN if empty else float(r.max()),
        "worst_session_return": NAN if empty else float(r.min()),
        "positive_sessions_rate": NAN if empty else float(np.mean(r > 0)),
        "profit_factor": profit_factor(r),
        "profit_factor_trades": NAN if pnl is None else profit_factor(pnl),
    }
    return {k: float(out[k]) for k in RISK_METRIC_KEYS}


def rolling_sharpe(returns: pd.Series, *, window_sessions: int, periods_per_year: float) -> pd.Series:
    """Trailing-window Sharpe ratio (rf = 0): ``mean / std(ddof=1) * sqrt(ppy)``; NaN before a full
    window and where the window's returns are all equal."""
    ppy = _check_ppy(periods_per_year)
    _values(returns, "returns")
    roll = returns.rolling(window_sessions, min_periods=window_sessions)
    std = roll.std()
    return (roll.mean() / std.where(std > 1e-15)) * math.sqrt(ppy)


def rolling_volatility(returns: pd.Series, *, window_sessions: int, periods_per_year: float) -> pd.Series:
    """Trailing-window annualised volatility ``std(ddof=1) * sqrt(ppy)``; NaN before a full window."""
    ppy = _check_ppy(periods_per_year)
    _values(returns, "returns")
    return returns.rolling(window_sessions, min_periods=window_sessions).std() * math.sqrt(ppy)
