"""Assemble the tearsheet: loaded parts -> figures + tables -> one self-contained HTML file.

``tearsheet.html`` embeds its stylesheet and every figure (PNG as ``data:`` URIs): it
loads no script, font or image from anywhere, so it can be mailed or archived as one
file. The same PNGs are written to ``figures/`` beside it for slides and notes. Output is
deterministic: same folder contents, same bytes.
"""

from __future__ import annotations

import base64
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
import numpy as np
import pandas as pd

from markupsafe import Markup

from backtests.report import figures
from backtests.report.assets import page_script, plotly_bundle
from backtests.report.equity_chart import equity_figure
from backtests.report.formatting import format_pct, raw_value
from backtests.report.load import ResultsFolder, load_results
from backtests.report.panels import CORE_ORDER, Panel, Placed, render_panels
from backtests.report.series import (
    ROLLING_WINDOW_SESSIONS, Curves, annualisation, curves_from_equity, curves_from_returns, monthly_returns,
    rolling_beta_alpha, underwater,
)
from backtests.report.tables import (
    event_study_tables, headline_cards, metrics_rows, pnl_by_catalyst, provenance_rows, run_facts, schedule_table,
    sweep_context,
    trades_table,
)
from backtests.results import atomic_write_text
from events.calendar_file import default_calendar_path, load_calendar
from data_loaders.errors import UserError

HTML_NAME = "tearsheet.html"
FIGURES_DIR = "figures"
TEMPLATE = "tearsheet.html.j2"


@dataclass(frozen=True, kw_only=True)
class ReportFigure:
    """One embedded figure: file name under ``figures/``, alt text and PNG bytes."""

    name: str
    alt: str
    png: bytes

    @property
    def uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")

    @property
    def path(self) -> str:
        return f"{FIGURES_DIR}/{self.name}"


@dataclass(frozen=True, kw_only=True)
class Report:
    """A rendered tearsheet before it is written: the HTML text and its figures."""

    html: str
    figures: tuple[ReportFigure, ...] = field(default=())


def _environment() -> jinja2.Environment:
    """The template environment: package templates, autoescaping on, undefined names are errors."""
    return jinja2.Environment(loader=jinja2.PackageLoader("backtests.report", "templates"), autoescape=True,
                              undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
                              keep_trailing_newline=True)


def _benchmark(folder: ResultsFolder) -> str:
    return str((folder.summary or {}).get("benchmark", "") or "")


def _curves(folder: ResultsFolder) -> Curves | None:
    summary = folder.summary or {}
    initial = summary.get("initial_cash_base")
    initial = float(initial) if isinstance(initial, (int, float)) and not isinstance(initial, bool) else None
    if folder.returns is not None and len(folder.returns.dropna(subset=["session"])):
        return curves_from_returns(folder.returns, initial_cash_base=initial, benchmark=_benchmark(folder))
    if folder.equity is not None and len(folder.equity.dropna(subset=["instant_utc"])):
        return curves_from_equity(folder.equity, initial_cash_base=initial)
    return None


def _performance_figures(folder: ResultsFolder, curves: Curves, ccy: str) -> tuple[list[ReportFigure], dict[str, Any]]:
    bench = _benchmark(folder)
    figs = [ReportFigure(name="equity.png",
                         alt=f"Equity of the strategy and {bench or 'the benchmark'} with catalyst first-trade markers",
                         png=equity_figure(curves, schedule=folder.schedule, currency=ccy, benchmark=bench))]
    dd = underwater(curves.strategy_equity_base, curves.start_value_base)
    bench_dd = underwater(curves.benchmark_equity_base, curves.start_value_base) \
        if curves.benchmark_equity_base is not None else None
    figs.append(ReportFigure(name="drawdown.png", alt="Drawdown (underwater) chart",
                             png=figures.drawdown_figure(dd, bench_dd, benchmark=bench)))
    info: dict[str, Any] = {"clock": curves.clock, "window": ROLLING_WINDOW_SESSIONS,
                            "has_benchmark": curves.benchmark_equity_base is not None}
    monthly = monthly_returns(curves)
    if len(monthly):
        figs.append(ReportFigure(name="monthly_returns.png", alt="Monthly returns heatmap",
                                 png=figures.monthly_figure(monthly)))
        info["monthly"] = monthly
    if curves.strategy_return is not None and curves.benchmark_return is not None:
        ppy, source = annualisation(folder.summary, bench, curves.strategy_return.index)
        info["periods_per_year"] = ppy
        info["annualisation_source"] = source
        rolling = rolling_beta_alpha(curves.strategy_return, curves.benchmark_return,
                                     window_sessions=ROLLING_WINDOW_SESSIONS, periods_per_year=ppy)
        if rolling["beta"].notna().any():
            label = "alpha, annualised" if ppy else "alpha per session"
            figs.append(ReportFigure(name="rolling_beta_alpha.png", alt="Rolling beta and alpha vs the benchmark",
                                     png=figures.rolling_figure(rolling, window_sessions=ROLLING_WINDOW_SESSIONS,
                                                                benchmark=bench, alpha_label=label)))
        else:
            info["rolling_note"] = (f"fewer than {ROLLING_WINDOW_SESSIONS} sessions with both returns: no rolling "
                                    f"beta/alpha")
    return figs, info


