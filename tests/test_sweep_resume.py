"""Kill a sweep mid-run (SIGKILL to its process group, workers included), rerun it, and get
exactly the table of an uninterrupted run: no lost rows, no duplicated rows."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

from test_sweep_run import synthetic_config

SWEEP = """
[sweep]
engine = "backtrader"   # the slow path, so the run is still going when it is killed
workers = 2
chunk_size = 2
pbo_blocks = 4

[sweep.grid]
hold_sessions = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10]
direction = ["long", "short"]
stop_loss_pct = ["off", 0.03, 0.06]
"""
COMBINATIONS = 60
PARTS = COMBINATIONS // 2


def _cli(config: Path, out: Path) -> list[str]:
    return [sys.executable, "-c", "import sys; from backtests.cli import main; main(sys.argv[1:])",
            "sweep", str(config), "--out", str(out), "--no-progress"]


def test_killed_sweep_resumes_without_lost_or_duplicated_rows(tmp_path: Path) -> None:
    cfg = synthetic_config(tmp_path, sweep_toml=SWEEP)
    killed = tmp_path / "killed"
    proc = subprocess.Popen(_cli(cfg.path, killed), start_new_session=True, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    parts = killed / "parts"
    deadline = time.monotonic() + 300
    try:
        while len(list(parts.glob("part-*.parquet"))) < 3:
            assert proc.poll() is None, f"the sweep ended before it could be killed: {proc.stderr.read()!r}"
            assert time.monotonic() < deadline, "no parts written within 300 s"
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)  # the CLI and its worker processes
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    done_before = len(list(parts.glob("part-*.parquet")))
    assert 3 <= done_before < PARTS, "the kill came after the sweep had finished"
    assert not (killed / "sweep.parquet").exists()

    resumed = subprocess.run(_cli(cfg.path, killed), capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    computed = COMBINATIONS - 2 * done_before
    assert f"{computed:,} computed, {2 * done_before:,} reused" in " ".join(resumed.stdout.split())

    clean = tmp_path / "clean"
    whole = subprocess.run(_cli(cfg.path, clean), capture_output=True, text=True, timeout=600)
    assert whole.returncode == 0, whole.stderr

    a = pd.read_parquet(killed / "sweep.parquet")
    b = pd.read_parquet(clean / "sweep.parquet")
    assert len(a) == COMBINATIONS and a["key"].is_unique and list(a["combo_id"]) == list(range(COMBINATIONS))
    pd.testing.assert_frame_equal(a, b)
    assert (killed / "sweep.parquet").read_bytes() == (clean / "sweep.parquet").read_bytes()
    stored = pd.concat([pd.read_parquet(p, columns=["key"]) for p in sorted(parts.glob("part-*.parquet"))])
    assert len(stored) == COMBINATIONS and stored["key"].is_unique  # nothing stored twice
