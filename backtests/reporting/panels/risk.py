"""Risk panel: the quantstats-level risk set vs the benchmark, and the return distribution."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from backtests.metrics_risk import RISK_METRIC_KEYS, risk_metrics
from backtests.reporting.fragments import BENCHMARK, STRATEGY, Column, base_layout, chart, note, numbers, table
from backtests.reporting.load import ResultsFolder
from backtests.reporting.panels import CORE_ORDER, Fragment
from backtests.reporting.series import annualisation, benchmark_name, paired_returns
from backtests.reporting.tables import Cell, metric_cell

LABELS = {
    "calmar_ratio": ("Calmar ratio", "annualised return / |max drawdown|"),
    "longest_underwater_sessions": ("longest time under water (sessions)", "most sessions in one spell below a peak"),
    "skew": ("skew", "sample skewness of session returns (> 0: long right tail)"),
    "kurtosis": ("excess kurtosis", "fat tails: 0 for a normal distribution"),
    "var_95": ("value at risk, 95 %, 1 session", "historical: 5th percentile of session returns"),
    "cvar_95": ("expected shortfall (CVaR), 95 %", "mean of the session returns at or below the VaR"),
    "best_session_return": ("best session", ""), "worst_session_return": ("worst session", ""),
    "positive_sessions_rate": ("sessions with a gain", "share of sessions with a return above 0"),
    "profit_factor": ("profit factor (sessions)", "sum of gains / sum of losses over session returns"),
    "profit_factor_trades": ("profit factor (trades)", "gross profit / gross loss over closed trades' net P&L"),
}


def _trade_pnl(folder: ResultsFolder) -> list[float] | None:
    t = folder.trades
    if t is None or "net_pnl_base" not in t.columns:
        return None
    closed = t[t["status"].astype(str) != "open"] if "status" in t.columns else t
    return [float(v) for v in closed["net_pnl_base"].dropna()]


def _display(key: str, value: float) -> Cell:
    if key in ("var_95", "cvar_95", "best_session_return", "worst_session_return", "positive_sessions_rate"):
        return metric_cell("x_return" if key != "positive_sessions_rate" else "hit_rate", value, "")
    if key == "longest_underwater_sessions":
        return metric_cell("x_sessions", value, "")
    return metric_cell("ratio", value, "")


def distribution_spec(strategy: pd.Series, benchmark: pd.Series, bench_name: str) -> dict[str, Any]:
    """Overlaid histograms (share of sessions) of the strategy's non-zero and the benchmark's returns."""
    active = strategy[strategy != 0]
    both = np.concatenate([active.to_numpy(), benchmark.to_numpy()])
    lo, hi = (float(np.nanmin(both)), float(np.nanmax(both))) if len(both) else (-0.01, 0.01)
    size = max((hi - lo) / 60, 1e-4)
    bins = {"start": lo, "end": hi + size, "size": float(f"{size:.3g}")}
    data = [{"type": "histogram", "name": f"strategy ({len(active)} sessions with a non-zero return)",
             "x": numbers(active), "histnorm": "probability", "xbins": bins, "opacity": 0.65,
             "marker": {"color": STRATEGY}, "hovertemplate": "%{x}: %{y:.1%} of sessions<extra>strategy</extra>"},
            {"type": "histogram", "name": bench_name or "benchmark", "x": numbers(benchmark), "histnorm": "probability",
             "xbins": bins, "opacity": 0.5, "marker": {"color": BENCHMARK},
             "hovertemplate": "%{x}: %{y:.1%} of sessions<extra>benchmark</extra>"}]
    layout = base_layout(y_title="share of sessions", y_format=".0%", height=300, barmode="overlay", hovermode="closest")
    layout["xaxis"]["tickformat"] = ".1%"
    layout["xaxis"]["title"] = {"text": "session return"}
    return {"data": data, "layout": layout}


@dataclass(frozen=True, kw_only=True, slots=True)
class RiskPanel:
    name: str = "risk"
    needs: tuple[str, ...] = ()
    order: int = CORE_ORDER["risk"]

    def render(self, folder: ResultsFolder) -> Fragment | None:
        paired = paired_returns(folder)
        if paired is None:
            return None
        curves, strat, bench = paired
        bench_name = benchmark_name(folder)
        ppy, source = annualisation(folder.summary, bench_name, strat.index)
        if not ppy:
            return Fragment(anchor="risk", title="Risk", html=str(note(f"No annualisation known ({source}): "
                                                                        "risk figures left out.")))
        mine = risk_metrics(strat, periods_per_year=ppy, trade_pnl_base=_trade_pnl(folder))
        theirs = risk_metrics(bench, periods_per_year=ppy)
        rows = []
        for key in RISK_METRIC_KEYS:
            label, title = LABELS[key]
            s_cell, b_cell = _display(key, mine[key]), _display(key, theirs[key])
            rows.append([Cell(text=label, title=title), Cell(text=s_cell.text, raw=s_cell.raw, css=s_cell.css,
                                                             key=key),
                         Cell(text=b_cell.text if key != "profit_factor_trades" else "–", raw=b_cell.raw
                              if key != "profit_factor_trades" else "", css=b_cell.css, key=key)])
        cols = [Column(label="risk measure"), Column(label="strategy", num=True),
                Column(label=bench_name or "benchmark", num=True)]
        html = '<div class="split"><div>' + str(table(cols, rows, table_id="risk-table"))
        html += str(note(f"{len(strat)} sessions ({curves.clock}); Calmar annualised with {ppy:.1f} sessions per "
                         f"year ({source}). VaR and CVaR are historical (no normal assumption), one session, as a "
                         f"return. Hover a measure's name for its definition. A strategy that is out of the market on "
                         f"most sessions has many zero returns: its VaR can be 0 and its skew and kurtosis large."))
        html += "</div><div>" + str(chart("distribution", distribution_spec(strat, bench, bench_name),
                                          caption="Distribution of session returns (share of sessions per bin). "
                                                  "The strategy's zero-return sessions (out of the market) are left "
                                                  "out of its histogram.")) + "</div></div>"
        return Fragment(anchor="risk", title="Risk", html=html)


PANEL = RiskPanel()
