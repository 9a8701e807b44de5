"""Performance metrics: by hand, against empyrical (empyrical-reloaded) and on real prices.

Empyrical is the independent reference. Its definitions are matched exactly except where the
module docstring of backtests.metrics says otherwise; each such difference is pinned here as
an exact relation (information ratio = excess_sharpe * sqrt(ppy); NaN where empyrical says inf;
tracking error = empyrical annual_volatility of the active returns, empyrical has no own one).
"""

from __future__ import annotations

import json
import math
from pathlib import Path

import empyrical as ep
import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backtests import metrics as m
from backtests.metrics import BENCHMARK_METRIC_KEYS, METRIC_KEYS, benchmark_metrics, performance_metrics

REL = 1e-10
PPY = 246.0  # XHKG sessions a year (data_loaders.calendars.sessions_per_year is ~245-247)


def approx(x: float) -> object:
    return pytest.approx(x, rel=REL, abs=0.0)


def series(values: list[float], start: str = "2025-01-06") -> pd.Series:
    return pd.Series(values, index=pd.bdate_range(start, periods=len(values)), dtype=float)


# -------------------------------------------------------------------------------------------
# 1. Hand-checkable series.

# r = +10 %, -10 %, -5 %, +20 %, 0 %
R = [0.10, -0.10, -0.05, 0.20, 0.00]
# wealth 1 -> 1.1 -> 0.99 -> 0.9405 -> 1.1286 -> 1.1286
# mean = 0.15 / 5 = 0.03; deviations .07 -.13 -.08 .17 -.03; squares .0049 .0169 .0064 .0289 .0009
# sum = .058, sample variance = .058 / 4 = .0145


def test_total_and_annualised_return_by_hand() -> None:
    assert m.cumulative_return(R) == approx(0.1286)             # 1.1 * .9 * .95 * 1.2 - 1
    # 5 returns at 5 a year = one year: annualised = total
    assert m.annualised_return(R, periods_per_year=5) == approx(0.1286)
    # 5 returns at 10 a year = half a year: 1.1286 ** 2 - 1 = 1.27373796 - 1
    assert m.annualised_return(R, periods_per_year=10) == approx(0.27373796)


def test_volatility_sharpe_sortino_by_hand() -> None:
    # ppy = 4, sqrt(4) = 2
    assert m.volatility_annual(R, periods_per_year=4) == approx(2 * math.sqrt(0.0145))   # 0.240832
    assert m.sharpe(R, periods_per_year=4) == approx(0.03 / math.sqrt(0.0145) * 2)       # 0.498273
    # shortfalls below 0: 0, -.10, -.05, 0, 0 -> squares .01 + .0025 = .0125, / 5 periods = .0025
    # downside deviation = sqrt(.0025) * 2 = .05 * 2 = 0.10 a year
    assert m.downside_deviation_annual(R, periods_per_year=4) == approx(0.10)
    # sortino = mean * ppy / downside = .03 * 4 / .10 = 1.2
    assert m.sortino(R, periods_per_year=4) == approx(1.2)


def test_sharpe_risk_free_is_deannualised_geometrically() -> None:
    # rf 21 % a year at ppy = 2: per period (1.21) ** (1/2) - 1 = 0.1 exactly
    assert m.risk_free_per_period(0.21, periods_per_year=2) == approx(0.1)
    # excess returns R - 0.1: same deviations, mean .03 - .1 = -.07; sharpe = -.07 / sqrt(.0145) * sqrt(2)
    assert m.sharpe(R, periods_per_year=2, risk_free_annual=0.21) == approx(-0.07 / math.sqrt(0.0145) * math.sqrt(2))


def test_max_drawdown_and_duration_by_hand() -> None:
    # peak 1.1 (position 1), trough 0.9405 (position 3): 0.9405 / 1.1 - 1 = .9 * .95 - 1 = -0.145
    # back above 1.1 at position 4 (1.1286): duration = 4 - 1 = 3 sessions
    spell = m.max_drawdown_spell(R)
    assert spell is not None
    assert spell.max_drawdown == approx(-0.145)
    assert (spell.peak_position, spell.trough_position, spell.end_position) == (1, 3, 4)
    assert spell.recovered and spell.duration_sessions == 3
    assert m.max_drawdown(R) == approx(-0.145)
    assert m.max_drawdown_duration(R) == 3.0


