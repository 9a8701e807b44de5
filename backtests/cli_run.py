"""``catalyst-bt run CONFIG`` and ``catalyst-bt demo``."""

from __future__ import annotations

import dataclasses
from importlib import resources
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from backtests.cli_options import config_data_options
from backtests.config import RunConfig, load_config
from backtests.results import BacktestResult
from backtests.runner import run_config

DEMO_CONFIG = "demo.toml"


def _print_summary(console: Console, result: BacktestResult, out_dir: Path | None) -> None:
    s = result.summary
    title = "SYNTHETIC DATA — not market prices" if s["synthetic_data"] else "backtest"
    table = Table(title=f"{s.get('strategy', '')} {s.get('start', '')}..{s.get('end', '')} ({title})")
    table.add_column("figure")
    table.add_column("value", justify="right")
    ccy = s["base_currency"]
    table.add_row("total return", f"{s['total_return']:+.2%}")
    table.add_row(f"{s['benchmark']} return, same span", f"{s['benchmark_return']:+.2%}")
    table.add_row("max drawdown", f"{s['max_drawdown']:.2%}")
    table.add_row("trades (closed)", f"{s['trade_count']} ({s['closed_trade_count']})")
    table.add_row(f"final equity ({ccy})", f"{s['final_equity_base']:,.2f}")
    table.add_row(f"costs ({ccy})", f"{s['costs_base']:,.2f}")
    console.print(table)
    if len(result.trades):
        trades = Table(title="trades")
        for col in ("catalyst_id", "listing", "quantity", "entry_session", "entry_price",
                    "exit_session", "exit_price", "net_pnl_base"):
            trades.add_column(col)
        for row in result.trades.itertuples():
            exit_session = "open" if row.status == "open" else f"{row.exit_session:%Y-%m-%d}"
            exit_price = "" if row.status == "open" else f"{row.exit_price:.2f}"
            pnl = "" if row.status == "open" else f"{row.net_pnl_base:,.2f}"
            trades.add_row(str(row.catalyst_id), row.listing, str(row.quantity), f"{row.entry_session:%Y-%m-%d}",
                           f"{row.entry_price:.2f}", exit_session, exit_price, pnl)
        console.print(trades)
    for note in result.notes:
        console.print(f"[dim]note: {note}[/dim]")
    if out_dir is not None:
        console.print(f"wrote trades.csv, equity.csv, costs.csv, summary.json to {out_dir}")


def _execute(cfg: RunConfig, out: Path | None, cache_dir: Path | None) -> None:
    console = Console()
    err = Console(stderr=True)
    with err.status("starting") as status:
        result, _ = run_config(cfg, out_dir=out, progress=lambda msg: status.update(msg), cache_dir=cache_dir)
    _print_summary(console, result, out)


def register(group: click.Group) -> None:
    @group.command("run")
    @config_data_options
    @click.option("--out", type=click.Path(path_type=Path), help="Output folder (default: out/<run name>).")
    @click.option("--cache-dir", type=click.Path(path_type=Path), help="Parquet cache for akshare downloads.")
    def run_cmd(config: Path, data_dir: Path | None, source: str | None, out: Path | None,
                cache_dir: Path | None) -> None:
        """Run the backtest described by CONFIG (a TOML file; see configs/)."""
        cfg = load_config(config).with_overrides(source=source, data_dir=data_dir)
        _execute(cfg, out or Path("out") / cfg.name, cache_dir)

    @group.command("demo")
    @click.option("--out", type=click.Path(path_type=Path), default=Path("out/demo"), show_default=True)
    @click.option("--seed", type=int, default=None, help="Seed of the synthetic market (default 7).")
    def demo_cmd(out: Path, seed: int | None) -> None:
        """Run the embedded default end to end, offline, on the seeded SYNTHETIC market."""
        with resources.as_file(resources.files("backtests") / "data" / DEMO_CONFIG) as path:
            cfg = load_config(path)
        if seed is not None:
            cfg = dataclasses.replace(cfg, data=dataclasses.replace(cfg.data, seed=seed))
        _execute(cfg, out, None)
