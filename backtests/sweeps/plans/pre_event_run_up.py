"""PreEventRunUp's fast path: for each scheduled catalyst's row on a traded listing whose day 0
is a session, a candidate at the open ``enter_sessions_before`` sessions earlier (one per
distinct value in the block), held to ``exit_sessions_after`` sessions after day 0."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from backtests.sweeps.inputs import RunPlan, SweepInputs
from backtests.sweeps.kernel_data import KernelData
from backtests.sweeps.legs import Legs, Orders
from backtests.sweeps.plans import Planned, Planner, allow_short, column, held_text
from strategies.pre_event_run_up import PreEventRunUp

STRATEGY = PreEventRunUp
_DIRECTIONS = {"long": 1, "short": -1, "expected": 0}


def plan(kd: KernelData, inputs: SweepInputs, params: Sequence[Any], plans: Sequence[RunPlan],
         listings: tuple[int, ...]) -> Planned:
    index = {kd.symbols[i]: i for i in listings}
    befores = sorted({p.enter_sessions_before for p in params})
    cats = list(inputs.schedule.catalysts)
    by_id = {c.id: (pos, c) for pos, c in enumerate(cats)}
    found: dict[str, list[Any]] = {k: [] for k in ("li", "j", "cat", "key", "rank", "before", "kind", "sign")}
    for pos, row in enumerate(inputs.schedule.rows):
        li = index.get(row.listing)
        entry = by_id.get(row.catalyst_id)
        if li is None or entry is None or not entry[1].scheduled:
            continue
        data = kd.listings[li]
        if row.reaction_session not in data.sessions:
            continue
        day0 = int(data.sessions.get_loc(row.reaction_session))
        for before in befores:
            at = day0 - before
            if at < 0:
                continue  # before the data: that open never comes
            for name, value in (("li", li), ("j", at), ("cat", row.catalyst_id), ("before", before),
                                ("key", f"{row.catalyst_id}@{row.listing}"), ("kind", entry[1].kind),
                                ("sign", int(entry[1].expected_sign or 0))):
                found[name].append(value)
            found["rank"].append((entry[0], pos))  # due entries: calendar order, then schedule order
    order = np.empty(len(found["rank"]), dtype=np.int64)
    order[sorted(range(len(order)), key=lambda i: found["rank"][i])] = np.arange(len(order))
    legs = Legs.at(kd, listing=found["li"], j=found["j"], point=[0] * len(order), catalyst=found["cat"],
                   key=found["key"], order=order)
    catalysts, kinds = legs.catalyst, np.array(found["kind"], dtype=object)
    want = np.zeros((len(params), len(legs)), dtype=bool)
    for i, (p, run) in enumerate(zip(params, plans)):
        mask = np.array(found["before"], dtype=np.int64) == p.enter_sessions_before
        if run.only:
            mask &= np.isin(catalysts, list(run.only))
        if p.kinds:
            mask &= np.isin(kinds, list(p.kinds))
        want[i] = mask
    dirmode = np.array([_DIRECTIONS[p.direction] for p in params], dtype=np.int64)
    prior = np.array(found["sign"], dtype=np.int64)
    c = len(params)
    orders = Orders(want=want, sign=np.where(dirmode[:, None] != 0, dirmode[:, None], prior[None, :]),
                    notional=column(params, "notional_per_trade_base")[:, None],
                    hold=(column(params, "enter_sessions_before", np.int64)
                          + column(params, "exit_sessions_after", np.int64))[:, None],
                    x_point=np.array([0 if p.exit_point == "open" else 1 for p in params], dtype=np.int64)[:, None],
                    sl=np.full(c, np.nan), tp=np.full(c, np.nan), ts=np.full(c, np.nan),
                    skip=np.zeros(c, dtype=bool), allow_short=allow_short(plans))
    return Planned(legs=legs, orders=orders, hold_reason=held_text)


PLANNER = Planner(known=frozenset({"enter_sessions_before", "exit_sessions_after", "exit_point",
                                   "notional_per_trade_base", "direction", "kinds"}),
                  plan=plan, check=lambda p: None if p.direction in _DIRECTIONS else f"direction {p.direction!r}")
