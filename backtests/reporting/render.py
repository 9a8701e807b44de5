"""Assemble the tearsheet: loaded parts -> panels + core sections -> one self-contained HTML file.

``tearsheet.html`` embeds its stylesheet, its small script and (when the page has charts) the
plotly.js bundle, compressed (:mod:`backtests.reporting.assets`): it loads no script, font or
image from anywhere, so it can be mailed or archived as one file and opened offline. Charts
are interactive (hover values, zoom, legend toggles); tables sort and filter. With
``png=True`` the matplotlib figures are also written to ``figures/`` for slides and notes.
Output is deterministic: same folder contents, same bytes.
"""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from markupsafe import Markup

from backtests.reporting.assets import page_script, plotly_bundle
from backtests.reporting.event_chart import car_spec
from backtests.reporting.fragments import chart
from backtests.reporting.load import ResultsFolder, load_results
from backtests.reporting.panels import CORE_ORDER, Panel, Placed, render_panels
from backtests.reporting.series import benchmark_name
from backtests.reporting.tables import (
    event_study_tables, headline_cards, metrics_rows, pnl_by_catalyst, provenance_rows, schedule_table, trades_table,
)
from backtests.results import atomic_write_text
from data_loaders.errors import UserError
from events.calendar_file import default_calendar_path, load_calendar

HTML_NAME = "tearsheet.html"
FIGURES_DIR = "figures"
TEMPLATE = "tearsheet.html.j2"


@dataclass(frozen=True, kw_only=True)
class ReportFigure:
    """One PNG figure for ``figures/`` (``png=True`` only): file name, alt text and bytes."""

    name: str
    alt: str
    png: bytes

    @property
    def path(self) -> str:
        return f"{FIGURES_DIR}/{self.name}"


@dataclass(frozen=True, kw_only=True)
class Report:
    """A rendered tearsheet before it is written: the HTML text and its PNG figures (if asked)."""

    html: str
    figures: tuple[ReportFigure, ...] = field(default=())


