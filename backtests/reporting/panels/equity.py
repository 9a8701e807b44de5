"""Equity panel: strategy vs the rebased benchmark, catalyst first-trade lines, linear/log scale."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from backtests.reporting.fragments import BENCHMARK, EXTRA, STRATEGY, base_layout, chart, dates, numbers
from backtests.reporting.load import ResultsFolder
from backtests.reporting.panels import CORE_ORDER, Fragment
from backtests.reporting.series import Curves, benchmark_name, curves_for

_DASHES = ("dot", "dash", "dashdot", "longdash")


def catalyst_traces(schedule: pd.DataFrame | None, curves: Curves, *, y_low: float,
                    y_high: float) -> list[dict[str, Any]]:
    """One toggleable trace of vertical lines per listing at each catalyst's first trade point,
    with the catalyst id, headline and point in the hover text (★ = starred)."""
    if schedule is None or not len(schedule):
        return []
    lo, hi = curves.strategy_equity_base.index.min(), curves.strategy_equity_base.index.max()
    traces = []
    for i, (listing, rows) in enumerate(schedule.groupby(schedule["listing"].astype(str), sort=True)):
        rows = rows.dropna(subset=["first_trade_session"]).sort_values(["first_trade_session", "catalyst_id"])
        rows = rows[(rows["first_trade_session"] >= lo.normalize()) & (rows["first_trade_session"] <= hi)]
        if not len(rows):
            continue
        xs: list[str | None] = []
        ys: list[float | None] = []
        texts: list[str | None] = []
        for r in rows.to_dict("records"):
            day = f"{r['first_trade_session']:%Y-%m-%d}"
            star = "★ " if r.get("starred") else ""
            head = str(r.get("headline") or "")
            text = f"{star}{r['catalyst_id']} · {listing} first trade {day} {r.get('first_trade_point', '') or ''}"
            text = text.strip() + (f"<br>{head[:90]}" if head else "")
            xs += [day, day, None]
            ys += [y_low, y_high, None]
            texts += [text, text, None]
        traces.append({"type": "scatter", "mode": "lines", "x": xs, "y": ys, "name": f"catalysts on {listing}",
                       "line": {"color": EXTRA[i % len(EXTRA)], "width": 1, "dash": _DASHES[i % len(_DASHES)]},
                       "hovertext": texts, "hoverinfo": "text", "opacity": 0.8})
    return traces


def equity_spec(curves: Curves, schedule: pd.DataFrame | None, *, currency: str, benchmark: str) -> dict[str, Any]:
    """Plotly spec of the equity chart (log-scale button, range buttons)."""
    x = dates(curves.strategy_equity_base.index)
    data = [{"type": "scatter", "mode": "lines", "name": "strategy", "x": x,
             "y": numbers(curves.strategy_equity_base), "line": {"color": STRATEGY, "width": 2},
             "hovertemplate": "%{y:,.0f}"}]
    values = [curves.strategy_equity_base.to_numpy(dtype=float)]
    if curves.benchmark_equity_base is not None:
        data.append({"type": "scatter", "mode": "lines", "name": f"{benchmark or 'benchmark'} (rebased)", "x": x,
                     "y": numbers(curves.benchmark_equity_base), "line": {"color": BENCHMARK, "width": 1.5},
                     "hovertemplate": "%{y:,.0f}"})
        values.append(curves.benchmark_equity_base.to_numpy(dtype=float))
    finite = np.concatenate(values)
    finite = finite[np.isfinite(finite)]
    y_low, y_high = (float(finite.min()), float(finite.max())) if len(finite) else (0.0, 1.0)
    data += catalyst_traces(schedule, curves, y_low=y_low, y_high=y_high)
    layout = base_layout(y_title=currency, y_format=",.0f", height=400)
    layout["xaxis"]["rangeselector"] = {"buttons": [
        {"count": 1, "label": "1m", "step": "month", "stepmode": "backward"},
        {"count": 6, "label": "6m", "step": "month", "stepmode": "backward"},
        {"count": 1, "label": "1y", "step": "year", "stepmode": "backward"},
        {"step": "all", "label": "all"}], "x": 0, "y": -0.22, "yanchor": "top", "font": {"size": 11}}
    layout["margin"]["b"] = 64
    layout["updatemenus"] = [{"type": "buttons", "direction": "right", "x": 1, "xanchor": "right", "y": -0.22,
                              "yanchor": "top", "showactive": True, "font": {"size": 11}, "pad": {"t": 0, "r": 0},
                              "buttons": [{"label": "linear", "method": "relayout", "args": [{"yaxis.type": "linear"}]},
                                          {"label": "log", "method": "relayout", "args": [{"yaxis.type": "log"}]}]}]
    return {"data": data, "layout": layout}


@dataclass(frozen=True, kw_only=True, slots=True)
class EquityPanel:
    name: str = "equity"
    needs: tuple[str, ...] = ()
    order: int = CORE_ORDER["equity"]

    def render(self, folder: ResultsFolder) -> Fragment | None:
        curves = curves_for(folder)
        if curves is None:
            return None
        ccy = str((folder.summary or {}).get("base_currency", "") or "base currency")
        bench = benchmark_name(folder)
        spec = equity_spec(curves, folder.schedule, currency=ccy, benchmark=bench)
        if curves.benchmark_equity_base is not None:
            what = f", {bench or 'the benchmark'} rebased to the same starting capital"
        else:
            what = " (no returns.csv: benchmark curve not available)"
        caption = (f"Strategy equity in {ccy}{what}, on {curves.clock}. Vertical lines: each catalyst's first "
                   f"trade point per listing (★ = starred; hover for the headline). Drag to zoom, double-click to "
                   f"reset, click a legend entry to hide it; 'log' shows the equity on a log scale.")
        return Fragment(anchor="equity", title="Equity", html=str(chart("equity", spec, caption=caption)))


PANEL = EquityPanel()
