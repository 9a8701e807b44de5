"""CrossListingLeadLag's fast path: a candidate per schedule row of a listing that has not reacted
when another traded listing has, with the parity gap :func:`parity_gap` gives on the closes
completed at its first-trade point (leaders within a declared pair only)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from backtests.sweeps.inputs import RunPlan, SweepInputs
from backtests.sweeps.kernel_data import KernelData
from backtests.sweeps.legs import Legs, Orders
from backtests.sweeps.plans import Planned, Planner, allow_short, column, event_mask, held_text, rules
from data_loaders.registry import active_registry
from strategies.cross_listing_lead_lag import CrossListingLeadLag, parity_gap, stale_close

STRATEGY = CrossListingLeadLag


def _candidates(kd: KernelData, inputs: SweepInputs, listings: tuple[int, ...]) -> tuple[Legs, np.ndarray, np.ndarray]:
    rows = kd.rows
    registry = active_registry()
    traded = {kd.symbols[i]: i for i in listings}
    found: dict[str, list[Any]] = {k: [] for k in ("li", "j", "point", "cat", "key", "order", "gap", "kind")}
    for r in np.nonzero(np.isin(rows.listing, listings))[0]:
        li, j, point = int(rows.listing[r]), int(rows.j[r]), int(rows.point[r])
        data = kd.listings[li]
        now = int(rows.instant_ns[r])
        if rows.reaction_close_ns[r] <= now:
            continue  # already closed a session since the news: not lagging
        leaders = [(s, registry.pair_of(data.symbol, s.listing)) for s in inputs.schedule.rows
                   if s.catalyst_id == rows.catalyst[r] and s.listing in traded and s.listing != data.symbol
                   and s.reaction_close_utc.value < now]
        leaders = [(s, pair) for s, pair in leaders if pair is not None]  # declared pairs only
        if not leaders or j == 0:
            continue
        lead, pair = kd.listings[traded[leaders[0][0].listing]], leaders[0][1]
        done = int(np.searchsorted(lead.close_ns, data.close_ns[j], side="left"))  # its bars stamped before ours
        if done == 0:
            continue
        if stale_close(data.symbol, pd.Timestamp(data.sessions[j - 1]), pd.Timestamp(data.sessions[j])):
            continue  # the lagger's last close is not its previous session: the strategy skips it too
        at = np.array([now], dtype=np.int64)
        hkd_per_usd = float(kd.fx_to_base("USD", at)[0] / kd.fx_to_base("HKD", at)[0])
        gap = parity_gap(pair=pair, lagger=data.symbol, lagger_close=float(data.close[j - 1]),
                         leader_close=float(lead.close[done - 1]), hkd_per_usd=hkd_per_usd)
        for name, value in (("li", li), ("j", j), ("point", point), ("cat", rows.catalyst[r]), ("gap", gap),
                            ("key", f"{rows.catalyst[r]}@{data.symbol}"), ("order", int(rows.row[r])),
                            ("kind", rows.kind[r])):
            found[name].append(value)
    legs = Legs.at(kd, listing=found["li"], j=found["j"], point=found["point"], catalyst=found["cat"],
                   key=found["key"], order=found["order"])
    return legs, np.array(found["gap"], dtype=float), np.array(found["kind"], dtype=object)


def plan(kd: KernelData, inputs: SweepInputs, params: Sequence[Any], plans: Sequence[RunPlan],
         listings: tuple[int, ...]) -> Planned:
    legs, gap, kinds = _candidates(kd, inputs, listings)
    c = len(params)
    size = np.abs(gap)[None, :]
    orders = Orders(want=event_mask(params, plans, legs.catalyst, kinds) & ~(size < column(params, "min_gap")[:, None]),
                    sign=np.where(gap > 0, 1, -1)[None, :],
                    notional=np.minimum(column(params, "max_notional_base")[:, None],
                                        column(params, "notional_per_gap_base")[:, None] * size),
                    hold=column(params, "hold_sessions", np.int64)[:, None], x_point=legs.point[None, :],
                    skip=np.zeros(c, dtype=bool), allow_short=allow_short(plans), **rules(params))
    return Planned(legs=legs, orders=orders, hold_reason=held_text)


PLANNER = Planner(known=frozenset({"min_gap", "notional_per_gap_base", "max_notional_base", "hold_sessions", "kinds",
                                   "stop_loss_pct"}), plan=plan)
