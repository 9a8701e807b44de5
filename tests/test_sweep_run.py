"""Sweeps end to end on the seeded synthetic market (offline): outputs, determinism, resume,
fallback to backtrader, errors a user can act on, and the CLI."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtests.cli import main
from backtests.config import ConfigError, RunConfig, load_config
from backtests.sweeps import RandomSearch, SweepSpaceError, SweepSpec, run_sweep, sweep
from backtests.sweeps.rowmetrics import ROW_METRICS
from strategies.post_event_drift import PostEventDrift, PostEventDriftParams
from strategies.registry import STRATEGIES, StrategyEntry

BASE_TOML = """
[run]
name = "sweep-test"
start = "2025-01-02"
end = "{end}"

[data]
source = "synthetic"
seed = 7
benchmark = "HSTECH"

[events]
calendar = "alibaba_2025"
fill_policy = "next_open"

[portfolio]
base_currency = "HKD"
initial_cash = 1000000
slippage_bps = 5

[strategy]
name = "{strategy}"
listings = ["9988.HK", "BABA"]

[strategy.params]
{params}
"""
GRID = {"hold_sessions": [1, 3, 8], "direction": ["long", "short"], "stop_loss_pct": [None, 0.04],
        "strategy.listings": [["9988.HK"], ["9988.HK", "BABA"]]}


def synthetic_config(tmp_path: Path, *, sweep_toml: str = "", end: str = "2025-06-30",
                     strategy: str = "post_event_drift", params: str = "hold_sessions = 5\nnotional_per_trade_base = 200000"
                     ) -> RunConfig:
    """A config on the synthetic market (optionally with a [sweep] section), written to ``tmp_path``."""
    path = tmp_path / "sweep.toml"
    path.write_text(BASE_TOML.format(end=end, strategy=strategy, params=params) + sweep_toml)
    return load_config(path)


def spec(cfg: RunConfig, out: Path, **kw: object) -> SweepSpec:
    return SweepSpec(config=cfg, out_dir=out, progress=False, **{"workers": 1, "chunk_size": 7, **kw})


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> tuple[RunConfig, Path, pd.DataFrame]:
    tmp = tmp_path_factory.mktemp("sweep")
    cfg = synthetic_config(tmp)
    out = tmp / "out"
    table = sweep(spec(cfg, out, pbo_blocks=8), GRID)
    return cfg, out, table


def test_table_has_one_row_per_combination_in_canonical_order(base) -> None:
    _, _, table = base
    assert len(table) == math.prod(len(v) for v in GRID.values())
    assert list(table["combo_id"]) == list(range(len(table)))
    # the grid's first dimension varies slowest, the last fastest
    assert list(table["hold_sessions"][:8]) == [1] * 8
    assert list(table["strategy.listings"][:2]) == ["9988.HK", "9988.HK+BABA"]
    assert table["stop_loss_pct"].isna().sum() == len(table) // 2     # None = off
    assert set(table["engine"]) == {"kernel"}
    assert set(ROW_METRICS) <= set(table.columns)
    assert table["key"].is_unique
    assert (table["trade_count"] > 0).any()


def test_summary_carries_trials_dsr_pbo_walk_forward_and_heatmaps(base) -> None:
    _, out, table = base
    summary = json.loads((out / "sweep_summary.json").read_text())
    assert {"metric", "trials", "best", "deflated_sharpe", "pbo", "walk_forward", "heatmaps"} <= set(summary)
    assert summary["metric"] == "sharpe" and summary["trials"] == len(table)
    best = summary["best"][0]
    assert set(best) >= {"params", "metrics"}
    top = table.sort_values(["sharpe", "combo_id"], ascending=[False, True]).iloc[0]
    assert best["combo_id"] == int(top["combo_id"])
    assert best["metrics"]["sharpe"] == pytest.approx(top["sharpe"])
    assert best["params"]["hold_sessions"] == top["hold_sessions"]
    assert 0.0 <= summary["deflated_sharpe"]["value"] <= 1.0
    # issue 13: the headline DSR uses the effective number of trials; raw and distinct are kept beside it
    dsr = summary["deflated_sharpe"]
    assert dsr["trials_raw"] == len(table) and dsr["trials"] == dsr["trials_effective"] == summary["effective_trials"]
    assert 1 <= dsr["trials_effective"] <= dsr["trials_distinct"] <= dsr["trials_raw"]
    assert dsr["value"] == dsr["dsr_effective"] and "average-linkage" in dsr["effective_method"]
    assert 0.0 <= summary["pbo"]["value"] <= 1.0 and summary["pbo"]["blocks"] == 8
    assert summary["pbo"]["splits"] == math.comb(8, 4)
    assert len(summary["walk_forward"]["folds"]) == 3
    assert summary["engines"] == {"kernel": len(table), "backtrader": 0, "fallback_reasons": {}}


def test_heatmap_csv_is_the_max_over_other_dimensions(base) -> None:
    _, out, table = base
    summary = json.loads((out / "sweep_summary.json").read_text())
    entry = next(h for h in summary["heatmaps"] if (h["x"], h["y"]) == ("hold_sessions", "direction"))
    assert entry["metric"] == "sharpe" and entry["file"] == "heatmap_hold_sessions__direction.csv"
    grid = pd.read_csv(out / entry["file"])
    assert list(grid.columns) == ["direction", "1", "3", "8"]   # first column: y values; then x values
    assert list(grid["direction"]) == ["long", "short"]
    expected = table.groupby(["direction", "hold_sessions"])["sharpe"].max()
    for _, row in grid.iterrows():
        for hold in ("1", "3", "8"):
            assert row[hold] == pytest.approx(expected[(row["direction"], int(hold))], rel=1e-9)
    pairs = {(h["x"], h["y"]) for h in summary["heatmaps"]}
    assert len(pairs) == 6  # every pair of the 4 swept dimensions


def test_one_and_two_local_workers_write_the_same_bytes(base, tmp_path: Path, monkeypatch) -> None:
    """Two processes (forced: the grid is below the in-process threshold) and one give the same bytes."""
    from backtests.sweeps import executors

    cfg, out, _ = base
    monkeypatch.setattr(executors, "SERIAL_MAX_COMBINATIONS", 0)
    two = run_sweep(spec(cfg, tmp_path / "two", workers=2, pbo_blocks=8), GRID)
    assert not any(m.startswith("ran in this process") for m in two.messages)
    assert (tmp_path / "two" / "sweep.parquet").read_bytes() == (out / "sweep.parquet").read_bytes()
    assert (tmp_path / "two" / "sweep_summary.json").read_bytes() == (out / "sweep_summary.json").read_bytes()


def test_a_small_kernel_sweep_runs_in_this_process_and_says_so(base, tmp_path: Path) -> None:
    """24 kernel combinations asked of 2 workers: starting processes would cost more than the
    work, so they run here (the console says why); the bytes are those of the 1-worker run."""
    import multiprocessing

    cfg, out, _ = base
    before = set(multiprocessing.active_children())
    got = run_sweep(spec(cfg, tmp_path / "here", workers=2, pbo_blocks=8), GRID)
    assert set(multiprocessing.active_children()) == before
    assert got.messages[0].startswith("ran in this process: 24 combinations, all on the kernel")
    assert (tmp_path / "here" / "sweep.parquet").read_bytes() == (out / "sweep.parquet").read_bytes()


def test_a_small_sweep_that_needs_backtrader_starts_the_processes(tmp_path: Path) -> None:
    cfg = synthetic_config(tmp_path)
    got = run_sweep(spec(cfg, tmp_path / "bt", workers=2, engine="backtrader", pbo_blocks=4),
                    {"hold_sessions": [1, 3], "direction": ["long", "short"]})
    assert not any(m.startswith("ran in this process") for m in got.messages)
    assert got.messages[0].startswith("4 of 4 combinations ran on backtrader")


def test_diagnostics_from_memory_equal_those_read_back_from_disk(base, tmp_path: Path, monkeypatch) -> None:
    """A small sweep keeps its rows in memory for the summary; a large one reads them back from
    sweep.parquet and the store. Forcing the second on the same grid gives the same bytes."""
    from backtests.sweeps import held

    cfg, out, _ = base
    monkeypatch.setattr(held, "HOLD_BYTES", 0)
    sweep(spec(cfg, tmp_path / "disk", pbo_blocks=8), GRID)
    for name in ("sweep_summary.json", "sweep.parquet", "sweep_best_returns.csv"):
        assert (tmp_path / "disk" / name).read_bytes() == (out / name).read_bytes(), name


def test_the_table_returned_from_memory_is_the_file(base) -> None:
    _, out, table = base
    pd.testing.assert_frame_equal(table, pd.read_parquet(out / "sweep.parquet"), check_exact=True)


def test_rerun_takes_every_row_from_the_store(base, tmp_path: Path) -> None:
    cfg, out, _ = base
    again = run_sweep(spec(cfg, tmp_path / "again", store_dir=out / "parts", pbo_blocks=8), GRID)
    assert again.computed == 0 and again.reused == len(pd.read_parquet(out / "sweep.parquet"))
    assert again.table_path.read_bytes() == (out / "sweep.parquet").read_bytes()


def test_a_grown_grid_computes_only_the_new_combinations(base, tmp_path: Path) -> None:
    cfg, out, table = base
    grown = {**GRID, "hold_sessions": [1, 3, 8, 13]}
    outcome = run_sweep(spec(cfg, tmp_path / "grown", store_dir=out / "parts", pbo_blocks=8), grown)
    assert outcome.reused == len(table) and outcome.computed == len(table) // 3
    bigger = pd.read_parquet(outcome.table_path)
    old = bigger[bigger["hold_sessions"] != 13].reset_index(drop=True)
    pd.testing.assert_frame_equal(old.drop(columns="combo_id"), table.drop(columns="combo_id"))


def test_backtrader_rows_equal_kernel_rows(base, tmp_path: Path) -> None:
    cfg, _, table = base
    small = {"hold_sessions": [3], "direction": ["long", "short"], "stop_loss_pct": [None, 0.04],
             "strategy.listings": [["9988.HK", "BABA"]]}
    slow = sweep(spec(cfg, tmp_path / "bt", engine="backtrader", pbo_blocks=8), small)
    assert set(slow["engine"]) == {"backtrader"}
    assert set(slow["fallback_reason"]) == {"engine = backtrader requested"}
    fast = table.merge(slow[["key"]], on="key").set_index("key").loc[slow["key"]]
    for col in ROW_METRICS:
        np.testing.assert_allclose(slow[col].to_numpy(), fast[col].to_numpy(), rtol=1e-9, atol=1e-9, err_msg=col)


class UserDrift(PostEventDrift):
    """A user's own strategy: no fast path, so the sweep runs it on backtrader."""


