"""Performance metrics as pure functions of return, equity, trade and exposure series.

Conventions shared by every function here:

* Returns are *simple* per-period returns (fractions: 0.01 = +1 %), one per session of the
  benchmark's exchange calendar, in time order.
* Annualisation always uses the caller's ``periods_per_year``, which comes from the exchange
  calendar (``data_loaders.calendars.sessions_per_year``: about 246 for XHKG, about 251 for
  XNYS). It is a required argument everywhere; there is no 252 default.
* A metric that is undefined for the data given (too few periods, zero dispersion, no trades)
  is ``float("nan")``; no metric raises for such data and none returns an infinity. Malformed
  inputs (NaN or infinite returns, mismatched indexes, ``periods_per_year <= 0``) raise
  ``ValueError`` saying what is wrong.
* The definitions follow empyrical (empyrical-reloaded) so the figures can be checked against
  it; the only deliberate differences are (a) NaN where empyrical returns ``inf`` (Sharpe and
  information ratio with zero dispersion, Sortino with no period below the threshold) and
  (b) the information ratio is annualised (empyrical's ``excess_sharpe`` is not). Both are
  pinned by tests/test_metrics.py.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

METRIC_KEYS: tuple[str, ...] = (
    "total_return", "annualised_return", "volatility_annual", "sharpe", "sortino",
    "max_drawdown", "max_drawdown_duration_sessions", "alpha_annual", "beta", "information_ratio",
    "tracking_error_annual", "hit_rate", "average_trade_pnl_base", "trade_count", "exposure",
    "periods_per_year", "sessions",
)
"""Keys of :func:`performance_metrics`, in output order."""

BENCHMARK_METRIC_KEYS: tuple[str, ...] = (
    "total_return", "annualised_return", "volatility_annual", "sharpe", "sortino",
    "max_drawdown", "max_drawdown_duration_sessions", "periods_per_year", "sessions",
)
"""Keys of :func:`benchmark_metrics`: the subset of :data:`METRIC_KEYS` meaningful for one series."""

NAN = float("nan")


# ---------------------------------------------------------------------------------------------
# Equity-curve helpers used by the engine's summary (kept as they were).


def total_return(equity: pd.Series, initial: float | None = None) -> float:
    """``last / first - 1`` of an equity curve (``first`` = ``initial`` when given).

    Returns 0.0 for an empty curve (nothing happened). Used by the engine's summary; for a
    return series use :func:`cumulative_return`.
    """
    if len(equity) == 0:
        return 0.0
    start = float(initial) if initial is not None else float(equity.iloc[0])
    return float(equity.iloc[-1]) / start - 1.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Drawdown:
    """Deepest peak-to-trough fall (a negative fraction) and where it was."""

    max_drawdown: float
    peak_at: object
    trough_at: object
    longest_underwater_periods: int


def drawdown(equity: pd.Series, initial: float | None = None) -> Drawdown:
    """Maximum drawdown of an equity curve and the longest spell below a previous peak.

    ``initial`` (starting capital) counts as the first peak when given.
    """
    values = equity.to_numpy(dtype=float)
    if initial is not None:
        values = np.concatenate([[float(initial)], values])
    if len(values) == 0:
        return Drawdown(max_drawdown=0.0, peak_at=None, trough_at=None, longest_underwater_periods=0)
    peaks = np.maximum.accumulate(values)
    dd = values / peaks - 1.0
    trough = int(np.argmin(dd))
    peak = int(np.argmax(values[: trough + 1]))
    underwater = dd < 0
    longest = run = 0
    for flag in underwater:
        run = run + 1 if flag else 0
        longest = max(longest, run)
    offset = 1 if initial is not None else 0
    labels = list(equity.index)

    def label(i: int) -> object:
        return labels[i - offset] if i - offset >= 0 else "start"

    return Drawdown(max_drawdown=float(dd[trough]), peak_at=label(peak), trough_at=label(trough),
                    longest_underwater_periods=longest)


# ---------------------------------------------------------------------------------------------
# Input checks and small helpers.


def _values(series: Any, name: str) -> np.ndarray:
    """``series`` as a 1-D float array; ``ValueError`` naming the first NaN/inf entry."""
    try:
        arr = np.asarray(series, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numeric; could not convert it to floats ({exc})") from exc
    if arr.ndim != 1:
        raise ValueError(f"{name} must be one-dimensional, got shape {arr.shape}")
    bad = ~np.isfinite(arr)
    if bad.any():
        i = int(np.argmax(bad))
        where = series.index[i] if isinstance(series, pd.Series) else i
        raise ValueError(
            f"{name} has {int(bad.sum())} NaN/infinite value(s), first at {where!r} ({arr[i]}); "
            "metrics need a complete series — drop sessions without a return (e.g. the first "
            "session, which has no previous close) before calling")
    return arr


def _check_ppy(periods_per_year: float) -> float:
    ppy = float(periods_per_year)
    if not math.isfinite(ppy) or ppy <= 0:
        raise ValueError(
            f"periods_per_year must be a positive number of sessions per year, got {periods_per_year!r}; "
            "take it from data_loaders.calendars.sessions_per_year for the benchmark's exchange")
    return ppy


def _pair(strategy: Any, benchmark: Any) -> tuple[np.ndarray, np.ndarray]:
    """Two equally long return arrays; when both are Series their indexes must be equal."""
    if isinstance(strategy, pd.Series) and isinstance(benchmark, pd.Series):
        _check_same_index(strategy, benchmark)
    s = _values(strategy, "strategy_returns")
    b = _values(benchmark, "benchmark_returns")
    if len(s) != len(b):
        raise ValueError(f"strategy_returns has {len(s)} values but benchmark_returns has {len(b)}; "
                         "put both on the benchmark's session clock")
    return s, b


def _check_same_index(strategy: pd.Series, benchmark: pd.Series) -> None:
    if strategy.index.equals(benchmark.index):
        return
    missing = benchmark.index.difference(strategy.index)
    extra = strategy.index.difference(benchmark.index)
    detail = []
    if len(missing):
        detail.append(f"{len(missing)} benchmark session(s) missing from the strategy, first {missing[0]!r}")
    if len(extra):
        detail.append(f"{len(extra)} strategy label(s) not in the benchmark, first {extra[0]!r}")
    if not detail:
        detail.append("same labels in a different order")
    raise ValueError(
        "strategy_returns and benchmark_returns must share one index (the benchmark's session "
        f"clock): {'; '.join(detail)} (lengths {len(strategy)} vs {len(benchmark)}); "
        "reindex the strategy onto the benchmark sessions")


def _constant(x: np.ndarray) -> bool:
    """All values equal — dispersion is exactly zero even if a float std would leave ~1e-18."""
    return bool(np.max(x) == np.min(x))


def _float(x: float) -> float:
    """A plain Python float; +-inf (overflow) becomes NaN so no metric is ever infinite."""
    x = float(x)
    return x if math.isfinite(x) else NAN


def _ratio(numerator: float, denominator: float, scale: float) -> float:
    """``numerator / denominator * scale``; NaN when the denominator is 0 (e.g. a standard
    deviation that underflows for subnormal inputs) or the result is not finite."""
    if not denominator > 0:
        return NAN
    return _float(numerator / denominator * scale)


def risk_free_per_period(risk_free_annual: float, *, periods_per_year: float) -> float:
    """De-annualise a risk-free rate geometrically: ``(1 + rf_annual) ** (1 / ppy) - 1``.

    Parameters
    ----------
    risk_free_annual
        Annual risk-free rate as a fraction (0.03 = 3 % a year); must be > -1.
    periods_per_year
        Sessions per year of the benchmark's exchange (> 0).

    Returns
    -------
    float
        The constant per-session rate; exactly 0.0 for a zero annual rate.

    Raises
    ------
    ValueError
        If ``risk_free_annual`` is not finite or is <= -1, or ``periods_per_year`` <= 0.
    """
    ppy = _check_ppy(periods_per_year)
    rf = float(risk_free_annual)
    if not math.isfinite(rf) or rf <= -1.0:
        raise ValueError("risk_free_annual must be a finite annual rate above -1 (e.g. 0.03), "
                         f"got {risk_free_annual!r}")
    return 0.0 if rf == 0.0 else (1.0 + rf) ** (1.0 / ppy) - 1.0


# ---------------------------------------------------------------------------------------------
# Returns.


def simple_returns(equity: pd.Series, *, initial_base: float | None = None) -> pd.Series:
    """Simple per-period returns ``equity[t] / equity[t-1] - 1`` of an equity curve.

    Parameters
    ----------
    equity
        Equity in base currency, one value per period, in time order.
    initial_base
        Starting capital before the first row. When given, the first return is
        ``equity[0] / initial_base - 1`` and the result has one return per row of ``equity``.
        When ``None`` the first row *is* the starting capital and the result has
        ``len(equity) - 1`` returns (labelled by ``equity.index[1:]``).

    Returns
    -------
    pandas.Series
        Float returns labelled by the period that ends each return; empty if there are
        fewer than two values (counting ``initial_base``).

    Raises
    ------
    ValueError
        If a value is NaN/infinite, or a value used as a denominator is not positive
        (a return on zero or negative capital is undefined).
    """
    values = _values(equity, "equity")
    labels = equity.index if isinstance(equity, pd.Series) else pd.RangeIndex(len(values))
    if initial_base is not None:
        values = np.concatenate([[float(initial_base)], values])
    else:
        labels = labels[1:]
    if len(values) < 2:
        return pd.Series([], index=labels[:0], dtype=float, name="return")
    denominators = values[:-1]
    if not (denominators > 0).all():
        i = int(np.argmax(~(denominators > 0)))
        raise ValueError(f"equity value {denominators[i]} at position {i} (counting initial_base) is not "
                         "positive; returns on zero or negative capital are undefined")
    return pd.Series(values[1:] / denominators - 1.0, index=labels, name="return")


def cumulative_return(returns: pd.Series | Sequence[float]) -> float:
    """Compounded return ``prod(1 + r) - 1`` over all periods.

    Returns
    -------
    float
        NaN for an empty series (no period measured).
    """
    r = _values(returns, "returns")
    if len(r) == 0:
        return NAN
    return _float(np.prod(1.0 + r) - 1.0)


def annualised_return(returns: pd.Series | Sequence[float], *, periods_per_year: float) -> float:
    """Geometric annual growth rate ``(prod(1 + r)) ** (ppy / n) - 1`` (empyrical ``annual_return``).

    Parameters
    ----------
    returns
        ``n`` simple per-period returns.
    periods_per_year
        Sessions per year of the benchmark's exchange (about 246 for XHKG).

    Returns
    -------
    float
        NaN when ``n == 0``, when wealth ends below zero (no real root) or on overflow;
        -1.0 when wealth ends exactly at zero.
    """
    ppy = _check_ppy(periods_per_year)
    r = _values(returns, "returns")
    if len(r) == 0:
        return NAN
    growth = float(np.prod(1.0 + r))
    if growth < 0:
        return NAN
    try:
        return _float(growth ** (ppy / len(r)) - 1.0)
    except OverflowError:
        return NAN


def volatility_annual(returns: pd.Series | Sequence[float], *, periods_per_year: float) -> float:
    """Annualised volatility: sample standard deviation (ddof=1) times ``sqrt(ppy)``.

    Returns
    -------
    float
        NaN with fewer than 2 periods; exactly 0.0 when all returns are equal.
    """
    ppy = _check_ppy(periods_per_year)
    r = _values(returns, "returns")
    if len(r) < 2:
        return NAN
    if _constant(r):
        return 0.0
    return _float(np.std(r, ddof=1) * math.sqrt(ppy))


def sharpe(returns: pd.Series | Sequence[float], *, periods_per_year: float,
           risk_free_annual: float = 0.0) -> float:
    """Annualised Sharpe ratio ``mean(r - rf) / std(r - rf, ddof=1) * sqrt(ppy)``.

    ``rf`` is the per-period rate from :func:`risk_free_per_period` (geometric
    de-annualisation of ``risk_free_annual``). Same as empyrical ``sharpe_ratio`` given that
    per-period rate.

    Returns
    -------
    float
        NaN with fewer than 2 periods or when all returns are equal (zero volatility;
        empyrical returns +-inf or NaN there).
    """
    ppy = _check_ppy(periods_per_year)
    r = _values(returns, "returns")
    if len(r) < 2 or _constant(r):
        return NAN
    excess = r - risk_free_per_period(risk_free_annual, periods_per_year=ppy)
    return _ratio(float(np.mean(excess)), float(np.std(excess, ddof=1)), math.sqrt(ppy))


def downside_deviation_annual(returns: pd.Series | Sequence[float], *, periods_per_year: float,
                              required_return_per_period: float = 0.0) -> float:
    """Annualised downside deviation as empyrical ``downside_risk`` defines it.

    ``sqrt(mean(min(r - MAR, 0) ** 2)) * sqrt(ppy)``: the root-mean-square of the shortfalls
    below the minimum acceptable return ``MAR``, averaged over **all** ``n`` periods (periods
    at or above ``MAR`` count as zero shortfall; the divisor is ``n``, not the number of
    losing periods, and nothing is demeaned).

    Returns
    -------
    float
        NaN for an empty series; 0.0 when no period is below ``MAR``.
    """
    ppy = _check_ppy(periods_per_year)
    r = _values(returns, "returns")
    if len(r) == 0:
        return NAN
    shortfall = np.minimum(r - float(required_return_per_period), 0.0)
    return _float(math.sqrt(float(np.mean(shortfall ** 2))) * math.sqrt(ppy))


def sortino(returns: pd.Series | Sequence[float], *, periods_per_year: float,
            risk_free_annual: float = 0.0) -> float:
    """Annualised Sortino ratio, empyrical's ``sortino_ratio`` with ``required_return = rf``.

    ``mean(r - rf) * ppy / downside_deviation_annual(r, MAR=rf)`` where ``rf`` is the
    per-period risk-free rate (:func:`risk_free_per_period`) and the downside deviation is
    the root-mean-square shortfall below ``rf`` over all periods
    (:func:`downside_deviation_annual`).

    Returns
    -------
    float
        NaN with fewer than 2 periods (as empyrical) or when no period is below ``rf``
        (zero downside deviation; empyrical returns inf there).
    """
    ppy = _check_ppy(periods_per_year)
    r = _values(returns, "returns")
    if len(r) < 2:
        return NAN
    rf = risk_free_per_period(risk_free_annual, periods_per_year=ppy)
    downside = downside_deviation_annual(r, periods_per_year=ppy, required_return_per_period=rf)
    if not downside > 0:
        return NAN
    return _float(np.mean(r - rf) * ppy / downside)


# ---------------------------------------------------------------------------------------------
# Drawdown of a return series.


@dataclass(frozen=True, kw_only=True, slots=True)
class DrawdownSpell:
    """The deepest drawdown of a return series, located by position.

    Positions count the start (wealth 1 before the first return) as 0 and return ``i``
    (0-based) as ``i + 1``.

    Attributes
    ----------
    max_drawdown
        Deepest fall below the running peak of wealth, a fraction <= 0 (-0.2 = 20 % down).
    peak_position
        Last position at the running peak before the trough.
    trough_position
        Position of the lowest wealth relative to that peak (the first one on ties).
    end_position
        First position after the trough where wealth is back at or above the peak (exact
        float comparison), or the last position when it never recovers.
    recovered
        Whether wealth got back to the peak.
    duration_sessions
        ``end_position - peak_position``: sessions from the peak to the recovery, or to the
        end of the series when not recovered (then a lower bound). 0 when there is no drawdown.
    """

    max_drawdown: float
    peak_position: int
    trough_position: int
    end_position: int
    recovered: bool
    duration_sessions: int


def max_drawdown_spell(returns: pd.Series | Sequence[float]) -> DrawdownSpell | None:
    """Find the deepest drawdown of compounded wealth ``1, (1+r0), (1+r0)(1+r1), ...``.

    The starting wealth 1 counts as the first peak (as in empyrical ``max_drawdown``), so a
    loss on the first period is a drawdown.

    Returns
    -------
    DrawdownSpell or None
        ``None`` for an empty series.
    """
    r = _values(returns, "returns")
    if len(r) == 0:
        return None
    wealth = np.concatenate([[1.0], np.cumprod(1.0 + r)])
    peaks = np.maximum.accumulate(wealth)
    dd = (wealth - peaks) / peaks  # peaks >= 1 (the start), so never a division by zero
    trough = int(np.argmin(dd))
    if dd[trough] >= 0:
        return DrawdownSpell(max_drawdown=0.0, peak_position=0, trough_position=0, end_position=0,
                             recovered=True, duration_sessions=0)
    at_peak = np.flatnonzero(dd[: trough + 1] >= 0)
    peak = int(at_peak[-1])
    after = np.flatnonzero(wealth[trough + 1:] >= wealth[peak])
    recovered = len(after) > 0
    end = trough + 1 + int(after[0]) if recovered else len(wealth) - 1
    return DrawdownSpell(max_drawdown=float(dd[trough]), peak_position=peak, trough_position=trough,
                         end_position=end, recovered=recovered, duration_sessions=end - peak)


def max_drawdown(returns: pd.Series | Sequence[float]) -> float:
    """Maximum drawdown of compounded wealth, a fraction <= 0 (empyrical ``max_drawdown``).

    Returns
    -------
    float
        NaN for an empty series; 0.0 when wealth never falls below a previous peak.
    """
    spell = max_drawdown_spell(returns)
    return NAN if spell is None else spell.max_drawdown


def max_drawdown_duration(returns: pd.Series | Sequence[float]) -> float:
    """Sessions from the peak of the *deepest* drawdown to its recovery (or to the end).

    See :class:`DrawdownSpell`: ``end_position - peak_position`` where the end is the first
    session back at or above the peak, or the last session if wealth never recovered (the
    value is then a lower bound of the true duration).

    Returns
    -------
    float
        An integer-valued float; NaN for an empty series; 0.0 with no drawdown.
    """
    spell = max_drawdown_spell(returns)
    return NAN if spell is None else float(spell.duration_sessions)


# ---------------------------------------------------------------------------------------------
# Relative to a benchmark.


def beta(strategy_returns: pd.Series | Sequence[float],
         benchmark_returns: pd.Series | Sequence[float]) -> float:
    """OLS slope of strategy returns on benchmark returns, ``cov(s, b) / var(b)``.

    A constant risk-free rate does not change the slope, so there is no ``rf`` argument.
    Same as empyrical ``beta``.

    Returns
    -------
    float
        NaN with fewer than 2 periods, when the benchmark returns are all equal or their
        (population) variance is below 1e-30 (empyrical's cut-off).

    Raises
    ------
    ValueError
        If the lengths differ, or both are Series with different indexes.
    """
    s, b = _pair(strategy_returns, benchmark_returns)
    if len(s) < 2 or _constant(b):
        return NAN
    b_dev = b - np.mean(b)
    variance = float(np.mean(b_dev ** 2))
    if variance < 1e-30:  # empyrical's cut-off: a benchmark this flat has no slope to speak of
        return NAN
    return _float(np.mean(b_dev * (s - np.mean(s))) / variance)


def alpha_annual(strategy_returns: pd.Series | Sequence[float],
                 benchmark_returns: pd.Series | Sequence[float], *, periods_per_year: float,
                 risk_free_annual: float = 0.0) -> float:
    """Jensen's alpha annualised by compounding, as empyrical ``alpha`` does.

    With per-period ``rf`` (:func:`risk_free_per_period`) and ``beta`` from :func:`beta`,
    the per-period alpha is the OLS intercept of excess strategy on excess benchmark returns,
    ``a = mean((s - rf) - beta * (b - rf))``, and ``alpha_annual = (1 + a) ** ppy - 1``.

    Returns
    -------
    float
        NaN when beta is NaN (fewer than 2 periods, constant benchmark), when ``1 + a <= 0``
        or on overflow.
    """
    ppy = _check_ppy(periods_per_year)
    s, b = _pair(strategy_returns, benchmark_returns)
    slope = beta(s, b)
    if math.isnan(slope):
        return NAN
    rf = risk_free_per_period(risk_free_annual, periods_per_year=ppy)
    a = float(np.mean((s - rf) - slope * (b - rf)))
    if 1.0 + a <= 0:
        return NAN
    try:
        return _float((1.0 + a) ** ppy - 1.0)
    except OverflowError:
        return NAN


def tracking_error_annual(strategy_returns: pd.Series | Sequence[float],
                          benchmark_returns: pd.Series | Sequence[float], *,
                          periods_per_year: float) -> float:
    """Annualised tracking error: ``std(s - b, ddof=1) * sqrt(ppy)`` of the active returns.

    Returns
    -------
    float
        NaN with fewer than 2 periods; 0.0 when the active return is constant.
    """
    s, b = _pair(strategy_returns, benchmark_returns)
    return volatility_annual(s - b, periods_per_year=periods_per_year)


def information_ratio(strategy_returns: pd.Series | Sequence[float],
                      benchmark_returns: pd.Series | Sequence[float], *,
                      periods_per_year: float) -> float:
    """Annualised information ratio ``mean(s - b) / std(s - b, ddof=1) * sqrt(ppy)``.

    Equals empyrical ``excess_sharpe(s, b) * sqrt(ppy)`` (empyrical does not annualise), and
    annualised mean active return ``mean(s - b) * ppy`` over :func:`tracking_error_annual`.

    Returns
    -------
    float
        NaN with fewer than 2 periods or a constant active return (zero tracking error).
    """
    ppy = _check_ppy(periods_per_year)
    s, b = _pair(strategy_returns, benchmark_returns)
    active = s - b
    if len(active) < 2 or _constant(active):
        return NAN
    return _ratio(float(np.mean(active)), float(np.std(active, ddof=1)), math.sqrt(ppy))


# ---------------------------------------------------------------------------------------------
# Trades and exposure.


def hit_rate(trade_pnl_base: Sequence[float]) -> float:
    """Fraction of trades with net P&L strictly above zero (a zero-P&L trade is not a hit).

    Returns
    -------
    float
        NaN with no trades.
    """
    pnl = _values(list(trade_pnl_base), "trade_pnl_base")
    return NAN if len(pnl) == 0 else float(np.mean(pnl > 0))


def average_trade(trade_pnl_base: Sequence[float]) -> float:
    """Mean net P&L per trade, in the portfolio's base currency.

    Returns
    -------
    float
        NaN with no trades.
    """
    pnl = _values(list(trade_pnl_base), "trade_pnl_base")
    return NAN if len(pnl) == 0 else _float(np.mean(pnl))


def exposure_fraction(position: pd.Series | Sequence[float] | Sequence[bool]) -> float:
    """Fraction of periods with a non-zero position.

    Parameters
    ----------
    position
        One value per period: booleans (``True`` = in the market) or numbers such as the
        absolute exposure / market value (non-zero = in the market; the sign is ignored).

    Returns
    -------
    float
        In [0, 1]; NaN with no periods.

    Raises
    ------
    ValueError
        If a value is NaN (a period whose position is unknown).
    """
    x = _values(position, "exposure")
    return NAN if len(x) == 0 else float(np.mean(x != 0))


# ---------------------------------------------------------------------------------------------
# Entry points.


def _check_series(series: pd.Series, name: str) -> None:
    if not isinstance(series, pd.Series):
        raise ValueError(f"{name} must be a pandas Series indexed by session, got {type(series).__name__}")
    if not series.index.is_unique:
        dup = series.index[series.index.duplicated()][0]
        raise ValueError(f"{name} has duplicate session labels, first {dup!r}; one return per session")
    if not series.index.is_monotonic_increasing:
        raise ValueError(f"{name} index is not in increasing time order; sort it by session")


def _single_metrics(r: np.ndarray, ppy: float, risk_free_annual: float) -> dict[str, float]:
    spell = max_drawdown_spell(r)
    return {
        "total_return": cumulative_return(r),
        "annualised_return": annualised_return(r, periods_per_year=ppy),
        "volatility_annual": volatility_annual(r, periods_per_year=ppy),
        "sharpe": sharpe(r, periods_per_year=ppy, risk_free_annual=risk_free_annual),
        "sortino": sortino(r, periods_per_year=ppy, risk_free_annual=risk_free_annual),
        "max_drawdown": NAN if spell is None else spell.max_drawdown,
        "max_drawdown_duration_sessions": NAN if spell is None else float(spell.duration_sessions),
        "periods_per_year": ppy,
        "sessions": float(len(r)),
    }


def performance_metrics(*, strategy_returns: pd.Series, benchmark_returns: pd.Series,
                        periods_per_year: float, trade_pnl_base: Sequence[float] = (),
                        exposure: pd.Series | None = None,
                        risk_free_annual: float = 0.0) -> dict[str, float]:
    """All headline metrics of a run, keyed exactly by :data:`METRIC_KEYS`.

    Parameters
    ----------
    strategy_returns
        Simple returns of the portfolio's equity (base currency) on the benchmark's session
        clock, one per session, indexed by session.
    benchmark_returns
        Simple returns of the benchmark on the same index.
    periods_per_year
        Sessions per year of the benchmark's exchange, from
        ``data_loaders.calendars.sessions_per_year`` (about 246 for XHKG). Required.
    trade_pnl_base
        Net P&L of each round-trip trade in base currency (for ``hit_rate``,
        ``average_trade_pnl_base``, ``trade_count``).
    exposure
        Per-period position flag or absolute exposure (see :func:`exposure_fraction`); its own rows
        are counted (it need not share the returns' index). ``None`` gives NaN.
    risk_free_annual
        Annual risk-free rate (fraction), de-annualised geometrically per session; used by
        ``sharpe``, ``sortino`` and ``alpha_annual``.

    Returns
    -------
    dict[str, float]
        Plain Python floats in :data:`METRIC_KEYS` order. ``total_return`` = compounded
        strategy return; ``max_drawdown`` <= 0; ``max_drawdown_duration_sessions`` = peak to
        recovery or to the end (see :class:`DrawdownSpell`); ``trade_count``, ``sessions``
        are integer-valued floats. Undefined values are NaN (never inf): every return metric
        with no sessions; volatility, Sharpe, Sortino, alpha, beta, tracking error and
        information ratio with fewer than 2 sessions; Sharpe with constant returns; Sortino
        with no session below the risk-free rate; alpha/beta with a constant benchmark;
        information ratio with a constant active return; hit rate and average trade with no
        trades; exposure when not given or empty.

    Raises
    ------
    ValueError
        If either series is not a Series, the indexes differ, are not unique or not
        increasing, a return or trade P&L is NaN/infinite, ``periods_per_year <= 0`` or
        ``risk_free_annual <= -1``.
    """
    ppy = _check_ppy(periods_per_year)
    risk_free_per_period(risk_free_annual, periods_per_year=ppy)  # validate once, up front
    _check_series(strategy_returns, "strategy_returns")
    _check_series(benchmark_returns, "benchmark_returns")
    s, b = _pair(strategy_returns, benchmark_returns)
    pnl = _values(list(trade_pnl_base), "trade_pnl_base")
    single = _single_metrics(s, ppy, risk_free_annual)
    out = {
        **single,
        "alpha_annual": alpha_annual(s, b, periods_per_year=ppy, risk_free_annual=risk_free_annual),
        "beta": beta(s, b),
        "information_ratio": information_ratio(s, b, periods_per_year=ppy),
        "tracking_error_annual": tracking_error_annual(s, b, periods_per_year=ppy),
        "hit_rate": hit_rate(pnl),
        "average_trade_pnl_base": average_trade(pnl),
        "trade_count": float(len(pnl)),
        "exposure": NAN if exposure is None else exposure_fraction(exposure),
    }
    return {key: float(out[key]) for key in METRIC_KEYS}


def benchmark_metrics(benchmark_returns: pd.Series, periods_per_year: float, *,
                      risk_free_annual: float = 0.0) -> dict[str, float]:
    """The benchmark's own metrics, keyed exactly by :data:`BENCHMARK_METRIC_KEYS`.

    Same definitions (and NaN cases) as :func:`performance_metrics` for the keys that need
    no second series and no trades.

    Raises
    ------
    ValueError
        If ``benchmark_returns`` is not a Series, its index is not unique/increasing, a return
        is NaN/infinite, or ``periods_per_year <= 0``.
    """
    ppy = _check_ppy(periods_per_year)
    risk_free_per_period(risk_free_annual, periods_per_year=ppy)
    _check_series(benchmark_returns, "benchmark_returns")
    single = _single_metrics(_values(benchmark_returns, "benchmark_returns"), ppy, risk_free_annual)
    return {key: float(single[key]) for key in BENCHMARK_METRIC_KEYS}
