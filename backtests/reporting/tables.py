"""The tearsheet's tables as plain template data (lists of dicts of already formatted text).

Every number shown in a table cell carries its exact value as well (``raw``, written to a
``data-value`` attribute) so tests and scripts read numbers from the HTML, not formatted
strings.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from backtests.reporting.formatting import (
    format_metric, format_money, format_p, format_pct, metric_kind, metric_label, raw_value,
)
from backtests.reporting.load import EventStudyParts, ResultsFolder
from backtests.results import FILL_COLUMNS

try:  # the metrics helper defines the canonical order; render whatever keys exist without it
    from backtests.metrics import METRIC_KEYS as _METRIC_ORDER  # type: ignore[attr-defined]
except ImportError:  # pragma: no cover - depends on the metrics helper having landed
    _METRIC_ORDER = ()

@dataclass(frozen=True, kw_only=True, slots=True)
class Cell:
    """One table cell: display text, exact value (``""`` for none) and the metric key."""

    text: str
    raw: str = ""
    key: str = ""
    css: str = ""
    title: str = ""


def metric_cell(key: str, value: object, currency: str) -> Cell:
    kind = metric_kind(key)
    css = "num"
    if kind == "pct" and isinstance(value, (int, float)) and not isinstance(value, bool) and np.isfinite(value):
        css += " neg" if value < 0 else ""
    return Cell(text=format_metric(key, value, currency), raw=raw_value(value), key=key, css=css)


def headline_cards(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Key figures: from ``metrics`` / ``benchmark_metrics`` when the run wrote them (so the
    cards agree with the table), else from the top level of ``summary.json``.

    Each card says where its number comes from (``source``: ``metrics``,
    ``benchmark_metrics`` or ``summary``) so it can be checked against the file.
    """
    ccy = str(summary.get("base_currency", ""))
    bench_name = str(summary.get("benchmark", "") or "benchmark")
    strat = summary.get("metrics") if isinstance(summary.get("metrics"), dict) else {}
    bench = summary.get("benchmark_metrics") if isinstance(summary.get("benchmark_metrics"), dict) else {}
    wanted = (
        ("strategy return", "total_return", (("metrics", strat, "total_return"), ("summary", summary, "total_return"))),
        (f"{bench_name} return", "total_return", (("benchmark_metrics", bench, "total_return"),
                                                 ("summary", summary, "benchmark_return"))),
        ("Sharpe ratio", "sharpe", (("metrics", strat, "sharpe"),)),
        ("max drawdown", "max_drawdown", (("metrics", strat, "max_drawdown"), ("summary", summary, "max_drawdown"))),
        (f"final equity ({ccy})", "final_equity_base", (("summary", summary, "final_equity_base"),)),
        (f"costs paid ({ccy})", "costs_base", (("summary", summary, "costs_base"),)),
        ("trades", "trade_count", (("summary", summary, "trade_count"),)),
    )
    cards = []
    for label, kind_key, sources in wanted:
        for source, block, key in sources:
            if key in block:
                cell = metric_cell(kind_key, block[key], "")
                cards.append({"label": label, "source": source, "key": key, "cell": cell})
                break
    return cards


