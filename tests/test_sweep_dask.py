"""The same sweep on a real Dask ``LocalCluster`` (worker processes), with 1 and 2 workers,
and on local processes: the result table is byte-identical."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtests.sweeps import run_sweep
from test_sweep_run import spec, synthetic_config

distributed = pytest.importorskip("distributed")

GRID = {"hold_sessions": [1, 2, 5, 9], "direction": ["long", "short", "expected"],
        "take_profit_pct": [None, 0.05], "strategy.listings": [["BABA"], ["9988.HK", "BABA"]]}


def _cluster_run(cfg, out: Path, workers: int) -> bytes:
    with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                  dashboard_address=None, silence_logs=50) as cluster:
        outcome = run_sweep(spec(cfg, out, scheduler=cluster.scheduler_address, chunk_size=6, pbo_blocks=4), GRID)
        assert outcome.computed == 48
    return (out / "sweep.parquet").read_bytes()


def test_dask_1_and_2_workers_and_local_processes_agree(tmp_path: Path) -> None:
    cfg = synthetic_config(tmp_path)
    one = _cluster_run(cfg, tmp_path / "dask1", 1)
    two = _cluster_run(cfg, tmp_path / "dask2", 2)
    run_sweep(spec(cfg, tmp_path / "local", workers=2, chunk_size=6, pbo_blocks=4), GRID)
    local = (tmp_path / "local" / "sweep.parquet").read_bytes()
    assert one == two == local
    for name in ("dask1", "dask2"):
        assert (tmp_path / name / "sweep_summary.json").read_bytes() == \
            (tmp_path / "local" / "sweep_summary.json").read_bytes()


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from backtests.sweeps import SweepSpaceError, executors

    monkeypatch.setattr(executors, "DASK_CONNECT_TIMEOUT", "2s")  # nothing listens on port 1: fail fast
    cfg = synthetic_config(tmp_path)
    with pytest.raises(SweepSpaceError, match="cannot reach the Dask scheduler"):
        run_sweep(spec(cfg, tmp_path / "out", scheduler="tcp://127.0.0.1:1"), {"hold_sessions": [1, 2]})
