"""``catalyst-bt sweep CONFIG``: a parameter sweep of the config's strategy.

The config's ``[run]``, ``[data]``, ``[events]``, ``[portfolio]``, ``[strategy]`` and
``[costs]`` sections give the base run (every parameter a combination does not set keeps
its ``[strategy.params]`` value); the ``[sweep]`` section says what to vary::

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

import importlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from backtests.cli_options import config_data_options
from backtests.config import ConfigError, RunConfig, check_keys, load_config
from backtests.sweep.chunks import ENGINE_MODES
from backtests.sweep.run import SweepOutcome, SweepSpec, run_sweep
from backtests.sweep.space import RandomSearch, Space, SweepSpaceError

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


def _short(value: Any) -> str:
    if value is None:
        return "off"
    if isinstance(value, list):
        return "+".join(map(str, value)) if value else "all"
    return str(value)


def _print(console: Console, outcome: SweepOutcome) -> None:
    s = outcome.summary
    title = f"sweep of {s['strategy']} {s['start']}..{s['end']}: {s['trials']:,} combinations, best by {s['metric']}"
    if s["synthetic_data"]:
        title += " (SYNTHETIC DATA)"
    table = Table(title=title)
    for col in ("combo", "parameters", s["metric"], "total return", "max drawdown", "trades", "engine"):
        table.add_column(col, justify="left" if col == "parameters" else "right")
    for entry in s["best"]:
        m = entry["metrics"]
        params = ", ".join(f"{k}={_short(v)}" for k, v in entry["params"].items())
        table.add_row(str(entry["combo_id"]), params, f"{m[s['metric']]:.4g}", f"{m['total_return']:+.2%}",
                      f"{m['max_drawdown']:.2%}", f"{m['trade_count']:.0f}", entry["engine"])
    console.print(table)
    dsr, pbo = s["deflated_sharpe"], s["pbo"]
    console.print(f"trials: {s['trials']:,} ({s['distinct_trials']:,} distinct return series)")
    if dsr.get("value") is not None:
        # the DSR works per session; show the luck hurdle in the same annual units as the Sharpe
        scale = dsr["sharpe_annual"] / dsr["sharpe"] if dsr.get("sharpe") else float("nan")
        console.print(f"deflated Sharpe ratio of the best: {dsr['value']:.3f} (Sharpe {dsr['sharpe_annual']:.2f} a year; "
                      f"luck alone would give the best of {dsr['trials']:,} trials about "
                      f"{dsr['expected_max_sharpe'] * scale:.2f} a year)")
    if pbo.get("value") is not None:
        console.print(f"probability of backtest overfitting (CSCV, {pbo['blocks']} blocks, {pbo['splits']:,} splits): "
                      f"{pbo['value']:.2f}")
    wf = s.get("walk_forward")
    if wf and wf["oos"].get("sharpe_annual") is not None:
        console.print(f"walk-forward ({len(wf['folds'])} test windows): out-of-sample Sharpe "
                      f"{wf['oos']['sharpe_annual']:.2f} a year, return {wf['oos']['total_return']:+.2%}")
    for msg in outcome.messages:
        console.print(f"[dim]{msg}[/dim]")
    t = outcome.timings
    console.print(f"[dim]{outcome.computed:,} computed, {outcome.reused:,} reused from the store; "
                  f"{t['total']:.1f} s (load {t['load']:.1f}, evaluate {t['evaluate']:.1f}, "
                  f"diagnostics {t['diagnostics']:.1f})[/dim]")
    console.print(f"wrote {outcome.table_path.name}, {outcome.summary_path.name} and "
                  f"{len(s['heatmaps'])} heatmap table(s) to {outcome.out_dir}")


def register(group: click.Group) -> None:
    @group.command("sweep")
    @config_data_options
    @click.option("--out", type=click.Path(path_type=Path), help="Output folder (default: [sweep] out, else out/<run name>-sweep).")
    @click.option("--workers", type=int, help="Local processes (default: [sweep] workers, else all cores).")
    @click.option("--scheduler", help="Dask distributed scheduler address (tcp://host:8786) to run on.")
    @click.option("--seed", type=int, help="Seed of a random search, overriding [sweep] seed.")
    @click.option("--engine", type=click.Choice(ENGINE_MODES), help="auto | kernel | backtrader (overrides [sweep] engine).")
    @click.option("--store", type=click.Path(path_type=Path), help="Result store folder (default: OUT/parts).")
    @click.option("--report", is_flag=True, help="Render the tearsheet (backtests.report) into the output folder.")
    @click.option("--no-progress", is_flag=True, help="No progress bar.")
    @click.option("--cache-dir", type=click.Path(path_type=Path), help="Parquet cache for akshare downloads.")
    def sweep_cmd(config: Path, data_dir: Path | None, source: str | None, out: Path | None, workers: int | None,
                  scheduler: str | None, seed: int | None, engine: str | None, store: Path | None, report: bool,
                  no_progress: bool, cache_dir: Path | None) -> None:
        """Sweep the parameters of CONFIG's strategy as its [sweep] section says."""
        cfg = load_config(config).with_overrides(source=source, data_dir=data_dir)
        section = parse_sweep_section(cfg)
        options = dict(section.options)
        for key, value in (("workers", workers), ("scheduler", scheduler), ("engine", engine)):
            if value is not None:
                options[key] = value
        if seed is not None and seed < 0:
            raise click.BadParameter(f"{seed} must be >= 0", param_hint="--seed")
        out_dir = out or section.out or Path("out") / f"{cfg.name}-sweep"
        spec = SweepSpec(config=cfg, out_dir=out_dir, store_dir=store, progress=not no_progress,
                         cache_dir=cache_dir, **options)
        console = Console()
        outcome = run_sweep(spec, section.space, section.constraint, section.seed if seed is None else seed)
        _print(console, outcome)
        if report:
            try:
                module = importlib.import_module("backtests.report")
            except ModuleNotFoundError as exc:
                if exc.name not in ("backtests.report",):
                    raise
                console.print("[yellow]--report: backtests.report is not available in this version[/yellow]")
                return
            render = getattr(module, "render_report", None)
            if render is None:
                console.print("[yellow]--report: backtests.report has no render_report[/yellow]")
                return
            written = render(outcome.out_dir)
            console.print(f"report: {written}")

