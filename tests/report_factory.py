"""Results folders for the tearsheet tests: a real (synthetic-market) run and study, and a
hand-made sweep folder following the sweep's output contract."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from backtests.config import load_config
from backtests.runner import run_config

REPO = Path(__file__).resolve().parents[1]
DEMO_CONFIG = REPO / "backtests" / "data" / "demo.toml"
STARRED = ("qwen25max", "apple_report", "earnings_fy25q3", "capex_380b")

# `catalyst-bt study` on the synthetic market, small enough for tests (1000 placebo draws).
STUDY_TOML = """
[run]
name = "demo-study"
start = "2024-10-01"
end = "2025-10-31"
[data]
source = "synthetic"
seed = 7
benchmark = "HSTECH"
[events]
calendar = "alibaba_2025"
[study]
placebo_draws = 1000
start = "2024-01-02"
end = "2025-10-31"
"""


def demo_run(out: Path) -> Path:
    """The synthetic demo config run into ``out`` (every file ``catalyst-bt run`` writes)."""
    run_config(load_config(DEMO_CONFIG), out_dir=out)
    return out


def write_sweep_fixture(out: Path) -> Path:
    """A ``sweep_summary.json`` with two heatmap CSVs, as the sweep helper's contract says."""
    out.mkdir(parents=True, exist_ok=True)
    holds = [1, 3, 5, 10]
    stops = [0.02, 0.05, 0.1]
    sharpe = pd.DataFrame([[round(0.2 * h - 3 * s + 0.1 * i, 4) for h in holds] for i, s in enumerate(stops)],
                          index=pd.Index(stops, name="stop_loss"), columns=[str(h) for h in holds])
    sharpe.to_csv(out / "heatmap_hold_sessions__stop_loss.csv", lineterminator="\n")
    ret = sharpe / 10
    ret.to_csv(out / "heatmap_hold_sessions__notional.csv", lineterminator="\n")
    doc = {
        "metric": "sharpe_ratio", "trials": 12,
        "best": [{"params": {"hold_sessions": 10, "stop_loss": 0.1},
                  "metrics": {"sharpe_ratio": 1.9, "total_return": 0.31, "max_drawdown": -0.08}},
                 {"params": {"hold_sessions": 5, "stop_loss": 0.1},
                  "metrics": {"sharpe_ratio": 0.9, "total_return": 0.12, "max_drawdown": -0.11}}],
        "deflated_sharpe": {"value": 0.4321, "trials": 12, "sr_benchmark": 0.8},
        "pbo": {"value": 0.375, "splits": 16},
        "heatmaps": [{"x": "hold_sessions", "y": "stop_loss", "metric": "sharpe_ratio",
                      "file": "heatmap_hold_sessions__stop_loss.csv"},
                     {"x": "hold_sessions", "y": "notional", "metric": "total_return",
                      "file": "heatmap_hold_sessions__notional.csv"}],
    }
    (out / "sweep_summary.json").write_text(json.dumps(doc, indent=1) + "\n")
    return out


SWEEP_TOML = """
[run]
name = "report-sweep"
start = "2024-10-01"
end = "2025-10-31"
[data]
source = "synthetic"
seed = 7
benchmark = "HSTECH"
[events]
calendar = "alibaba_2025"
[portfolio]
base_currency = "HKD"
initial_cash = 1000000
[strategy]
name = "post_event_drift"
listings = ["9988.HK", "BABA"]
[strategy.params]
hold_sessions = 5
notional_per_trade_base = 200000
[sweep]
metric = "sharpe"
workers = 1
pbo_blocks = 8
walk_forward_folds = 3
heatmaps = [["hold_sessions", "direction"], ["strategy.listings", "events.only"]]
[sweep.grid]
hold_sessions = [1, 3, 5, 10]
direction = ["long", "short", "expected"]
stop_loss_pct = ["off", 0.05]
"strategy.listings" = [["9988.HK"], ["9988.HK", "BABA"]]
"events.only" = [[], ["qwen25max", "apple_report", "earnings_fy25q3", "capex_380b"]]
"""


def real_sweep(out: Path) -> Path:
    """``catalyst-bt sweep`` on the synthetic market (96 combinations, a few seconds) into ``out``."""
    from cli_runner import run_cli

    out.mkdir(parents=True, exist_ok=True)
    cfg = out.parent / f"{out.name}-sweep.toml"
    cfg.write_text(SWEEP_TOML)
    assert run_cli(["sweep", str(cfg), "--out", str(out), "--no-progress"]) == 0
    return out
