"""``catalyst-bt sweep CONFIG``: a parameter sweep of the config's strategy
(the ``[sweep]`` section: :mod:`backtests.sweeps.section`)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
import pandas as pd
from rich.console import Console

from backtests.cli.options import config_data_options, output_options, print_json
from backtests.cli.tables import Col, fit_table
from backtests.config import load_config
from backtests.sweeps.chunks import ENGINE_MODES
from backtests.sweeps.distinct import describe_parameters, distinct_results
from backtests.sweeps.run import SweepOutcome, SweepSpec, run_sweep
from backtests.sweeps.section import OFF_WORDS, SWEEP_KEYS, SweepSection, parse_sweep_section

__all__ = ["OFF_WORDS", "SWEEP_KEYS", "SweepSection", "parse_sweep_section", "register"]


DISTINCT_COLUMNS: tuple[Col, ...] = (
    Col(header="parameters", wrap=True, min_width=40), Col(header="combos", priority=1, justify="right"),
    Col(header="metric", justify="right"), Col(header="return", justify="right"),
    Col(header="max DD", priority=2, justify="right"), Col(header="trades", priority=1, justify="right"),
    Col(header="engine", priority=4), Col(header="combo", priority=3, justify="right"),
)


def count_line(summary: dict[str, Any], drawn: int) -> str:
    """``4,032 combinations run (4,536 grid points, 504 excluded by the constraint); 1,210
    distinct results`` — the same counts the progress bar shows."""
    trials = summary["trials"]
    extra = f" ({drawn:,} grid points, {drawn - trials:,} excluded by the constraint)" if drawn > trials else ""
    return f"{trials:,} combinations run{extra}; {summary['distinct_trials']:,} distinct results"


def best_distinct(outcome: SweepOutcome, top: int, store_dir: Path) -> pd.DataFrame:
    """The ``top`` best distinct results (combinations with identical results collapsed),
    with the ``engine`` that ran each representative."""
    s = outcome.summary
    dims = tuple(s["space"]["grid"]) if s["space"]["search"] == "grid" else \
        (*s["space"]["ranges"], *s["space"]["choices"])
    table = pd.read_parquet(outcome.table_path)
    best = distinct_results(table, metric=s["metric"], dims=dims, top=top, store_dir=store_dir)
    return best.assign(engine=best["combo_id"].map(table.set_index("combo_id")["engine"]))


def _print(console: Console, outcome: SweepOutcome, best: pd.DataFrame) -> None:
    s = outcome.summary
    metric = s["metric"]
    title = f"sweep of {s['strategy']} {s['start']}..{s['end']}: best distinct results by {metric}"
    if s["synthetic_data"]:
        title += " (SYNTHETIC DATA)"
    rows = [(describe_parameters(r.same, r.varies), f"{r.combos:,}", f"{getattr(r, metric):.4g}",
             f"{r.total_return:+.2%}", f"{r.max_drawdown:.2%}", f"{r.trade_count:.0f}",
             str(r.engine), str(r.combo_id)) for r in best.itertuples()]
    cols = (DISTINCT_COLUMNS[0], DISTINCT_COLUMNS[1], Col(header=metric, justify="right"), *DISTINCT_COLUMNS[3:])
    console.print(fit_table(console, cols, rows, title=title,
                            caption="combos: combinations with this very result (same returns every session); "
                                    "the values listed in braces made no difference",
                            dropped_hint="every combination is in sweep.parquet"))
    dsr, pbo = s["deflated_sharpe"], s["pbo"]
    console.print(count_line(s, outcome.drawn))
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
    @click.option("--report", is_flag=True, help="Render the tearsheet (backtests.reporting) into the output folder.")
    @click.option("--no-progress", is_flag=True, help="No progress bar.")
    @click.option("--cache-dir", type=click.Path(path_type=Path), help="Parquet cache for akshare downloads.")
    @output_options
    def sweep_cmd(config: Path, data_dir: Path | None, source: str | None, refresh: bool, out: Path | None,
                  workers: int | None, scheduler: str | None, seed: int | None, engine: str | None,
                  store: Path | None, report: bool, no_progress: bool, cache_dir: Path | None, as_json: bool,
                  quiet: bool) -> None:
        """Sweep the parameters of CONFIG's strategy as its [sweep] section says."""
        cfg = load_config(config).with_overrides(source=source, data_dir=data_dir, refresh=refresh)
        section = parse_sweep_section(cfg)
        options = dict(section.options)
        for key, value in (("workers", workers), ("scheduler", scheduler), ("engine", engine)):
            if value is not None:
                options[key] = value
        if seed is not None and seed < 0:
            raise click.BadParameter(f"{seed} must be >= 0", param_hint="--seed")
        out_dir = out or section.out or Path("out") / f"{cfg.name}-sweep"
        spec = SweepSpec(config=cfg, out_dir=out_dir, store_dir=store, progress=not (no_progress or quiet),
                         cache_dir=cache_dir, **options)
        outcome = run_sweep(spec, section.space, section.constraint, section.seed if seed is None else seed)
        best = best_distinct(outcome, spec.top, Path(store) if store else outcome.out_dir / "parts")
        written = [outcome.table_path, outcome.summary_path]
        if report:
            from backtests.reporting import render_report  # the tearsheet stack only when asked for

            written.append(render_report(outcome.out_dir))
        if as_json:
            distinct = best.drop(columns=["combo_ids"]).to_dict(orient="records")
            print_json({"command": "sweep", "out_dir": outcome.out_dir, "written": written,
                        "grid_points": outcome.drawn, "excluded_by_constraint": outcome.drawn - outcome.summary["trials"],
                        "best_distinct": distinct, "summary": outcome.summary})
        elif not quiet:
            _print(Console(), outcome, best)
            if report:
                click.echo(f"report: {written[-1]}")