def metrics_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Rows of the strategy vs benchmark table from ``metrics`` / ``benchmark_metrics``."""
    strat = summary.get("metrics") or {}
    bench = summary.get("benchmark_metrics") or {}
    if not isinstance(strat, dict) or not isinstance(bench, dict):
        return []
    keys = [k for k in _METRIC_ORDER if k in strat or k in bench]
    keys += [k for k in (*strat, *bench) if k not in keys]
    ccy = str(summary.get("base_currency", ""))
    rows = []
    for key in dict.fromkeys(keys):
        rows.append({"key": key, "label": metric_label(key, ccy),
                     "strategy": metric_cell(key, strat.get(key), ccy) if key in strat else Cell(text="–"),
                     "benchmark": metric_cell(key, bench.get(key), ccy) if key in bench else Cell(text="–")})
    return rows


def _date(value: object) -> str:
    return "" if value is None or (not isinstance(value, str) and pd.isna(value)) else (
        f"{value:%Y-%m-%d}" if isinstance(value, pd.Timestamp) else str(value))


def schedule_table(schedule: pd.DataFrame) -> dict[str, Any]:
    """One row per catalyst (in first-trade order) with day 0, first trade and sessions lost per listing."""
    listings = list(dict.fromkeys(schedule["listing"].astype(str)))
    ordered = schedule.assign(_first=schedule.groupby("catalyst_id")["first_trade_session"].transform("min"))
    ordered = ordered.sort_values(["_first", "catalyst_id"], kind="stable")
    rows: dict[str, dict[str, Any]] = {}
    for r in ordered.itertuples(index=False):
        d = r._asdict()
        cid = str(d["catalyst_id"])
        row = rows.setdefault(cid, {"catalyst_id": cid, "starred": False, "kind": "", "headline": "", "per": {}})
        row["starred"] = row["starred"] or bool(d.get("starred", False))
        for key in ("kind", "headline"):
            value = d.get(key)
            if not row[key] and isinstance(value, str):
                row[key] = value
        lost = d.get("sessions_lost", np.nan)
        row["per"][str(d["listing"])] = {
            "day0": _date(d.get("reaction_session")),
            "first_trade": f"{_date(d['first_trade_session'])} {d.get('first_trade_point', '') or ''}".strip(),
            "lost": "" if lost is None or pd.isna(lost) else f"{int(lost)}"}
    return {"listings": listings, "rows": list(rows.values())}


def _cost_components(costs: pd.DataFrame) -> list[str]:
    extra = [c for c in costs.columns if c not in FILL_COLUMNS and pd.api.types.is_numeric_dtype(costs[c])]
    return [c for c in extra if costs[c].fillna(0).abs().sum() > 0]


def trades_table(folder: ResultsFolder) -> dict[str, Any]:
    """Trades with the catalyst behind each and costs by component (summed per ``trade_id``).

    Cost components are in the listing's currency (as ``costs.csv`` books them); the
    ``costs (base)`` column converts each fill at its own ``fx_to_base``.
    """
    trades = folder.trades
    assert trades is not None
    ccy = str((folder.summary or {}).get("base_currency", ""))
    starred: dict[str, bool] = {}
    headlines: dict[str, str] = {}
    if folder.schedule is not None:
        for r in folder.schedule.itertuples(index=False):
            d = r._asdict()
            starred[str(d["catalyst_id"])] = starred.get(str(d["catalyst_id"]), False) or bool(d.get("starred"))
            if d.get("headline") and not pd.isna(d.get("headline")):
                headlines[str(d["catalyst_id"])] = str(d["headline"])
    components: list[str] = []
    per_trade = pd.DataFrame()
    cost_base = pd.Series(dtype=float)
    if folder.costs is not None and len(folder.costs):
        costs = folder.costs
        components = _cost_components(costs)
        per_trade = costs.groupby("trade_id")[components].sum(min_count=1) if components else pd.DataFrame()
        if {"cost_total_local", "fx_to_base"} <= set(costs.columns):
            cost_base = (costs["cost_total_local"] * costs["fx_to_base"]).groupby(costs["trade_id"]).sum()
    rows = []
    for r in trades.sort_values("trade_id", kind="stable").itertuples(index=False):
        d = r._asdict()
        tid = d["trade_id"]
        cid = str(d["catalyst_id"]) if pd.notna(d["catalyst_id"]) and str(d["catalyst_id"]) else (
            f"({d['role']})" if pd.notna(d.get("role")) and d.get("role") else "")
        direction = d.get("direction")
        side = {1: "long", -1: "short"}.get(int(direction), str(direction)) if pd.notna(direction) else ""
        open_trade = str(d.get("status", "")) == "open"
        comp_cells = []
        for c in components:
            v = per_trade.at[tid, c] if tid in per_trade.index else np.nan
            comp_cells.append(Cell(text=format_money(v) if pd.notna(v) and v != 0 else "", raw=raw_value(v), key=c,
                                   css="num"))
        net_base = d.get("net_pnl_base")
        rows.append({
            "trade_id": str(tid), "catalyst_id": cid, "starred": starred.get(cid, False),
            "headline": headlines.get(cid, ""), "listing": str(d["listing"]), "currency": str(d.get("currency", "")),
            "side": side, "quantity": format_money(d.get("quantity"), 0),
            "entry": f"{_date(d.get('entry_session'))} {d.get('entry_point', '') or ''}".strip(),
            "entry_price": format_money(d.get("entry_price")),
            "exit": "open" if open_trade else f"{_date(d.get('exit_session'))} {d.get('exit_point', '') or ''}".strip(),
            "exit_price": "" if open_trade else format_money(d.get("exit_price")),
            "exit_reason": "" if pd.isna(d.get("exit_reason", "")) else str(d.get("exit_reason", "")),
            "holding_sessions": "" if pd.isna(d.get("holding_sessions", np.nan)) else f"{d['holding_sessions']:.0f}",
            "gross": Cell(text=format_money(d.get("gross_pnl_local")), raw=raw_value(d.get("gross_pnl_local")),
                          key="gross_pnl_local", css="num"),
            "components": comp_cells,
            "costs_local": Cell(text=format_money(d.get("costs_local")), raw=raw_value(d.get("costs_local")),
                                key="costs_local", css="num"),
            "costs_base": Cell(text=format_money(cost_base.get(tid)), raw=raw_value(cost_base.get(tid)),
                               key="costs_base", css="num"),
            "net_local": Cell(text=format_money(d.get("net_pnl_local")), raw=raw_value(d.get("net_pnl_local")),
                              key="net_pnl_local", css="num"),
            "net_base": Cell(text=format_money(net_base), raw=raw_value(net_base), key="net_pnl_base",
                             css="num" + (" neg" if isinstance(net_base, float) and net_base < 0 else "")),
        })
    closed = trades[trades.get("status", pd.Series("closed", index=trades.index)).astype(str) != "open"]
    comp_totals = []
    if folder.costs is not None and components and "currency" in folder.costs.columns:
        for cur, sub in folder.costs.groupby("currency", sort=True):
            sums = sub[components].sum(min_count=1)
            local = sub["cost_total_local"].sum() if "cost_total_local" in sub else np.nan
            base = (sub["cost_total_local"] * sub["fx_to_base"]).sum() if {"cost_total_local", "fx_to_base"} <= set(
                sub.columns) else np.nan
            comp_totals.append({"currency": str(cur), "local": format_money(local), "base": format_money(base),
                                "cells": [format_money(v) if pd.notna(v) and v != 0 else "" for v in sums]})
    totals = {
        "net_base": format_money(closed["net_pnl_base"].sum()) if "net_pnl_base" in closed else "",
        "costs_base": format_money(cost_base.sum()) if len(cost_base) else "",
        "hit": f"{(closed['net_pnl_base'] > 0).mean():.0%}" if "net_pnl_base" in closed and len(closed) else "",
        "n": len(trades), "closed": len(closed),
    }
    return {"rows": rows, "components": components, "currency": ccy, "totals": totals, "comp_totals": comp_totals,
            "has_costs": folder.costs is not None}


def pnl_by_catalyst(folder: ResultsFolder) -> list[dict[str, Any]]:
    """Net P&L in base currency per catalyst (closed trades), in order of first entry, with a
    bar width (percent of the largest absolute total) for an inline CSS bar."""
    trades = folder.trades
    if trades is None or not len(trades) or "net_pnl_base" not in trades.columns:
        return []
    closed = trades[trades["status"].astype(str) != "open"] if "status" in trades.columns else trades
    if not len(closed):
        return []
    key = closed["catalyst_id"].where(closed["catalyst_id"].notna(), "(no catalyst)").astype(str)
    order_col = closed["entry_session"] if "entry_session" in closed.columns else pd.Series(range(len(closed)),
                                                                                            index=closed.index)
    grouped = closed.assign(_key=key, _order=order_col).groupby("_key", sort=False).agg(
        n=("net_pnl_base", "size"), net=("net_pnl_base", "sum"), first=("_order", "min")).sort_values(
        ["first"], kind="stable")
    starred = set(folder.schedule.loc[folder.schedule["starred"], "catalyst_id"].astype(str)) \
        if folder.schedule is not None and "starred" in folder.schedule.columns else set()
    biggest = float(grouped["net"].abs().max()) or 1.0
    return [{"catalyst_id": str(cid), "starred": str(cid) in starred, "n": int(r["n"]),
             "net": Cell(text=format_money(r["net"]), raw=raw_value(float(r["net"])), key="catalyst_net_pnl_base",
                         css="num" + (" neg" if r["net"] < 0 else "")),
             "bar": round(100 * abs(float(r["net"])) / biggest, 1), "neg": bool(r["net"] < 0)}
            for cid, r in grouped.iterrows()]


def _num(value: object) -> float:
    try:
        f = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return float("nan")
    return f


def _rows_by_window(sub: pd.DataFrame, windows: list[str]):
    """The first row of ``sub`` for each window label, as a dict (None where a window has none)."""
    for w in windows:
        row = sub[sub["window"].astype(str) == w]
        yield row.iloc[0].to_dict() if len(row) else None


def event_study_tables(es: EventStudyParts, *, alpha: float = 0.10) -> dict[str, Any]:
    """Pivot (catalyst x listing rows, window columns) of CAR and placebo p-values, the
    full table, the joint (two-listing) pivot and the lead-lag rows.

    ``significant`` marks cells whose Benjamini-Hochberg adjusted placebo p-value
    (``p_placebo_bh``, over every row of the study) is below ``alpha``.
    """
    t = es.table
    windows = list(dict.fromkeys(t["window"].astype(str)))
    order = list(dict.fromkeys(t["catalyst_id"].astype(str)))
    listings = list(dict.fromkeys(t["listing"].astype(str)))
    pivot = []
    full = []
    for r in t.to_dict("records"):
        full.append({
            "catalyst_id": str(r["catalyst_id"]), "listing": str(r["listing"]), "window": str(r["window"]),
            "day0": str(r.get("day0", "") or ""), "car": format_pct(r.get("car")), "car_raw": raw_value(r.get("car")),
            "t": "" if not np.isfinite(_num(r.get("t_stat"))) else f"{_num(r.get('t_stat')):+.2f}",
            **{k: format_p(r.get(k)) for k in ("p_t", "p_placebo", "p_sq", "p_rank", "p_placebo_holm",
                                                "p_placebo_bh", "p_t_holm", "p_t_bh")},
            "n_est": "" if r.get("n_est") in (None, "") else str(r.get("n_est")),
            "problem": str(r.get("problem") or ""),
        })
    for cid in order:
        for sym in listings:
            sub = t[(t["catalyst_id"].astype(str) == cid) & (t["listing"].astype(str) == sym)]
            if not len(sub):
                continue
            cells = []
            day0 = ""
            for r in _rows_by_window(sub, windows):
                if r is None:
                    cells.append(None)
                    continue
                day0 = day0 or str(r.get("day0", "") or "")
                bh = _num(r.get("p_placebo_bh", np.nan))
                cells.append({"car": format_pct(r.get("car")) or "n/a", "car_raw": raw_value(r.get("car")),
                              "p": format_p(r.get("p_placebo")), "adj": format_p(r.get("p_placebo_bh")),
                              "holm": format_p(r.get("p_placebo_holm")), "problem": str(r.get("problem") or ""),
                              "significant": bool(np.isfinite(bh) and bh < alpha),
                              "neg": _num(r.get("car")) < 0})
            pivot.append({"catalyst_id": cid, "listing": sym, "day0": day0, "cells": cells})
    joint = []
    if es.joint is not None and len(es.joint) and "window" in es.joint.columns:
        for cid in dict.fromkeys(es.joint["catalyst_id"].astype(str)):
            sub = es.joint[es.joint["catalyst_id"].astype(str) == cid]
            cells = []
            for r in _rows_by_window(sub, windows):
                if r is None:
                    cells.append(None)
                    continue
                holm = _num(r.get("p_joint_placebo_holm", np.nan))
                tm = _num(r.get("t_mean"))
                cells.append({"t": "" if not np.isfinite(tm) else f"{tm:+.2f}",
                              "p": format_p(r.get("p_joint_placebo")), "holm": format_p(r.get("p_joint_placebo_holm")),
                              "problem": str(r.get("problem") or ""),
                              "significant": bool(np.isfinite(holm) and holm < alpha), "neg": tm < 0})
            joint.append({"catalyst_id": cid, "cells": cells})
    lead_lag = []
    if es.lead_lag is not None and len(es.lead_lag):
        for r in es.lead_lag.to_dict("records"):
            leader = r.get("leader") or ""
            lead_hours = _num(r.get("lead_hours"))
            share = _num(r.get("lagger_share_at_first_session"))
            lead_lag.append({
                "catalyst_id": str(r.get("catalyst_id", "")), "leader": str(leader),
                "lagger": str(r.get("lagger") or ""),
                "lead_hours": "" if not np.isfinite(lead_hours) else f"{lead_hours:+.1f} h",
                "leader_car": format_pct(r.get("leader_car")), "lagger_ar_day0": format_pct(r.get("lagger_ar_day0")),
                "lagger_open_gap": format_pct(r.get("lagger_open_gap")),
                "share": "" if not np.isfinite(share) else f"{share:.2f}",
                "problem": str(r.get("problem") or "") if not leader else "",
            })
    meta = es.meta
    spec = meta.get("spec") or {}
    n_tests = int((t["p_placebo"].notna()).sum()) if "p_placebo" in t.columns else len(t)
    return {"windows": windows, "pivot": pivot, "full": full, "joint": joint, "lead_lag": lead_lag,
            "spec": spec, "seed": meta.get("seed"), "benchmarks": meta.get("benchmarks") or {},
            "problems": list(es.problems), "n_tests": n_tests, "alpha": alpha, "order": order}


def provenance_rows(provenance: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per series: source, adjustment, currency, span, sessions, issues found."""
    rows = []
    for sym, s in (provenance.get("series") or {}).items():
        if not isinstance(s, dict):
            continue
        issues = s.get("issues") or []
        rows.append({"symbol": str(sym), "source": str(s.get("source", "")), "adjustment": str(s.get("adjustment", "")),
                     "currency": str(s.get("currency", "")), "synthetic": bool(s.get("synthetic", False)),
                     "first_session": str(s.get("first_session", "") or ""),
                     "last_session": str(s.get("last_session", "") or ""),
                     "sessions": str(s.get("sessions", "")),
                     "issues": [str(i) for i in issues] if isinstance(issues, list) else [str(issues)]})
    return rows
