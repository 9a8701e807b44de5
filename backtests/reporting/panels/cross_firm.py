"""Cross-firm panel: firms x catalysts CARs, the narrative's CAAR path, the basket vs HSTECH.

Shown when the folder holds ``cross_section.json`` (``catalyst-bt study`` on a catalyst that
reaches several issuers, or with ``[events] narrative``) and/or a ``narrative_basket`` run
(``summary.json`` + ``returns.csv``); write both into one folder (same ``--out``) to see
them together.

* **Heat table**: one row per firm (the listing that represents its issuer in the cross-
  section), one column per catalyst, the CAR over one window from ``event_study.csv``
  with significance marks from its placebo p-value (``*`` < 0.10, ``**`` < 0.05,
  ``***`` < 0.01; the residual t p-value where there is no placebo p), then the
  cross-sectional CAAR with the same marks from the calendar-time portfolio placebo.
* **CAAR path**: the firms' mean abnormal return cumulated over the narrative's sessions
  (or the first multi-firm catalyst's), with the 5-95 % and 2.5-97.5 % placebo bands.
* **Basket vs benchmark**: the basket run's equity and the benchmark bought with the same
  starting value, on the benchmark's session clock.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import pandas as pd

from backtests.reporting import fragments as fr
from backtests.reporting.load import ResultsFolder
from backtests.reporting.panels import Fragment
from backtests.reporting.tables import Cell

CROSS_JSON = "cross_section.json"
PREFERRED_WINDOWS = ("[0,+1]", "[0,0]")


def stars(p: float) -> str:
    """``***`` / ``**`` / ``*`` for p below 0.01 / 0.05 / 0.10, else ``""``."""
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.01 else "**" if p < 0.05 else "*" if p < 0.10 else ""


def _window(windows: list[str]) -> str:
    return next((w for w in PREFERRED_WINDOWS if w in windows), windows[0])


def heat_table(study: pd.DataFrame, cross: pd.DataFrame, window: str) -> tuple[list[str], list[str], np.ndarray,
                                                                                 list[list[str]]]:
    """Firms (listings used in the cross-section), catalysts, CAR matrix and star marks."""
    rows = cross[cross["window"] == window]
    listings = list(dict.fromkeys(s for v in rows["listings"].dropna() for s in str(v).split(";") if s))
    catalysts = list(dict.fromkeys(c for v in rows["catalysts"].dropna() for c in str(v).split(";") if c))
    sub = study[(study["window"] == window) & study["listing"].isin(listings) & study["catalyst_id"].isin(catalysts)]
    car = np.full((len(listings), len(catalysts)), np.nan)
    marks = [[""] * len(catalysts) for _ in listings]
    for r in sub.itertuples(index=False):
        i, j = listings.index(r.listing), catalysts.index(r.catalyst_id)
        car[i, j] = float(r.car)
        p = float(r.p_placebo) if np.isfinite(float(r.p_placebo)) else float(r.p_t)
        marks[i][j] = stars(p)
    return listings, catalysts, car, marks


def _pct(v: float, mark: str = "") -> Cell:
    if not np.isfinite(v):
        return Cell(text="", css="num")
    return Cell(text=f"{100 * v:+.2f}%{mark}", raw=f"{v:.10g}", css="num" + (" neg" if v < 0 else ""))


@dataclass(frozen=True, kw_only=True, slots=True)
class CrossFirmPanel:
    """The panel (see the module doc)."""

    name: str = "cross-firm"
    needs: tuple[str, ...] = ()
    order: int = 85

    def render(self, folder: ResultsFolder) -> Fragment | None:
        parts: list[str] = []
        problems: list[str] = []
        path = folder.path / CROSS_JSON
        if path.is_file():
            doc = json.loads(path.read_text(encoding="utf-8"))
            cross = pd.DataFrame(doc.get("table", []))
            paths = pd.DataFrame(doc.get("paths", []))
            problems += [f"cross-section: {p}" for p in doc.get("problems", [])[:20]]
            if len(cross):
                parts += self._heat(folder, cross, problems)
                parts += self._path(cross, paths)
        parts += self._basket(folder)
        if not parts:
            return None
        return Fragment(anchor="cross-firm", title="Across firms", html="".join(parts), problems=tuple(problems))

    def _heat(self, folder: ResultsFolder, cross: pd.DataFrame, problems: list[str]) -> list[str]:
        window = _window(list(dict.fromkeys(cross["window"])))
        if folder.event_study is None:
            problems.append("cross-firm heat table: event_study.csv is missing; run catalyst-bt study into this folder")
            return []
        listings, catalysts, car, marks = heat_table(folder.event_study.table, cross, window)
        if not listings or not catalysts:
            return []
        text = [[f"{100 * v:+.1f}%{m}" if np.isfinite(v) else "" for v, m in zip(row, mk)]
                for row, mk in zip(car, marks)]
        lim = float(np.nanmax(np.abs(car))) if np.isfinite(car).any() else 0.01
        spec = {"data": [{"type": "heatmap", "z": [fr.numbers(r) for r in car], "x": catalysts, "y": listings,
                          "text": text, "texttemplate": "%{text}", "colorscale": "RdBu", "reversescale": True,
                          "zmid": 0,
                          "zmin": -lim, "zmax": lim, "hovertemplate": "%{y} / %{x}: %{text}<extra></extra>",
                          "colorbar": {"tickformat": ".0%"}}],
                "layout": fr.base_layout(height=80 + 34 * len(listings), hovermode="closest",
                                         yaxis={"autorange": "reversed", "automargin": True})}
        caar = cross[(cross["window"] == window) & (cross["scope"] == "catalyst")].set_index("id")
        rows = [[Cell(text=s), *(_pct(v, m) for v, m in zip(car[i], marks[i]))] for i, s in enumerate(listings)]
        footer = [[Cell(text="CAAR (portfolio placebo)"),
                   *(_pct(float(caar.loc[c, "caar"]), stars(float(caar.loc[c, "p_port_placebo"])))
                     if c in caar.index else Cell(text="") for c in catalysts)]]
        columns = [fr.Column(label="firm (listing)"), *(fr.Column(label=c, num=True) for c in catalysts)]
        return [fr.note(f"CAR over {window} per firm and catalyst (event_study.csv); * p < 0.10, ** p < 0.05, "
                        f"*** p < 0.01 (placebo, else residual t). Firms are issuers: one listing each."),
                fr.chart("cross-firm-heat", spec, caption=f"CAR {window}, firms x catalysts"),
                fr.table(columns, rows, table_id="cross-firm-cars", footer=footer)]

    def _path(self, cross: pd.DataFrame, paths: pd.DataFrame) -> list[str]:
        if not len(paths):
            return []
        narratives = cross.loc[cross["scope"] == "narrative", "id"].tolist()
        which = narratives[0] if narratives else str(paths["id"].iloc[0])
        p = paths[paths["id"] == which].sort_values("rel_day")
        x = p["session"].where(p["session"] != "", p["rel_day"].astype(str)).tolist()
        band = [{"x": x + x[::-1], "y": fr.numbers(pd.concat([p[hi], p[lo][::-1]])), "type": "scatter",
                 "fill": "toself", "line": {"width": 0}, "fillcolor": color, "name": name, "hoverinfo": "skip"}
                for lo, hi, color, name in (("band_q025", "band_q975", "rgba(154,165,177,0.25)", "placebo 2.5-97.5%"),
                                            ("band_q050", "band_q950", "rgba(154,165,177,0.45)", "placebo 5-95%"))]
        line = {"x": x, "y": fr.numbers(p["caar"]), "type": "scatter", "mode": "lines+markers",
                "line": {"color": fr.STRATEGY}, "name": "CAAR (mean over firms)"}
        spec = {"data": [*band, line], "layout": fr.base_layout(y_title="cumulative abnormal return",
                                                                   y_format=".1%")}
        row = cross[(cross["id"] == which)].iloc[0]
        return [fr.chart("cross-firm-caar", spec, caption=f"{row['scope']} {which}: mean abnormal return of the "
                                                            f"{row['n_reached']} firm(s) reached (those with a return "
                                                            f"that session), cumulated; day 0 {row['day0']}")]

    def _basket(self, folder: ResultsFolder) -> list[str]:
        summary = folder.summary or {}
        returns = folder.returns
        if summary.get("strategy") != "narrative_basket" or returns is None or not len(returns):
            return []
        start = float(summary.get("initial_cash_base", returns["equity_base"].iloc[0]))
        growth = np.cumprod(1.0 + returns["benchmark_return"].fillna(0.0).to_numpy(float))
        x = fr.dates(pd.to_datetime(returns["session"]))
        bench = str(summary.get("benchmark", "benchmark"))
        spec = {"data": [{"x": x, "y": fr.numbers(returns["equity_base"]), "type": "scatter", "name": "basket",
                          "line": {"color": fr.STRATEGY}},
                         {"x": x, "y": fr.numbers(start * growth), "type": "scatter", "name": bench,
                          "line": {"color": fr.BENCHMARK}}],
                "layout": fr.base_layout(y_title=f"equity ({summary.get('base_currency', '')})")}
        return [fr.chart("cross-firm-basket", spec, caption=f"narrative basket equity vs {bench} "
                                                              f"(same starting value)")]


PANEL = CrossFirmPanel()