def test_drawdown_duration_cases() -> None:
    # not recovered: wealth 1, 1.1, 0.88, 0.924 -> peak pos 1, runs to the end (pos 3): 2, a lower bound
    s = m.max_drawdown_spell([0.10, -0.20, 0.05])
    assert s is not None and not s.recovered and s.duration_sessions == 2
    assert s.max_drawdown == approx(-0.2)
    # a loss on the first period: the start (wealth 1) is the first peak; recovered at pos 2 (1.08)
    s = m.max_drawdown_spell([-0.10, 0.20])
    assert s is not None and (s.peak_position, s.duration_sessions) == (0, 2)
    # a flat session at the high: the peak is the LAST session at the high (pos 2), recovery pos 4
    s = m.max_drawdown_spell([0.10, 0.0, -0.10, 0.20])
    assert s is not None and (s.peak_position, s.end_position, s.duration_sessions) == (2, 4, 2)
    # the duration is that of the DEEPEST drawdown, not the longest spell:
    # wealth 1 .95 .95 .95 .95 1.007 | .7049 1.05735 -> 5 % dip lasts 5 sessions, 29.5 % dip lasts 2
    s = m.max_drawdown_spell([-0.05, 0, 0, 0, 0.06, -0.30, 0.50])
    assert s is not None and s.duration_sessions == 2
    assert s.max_drawdown == approx(0.7049 / 1.007 - 1)
    # never below a peak
    assert m.max_drawdown([0.01, 0.0, 0.02]) == 0.0 and m.max_drawdown_duration([0.01, 0.0, 0.02]) == 0.0


# benchmark b (mean 0) and a strategy s = 0.01 + 2 b that it explains exactly
B = [0.01, -0.03, 0.01, 0.03, -0.02]
S = [0.03, -0.05, 0.03, 0.07, -0.03]
# OLS: beta 2, per-period intercept 0.01; active s - b = 0.01 + b:
# mean 0.01; b squares .0001 .0009 .0001 .0009 .0004 = .0024, sample variance .0024 / 4 = .0006


def test_alpha_beta_tracking_error_information_ratio_by_hand() -> None:
    assert m.beta(S, B) == approx(2.0)
    assert m.alpha_annual(S, B, periods_per_year=4) == approx(1.01 ** 4 - 1)            # 0.04060401
    assert m.tracking_error_annual(S, B, periods_per_year=4) == approx(2 * math.sqrt(0.0006))
    assert m.information_ratio(S, B, periods_per_year=4) == approx(0.01 / math.sqrt(0.0006) * 2)


def test_alpha_with_risk_free_by_hand() -> None:
    # rf per period 0.1 (21 % at ppy 2): intercept of (s - .1) on (b - .1) = mean(s - .1 - 2 (b - .1))
    # = mean(s) - 2 mean(b) + .1 = .01 - 0 + .1 = .11 -> (1.11) ** 2 - 1 = 0.2321
    assert m.alpha_annual(S, B, periods_per_year=2, risk_free_annual=0.21) == approx(0.2321)


def test_trades_exposure_and_returns_from_equity_by_hand() -> None:
    pnl = [100.0, -50.0, 0.0, 250.0]
    assert m.hit_rate(pnl) == 0.5                                # 100 and 250 > 0; a zero is no hit
    assert m.average_trade(pnl) == 75.0                          # 300 / 4
    assert m.exposure_fraction([0.0, 1500.0, -200.0, 0.0, 0.0]) == 0.4    # 2 of 5, sign ignored
    assert m.exposure_fraction(pd.Series([True, False, False, False])) == 0.25
    eq = pd.Series([100.0, 110.0, 99.0], index=["a", "b", "c"])
    first_is_capital = m.simple_returns(eq)                      # 110/100 - 1, 99/110 - 1
    assert list(first_is_capital.index) == ["b", "c"]
    assert first_is_capital.tolist() == pytest.approx([0.1, -0.1], rel=REL)
    with_initial = m.simple_returns(eq, initial_base=50.0)       # 100/50 - 1 first
    assert list(with_initial.index) == ["a", "b", "c"]
    assert with_initial.tolist() == pytest.approx([1.0, 0.1, -0.1], rel=REL)
    with pytest.raises(ValueError, match="not positive"):
        m.simple_returns(pd.Series([100.0, 0.0, 5.0]))


