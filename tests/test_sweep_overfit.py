"""Deflated Sharpe ratio and CSCV probability of backtest overfitting: hand-checkable cases
and the properties the papers state."""

from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import stats

from backtests.sweeps import overfit


def test_expected_max_sharpe_matches_the_formula_by_hand() -> None:
    # N = 100 trials, V[SR] = 0.04: sqrt(V) * ((1-g) * z(1 - 1/100) + g * z(1 - 1/(100 e)))
    g = 0.5772156649015329
    by_hand = 0.2 * ((1 - g) * stats.norm.ppf(0.99) + g * stats.norm.ppf(1 - 1 / (100 * math.e)))
    assert overfit.expected_max_sharpe(100, 0.04) == pytest.approx(by_hand, rel=1e-12)
    assert overfit.expected_max_sharpe(1, 0.04) == 0.0        # one trial: nothing to deflate
    assert overfit.expected_max_sharpe(100, 0.0) == 0.0       # identical trials: no luck spread


def test_deflated_sharpe_of_a_two_valued_series_by_hand() -> None:
    # returns: 0.02 four times, -0.01 once -> mean 0.014, std(ddof=1) = sqrt(0.00018) ...
    r = np.array([0.02, 0.02, 0.02, 0.02, -0.01])
    mean, sd = 0.014, math.sqrt(((0.006 ** 2) * 4 + 0.024 ** 2) / 4)
    sr = mean / sd
    m2 = ((0.006 ** 2) * 4 + 0.024 ** 2) / 5
    skew = ((0.006 ** 3) * 4 + (-0.024) ** 3) / 5 / m2 ** 1.5
    kurt = ((0.006 ** 4) * 4 + 0.024 ** 4) / 5 / m2 ** 2
    trials = np.array([0.1, 0.3, 0.5])                        # variance 0.04
    sr0 = overfit.expected_max_sharpe(3, 0.04)
    psr = stats.norm.cdf((sr - sr0) * math.sqrt(4) / math.sqrt(1 - skew * sr + (kurt - 1) / 4 * sr ** 2))
    got = overfit.deflated_sharpe(r, trials)
    assert got.sharpe == pytest.approx(sr, rel=1e-12)
    assert got.skewness == pytest.approx(skew, rel=1e-9)
    assert got.kurtosis == pytest.approx(kurt, rel=1e-9)
    assert got.sharpe_variance == pytest.approx(0.04, rel=1e-12)
    assert got.expected_max_sharpe == pytest.approx(sr0, rel=1e-12)
    assert got.value == pytest.approx(psr, rel=1e-12)
    assert got.trials == 3 and got.observations == 5


def test_more_trials_deflate_more() -> None:
    rng = np.random.default_rng(0)
    best = rng.normal(0.001, 0.01, 500)
    spread = rng.normal(0.0, 0.05, 1000)
    values = [overfit.deflated_sharpe(best, spread[:n]).value for n in (2, 10, 100, 1000)]
    assert values == sorted(values, reverse=True) and values[0] > values[-1]


def test_one_trial_is_the_probabilistic_sharpe_against_zero() -> None:
    rng = np.random.default_rng(1)
    r = rng.normal(0.002, 0.01, 250)
    got = overfit.deflated_sharpe(r, np.array([0.2]))
    assert got.expected_max_sharpe == 0.0
    assert got.value == pytest.approx(overfit.probabilistic_sharpe(got.sharpe, 0.0, 250, got.skewness, got.kurtosis))


def test_pbo_by_hand_with_two_blocks() -> None:
    # S = 2 blocks of 2 sessions -> 2 splits. Strategy A wins block 0 and loses block 1;
    # B is the mirror image; C is mediocre in both.
    a = [0.02, 0.01, -0.02, -0.01]
    b = [-0.02, -0.01, 0.02, 0.01]
    c = [0.001, 0.003, 0.001, 0.003]
    got = overfit.pbo_from_returns(np.array([a, b, c]), blocks=2)
    # Sharpe of two returns x, y = mean / std = ((x+y)/2) / (|x-y|/sqrt 2):
    # block 0: A 0.015/0.00707 = 2.12, B -2.12, C 0.002/0.00141 = 1.41 -> A is the in-sample best;
    # block 1: A -2.12, B 2.12, C 1.41 -> A ranks 1 of 3: w = 1/4, logit log(1/3) < 0.
    # The other split is the mirror image (B best in-sample, last out of sample). PBO = 1.
    assert got.splits == 2 and got.value == 1.0
    assert got.logit_mean == pytest.approx(math.log(0.25 / 0.75))
    assert got.prob_oos_loss == 1.0
    assert got.degradation_intercept == pytest.approx(-0.015 / (0.01 / math.sqrt(2)))  # OOS Sharpe -2.12


