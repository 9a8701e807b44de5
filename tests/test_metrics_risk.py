"""The risk set of the tearsheet: hand-checked cases, refusals, and empyrical / quantstats cross-checks."""

from __future__ import annotations

import math
import warnings

import numpy as np
import pandas as pd
import pytest

from backtests.metrics_risk import (
    RISK_METRIC_KEYS, calmar_ratio, conditional_value_at_risk, drawdown_periods, label_of, longest_underwater,
    profit_factor, risk_metrics, rolling_sharpe, rolling_volatility, value_at_risk, worst_drawdowns,
)

PPY = 245.0  # XHKG sessions per calendar year over 2023-2025 (from the calendar, not 252)


@pytest.fixture(scope="module")
def returns() -> pd.Series:
    """Three years of fat-tailed session returns with a long, shallow spell under water."""
    rng = np.random.default_rng(16)
    r = rng.standard_t(3, 735) * 0.006 + 0.0004
    r[300:420] = -0.0003          # a slow bleed: long under water, not deep
    index = pd.bdate_range("2023-01-03", periods=len(r))
    return pd.Series(r, index=index, name="strategy")


def test_drawdown_periods_by_hand() -> None:
    # wealth: 1, 1.1, 0.99, 1.089, 1.1979 (new peak), 1.0781, 1.1859 (never back above 1.1979)
    r = [0.10, -0.10, 0.10, 0.10, -0.10, 0.10]
    first, second = drawdown_periods(r)
    assert (first.peak_position, first.trough_position, first.end_position) == (1, 2, 4)
    assert first.recovered and first.underwater_sessions == 2 and first.depth == pytest.approx(-0.10)
    assert (second.peak_position, second.trough_position, second.end_position) == (4, 5, 6)
    assert not second.recovered and second.underwater_sessions == 2
    assert longest_underwater(r) == 2.0
    assert [p.peak_position for p in worst_drawdowns(r, n=1)] == [1]   # equal depth: the earlier first
    assert label_of(pd.Index(["a", "b"]), 0) == "start" and label_of(pd.Index(["a", "b"]), 2) == "b"


def test_a_first_session_loss_is_a_drawdown_from_the_starting_capital() -> None:
    (p,) = drawdown_periods([-0.05, 0.02])
    assert p.peak_position == 0 and not p.recovered and p.underwater_sessions == 2


def test_undefined_values_are_nan_and_bad_input_is_refused() -> None:
    flat = risk_metrics([0.01, 0.01, 0.01, 0.01], periods_per_year=PPY)
    assert list(flat) == list(RISK_METRIC_KEYS)
    assert math.isnan(flat["calmar_ratio"]) and math.isnan(flat["skew"]) and math.isnan(flat["profit_factor"])
    assert flat["longest_underwater_sessions"] == 0.0
    empty = risk_metrics([], periods_per_year=PPY)
    assert all(math.isnan(v) for k, v in empty.items())
    with pytest.raises(ValueError, match="NaN/infinite"):
        risk_metrics([0.01, float("nan")], periods_per_year=PPY)
    with pytest.raises(ValueError, match="periods_per_year"):
        risk_metrics([0.01], periods_per_year=0)
    with pytest.raises(ValueError, match="cutoff"):
        value_at_risk([0.01], cutoff=5)
    with pytest.raises(ValueError, match="n must be"):
        worst_drawdowns([0.01], n=0)
    assert profit_factor([3.0, -1.0, -1.0]) == 1.5


def test_against_empyrical(returns: pd.Series) -> None:
    empyrical = pytest.importorskip("empyrical")
    assert calmar_ratio(returns, periods_per_year=PPY) == pytest.approx(
        empyrical.calmar_ratio(returns, annualization=PPY), rel=1e-10)
    assert value_at_risk(returns) == pytest.approx(empyrical.value_at_risk(returns, cutoff=0.05), rel=1e-12)
    assert conditional_value_at_risk(returns) == pytest.approx(
        empyrical.conditional_value_at_risk(returns, cutoff=0.05), rel=1e-12)


def test_against_quantstats(returns: pd.Series) -> None:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        qs = pytest.importorskip("quantstats").stats
        got = risk_metrics(returns, periods_per_year=PPY)
        assert got["skew"] == pytest.approx(qs.skew(returns), rel=1e-10)
        assert got["kurtosis"] == pytest.approx(qs.kurtosis(returns), rel=1e-10)
        assert got["profit_factor"] == pytest.approx(qs.profit_factor(returns), rel=1e-10)
        assert got["best_session_return"] == pytest.approx(qs.best(returns), rel=1e-12)
        assert got["worst_session_return"] == pytest.approx(qs.worst(returns), rel=1e-12)
        window = 63
        mine_sr = rolling_sharpe(returns, window_sessions=window, periods_per_year=PPY)
        theirs_sr = qs.rolling_sharpe(returns, rolling_period=window, periods_per_year=PPY)
        flat = ~np.isfinite(theirs_sr) & theirs_sr.notna()   # a window of equal returns: they say inf, we NaN
        assert flat.any() and mine_sr[flat].isna().all()
        pd.testing.assert_series_equal(mine_sr[~flat], theirs_sr[~flat], check_names=False, rtol=1e-9)
        pd.testing.assert_series_equal(
            rolling_volatility(returns, window_sessions=window, periods_per_year=PPY),
            qs.rolling_volatility(returns, rolling_period=window, periods_per_year=PPY), check_names=False,
            rtol=1e-9)
        details = qs.drawdown_details(qs.to_drawdown_series(returns))
    mine = drawdown_periods(returns)
    # quantstats lists each spell from its first session under water to its last one
    assert len(details) == len(mine)
    idx = returns.index
    starts = [f"{label_of(idx, p.peak_position + 1):%Y-%m-%d}" for p in mine]
    valleys = [f"{label_of(idx, p.trough_position):%Y-%m-%d}" for p in mine]
    assert list(details["start"]) == starts and list(details["valley"]) == valleys
    assert np.allclose(details["max drawdown"].to_numpy(), [100 * p.depth for p in mine], rtol=1e-9)
    spans = [len(idx[p.peak_position: p.peak_position + p.underwater_sessions]) for p in mine]
    last = [f"{idx[p.peak_position + p.underwater_sessions - 1]:%Y-%m-%d}" for p in mine]
    assert list(details["end"]) == last and spans == [p.underwater_sessions for p in mine]
    assert longest_underwater(returns) >= 120      # the slow bleed is one spell