def test_performance_metrics_by_hand() -> None:
    got = performance_metrics(strategy_returns=series(S), benchmark_returns=series(B), periods_per_year=4,
                              trade_pnl_base=[10.0, -5.0], exposure=series([1, 0, 0, 1, 1]))
    assert tuple(got) == METRIC_KEYS
    assert got["beta"] == approx(2.0)
    assert got["alpha_annual"] == approx(1.01 ** 4 - 1)
    assert got["hit_rate"] == 0.5 and got["average_trade_pnl_base"] == 2.5 and got["trade_count"] == 2.0
    assert got["exposure"] == 0.6 and got["sessions"] == 5.0 and got["periods_per_year"] == 4.0
    # s wealth 1.03, .9785, 1.007855, 1.07840485, 1.04605270 -> peak 1.03 (pos 1), trough pos 2 (-5 %),
    # first back at/above 1.03 at pos 4: 3 sessions (the later -3 % dip is shallower)
    assert got["max_drawdown"] == approx(-0.05) and got["max_drawdown_duration_sessions"] == 3.0
    assert got["total_return"] == approx(1.03 * 0.95 * 1.03 * 1.07 * 0.97 - 1)
    assert all(type(v) is float for v in got.values())
    bench = benchmark_metrics(series(B), 4)
    assert tuple(bench) == BENCHMARK_METRIC_KEYS
    assert bench["volatility_annual"] == approx(2 * math.sqrt(0.0006))
    assert bench["sharpe"] == pytest.approx(0.0, abs=1e-15)         # mean of B is 0 (up to rounding)


def test_legacy_equity_helpers_unchanged() -> None:
    # the engine's summary uses these: equity 100 -> 110 -> 99 -> 105 from 100 initial
    eq = pd.Series([110.0, 99.0, 105.0], index=["d1", "d2", "d3"])
    assert m.total_return(eq, initial=100.0) == pytest.approx(0.05)
    dd = m.drawdown(eq, initial=100.0)
    assert dd.max_drawdown == pytest.approx(-0.1) and (dd.peak_at, dd.trough_at) == ("d1", "d2")
    assert dd.longest_underwater_periods == 2
    assert m.total_return(pd.Series([], dtype=float)) == 0.0


# -------------------------------------------------------------------------------------------
# 2. Cross-check against empyrical.


def _crosscheck(s: pd.Series, b: pd.Series, ppy: float, rf_annual: float) -> None:
    rf = m.risk_free_per_period(rf_annual, periods_per_year=ppy)
    got = performance_metrics(strategy_returns=s, benchmark_returns=b, periods_per_year=ppy,
                              risk_free_annual=rf_annual)
    assert got["total_return"] == approx(ep.cum_returns_final(s))
    assert got["annualised_return"] == approx(ep.annual_return(s, annualization=ppy))
    assert got["volatility_annual"] == approx(ep.annual_volatility(s, annualization=ppy))
    assert got["sharpe"] == approx(ep.sharpe_ratio(s, risk_free=rf, annualization=ppy))
    assert got["sortino"] == approx(ep.sortino_ratio(s, required_return=rf, annualization=ppy))
    assert got["max_drawdown"] == approx(ep.max_drawdown(s))
    alpha, beta = ep.alpha_beta(s, b, risk_free=rf, annualization=ppy)
    assert got["alpha_annual"] == approx(alpha)
    assert got["beta"] == approx(beta)
    # documented differences: IR is annualised; tracking error = annual vol of active returns
    assert got["information_ratio"] == approx(ep.excess_sharpe(s, b) * math.sqrt(ppy))
    assert got["tracking_error_annual"] == approx(ep.annual_volatility(s - b, annualization=ppy))
    # the duration has no empyrical twin: check it against a plain loop
    assert got["max_drawdown_duration_sessions"] == _duration_by_loop(s.to_list())
    for key, value in benchmark_metrics(b, ppy, risk_free_annual=rf_annual).items():
        assert value == (approx(_single(b, key, ppy, rf)) if key not in {"periods_per_year", "sessions"} else value)


