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
(:func:`~backtests.sweeps.rowmetrics.row_metrics`). Cash and units are kept as each
combination's running totals at the instants it books something (:class:`_Running`) and
spread over the clock a few combinations at a time, so the ``C x K`` marks of a block stay
in cache; a combination's row never depends on which others it is evaluated with.

Every float is produced by the same IEEE operations, in the same order, as the engine —
quantities, prices and costs are bit-identical; equity differs only by the order of
summation (~1e-16). What a planner cannot reproduce exactly falls back to backtrader,
with the reason (:func:`unsupported`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from backtests.engine import PortfolioSpec
from backtests.sweeps import hedges
from backtests.sweeps.inputs import RunPlan, SweepInputs
from backtests.sweeps.kernel_data import KernelData, kernel_data
from backtests.sweeps.legs import TradeBlock, resolve
from backtests.sweeps.plans import KNOWN_PORTFOLIO, Planned, planner_for, unknown_fields, unknown_names
from backtests.sweeps.rowmetrics import ROW_METRICS, Returns, bench_positions, from_marks, row_metrics

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
    extra = unknown_names(plan.portfolio, KNOWN_PORTFOLIO)
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
            portfolio: PortfolioSpec, resolved: Sequence[Any] | None = None) -> tuple[Planned, list[TradeBlock]]:
    """The trades of ``plans`` (same listings, portfolio, strategy group and hedge; ``resolved``:
    their ``inputs.resolve``): the strategy's own block, then the hedge block when hedged."""
    resolved = [inputs.resolve(p) for p in plans] if resolved is None else resolved
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


def _groups(kd: KernelData, plans: Sequence[RunPlan], resolved: Sequence[Any]) -> dict[tuple[Any, ...], list[int]]:
    """Positions of ``plans`` by what must be equal within a block: traded listings, portfolio,
    strategy, the planner's group and whether hedged."""
    ids: dict[tuple[str, ...], tuple[int, ...]] = {}
    groups: dict[tuple[Any, ...], list[int]] = {}
    for i, (plan, res) in enumerate(zip(plans, resolved)):
        listings = ids.get(plan.listings)
        if listings is None:
            listings = ids[plan.listings] = _listing_ids(kd, plan)
        planner = planner_for(res.strategy)
        assert planner is not None
        key = (listings, plan.portfolio, res.strategy, planner.group(res.config), res.hedge is not None)
        groups.setdefault(key, []).append(i)
    return groups


