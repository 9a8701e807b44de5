"""The PNG figures (matplotlib, Agg) for ``catalyst-bt report --png``: equity, drawdown, monthly
returns, rolling beta/alpha, event-study CARs and sweep heatmaps, as files for slides and notes.
The HTML page does not use them (its charts are interactive)."""

from __future__ import annotations

from pathlib import Path

from backtests.reporting import figures
from backtests.reporting.equity_chart import equity_figure
from backtests.reporting.load import ResultsFolder
from backtests.reporting.series import (
    ROLLING_WINDOW_SESSIONS, annualisation, benchmark_name, curves_for, monthly_returns, rolling_beta_alpha,
    underwater,
)

Figure = tuple[str, str, bytes]


def _performance(folder: ResultsFolder) -> list[Figure]:
    curves = curves_for(folder)
    if curves is None:
        return []
    bench = benchmark_name(folder)
    ccy = str((folder.summary or {}).get("base_currency", "") or "")
    out = [("equity.png", f"Equity of the strategy and {bench or 'the benchmark'} with catalyst first-trade markers",
            equity_figure(curves, schedule=folder.schedule, currency=ccy, benchmark=bench))]
    dd = underwater(curves.strategy_equity_base, curves.start_value_base)
    bench_dd = underwater(curves.benchmark_equity_base, curves.start_value_base) \
        if curves.benchmark_equity_base is not None else None
    out.append(("drawdown.png", "Drawdown (underwater) chart", figures.drawdown_figure(dd, bench_dd, benchmark=bench)))
    monthly = monthly_returns(curves)
    if len(monthly):
        out.append(("monthly_returns.png", "Monthly returns heatmap", figures.monthly_figure(monthly)))
    if curves.strategy_return is not None and curves.benchmark_return is not None:
        ppy, _ = annualisation(folder.summary, bench, curves.strategy_return.index)
        rolling = rolling_beta_alpha(curves.strategy_return, curves.benchmark_return,
                                     window_sessions=ROLLING_WINDOW_SESSIONS, periods_per_year=ppy)
        if rolling["beta"].notna().any():
            label = "alpha, annualised" if ppy else "alpha per session"
            out.append(("rolling_beta_alpha.png", "Rolling beta and alpha vs the benchmark",
                        figures.rolling_figure(rolling, window_sessions=ROLLING_WINDOW_SESSIONS, benchmark=bench,
                                               alpha_label=label)))
    return out


def _event_study(folder: ResultsFolder) -> list[Figure]:
    from backtests.reporting.render import starred_catalysts

    es = folder.event_study
    if es is None or es.paths is None or not len(es.paths):
        return []
    paths = es.paths
    bands = sorted(c for c in paths.columns if c.startswith("band_q"))
    low, high, label = None, None, ""
    if "band_q025" in bands and "band_q975" in bands:
        low, high, label = "band_q025", "band_q975", "placebo 95% band of the CAR"
    elif len(bands) >= 2:
        low, high = bands[0], bands[-1]
        label = f"placebo band {int(low[6:]) / 10:g}–{int(high[6:]) / 10:g}%"
    order = [c for c in dict.fromkeys(es.table["catalyst_id"].astype(str)) if c in set(paths["catalyst_id"].astype(str))]
    if not order:
        return []
    return [("event_study_car.png", "Cumulative abnormal returns per catalyst with placebo bands",
             figures.event_study_figure(paths, order=order, starred=starred_catalysts(folder), band_low=low,
                                        band_high=high, band_label=label))]


def _sweep(folder: ResultsFolder) -> list[Figure]:
    sw = folder.sweep
    if sw is None:
        return []
    best_params = (sw.best[0].get("params") or {}) if sw.best else {}
    out = []
    for hm in sw.heatmaps:
        best = (best_params.get(hm.x), best_params.get(hm.y)) if hm.x in best_params and hm.y in best_params else None
        out.append((f"sweep_{Path(hm.file).stem}.png", f"{hm.metric} over {hm.x} and {hm.y}",
                    figures.heatmap_figure(hm.frame, x=hm.x, y=hm.y, metric=hm.metric, best=best)))
    return out


def png_figures(folder: ResultsFolder) -> list[Figure]:
    """``(file name, alt text, PNG bytes)`` of every figure the folder's files allow."""
    return [*_performance(folder), *_event_study(folder), *_sweep(folder)]