def _single(b: pd.Series, key: str, ppy: float, rf: float) -> float:
    return {
        "total_return": lambda: ep.cum_returns_final(b),
        "annualised_return": lambda: ep.annual_return(b, annualization=ppy),
        "volatility_annual": lambda: ep.annual_volatility(b, annualization=ppy),
        "sharpe": lambda: ep.sharpe_ratio(b, risk_free=rf, annualization=ppy),
        "sortino": lambda: ep.sortino_ratio(b, required_return=rf, annualization=ppy),
        "max_drawdown": lambda: ep.max_drawdown(b),
        "max_drawdown_duration_sessions": lambda: _duration_by_loop(b.to_list()),
    }[key]()


def _duration_by_loop(returns: list[float]) -> float:
    """Independent: walk the wealth path, remember each spell's depth, peak and end."""
    wealth, peak_value, peak_at = 1.0, 1.0, 0
    best_depth, best_duration, open_depth = 0.0, 0, 0.0
    for i, r in enumerate(returns, start=1):
        wealth *= 1.0 + r
        if wealth >= peak_value:
            if open_depth < 0:                                # the deepest spell so far recovered
                best_duration = i - peak_at
            peak_value, peak_at, open_depth = wealth, i, 0.0
            continue
        depth = wealth / peak_value - 1.0
        if depth < best_depth:
            best_depth, open_depth = depth, depth
            best_duration = len(returns) - peak_at           # until recovered: runs to the end
    return float(best_duration)


def _random_pair(seed: int, n: int = 750) -> tuple[pd.Series, pd.Series]:
    rng = np.random.default_rng(seed)
    b = rng.normal(4e-4, 0.018, n)
    s = 2e-4 + 0.8 * b + rng.normal(0.0, 0.012, n)
    idx = pd.bdate_range("2023-01-02", periods=n)
    return pd.Series(s, index=idx), pd.Series(b, index=idx)


@pytest.mark.parametrize("rf_annual", [0.0, 0.03])
@pytest.mark.parametrize("seed", [1, 2, 3])
def test_matches_empyrical_on_seeded_random_series(seed: int, rf_annual: float) -> None:
    s, b = _random_pair(seed)
    _crosscheck(s, b, PPY, rf_annual)


def test_matches_empyrical_on_hand_series() -> None:
    _crosscheck(series(S), series(B), 4.0, 0.0)
    _crosscheck(series(R), series(B), 5.0, 0.0)


def _real_pair(prices_dir: Path) -> tuple[pd.Series, pd.Series]:
    """9988.HK and HSTECH adj_close daily returns 2023-2025 on HSTECH's session clock.

    9988.HK has no row on the half-day 2025-12-24 (Yahoo placeholder dropped, PROVENANCE.md):
    its close is carried forward there (0 return), as the engine marks on the benchmark clock.
    """
    def adj(symbol: str) -> pd.Series:
        raw = pd.read_csv(prices_dir / f"{symbol}.csv", parse_dates=["date"]).set_index("date")
        return raw.loc["2023-01-03":"2025-12-31", "adj_close"].astype(float)

    bench = adj("HSTECH")
    stock = adj("9988.HK")
    assert stock.index.difference(bench.index).empty
    stock = stock.reindex(bench.index).ffill()
    return stock.pct_change().iloc[1:], bench.pct_change().iloc[1:]


@pytest.mark.realdata
def test_matches_empyrical_on_real_9988_vs_hstech(prices_dir: Path) -> None:
    s, b = _real_pair(prices_dir)
    assert len(s) == 734                                  # 735 HSTECH sessions 2023-2025, minus the first
    _crosscheck(s, b, PPY, 0.0)
    _crosscheck(s, b, PPY, 0.03)
    got = performance_metrics(strategy_returns=s, benchmark_returns=b, periods_per_year=PPY)
    # compounding the daily returns gives back the adj_close ratio of the CSV, last / first - 1
    raw = pd.read_csv(prices_dir / "9988.HK.csv", parse_dates=["date"]).set_index("date")["adj_close"]
    assert got["total_return"] == approx(raw.loc["2025-12-31"] / raw.loc["2023-01-03"] - 1)


