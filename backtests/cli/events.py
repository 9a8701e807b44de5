"""``catalyst-bt events schedule CALENDAR`` and ``catalyst-bt events extract ARTICLE``."""

from __future__ import annotations

import sys
from datetime import datetime
from pathlib import Path

import click
import pandas as pd
from rich.console import Console

from backtests.cli.tables import Col, fit_table
from backtests.results import atomic_write_text
from data_loaders.errors import UserError
from data_loaders.markets import get_listing
from data_loaders.registry import active_registry
from events.extract import DEFAULT_LISTINGS, extract_article, read_article, render_jsonl, render_toml
from events.schedule import FILL_POLICIES, EventSchedule, FillPolicy, ScheduleRow, build_schedule

SCHEDULE_COLUMNS: tuple[str, ...] = tuple(ScheduleRow.__dataclass_fields__)
_SESSION_COLUMNS = ("reaction_session", "first_trade_session")


def schedule_csv(rows: tuple[ScheduleRow, ...]) -> str:
    """Schedule rows as CSV: sessions as ``YYYY-MM-DD``, instants as ISO 8601 UTC."""
    frame = EventSchedule(rows=rows).to_frame()
    for col in frame.columns:
        if col in _SESSION_COLUMNS:
            frame[col] = [f"{v:%Y-%m-%d}" for v in frame[col]]
        elif col.endswith("_utc"):
            frame[col] = [pd.Timestamp(v).isoformat() for v in frame[col]]
    return frame.to_csv(index=False, lineterminator="\n")


def _check_listings(listings: tuple[str, ...]) -> tuple[str, ...]:
    for sym in listings:
        if not get_listing(sym).tradable:  # raises UnknownSymbolError (a UserError) with suggestions
            raise click.BadParameter(f"{sym} is not a tradable listing", param_hint="--listing")
    return listings


def _local(instant: pd.Timestamp, symbol: str) -> str:
    return f"{instant.tz_convert(get_listing(symbol).market.tz):%m-%d %H:%M}"


SCHEDULE_TABLE: tuple[Col, ...] = (
    Col(header="catalyst", wrap=True), Col(header="known from", priority=3), Col(header="known by", priority=2),
    Col(header="day 0"), Col(header="first trade"), Col(header="at", priority=4),
    Col(header="sessions lost", priority=1, justify="right"),
)


def _print_schedule(console: Console, schedule: EventSchedule, listings: list[str], policy: str) -> None:
    for sym in listings:
        rows = schedule.for_listing(sym)
        tz = get_listing(sym).market.tz
        cells = [(r.catalyst_id, _local(r.earliest_utc, sym), _local(r.latest_utc, sym), f"{r.reaction_session:%Y-%m-%d}",
                  f"{r.first_trade_session:%Y-%m-%d} {r.first_trade_point}", _local(r.first_trade_utc, sym),
                  str(r.sessions_lost)) for r in sorted(rows, key=lambda r: (r.earliest_utc, r.catalyst_id))]
        console.print(fit_table(console, SCHEDULE_TABLE, cells, dropped_hint="every column is in the CSV",
                                title=f"{sym}: first reaction and first trade ({policy}; local times {tz})"))


def _write_schedule(schedule: EventSchedule, out: Path, listings: list[str]) -> list[Path]:
    """One CSV (``out`` ends in .csv) or one CSV per listing in folder ``out``."""
    if out.suffix.lower() == ".csv":
        rows = tuple(sorted(schedule.rows, key=lambda r: (r.listing, r.earliest_utc, r.catalyst_id)))
        atomic_write_text(out, schedule_csv(rows))
        return [out]
    if out.exists() and not out.is_dir():
        raise UserError(f"--out {out}: exists and is not a folder; give a folder or a file name ending in .csv")
    written = []
    for sym in listings:
        path = out / f"{sym}.csv"
        atomic_write_text(path, schedule_csv(tuple(sorted(schedule.for_listing(sym),
                                                          key=lambda r: (r.earliest_utc, r.catalyst_id)))))
        written.append(path)
    return written


