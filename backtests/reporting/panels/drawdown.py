"""Drawdown panel: underwater chart, the worst drawdowns, and the longest time under water."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from backtests.metrics import simple_returns
from backtests.metrics_risk import DrawdownPeriod, drawdown_periods, label_of, worst_drawdowns
from backtests.reporting.formatting import format_pct, raw_value
from backtests.reporting.fragments import BENCHMARK, NEGATIVE, Column, base_layout, chart, dates, note, numbers, table
from backtests.reporting.load import ResultsFolder
from backtests.reporting.panels import CORE_ORDER, Fragment
from backtests.reporting.series import Curves, benchmark_name, curves_for, underwater
from backtests.reporting.tables import Cell

WORST_N = 10


def strategy_returns(curves: Curves) -> pd.Series:
    """Per-period strategy returns from the start capital (returns.csv, else the equity curve)."""
    if curves.strategy_return is not None:
        return curves.strategy_return.fillna(0.0)
    return simple_returns(curves.strategy_equity_base, initial_base=curves.start_value_base)


def _day(index: pd.Index, position: int) -> str:
    label = label_of(index, position)
    return label if isinstance(label, str) else f"{label:%Y-%m-%d}"


def drawdown_rows(returns: pd.Series, periods: list[DrawdownPeriod]) -> list[list[Cell]]:
    """Table rows: rank, peak, trough, recovery, depth, sessions under water / to trough / to recover."""
    idx = returns.index
    rows = []
    for rank, p in enumerate(periods, start=1):
        recovered = _day(idx, p.end_position) if p.recovered else "not recovered"
        rows.append([
            Cell(text=str(rank), raw=str(rank), css="num"),
            Cell(text=_day(idx, p.peak_position)), Cell(text=_day(idx, p.trough_position)), Cell(text=recovered),
            Cell(text=format_pct(p.depth), raw=raw_value(p.depth), css="num neg", key="drawdown_depth"),
            Cell(text=str(p.underwater_sessions), raw=str(p.underwater_sessions), css="num",
                 key="underwater_sessions"),
            Cell(text=str(p.trough_position - p.peak_position), raw=str(p.trough_position - p.peak_position),
                 css="num"),
            Cell(text=str(p.end_position - p.trough_position) if p.recovered else "–",
                 raw=str(p.end_position - p.trough_position) if p.recovered else "", css="num"),
        ])
    return rows


def underwater_spec(curves: Curves, benchmark: str) -> dict[str, Any]:
    dd = underwater(curves.strategy_equity_base, curves.start_value_base)
    x = dates(dd.index)
    data = [{"type": "scatter", "mode": "lines", "name": "strategy", "x": x, "y": numbers(dd),
             "fill": "tozeroy", "line": {"color": NEGATIVE, "width": 1.2}, "fillcolor": "rgba(176,58,46,0.25)",
             "hovertemplate": "%{y:.2%}"}]
    if curves.benchmark_equity_base is not None:
        bdd = underwater(curves.benchmark_equity_base, curves.start_value_base)
        data.append({"type": "scatter", "mode": "lines", "name": benchmark or "benchmark", "x": x, "y": numbers(bdd),
                     "line": {"color": BENCHMARK, "width": 1}, "hovertemplate": "%{y:.2%}", "visible": "legendonly"})
    return {"data": data, "layout": base_layout(y_title="below running peak", y_format=".1%", height=280)}


@dataclass(frozen=True, kw_only=True, slots=True)
class DrawdownPanel:
    name: str = "drawdown"
    needs: tuple[str, ...] = ()
    order: int = CORE_ORDER["drawdown"]

    def render(self, folder: ResultsFolder) -> Fragment | None:
        curves = curves_for(folder)
        if curves is None:
            return None
        bench = benchmark_name(folder)
        html = str(chart("drawdown", underwater_spec(curves, bench),
                         caption=f"Fall from the running peak (the starting capital counts as the first peak), on "
                                 f"{curves.clock}. The benchmark's underwater curve is hidden: click its legend entry."))
        r = strategy_returns(curves)
        periods = drawdown_periods(r)
        if not periods:
            return Fragment(anchor="drawdown", title="Drawdown", html=html + str(note("No drawdown: equity never "
                                                                                       "fell below a previous peak.")))
        longest = max(periods, key=lambda p: (p.underwater_sessions, -p.peak_position))
        deepest = min(periods, key=lambda p: (p.depth, p.peak_position))
        idx = r.index
        summary = (f"Longest time under water: {longest.underwater_sessions} sessions (peak "
                   f"{_day(idx, longest.peak_position)}, "
                   + (f"recovered {_day(idx, longest.end_position)}" if longest.recovered else "not recovered yet")
                   + f", {format_pct(longest.depth)} at worst). The deepest drawdown ({format_pct(deepest.depth)}) "
                   f"lasted {deepest.underwater_sessions} session(s) under water. {len(periods)} drawdown spell(s) "
                   f"in all.")
        html += (f'<p class="lead" data-key="longest_underwater_sessions" data-value="{longest.underwater_sessions}">'
                 f"{summary}</p>")
        worst = worst_drawdowns(r, n=WORST_N)
        html += f"<h3>Worst {len(worst)} drawdowns</h3>"
        cols = [Column(label="#", num=True), Column(label="peak"), Column(label="trough"),
                Column(label="recovered"), Column(label="depth", num=True),
                Column(label="sessions under water", num=True, title="sessions that closed below the peak"),
                Column(label="to trough", num=True, title="sessions from the peak to the trough"),
                Column(label="to recover", num=True, title="sessions from the trough back to the peak")]
        html += str(table(cols, drawdown_rows(r, worst), table_id="worst-drawdowns"))
        return Fragment(anchor="drawdown", title="Drawdown", html=html)


PANEL = DrawdownPanel()