# -------------------------------------------------------------------------------------------
# 3. Annualisation comes from the argument.


def test_annualisation_uses_periods_per_year() -> None:
    s, b = _random_pair(5)
    at_246 = performance_metrics(strategy_returns=s, benchmark_returns=b, periods_per_year=246)
    at_252 = performance_metrics(strategy_returns=s, benchmark_returns=b, periods_per_year=252)
    ratio = math.sqrt(252 / 246)
    for key in ("volatility_annual", "sharpe", "sortino", "tracking_error_annual", "information_ratio"):
        assert at_252[key] == approx(at_246[key] * ratio), key
    total = at_246["total_return"]
    assert at_246["annualised_return"] == approx((1 + total) ** (246 / 750) - 1)
    assert at_252["annualised_return"] == approx((1 + total) ** (252 / 750) - 1)
    assert at_246["annualised_return"] != at_252["annualised_return"]
    assert at_246["alpha_annual"] != at_252["alpha_annual"]
    assert (at_246["periods_per_year"], at_252["periods_per_year"]) == (246.0, 252.0)
    # unannualised figures do not move
    for key in ("total_return", "max_drawdown", "max_drawdown_duration_sessions", "beta"):
        assert at_246[key] == at_252[key], key


def test_periods_per_year_is_required_and_positive() -> None:
    s, b = _random_pair(6, n=10)
    with pytest.raises(TypeError):
        performance_metrics(strategy_returns=s, benchmark_returns=b)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        benchmark_metrics(b)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        m.sharpe(s)  # type: ignore[call-arg]
    for bad in (0, -246, float("nan"), float("inf")):
        with pytest.raises(ValueError, match="periods_per_year"):
            performance_metrics(strategy_returns=s, benchmark_returns=b, periods_per_year=bad)


# -------------------------------------------------------------------------------------------
# 4. Edge cases: NaN (never inf, never an exception) for undefined values; clear input errors.


def _assert_clean(got: dict[str, float]) -> None:
    assert all(type(v) is float and not math.isinf(v) for v in got.values())
    json.loads(json.dumps(got))                                   # serialisable (NaN as NaN)


def test_empty_series() -> None:
    empty = pd.Series([], index=pd.DatetimeIndex([]), dtype=float)
    got = performance_metrics(strategy_returns=empty, benchmark_returns=empty, periods_per_year=PPY)
    _assert_clean(got)
    assert got["sessions"] == 0.0 and got["trade_count"] == 0.0 and got["periods_per_year"] == PPY
    nan_keys = set(METRIC_KEYS) - {"sessions", "trade_count", "periods_per_year"}
    assert all(math.isnan(got[k]) for k in nan_keys)
    bench = benchmark_metrics(empty, PPY)
    assert all(math.isnan(bench[k]) for k in BENCHMARK_METRIC_KEYS if k not in {"sessions", "periods_per_year"})


def test_one_session() -> None:
    got = performance_metrics(strategy_returns=series([0.02]), benchmark_returns=series([0.01]),
                              periods_per_year=PPY)
    _assert_clean(got)
    assert got["total_return"] == approx(0.02) and got["max_drawdown"] == 0.0
    for key in ("volatility_annual", "sharpe", "sortino", "alpha_annual", "beta", "information_ratio",
                "tracking_error_annual"):
        assert math.isnan(got[key]), key