@click.group("events")
def events_group() -> None:
    """Catalyst calendars: place them on exchange calendars, extract candidates from articles."""


@events_group.command("schedule")
@click.argument("calendar", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--fill-policy", type=click.Choice(FILL_POLICIES), default="next_open", show_default=True,
              help="next_open: first open after the news is surely out; same_close: market-on-close "
                   "in the session whose cut-off is after it.")
@click.option("--listing", "listings", multiple=True,
              help="Only this listing (repeatable). Default: every listing the catalysts name.")
@click.option("--out", type=click.Path(path_type=Path),
              help="A .csv file for all rows, or a folder for one LISTING.csv each. "
                   "Default: <calendar name>_schedule.csv in the current folder.")
def schedule_cmd(calendar: Path, fill_policy: FillPolicy, listings: tuple[str, ...], out: Path | None) -> None:
    """Print and write, per listing, each catalyst's day 0 and first tradable bar.

    CALENDAR is a TOML file or the name of a shipped calendar (e.g. alibaba_2025).
    """
    from backtests.runner import load_catalyst_calendar  # the engine (backtrader) only when scheduling

    cal = load_catalyst_calendar(str(calendar))
    wanted = _check_listings(listings) if listings else None
    schedule = build_schedule(cal.catalysts, listings=wanted, fill_policy=fill_policy)
    shown = list(wanted) if wanted else sorted({s for c in cal.catalysts for s in active_registry().expand_all(c.listings)})
    # the console's width: COLUMNS when set, else the terminal's, else 80 (piped)
    _print_schedule(Console(), schedule, shown, fill_policy)
    target = out if out is not None else Path(f"{calendar.stem}_schedule.csv")
    written = _write_schedule(schedule, target, shown)
    err = Console(stderr=True)
    err.print(f"wrote {len(schedule.rows)} row(s) to {', '.join(str(p) for p in written)}")
    for problem in schedule.problems:
        err.print(f"problem: {problem}", style="red", markup=False, highlight=False)  # user text, not markup
    if schedule.problems:
        sys.exit(1)


@events_group.command("extract")
@click.argument("article", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the candidates here (.toml or .jsonl); default: print them.")
@click.option("--format", "fmt", type=click.Choice(["toml", "jsonl"]), default=None,
              help="Output format (default: from --out's suffix, else toml).")
@click.option("--article-date", type=click.DateTime(formats=["%Y-%m-%d"]),
              help="The article's publication date, when the front matter and file name lack it.")
@click.option("--tz", help="Zone of times the article gives without one (default: Asia/Shanghai for "
                           "Chinese, America/New_York for English).")
@click.option("--listing", "listings", multiple=True,
              help=f"Listings to propose (repeatable; default {' '.join(DEFAULT_LISTINGS)}).")
def extract_cmd(article: Path, out: Path | None, fmt: str | None, article_date: datetime | None,
                tz: str | None, listings: tuple[str, ...]) -> None:
    """Propose candidate catalysts (dates, precision, evidence offsets) from an article for review."""
    chosen = _check_listings(listings) if listings else DEFAULT_LISTINGS
    result = extract_article(article, article_date=article_date.date() if article_date else None, tz=tz,
                             listings=chosen)
    fmt = fmt or ("jsonl" if out is not None and out.suffix.lower() in (".jsonl", ".json") else "toml")
    text = render_jsonl(result) if fmt == "jsonl" else render_toml(result, read_article(article))
    err = Console(stderr=True)
    ad = result.article_date
    err.print(f"{result.article}: {len(result.dated)} dated candidate(s), "
              f"{len(result.candidates) - len(result.dated) + len(result.undated)} without a date, "
              f"{len(result.skipped)} mention(s) skipped; article date {ad.day or ad.year or 'unknown'} "
              f"({ad.source})")
    if out is None:
        click.echo(text, nl=False)
    else:
        atomic_write_text(out, text)
        err.print(f"wrote {out}")


def register(group: click.Group) -> None:
    """Add the ``events`` command group to the ``catalyst-bt`` CLI."""
    group.add_command(events_group)
