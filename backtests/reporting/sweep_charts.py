"""Charts of the sweep page: heatmaps (best and typical), parameter stability, best equity vs benchmark."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from backtests.reporting.fragments import BENCHMARK, STRATEGY, base_layout, dates, numbers
from backtests.sweeps.outputs import _axis  # the sweep's own value labels and order
from backtests.sweeps.space import label

SEQUENTIAL = [[0.0, "#f7fbff"], [0.5, "#6baed6"], [1.0, "#08306b"]]
MAX_LABEL = 22


def short(text: str) -> str:
    """A tick label that fits: long ``a+b+c`` lists become ``a +2 more``."""
    if len(text) <= MAX_LABEL:
        return text
    parts = text.split("+")
    if len(parts) > 1:
        return f"{parts[0][:MAX_LABEL - 8]} +{len(parts) - 1} more"
    return text[: MAX_LABEL - 1] + "…"


def dim_name(dim: str) -> str:
    """``strategy.listings`` -> ``listings``; ``hold_sessions`` -> ``hold sessions``."""
    return dim.split(".")[-1].replace("_", " ")


def params_text(params: dict[str, Any], dims: list[str] | None = None) -> str:
    """``hold sessions 2 · direction long · …`` for the varied dimensions (all when ``dims`` is None)."""
    keys = [d for d in (dims if dims is not None else list(params)) if d in params]
    return " · ".join(f"{dim_name(k)} {label(params[k])}" for k in keys)


def heatmap_spec(best: pd.DataFrame, typical: pd.DataFrame | None, *, x: str, y: str, metric: str) -> dict[str, Any]:
    """One heatmap with the value written in each cell; with ``typical`` a button switches
    between the best (max over the other parameters) and the typical (median) value."""
    def trace(frame: pd.DataFrame, visible: bool, what: str) -> dict[str, Any]:
        xs, ys = [str(c) for c in frame.columns], [str(i) for i in frame.index]
        z = frame.to_numpy(dtype=float)
        return {"type": "heatmap", "x": [short(v) for v in xs], "y": [short(v) for v in ys],
                "z": [numbers(r, 4) for r in z], "customdata": [[f"{yy} × {xx}" for xx in xs] for yy in ys],
                "texttemplate": "%{z:.2f}", "textfont": {"size": 12}, "colorscale": SEQUENTIAL, "showscale": False,
                "xgap": 2, "ygap": 2, "visible": visible, "name": what,
                "hovertemplate": f"{dim_name(y)} × {dim_name(x)}: %{{customdata}}<br>{what} {metric}: "
                                 f"%{{z:.3f}}<extra></extra>"}
    data = [trace(best, True, "best")]
    layout = base_layout(height=110 + 38 * len(best.index), hovermode="closest")
    layout["xaxis"].update({"type": "category", "title": {"text": dim_name(x)}, "showgrid": False})
    layout["yaxis"].update({"type": "category", "title": {"text": dim_name(y)}, "showgrid": False,
                            "autorange": "reversed"})
    layout["margin"].update({"t": 34, "b": 44})
    if typical is not None:
        data.append(trace(typical.reindex(index=best.index, columns=best.columns), False, "median"))
        layout["updatemenus"] = [{"type": "buttons", "direction": "right", "x": 0, "xanchor": "left", "y": 1.0,
                                  "yanchor": "bottom", "pad": {"b": 4}, "font": {"size": 11}, "buttons": [
                                      {"label": "best", "method": "restyle", "args": [{"visible": [True, False]}]},
                                      {"label": "median", "method": "restyle",
                                       "args": [{"visible": [False, True]}]}]}]
    return {"data": data, "layout": layout}


def typical_table(table: pd.DataFrame, x: str, y: str, metric: str) -> pd.DataFrame:
    """Median of ``metric`` over the other dimensions per (x, y), labelled like the sweep's heatmaps."""
    (xl, x_order), (yl, y_order) = _axis(table[x]), _axis(table[y])
    frame = pd.DataFrame({"x": xl.to_numpy(), "y": yl.to_numpy(), "v": table[metric].to_numpy(dtype=float)})
    med = frame.groupby(["y", "x"], sort=False)["v"].median().unstack("x")
    return med.reindex(index=y_order, columns=x_order)


