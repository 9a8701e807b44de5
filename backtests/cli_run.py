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


_PERCENT = ("total_return", "annualised_return", "volatility_annual", "max_drawdown", "alpha_annual",
            "tracking_error_annual", "hit_rate", "exposure")
_ROWS = (("total_return", "total return"), ("annualised_return", "annualised return"),
         ("volatility_annual", "volatility (annual)"), ("sharpe", "Sharpe"), ("sortino", "Sortino"),
         ("max_drawdown", "max drawdown"), ("max_drawdown_duration_sessions", "drawdown length (sessions)"),
         ("beta", "beta"), ("alpha_annual", "alpha (annual)"), ("information_ratio", "information ratio"),
         ("tracking_error_annual", "tracking error (annual)"), ("hit_rate", "hit rate"),
         ("exposure", "exposure (share of sessions)"))


def _fmt(key: str, value: float | None) -> str:
    if value is None or value != value:  # NaN: undefined (see backtests.metrics)
        return "n/a"
    if key in _PERCENT:
        return f"{value:+.2%}" if key.endswith("return") or key == "alpha_annual" else f"{value:.2%}"
    if key.endswith("_sessions"):
        return f"{value:.0f}"
    return f"{value:.2f}"


def _print_summary(console: Console, result: BacktestResult, out_dir: Path | None) -> None:
    s = result.summary
    title = "SYNTHETIC DATA — not market prices" if s["synthetic_data"] else "backtest"
    ann = s.get("annualisation", {})
    table = Table(title=f"{s.get('strategy', '')} {s.get('start', '')}..{s.get('end', '')} ({title})",
                  caption=f"on {s['benchmark']}'s sessions; annualised with {ann.get('periods_per_year', 0):.0f} "
                          f"sessions a year ({ann.get('calendar', '')})")
    table.add_column("figure")
    table.add_column("strategy", justify="right")
    table.add_column(s["benchmark"], justify="right")
    metrics, bench = s.get("metrics", {}), s.get("benchmark_metrics", {})
    for key, label in _ROWS:
        if key in metrics:
            table.add_row(label, _fmt(key, metrics[key]), _fmt(key, bench[key]) if key in bench else "")
    ccy = s["base_currency"]
    table.add_row("trades (closed)", f"{s['trade_count']} ({s['closed_trade_count']})", "")
    table.add_row(f"average trade ({ccy})", _fmt("average", metrics.get("average_trade_pnl_base")), "")
    table.add_row(f"final equity ({ccy})", f"{s['final_equity_base']:,.2f}", "")
    table.add_row(f"costs ({ccy})", f"{s['costs_base']:,.2f}", "")
    console.print(table)
    if len(result.trades):
        trades = Table(title="trades")
        for col in ("catalyst_id", "listing", "quantity", "entry_session", "entry_price",
                    "exit_session", "exit_price", "net_pnl_base"):
            trades.add_column(col)
        for row in result.trades.itertuples():
            closed = row.status == "closed"
            trades.add_row(str(row.catalyst_id or row.role), row.listing, f"{row.direction * row.quantity:+d}",
                           f"{row.entry_session:%Y-%m-%d}", f"{row.entry_price:.2f}",
                           f"{row.exit_session:%Y-%m-%d}" if closed else "open",
                           f"{row.exit_price:.2f}" if closed else "",
                           f"{row.net_pnl_base:,.2f}" if closed else "")
        console.print(trades)
    for note in result.notes:
        console.print(f"[dim]note: {note}[/dim]")
    if out_dir is not None:
        console.print(f"wrote trades.csv, costs.csv, equity.csv, positions.csv, returns.csv, schedule.csv, "
                      f"provenance.json, summary.json to {out_dir}")


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
    @click.option("--report", is_flag=True, help="Also write tearsheet.html (+ figures/) into the output folder.")
    def run_cmd(config: Path, data_dir: Path | None, source: str | None, out: Path | None,
                cache_dir: Path | None, report: bool) -> None:
        """Run the backtest described by CONFIG (a TOML file; see configs/)."""
        cfg = load_config(config).with_overrides(source=source, data_dir=data_dir)
        _execute(cfg, out or Path("out") / cfg.name, cache_dir)
        if report:
            from backtests.report import render_report  # matplotlib only when asked for

            click.echo(f"wrote {render_report(out or Path('out') / cfg.name)}")

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
