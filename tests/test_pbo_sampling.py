"""CSCV above a size samples its splits (issue 15): seeded, stated, and close to the full answer."""

from __future__ import annotations

import numpy as np

from backtests.sweeps import overfit


def _stats(seed: int) -> tuple[np.ndarray, np.ndarray, int]:
    rng = np.random.default_rng(seed)
    returns = rng.normal(0.0, 0.01, size=(60, 16 * 12))
    returns[:5] += 0.0015  # a few real edges
    sums, sqs = overfit.block_stats(returns, 16)
    return sums, sqs, 12


def test_sampled_pbo_is_seeded_stated_and_near_the_full_one() -> None:
    sums, sqs, size = _stats(3)
    full = overfit.pbo_cscv(sums, sqs, size)
    a = overfit.pbo_cscv(sums, sqs, size, max_splits=2000, seed=0)
    b = overfit.pbo_cscv(sums, sqs, size, max_splits=2000, seed=0)
    assert full.splits == full.splits_possible == 12_870 and full.sampling == "all splits"
    assert a == b  # seeded: same bytes every time
    assert a.splits == 2000 and a.splits_possible == 12_870
    assert a.sampling.startswith("2,000 of 12,870 splits drawn at random (seed 0")
    assert abs(a.value - full.value) <= 0.05 and abs(a.logit_mean - full.logit_mean) <= 0.2


def test_small_cscv_uses_every_split() -> None:
    sums, sqs, size = _stats(4)
    got = overfit.pbo_cscv(sums[:, :8], sqs[:, :8], size, max_splits=2000)
    assert got.splits == got.splits_possible == 70 and got.sampling == "all splits"


def test_pbo_does_not_depend_on_how_its_splits_are_batched() -> None:
    """The batch (bounded by memory, so it shrinks as the sweep grows) is an implementation
    detail: every figure, to the last bit, is the same for any batch size."""
    sums, sqs, size = _stats(5)
    results = {overfit.pbo_cscv(sums, sqs, size, batch=b, max_splits=2000, seed=1) for b in (1, 7, 16, 1024)}
    assert len(results) == 1