def stability(table: pd.DataFrame, dims: list[str], metric: str) -> pd.DataFrame:
    """Per dimension and value: count and quantiles (min, q1, median, q3, max) of ``metric`` over
    every other setting, and how far the medians spread across the values (sensitivity)."""
    rows = []
    for dim in dims:
        labels, order = _axis(table[dim])
        groups = dict(list(table[metric].groupby(labels.to_numpy(), sort=False)))
        for value in order:
            v = groups[value].to_numpy(dtype=float)
            v = v[np.isfinite(v)]
            q = np.quantile(v, [0, 0.25, 0.5, 0.75, 1]) if len(v) else [np.nan] * 5
            rows.append({"dim": dim, "value": value, "n": len(v), "min": q[0], "q1": q[1], "median": q[2],
                         "q3": q[3], "max": q[4]})
    out = pd.DataFrame(rows)
    if len(out):
        out["spread"] = out.groupby("dim")["median"].transform(lambda s: s.max() - s.min())
    return out


def stability_spec(stab: pd.DataFrame, dims: list[str], metric: str) -> dict[str, Any]:
    """Box plots (precomputed quartiles) of ``metric`` per value of one dimension; a menu picks it."""
    data = []
    buttons = []
    for i, dim in enumerate(dims):
        sub = stab[stab["dim"] == dim]
        data.append({"type": "box", "name": dim_name(dim), "x": [short(v) for v in sub["value"]],
                     "q1": numbers(sub["q1"]), "median": numbers(sub["median"]), "q3": numbers(sub["q3"]),
                     "lowerfence": numbers(sub["min"]), "upperfence": numbers(sub["max"]), "visible": i == 0,
                     "marker": {"color": STRATEGY}, "line": {"color": STRATEGY}, "fillcolor": "rgba(31,59,115,0.15)",
                     "hoverinfo": "y+x"})
        buttons.append({"label": dim_name(dim), "method": "update",
                        "args": [{"visible": [j == i for j in range(len(dims))]},
                                 {"xaxis.title.text": dim_name(dim)}]})
    layout = base_layout(y_title=metric, height=340, hovermode="closest", showlegend=False)
    layout["xaxis"].update({"type": "category", "title": {"text": dim_name(dims[0]) if dims else ""}})
    layout["margin"]["t"] = 40
    layout["updatemenus"] = [{"type": "dropdown", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom",
                              "buttons": buttons, "font": {"size": 12}}]
    return {"data": data, "layout": layout}


def best_equity_spec(frame: pd.DataFrame, *, start_value: float, benchmark: str, currency: str) -> dict[str, Any]:
    """The best combination's equity and the benchmark rebased to the same capital."""
    idx = pd.to_datetime(frame["session"])
    s = start_value * (1.0 + frame["strategy_return"].fillna(0.0)).cumprod()
    b = start_value * (1.0 + frame["benchmark_return"].fillna(0.0)).cumprod()
    x = dates(idx)
    data = [{"type": "scatter", "mode": "lines", "name": "best combination", "x": x, "y": numbers(s),
             "line": {"color": STRATEGY, "width": 2}, "hovertemplate": "%{y:,.0f}"},
            {"type": "scatter", "mode": "lines", "name": f"{benchmark or 'benchmark'} (rebased)", "x": x,
             "y": numbers(b), "line": {"color": BENCHMARK, "width": 1.5}, "hovertemplate": "%{y:,.0f}"}]
    layout = base_layout(y_title=currency, y_format=",.0f", height=340)
    layout["updatemenus"] = [{"type": "buttons", "direction": "right", "x": 1, "xanchor": "right", "y": 1.0,
                              "yanchor": "bottom", "font": {"size": 11}, "buttons": [
                                  {"label": "linear", "method": "relayout", "args": [{"yaxis.type": "linear"}]},
                                  {"label": "log", "method": "relayout", "args": [{"yaxis.type": "log"}]}]}]
    layout["margin"]["t"] = 34
    return {"data": data, "layout": layout}
