"""Sweep panel: is the best combination robust? Verdict in words, heatmaps (best and median),
parameter stability, distinct results with Sharpe first, the best combination's equity vs
the benchmark, walk-forward, and the deflated Sharpe ratio / PBO explained."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import pandas as pd

from backtests.reporting.formatting import format_metric, format_pct, raw_value
from backtests.reporting.fragments import Column, chart, lines, note, table
from backtests.reporting.load import ResultsFolder, SweepParts
from backtests.reporting.panels import CORE_ORDER, Fragment
from backtests.reporting.sweep_charts import (
    best_equity_spec, dim_name, heatmap_spec, params_text, stability, stability_spec, typical_table,
)
from backtests.reporting.tables import Cell
from backtests.sweeps.distinct import distinct_results

TOP_DISTINCT = 25


def _num(value: Any) -> float:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else math.nan


def dims_of(raw: dict[str, Any]) -> list[str]:
    """The swept dimensions, from the summary's ``space``."""
    space = raw.get("space") or {}
    if space.get("search") == "random":
        return [*(space.get("ranges") or {}), *(space.get("choices") or {})]
    return list((space.get("grid") or {}))


def load_table(sw: SweepParts, folder: ResultsFolder) -> pd.DataFrame | None:
    name = str(sw.raw.get("table") or "")
    path = folder.path / name
    if not name or not path.is_file():
        return None
    return pd.read_parquet(path)


def verdict(sw: SweepParts) -> list[str]:
    """The page's answer in sentences: best, luck-adjusted, overfitting, out of sample."""
    raw, out = sw.raw, []
    ppy = _num(raw.get("periods_per_year"))
    best = sw.best[0] if sw.best else None
    trials, distinct = sw.trials, raw.get("distinct_trials")
    if best is not None:
        m = best.get("metrics") or {}
        out.append(f"Best {sw.metric or 'result'}: {format_metric(sw.metric, m.get(sw.metric))} (combination "
                   f"#{best.get('combo_id', '?')}: {params_text(best.get('params') or {})}), total return "
                   f"{format_pct(m.get('total_return'))}, max drawdown {format_pct(m.get('max_drawdown'))}, "
                   f"{format_metric('trade_count', m.get('trade_count'))} trades.")
    dsr = sw.deflated_sharpe or {}
    if dsr.get("value") is not None and trials:
        luck = _num(dsr.get("expected_max_sharpe")) * math.sqrt(ppy) if ppy > 0 else math.nan
        dist = f" ({distinct:,} distinct results)" if isinstance(distinct, int) else ""
        out.append(f"Luck: the best of {trials:,} tries{dist} would reach a Sharpe ratio of about {luck:.2f} a year "
                   f"by chance alone. The deflated Sharpe ratio — the probability that the best one's true Sharpe "
                   f"is above zero once that search is allowed for — is {_num(dsr['value']):.3f}"
                   + (" — no evidence of skill beyond the search." if _num(dsr["value"]) < 0.5 else
                      (" — likely skill, though not proof." if _num(dsr["value"]) < 0.95 else
                       " — strong evidence the best is more than luck.")))
    if dsr.get("trials_effective") is not None:   # issue 13: how the count of trials moves the DSR
        out.append(f"Counting trials: {dsr.get('trials_raw'):,} combinations give a deflated Sharpe ratio of "
                   f"{_num(dsr.get('dsr_raw')):.3f}, {dsr.get('trials_distinct'):,} distinct return series "
                   f"{_num(dsr.get('dsr_distinct')):.3f}, {dsr['trials_effective']:,} effective trials (series "
                   f"clustered by correlation; the headline) {_num(dsr.get('dsr_effective')):.3f}.")
    pbo = sw.pbo or {}
    if pbo.get("value") is None and _num((pbo.get("event_time") or {}).get("value")) == _num(
            (pbo.get("event_time") or {}).get("value")):
        out.append(f"Overfitting in event time (blocks of the {pbo['event_time'].get('sessions', '?')} sessions "
                   f"where some combination was invested): {_num(pbo['event_time']['value']):.3f}.")
    if pbo.get("value") is not None:
        v = _num(pbo["value"])
        out.append(f"Overfitting: in {100 * v:.0f}% of {pbo.get('splits', '?'):,} ways of splitting the history into "
                   f"halves, the combination best on one half ranked below the median on the other (probability of "
                   f"backtest overfitting, CSCV over {pbo.get('blocks', '?')} blocks); 50% is what pure noise gives"
                   + (". The ranking carries little information." if v >= 0.3 else ". The ranking mostly holds up."))
    elif pbo.get("reason"):
        out.append(f"Overfitting: not measured — {pbo['reason']}.")
    wf = raw.get("walk_forward") or {}
    oos = wf.get("oos") or {}
    if oos:
        sr = oos.get("sharpe_annual")
        out.append(f"Out of sample: choosing the best combination on each window and trading it on the next "
                   f"({len(wf.get('folds') or [])} test windows, {oos.get('sessions', '?')} sessions) gave a Sharpe "
                   f"ratio of {'n/a' if sr is None else f'{sr:.2f}'} a year and a return of "
                   f"{format_pct(oos.get('total_return'))}.")
    return out


