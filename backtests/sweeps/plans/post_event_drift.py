"""PostEventDrift's fast path: every schedule row is a candidate at its first-trade point."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from backtests.sweeps.inputs import RunPlan, SweepInputs
from backtests.sweeps.kernel_data import KernelData
from backtests.sweeps.legs import Legs, Orders
from backtests.sweeps.plans import Planned, Planner, allow_short, column, event_mask, held_text, rules
from strategies.post_event_drift import PostEventDrift

STRATEGY = PostEventDrift
_DIRECTIONS = {"long": 1, "short": -1, "expected": 0}


def schedule_legs(kd: KernelData, listings: tuple[int, ...]) -> tuple[np.ndarray, Legs]:
    """Schedule rows on ``listings`` (the engine's ``events_at``) as candidates at their
    first-trade point, and their positions in ``kd.rows``."""
    rows = kd.rows
    sel = np.nonzero(np.isin(rows.listing, listings))[0]
    legs = Legs(listing=rows.listing[sel], j=rows.j[sel], point=rows.point[sel], ref=rows.ref[sel], fx=rows.fx[sel],
                price=rows.price[sel], catalyst=rows.catalyst[sel],
                key=np.array([f"{rows.catalyst[r]}@{kd.listings[rows.listing[r]].symbol}" for r in sel], dtype=object),
                order=rows.row[sel])
    return sel, legs


def plan(kd: KernelData, inputs: SweepInputs, params: Sequence[Any], plans: Sequence[RunPlan],
         listings: tuple[int, ...]) -> Planned:
    sel, legs = schedule_legs(kd, listings)
    rows = kd.rows
    dirmode = np.array([_DIRECTIONS[p.direction] for p in params], dtype=np.int64)
    sign = np.where(dirmode[:, None] != 0, dirmode[:, None], rows.expected[sel][None, :])
    orders = Orders(want=event_mask(params, plans, rows.catalyst[sel], rows.kind[sel]), sign=sign,
                    notional=column(params, "notional_per_trade_base")[:, None],
                    hold=column(params, "hold_sessions", np.int64)[:, None], x_point=legs.point[None, :],
                    skip=np.array([p.when_holding == "skip" for p in params], dtype=bool),
                    allow_short=allow_short(plans), **rules(params))
    return Planned(legs=legs, orders=orders, hold_reason=held_text)


def _check(params: Any) -> str | None:
    if params.direction not in _DIRECTIONS:
        return f"direction {params.direction!r}"
    if params.when_holding not in ("stack", "skip"):
        return f"when_holding {params.when_holding!r}"
    return None


PLANNER = Planner(known=frozenset({"hold_sessions", "notional_per_trade_base", "direction", "when_holding", "kinds",
                                   "stop_loss_pct", "take_profit_pct", "trailing_stop_pct"}),
                  plan=plan, check=_check)
