"""The event study's interactive chart: CAR and AR per listing around one catalyst at a time,
with the placebo band; a menu picks the catalyst."""

from __future__ import annotations

from typing import Any

import pandas as pd

from backtests.reporting.fragments import EXTRA, STRATEGY, base_layout, numbers

COLOURS = (STRATEGY, *EXTRA)


def _band(paths: pd.DataFrame) -> tuple[str | None, str | None, str]:
    bands = sorted(c for c in paths.columns if c.startswith("band_q"))
    if "band_q025" in bands and "band_q975" in bands:
        return "band_q025", "band_q975", "placebo 95% band"
    if len(bands) >= 2:
        lo, hi = bands[0], bands[-1]
        return lo, hi, f"placebo band {int(lo[6:]) / 10:g}–{int(hi[6:]) / 10:g}%"
    return None, None, ""


def car_spec(paths: pd.DataFrame, *, order: list[str], starred: set[str]) -> dict[str, Any]:
    """Traces per catalyst x listing (band, CAR line, AR bars); only the first catalyst visible."""
    lo, hi, band_label = _band(paths)
    listings = list(dict.fromkeys(paths["listing"].astype(str)))
    data: list[dict[str, Any]] = []
    owner: list[int] = []
    for ci, cid in enumerate(order):
        sub = paths[paths["catalyst_id"].astype(str) == cid]
        for li, sym in enumerate(listings):
            rows = sub[sub["listing"].astype(str) == sym].sort_values("rel_day")
            if not len(rows):
                continue
            colour = COLOURS[li % len(COLOURS)]
            x = [int(v) for v in rows["rel_day"]]
            sessions = [str(s) for s in rows["session"]] if "session" in rows.columns else [""] * len(x)
            vis = ci == 0
            if lo is not None:
                data.append({"type": "scatter", "mode": "lines", "x": x, "y": numbers(rows[lo]), "line": {"width": 0},
                             "showlegend": False, "hoverinfo": "skip", "visible": vis, "legendgroup": sym})
                data.append({"type": "scatter", "mode": "lines", "x": x, "y": numbers(rows[hi]), "line": {"width": 0},
                             "fill": "tonexty", "fillcolor": "rgba(120,130,145,0.18)", "name": f"{sym} {band_label}",
                             "hoverinfo": "skip", "visible": vis, "legendgroup": sym})
                owner += [ci, ci]
            data.append({"type": "bar", "x": x, "y": numbers(rows["ar"]), "name": f"{sym} AR",
                         "marker": {"color": colour}, "opacity": 0.35, "visible": vis, "legendgroup": sym,
                         "customdata": sessions, "hovertemplate": "AR %{y:.2%} (%{customdata})"})
            data.append({"type": "scatter", "mode": "lines+markers", "x": x, "y": numbers(rows["car"]),
                         "name": f"{sym} CAR", "line": {"color": colour, "width": 2}, "marker": {"size": 5},
                         "visible": vis, "legendgroup": sym, "customdata": sessions,
                         "hovertemplate": "CAR %{y:.2%} (%{customdata})"})
            owner += [ci, ci]
    buttons = [{"label": ("★ " if cid in starred else "") + cid, "method": "restyle",
                "args": [{"visible": [o == ci for o in owner]}]} for ci, cid in enumerate(order)]
    layout = base_layout(y_title="abnormal return", y_format=".1%", height=380, barmode="overlay")
    layout["xaxis"].update({"zeroline": True, "zerolinecolor": "#888", "ticksuffix": "", "tickformat": "d"})
    layout["margin"]["t"] = 40
    layout["legend"].update({"y": -0.1, "yanchor": "top"})
    layout["margin"]["b"] = 40
    layout["updatemenus"] = [{"type": "dropdown", "x": 0, "xanchor": "left", "y": 1.02, "yanchor": "bottom",
                              "buttons": buttons, "font": {"size": 12}}]
    return {"data": data, "layout": layout}