def distinct_rows(frame: pd.DataFrame, dims: list[str], metric: str) -> list[list[Cell]]:
    """The ``TOP_DISTINCT`` best distinct results (:func:`backtests.sweeps.distinct.distinct_results`,
    grouped by every metric of the row; the result store is not read: it made the page ten times
    slower to render), metric first, then how many combinations gave it and the parameters they
    share or vary in."""
    best = distinct_results(frame, metric=metric, dims=dims, top=TOP_DISTINCT)
    rows = []
    for r in best.to_dict("records"):
        cells = [Cell(text=format_metric(m, r.get(m)), raw=raw_value(r.get(m)), key=m,
                      css="num" + (" neg" if _num(r.get(m)) < 0 and m != "trade_count" else ""))
                 for m in dict.fromkeys((metric, "total_return", "max_drawdown", "trade_count", "hit_rate"))
                 if m in r]
        shared = " · ".join(f"{dim_name(k)} {v}" for k, v in r["same"].items())
        varies = " · ".join(f"{dim_name(k)} any of {', '.join(v)}" for k, v in r["varies"].items())
        rows.append([*cells, Cell(text=str(r["combos"]), raw=str(r["combos"]), css="num",
                                  title="combinations with this same result: #" + ", #".join(map(str, r["combo_ids"][:40]))),
                     Cell(text=shared + (f" — no difference whether {varies}" if varies else ""), css="wrap")])
    return rows


def walk_rows(raw: dict[str, Any], dims: list[str]) -> list[list[Cell]]:
    rows = []
    for i, f in enumerate((raw.get("walk_forward") or {}).get("folds") or [], start=1):
        fit_sr, test_sr = f.get("fit_sharpe_annual"), f.get("test_sharpe_annual")
        chosen = ("no signal: no combination traded in the fit window, none picked" if f.get("no_signal") else
                  "the pick did not trade in the fit window" if f.get("fit_flat") else
                  params_text(f.get("params") or {}, dims))
        rows.append([Cell(text=str(i), raw=str(i), css="num"), Cell(text=" .. ".join(f.get("fit") or [])),
                     Cell(text=chosen, css="wrap"),
                     Cell(text="n/a" if fit_sr is None else f"{fit_sr:.2f}", raw=raw_value(fit_sr), css="num"),
                     Cell(text=" .. ".join(f.get("test") or [])),
                     Cell(text="n/a" if test_sr is None else f"{test_sr:.2f}", raw=raw_value(test_sr), css="num"),
                     Cell(text=format_pct(f.get("test_total_return")), raw=raw_value(f.get("test_total_return")),
                          css="num")])
    return rows


