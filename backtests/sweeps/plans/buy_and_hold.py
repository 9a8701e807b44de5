"""BuyAndHold's fast path: one candidate per target (the traded listings, or the benchmark
index) at the open of its second session, held to the end."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from backtests.sweeps.inputs import RunPlan, SweepInputs
from backtests.sweeps.kernel_data import KernelData
from backtests.sweeps.legs import NO_HOLD, Legs, Orders
from backtests.sweeps.plans import Planned, Planner, column, held_text
from strategies.buy_and_hold import BuyAndHold

STRATEGY = BuyAndHold


def plan(kd: KernelData, inputs: SweepInputs, params: Sequence[Any], plans: Sequence[RunPlan],
         listings: tuple[int, ...]) -> Planned:
    instrument = params[0].instrument  # one per block (see PLANNER.group)
    targets = [kd.bench_index] if instrument == "benchmark" else [i for i in listings]
    targets = [i for i in targets if len(kd.listings[i].close) > 1]
    n_targets = 1 if instrument == "benchmark" else len(listings)
    legs = Legs.at(kd, listing=targets, j=[1] * len(targets), point=[0] * len(targets), catalyst=[None] * len(targets),
                   key=[f"buy_and_hold@{kd.listings[i].symbol}" for i in targets], order=list(range(len(targets))))
    c = len(params)
    cash = np.array([p.portfolio.initial_cash_base for p in plans], dtype=float)
    orders = Orders(want=np.ones((c, len(targets)), dtype=bool), sign=np.ones((1, len(targets)), dtype=np.int64),
                    notional=(cash * column(params, "fraction_of_cash") / n_targets)[:, None],
                    hold=np.full((1, len(targets)), NO_HOLD), x_point=np.zeros((1, len(targets)), dtype=np.int64),
                    sl=np.full(c, np.nan), tp=np.full(c, np.nan), ts=np.full(c, np.nan),
                    skip=np.zeros(c, dtype=bool), allow_short=np.ones(c, dtype=bool))
    return Planned(legs=legs, orders=orders, hold_reason=held_text)


PLANNER = Planner(known=frozenset({"instrument", "fraction_of_cash"}), plan=plan, group=lambda p: p.instrument)
