"""``catalyst-bt data show|fetch SYMBOL``: look at prices and what validation found."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import click
import numpy as np
import pandas as pd

from data_loaders.cache import CachedSource
from data_loaders.registry import Registry, default_registry, use_registry
from data_loaders.registry_file import load_registry_file
from data_loaders.schema import PRICE_COLUMNS, DailyBars
from data_loaders.sources import SOURCE_KINDS, SourceConfigError, make_source
from data_loaders.synthetic import DEFAULT_SEED

_DATE = click.DateTime(formats=["%Y-%m-%d"])


def _source_options(default_source: str | None) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    options = [
        click.argument("symbol"),
        click.option("--source", "source_kind", type=click.Choice(SOURCE_KINDS), default=default_source,
                     help="Where prices come from"
                          + ("" if default_source else " (default: csv with --data-dir, else synthetic)")),
        click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Folder of SYMBOL.csv files (date,open,high,low,close,adj_close,volume)."),
        click.option("--start", type=_DATE, help="First session, YYYY-MM-DD."),
        click.option("--end", type=_DATE, help="Last session, YYYY-MM-DD."),
        click.option("--adjustment", type=click.Choice(["raw", "adjusted"]), default="raw", show_default=True,
                     help="raw = traded prices; adjusted = dividend-adjusted."),
        click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
                     help="Cache folder (default $CATALYST_BT_CACHE or ~/.cache/catalyst-bt)."),
        click.option("--refresh", is_flag=True, help="Fetch again instead of reading the cache."),
        click.option("--seed", type=int, default=DEFAULT_SEED, show_default=True, help="Synthetic market seed."),
        click.option("--listings", "listings_file", type=click.Path(dir_okay=False, path_type=Path),
                     help="A TOML file of [[listing]] tables declaring symbols the shipped registry lacks."),
    ]

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        for option in reversed(options):
            fn = option(fn)
        return fn
    return decorate


def _build(source_kind: str | None, data_dir: Path | None, cache_dir: Path | None, seed: int, refresh: bool,
           start: datetime | None, end: datetime | None) -> Any:
    if start is not None and end is not None and start > end:
        raise click.BadParameter(f"--start {start:%Y-%m-%d} is after --end {end:%Y-%m-%d}", param_hint="--start")
    kind = source_kind or ("csv" if data_dir is not None else "synthetic")
    return make_source(kind, data_dir=data_dir, cache_dir=cache_dir, seed=seed, refresh=refresh)


def _registry(listings_file: Path | None) -> Registry | None:
    """The shipped registry plus ``--listings FILE`` (``None``: keep the active one)."""
    return None if listings_file is None else load_registry_file(listings_file, base=default_registry())


def _describe(bars: DailyBars) -> str:
    span = f"{bars.sessions[0]:%Y-%m-%d}..{bars.sessions[-1]:%Y-%m-%d}" if len(bars) else "no sessions"
    return f"{bars.symbol} ({bars.currency}, {bars.adjustment}) from {bars.source}: {len(bars)} sessions, {span}"


def _synthetic_banner(bars: DailyBars) -> list[str]:
    return [f"SYNTHETIC DATA from a seeded model ({bars.source}), not market prices"] if bars.synthetic else []


def _table(frame: pd.DataFrame) -> str:
    """Prices with as many decimals as the data has (2 to 4), volumes as whole numbers."""
    prices = frame[list(PRICE_COLUMNS)]
    decimals = next((d for d in (2, 3) if np.allclose(prices, prices.round(d), rtol=0, atol=1e-9)), 4)
    text = prices.map(lambda x: f"{x:,.{decimals}f}")
    text["volume"] = frame["volume"].map(lambda v: "-" if pd.isna(v) else f"{v:,.0f}")
    text["close_utc"] = frame["close_utc"].dt.strftime("%Y-%m-%d %H:%M")
    text.index = pd.Index(frame.index.strftime("%Y-%m-%d"))
    return text.to_string()


@click.group("data")
def data() -> None:
    """Inspect and fetch price data."""


@data.command("show")
@_source_options(default_source=None)
@click.option("--rows", type=click.IntRange(min=1), default=5, show_default=True,
              help="Sessions shown from each end.")
def show(symbol: str, source_kind: str | None, data_dir: Path | None, start: datetime | None,
         end: datetime | None, adjustment: str, cache_dir: Path | None, refresh: bool, seed: int,
         listings_file: Path | None, rows: int) -> None:
    """Print SYMBOL's first and last sessions and every issue validation reported."""
    source = _build(source_kind, data_dir, cache_dir, seed, refresh, start, end)
    with use_registry(_registry(listings_file)):
        bars = source.daily_bars(symbol, start, end, adjustment)
    lines = [*_synthetic_banner(bars), _describe(bars)]
    frame = bars.frame
    shown = frame if len(frame) <= 2 * rows else pd.concat([frame.head(rows), frame.tail(rows)])
    if len(frame):
        lines.append(_table(shown))
        if len(frame) > 2 * rows:
            lines.append(f"... {len(frame) - 2 * rows} sessions not shown")
    lines.append(f"issues: {len(bars.issues) or 'none'}")
    lines += [f"  - {issue.kind}: {issue.message}" for issue in bars.issues]
    click.echo("\n".join(lines))


@data.command("fetch")
@_source_options(default_source="akshare")
def fetch(symbol: str, source_kind: str, data_dir: Path | None, start: datetime | None, end: datetime | None,
          adjustment: str, cache_dir: Path | None, refresh: bool, seed: int, listings_file: Path | None) -> None:
    """Fetch SYMBOL's full history into the cache (akshare) and say where it is."""
    source = _build(source_kind, data_dir, cache_dir, seed, refresh, start, end)
    if not isinstance(source, CachedSource):
        raise SourceConfigError(
            f"data fetch caches akshare downloads; --source {source_kind} is read directly "
            f"(use `catalyst-bt data show {symbol} --source {source_kind}`)")
    with use_registry(_registry(listings_file)):
        entry = source.load(symbol, start, end, adjustment)
    verb = "already cached in" if entry.from_cache else "written to"
    lines = [*_synthetic_banner(entry.bars), _describe(entry.bars),
             f"{verb} {entry.path} (fetched {entry.fetched_at_utc:%Y-%m-%d %H:%M} UTC)"
             + (" — use --refresh to fetch again" if entry.from_cache else ""),
             f"issues: {len(entry.bars.issues) or 'none'}"]
    lines += [f"  - {issue.kind}: {issue.message}" for issue in entry.bars.issues]
    click.echo("\n".join(lines))


def register(group: click.Group) -> None:
    """Add the ``data`` command group to the top-level CLI."""
    group.add_command(data)
