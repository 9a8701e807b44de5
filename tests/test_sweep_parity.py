"""The sweep kernel against the backtrader engine on the real prices: same trades, same equity.

A seeded random sample of PostEventDrift combinations (hold, size, direction incl.
``expected``, kinds, when_holding, stop-loss / take-profit / trailing stop, slippage,
listing and catalyst subsets) runs through both :func:`backtests.engine.run_backtest` and
the vectorised kernel. Trade lists must be identical (catalyst, listing, direction,
quantity, sessions, points, prices, exit reason), costs and P&L equal to 1e-9, final equity
within 1e-9 relative, and every sweep metric equal to the engine summary's.
"""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtests.config import load_config
from backtests.sweeps import kernel
from backtests.sweeps.evaluate import result_metrics, run_engine
from backtests.sweeps.inputs import SweepInputs, load_sweep_inputs
from backtests.sweeps.rowmetrics import ROW_METRICS

REPO = Path(__file__).resolve().parents[1]
CONFIG = REPO / "configs" / "sweep_alibaba_2025.toml"
SPACE = {
    "hold_sessions": [1, 2, 3, 5, 8, 13, 25],
    "notional_per_trade_base": [30_000.0, 120_000.0, 400_000.0],
    "direction": ["long", "short", "expected"],
    "kinds": [(), ("product",), ("capex", "earnings", "partnership")],
    "when_holding": ["stack", "skip"],
    "stop_loss_pct": [None, 0.02, 0.06],
    "take_profit_pct": [None, 0.04, 0.15],
    "trailing_stop_pct": [None, 0.03, 0.08],
    "portfolio.slippage_bps": [0.0, 12.5],
    "strategy.listings": [("9988.HK",), ("BABA",), ("9988.HK", "BABA")],
    "events.only": [(), ("qwen25max", "apple_report", "capex_380b", "deepseek_r1", "qwen3max_capex_up")],
}
TRADE_COLUMNS = ["catalyst_id", "listing", "direction", "quantity", "status", "entry_session", "entry_point",
                 "entry_price", "exit_session", "exit_point", "exit_price", "exit_reason"]
SAMPLE = 14


def _inputs(prices_dir: Path, **changes: object) -> SweepInputs:
    cfg = load_config(CONFIG).with_overrides(data_dir=prices_dir)
    cfg = dataclasses.replace(cfg, start=pd.Timestamp("2024-01-02"), end=pd.Timestamp("2025-12-31"))
    if "fill_policy" in changes:
        cfg = dataclasses.replace(cfg, events=dataclasses.replace(cfg.events, fill_policy=changes.pop("fill_policy")))
    if changes:
        cfg = dataclasses.replace(cfg, portfolio=dataclasses.replace(cfg.portfolio, **changes))
    return load_sweep_inputs(cfg, listings=("9988.HK", "BABA"))


def _sample(seed: int) -> list[dict]:
    names = list(SPACE)
    every = list(itertools.product(*SPACE.values()))
    rng = np.random.default_rng(seed)
    picks = rng.choice(len(every), size=SAMPLE, replace=False)
    return [dict(zip(names, every[i])) for i in sorted(picks)]


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    if np.isnan(a) and np.isnan(b):
        return True
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


@pytest.mark.realdata
@pytest.mark.parametrize("setup", [
    {"seed": 11},
    {"seed": 12, "fill_policy": "same_close", "base_currency": "USD", "initial_cash_base": 150_000.0,
     "allow_short": False},
], ids=["next_open-HKD", "same_close-USD-no-shorts"])
def test_kernel_matches_engine_on_real_data(prices_dir: Path, setup: dict) -> None:
    setup = dict(setup)
    combos = _sample(setup.pop("seed"))
    inputs = _inputs(prices_dir, **setup)
    plans = [inputs.plan(c) for c in combos]
    assert all(kernel.unsupported(inputs, p) is None for p in plans)
    got, _ = kernel.evaluate(inputs, plans)
    traded = 0
    for i, (combo, plan) in enumerate(zip(combos, plans)):
        result = run_engine(inputs, plan)
        expected = result.trades[result.trades["role"] == "trade"].reset_index(drop=True)
        mine = kernel.trades(inputs, plan)
        traded += len(expected)
        where = f"combination {combo}"
        pd.testing.assert_frame_equal(mine[TRADE_COLUMNS], expected[TRADE_COLUMNS], check_dtype=False,
                                      check_exact=True, obj=where)
        np.testing.assert_allclose(mine["costs_local"].astype(float), expected["costs_local"].astype(float), rtol=1e-12, atol=1e-9, err_msg=where)
        np.testing.assert_allclose(mine["net_pnl_base"].astype(float), expected["net_pnl_base"].astype(float), rtol=1e-9, atol=1e-6,
                                   err_msg=where)
        final = result.summary["final_equity_base"]
        assert abs(got["final_equity_base"][i] - final) <= 1e-9 * abs(final), where
        engine_row, _ = result_metrics(inputs, result, plan.portfolio.initial_cash_base)
        for key in ROW_METRICS:
            assert _close(got[key][i], engine_row[key][0]), f"{where}: {key} {got[key][i]} vs {engine_row[key][0]}"
        for key, value in result.summary["metrics"].items():
            if key in got:
                assert _close(got[key][i], value), f"{where}: metrics.{key} {got[key][i]} vs engine {value}"
        for key in ("costs_base", "min_cash_base", "max_positions_to_equity"):
            assert _close(got[key][i], result.summary[key]), f"{where}: {key}"
    assert traded > 0  # the sample is not vacuous


@pytest.mark.realdata
def test_the_sample_exercises_stops_skips_and_shorts(prices_dir: Path) -> None:
    """Guard against a parity sample that never meets the rules it is meant to check."""
    inputs = _inputs(prices_dir)
    reasons: set[str] = set()
    directions: set[int] = set()
    for combo in _sample(11) + _sample(12):
        trades = kernel.trades(inputs, inputs.plan(combo))
        reasons |= {r.split()[0] for r in trades["exit_reason"]}
        directions |= set(trades["direction"])
    assert {"held", "stop_loss", "take_profit", "trailing_stop"} <= reasons
    assert directions == {1, -1}
