"""The sweep's fast path: many parameter combinations at once, the same trades as the engine.

Why this is exact rather than approximate: on the engine's unlimited-cash broker a library
strategy's run is a set of independent round trips (trades in different listings never
interact; hedges follow their trade), so a combination's trades are fixed by its schedule
rows, prices and parameters, and their fills are *shared* across combinations. Each
strategy's planner (:mod:`backtests.sweeps.plans`) replays its decisions as candidate round
trips; :func:`backtests.sweeps.legs.resolve` fills them as the engine does;
:mod:`backtests.sweeps.hedges` adds ``benchmark_hedged``'s index legs. Equity is marked on
the engine's clock (every close of a traded listing, and of the benchmark once it is held)
as ``cash + Σ units × close × fx``; metrics come from the same pass
(:func:`~backtests.sweeps.rowmetrics.metrics_matrix`).

Every float is produced by the same IEEE operations, in the same order, as the engine —
quantities, prices and costs are bit-identical; equity differs only by the order of
summation (~1e-16). What a planner cannot reproduce exactly falls back to backtrader,
with the reason (:func:`unsupported`).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from backtests.engine import PortfolioSpec
from backtests.sweeps import hedges
from backtests.sweeps.inputs import RunPlan, SweepInputs
from backtests.sweeps.kernel_data import KernelData, kernel_data
from backtests.sweeps.legs import TradeBlock, resolve
from backtests.sweeps.plans import KNOWN_PORTFOLIO, Planned, planner_for, unknown_fields
from backtests.sweeps.rowmetrics import ROW_METRICS, metrics_matrix

_REASONS = ("stop_loss", "take_profit", "trailing_stop")


def unsupported(inputs: SweepInputs, plan: RunPlan) -> str | None:
    """Why the fast path cannot run ``plan`` (None when it can)."""
    resolved = inputs.resolve(plan)
    planner = planner_for(resolved.strategy)
    if planner is None:
        return f"no fast path for strategy {resolved.strategy.__name__}"
    why = unknown_fields(resolved.config, planner.known) or planner.check(resolved.config)
    if why:
        return why
    extra = sorted({f.name for f in dataclasses.fields(plan.portfolio)} - KNOWN_PORTFOLIO)
    if extra:
        return f"portfolio setting(s) {', '.join(extra)} not modelled by the fast path"
    kd = kernel_data(inputs)
    if resolved.hedge is not None and (why := hedges.unsupported(kd, resolved.hedge)):
        return why
    bench = kd.listings[kd.bench_index]
    base = plan.portfolio.base_currency
    holds_bench = resolved.hedge is not None or getattr(resolved.config, "instrument", None) == "benchmark"
    if holds_bench and bench.currency != base and all(kd.listings[i].currency == base for i in _listing_ids(kd, plan)):
        # the engine is given no FX for such a run and refuses it once it holds the index
        return f"{bench.symbol} ({bench.currency}) held in a {base} portfolio of {base} listings only"
    return None


def _listing_ids(kd: KernelData, plan: RunPlan) -> tuple[int, ...]:
    index = {sym: i for i, sym in enumerate(kd.symbols)}
    return tuple(sorted(index[s] for s in plan.listings))


def _blocks(kd: KernelData, inputs: SweepInputs, plans: Sequence[RunPlan], listings: tuple[int, ...],
            portfolio: PortfolioSpec) -> tuple[Planned, list[TradeBlock]]:
    """The trades of ``plans`` (same listings, portfolio, strategy group and hedge): the strategy's
    own block, then the hedge block when hedged."""
    resolved = [inputs.resolve(p) for p in plans]
    params = [r.config for r in resolved]
    planner = planner_for(resolved[0].strategy)
    assert planner is not None
    planned = planner.plan(kd, inputs, params, plans, listings)
    block = resolve(kd, planned.legs, planned.orders, portfolio.slippage_bps)
    blocks = [block]
    hedge = resolved[0].hedge
    if hedge is not None:
        blocks.append(hedges.hedge_block(kd, block, [r.hedge for r in resolved], portfolio.slippage_bps))
    return planned, blocks


def _group_key(kd: KernelData, inputs: SweepInputs, plan: RunPlan) -> tuple[Any, ...]:
    resolved = inputs.resolve(plan)
    planner = planner_for(resolved.strategy)
    assert planner is not None
    return (_listing_ids(kd, plan), plan.portfolio, resolved.strategy, planner.group(resolved.config),
            resolved.hedge is not None)


def evaluate(inputs: SweepInputs, plans: Sequence[RunPlan]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Metrics (:data:`~backtests.sweeps.rowmetrics.ROW_METRICS`) and benchmark-clock returns of
    ``plans``, in their order. Every plan must be supported (see :func:`unsupported`)."""
    kd = kernel_data(inputs)
    n = len(plans)
    metrics = {k: np.full(n, np.nan) for k in ROW_METRICS}
    returns = np.full((n, len(kd.bench.close_ns)), np.nan)
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, plan in enumerate(plans):
        groups.setdefault(_group_key(kd, inputs, plan), []).append(i)
    for key, members in groups.items():
        listings, portfolio = key[0], key[1]
        _, blocks = _blocks(kd, inputs, [plans[i] for i in members], listings, portfolio)
        got, ret = _metrics(kd, blocks, listings, portfolio)
        for k in ROW_METRICS:
            metrics[k][members] = got[k]
        returns[members] = ret
    return metrics, returns


