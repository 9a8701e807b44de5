"""``catalyst-bt run CONFIG`` and ``catalyst-bt demo``."""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

import click
import pandas as pd
from rich.console import Console

from backtests.cli.options import config_data_options, output_options, print_json
from backtests.cli.tables import Col, fit_table
from backtests.config import RunConfig, load_config
from backtests.outdir import check_out_dir
from backtests.results import BacktestResult
from backtests.runner import run_config
from backtests.summary_table import summary_caption, summary_rows, summary_title

DEMO_CONFIG = "demo.toml"


TRADE_COLUMNS: tuple[Col, ...] = (
    Col(header="catalyst", priority=1, wrap=True), Col(header="listing"), Col(header="qty", priority=3, justify="right"),
    Col(header="entry"), Col(header="entry px", priority=5, justify="right"), Col(header="exit"),
    Col(header="exit px", priority=4, justify="right"), Col(header="P&L", priority=2, justify="right"),
)


def _trade_rows(trades: pd.DataFrame) -> list[tuple[str, ...]]:
    rows = []
    for row in trades.itertuples():
        closed = row.status == "closed"
        rows.append((str(row.catalyst_id or row.role), row.listing, f"{row.direction * row.quantity:+d}",
                     f"{row.entry_session:%Y-%m-%d}", f"{row.entry_price:.2f}",
                     f"{row.exit_session:%Y-%m-%d}" if closed else "open",
                     f"{row.exit_price:.2f}" if closed else "", f"{row.net_pnl_base:,.2f}" if closed else ""))
    return rows


def _print_summary(console: Console, result: BacktestResult, out_dir: Path | None) -> None:
    s = result.summary
    table = fit_table(console, (Col(header="figure", wrap=True), Col(header="strategy", justify="right"),
                                Col(header=s["benchmark"], priority=1, justify="right")),
                      summary_rows(s), title=summary_title(s), caption=summary_caption(s))
    console.print(table)
    for flag in s.get("flags", ()):  # loud, above everything else below the table
        console.print(f"FLAG {flag['kind']}: {flag['message']}", style="bold red", markup=False, highlight=False)
    if len(result.trades):
        console.print(fit_table(console, TRADE_COLUMNS, _trade_rows(result.trades),
                                title=f"trades (P&L net of costs, {s['base_currency']})",
                                dropped_hint="every column is in trades.csv"))
    for note in result.notes:  # user text: never parsed as rich markup ("[low, high]" stays)
        if not note.startswith("FLAG "):
            console.print(f"note: {note}", style="dim", markup=False, highlight=False)
    if out_dir is not None:
        console.print(f"wrote trades.csv, costs.csv, equity.csv, positions.csv, returns.csv, schedule.csv, "
                      f"provenance.json, summary.json to {out_dir}")


def _execute(cfg: RunConfig, out: Path | None, cache_dir: Path | None, *, as_json: bool = False,
             quiet: bool = False) -> None:
    err = Console(stderr=True, quiet=quiet)
    with err.status("starting") as status:
        result, _ = run_config(cfg, out_dir=out, progress=lambda msg: status.update(msg), cache_dir=cache_dir)
    if as_json:
        print_json({"command": "run", "out_dir": out, "summary": result.summary, "notes": list(result.notes)})
    elif quiet:
        if result.notes:
            err.quiet = False
            err.print(f"{len(result.notes)} note(s)" + (f"; see {out / 'notes.txt'}" if out is not None else ""))
    else:
        _print_summary(Console(), result, out)


def register(group: click.Group) -> None:
    @group.command("run")
    @config_data_options
    @click.option("--out", type=click.Path(path_type=Path), help="Output folder (default: out/<run name>).")
    @click.option("--cache-dir", type=click.Path(path_type=Path), help="Parquet cache for akshare downloads.")
    @click.option("--report", is_flag=True, help="Also write tearsheet.html (+ figures/) into the output folder.")
    @output_options
    def run_cmd(config: Path, data_dir: Path | None, source: str | None, refresh: bool, out: Path | None,
                cache_dir: Path | None, report: bool, as_json: bool, quiet: bool) -> None:
        """Run the backtest described by CONFIG (a TOML file; see configs/)."""
        cfg = load_config(config).with_overrides(source=source, data_dir=data_dir, refresh=refresh)
        check_out_dir(out or Path("out") / cfg.name)
        _execute(cfg, out or Path("out") / cfg.name, cache_dir, as_json=as_json, quiet=quiet)
        if report:
            from backtests.reporting import render_report  # matplotlib only when asked for

            written = render_report(out or Path("out") / cfg.name)
            if not quiet:
                click.echo(f"wrote {written}", err=as_json)

    @group.command("demo")
    @click.option("--out", type=click.Path(path_type=Path), default=Path("out/demo"), show_default=True)
    @click.option("--seed", type=int, default=None, help="Seed of the synthetic market (default 7).")
    @output_options
    def demo_cmd(out: Path, seed: int | None, as_json: bool, quiet: bool) -> None:
        """Run the embedded default end to end, offline, on the seeded SYNTHETIC market."""
        with resources.as_file(resources.files("backtests") / "data" / DEMO_CONFIG) as path:
            cfg = load_config(path)
        if seed is not None:
            cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, seed=seed))
        check_out_dir(out)
        _execute(cfg, out, None, as_json=as_json, quiet=quiet)