@dataclass(frozen=True, kw_only=True, slots=True)
class SweepPanel:
    name: str = "sweep"
    needs: tuple[str, ...] = ()
    order: int = CORE_ORDER["sweep"]

    def render(self, folder: ResultsFolder) -> Fragment | None:
        sw = folder.sweep
        if sw is None:
            return None
        raw, metric = sw.raw, sw.metric or "sharpe"
        dims = dims_of(raw)
        frame = load_table(sw, folder)
        problems: list[str] = []
        if frame is None:
            problems.append(f"{raw.get('table') or 'sweep.parquet'}: not found beside sweep_summary.json — the sweep "
                            f"page shows the summary only (no median heatmaps, stability or distinct results)")
        html = ('<div class="boxes">'
                f'<div class="box"><div class="label">combinations tried</div><div class="value" data-key="trials"'
                f'{f" data-value={chr(34)}{sw.trials}{chr(34)}" if sw.trials is not None else ""}>'
                f'{"–" if sw.trials is None else f"{sw.trials:,}"}</div></div>')
        for key, doc, lab in (("deflated_sharpe", sw.deflated_sharpe, "deflated Sharpe ratio"),
                              ("pbo", sw.pbo, "probability of backtest overfitting")):
            v = (doc or {}).get("value")
            text = "–" if not isinstance(v, (int, float)) else f"{v:.3f}"
            html += (f'<div class="box"><div class="label">{lab}</div><div class="value" data-key="{key}"'
                     f'{f" data-value={chr(34)}{raw_value(v)}{chr(34)}" if raw_value(v) else ""}>{text}</div></div>')
        html += "</div>" + str(lines(verdict(sw), css="verdict"))
        varied = [d for d in dims if frame is not None and d in frame.columns and frame[d].astype(str).nunique() > 1]
        if sw.heatmaps:
            html += (f"<h3>Where is it good? {metric} over pairs of parameters</h3>"
                     + str(note(f"'best': the highest {metric} over every other parameter "
                                f"({raw.get('heatmap_aggregate', 'max over the other dimensions')}); 'median': the "
                                f"typical value over them. A robust region is good in both; a lone bright cell in "
                                f"'best' over a dull 'median' is a fluke.")) + '<div class="heatmaps">')
            for i, hm in enumerate(sw.heatmaps):
                typical = typical_table(frame, hm.x, hm.y, hm.metric) if frame is not None and {
                    hm.x, hm.y, hm.metric} <= set(frame.columns) else None
                html += str(chart(f"heatmap-{i}", heatmap_spec(hm.frame, typical, x=hm.x, y=hm.y, metric=hm.metric),
                                  caption=f"{hm.metric} by {dim_name(hm.x)} (columns) and {dim_name(hm.y)} (rows)."))
            html += "</div>"
        if frame is not None and varied and metric in frame.columns:
            stab = stability(frame, varied, metric)
            html += (f"<h3>Does one parameter matter? {metric} across every other setting</h3>"
                     + str(chart("stability", stability_spec(stab, varied, metric),
                                 caption="For each value of the chosen parameter: the spread of the metric over all "
                                         "other settings (box: middle half, line: median, whiskers: min to max). "
                                         "Pick the parameter in the menu.")))
            spread = stab.drop_duplicates("dim").sort_values("spread", ascending=False)
            html += str(note("Sensitivity (range of the median over a parameter's values, largest first): "
                             + "; ".join(f"{dim_name(r.dim)} {r.spread:.2f}" for r in spread.itertuples()) + "."))
            rows = distinct_rows(frame, varied, metric)
            n_distinct = raw.get("distinct_trials")
            html += (f"<h3>Distinct results (the best {len(rows)}"
                     + (f" of {n_distinct:,}" if isinstance(n_distinct, int) else "")
                     + f" from {len(frame):,} combinations; combinations with identical results are one row)</h3>")
            cols = [Column(label=metric, num=True), Column(label="total return", num=True),
                    Column(label="max drawdown", num=True), Column(label="trades", num=True),
                    Column(label="hit rate", num=True),
                    Column(label="combinations", num=True, title="how many combinations gave this same result"),
                    Column(label="parameters")]
            html += str(table(cols, rows, table_id="sweep-distinct", filterable=True))
        best_file = folder.path / str(raw.get("best_returns") or "sweep_best_returns.csv")
        if best_file.is_file() and sw.best:
            frame_b = pd.read_csv(best_file)
            summary = folder.summary or {}
            m0 = sw.best[0].get("metrics") or {}
            start = _num(m0.get("final_equity_base")) / (1.0 + _num(m0.get("total_return")))  # the sweep's capital
            start = round(start, 2) if math.isfinite(start) and start > 0 else 1.0
            bench = str(raw.get("benchmark") or "benchmark")
            html += (f"<h3>The best combination vs {bench}</h3>" + str(chart(
                "sweep-best-equity", best_equity_spec(frame_b, start_value=start, benchmark=bench,
                                                      currency=str(summary.get("base_currency", "")) or "equity"),
                caption=f"Equity of combination #{sw.best[0].get('combo_id', '?')} "
                        + (f"from {start:,.0f}" if start != 1.0 else "as growth of 1")
                        + f", and {bench} rebased to the same start, on {bench}'s sessions ({best_file.name}). "
                          f"In-sample: this is the combination the sweep picked with hindsight.")))
        wrows = walk_rows(raw, dims)
        if wrows:
            html += ("<h3>Walk-forward: pick on one window, trade the next</h3>"
                     + str(table([Column(label="#", num=True), Column(label="fit window"),
                                  Column(label="chosen parameters"), Column(label="fit Sharpe", num=True),
                                  Column(label="test window"), Column(label="test Sharpe", num=True),
                                  Column(label="test return", num=True)], wrows, table_id="walk-forward")))
        return Fragment(anchor="sweep", title="Sweep", html=html, problems=tuple(problems))


PANEL = SweepPanel()