def test_constant_returns() -> None:
    s = series([0.001] * 10)
    b = series([0.002] * 10)
    got = performance_metrics(strategy_returns=s, benchmark_returns=b, periods_per_year=PPY)
    _assert_clean(got)
    assert got["volatility_annual"] == 0.0 and got["tracking_error_annual"] == 0.0
    # zero dispersion: sharpe, IR undefined; no period below 0: sortino undefined (empyrical: inf)
    assert math.isnan(got["sharpe"]) and math.isnan(got["information_ratio"]) and math.isnan(got["sortino"])
    assert math.isinf(ep.sortino_ratio(s, annualization=PPY))
    # constant benchmark: beta (and so alpha) undefined
    assert math.isnan(got["beta"]) and math.isnan(got["alpha_annual"])
    assert got["max_drawdown"] == 0.0 and got["max_drawdown_duration_sessions"] == 0.0
    assert got["annualised_return"] == approx(1.001 ** 246 - 1)
    # constant losses: sortino = -c ppy / (c sqrt(ppy)) = -sqrt(ppy)
    assert m.sortino([-0.01] * 4, periods_per_year=PPY) == approx(-math.sqrt(PPY))


def test_no_trades_and_no_exposure() -> None:
    s, b = _random_pair(8, n=20)
    got = performance_metrics(strategy_returns=s, benchmark_returns=b, periods_per_year=PPY)
    assert got["trade_count"] == 0.0
    assert math.isnan(got["hit_rate"]) and math.isnan(got["average_trade_pnl_base"]) and math.isnan(got["exposure"])
    assert math.isnan(m.exposure_fraction(pd.Series([], dtype=float)))


def test_overflow_is_nan_not_inf() -> None:
    # +1000 % in one session annualised over a million sessions a year overflows a float
    assert math.isnan(m.annualised_return([10.0], periods_per_year=1e6))
    # wealth below zero (a leveraged loss beyond -100 %) has no real annual rate
    assert math.isnan(m.annualised_return([-1.5, 0.1], periods_per_year=PPY))
    assert m.annualised_return([-1.0, 0.1], periods_per_year=PPY) == -1.0


def test_input_errors_say_what_is_wrong() -> None:
    s, b = _random_pair(9, n=10)
    with pytest.raises(ValueError, match="1 benchmark session.* missing from the strategy"):
        performance_metrics(strategy_returns=s.iloc[1:], benchmark_returns=b, periods_per_year=PPY)
    with pytest.raises(ValueError, match="not in increasing time order"):
        performance_metrics(strategy_returns=s.iloc[::-1], benchmark_returns=b, periods_per_year=PPY)
    with pytest.raises(ValueError, match="different order"):
        m.beta(s.iloc[::-1], b)
    with pytest.raises(ValueError, match="duplicate session"):
        performance_metrics(strategy_returns=s.iloc[[0, 0, 1]], benchmark_returns=b.iloc[[0, 0, 1]],
                            periods_per_year=PPY)
    with pytest.raises(ValueError, match="NaN/infinite.*first session"):
        performance_metrics(strategy_returns=s, benchmark_returns=b.pct_change(), periods_per_year=PPY)
    with pytest.raises(ValueError, match="trade_pnl_base"):
        performance_metrics(strategy_returns=s, benchmark_returns=b, periods_per_year=PPY,
                            trade_pnl_base=[1.0, float("nan")])
    with pytest.raises(ValueError, match="risk_free_annual"):
        performance_metrics(strategy_returns=s, benchmark_returns=b, periods_per_year=PPY, risk_free_annual=-1.0)
    with pytest.raises(ValueError, match="pandas Series"):
        performance_metrics(strategy_returns=s.to_numpy(), benchmark_returns=b,  # type: ignore[arg-type]
                            periods_per_year=PPY)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.floats(-0.99, 3.0), st.floats(-0.5, 0.5)), max_size=25),
       st.lists(st.floats(-1e6, 1e6), max_size=5))
def test_never_raises_or_returns_inf_on_finite_input(rows: list[tuple[float, float]], pnl: list[float]) -> None:
    s = series([r[0] for r in rows])
    b = series([r[1] for r in rows])
    got = performance_metrics(strategy_returns=s, benchmark_returns=b, periods_per_year=PPY, trade_pnl_base=pnl,
                              exposure=s != 0)
    _assert_clean(got)
    assert tuple(got) == METRIC_KEYS
    if len(rows):
        assert got["max_drawdown"] <= 0.0 and 0.0 <= got["max_drawdown_duration_sessions"] <= len(rows)
