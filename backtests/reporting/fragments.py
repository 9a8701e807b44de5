"""HTML building blocks for tearsheet sections: sortable tables and interactive charts.

Every function escapes the text it is given and returns trusted HTML (``markupsafe.Markup``)
for a :class:`~backtests.reporting.panels.Fragment`. Tables carry each number's exact value in
``data-value`` (sorting and tests read it, not the formatted text). Charts are Plotly figure
specs (plain dicts: ``{"data": [...], "layout": {...}}``) written as JSON beside an empty
``div``; the page's script draws them with the plotly.js bundle inlined once per page
(:mod:`backtests.reporting.assets`). Ids are given by the caller, so output is deterministic.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from markupsafe import Markup, escape

from backtests.reporting.tables import Cell

_ID = re.compile(r"^[a-z][a-z0-9-]*$")

#: Colours shared by every chart (strategy, benchmark, negative, grid).
STRATEGY = "#1f3b73"
BENCHMARK = "#9aa5b1"
NEGATIVE = "#b03a2e"
POSITIVE = "#1e7a46"
EXTRA = ("#c77c02", "#6a3d9a", "#1b9e77", "#e7298a", "#66a61e", "#a6761d")


@dataclass(frozen=True, kw_only=True, slots=True)
class Column:
    """A table column: header text, right-aligned numbers or not, header tooltip."""

    label: str
    num: bool = False
    title: str = ""


def _check_id(value: str) -> str:
    if not _ID.match(value):
        raise ValueError(f"element id {value!r} must match [a-z][a-z0-9-]* (lower case, digits, dashes)")
    return value


def cell_html(cell: Cell | str, tag: str = "td") -> Markup:
    """One ``<td>`` from a :class:`Cell` (or plain text)."""
    if not isinstance(cell, Cell):
        return Markup(f"<{tag}>{escape(cell)}</{tag}>")
    attrs = ""
    if cell.css:
        attrs += f' class="{escape(cell.css)}"'
    if cell.key:
        attrs += f' data-key="{escape(cell.key)}"'
    if cell.raw:
        attrs += f' data-value="{escape(cell.raw)}"'
    if cell.title:
        attrs += f' title="{escape(cell.title)}"'
    return Markup(f"<{tag}{attrs}>{escape(cell.text)}</{tag}>")


def table(columns: Sequence[Column], rows: Iterable[Sequence[Cell | str]], *, table_id: str,
          filterable: bool = False, css: str = "", footer: Iterable[Sequence[Cell | str]] = ()) -> Markup:
    """A sortable table (click a header; numbers sort by ``data-value``), optionally with a
    row filter box. ``footer`` rows (totals) stay below the sorted body."""
    tid = _check_id(table_id)
    head = "".join(f'<th{" class=num" if c.num else ""}{f" title={chr(34)}{escape(c.title)}{chr(34)}" if c.title else ""}'
                   f' scope="col">{escape(c.label)}</th>' for c in columns)
    body = "\n".join("<tr>" + "".join(cell_html(c) for c in row) + "</tr>" for row in rows)
    foot = "\n".join('<tr class="total">' + "".join(cell_html(c) for c in row) + "</tr>" for row in footer)
    box = (f'<input type="search" class="filter" data-filter-for="{tid}" placeholder="filter rows…" '
           f'aria-label="filter the rows of this table">') if filterable else ""
    return Markup(f'{box}<div class="scroll"><table id="{tid}" class="sortable {escape(css)}">'
                  f"<thead><tr>{head}</tr></thead>\n<tbody>\n{body}\n</tbody>"
                  + (f"\n<tfoot>\n{foot}\n</tfoot>" if foot else "") + "</table></div>")


def numbers(values: Iterable[Any], digits: int = 6) -> list[float | None]:
    """Floats rounded to ``digits`` significant digits for a chart (NaN/inf -> ``None``, a gap)."""
    out: list[float | None] = []
    for v in np.asarray(list(values), dtype=float):
        out.append(float(f"{v:.{digits}g}") if math.isfinite(v) else None)
    return out


def dates(index: Iterable[Any]) -> list[str]:
    """Timestamps as ``YYYY-MM-DD`` (or ``YYYY-MM-DD HH:MM`` when any has a time of day)."""
    stamps = list(index)
    timed = any(getattr(t, "hour", 0) or getattr(t, "minute", 0) for t in stamps)
    fmt = "%Y-%m-%d %H:%M" if timed else "%Y-%m-%d"
    return [t.strftime(fmt) for t in stamps]


def base_layout(*, y_title: str = "", y_format: str = "", height: int = 360, **extra: Any) -> dict[str, Any]:
    """Layout shared by every chart: compact margins, hover on the x position, legend on top."""
    layout: dict[str, Any] = {
        "height": height, "margin": {"l": 56, "r": 12, "t": 8, "b": 36},
        "hovermode": "x unified", "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0},
        "font": {"family": "system-ui, -apple-system, Segoe UI, Roboto, Arial, sans-serif", "size": 12},
        "paper_bgcolor": "#fff", "plot_bgcolor": "#fff",
        "xaxis": {"showgrid": True, "gridcolor": "#eef1f4", "automargin": True},
        "yaxis": {"showgrid": True, "gridcolor": "#eef1f4", "zerolinecolor": "#c9d0d8", "automargin": True,
                  "title": {"text": y_title}, "tickformat": y_format},
    }
    layout.update(extra)
    return layout


def chart(chart_id: str, spec: dict[str, Any], *, caption: str = "", label: str = "") -> Markup:
    """An interactive chart: an empty ``div`` plus its Plotly spec as JSON (drawn by the page script).

    Parameters
    ----------
    chart_id
        Unique on the page, ``[a-z][a-z0-9-]*``; the element id is ``chart-<chart_id>``.
    spec
        ``{"data": [...traces], "layout": {...}}`` (plain JSON-able values; ``None`` = gap).
    caption
        Shown under the chart.
    label
        Accessible description (defaults to the caption).
    """
    cid = f"chart-{_check_id(chart_id)}"
    text = json.dumps(spec, separators=(",", ":"), allow_nan=False, ensure_ascii=False)
    text = text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")
    height = int(spec.get("layout", {}).get("height", 360))
    cap = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return Markup(f'<figure class="chart-fig"><div class="chart" id="{cid}" data-chart role="img" '
                  f'aria-label="{escape(label or caption)}" style="min-height:{height}px"></div>{cap}</figure>'
                  f'<script type="application/json" id="{cid}-data">{text}</script>')


def lines(items: Iterable[str], css: str = "lines") -> Markup:
    """A bulleted list of plain text lines."""
    return Markup(f'<ul class="{escape(css)}">' + "".join(f"<li>{escape(i)}</li>" for i in items) + "</ul>")


def note(text: str) -> Markup:
    """A muted explanatory paragraph."""
    return Markup(f'<p class="note">{escape(text)}</p>')
