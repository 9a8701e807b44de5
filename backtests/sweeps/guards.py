"""Guards of a sweep: the memory estimate checked before running (like the disk check) and the
removal of temporary table files that killed sweeps left behind."""

from __future__ import annotations

import os
from pathlib import Path

from backtests.sweeps.space import SweepSpaceError
from backtests.sweeps.summary import TABLE_NAME

# Memory the main process holds per combination until the diagnostics (per-trial statistics
# for DSR / CSCV / walk-forward, about 350 bytes) plus their working copies at the end.
MEMORY_BYTES_PER_COMBINATION = 1_500
MEMORY_SHARE = 0.5  # of the machine's available memory a sweep may plan to use


def available_memory_bytes() -> int | None:
    """Memory available to new allocations (Linux ``MemAvailable``; None when unknown)."""
    try:
        with open("/proc/meminfo", encoding="ascii") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_memory(rows: int, chunk_size: int) -> None:
    """Refuse a sweep whose per-combination statistics would not fit in memory.

    Raises
    ------
    SweepSpaceError
        With the estimate, the memory available and how to shrink the sweep.
    """
    need = rows * MEMORY_BYTES_PER_COMBINATION + chunk_size * 64_000
    free = available_memory_bytes()
    if free is not None and need > MEMORY_SHARE * free:
        raise SweepSpaceError(
            f"the grid is too large for this machine's memory: {rows:,} combinations x ~"
            f"{MEMORY_BYTES_PER_COMBINATION:,} bytes of statistics = {need / 1e9:,.1f} GB, but only "
            f"{free / 1e9:,.1f} GB is available (a sweep may plan on {MEMORY_SHARE:.0%}); use fewer values, a "
            f"constraint, or random search ([sweep] search = \"random\", n = ...)")


def remove_stale_tmp(out_dir: Path) -> None:
    """Remove ``.sweep.parquet.<pid>.tmp`` files left by sweeps that were killed."""
    for tmp in Path(out_dir).glob(f".{TABLE_NAME}.*.tmp"):
        pid = tmp.name.split(".")[-2]
        if pid.isdigit() and int(pid) != os.getpid():
            try:
                os.kill(int(pid), 0)
                continue  # a live sweep is writing it
            except ProcessLookupError:
                pass
            except PermissionError:
                continue
        tmp.unlink(missing_ok=True)
