"""Monthly returns panel: a year x month heatmap with the values written in, and the table."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from backtests.reporting.formatting import format_pct, raw_value
from backtests.reporting.fragments import Column, base_layout, chart, numbers, table
from backtests.reporting.load import ResultsFolder
from backtests.reporting.panels import CORE_ORDER, Fragment
from backtests.reporting.series import curves_for, monthly_returns
from backtests.reporting.tables import Cell

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
DIVERGING = [[0.0, "#b03a2e"], [0.5, "#f7f7f7"], [1.0, "#1e7a46"]]


def monthly_spec(monthly: pd.DataFrame) -> dict[str, Any]:
    z = monthly[list(range(1, 13))].to_numpy(dtype=float)
    finite = np.abs(z[np.isfinite(z)])
    bound = float(finite.max()) if len(finite) and finite.max() > 0 else 0.01
    years = [str(y) for y in monthly.index]
    text = [[format_pct(v, 1) for v in row] for row in z]
    data = [{"type": "heatmap", "x": list(MONTHS), "y": years, "z": [numbers(row) for row in z], "text": text,
             "texttemplate": "%{text}", "textfont": {"size": 11}, "colorscale": DIVERGING, "zmin": -bound,
             "zmax": bound, "zmid": 0, "showscale": False, "xgap": 2, "ygap": 2,
             "hovertemplate": "%{x} %{y}: %{z:.2%}<extra></extra>"}]
    layout = base_layout(height=70 + 34 * len(years), hovermode="closest")
    layout["yaxis"].update({"autorange": "reversed", "type": "category", "showgrid": False})
    layout["xaxis"].update({"side": "top", "showgrid": False, "type": "category"})
    layout["margin"].update({"t": 28, "b": 8})
    return {"data": data, "layout": layout, "narrow": "transpose"}


@dataclass(frozen=True, kw_only=True, slots=True)
class MonthlyPanel:
    name: str = "monthly"
    needs: tuple[str, ...] = ()
    order: int = CORE_ORDER["monthly"]

    def render(self, folder: ResultsFolder) -> Fragment | None:
        curves = curves_for(folder)
        if curves is None:
            return None
        monthly = monthly_returns(curves)
        if not len(monthly):
            return None
        html = str(chart("monthly", monthly_spec(monthly),
                         caption="Compounded strategy return per calendar month (empty: no data that month)."))
        rows = []
        for year, r in monthly.iterrows():
            row: list[Cell | str] = [Cell(text=str(year), raw=str(year))]
            for col in [*range(1, 13), "year"]:
                v = r[col]
                row.append(Cell(text=format_pct(v, 1), raw=raw_value(v),
                                css="num" + (" neg" if np.isfinite(v) and v < 0 else "")))
            rows.append(row)
        cols = [Column(label="year"), *(Column(label=m, num=True) for m in MONTHS), Column(label="year", num=True)]
        html += "<details><summary>as a table</summary>" + str(table(cols, rows, table_id="monthly-table",
                                                                     css="monthly")) + "</details>"
        return Fragment(anchor="monthly", title="Monthly", html=html)


PANEL = MonthlyPanel()