def evaluate(inputs: SweepInputs, plans: Sequence[RunPlan]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Metrics (:data:`~backtests.sweeps.rowmetrics.ROW_METRICS`) and benchmark-clock returns of
    ``plans``, in their order. Every plan must be supported (see :func:`unsupported`). A plan's
    row depends on that plan only, not on the others evaluated with it."""
    kd = kernel_data(inputs)
    n = len(plans)
    resolved = [inputs.resolve(p) for p in plans]
    groups = _groups(kd, plans, resolved)
    metrics = {k: np.full(n, np.nan) for k in ROW_METRICS}
    returns = np.full((n, len(kd.bench.close_ns)), np.nan) if len(groups) != 1 else np.empty((0, 0))
    for key, members in groups.items():
        listings, portfolio = key[0], key[1]
        _, blocks = _blocks(kd, inputs, [plans[i] for i in members], listings, portfolio,
                            [resolved[i] for i in members])
        got, ret = _metrics(kd, blocks, listings, portfolio)
        if len(groups) == 1:  # one group: already in the plans' order
            return got, ret
        returns[members] = ret
        for k in ROW_METRICS:
            metrics[k][members] = got[k]
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


#: Combinations marked together: a block's ``rows x K`` arrays stay in the core's cache.
BLOCK_BYTES = 1 << 20


class _Running:
    """Running totals of amounts booked at (combination, clock position), as runs of equal values.

    The ledger books each amount at its instant; the engine's cash (units) at a mark is the
    sum, in time order, of the amounts booked up to it, those at one instant first added
    together in booking order. Here the amounts of one position are summed in booking order,
    their running total taken over each combination's positions only (adding the zeros in
    between would change no bit), and :meth:`dense` spreads the totals over the clock.
    """

    def __init__(self, rows: np.ndarray, cols: np.ndarray, amounts: np.ndarray, c: int, k: int,
                 start: float | None) -> None:
        key = rows * k + cols  # sorted, booking order kept within a position (see _Ledger)
        new = np.ones(len(key), dtype=bool)
        new[1:] = key[1:] != key[:-1]
        sums = np.bincount(np.cumsum(new) - 1, weights=amounts, minlength=int(new.sum()))
        key = key[new]
        row, col = np.divmod(key, k)
        count = np.bincount(row, minlength=c)
        first = np.cumsum(count) - count
        j = np.arange(len(key)) - first[row]
        total = np.zeros((c, int(count.max(initial=0))))
        total[row, j] = sums
        np.cumsum(total, axis=1, out=total)
        # runs: per combination the value before its first position, then after each position
        lead = first + np.arange(c)
        at = lead[row] + 1 + j
        self.values = np.full(c + len(key), 0.0 if start is None else float(start))
        self.values[at] = total[row, j] if start is None else total[row, j] + start
        begin = np.zeros(c + len(key), dtype=np.int64)
        begin[at] = col
        end = np.empty_like(begin)
        end[:-1] = begin[1:]
        end[lead[1:] - 1] = k
        end[-1:] = k
        self.length = end - begin
        self.lead = np.append(lead, c + len(key))
        self.k = k

    def dense(self, r0: int, r1: int) -> np.ndarray:
        """Rows ``r0:r1`` of the ``C x K`` running totals."""
        a, b = self.lead[r0], self.lead[r1]
        return np.repeat(self.values[a:b], self.length[a:b]).reshape(r1 - r0, self.k)


class _Ledger:
    """Every combination's cash and units per listing as :class:`_Running` totals, and its costs,
    open trades and closed-trade P&L."""

    def __init__(self, kd: KernelData, blocks: list[TradeBlock], clock: Any, initial_cash_base: float) -> None:
        c, k = blocks[0].taken.shape[0], len(clock.ns)
        parts: list[tuple[np.ndarray, ...]] = []  # (row, clock position, cash, units, listing) in booking order
        self.costs_base = np.zeros(c)
        self.open_trades = np.zeros(c, dtype=np.int64)
        for tb in blocks:
            legs = tb.legs
            signed = tb.sign * tb.qty
            for rows, cols, flow, units, jj in ((*np.nonzero(tb.taken), tb.entry_flow, signed, None),
                                                 (*np.nonzero(tb.exited), tb.exit_flow, -signed, tb.jx)):
                li = legs.listing[cols]
                pos = np.empty(len(rows), dtype=np.int64)
                for i in np.unique(li):
                    m = li == i
                    kc = clock.kc[int(i)]
                    pos[m] = kc[legs.j[cols[m]]] if jj is None else kc[np.minimum(jj[rows[m], cols[m]], len(kc) - 1)]
                parts.append((rows, pos, flow[rows, cols], units[rows, cols].astype(float), li))
            self.costs_base += (np.where(tb.taken, tb.entry_cost * tb.entry_fx, 0.0)
                                + np.where(tb.exited, tb.exit_cost * tb.exit_fx, 0.0)).sum(axis=1)
            self.open_trades += (tb.taken & ~tb.exited).sum(axis=1)
        main = blocks[0]
        self.closed_pnl = np.where(main.exited, main.entry_flow + main.exit_flow, np.nan)
        rows, pos, cash, units, li = (np.concatenate(x) for x in zip(*parts))
        order = np.argsort(rows * k + pos, kind="stable")
        rows, pos, cash, units, li = rows[order], pos[order], cash[order], units[order], li[order]
        self.cash = _Running(rows, pos, cash, c, k, initial_cash_base)
        # the ledger's order of listings: first traded first
        self.units = {int(i): _Running(rows[li == i], pos[li == i], units[li == i], c, k, None)
                      for i in dict.fromkeys(int(i) for tb in blocks for i in np.unique(tb.legs.listing))}


def _block_rows(k: int) -> int:
    return max(1, BLOCK_BYTES // (8 * max(k, 1)))


def _metrics(kd: KernelData, blocks: list[TradeBlock], listings: tuple[int, ...], portfolio: PortfolioSpec
             ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Metrics and ``C x T`` returns of the block's combinations (marked a few rows at a time)."""
    clock, latest = _marks(kd, blocks, listings)
    c, k = blocks[0].taken.shape[0], len(clock.ns)
    init = portfolio.initial_cash_base
    ledger = _Ledger(kd, blocks, clock, init)
    at = bench_positions(clock.ns, kd.bench)
    by_time, exposure, curve = np.empty((len(at), c)), np.empty(c), {}
    step = _block_rows(k)
    for r0 in range(0, c, step):
        part = slice(r0, min(c, r0 + step))
        cash = ledger.cash.dense(part.start, part.stop)
        positions = None
        for li, units in ledger.units.items():
            value = units.dense(part.start, part.stop)
            value *= clock.mark[li][None, :]  # units x close x fx, the ledger's order of operations
            value *= clock.fx[li][None, :]
            positions = value if positions is None else np.add(positions, value, out=positions)
        if positions is None:
            positions = np.zeros_like(cash)
        if latest is not None:  # benchmark closes a combination does not mark repeat its latest mark
            first = latest[part] < 0
            safe = np.maximum(latest[part], 0)
            rows = np.arange(len(safe))[:, None]
            cash = np.where(first, init, cash[rows, safe])
            positions = np.where(first, 0.0, positions[rows, safe])
        got = from_marks(cash=cash, positions=positions, at=at, initial_cash_base=init)
        by_time[:, part], exposure[part] = got.by_time, got.exposure
        for key, value in got.curve.items():
            curve.setdefault(key, np.empty(c))[part] = value
    by_row = np.ascontiguousarray(by_time.T)
    got = Returns(by_time=by_time, exposure=exposure, curve=curve)
    return row_metrics(got, by_row, bench=kd.bench, closed_pnl_base=ledger.closed_pnl, costs_base=ledger.costs_base,
                       open_trades=ledger.open_trades), by_row


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
