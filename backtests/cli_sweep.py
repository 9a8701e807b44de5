"""``catalyst-bt sweep CONFIG``: a parameter sweep of the config's strategy
(the ``[sweep]`` section: :mod:`backtests.sweep.section`)."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.table import Table

from backtests.cli_options import config_data_options
from backtests.config import load_config
from backtests.sweep.chunks import ENGINE_MODES
from backtests.sweep.run import SweepOutcome, SweepSpec, run_sweep
from backtests.sweep.section import OFF_WORDS, SWEEP_KEYS, SweepSection, parse_sweep_section

__all__ = ["OFF_WORDS", "SWEEP_KEYS", "SweepSection", "parse_sweep_section", "register"]


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