def _environment() -> jinja2.Environment:
    """The template environment: package templates, autoescaping on, undefined names are errors."""
    return jinja2.Environment(loader=jinja2.PackageLoader("backtests.reporting", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


def starred_catalysts(folder: ResultsFolder) -> set[str]:
    """Starred catalysts: from schedule.csv, else from the calendar the event study names
    (``meta.calendar``; silently none when it cannot be read)."""
    if folder.schedule is not None and "starred" in folder.schedule.columns:
        return set(folder.schedule.loc[folder.schedule["starred"], "catalyst_id"].astype(str))
    calendar = (folder.event_study.meta.get("calendar") if folder.event_study is not None else None)
    if not isinstance(calendar, str) or not calendar:
        return set()
    path = Path(calendar)
    if not (path.suffix == ".toml" or path.exists()):
        path = default_calendar_path().parent / f"{calendar}.toml"   # a shipped calendar by name
    try:
        return {c.id for c in load_calendar(path) if getattr(c, "starred", False)}
    except (UserError, OSError, ValueError):
        return set()


def _event_study_ctx(folder: ResultsFolder) -> dict[str, Any]:
    es = folder.event_study
    assert es is not None
    ctx = event_study_tables(es)
    starred = starred_catalysts(folder)
    ctx["starred"] = sorted(starred)
    paths = es.paths
    order = [c for c in ctx["order"] if paths is not None and c in set(paths["catalyst_id"].astype(str))]
    ctx["has_paths"] = bool(order)
    ctx["chart"] = chart("event-car", car_spec(paths, order=order, starred=starred), caption=(
        "Pick a catalyst in the menu. x: sessions relative to day 0. Lines: CAR per listing, cumulated from the "
        "first day shown; bars: daily AR; "
        "shaded: placebo band of the CAR path (random non-event day 0s, scaled to the event's residual sigma). "
        "Hover for values and sessions.")) if order else Markup("")
    return ctx


def _title(folder: ResultsFolder) -> tuple[str, str]:
    summary = folder.summary or {}
    strategy = summary.get("strategy")
    if strategy:
        title = f"{strategy} — tearsheet"
    elif folder.event_study is not None:
        title = "Event study — tearsheet"
    elif folder.sweep is not None:
        title = f"Parameter sweep ({folder.sweep.metric}) — tearsheet"
    else:
        title = "catalyst-bt tearsheet"
    spans = []
    if summary.get("start") or summary.get("end"):
        spans.append(f"{summary.get('start', '?')} .. {summary.get('end', '?')}")
    elif folder.sweep is not None and folder.sweep.raw.get("start"):
        spans.append(f"{folder.sweep.raw.get('start')} .. {folder.sweep.raw.get('end', '?')}")
    elif folder.event_study is not None and "day0" in folder.event_study.table.columns:
        days = sorted(str(d) for d in folder.event_study.table["day0"].dropna().unique())
        if days:
            spans.append(f"day 0s {days[0]} .. {days[-1]}")
    return title, " · ".join(spans)


def build_report(folder: ResultsFolder, panels: tuple[Panel, ...] | None = None, *, png: bool = False) -> Report:
    """Render the tearsheet of ``folder`` in memory (no files written).

    ``panels`` replaces the discovered :mod:`backtests.reporting.panels` (tests); ``png`` also
    draws the matplotlib figures (returned in :attr:`Report.figures`).
    """
    summary = folder.summary or {}
    title, subtitle = _title(folder)
    ctx: dict[str, Any] = {
        "title": title, "subtitle": subtitle, "synthetic": folder.synthetic, "facts": [],  # span/config/provenance per part: the context panel
        "cards": headline_cards(summary) if summary else [], "metrics": metrics_rows(summary) if summary else [],
        "currency": str(summary.get("base_currency", "") or ""), "benchmark": benchmark_name(folder),
        "schedule": schedule_table(folder.schedule) if folder.schedule is not None and len(folder.schedule) else None,
        "trades": trades_table(folder) if folder.trades is not None else None,
        "by_catalyst": pnl_by_catalyst(folder),
        "event_study": _event_study_ctx(folder) if folder.event_study is not None else None,
        "provenance": provenance_rows(folder.provenance) if folder.provenance else None,
        "notes": list(folder.notes), "problems": list(folder.problems),
        "periods_per_year": (summary.get("metrics") or {}).get("periods_per_year")
        if isinstance(summary.get("metrics"), dict) else None,
    }
    placed, panel_problems = render_panels(folder, panels)
    ctx["problems"] += panel_problems
    for p in placed:
        ctx["problems"] += list(p.fragment.problems)
        ctx["facts"] = list(ctx["facts"]) + list(p.fragment.facts)
    ctx["flags"] = [f for p in placed for f in p.fragment.flags]
    ctx["blocks"] = _blocks(ctx, placed)
    ctx["sections"] = ([("report-problems", "Files skipped")] if ctx["problems"] else []) + [
        (b["anchor"], b["title"]) for b in ctx["blocks"]]
    body = "".join(str(b["html"]) for b in ctx["blocks"]) + str((ctx["event_study"] or {}).get("chart", ""))
    has_charts = 'data-chart role="img"' in body
    ctx["plotly_version"], ctx["plotly_b64"] = plotly_bundle() if has_charts else ("", "")
    ctx["page_script"] = page_script() if has_charts or 'class="sortable' in body else ""
    ctx["png"] = png
    html = _environment().get_template(TEMPLATE).render(**ctx)
    figs: tuple[ReportFigure, ...] = ()
    if png:
        from backtests.reporting.png import png_figures  # matplotlib only when asked

        figs = tuple(ReportFigure(name=n, alt=a, png=b) for n, a, b in png_figures(folder))
    return Report(html=html, figures=figs)


def _core_sections(ctx: dict[str, Any]) -> list[tuple[str, str]]:
    """The core (template) sections present, as ``(anchor, nav label)``."""
    out = []
    if ctx["cards"] or ctx["metrics"]:
        out.append(("metrics", "Metrics"))
    if ctx["schedule"]:
        out.append(("catalysts", "Catalysts"))
    if ctx["trades"]:
        out.append(("trades", "Trades"))
    if ctx["event_study"]:
        out.append(("event-study", "Event study"))
    if ctx["provenance"] is not None or ctx["notes"]:
        out.append(("provenance", "Data & notes"))
    return out


def _blocks(ctx: dict[str, Any], placed: list[Placed]) -> list[dict[str, Any]]:
    """Core sections and panel fragments in page order (core places from :data:`CORE_ORDER`)."""
    items: list[tuple[int, int, dict[str, Any]]] = []
    for i, (anchor, label) in enumerate(_core_sections(ctx)):
        items.append((CORE_ORDER.get(anchor, 1000), i, {"core": True, "anchor": anchor, "title": label, "html": ""}))
    for j, p in enumerate(placed):
        items.append((p.order, len(items) + j, {"core": False, "anchor": p.fragment.anchor,
                                                 "title": p.fragment.title, "html": Markup(p.fragment.html)}))
    return [b for _, _, b in sorted(items, key=lambda t: (t[0], t[1]))]


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def render_report(out_dir: Path, *, png: bool = False) -> Path:
    """Write ``out_dir/tearsheet.html`` (and with ``png`` the figures ``out_dir/figures/*.png``).

    Parameters
    ----------
    out_dir
        A folder written by ``catalyst-bt run``, ``study`` and/or ``sweep`` (any subset of
        their files; each panel appears only when its files exist).
    png
        Also draw the matplotlib PNG figures into ``figures/`` (stale ones are removed).

    Returns
    -------
    Path
        The HTML file written.

    Raises
    ------
    ReportInputError
        ``out_dir`` is missing or holds none of the expected files.
    """
    out = Path(out_dir)
    report = build_report(load_results(out), png=png)
    if png:
        fig_dir = out / FIGURES_DIR
        written = set()
        for fig in report.figures:
            _atomic_write_bytes(fig_dir / fig.name, fig.png)
            written.add(fig.name)
        if fig_dir.is_dir():  # figures of panels that no longer exist would mislead
            for stale in fig_dir.glob("*.png"):
                if stale.name not in written:
                    stale.unlink()
    html_path = out / HTML_NAME
    atomic_write_text(html_path, report.html)
    return html_path
