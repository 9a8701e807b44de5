"""NarrativeBasket's fast path: every schedule row is a candidate at its listing's own first-trade
point, sized by :meth:`NarrativeBasketParams.notional_for` over the traded listings its
catalyst reaches (the optional hedge is ``backtests.sweeps.hedges``'s, as for benchmark_hedged)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from backtests.sweeps.inputs import RunPlan, SweepInputs
from backtests.sweeps.kernel_data import KernelData
from backtests.sweeps.legs import Orders
from backtests.sweeps.plans import Planned, Planner, allow_short, column, held_text
from backtests.sweeps.plans.post_event_drift import schedule_legs
from strategies.narrative_basket import NarrativeBasket

STRATEGY = NarrativeBasket
_DIRECTIONS = {"long": 1, "short": -1, "expected": 0}


def plan(kd: KernelData, inputs: SweepInputs, params: Sequence[Any], plans: Sequence[RunPlan],
         listings: tuple[int, ...]) -> Planned:
    sel, legs = schedule_legs(kd, listings)
    rows = kd.rows
    traded = {kd.symbols[i] for i in listings}
    reached = {cid: tuple(r.listing for r in inputs.schedule.rows if r.catalyst_id == cid and r.listing in traded)
               for cid in set(rows.catalyst[sel])}
    c, r = len(params), len(sel)
    notional = np.zeros((c, r))
    want = np.zeros((c, r), dtype=bool)
    cache: dict[tuple[Any, ...], float] = {}
    for i, (p, run) in enumerate(zip(params, plans)):
        weights = tuple(sorted(p.weights.items()))
        for col, row in enumerate(sel):
            cid, sym = rows.catalyst[row], kd.listings[rows.listing[row]].symbol
            if (p.catalysts and cid not in p.catalysts) or (run.only and cid not in run.only):
                continue
            key = (p.notional_per_catalyst_base, weights, sym, reached[cid])
            if key not in cache:
                cache[key] = p.notional_for(sym, reached[cid])
            notional[i, col] = cache[key]
            want[i, col] = cache[key] > 0
    dirmode = np.array([_DIRECTIONS[p.direction] for p in params], dtype=np.int64)
    orders = Orders(want=want, sign=np.where(dirmode[:, None] != 0, dirmode[:, None], rows.expected[sel][None, :]),
                    notional=notional, hold=column(params, "hold_sessions", np.int64)[:, None],
                    x_point=legs.point[None, :], sl=np.full(c, np.nan), tp=np.full(c, np.nan), ts=np.full(c, np.nan),
                    skip=np.zeros(c, dtype=bool), allow_short=allow_short(plans))
    return Planned(legs=legs, orders=orders, hold_reason=held_text)


PLANNER = Planner(known=frozenset({"hold_sessions", "notional_per_catalyst_base", "direction", "weights", "catalysts",
                                   "hedge", "beta_window_sessions", "min_beta_sessions"}),
                  plan=plan, check=lambda p: None if p.direction in _DIRECTIONS else f"direction {p.direction!r}")
