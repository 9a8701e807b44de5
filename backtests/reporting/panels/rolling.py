"""Rolling panel: trailing Sharpe and volatility, and beta/alpha vs the benchmark."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd

from backtests.metrics_risk import rolling_sharpe, rolling_volatility
from backtests.reporting.fragments import BENCHMARK, STRATEGY, base_layout, chart, dates, note, numbers
from backtests.reporting.load import ResultsFolder
from backtests.reporting.panels import CORE_ORDER, Fragment
from backtests.reporting.series import (
    ROLLING_WINDOW_SESSIONS, annualisation, benchmark_name, paired_returns, rolling_beta_alpha,
)


def two_rows(x: list[str], top: list[tuple[str, pd.Series, str]], bottom: list[tuple[str, pd.Series, str]], *,
             top_title: str, bottom_title: str, top_format: str, bottom_format: str) -> dict[str, Any]:
    """Two stacked panels sharing the x axis (zoom one, both follow)."""
    data = []
    for axis, rows, fmt in (("y", top, top_format), ("y2", bottom, bottom_format)):
        for name, series, colour in rows:
            data.append({"type": "scatter", "mode": "lines", "name": name, "x": x, "y": numbers(series),
                         "yaxis": axis, "line": {"color": colour, "width": 1.4},
                         "hovertemplate": f"%{{y:{fmt}}}", "legendgroup": name,
                         "showlegend": axis == "y"})
    layout = base_layout(height=420)
    layout["yaxis"].update({"domain": [0.56, 1.0], "title": {"text": top_title}, "tickformat": top_format})
    layout["yaxis2"] = {"domain": [0.0, 0.44], "title": {"text": bottom_title}, "tickformat": bottom_format,
                        "gridcolor": "#eef1f4", "zerolinecolor": "#c9d0d8", "automargin": True, "anchor": "x"}
    layout["xaxis"]["anchor"] = "y2"
    return {"data": data, "layout": layout}


@dataclass(frozen=True, kw_only=True, slots=True)
class RollingPanel:
    name: str = "rolling"
    needs: tuple[str, ...] = ()
    order: int = CORE_ORDER["rolling"]

    def render(self, folder: ResultsFolder) -> Fragment | None:
        paired = paired_returns(folder)
        if paired is None:
            return None
        curves, strat, bench = paired
        name = benchmark_name(folder) or "benchmark"
        w = ROLLING_WINDOW_SESSIONS
        if len(strat) < w:
            return Fragment(anchor="rolling", title="Rolling", html=str(note(
                f"fewer than {w} sessions with both returns ({len(strat)}): no rolling Sharpe, volatility, beta or "
                f"alpha")))
        ppy, source = annualisation(folder.summary, name, strat.index)
        x = [f"{t:%Y-%m-%d}" for t in strat.index]
        html = ""
        if ppy:
            spec = two_rows(x, [("strategy", rolling_sharpe(strat, window_sessions=w, periods_per_year=ppy), STRATEGY),
                                (name, rolling_sharpe(bench, window_sessions=w, periods_per_year=ppy), BENCHMARK)],
                            [("strategy", rolling_volatility(strat, window_sessions=w, periods_per_year=ppy),
                              STRATEGY),
                             (name, rolling_volatility(bench, window_sessions=w, periods_per_year=ppy), BENCHMARK)],
                            top_title="Sharpe", bottom_title="volatility", top_format=".2f", bottom_format=".0%")
            html += str(chart("rolling-sharpe", spec, caption=(
                f"Sharpe ratio (risk-free 0) and volatility over a trailing window of {w} sessions, annualised with "
                f"{ppy:.1f} sessions per year ({source}). A window of equal returns (out of the market) has no "
                f"Sharpe ratio: gaps.")))
        rolling = rolling_beta_alpha(strat, bench, window_sessions=w, periods_per_year=ppy)
        if rolling["beta"].notna().any():
            alpha_label = "alpha, annualised" if ppy else "alpha per session"
            spec = two_rows(x, [("beta", rolling["beta"], STRATEGY)], [(alpha_label, rolling["alpha"], "#c77c02")],
                            top_title="beta", bottom_title=alpha_label, top_format=".2f", bottom_format=".1%")
            html += str(chart("rolling-beta", spec, caption=(
                f"OLS of the strategy's session returns on {name}'s over a trailing window of {w} sessions (each "
                f"point uses only its own window); alpha is the per-session intercept"
                + (f" × {ppy:.1f} sessions per year." if ppy else "."))))
        return Fragment(anchor="rolling", title="Rolling", html=html) if html else None


PANEL = RollingPanel()
