"""A combination's sweep row depends on that combination only, to the bit.

The kernel evaluates combinations by groups (same listings, portfolio, ...) and marks them a
few rows at a time; the store keys and the distinct-series hashes rely on a row being the
same bytes whichever chunk, group or block it was computed in. Also checked here: the parts
that make it so (sums in time order whatever the number of columns) and the vectorised
drawdown spell against ``backtests.metrics``'s definition.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtests.config import load_config
from backtests.metrics import max_drawdown_spell
from backtests.sweeps import kernel, rowmetrics
from backtests.sweeps.inputs import load_sweep_inputs
from backtests.sweeps.rowmetrics import ROW_METRICS, _drawdown, in_order_sum

REPO = Path(__file__).resolve().parents[1]
GRIDS = {  # config -> grid: several groups (listings), stops, skips, shorts; a hedge (benchmark marks)
    "sweep_alibaba_2025": {"hold_sessions": [1, 5, 13], "notional_per_trade_base": [30_000.0, 400_000.0],
                           "direction": ["long", "short", "expected"], "stop_loss_pct": [None, 0.04],
                           "when_holding": ["stack", "skip"],
                           "strategy.listings": [("9988.HK",), ("BABA",), ("9988.HK", "BABA")]},
    "strategies/benchmark_hedged": {"beta_window_sessions": [20, 60], "min_beta_sessions": [10, 20],
                                    "params": [{"hold_sessions": h} for h in (1, 3, 8)],
                                    "strategy.listings": [("9988.HK",), ("9988.HK", "BABA")]},
}


def _rows(got: tuple[dict[str, np.ndarray], np.ndarray], order: np.ndarray | None = None) -> list[bytes]:
    """Each row's metrics and returns as bytes (rows taken in ``order``)."""
    metrics, returns = got
    idx = np.arange(len(returns)) if order is None else order
    return [b"".join(metrics[k][i].tobytes() for k in ROW_METRICS) + returns[i].tobytes() for i in idx]


@pytest.mark.realdata
@pytest.mark.parametrize("config", list(GRIDS))
def test_a_row_is_the_same_bytes_in_any_batch_and_block(prices_dir: Path, config: str,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    cfg = load_config(REPO / "configs" / f"{config}.toml").with_overrides(data_dir=prices_dir)
    cfg = dataclasses.replace(cfg, start=pd.Timestamp("2024-01-02"), end=pd.Timestamp("2025-12-31"))
    inputs = load_sweep_inputs(cfg, listings=("9988.HK", "BABA"))
    grid = GRIDS[config]
    plans = [inputs.plan(dict(zip(grid, values))) for values in itertools.product(*grid.values())]
    assert all(kernel.unsupported(inputs, p) is None for p in plans)
    whole = _rows(kernel.evaluate(inputs, plans))
    assert len(set(whole)) >= len(plans) // 2  # not a grid of identical rows

    rng = np.random.default_rng(0)
    shuffled = rng.permutation(len(plans))
    cuts = [0, 7, 8, 40, len(plans)]  # uneven batches, one of a single plan
    batched: dict[int, bytes] = {}
    for a, b in zip(cuts[:-1], cuts[1:]):
        part = shuffled[a:b]
        batched.update(zip(part.tolist(), _rows(kernel.evaluate(inputs, [plans[i] for i in part]))))
    assert [batched[i] for i in range(len(plans))] == whole

    for i in rng.choice(len(plans), size=4, replace=False):  # alone
        assert _rows(kernel.evaluate(inputs, [plans[i]])) == [whole[i]]

    for size, columns in ((1, 2), (1 << 30, 1 << 30)):  # the fewest rows per block; one block for everything
        monkeypatch.setattr(kernel, "BLOCK_BYTES", size)
        monkeypatch.setattr(rowmetrics, "MOMENT_COLUMNS", columns)
        assert _rows(kernel.evaluate(inputs, plans)) == whole


@pytest.mark.parametrize("width", [1, 2, 3, 17])
def test_column_sums_run_in_time_order_whatever_the_width(width: int) -> None:
    rng = np.random.default_rng(width)
    x = rng.normal(size=(300, width)) * 10.0 ** rng.integers(-8, 9, size=(300, width))
    expected = []
    for col in x.T:
        total = col[0]
        for v in col[1:]:
            total = total + v  # left to right, as a loop over sessions would
        expected.append(total)
    assert in_order_sum(np.ascontiguousarray(x)).tolist() == expected
    pairwise = np.add.reduce(np.ascontiguousarray(x.T), axis=1)
    assert width == 1 or not np.array_equal(pairwise, expected)  # the data tell the orders apart


def test_drawdown_spell_equals_the_engine_definition() -> None:
    rng = np.random.default_rng(5)
    rows = [rng.normal(0, 0.02, 60) * (rng.random(60) < 0.4) for _ in range(40)]  # flat spells, ties
    rows += [np.zeros(60), np.full(60, 0.01), np.r_[-0.1, np.zeros(59)],  # no trade, only up, first-day loss
             np.r_[0.1, -0.2, 0.125, np.zeros(57)],  # back exactly at the peak? (1.1 * 0.8 * 1.125 = 0.99)
             np.r_[0.1, -0.5, 1.0, -0.1, np.zeros(56)]]  # back above the peak, then down again
    r = np.ascontiguousarray(rows)
    mdd, duration, growth = _drawdown(np.ascontiguousarray(r.T))
    for i, row in enumerate(r):
        spell = max_drawdown_spell(row)
        assert (mdd[i], duration[i]) == (spell.max_drawdown, spell.duration_sessions), i
        assert growth[i] == np.prod(1.0 + row)
        alone = _drawdown(row[:, None])  # compounded over its own sessions with a return only
        assert (alone[0][0], alone[1][0], alone[2][0]) == (mdd[i], duration[i], growth[i]), i
    assert (mdd[-1], duration[-1]) == (-0.5, 2.0)  # peak 1.1 at 1, trough 0.55 at 2, back (1.1) at 3


def test_fingerprints_tell_rows_apart_to_the_bit_and_ignore_the_batch() -> None:
    from backtests.sweeps.trials import fingerprints

    rng = np.random.default_rng(3)
    base = rng.normal(0, 0.01, 200)
    rows = [base, base.copy(), -base, np.zeros(200), -np.zeros(200)]
    for bit in (0, 31, 32, 52, 63):  # one bit of one return flipped: low/high word, mantissa, sign
        flipped = base.copy()
        flipped.view(np.uint64)[17] ^= np.uint64(1) << np.uint64(bit)
        rows.append(flipped)
    r = np.ascontiguousarray(rows)
    prints = fingerprints(r)
    assert prints.shape == (len(rows), 2) and prints.dtype == np.uint64
    assert (prints[0] == prints[1]).all()
    assert len({tuple(p) for p in prints.tolist()}) == len(rows) - 1  # only the copy repeats
    assert np.array_equal(np.concatenate([fingerprints(r[:3]), fingerprints(r[3:])]), prints)