def _monthly_rows(monthly: pd.DataFrame) -> list[dict[str, Any]]:
    rows = []
    for year, r in monthly.iterrows():
        cells = []
        for col in [*range(1, 13), "year"]:
            v = r[col]
            cells.append({"text": format_pct(v, 1), "raw": raw_value(v), "neg": bool(np.isfinite(v) and v < 0)})
        rows.append({"year": str(year), "cells": cells})
    return rows


def _starred(folder: ResultsFolder) -> set[str]:
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


def _event_study_figure(folder: ResultsFolder, order: list[str]) -> ReportFigure | None:
    es = folder.event_study
    if es is None or es.paths is None or not len(es.paths):
        return None
    paths = es.paths
    bands = sorted(c for c in paths.columns if c.startswith("band_q"))
    low, high, label = None, None, ""
    if "band_q025" in bands and "band_q975" in bands:
        low, high, label = "band_q025", "band_q975", "placebo 95% band of the CAR"
    elif len(bands) >= 2:
        low, high = bands[0], bands[-1]
        label = f"placebo band {int(low[6:]) / 10:g}–{int(high[6:]) / 10:g}%"
    order = [c for c in order if c in set(paths["catalyst_id"].astype(str))]
    if not order:
        return None
    return ReportFigure(name="event_study_car.png", alt="Cumulative abnormal returns per catalyst with placebo bands",
                  png=figures.event_study_figure(paths, order=order, starred=_starred(folder), band_low=low,
                                                 band_high=high, band_label=label))


