"""``benchmark_hedged``'s index legs for the fast path (``strategies.base`` hedge mechanics).

Each trade of the wrapped strategy is paired with an opposite benchmark position worth
``beta ×`` the trade's value at the decision (``units × sizing price × FX``), ``beta`` from
:func:`strategies.base.rolling_beta` on the sessions completed at the decision. Hedge orders
queue until the benchmark next opens: the first benchmark bar stamped at or after the
decision's bar when decided at an open (the same ``next_open`` step), strictly after it
when decided at a close. The hedge is lifted at the benchmark's first open after the
trade's exit decision in the same way; a trade entered and exited before the benchmark
opens gets no hedge.

Once a hedge has been placed the engine also marks equity at every benchmark close
(``backtests.sweeps.kernel`` follows it per combination).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from backtests.sweeps.kernel_data import KernelData
from backtests.sweeps.legs import NO_HOLD, Legs, Orders, TradeBlock, resolve
from strategies.base import HedgeSpec, aligned_returns, rolling_beta


def unsupported(kd: KernelData, hedge: HedgeSpec) -> str | None:
    bench = kd.listings[kd.bench_index]
    if hedge.symbol != bench.symbol:
        return f"hedge symbol {hedge.symbol} is not the benchmark {bench.symbol}"
    return None


def exit_reason(main_key: str) -> str:
    return f"hedged trade {main_key.removeprefix('hedge:')} exited"


def _bench_bar(kd: KernelData, li: np.ndarray, j: np.ndarray, point: np.ndarray) -> np.ndarray:
    """Benchmark bar whose open runs the queue after a decision at (listing, bar, point)."""
    bench = kd.listings[kd.bench_index]
    out = np.empty(j.shape, dtype=np.int64)
    for l_ in np.unique(li):
        m = li == l_
        stamp = kd.listings[int(l_)].close_ns[np.minimum(j[m], len(kd.listings[int(l_)].close_ns) - 1)]
        out[m] = np.where(point[m] == 0, np.searchsorted(bench.close_ns, stamp, side="left"),
                          np.searchsorted(bench.close_ns, stamp, side="right"))
    return out


def _betas(kd: KernelData, legs: Legs, specs: Sequence[HedgeSpec]) -> np.ndarray:
    """``C x R`` beta of each candidate's listing at its decision, per combination's window."""
    bench = kd.listings[kd.bench_index]
    out = np.ones((len(specs), len(legs)))
    variants: dict[tuple[int, int], list[int]] = {}
    for i, spec in enumerate(specs):
        variants.setdefault((spec.beta_window_sessions, spec.min_beta_sessions), []).append(i)
    cache = kd.betas  # per process: a beta depends on the listing, the bar and the window only
    for col in range(len(legs)):
        li, j = int(legs.listing[col]), int(legs.j[col])
        if li == kd.bench_index:
            continue
        for (window, least), members in variants.items():
            key = (li, j, window, least)
            if key not in cache:
                data = kd.listings[li]
                own = pd.Series(data.close[:j], index=data.sessions[:j])
                done = int(np.searchsorted(bench.close_ns, data.close_ns[j], side="left"))  # stamped before this bar
                index = pd.Series(bench.close[:done], index=bench.sessions[:done])
                aligned = kd.aligned.get((li, j))
                if aligned is None:
                    aligned = kd.aligned[(li, j)] = aligned_returns(own, index, symbols=(data.symbol, bench.symbol))
                beta, _ = rolling_beta(own, index, HedgeSpec(symbol=bench.symbol, beta_window_sessions=window,
                                                             min_beta_sessions=least), aligned=aligned)
                cache[key] = 1.0 if beta is None else beta
            out[members, col] = cache[key]
    return out


def hedge_block(kd: KernelData, main: TradeBlock, specs: Sequence[HedgeSpec], slippage_bps: float) -> TradeBlock:
    """The hedge legs of ``main``'s trades (one candidate per trade candidate)."""
    legs = main.legs
    c, r = main.taken.shape
    bench = kd.listings[kd.bench_index]
    n = len(bench.close)
    b_in = _bench_bar(kd, legs.listing, legs.j, legs.point)
    b_out = np.full((c, r), n + 1, dtype=np.int64)
    ce, re_ = np.nonzero(main.exited)
    if len(ce):
        b_out[ce, re_] = _bench_bar(kd, legs.listing[re_], main.jx[ce, re_], main.x_point[ce, re_])
    beta = _betas(kd, legs, specs)
    value_base = main.qty * legs.ref[None, :] * legs.fx[None, :]
    signed = -main.sign * beta * value_base
    hedged = main.taken & (legs.listing != kd.bench_index)[None, :] & (b_out != b_in[None, :]) & (b_in < n)[None, :]
    hold = np.where(b_out <= n - 1, b_out - b_in[None, :], NO_HOLD)
    cols = np.minimum(b_in, n - 1)
    # hedges of trades decided at one instant queue in the order of those decisions
    at = np.where(legs.point == 0, [kd.listings[int(li)].open_ns[jj] for li, jj in zip(legs.listing, legs.j)],
                  [kd.listings[int(li)].close_ns[jj] for li, jj in zip(legs.listing, legs.j)])
    rank = np.lexsort((legs.order, at))
    order = np.empty(r, dtype=np.int64)
    order[rank] = np.arange(r)
    hl = Legs.at(kd, listing=np.full(r, kd.bench_index), j=cols, point=np.zeros(r, dtype=np.int64),
                 catalyst=legs.catalyst, key=np.array([f"hedge:{k}" for k in legs.key], dtype=object), order=order)
    orders = Orders(want=hedged, sign=np.where(signed > 0, 1, -1), notional=np.abs(signed), hold=hold,
                    x_point=np.zeros((1, r), dtype=np.int64), sl=np.full(c, np.nan), tp=np.full(c, np.nan),
                    ts=np.full(c, np.nan), skip=np.zeros(c, dtype=bool), allow_short=np.ones(c, dtype=bool))
    block = resolve(kd, hl, orders, slippage_bps)
    return TradeBlock(**{**{f: getattr(block, f) for f in block.__dataclass_fields__},
                         "reason": np.where(block.exited, 4, 0)})
