"""Hand-checkable pieces of the event study: spec checks, returns, clock matching, OLS, p-values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtests.event_study.inference import (
    adjust_pvalues, correlated_stouffer, placebo_pvalue, rank_pvalue, rolling_sums, sign_test, sq_pvalue,
)
from backtests.event_study.models import event_paths, fit_windows, window_stats
from backtests.event_study.returns import build_design, matched_benchmark_returns, session_returns
from backtests.event_study.spec import EventStudySpec, EventStudySpecError, window_label
from event_study_factory import bars_from_returns, sessions


# ---------------------------------------------------------------- spec

@pytest.mark.parametrize("kwargs, needle", [
    ({"windows": ((1, 0),)}, "write it as [0, 1]"),
    ({"windows": ((0, 0), (0, 0))}, "listed twice"),
    ({"windows": ()}, "at least one"),
    ({"gap_sessions": 3}, "gap_sessions >= 5"),
    ({"estimation_sessions": 50}, "below min_estimation_sessions"),
    ({"model": "capm"}, "market, market_adjusted, constant_mean"),
    ({"cross_clock": "lead"}, "dimson, last_close, next_close"),
    ({"placebo_draws": 10}, "at least 1000"),
    ({"windows": ((0, 1.5),)}, "whole numbers"),
])
def test_spec_rejects_with_a_fix(kwargs: dict, needle: str) -> None:
    with pytest.raises(EventStudySpecError, match=None) as info:
        EventStudySpec(**kwargs)
    assert needle in str(info.value)


def test_spec_defaults_and_span() -> None:
    spec = EventStudySpec()
    assert spec.windows == ((0, 0), (0, 1), (-1, 1), (0, 5), (-5, 10))
    assert (spec.estimation_sessions, spec.gap_sessions, spec.placebo_draws) == (120, 10, 10_000)
    assert spec.span == (-5, 10)
    assert EventStudySpec(windows=((1, 2),), leadlag_horizon=4).span == (0, 4)
    assert [window_label(w) for w in spec.windows] == ["[0,0]", "[0,+1]", "[-1,+1]", "[0,+5]", "[-5,+10]"]


# ---------------------------------------------------------------- returns and clocks

def test_session_returns_leave_gaps_unfilled() -> None:
    days = sessions("9988.HK", "2025-03-03", "2025-03-07")          # Mon..Fri
    bars = bars_from_returns("9988.HK", days, np.array([0, 0.10, 0.10, 0.10, 0.10]), drop=("2025-03-05",))
    sr = session_returns(bars)
    assert list(sr.sessions.strftime("%d")) == ["03", "04", "05", "06", "07"]
    assert np.isnan(sr.returns[0]) and np.isnan(sr.returns[2]) and np.isnan(sr.returns[3])
    assert sr.returns[1] == pytest.approx(0.10) and sr.returns[4] == pytest.approx(0.10)
    assert list(sr.missing.strftime("%Y-%m-%d")) == ["2025-03-05"]


def test_us_listing_matched_to_hk_benchmark_by_close_instant() -> None:
    # HK closed 2025-01-29..31 (Lunar New Year); 2025-01-28 is a half day (closes 04:00 UTC).
    hk_days = sessions("HSTECH", "2025-01-24", "2025-02-05")
    hk = bars_from_returns("HSTECH", hk_days, np.r_[0, np.full(len(hk_days) - 1, 0.01)])
    us_days = sessions("BABA", "2025-01-24", "2025-02-04")
    bench, us_closes = session_returns(hk), session_returns(bars_from_returns(
        "BABA", us_days, np.zeros(len(us_days)))).closes_ns
    last = pd.Series(matched_benchmark_returns(bench, us_closes, "last_close"), index=us_days.strftime("%m-%d"))
    nxt = pd.Series(matched_benchmark_returns(bench, us_closes, "next_close"), index=us_days.strftime("%m-%d"))
    # BABA of 01-27 closes after HK's 01-27 close: last_close = HK 01-27's return.
    assert last["01-27"] == pytest.approx(0.01)
    # HK holiday: BABA 01-29..31 see no new HK close -> 0; next HK close is 02-03.
    assert last["01-28"] == pytest.approx(0.01) and (last[["01-29", "01-30", "01-31"]] == 0).all()
    assert last["02-03"] == pytest.approx(0.01)
    # next_close: BABA 01-28 maps to HK 02-03, so it carries HK's move 01-28 -> 02-03.
    assert nxt["01-27"] == pytest.approx(0.01) and nxt["01-28"] == pytest.approx(0.01)
    assert (nxt[["01-29", "01-30", "01-31"]] == 0).all()


def test_benchmark_gap_makes_matched_sessions_unusable_and_is_noted() -> None:
    days = sessions("9988.HK", "2025-03-03", "2025-03-14")
    stock = bars_from_returns("9988.HK", days, np.full(len(days), 0.01))
    index = bars_from_returns("HSTECH", days, np.full(len(days), 0.01), drop=("2025-03-10",))
    design = build_design(session_returns(stock), session_returns(index), "market", "dimson")
    unusable = days[~design.valid]
    assert list(unusable.strftime("%m-%d")) == ["03-03", "03-10", "03-11"]   # first: no return yet
    assert design.param_names == ("alpha", "beta") and "2025-03-10" in design.notes[0]


def test_dimson_design_for_a_listing_on_another_clock() -> None:
    us = bars_from_returns("BABA", sessions("BABA", "2025-03-03", "2025-03-14"), np.full(10, 0.01))
    hk = bars_from_returns("HSTECH", sessions("HSTECH", "2025-03-03", "2025-03-14"), np.full(10, 0.02))
    design = build_design(session_returns(us), session_returns(hk), "market", "dimson")
    assert design.param_names == ("alpha", "beta_lag", "beta_0", "beta_lead")
    np.testing.assert_allclose(design.X[3], [1.0, 0.02, 0.02, 0.02])
    with pytest.raises(ValueError, match="cross_clock = 'last_close'"):
        build_design(session_returns(us), session_returns(hk), "market_adjusted", "dimson")


# ---------------------------------------------------------------- OLS kernel

def test_constant_mean_fit_and_car_variance_by_hand() -> None:
    # y = 1..6 then event days 10, 20; estimation window = first 6 sessions.
    y = np.array([1, 2, 3, 4, 5, 6, 10, 20], dtype=float)
    X = np.ones((8, 1))
    fits = fit_windows(y, X, np.ones(8, bool), np.array([6]), 6, min_sessions=3)
    assert fits.theta[0, 0] == pytest.approx(3.5)
    assert fits.sigma2[0] == pytest.approx(3.5)                      # var([1..6], ddof=1)
    paths = event_paths(y, X, np.ones(8, bool), np.array([6]), (0, 1), fits)
    np.testing.assert_allclose(paths.ar[0], [6.5, 16.5])
    ws = window_stats(paths, fits, (0, 1), (0, 1))
    # Var(CAR over 2 days) = sigma^2 (L + L^2 / n) = 3.5 * (2 + 4/6)
    assert ws.car[0] == pytest.approx(23.0)
    assert ws.se[0] == pytest.approx(np.sqrt(3.5 * (2 + 4 / 6)))


def test_market_model_recovers_exact_line_and_masks() -> None:
    x = np.array([0.01, -0.02, 0.03, 0.0, 0.015, -0.01, 0.02, 0.005, 0.0])
    noise = np.array([1, -1, 1, -1, 1, -1, 1, -1, 0]) * 1e-3
    y = 0.001 + 1.5 * x + noise
    y[3] = 0.5                                              # an outlier, masked below
    w = np.ones(9, bool)
    w[3] = False
    fits = fit_windows(y, np.column_stack([np.ones(9), x]), w, np.array([8]), 8, min_sessions=5)
    ref = np.linalg.lstsq(np.column_stack([np.ones(7), np.delete(x[:8], 3)]), np.delete(y[:8], 3), rcond=None)[0]
    np.testing.assert_allclose(fits.theta[0], ref, rtol=1e-12)
    assert fits.n[0] == 7 and fits.df[0] == 5 and fits.first[0] == 0 and fits.last[0] == 7
    short = fit_windows(y, np.column_stack([np.ones(9), x]), w, np.array([8]), 8, min_sessions=8)
    assert not short.ok[0] and np.isnan(short.sigma2[0])


# ---------------------------------------------------------------- p-values

def test_placebo_pvalue_counts_as_extreme_two_sided() -> None:
    assert placebo_pvalue(2.0, np.array([-3.0, 1.0, 2.0, 0.5])) == pytest.approx(3 / 5)
    assert placebo_pvalue(-9.0, np.zeros(9)) == pytest.approx(1 / 10)
    assert np.isnan(placebo_pvalue(np.nan, np.zeros(3)))


def test_sq_pvalue_against_residual_sums() -> None:
    resid = np.array([-2.0, -1.0, 0.0, 1.0, 2.0, 3.0])
    np.testing.assert_allclose(rolling_sums(resid, 2), [-3, -1, 1, 3, 5])
    # CAR 4.5 over 2 days: 1 sum (5) at least as large of 5 -> p = 2 * (1 + 1) / 6
    assert sq_pvalue(4.5, resid, 2) == pytest.approx(4 / 6)
    assert sq_pvalue(9.0, resid, 2) == pytest.approx(2 / 6)
    assert sq_pvalue(0.0, resid, 1) == pytest.approx(1.0)
    assert np.isnan(sq_pvalue(1.0, resid[:1], 2))


def test_rank_and_sign_tests() -> None:
    resid = np.linspace(-1, 1, 41)
    assert rank_pvalue(np.array([5.0]), resid) < rank_pvalue(np.array([0.0]), resid)
    assert sign_test(np.array([1.0, 2.0, 3.0]), 0.5) == pytest.approx(0.25)
    assert np.isnan(sign_test(np.array([]), 0.5))


def test_adjust_pvalues_keeps_nan_and_matches_holm_by_hand() -> None:
    out = adjust_pvalues(np.array([0.01, np.nan, 0.04, 0.03]), "holm")
    np.testing.assert_allclose(out[[0, 2, 3]], [0.03, 0.06, 0.06])
    assert np.isnan(out[1])
    bh = adjust_pvalues(np.array([0.01, 0.04, 0.03]), "fdr_bh")
    np.testing.assert_allclose(bh, [0.03, 0.04, 0.04])


def test_correlated_stouffer_does_not_count_twins_twice() -> None:
    t = np.array([2.0, 2.0])
    z_same, _ = correlated_stouffer(t, np.ones((2, 2)))         # perfectly correlated: one piece of evidence
    z_indep, _ = correlated_stouffer(t, np.eye(2))
    assert z_same == pytest.approx(2.0)
    assert z_indep == pytest.approx(4 / np.sqrt(2))