def build_report(folder: ResultsFolder, panels: tuple[Panel, ...] | None = None) -> Report:
    """Render the tearsheet of ``folder`` in memory (no files written).

    ``panels`` replaces the discovered :mod:`backtests.report.panels` (tests).
    """
    summary = folder.summary or {}
    ccy = str(summary.get("base_currency", "") or "")
    figs: list[ReportFigure] = []
    ctx: dict[str, Any] = {
        "title": "", "subtitle": "", "synthetic": folder.synthetic, "facts": run_facts(summary),
        "cards": headline_cards(summary) if summary else [], "metrics": metrics_rows(summary) if summary else [],
        "currency": ccy, "benchmark": _benchmark(folder), "perf": None, "figs": {}, "monthly": [],
        "schedule": schedule_table(folder.schedule) if folder.schedule is not None and len(folder.schedule) else None,
        "trades": trades_table(folder) if folder.trades is not None else None,
        "by_catalyst": pnl_by_catalyst(folder),
        "event_study": None, "sweep": None,
        "provenance": provenance_rows(folder.provenance) if folder.provenance else None,
        "notes": list(folder.notes), "problems": list(folder.problems), "folder": folder.path.name or str(folder.path),
        "periods_per_year": (summary.get("metrics") or {}).get("periods_per_year")
        if isinstance(summary.get("metrics"), dict) else None,
    }
    strategy = summary.get("strategy")
    ctx["title"] = f"{strategy} — tearsheet" if strategy else "catalyst-bt tearsheet"
    if summary.get("start") or summary.get("end"):
        ctx["subtitle"] = f"{summary.get('start', '?')} .. {summary.get('end', '?')}"
    curves = _curves(folder)
    if curves is not None:
        perf_figs, info = _performance_figures(folder, curves, ccy)
        figs += perf_figs
        if "monthly" in info:
            ctx["monthly"] = _monthly_rows(info.pop("monthly"))
        ctx["perf"] = info
    if folder.event_study is not None:
        es_ctx = event_study_tables(folder.event_study)
        es_ctx["starred"] = sorted(_starred(folder))
        fig = _event_study_figure(folder, es_ctx["order"])
        if fig is not None:
            figs.append(fig)
        es_ctx["has_paths"] = fig is not None
        ctx["event_study"] = es_ctx
        if not strategy:
            ctx["title"] = "Event study — tearsheet"
    if folder.sweep is not None:
        sw = sweep_context(folder.sweep)
        best_params = (folder.sweep.best[0].get("params") or {}) if folder.sweep.best else {}
        sw["figures"] = []
        for hm in folder.sweep.heatmaps:
            best = (best_params.get(hm.x), best_params.get(hm.y)) if hm.x in best_params and hm.y in best_params \
                else None
            stem = Path(hm.file).stem
            fig = ReportFigure(name=f"sweep_{stem}.png", alt=f"{hm.metric} over {hm.x} and {hm.y}",
                         png=figures.heatmap_figure(hm.frame, x=hm.x, y=hm.y, metric=hm.metric, best=best))
            figs.append(fig)
            sw["figures"].append({"name": fig.name, "caption": f"{hm.metric} by {hm.x} (columns) and {hm.y} (rows)"
                                  + ("; red box: the best combination." if best is not None else ".")})
        ctx["sweep"] = sw
        if not strategy and folder.event_study is None:
            ctx["title"] = f"Parameter sweep ({folder.sweep.metric}) — tearsheet"
    ctx["figs"] = {f.name: f for f in figs}
    placed, panel_problems = render_panels(folder, panels)
    ctx["problems"] += panel_problems
    for p in placed:
        ctx["problems"] += list(p.fragment.problems)
        ctx["facts"] = list(ctx["facts"]) + list(p.fragment.facts)
    ctx["flags"] = [f for p in placed for f in p.fragment.flags]
    ctx["blocks"] = _blocks(ctx, placed)
    ctx["sections"] = ([("report-problems", "Files skipped")] if ctx["problems"] else []) + [
        (b["anchor"], b["title"]) for b in ctx["blocks"]]
    body = "".join(str(b["html"]) for b in ctx["blocks"])
    has_charts = 'data-chart role="img"' in body
    ctx["plotly_version"], ctx["plotly_b64"] = plotly_bundle() if has_charts else ("", "")
    ctx["page_script"] = page_script() if has_charts or 'class="sortable' in body else ""
    html = _environment().get_template(TEMPLATE).render(**ctx)
    return Report(html=html, figures=tuple(figs))


def _core_sections(ctx: dict[str, Any]) -> list[tuple[str, str]]:
    """The core sections present, as ``(anchor, nav label)`` in page order."""
    figs = ctx["figs"]
    out = []
    if ctx["cards"] or ctx["metrics"]:
        out.append(("metrics", "Metrics"))
    if "equity.png" in figs:
        out.append(("equity", "Equity"))
    if ctx["schedule"]:
        out.append(("catalysts", "Catalysts"))
    if "drawdown.png" in figs:
        out.append(("drawdown", "Drawdown"))
    if ctx["monthly"]:
        out.append(("monthly", "Monthly"))
    if "rolling_beta_alpha.png" in figs:
        out.append(("rolling", "Rolling β/α"))
    if ctx["trades"]:
        out.append(("trades", "Trades"))
    if ctx["event_study"]:
        out.append(("event-study", "Event study"))
    if ctx["sweep"]:
        out.append(("sweep", "Sweep"))
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


def render_report(out_dir: Path) -> Path:
    """Write ``out_dir/tearsheet.html`` and ``out_dir/figures/*.png`` from the results in ``out_dir``.

    Parameters
    ----------
    out_dir
        A folder written by ``catalyst-bt run``, ``study`` and/or ``sweep`` (any subset of
        their files; each panel appears only when its files exist).

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
    report = build_report(load_results(out))
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