def _marks(kd: KernelData, blocks: list[TradeBlock], listings: tuple[int, ...]) -> tuple[Any, np.ndarray | None]:
    """The engine's mark clock for a block: every close of the traded listings and, once the
    benchmark index has been held (a hedge, a buy-and-hold of the index), every benchmark close
    from then on. Returns the clock (all benchmark closes included when any combination holds
    it) and, per combination, the position on it of the latest mark at or before each instant
    (None: every instant is a mark for every combination)."""
    c = blocks[0].taken.shape[0]
    held_from = np.full(c, np.iinfo(np.int64).max)
    for tb in blocks:
        on_bench = tb.taken & (tb.legs.listing == kd.bench_index)[None, :]
        if on_bench.any():
            held_from = np.minimum(held_from, np.where(on_bench, tb.legs.j[None, :], held_from[:, None]).min(axis=1))
    if not (held_from < np.iinfo(np.int64).max).any():
        return kd.clock(listings), None
    clock = kd.clock(listings, 0)
    own = np.isin(clock.ns, kd.clock(listings).ns)
    bench = kd.listings[kd.bench_index]
    bar = np.searchsorted(bench.close_ns, clock.ns)  # the benchmark bar closing at an instant (if any)
    marked = own[None, :] | (bar[None, :] >= held_from[:, None])
    latest = np.maximum.accumulate(np.where(marked, np.arange(len(clock.ns))[None, :], -1), axis=1)
    return clock, latest


def _metrics(kd: KernelData, blocks: list[TradeBlock], listings: tuple[int, ...],
             portfolio: PortfolioSpec) -> tuple[dict[str, np.ndarray], np.ndarray]:
    clock, latest = _marks(kd, blocks, listings)
    c, k = blocks[0].taken.shape[0], len(clock.ns)
    base = (np.arange(c, dtype=np.int64) * k)[:, None]
    cash_cells, cash_w = [], []
    unit_cells: dict[int, list[np.ndarray]] = {}
    unit_w: dict[int, list[np.ndarray]] = {}
    costs_base = np.zeros(c)
    open_trades = np.zeros(c, dtype=np.int64)
    for tb in blocks:
        legs = tb.legs
        kc_entry = np.empty(len(legs), dtype=np.int64)
        kc_exit = np.zeros(tb.taken.shape, dtype=np.int64)
        for col, li in enumerate(legs.listing):
            kc = clock.kc[int(li)]
            kc_entry[col] = kc[legs.j[col]]
            kc_exit[:, col] = kc[np.minimum(tb.jx[:, col], len(kc) - 1)]
        ti, xi = np.nonzero(tb.taken), np.nonzero(tb.exited)
        entry_cells = base + kc_entry[None, :]
        cash_cells += [entry_cells[ti], (base + kc_exit)[xi]]
        cash_w += [tb.entry_flow[ti], tb.exit_flow[xi]]
        signed = (tb.sign * tb.qty).astype(float)
        for li in np.unique(legs.listing):
            cols = (legs.listing == li)[None, :]
            t2, x2 = np.nonzero(tb.taken & cols), np.nonzero(tb.exited & cols)
            unit_cells.setdefault(int(li), []).extend([entry_cells[t2], (base + kc_exit)[x2]])
            unit_w.setdefault(int(li), []).extend([signed[t2], -signed[x2]])
        costs_base += (np.where(tb.taken, tb.entry_cost * tb.entry_fx, 0.0)
                       + np.where(tb.exited, tb.exit_cost * tb.exit_fx, 0.0)).sum(axis=1)
        open_trades += (tb.taken & ~tb.exited).sum(axis=1)
    cash = np.cumsum(_sums(cash_cells, cash_w, c * k).reshape(c, k), axis=1) + portfolio.initial_cash_base
    positions = np.zeros((c, k))
    for li, cells in unit_cells.items():
        units = np.cumsum(_sums(cells, unit_w[li], c * k).reshape(c, k), axis=1)
        units *= clock.mark[li][None, :]  # units x close x fx, the ledger's order of operations
        units *= clock.fx[li][None, :]
        positions += units
    if latest is not None:  # benchmark closes a combination does not mark repeat its latest mark
        rows = np.arange(c)[:, None]
        first = latest < 0
        safe = np.maximum(latest, 0)
        cash = np.where(first, portfolio.initial_cash_base, cash[rows, safe])
        positions = np.where(first, 0.0, positions[rows, safe])
    equity = cash + positions
    main = blocks[0]
    closed_pnl = np.where(main.exited, main.entry_flow + main.exit_flow, np.nan)
    return metrics_matrix(clock_ns=clock.ns, equity=equity, cash=cash, positions=positions, bench=kd.bench,
                          initial_cash_base=portfolio.initial_cash_base, closed_pnl_base=closed_pnl,
                          costs_base=costs_base, open_trades=open_trades)


