"""Guards of a sweep, checked before it runs: the space (names, values, catalysts), the disk
and memory estimates; and the removal of temporary table files that killed sweeps left behind."""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from backtests.config import RunConfig
from backtests.runner import load_catalyst_calendar
from backtests.sweeps.inputs import check_values, sweepable_names
from backtests.sweeps.rowmetrics import ROW_METRICS
from backtests.sweeps.space import (RandomSearch, Space, SweepSpaceError, check_grid, check_names,
                                    dimension_names)
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


def listing_union(space: Space, cfg: RunConfig) -> tuple[str, ...]:
    assert cfg.strategy is not None
    if isinstance(space, RandomSearch):
        values = space.choices.get("strategy.listings")
    else:
        values = space.get("strategy.listings")
    if not values:
        return tuple(cfg.strategy.listings)
    return tuple(sorted({sym for v in values for sym in v}))


def check_space(cfg: RunConfig, space: Space) -> None:
    assert cfg.strategy is not None
    check_grid(space)
    names = dimension_names(space)
    check_names(names, sweepable_names(cfg.strategy.name), strategy=cfg.strategy.name)
    values: dict[str, list[Any]] = {}
    if isinstance(space, RandomSearch):
        values.update({n: list(v) for n, v in space.choices.items()})
        values.update({n: list(b) for n, b in space.ranges.items()})
    else:
        values.update({n: list(v) for n, v in space.items()})
    if "strategy.listings" in values or "events.only" in values:
        ids = {c.id for c in load_catalyst_calendar(cfg.events.calendar)}
    else:
        ids = set()
    check_values(cfg, values, ids)


def bytes_per_row(sessions: int, dims: int) -> int:
    """Disk estimate of one combination: its store row (metrics, key, params, return series)
    plus its row of ``sweep.parquet``."""
    return sessions * 8 + 2 * len(ROW_METRICS) * 8 + 2 * 64 + 400 + dims * 24


def check_disk(rows: int, row_bytes: int, folder: Path) -> None:
    """Refuse a sweep whose estimated results exceed 90% of the free space under ``folder``.

    Raises
    ------
    SweepSpaceError
        With the estimate, the free space and how to shrink the sweep.
    """
    probe = Path(folder).resolve()
    while not probe.exists():
        probe = probe.parent
    free = shutil.disk_usage(probe).free
    need = rows * row_bytes
    if need > 0.9 * free:
        raise SweepSpaceError(
            f"the grid is too large for the disk: {rows:,} combinations x ~{row_bytes:,} bytes = "
            f"{need / 1e9:,.1f} GB of results, but {probe} has {free / 1e9:,.1f} GB free; use fewer values, "
            f"a constraint, or random search ([sweep] search = \"random\", n = ...), or put --out on a larger disk")


def normalise_space(space: Space | Mapping[str, Sequence[Any]]) -> Space:
    if isinstance(space, RandomSearch):
        return space
    if not isinstance(space, Mapping):
        raise SweepSpaceError(f"the grid must be a mapping of parameter -> list of values, got {type(space).__name__}")
    return {name: list(dict.fromkeys(_hashable(v) for v in values)) if isinstance(values, (list, tuple)) else values
            for name, values in space.items()}


def _hashable(value: Any) -> Any:
    return tuple(_hashable(v) for v in value) if isinstance(value, list) else value
