"""EventFade's fast path: a candidate per schedule row at the listing's first open after day 0
has closed (and not before the row's first-trade point), direction from the day-0 abnormal
return that :func:`strategies.event_fade.day0_abnormal_return` gives on the sessions
completed then."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from backtests.sweeps.inputs import RunPlan, SweepInputs
from backtests.sweeps.kernel_data import KernelData
from backtests.sweeps.legs import Legs, Orders
from backtests.sweeps.plans import Planned, Planner, allow_short, column, event_mask, held_text, rules
from strategies.event_fade import EventFade, day0_abnormal_return

STRATEGY = EventFade


def _candidates(kd: KernelData, listings: tuple[int, ...]) -> tuple[Legs, np.ndarray, np.ndarray]:
    """(legs, abnormal return, kind) of every row whose day-0 return is known when it would act."""
    rows = kd.rows
    bench = kd.listings[kd.bench_index]
    picked: dict[str, list[Any]] = {k: [] for k in ("li", "j", "cat", "key", "order", "ar", "kind")}
    for r in np.nonzero(np.isin(rows.listing, listings))[0]:
        li, day0 = int(rows.listing[r]), int(rows.reaction_j[r])
        data = kd.listings[li]
        if day0 < 0:
            continue  # day 0 is not a session of the listing: its return is unknown
        k = max(day0 + 1, int(rows.j[r]) + int(rows.point[r]))  # first open after day 0's close
        if k >= len(data.close):
            continue
        done = int(np.searchsorted(bench.close_ns, data.close_ns[k], side="left"))
        move = day0_abnormal_return(data.symbol, pd.Series(data.close[:k], index=data.sessions[:k]), bench.symbol,
                                    pd.Series(bench.close[:done], index=bench.sessions[:done]), data.sessions[day0])
        if move.ar is None:
            continue  # not a one-session return (a missing row): the strategy skips it too
        ar = move.ar
        for name, value in (("li", li), ("j", k), ("cat", rows.catalyst[r]), ("key", f"{rows.catalyst[r]}@{data.symbol}"),
                            ("ar", ar), ("kind", rows.kind[r])):
            picked[name].append(value)
        # entries at one open: rows waiting since earlier instants first, then in schedule order
        picked["order"].append((int(rows.instant_ns[r]), int(rows.row[r])))
    order = np.empty(len(picked["order"]), dtype=np.int64)
    order[sorted(range(len(order)), key=lambda i: picked["order"][i])] = np.arange(len(order))
    legs = Legs.at(kd, listing=picked["li"], j=picked["j"], point=[0] * len(order), catalyst=picked["cat"],
                   key=picked["key"], order=order)
    return legs, np.array(picked["ar"], dtype=float), np.array(picked["kind"], dtype=object)


def plan(kd: KernelData, inputs: SweepInputs, params: Sequence[Any], plans: Sequence[RunPlan],
         listings: tuple[int, ...]) -> Planned:
    legs, ar, kinds = _candidates(kd, listings)
    c = len(params)
    threshold = column(params, "threshold")
    orders = Orders(want=event_mask(params, plans, legs.catalyst, kinds) & (np.abs(ar)[None, :] > threshold[:, None]),
                    sign=np.where(ar > 0, -1, 1)[None, :], notional=column(params, "notional_per_trade_base")[:, None],
                    hold=column(params, "hold_sessions", np.int64)[:, None], x_point=np.zeros((1, len(legs)), np.int64),
                    skip=np.zeros(c, dtype=bool), allow_short=allow_short(plans), **rules(params))
    return Planned(legs=legs, orders=orders, hold_reason=held_text)


PLANNER = Planner(known=frozenset({"threshold", "hold_sessions", "notional_per_trade_base", "kinds", "stop_loss_pct"}),
                  plan=plan)