def _sums(cells: list[np.ndarray], weights: list[np.ndarray], size: int) -> np.ndarray:
    """Weights summed per cell (float64 even when there is nothing to add)."""
    return np.bincount(np.concatenate(cells).astype(np.int64, copy=False),
                       weights=np.concatenate(weights).astype(float, copy=False), minlength=size).astype(float, copy=False)


# --------------------------------------------------------------------------------------- one run's trades

TRADE_LIST_COLUMNS = ("catalyst_id", "role", "listing", "direction", "quantity", "status", "entry_session",
                      "entry_point", "entry_price", "exit_session", "exit_point", "exit_price", "exit_reason",
                      "costs_local", "net_pnl_base")


def trades(inputs: SweepInputs, plan: RunPlan) -> pd.DataFrame:
    """The fast path's trade list for one combination, in the engine's ``trades.csv`` terms
    (rows in entry order, hedges included; the columns the parity tests compare)."""
    kd = kernel_data(inputs)
    listings = _listing_ids(kd, plan)
    planned, blocks = _blocks(kd, inputs, [plan], listings, plan.portfolio)
    clock, latest = _marks(kd, blocks, listings)
    end_ns = int(clock.ns[latest[0, -1]] if latest is not None else clock.ns[-1])
    params = inputs.resolve(plan).config
    out = []
    for role, tb in zip(("trade", "hedge"), blocks):
        legs = tb.legs
        for col in np.nonzero(tb.taken[0])[0]:
            li = int(legs.listing[col])
            data = kd.listings[li]
            j, jx, exited = int(legs.j[col]), int(tb.jx[0, col]), bool(tb.exited[0, col])
            sign, qty = int(tb.sign[0, col]), int(tb.qty[0, col])
            code = int(tb.reason[0, col])
            if not exited:
                why, pnl, costs = _open_at_end(kd, end_ns, li, sign, qty, float(tb.entry_price[0, col]), j,
                                               float(tb.entry_flow[0, col]), float(tb.entry_cost[0, col]))
            else:
                why = (planned.hold_reason(params, int(tb.hold[0, col])) if code == 0
                       else hedges.exit_reason(str(legs.key[col])) if code == 4
                       else f"{_REASONS[code - 1]} {getattr(params, _REASONS[code - 1] + '_pct'):.2%}")
                pnl = float(tb.entry_flow[0, col] + tb.exit_flow[0, col])
                costs = float(tb.entry_cost[0, col] + tb.exit_cost[0, col])
            at = data.open_ns[j] if legs.point[col] == 0 else data.close_ns[j]
            trade = {
                "catalyst_id": legs.catalyst[col], "role": role, "listing": data.symbol, "direction": sign,
                "quantity": qty, "status": "closed" if exited else "open",
                "entry_session": data.sessions[j], "entry_point": "open" if legs.point[col] == 0 else "close",
                "entry_price": float(tb.entry_price[0, col]),
                "exit_reason": why, "costs_local": costs, "net_pnl_base": pnl,
                "_order": (int(at), role == "hedge", int(legs.order[col])),
            }
            if exited:  # open trades leave the exit columns empty, as the engine's rows do
                trade.update({"exit_session": data.sessions[jx], "exit_point": "open" if tb.x_point[0, col] == 0
                              else "close", "exit_price": float(tb.exit_price[0, col])})
            out.append(trade)
    out.sort(key=lambda d: d["_order"])
    for d in out:
        del d["_order"]
    return pd.DataFrame(out, columns=list(TRADE_LIST_COLUMNS))


def _open_at_end(kd: KernelData, end_ns: int, li: int, sign: int, qty: int, entry_price: float, j: int,
                 entry_flow: float, entry_cost: float) -> tuple[str, float, float]:
    """(exit reason, net P&L in base, costs) of a trade open at the end, as the engine reports it:
    marked at the last close, shorts accruing borrow to the listing's last session."""
    data = kd.listings[li]
    mark = float(data.close[-1])
    accrued = 0.0 if sign > 0 else float(kd.borrow(li, qty, entry_price, j, len(data.close) - 1))
    fx_end = float(kd.fx_to_base(data.currency, np.array([end_ns]))[0])
    why = ("open at end (marked at last close; borrow accrued to it)" if accrued
           else "open at end (marked at last close)")
    return why, entry_flow + (sign * qty * mark - accrued) * fx_end, entry_cost + accrued
