"""Sweep honesty (issue 13): effective number of trials, PBO coverage and event-time blocks,
walk-forward windows without signal — checked by hand on small return matrices."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtests.sweeps import effective, overfit
from backtests.sweeps.summary import _pbo
from backtests.sweeps.trials import StatsSpec, TrialLog, row_stats


def test_a_mirrored_short_arm_is_the_same_trial() -> None:
    rng = np.random.default_rng(0)
    a = rng.normal(0.001, 0.01, 500)
    b = rng.normal(0.001, 0.01, 500)
    series = np.stack([a, -a, 1.01 * a, b, -b, np.zeros(500)])
    eff = effective.effective_trials(series)
    assert eff.count == 2 and eff.flat == 1
    assert list(eff.labels) == [0, 0, 0, 1, 1, -1]
    # cluster 0 is a (sign-aligned mean of a, -(-a), 1.01 a); cluster 1 is b
    assert eff.sharpes == pytest.approx([overfit.sharpe_per_period(a), overfit.sharpe_per_period(b)])
    # the mirrors make the raw Sharpe ratios bimodal (+-SR): a variance the clusters do not have
    raw = [overfit.sharpe_per_period(r) for r in series[:5]]
    assert np.var(raw, ddof=1) > 5 * np.var(eff.sharpes, ddof=1)


def test_independent_series_are_separate_trials_and_threshold_is_stated() -> None:
    rng = np.random.default_rng(1)
    eff = effective.effective_trials(rng.normal(0, 0.01, (6, 800)))
    assert eff.count == 6
    assert f"|corr| >= {effective.EFFECTIVE_CORRELATION}" in effective.EFFECTIVE_METHOD
    assert effective.effective_trials(np.zeros((3, 10))).count == 0


def test_fewer_effective_trials_deflate_less() -> None:
    rng = np.random.default_rng(2)
    best = rng.normal(0.002, 0.01, 700)
    trials = rng.normal(0.0, 0.04, 4000)
    many = overfit.deflated_sharpe(best, trials, trials=4000).value
    few = overfit.deflated_sharpe(best, trials[:20], trials=20).value
    assert few > many


def test_event_time_keeps_only_invested_sessions_and_blocks_are_counted() -> None:
    r = np.zeros((2, 8))
    r[0, 2], r[1, 5], r[1, 6] = 0.01, -0.02, 0.03
    np.testing.assert_allclose(effective.event_time_returns(r), [[0.01, 0, 0], [0, -0.02, 0.03]])
    sq = overfit.block_stats(r, 4)[1]       # blocks of 2 sessions: session 2 -> block 1, 5 -> block 2, 6 -> block 3
    assert effective.active_blocks(sq) == 3
    sq2 = overfit.block_stats(r[:1], 4)[1]
    assert effective.active_blocks(sq2) == 1


def test_pbo_refuses_when_most_blocks_are_flat_and_offers_event_time() -> None:
    rng = np.random.default_rng(3)
    n, t, blocks = 6, 320, 8
    r = np.zeros((n, t))
    active = rng.choice(t, 60, replace=False)
    active = active[active < t // 4]                      # every trade in the first quarter: 2 of 8 blocks
    r[:, active] = rng.normal(0, 0.01, (n, len(active)))
    log = TrialLog()
    log.add(row_stats(r, StatsSpec(blocks=blocks, folds=0, sessions=t)), np.zeros(n))
    sessions = pd.bdate_range("2024-01-01", periods=t)
    out = _pbo(log, blocks, sessions, n, (r, np.arange(n)))
    assert out["value"] is None and out["blocks_with_returns"] == 2 and "only 2 of 8" in out["reason"]
    assert out["event_time"]["sessions"] == len(np.unique(active)) or out["event_time"]["value"] is None
    dense = rng.normal(0, 0.01, (n, t))
    log = TrialLog()
    log.add(row_stats(dense, StatsSpec(blocks=blocks, folds=0, sessions=t)), np.zeros(n))
    out = _pbo(log, blocks, sessions, n, (dense, np.arange(n)))
    assert 0.0 <= out["value"] <= 1.0 and out["blocks_with_returns"] == blocks
    assert 0.0 <= out["event_time"]["value"] <= 1.0 and out["event_time_pbo"] == out["event_time"]["value"]


def test_walk_forward_reports_no_signal_instead_of_combo_zero() -> None:
    r = np.zeros((3, 40))
    r[1, 25:30] = [0.01, -0.005, 0.02, 0.0, 0.01]
    bounds = overfit.fold_bounds(40, 4)
    sums, sqs = overfit.fold_stats(r, bounds)
    assert overfit.walk_forward_choices(sums, sqs, bounds) == [None, None, 1]


def test_tearsheet_verdict_states_the_dsr_under_each_count_and_event_time_pbo() -> None:
    from backtests.reporting.load import SweepParts
    from backtests.reporting.panels.sweep import verdict, walk_rows

    dsr = {"value": 0.71, "expected_max_sharpe": 0.05, "trials_raw": 4032, "dsr_raw": 0.02, "trials_distinct": 990,
           "dsr_distinct": 0.2, "trials_effective": 37, "dsr_effective": 0.71}
    pbo = {"value": None, "reason": "only 4 of 16 calendar blocks carry any return",
           "event_time": {"value": 0.4, "sessions": 120}}
    raw = {"periods_per_year": 252.0, "distinct_trials": 990,
           "walk_forward": {"folds": [{"fit": ["a", "b"], "test": ["c", "d"], "no_signal": True, "fit_flat": True}]}}
    sw = SweepParts(metric="sharpe", trials=4032, best=(), deflated_sharpe=dsr, pbo=pbo, heatmaps=(), raw=raw)
    text = " ".join(verdict(sw))
    assert "4,032 combinations give a deflated Sharpe ratio of 0.020" in text
    assert "990 distinct return series 0.200, 37 effective trials" in text and "0.710" in text
    assert "event time" in text and "0.400" in text and "not measured — only 4 of 16" in text
    assert "no signal" in walk_rows(raw, [])[0][2].text


def test_distinct_series_come_in_order_of_first_appearance_not_of_their_hash() -> None:
    """Rows 0..4 carry series c, a, c, b, a: the distinct ones are c, a, b (first seen at rows
    0, 1, 3) whatever order their prints sort in, and each row points at its own."""
    from backtests.sweeps.held import HeldRows
    from backtests.sweeps.summary import _distinct_series

    rng = np.random.default_rng(3)
    a, b, c = rng.normal(0, 0.01, (3, 40))
    returns = np.stack([c, a, c, b, a])
    spec = StatsSpec(blocks=4, folds=0, sessions=40)
    log = TrialLog(capacity=5)
    log.add(row_stats(returns, spec), np.zeros(5))
    # prints that sort b < a < c: the hash order is the reverse of the order of appearance
    log.column("prints")[:] = np.array([[3, 0], [2, 0], [3, 0], [1, 0], [2, 0]], dtype=np.uint64)
    rows = HeldRows(5, 40)
    import pyarrow as pa
    rows.add(pa.table({"combo_id": list(range(5))}), returns)
    series, inverse, first = _distinct_series(log, rows, 40)
    assert np.array_equal(series, np.stack([c, a, b]))
    assert list(inverse) == [0, 1, 0, 2, 1] and list(first) == [0, 1, 3]
    # the DSR takes each distinct series' Sharpe ratio from its first row's stats: the same floats
    assert np.array_equal(log.column("sharpe")[first], overfit.sharpe_per_period_rows(series))


def test_effective_sharpe_variance_does_not_depend_on_which_arm_comes_first() -> None:
    """Clusters {a, -a} and {b} with b's Sharpe ratio > 0: listed a-first the clusters' Sharpe
    ratios are (SR_a, SR_b), listed -a-first (-SR_a, SR_b): different sample variances, the same
    mean square — the V[SR] the deflated Sharpe ratio uses."""
    rng = np.random.default_rng(4)
    a = rng.normal(0.002, 0.01, 600)
    b = rng.normal(0.001, 0.01, 600)
    one = effective.effective_trials(np.stack([a, -a, b]))
    two = effective.effective_trials(np.stack([-a, a, b]))
    assert one.count == two.count == 2
    assert one.sharpes == pytest.approx([overfit.sharpe_per_period(a), overfit.sharpe_per_period(b)])
    assert two.sharpes == pytest.approx([-overfit.sharpe_per_period(a), overfit.sharpe_per_period(b)])
    assert abs(np.var(one.sharpes, ddof=1) - np.var(two.sharpes, ddof=1)) > 1e-4
    assert one.sharpe_variance == pytest.approx(two.sharpe_variance, rel=1e-12)
    assert one.sharpe_variance == pytest.approx((overfit.sharpe_per_period(a) ** 2 + overfit.sharpe_per_period(b) ** 2) / 2)
