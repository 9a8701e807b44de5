"""The ``[sweep]`` section of a config: what a sweep varies, its constraint, seed and options.

Read by ``catalyst-bt sweep`` and ``backtests.api.sweep``. The config's ``[run]``, ``[data]``,
``[events]``, ``[portfolio]``, ``[strategy]`` and ``[costs]`` sections give the base run
(every parameter a combination does not set keeps its ``[strategy.params]`` value); the
``[sweep]`` section says what to vary::

    [sweep]
    search = "grid"                  # grid | random
    metric = "sharpe"                # column ranking the combinations
    constraint = "take_profit_pct is None or stop_loss_pct is None or take_profit_pct > stop_loss_pct"
    engine = "auto"                  # auto | kernel | backtrader
    workers = 2                      # local processes (default: all cores); --scheduler for Dask
    chunk_size = 1000
    top = 5
    pbo_blocks = 16                  # CSCV blocks (even)
    walk_forward_folds = 4           # 0 = off
    heatmaps = [["hold_sessions", "stop_loss_pct"]]   # default: every pair of swept dimensions
    out = "out/sweep"                # --out overrides

    [sweep.grid]                     # search = "grid": every combination
    hold_sessions = [1, 3, 5, 10]
    stop_loss_pct = ["off", 0.05]    # "off" (or "none") = None
    "events.only" = [[], ["qwen25max", "apple_report"]]   # catalyst subsets ([] = all)
    "strategy.listings" = [["9988.HK"], ["BABA"], ["9988.HK", "BABA"]]

    # search = "random": n draws, seeded
    # n = 500
    # seed = 0
    # [sweep.ranges]  hold_sessions = [1, 20]    (two ints: whole numbers; else uniform floats)
    # [sweep.choices] direction = ["long", "short"]
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from backtests.config import ConfigError, RunConfig, check_keys
from backtests.sweeps.chunks import ENGINE_MODES
from backtests.sweeps.space import RandomSearch, Space, SweepSpaceError

SWEEP_KEYS: tuple[str, ...] = (
    "search", "grid", "n", "seed", "ranges", "choices", "constraint", "metric", "top", "engine", "workers",
    "scheduler", "chunk_size", "pbo_blocks", "walk_forward_folds", "heatmaps", "out",
)
OFF_WORDS = ("off", "none")


@dataclass(frozen=True, kw_only=True)
class SweepSection:
    """The validated ``[sweep]`` section: the space, the constraint, the seed and the run options."""

    space: Space
    constraint: str | None
    seed: int
    options: dict[str, Any]
    out: Path | None


def _none_words(value: Any) -> Any:
    """TOML has no null: "off" / "none" stand for None (a disabled stop, say)."""
    if isinstance(value, str) and value.lower() in OFF_WORDS:
        return None
    if isinstance(value, list):
        return [_none_words(v) for v in value]
    return value


def parse_sweep_section(cfg: RunConfig) -> SweepSection:
    """Validate ``cfg.raw["sweep"]``.

    Raises
    ------
    ConfigError
        Every problem at once: unknown keys (with "did you mean"), a missing or empty grid,
        bad option values.
    """
    table: dict[str, Any] = dict(cfg.raw.get("sweep", {}))
    problems: list[str] = []
    if not table:
        problems.append("no [sweep] section; add e.g. [sweep.grid] hold_sessions = [1, 3, 5]")
    check_keys("sweep", table, SWEEP_KEYS, problems)
    search = table.get("search", "grid")
    space: Space = {}
    if search not in ("grid", "random"):
        problems.append(f"[sweep] search = {search!r}; use \"grid\" or \"random\"")
    elif search == "grid":
        grid = table.get("grid")
        if grid is None:
            if table:
                problems.append("[sweep] search = \"grid\" needs a [sweep.grid] table, e.g. hold_sessions = [1, 3, 5]")
        elif not isinstance(grid, dict):
            problems.append("[sweep] grid must be a table: [sweep.grid] hold_sessions = [1, 3, 5]")
        else:
            bad = [k for k, v in grid.items() if not isinstance(v, list)]
            for k in bad:
                problems.append(f"[sweep.grid] {k} = {grid[k]!r} must be a list of values, e.g. {k} = [{grid[k]!r}]")
            space = {k: _none_words(v) for k, v in grid.items() if k not in bad}
        for key in ("n", "ranges", "choices"):
            if key in table:
                problems.append(f"[sweep] {key} is for search = \"random\"; remove it or set search = \"random\"")
    else:
        ranges = table.get("ranges", {})
        choices = {k: _none_words(v) for k, v in table.get("choices", {}).items()} \
            if isinstance(table.get("choices", {}), dict) else None
        if not isinstance(ranges, dict) or choices is None:
            problems.append("[sweep] ranges and choices must be tables ([sweep.ranges], [sweep.choices])")
        else:
            try:
                space = RandomSearch(n=table.get("n", 0), ranges={k: tuple(v) if isinstance(v, list) else v
                                                                   for k, v in ranges.items()},
                                     choices=choices)
            except SweepSpaceError as exc:
                problems.append(f"[sweep] {exc}")
        if "grid" in table:
            problems.append("[sweep] grid is for search = \"grid\"; use [sweep.ranges]/[sweep.choices] with random")
    seed = table.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(f"[sweep] seed = {seed!r} must be a whole number >= 0")
        seed = 0
    constraint = table.get("constraint")
    if constraint is not None and not isinstance(constraint, str):
        problems.append(f"[sweep] constraint = {constraint!r} must be a string expression")
    heatmaps = table.get("heatmaps")
    if heatmaps is not None and not (isinstance(heatmaps, list) and all(
            isinstance(p, list) and len(p) == 2 and all(isinstance(v, str) for v in p) for p in heatmaps)):
        problems.append("[sweep] heatmaps must be a list of [x, y] name pairs, e.g. [[\"hold_sessions\", \"direction\"]]")
        heatmaps = None
    options: dict[str, Any] = {}
    for key in ("metric", "top", "engine", "workers", "scheduler", "chunk_size", "pbo_blocks", "walk_forward_folds"):
        if key in table:
            options[key] = table[key]
    if heatmaps is not None:
        options["heatmaps"] = tuple(tuple(p) for p in heatmaps)
    if "engine" in options and options["engine"] not in ENGINE_MODES:
        problems.append(f"[sweep] engine = {options['engine']!r}; use one of {', '.join(ENGINE_MODES)}")
    if problems:
        raise ConfigError(str(cfg.path), problems)
    return SweepSection(space=space, constraint=constraint, seed=seed, options=options,
                        out=Path(table["out"]) if "out" in table else None)
