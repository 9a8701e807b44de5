"""Context panel: for each part on the page (run, study, sweep), its span, config and data provenance."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pandas as pd
from markupsafe import escape

from backtests.reporting.load import ResultsFolder
from backtests.reporting.panels import Fragment


def _span(values: pd.Series) -> str:
    d = pd.to_datetime(values, errors="coerce").dropna()
    return f"{d.min():%Y-%m-%d} .. {d.max():%Y-%m-%d}" if len(d) else "unknown"


def _join(value: Any) -> str:
    if isinstance(value, dict):
        return ", ".join(f"{k} → {v}" for k, v in sorted(value.items()))
    if isinstance(value, (list, tuple)):
        return ", ".join(map(str, value))
    return str(value)


def run_facts(folder: ResultsFolder) -> list[tuple[str, str]]:
    s = folder.summary or {}
    facts = [("span", f"{s.get('start', '?')} .. {s.get('end', '?')}")] if s else []
    if folder.returns is not None and len(folder.returns):
        facts.append(("sessions measured", f"{len(folder.returns)} on {s.get('benchmark', 'the benchmark')}'s "
                                            f"calendar ({_span(folder.returns['session'])})"))
    for key, lab in (("config", "config"), ("strategy", "strategy"), ("listings", "listings"),
                     ("benchmark", "benchmark"), ("data_source", "data source")):
        if key in s:
            facts.append((lab, _join(s[key])))
    ann = s.get("annualisation")
    if isinstance(ann, dict):
        facts.append(("annualisation", f"{ann.get('periods_per_year')} sessions a year ({ann.get('calendar')} "
                                       f"calendar)"))
    prov = (folder.provenance or {}).get("series") or {}
    for sym, p in sorted(prov.items()):
        if isinstance(p, dict):
            issues = p.get("issues") or []
            facts.append((f"data {sym}", f"{p.get('source', '?')}, {p.get('adjustment', '?')}, "
                                         f"{p.get('first_session', '?')} .. {p.get('last_session', '?')}, "
                                         f"{p.get('sessions', '?')} sessions"
                                         + (f", {len(issues)} finding(s) (see Data & notes)" if issues else "")
                                         + (" — SYNTHETIC" if p.get("synthetic") else "")))
    return facts


def study_facts(folder: ResultsFolder) -> list[tuple[str, str]]:
    es = folder.event_study
    assert es is not None
    meta, spec = es.meta, es.meta.get("spec") or {}
    facts = []
    if "day0" in es.table.columns:
        facts.append(("day 0s", _span(es.table["day0"])))
    if es.paths is not None and "session" in es.paths.columns:
        facts.append(("event windows span", _span(es.paths["session"])))
    if spec.get("estimation_sessions") is not None:
        facts.append(("estimation", f"{spec.get('estimation_sessions')} sessions ending {spec.get('gap_sessions')} "
                                    f"before day 0 ({spec.get('model', '?')} model)"))
    for key, lab in (("config", "config"), ("calendar", "catalyst calendar"), ("data_source", "data source"),
                     ("sources", "data per listing"), ("benchmarks", "benchmarks"),
                     ("benchmark_sources", "benchmark data"), ("seed", "placebo seed")):
        if meta.get(key) not in (None, "", {}):
            facts.append((lab, _join(meta[key])))
    if not meta:
        facts.append(("provenance", "event_study.csv only: no config, span or data sources recorded (re-run "
                                    "catalyst-bt study to get event_study.json)"))
    facts.append(("synthetic data", "YES" if es.synthetic else "no"))
    return facts


def sweep_facts(folder: ResultsFolder) -> list[tuple[str, str]]:
    sw = folder.sweep
    assert sw is not None
    raw = sw.raw
    facts = [("span", f"{raw.get('start', '?')} .. {raw.get('end', '?')}")] if raw.get("start") else []
    for key, lab in (("config", "config"), ("strategy", "strategy"), ("benchmark", "benchmark"),
                     ("constraint", "constraint"), ("data_hash", "data snapshot (sha256)"),
                     ("code_version", "code version")):
        if raw.get(key) not in (None, ""):
            facts.append((lab, _join(raw[key])))
    space = raw.get("space") or {}
    if space.get("search") == "grid":
        facts.append(("search", "grid: " + "; ".join(f"{k} {len(v)} values" for k, v in
                                                      (space.get("grid") or {}).items())))
    elif space.get("search") == "random":
        facts.append(("search", f"random: {space.get('n')} draws, seed {space.get('seed')}"))
    engines = raw.get("engines") or {}
    if engines:
        facts.append(("engines", f"{engines.get('kernel', 0):,} on the vectorised kernel, "
                                 f"{engines.get('backtrader', 0):,} on backtrader"))
    if raw.get("periods_per_year"):
        facts.append(("annualisation", f"{raw['periods_per_year']} sessions a year (benchmark calendar)"))
    facts.append(("synthetic data", "YES" if raw.get("synthetic_data") else "no"))
    return facts


def facts_html(parts: list[tuple[str, list[tuple[str, str]]]]) -> str:
    out = ['<div class="parts">']
    for name, facts in parts:
        out.append(f'<div class="part" data-part="{escape(name.split()[0])}"><h3>{escape(name)}</h3><dl>')
        out += [f"<dt>{escape(k)}</dt><dd>{escape(v)}</dd>" for k, v in facts]
        out.append("</dl></div>")
    out.append("</div>")
    return "".join(out)


@dataclass(frozen=True, kw_only=True, slots=True)
class ContextPanel:
    name: str = "context"
    needs: tuple[str, ...] = ()
    order: int = 5

    def render(self, folder: ResultsFolder) -> Fragment | None:
        parts = []
        if folder.has_backtest:
            parts.append(("Backtest (catalyst-bt run)", run_facts(folder)))
        if folder.event_study is not None:
            parts.append(("Event study (catalyst-bt study)", study_facts(folder)))
        if folder.sweep is not None:
            parts.append(("Parameter sweep (catalyst-bt sweep)", sweep_facts(folder)))
        if not parts:
            return None
        return Fragment(anchor="context", title="What, when, from which data", html=facts_html(parts))


PANEL = ContextPanel()
