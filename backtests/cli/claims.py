"""``catalyst-bt claims ARTICLE...``: check an article's own price statements against the data."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, datetime, time
from pathlib import Path

import click
from rich.console import Console

from backtests.cli.tables import Col, fit_table
from backtests.claims_check import CSV_COLUMNS, VERDICTS, ClaimChecker, ClaimRow, ClaimsInputError, Tolerances
from backtests.reporting.load import CLAIMS_CSV
from backtests.outdir import check_out_dir, staged_output
from backtests.results import atomic_write_text
from data_loaders.registry import active_registry
from data_loaders.registry_file import load_registry_file
from data_loaders.schema import PriceSource
from data_loaders.sources import SOURCE_KINDS, make_source
from events.claims import find_claims
from events.claims_subjects import AliasIndex
from events.extract import read_article



def claims_csv(rows: list[ClaimRow]) -> str:
    """Rows as CSV text (columns :data:`backtests.claims_check.CSV_COLUMNS`)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=list(CSV_COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow(row.as_dict())
    return buf.getvalue()


# Kept first: number, subject, claimed, computed, verdict; then the period; then the rest. The
# reasons follow the table, one numbered line each (long text would squeeze every column).
_COLUMNS: tuple[Col, ...] = (
    Col(header="#", justify="right"), Col(header="span", priority=3, justify="right"),
    Col(header="subject → listing", wrap=True, min_width=12), Col(header="quantity", priority=2),
    Col(header="period", wrap=True, min_width=12),
    Col(header="claimed", justify="right", wrap=True, min_width=10),
    Col(header="computed", justify="right", wrap=True, min_width=10), Col(header="verdict"),
)


def _print_rows(console: Console, article: str, rows: list[ClaimRow]) -> None:
    cells = [[str(k), r.span,
              r.listing if r.quantity == "comparison" else f"{r.subject or '(none)'} → {r.listing or '?'}",
              r.quantity, f"{r.period_start}→ {r.period_end}" if r.period_start else r.period_end, r.claimed,
              r.computed, r.verdict] for k, r in enumerate(rows, 1)]
    console.print(fit_table(console, _COLUMNS, cells, title=f"{article}: {len(rows)} price statement(s)",
                            dropped_hint=f"every column is in {CLAIMS_CSV} with --out"))
    for k, r in enumerate(rows, 1):
        console.print(f"  #{k} {r.verdict}: {r.why}", markup=False, highlight=False)


def _given_date(value: datetime | None) -> date | datetime | None:
    """``--article-date``: a date, or a date and time when one was written (click gives midnight otherwise)."""
    if value is None:
        return None
    return value.date() if value.time() == time(0, 0) else value


def _source(data_dir: Path | None, source: str | None) -> PriceSource:
    kind = source or ("csv" if data_dir is not None else None)
    if kind is None:
        raise ClaimsInputError("claims needs real prices: pass --data-dir DIR (a folder of SYMBOL.csv files, e.g. "
                               "../shared/data/prices) or --source akshare")
    if kind == "synthetic":
        raise ClaimsInputError("--source synthetic: an article's numbers cannot be confirmed or contradicted by "
                               "simulated prices; use --data-dir DIR or --source akshare")
    if data_dir is not None and kind != "csv":
        raise ClaimsInputError(f"--data-dir is a CSV folder but --source is {kind!r}; drop one of them")
    return make_source(kind, data_dir=data_dir)  # type: ignore[arg-type]


@click.command("claims")
@click.argument("articles", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--data-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Folder of SYMBOL.csv files (implies --source csv).")
@click.option("--source", type=click.Choice(SOURCE_KINDS), help="Price source (akshare or csv; not synthetic).")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path),
              help=f"Write {CLAIMS_CSV} here (the tearsheet shows it: catalyst-bt report OUT).")
@click.option("--listings", type=click.Path(dir_okay=False, path_type=Path),
              help="A TOML file of [[listing]] / [[issuer]] tables (e.g. more aliases) added to the shipped "
                   "registry; a redeclared entry replaces the shipped one.")
@click.option("--article-date", type=click.DateTime(formats=["%Y-%m-%d", "%Y-%m-%d %H:%M"]),
              help="Publication date, or 'YYYY-MM-DD HH:MM' local time (zone: --tz), when the article does not "
                   "state it (one article only). Only with a time is 'the last close before publication' known.")
@click.option("--tz", help="Zone of the article's publication time (default: Asia/Shanghai for Chinese, "
                           "America/New_York for English).")
@click.option("--approx-pp", type=float, default=Tolerances().approx_pp, show_default=True,
              help="近 / about: returns within max(this many percentage points, --approx-rel × claimed).")
@click.option("--approx-rel", type=float, default=Tolerances().approx_rel, show_default=True,
              help="近 / about: relative part of the return tolerance.")
@click.option("--approx-price-rel", type=float, default=Tolerances().approx_price_rel, show_default=True,
              help="近 / about: prices within this fraction of the claimed price.")
def claims_cmd(articles: tuple[Path, ...], data_dir: Path | None, source: str | None, out: Path | None,
               listings: Path | None, article_date: datetime | None, tz: str | None, approx_pp: float,
               approx_rel: float, approx_price_rel: float) -> None:
    """Find the closing prices and returns ARTICLES state, and check each against the prices.

    Every statement gets a verdict (supported / approximately / contradicted / unresolved)
    with the computed value and how its subject, period and wording were read.
    """
    if article_date is not None and len(articles) > 1:
        raise ClaimsInputError(f"--article-date applies to one article; {len(articles)} were given "
                               f"(run claims once per undated article)")
    if out is not None:
        check_out_dir(out)  # before any work: not /, not a file, writable
    tol = Tolerances(approx_pp=approx_pp, approx_rel=approx_rel, approx_price_rel=approx_price_rel)
    registry = active_registry() if listings is None else load_registry_file(listings, base=active_registry())
    index = AliasIndex(registry)
    checker = ClaimChecker(registry=registry, source=_source(data_dir, source), tolerances=tol)
    console = Console()
    all_rows: list[ClaimRow] = []
    for path in articles:
        text = read_article(path)
        result = find_claims(text, index=index, article=path.name,
                             article_date=_given_date(article_date), tz=tz)
        rows = checker.check(result, text)
        ad = result.article_date
        console.print(f"{path.name}: article date {ad.day or ad.year or 'unknown'} ({ad.source}"
                      f"{'' if ad.exact else ', inferred'}); {len(result.skipped)} percentage(s) not about "
                      f"prices skipped")
        if rows:
            _print_rows(console, path.name, rows)
        all_rows += rows
    counts = Counter(r.verdict for r in all_rows)
    console.print(f"{len(all_rows)} statement(s): " + ", ".join(f"{counts[v]} {v}" for v in VERDICTS))
    if out is not None:
        with staged_output(out, command="claims", owned=(CLAIMS_CSV,)) as stage:  # sealed for `report`
            atomic_write_text(stage / CLAIMS_CSV, claims_csv(all_rows))
        Console(stderr=True).print(f"wrote {out / CLAIMS_CSV}")


def register(group: click.Group) -> None:
    """Add ``claims`` to the ``catalyst-bt`` CLI."""
    group.add_command(claims_cmd)