def test_pbo_of_pure_noise_is_near_one_half() -> None:
    rng = np.random.default_rng(7)
    values = [overfit.pbo_from_returns(rng.normal(0, 0.01, (40, 640)), blocks=16).value for _ in range(3)]
    assert 0.35 <= float(np.mean(values)) <= 0.65


def test_pbo_with_one_true_edge_is_low() -> None:
    rng = np.random.default_rng(8)
    noise = rng.normal(0, 0.01, (40, 640))
    noise[17] += 0.004  # a Sharpe of ~0.4 a session: in-sample best and out-of-sample best almost always
    got = overfit.pbo_from_returns(noise, blocks=16)
    assert got.value < 0.05
    assert got.prob_oos_loss < 0.05


def test_pbo_does_not_depend_on_the_order_or_on_duplicates() -> None:
    rng = np.random.default_rng(9)
    r = rng.normal(0, 0.01, (12, 160))
    r[3] = 0.0          # flat strategies tie in-sample whenever the others all lose
    r[4] = 0.0
    base = overfit.pbo_from_returns(r, blocks=8)
    shuffled = overfit.pbo_from_returns(r[rng.permutation(12)], blocks=8)
    assert shuffled.value == pytest.approx(base.value, abs=1e-12)
    assert shuffled.logit_mean == pytest.approx(base.logit_mean, abs=1e-12)


def test_pbo_matches_a_direct_implementation_on_small_random_data() -> None:
    """The optimised CSCV (subset sums, paired splits, deduplication) against the textbook loop."""
    rng = np.random.default_rng(10)
    r = rng.normal(0.0005, 0.01, (9, 120))
    r[5] = r[2]          # a duplicate
    s = 6
    size = 120 // s
    blocks = [r[:, i * size:(i + 1) * size] for i in range(s)]
    lam = []
    for chosen in itertools.combinations(range(s), s // 2):
        ins = np.concatenate([blocks[i] for i in chosen], axis=1)
        oos = np.concatenate([blocks[i] for i in range(s) if i not in chosen], axis=1)
        sr_in = ins.mean(axis=1) / ins.std(axis=1, ddof=1)
        sr_out = oos.mean(axis=1) / oos.std(axis=1, ddof=1)
        best = int(np.argmax(sr_in))
        rank = stats.rankdata(sr_out)[best]
        w = rank / (len(r) + 1)
        lam.append(math.log(w / (1 - w)))
    got = overfit.pbo_from_returns(r, blocks=s)
    assert got.splits == math.comb(s, s // 2)
    assert got.value == pytest.approx(np.mean(np.array(lam) <= 0))
    assert got.logit_mean == pytest.approx(np.mean(lam), rel=1e-9)


def test_walk_forward_picks_the_best_fit_window_sharpe() -> None:
    r = np.zeros((3, 30))
    r[0, :10] = [0.01, -0.005] * 5      # best in window 0
    r[1, 10:20] = [0.02, -0.001] * 5    # best in window 1
    r[2, 20:] = [0.01, 0.0] * 5
    bounds = overfit.fold_bounds(30, 3)
    assert bounds == [(0, 10), (10, 20), (20, 30)]
    sums, sqs = overfit.fold_stats(r, bounds)
    assert overfit.walk_forward_choices(sums, sqs, bounds) == [0, 1]


def test_cscv_refuses_odd_blocks_and_single_strategies() -> None:
    with pytest.raises(ValueError, match="even"):
        overfit.pbo_from_returns(np.zeros((3, 30)), blocks=3)
    with pytest.raises(ValueError, match="at least 2"):
        overfit.pbo_from_returns(np.zeros((1, 30)), blocks=2)
