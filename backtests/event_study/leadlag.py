"""Which listing reacted first to each catalyst, and what the other still had to do.

For a catalyst scheduled on several listings, the **leader** is the listing whose day-0
session closes first (UTC); each other listing is a **lagger**. With ``h =
spec.leadlag_horizon``:

* ``leader_car``: the leader's CAR over its ``[0, h]`` — the firm's move as priced by the
  market that could trade the news first (the "total move");
* ``lagger_ar_day0``: the lagger's abnormal return on its own first reaction session —
  the part of the move it still had to make after the leader had closed;
* ``lagger_share_at_first_session = lagger_ar_day0 / leader_car`` (1 = the lagger still
  made the whole move at its first session, 0 = the leader's move was already in the
  lagger's price, e.g. priced before the news was public in its hours);
* ``lagger_open_gap``: the lagger's return from its day -1 close to its day-0 open — what
  a ``next_open`` order on the lagger misses;
* ``lagger_share_after_open = ln(close_h / open_0) / ln(close_h / close_-1)``: the share of
  the lagger's own move over ``[0, h]`` (log, raw prices) still ahead at its first open.

These feed the cross-listing strategy: a large share after the open means the lagger
could still be traded on the leader's signal.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from backtests.event_study.listing import ListingRun
from backtests.event_study.spec import EventStudySpec
from data_loaders.schema import DailyBars

LEAD_LAG_COLUMNS: tuple[str, ...] = (
    "catalyst_id", "leader", "lagger", "leader_day0", "lagger_day0", "lead_hours", "horizon",
    "leader_ar_day0", "leader_car", "lagger_ar_day0", "lagger_car", "lagger_share_at_first_session",
    "lagger_open_gap", "lagger_share_after_open", "problem",
)


def _ratio(num: float, den: float) -> float:
    return float(num / den) if np.isfinite(num) and np.isfinite(den) and den != 0 else float("nan")


def lead_lag_table(runs: Mapping[str, ListingRun], prices: Mapping[str, DailyBars], order: list[str],
                   spec: EventStudySpec) -> pd.DataFrame:
    """One row per catalyst x lagging listing (columns :data:`LEAD_LAG_COLUMNS`)."""
    h = spec.leadlag_horizon
    zero = -spec.span[0]
    rows: list[dict] = []
    for cid in order:
        members = []
        for symbol, run in runs.items():
            calc = run.events.get(cid)
            if calc is None:
                continue
            ok = not (run.problem or calc.problem) and run.design is not None
            close_ns = int(run.design.listing.closes_ns[calc.pos]) if ok else None  # type: ignore[union-attr]
            members.append((symbol, run, calc, ok, close_ns))
        if len(members) < 2:
            continue
        usable = sorted((m for m in members if m[3]), key=lambda m: (m[4], m[0]))
        failed = [f"{m[0]}: {m[1].problem or m[2].problem}" for m in members if not m[3]]
        if len(usable) < 2:
            rows.append({"catalyst_id": cid, "leader": "", "lagger": "", "horizon": h,
                         "problem": "needs day 0 on two listings; " + " | ".join(failed)})
            continue
        lead_sym, lead_run, lead_calc, _, lead_ns = usable[0]
        li = lead_calc.fit_index
        leader_car = float(lead_run.stats[(0, h)].car[li])
        leader_ar0 = float(lead_run.ar[li, zero])  # type: ignore[index]
        for lag_sym, lag_run, lag_calc, _, lag_ns in usable[1:]:
            gi = lag_calc.fit_index
            ar0 = float(lag_run.ar[gi, zero])  # type: ignore[index]
            closes = lag_run.design.listing.closes  # type: ignore[union-attr]
            pos = lag_calc.pos
            prev = closes[pos - 1] if pos >= 1 else np.nan
            close_h = closes[pos + h] if pos + h < len(closes) else np.nan
            open0 = prices[lag_sym].frame["open"].get(lag_calc.event.day0, np.nan)
            problem = "" if np.isfinite(leader_car) and np.isfinite(ar0) else \
                "missing returns in [0, horizon] on one listing (see the table's problem column)"
            rows.append({
                "catalyst_id": cid, "leader": lead_sym, "lagger": lag_sym,
                "leader_day0": f"{lead_calc.event.day0:%Y-%m-%d}", "lagger_day0": f"{lag_calc.event.day0:%Y-%m-%d}",
                "lead_hours": (lag_ns - lead_ns) / 3.6e12, "horizon": h,
                "leader_ar_day0": leader_ar0, "leader_car": leader_car,
                "lagger_ar_day0": ar0, "lagger_car": float(lag_run.stats[(0, h)].car[gi]),
                "lagger_share_at_first_session": _ratio(ar0, leader_car),
                "lagger_open_gap": _ratio(open0, prev) - 1.0,
                "lagger_share_after_open": _ratio(np.log(close_h / open0), np.log(close_h / prev)),
                "problem": problem + ("; " if problem and failed else "") + " | ".join(failed),
            })
    return pd.DataFrame(rows, columns=list(LEAD_LAG_COLUMNS))
