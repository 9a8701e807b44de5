"""Sweeps and stored files under bad input and faults: bounded constraints, the memory
estimate, corrupt store parts and cache files named with the fix, stale temporary files
removed, workers that die with a killed main process; and article extraction that stays
linear in the article's size."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from backtests.sweeps.guards import check_memory, remove_stale_tmp
from backtests.sweeps.space import SafeExpression, SweepSpaceError
from backtests.sweeps.store import ResultStore, StoreCorruptError
from data_loaders.cache import CacheError, read_bars
from test_sweep_resume import SWEEP  # backtrader engine, 2 workers: busy when the main process is killed
from test_sweep_run import synthetic_config

NAMES = ("hold_sessions", "stop_loss_pct")


@pytest.mark.parametrize(("expr", "message"), [
    ("hold_sessions ** 10 ** 10 > 0", "the exponent of \\*\\* must be a number literal between -64 and 64"),
    ("len('a' * 10 ** 10) > 0", "repeating a sequence with \\* is not allowed"),
    ("len((1, 2) * hold_sessions) > 0", "repeating a sequence with \\* is not allowed"),
])
def test_constraints_that_would_exhaust_memory_are_refused(expr: str, message: str) -> None:
    with pytest.raises(SweepSpaceError, match=message):
        SafeExpression(expr, NAMES)


def test_guards_hold_at_evaluation_too() -> None:
    grow = SafeExpression("hold_sessions ** 64 > 0", NAMES)
    with pytest.raises(ValueError, match="too large to compute"):
        grow({"hold_sessions": 10 ** 100, "stop_loss_pct": None})
    assert SafeExpression("hold_sessions ** 2 > 3", NAMES)({"hold_sessions": 2, "stop_loss_pct": None})


def test_a_grid_too_large_for_memory_is_refused_with_the_estimate() -> None:
    with pytest.raises(SweepSpaceError, match=r"too large for this machine's memory: 10,000,000 combinations x "
                                              r"~1,500 bytes of statistics = 15.1 GB"):
        check_memory(10_000_000, 1000)
    check_memory(240_000, 1000)  # fits


def test_stale_table_temp_files_of_dead_sweeps_are_removed(tmp_path: Path) -> None:
    dead = tmp_path / ".sweep.parquet.999999999.tmp"   # no such process
    alive = tmp_path / f".sweep.parquet.{os.getppid()}.tmp"
    dead.write_bytes(b"x")
    alive.write_bytes(b"x")
    remove_stale_tmp(tmp_path)
    assert not dead.exists() and alive.exists()


def test_a_corrupt_store_part_names_the_file_and_the_fix(tmp_path: Path) -> None:
    store_dir = tmp_path / "parts"
    store_dir.mkdir()
    values = np.arange(200_000, dtype=np.float64)
    pq.write_table(pa.table({"key": [f"k{i}" for i in range(len(values))], "x": values}),
                   store_dir / "part-abc.parquet", compression="zstd")
    raw = bytearray((store_dir / "part-abc.parquet").read_bytes())
    raw[len(raw) // 2:len(raw) // 2 + 4096] = bytes(4096)  # a zero-filled block
    (store_dir / "part-abc.parquet").write_bytes(bytes(raw))
    store = ResultStore(store_dir)
    with pytest.raises(StoreCorruptError, match=r"part-abc.parquet is corrupt .* delete it and rerun the sweep"):
        store.rows(["k1"])


def test_cache_metadata_that_is_not_json_is_a_cache_error(tmp_path: Path) -> None:
    path = tmp_path / "bars.parquet"
    table = pa.table({"close": [1.0]}).replace_schema_metadata({b"catalyst_bt": b"{not json"})
    pq.write_table(table, path)
    with pytest.raises(CacheError, match=r"has metadata that is not JSON .* delete .* or fetch again with --refresh"):
        read_bars(path)




def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    status = Path(f"/proc/{pid}/status")
    return not status.exists() or "State:\tZ" not in status.read_text()


@pytest.mark.skipif(sys.platform != "linux", reason="ps --ppid and /proc are Linux")
def test_workers_die_with_a_killed_main_process(tmp_path: Path) -> None:
    cfg = synthetic_config(tmp_path, sweep_toml=SWEEP)
    out = tmp_path / "out"
    cmd = [sys.executable, "-c", "import sys; from backtests.cli import main; main(sys.argv[1:])",
           "sweep", str(cfg.path), "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 300
    workers: list[int] = []
    try:
        while len(list((out / "parts").glob("part-*.parquet"))) < 1 or len(workers) < 2:
            assert proc.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "no worker / part within 300 s"
            workers = _children(proc.pid)
            time.sleep(0.05)
    finally:
        proc.kill()  # SIGKILL to the main process only, as `kill -9 PID` does
        proc.wait()
    gone = time.monotonic() + 10
    while any(_alive(w) for w in workers) and time.monotonic() < gone:
        time.sleep(0.1)
    leaked = [w for w in workers if _alive(w)]
    for w in leaked:  # do not leave them running if the check fails
        os.kill(w, signal.SIGKILL)
    assert not leaked, f"workers {leaked} outlived their main process"


@pytest.mark.parametrize("kind", ["articles", "no sentence ends"])
def test_extraction_stays_linear_in_the_article_size(seeds_dir: Path, kind: str) -> None:
    from events.extract import extract_candidates

    if kind == "articles":
        text = "\n".join(p.read_text(encoding="utf-8") for p in sorted(seeds_dir.glob("*.txt")))
    else:  # one endless "sentence" full of dates: each mention must not slice all of it
        text = "阿里巴巴 2025年2月20日 发布 新模型 "
    small, big = (text * (50_000 // len(text) + 1))[:50_000], (text * (400_000 // len(text) + 1))[:400_000]
    timings = []
    for article in (small, big):
        t0 = time.perf_counter()
        extract_candidates(article, article="a")
        timings.append(time.perf_counter() - t0)
    # 8x the text: linear is ~8x the time, quadratic ~64x; allow a loaded machine's noise
    assert timings[1] < 20 * timings[0] + 1.0, timings
