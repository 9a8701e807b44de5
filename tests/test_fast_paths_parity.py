"""Every library strategy's fast path against the backtrader engine on the real prices.

For each strategy a seeded random sample of combinations (its parameters, slippage,
listing and catalyst subsets; hedged runs wrapping each strategy) runs through both
:func:`backtests.engine.run_backtest` and the fast path. Trade lists must be identical
(hedge legs included: catalyst, role, listing, direction, quantity, sessions, points,
prices, exit reason), costs and P&L equal to 1e-9, and every sweep metric equal to the
engine's (final equity within 1e-9 relative). ``tests/test_sweep_parity.py`` does the same
for PostEventDrift's stops, skips and directions in depth.
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
from backtests.sweeps.inputs import load_sweep_inputs
from backtests.sweeps.rowmetrics import ROW_METRICS
from backtests.sweeps.space import SweepSpaceError

REPO = Path(__file__).resolve().parents[1]
LISTINGS = [("9988.HK",), ("BABA",), ("9988.HK", "BABA")]
ONLY = [(), ("qwen25max", "apple_report", "earnings_fy25q3", "capex_380b", "deepseek_r1")]
SPACES: dict[str, dict[str, list]] = {
    "event_fade": {
        "threshold": [0.005, 0.01, 0.02, 0.04], "hold_sessions": [1, 2, 3, 5, 8],
        "notional_per_trade_base": [30_000.0, 200_000.0], "kinds": [(), ("product",)],
        "stop_loss_pct": [None, 0.02, 0.05], "portfolio.slippage_bps": [0.0, 12.5],
        "strategy.listings": LISTINGS, "events.only": ONLY},
    "pre_event_run_up": {
        "enter_sessions_before": [1, 2, 3, 5], "exit_sessions_after": [0, 1, 2], "exit_point": ["open", "close"],
        "notional_per_trade_base": [30_000.0, 200_000.0], "direction": ["long", "short", "expected"],
        "kinds": [(), ("earnings",)], "portfolio.slippage_bps": [0.0, 12.5], "strategy.listings": LISTINGS},
    "cross_listing_lead_lag": {
        "min_gap": [0.002, 0.01, 0.03], "notional_per_gap_base": [1e6, 5e6, 2e7],
        "max_notional_base": [100_000.0, 400_000.0], "hold_sessions": [1, 3, 5], "stop_loss_pct": [None, 0.03],
        "portfolio.slippage_bps": [0.0, 12.5], "strategy.listings": [("9988.HK", "BABA")],
        "events.only": ONLY},
    "buy_and_hold": {
        "instrument": ["listings", "benchmark"], "fraction_of_cash": [0.3, 0.95],
        "portfolio.slippage_bps": [0.0, 12.5], "strategy.listings": LISTINGS},
    "narrative_basket": {
        "hold_sessions": [1, 3, 5, 8], "notional_per_catalyst_base": [350_000.0, 1_400_000.0],
        "direction": ["long", "short", "expected"], "catalysts": [(), ("deepseek_r1", "qwen25max", "capex_380b")],
        "hedge": [False, True], "portfolio.slippage_bps": [0.0, 12.5],
        "strategy.listings": [("9988.HK", "0700.HK", "1810.HK", "3690.HK"), ("9988.HK", "0700.HK")]},
    "benchmark_hedged": {
        "strategy": ["post_event_drift", "event_fade", "pre_event_run_up", "cross_listing_lead_lag"],
        "beta_window_sessions": [20, 60], "min_beta_sessions": [10, 20],
        "portfolio.slippage_bps": [0.0, 12.5], "strategy.listings": LISTINGS},
}
INNER = {"post_event_drift": {"hold_sessions": 3, "stop_loss_pct": 0.03, "direction": "expected"},
         "event_fade": {"threshold": 0.01, "hold_sessions": 2},
         "pre_event_run_up": {"enter_sessions_before": 2, "exit_sessions_after": 1, "exit_point": "open"},
         "cross_listing_lead_lag": {"min_gap": 0.002}}
CONFIGS = {"event_fade": "event_fade", "pre_event_run_up": "pre_event_run_up",
           "cross_listing_lead_lag": "cross_listing_lead_lag", "buy_and_hold": "buy_and_hold_stocks",
           "benchmark_hedged": "benchmark_hedged", "narrative_basket": "narrative_basket"}
COMPARED = ["catalyst_id", "role", "listing", "direction", "quantity", "status", "entry_session", "entry_point",
            "entry_price", "exit_session", "exit_point", "exit_price", "exit_reason"]
SAMPLE = 6


def _inputs(prices_dir: Path, strategy: str, **portfolio: object):
    cfg = load_config(REPO / "configs" / "strategies" / f"{CONFIGS[strategy]}.toml").with_overrides(data_dir=prices_dir)
    cfg = dataclasses.replace(cfg, start=pd.Timestamp("2024-01-02"), end=pd.Timestamp("2025-12-31"))
    if "fill_policy" in portfolio:
        cfg = dataclasses.replace(cfg, events=dataclasses.replace(cfg.events, fill_policy=portfolio.pop("fill_policy")))
    cfg = dataclasses.replace(cfg, portfolio=dataclasses.replace(cfg.portfolio, **portfolio))
    listings = cfg.strategy.listings if strategy == "narrative_basket" else ("9988.HK", "BABA")
    return load_sweep_inputs(cfg, listings=tuple(listings))


def _sample(strategy: str, seed: int, inputs) -> list[tuple[dict, object]]:
    space = SPACES[strategy]
    every = list(itertools.product(*space.values()))
    rng = np.random.default_rng(seed)
    out = []
    for i in rng.permutation(len(every)):
        combo = dict(zip(space, every[int(i)]))
        if inputs.cfg.portfolio.base_currency == "USD" and combo.get("strategy.listings") == ("BABA",) and (
                strategy == "benchmark_hedged" or combo.get("instrument") == "benchmark"):
            continue  # the engine refuses these (see the last test)
        if strategy == "benchmark_hedged":
            combo["params"] = INNER[combo["strategy"]]
        try:
            out.append((combo, inputs.plan(combo)))
        except SweepSpaceError:
            continue  # a combination the strategy refuses (e.g. exit at day 0's open)
        if len(out) == SAMPLE:
            break
    return out


def _close(a: float, b: float, rel: float = 1e-9) -> bool:
    return (np.isnan(a) and np.isnan(b)) or abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def check_parity(inputs, pairs) -> tuple[int, set[str]]:
    """Assert the fast path equals the engine on every (combo, plan); return the number of trades
    compared and their roles."""
    plans = [p for _, p in pairs]
    assert all(kernel.unsupported(inputs, p) is None for p in plans), [kernel.unsupported(inputs, p) for p in plans]
    got, _ = kernel.evaluate(inputs, plans)
    traded, roles = 0, set()
    for i, (combo, plan) in enumerate(pairs):
        result = run_engine(inputs, plan)
        expected = result.trades.reset_index(drop=True)
        mine = kernel.trades(inputs, plan)
        traded += len(expected)
        roles |= set(expected["role"])
        where = f"combination {combo}"
        pd.testing.assert_frame_equal(mine[COMPARED], expected[COMPARED], check_dtype=False, check_exact=True, obj=where)
        for col in ("costs_local", "net_pnl_base"):
            np.testing.assert_allclose(mine[col].astype(float), expected[col].astype(float), rtol=1e-9, atol=1e-6,
                                       err_msg=f"{where}: {col}")
        final = result.summary["final_equity_base"]
        assert abs(got["final_equity_base"][i] - final) <= 1e-9 * abs(final), where
        engine_row, _ = result_metrics(inputs, result, plan.portfolio.initial_cash_base)
        for key in ROW_METRICS:
            assert _close(got[key][i], engine_row[key][0]), f"{where}: {key} {got[key][i]} vs {engine_row[key][0]}"
    return traded, roles


@pytest.mark.realdata
@pytest.mark.parametrize("strategy", list(SPACES))
@pytest.mark.parametrize("setup", [
    {"seed": 1},
    {"seed": 2, "fill_policy": "same_close", "base_currency": "USD", "initial_cash_base": 150_000.0,
     "allow_short": False},
], ids=["next_open-HKD", "same_close-USD-no-shorts"])
def test_fast_path_matches_engine_on_real_data(prices_dir: Path, strategy: str, setup: dict) -> None:
    setup = dict(setup)
    seed = setup.pop("seed")
    if strategy == "cross_listing_lead_lag":
        setup.pop("fill_policy", None)  # at the reaction close a listing has always reacted: no trades
    inputs = _inputs(prices_dir, strategy, **setup)
    traded, roles = check_parity(inputs, _sample(strategy, seed, inputs))
    assert traded > 0  # the sample is not vacuous
    assert strategy != "benchmark_hedged" or "hedge" in roles


@pytest.mark.realdata
def test_runs_the_engine_refuses_fall_back_and_say_why(prices_dir: Path) -> None:
    """Holding HSTECH in a USD portfolio of BABA alone: the engine gets no FX and refuses; the
    fast path does not answer in its place."""
    inputs = _inputs(prices_dir, "buy_and_hold", base_currency="USD", initial_cash_base=150_000.0)
    plan = inputs.plan({"instrument": "benchmark", "strategy.listings": ("BABA",)})
    assert kernel.unsupported(inputs, plan) == "HSTECH (HKD) held in a USD portfolio of USD listings only"
    assert kernel.unsupported(inputs, inputs.plan({"strategy.listings": ("BABA",)})) is None