def test_strategies_without_a_kernel_fall_back_and_say_so(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # (issue 15 gave every library strategy a fast path; a user-written one still falls back)
    monkeypatch.setitem(STRATEGIES, "user_drift", StrategyEntry(name="user_drift", strategy=UserDrift,
                                                               params=PostEventDriftParams, summary="a user's"))
    cfg = synthetic_config(tmp_path, strategy="user_drift", params="hold_sessions = 2\nnotional_per_trade_base = 150000")
    messages: list[str] = []
    outcome = run_sweep(spec(cfg, tmp_path / "out", pbo_blocks=2, walk_forward_folds=0),
                        {"hold_sessions": [1, 2, 3]}, on_message=messages.append)
    table = pd.read_parquet(outcome.table_path)
    assert set(table["engine"]) == {"backtrader"}
    assert set(table["fallback_reason"]) == {"no fast path for strategy UserDrift"}
    assert any("3 of 3 combinations ran on backtrader" in m for m in messages)
    assert outcome.summary["engines"]["backtrader"] == 3
    assert "walk_forward" not in outcome.summary
    with pytest.raises(SweepSpaceError, match="engine = kernel"):
        run_sweep(spec(cfg, tmp_path / "strict", engine="kernel"), {"hold_sessions": [1, 2]})


def test_library_strategies_run_on_the_fast_path(tmp_path: Path) -> None:
    cfg = synthetic_config(tmp_path, strategy="pre_event_run_up",
                           params="enter_sessions_before = 2\nnotional_per_trade_base = 150000")
    table = sweep(spec(cfg, tmp_path / "out", pbo_blocks=2, walk_forward_folds=0), {"enter_sessions_before": [1, 2, 3]})
    assert set(table["engine"]) == {"kernel"} and table["fallback_reason"].isna().all()


def test_random_search_is_seeded_and_deduplicated(tmp_path: Path) -> None:
    cfg = synthetic_config(tmp_path)
    space = RandomSearch(n=12, ranges={"hold_sessions": (1, 4), "stop_loss_pct": (0.01, 0.1)},
                         choices={"direction": ["long", "short"]})
    a = sweep(spec(cfg, tmp_path / "a", pbo_blocks=2), space, seed=3)
    sweep(spec(cfg, tmp_path / "b", pbo_blocks=2), space, seed=3)
    c = sweep(spec(cfg, tmp_path / "c", pbo_blocks=2), space, seed=4)
    assert (tmp_path / "a" / "sweep.parquet").read_bytes() == (tmp_path / "b" / "sweep.parquet").read_bytes()
    assert not a[["hold_sessions", "stop_loss_pct"]].equals(c[["hold_sessions", "stop_loss_pct"]])
    assert a["hold_sessions"].between(1, 4).all() and a["hold_sessions"].dtype.kind == "i"
    assert a["stop_loss_pct"].between(0.01, 0.1).all()
    assert a["params"].is_unique


def test_constraint_expression_and_callable_drop_the_same_rows(tmp_path: Path) -> None:
    cfg = synthetic_config(tmp_path)
    grid = {"stop_loss_pct": [None, 0.03, 0.08], "take_profit_pct": [None, 0.05, 0.1]}
    expr = "take_profit_pct is None or stop_loss_pct is None or take_profit_pct > stop_loss_pct"
    by_expr = sweep(spec(cfg, tmp_path / "e", pbo_blocks=2), grid, constraint=expr)
    by_func = sweep(spec(cfg, tmp_path / "f", pbo_blocks=2), grid,
                    constraint=lambda v: v["take_profit_pct"] is None or v["stop_loss_pct"] is None
                    or v["take_profit_pct"] > v["stop_loss_pct"])
    assert len(by_expr) == 8  # (0.08, 0.05) is the one combination dropped
    pd.testing.assert_frame_equal(by_expr, by_func)
    assert list(by_expr["combo_id"]) == list(range(8))


@pytest.mark.parametrize("grid, constraint, message", [
    ({}, None, "the grid is empty"),
    ({"hold_sessions": []}, None, "have no values"),
    ({"hold_sesions": [1, 2]}, None, "did you mean 'hold_sessions'"),
    ({"hold_sessions": [0, 2]}, None, "hold_sessions = 0"),
    ({"direction": ["lnog"]}, None, "did you mean 'long'"),
    ({"events.only": [["qwen25maxx"]]}, None, "did you mean 'qwen25max'"),
    ({"strategy.listings": [["HSTECH"]]}, None, "not a tradable listing|use some of"),
    ({"hold_sessions": [1, 2]}, "hold_session > 1", "did you mean 'hold_sessions'"),
    ({"hold_sessions": [1, 2]}, "__import__('os')", "only len, abs, min, max, round may be called"),
    ({"hold_sessions": [1, 2]}, "hold_sessions > 5", "no combination passes the constraint"),
])
def test_errors_say_what_to_fix(tmp_path: Path, grid: dict, constraint: str | None, message: str) -> None:
    cfg = synthetic_config(tmp_path)
    with pytest.raises(SweepSpaceError, match=message):
        run_sweep(spec(cfg, tmp_path / "out"), grid, constraint)


def test_a_grid_too_large_for_the_disk_is_refused_before_running(tmp_path: Path) -> None:
    cfg = synthetic_config(tmp_path)
    huge = {"hold_sessions": list(range(1, 101)), "notional_per_trade_base": [float(x) for x in range(1000, 101000, 100)],
            "stop_loss_pct": [x / 1000 for x in range(1, 1001)], "take_profit_pct": [x / 1000 for x in range(1, 1001)]}
    with pytest.raises(SweepSpaceError, match="too large for the disk"):
        run_sweep(spec(cfg, tmp_path / "out"), huge)
    assert not (tmp_path / "out" / "parts").exists() or not any((tmp_path / "out" / "parts").iterdir())


SWEEP_SECTION = """
[sweep]
metric = "total_return"
chunk_size = 5
workers = 1
pbo_blocks = 4
heatmaps = [["hold_sessions", "stop_loss_pct"]]
constraint = "hold_sessions < 8 or stop_loss_pct is None"

[sweep.grid]
hold_sessions = [1, 3, 8]
stop_loss_pct = ["off", 0.05]
"""


def test_cli_sweep_writes_the_outputs(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = synthetic_config(tmp_path, sweep_toml=SWEEP_SECTION)
    out = tmp_path / "out"
    main(["sweep", str(cfg.path), "--out", str(out), "--no-progress"])
    summary = json.loads((out / "sweep_summary.json").read_text())
    assert summary["metric"] == "total_return" and summary["trials"] == 5
    assert [h["file"] for h in summary["heatmaps"]] == ["heatmap_hold_sessions__stop_loss_pct.csv"]
    pivot = pd.read_csv(out / "heatmap_hold_sessions__stop_loss_pct.csv")
    assert list(pivot.columns) == ["stop_loss_pct", "1", "3", "8"] and list(pivot["stop_loss_pct"]) == ["0.05", "off"]
    assert math.isnan(pivot.loc[0, "8"])  # (8, 0.05) dropped by the constraint
    printed = capsys.readouterr().out
    assert "probability of backtest overfitting" in printed and "deflated Sharpe" in printed


def test_cli_reports_sweep_section_problems(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    cfg = synthetic_config(tmp_path, sweep_toml='[sweep]\nmetrc = "sharpe"\n[sweep.grid]\nhold_sessions = 3\n')
    with pytest.raises(SystemExit) as exc:
        main(["sweep", str(cfg.path), "--out", str(tmp_path / "out"), "--no-progress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "did you mean 'metric'" in err and "hold_sessions = 3 must be a list" in err


def test_cli_without_sweep_section_says_how_to_add_one(tmp_path: Path) -> None:
    cfg = synthetic_config(tmp_path)
    with pytest.raises(ConfigError, match=r"no \[sweep\] section"):
        from backtests.cli.sweep import parse_sweep_section
        parse_sweep_section(cfg)


def test_heatmap_pairs_must_be_swept_dimensions(tmp_path: Path) -> None:
    cfg = synthetic_config(tmp_path)
    with pytest.raises(SweepSpaceError, match=r"heatmap \(hold_sessions, direction\): both must be swept"):
        run_sweep(spec(cfg, tmp_path / "out", heatmaps=(("hold_sessions", "direction"),)), {"hold_sessions": [1, 2]})
    assert not (tmp_path / "out" / "sweep.parquet").exists()


def test_every_worker_gets_a_chunk_and_the_bytes_do_not_change(base, tmp_path: Path) -> None:
    """chunk_size is an upper bound: 2 workers on a grid smaller than it get a chunk each,
    and sweep.parquet (row groups of chunk_size rows) is byte-identical to the 1-worker run."""
    cfg, _, _ = base
    one = run_sweep(spec(cfg, tmp_path / "one", chunk_size=1000, pbo_blocks=8), GRID)
    two = run_sweep(spec(cfg, tmp_path / "two", workers=2, chunk_size=1000, pbo_blocks=8), GRID)
    assert len(list((tmp_path / "one" / "parts").glob("*.parquet"))) == 1
    assert len(list((tmp_path / "two" / "parts").glob("*.parquet"))) == 2
    assert one.table_path.read_bytes() == two.table_path.read_bytes()


def test_a_held_sweep_into_a_temporary_folder_keeps_no_store(base) -> None:
    """sweep() without out_dir removes its folder when it returns: a result store there could
    resume nothing, so a sweep small enough to hold its rows writes none — same table, same
    summary as the sweep that kept one."""
    import shutil

    cfg, out, _ = base
    got = run_sweep(SweepSpec(config=cfg, progress=False, workers=1, chunk_size=7, pbo_blocks=8), GRID)
    try:
        assert not list((got.out_dir / "parts").glob("part-*.parquet"))
        assert got.table_path.read_bytes() == (out / "sweep.parquet").read_bytes()
        assert (got.out_dir / "sweep_summary.json").read_bytes() == (out / "sweep_summary.json").read_bytes()
    finally:
        shutil.rmtree(got.out_dir)
