"""Vectorised PostEventDrift: many parameter combinations at once, same trades as the engine.

Why this is exact rather than approximate: a PostEventDrift run is a set of independent
round trips (the engine's broker has unlimited cash, and trades in different listings never
interact). A round trip is fixed by its schedule row, direction, size, exit rule and
slippage, so its fills are *shared* across combinations:

* entry fill per (schedule row, direction, quantity): quantity from
  ``floor(notional / (ref_price × fx × lot)) × lot``, price ``open`` (or ``close``)
  ``× (1 ± slippage)``;
* exit fill per (listing, exit session, point, side, quantity): the hold exit
  ``hold_sessions`` bars later at the entry's price point, or a protective exit at the open
  after the first close that breaches a stop (stop-loss / take-profit / trailing, checked
  in that order, from the entry session's close when entered at the open);
* costs of each distinct fill come from the real :class:`~backtests.costs.CostBook` (Decimal
  arithmetic, HK stamp duty rounded up to the whole HK$ ...), computed once per process
  and cached; shorts add ``CostBook.borrow_fee`` on their exit fill;
* cash flows convert with the USDHKD rate as-of the fill instant (``backtests.fx.FxRates``
  semantics: last FX close at or before the instant).

Every float is produced by the same IEEE operations, in the same order, as
``strategies.base`` / ``backtests.engine`` / ``backtests.ledger`` do — including backtrader's
report of an open fill as its execution's average price ``(q × open) / q`` — so quantities,
prices and costs are bit-identical; equity differs only by the order of summation (~1e-16).
``when_holding = "skip"`` is resolved by a scan over each listing's rows in time order,
vectorised across combinations. Equity is marked on the engine's clock (every close of a
traded listing) as ``cash + Σ units × close × fx``.

Not covered (the sweep falls back to backtrader for these, and says so): other
strategies, hedged runs, parameters this module does not know (see :func:`unsupported`).
"""

from __future__ import annotations

import dataclasses
import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from backtests.engine import PortfolioSpec
from backtests.sweep.inputs import RunPlan, SweepInputs
from backtests.sweep.kernel_data import KernelData, Rows, kernel_data
from backtests.sweep.rowmetrics import ROW_METRICS, metrics_matrix
from strategies.post_event_drift import PostEventDrift

#: PostEventDrift parameters the kernel models; a parameter class with any other field falls back.
KNOWN_PARAMS: frozenset[str] = frozenset({
    "hold_sessions", "notional_per_trade_base", "direction", "when_holding", "kinds", "stop_loss_pct",
    "take_profit_pct", "trailing_stop_pct",
})
KNOWN_PORTFOLIO: frozenset[str] = frozenset({"base_currency", "initial_cash_base", "slippage_bps", "allow_short"})
_DIRECTIONS: dict[Any, int] = {1: 1, -1: -1, "long": 1, "short": -1, "expected": 0}
_REASONS = ("stop_loss", "take_profit", "trailing_stop")
_INF_POS = np.iinfo(np.int64).max


def unsupported(inputs: SweepInputs, plan: RunPlan) -> str | None:
    """Why the kernel cannot run ``plan`` (None when it can)."""
    resolved = inputs.resolve(plan)
    if resolved.hedge is not None:
        return "hedged runs (benchmark_hedged)"
    if resolved.strategy is not PostEventDrift:
        return f"no kernel for strategy {inputs.strategy!r}"
    fields = {f.name for f in dataclasses.fields(plan.params)}
    unknown = sorted(fields - set(KNOWN_PARAMS))
    if unknown:
        return f"parameter(s) {', '.join(unknown)} not modelled by the kernel"
    extra = sorted({f.name for f in dataclasses.fields(plan.portfolio)} - KNOWN_PORTFOLIO)
    if extra:
        return f"portfolio setting(s) {', '.join(extra)} not modelled by the kernel"
    if _DIRECTIONS.get(getattr(plan.params, "direction", 1)) is None:
        return f"direction {plan.params.direction!r}"
    if plan.params.when_holding not in ("stack", "skip"):
        return f"when_holding {plan.params.when_holding!r}"
    return None


# --------------------------------------------------------------------------------------- trades


@dataclass(frozen=True, kw_only=True)
class TradeBlock:
    """Round trips of ``C`` combinations on the ``R`` schedule rows of one listing set.

    Arrays are ``C x R``; ``taken`` says which cells are real trades.
    """

    rows: np.ndarray          # R indices into KernelData.rows
    taken: np.ndarray         # bool
    sign: np.ndarray          # +1 / -1
    qty: np.ndarray           # int64 units
    entry_price: np.ndarray
    entry_cost: np.ndarray    # local currency, float(Decimal total)
    entry_flow: np.ndarray    # base currency, signed
    entry_fx: np.ndarray
    exited: np.ndarray        # bool: closed before the end
    jx: np.ndarray            # exit bar (valid where exited)
    x_point: np.ndarray       # 0 open, 1 close
    exit_price: np.ndarray
    exit_cost: np.ndarray
    exit_flow: np.ndarray
    exit_fx: np.ndarray
    reason: np.ndarray        # 0 hold, 1 stop_loss, 2 take_profit, 3 trailing_stop


def _param_arrays(plans: Sequence[RunPlan], rows: Rows, sel: np.ndarray) -> dict[str, np.ndarray]:
    c = len(plans)
    hold = np.array([p.params.hold_sessions for p in plans], dtype=np.int64)
    notional = np.array([float(p.params.notional_per_trade_base) for p in plans], dtype=float)
    dirmode = np.array([_DIRECTIONS[p.params.direction] for p in plans], dtype=np.int64)
    skip = np.array([p.params.when_holding == "skip" for p in plans], dtype=bool)
    allow_short = np.array([getattr(p.portfolio, "allow_short", True) for p in plans], dtype=bool)
    stops = {name: np.array([np.nan if getattr(p.params, name, None) is None else float(getattr(p.params, name))
                             for p in plans], dtype=float)
             for name in ("stop_loss_pct", "take_profit_pct", "trailing_stop_pct")}
    cats = rows.catalyst[sel]
    kinds = rows.kind[sel]
    allowed = np.ones((c, len(sel)), dtype=bool)
    cache: dict[tuple[Any, Any], np.ndarray] = {}
    for i, p in enumerate(plans):
        want_kinds = getattr(p.params, "kinds", None)
        ck = (p.only, tuple(want_kinds) if want_kinds else None)
        mask = cache.get(ck)
        if mask is None:
            mask = np.ones(len(sel), dtype=bool)
            if p.only:
                mask &= np.isin(cats, list(p.only))
            if want_kinds:
                mask &= np.isin(kinds, list(want_kinds))
            cache[ck] = mask
        allowed[i] = mask
    return {"hold": hold, "notional": notional, "dirmode": dirmode, "skip": skip, "allow_short": allow_short,
            "allowed": allowed, **stops}


def _stop_exits(kd: KernelData, rows: Rows, sel: np.ndarray, sign: np.ndarray, qty: np.ndarray,
                entry_price: np.ndarray, hold: np.ndarray, sl: np.ndarray, tp: np.ndarray, ts: np.ndarray,
                cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First close that triggers a protective rule within the hold: (close index or -1, reason 1..3)."""
    c, r = sign.shape
    hit_j = np.full((c, r), -1, dtype=np.int64)
    reason = np.zeros((c, r), dtype=np.int64)
    on = cand & (~np.isnan(sl) | ~np.isnan(tp) | ~np.isnan(ts))[:, None]
    if not on.any():
        return hit_j, reason
    ci, ri = np.nonzero(on)
    # distinct variants (row, sign, quantity — the entry price follows from these — and the
    # three rule levels): each is scanned once
    codes = [ri, (sign[ci, ri] > 0).astype(np.int64), np.unique(qty[ci, ri], return_inverse=True)[1].reshape(-1)]
    for arr in (sl, tp, ts):
        codes.append(np.unique(np.nan_to_num(arr[ci], nan=-1.0), return_inverse=True)[1].reshape(-1))
    key = _encode(codes)
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    u_ci, u_ri = ci[first], ri[first]
    uniq = np.stack([sel[u_ri].astype(float), sign[u_ci, u_ri].astype(float), entry_price[u_ci, u_ri],
                     sl[u_ci], tp[u_ci], ts[u_ci]], axis=1)
    u_hold = np.zeros(len(uniq), dtype=np.int64)
    np.maximum.at(u_hold, inverse, hold[ci])
    u_row = uniq[:, 0].astype(np.int64)
    u_sign = uniq[:, 1]
    u_ep = uniq[:, 2]
    u_sl, u_tp, u_ts = uniq[:, 3], uniq[:, 4], uniq[:, 5]
    first = np.full(len(uniq), -1, dtype=np.int64)
    u_reason = np.zeros(len(uniq), dtype=np.int64)
    for li in np.unique(rows.listing[u_row]):
        m = np.nonzero(rows.listing[u_row] == li)[0]
        data = kd.listings[li]
        n = len(data.close)
        start = rows.j[u_row[m]] + rows.point[u_row[m]]       # open entry: from its own close
        checks = u_hold[m] - rows.point[u_row[m]]              # closes before the hold exit
        width = int(max(checks.max(), 0))
        if width == 0:
            continue
        idx = start[:, None] + np.arange(width)[None, :]
        valid = (idx < n) & (np.arange(width)[None, :] < checks[:, None])
        closes = data.close[np.minimum(idx, n - 1)]
        d = u_sign[m][:, None]
        ep = u_ep[m][:, None]
        move = d * (closes / ep - 1.0)
        seq = np.concatenate([ep, np.where(valid, closes, np.nan)], axis=1)
        best = np.where(d > 0, np.fmax.accumulate(seq, axis=1), np.fmin.accumulate(seq, axis=1))[:, 1:]
        trail = d * (closes / best - 1.0)
        hits = np.zeros((len(m), width, 3), dtype=bool)
        hits[:, :, 0] = ~np.isnan(u_sl[m])[:, None] & (move <= -np.nan_to_num(u_sl[m], nan=0.0)[:, None])
        hits[:, :, 1] = ~np.isnan(u_tp[m])[:, None] & (move >= np.nan_to_num(u_tp[m], nan=0.0)[:, None])
        hits[:, :, 2] = ~np.isnan(u_ts[m])[:, None] & (trail <= -np.nan_to_num(u_ts[m], nan=0.0)[:, None])
        any_hit = hits.any(axis=2) & valid
        has = any_hit.any(axis=1)
        pos = np.argmax(any_hit, axis=1)
        which = np.argmax(hits[np.arange(len(m)), pos, :], axis=1) + 1
        first[m] = np.where(has, start + pos, -1)
        u_reason[m] = np.where(has, which, 0)
    hit_j[ci, ri] = first[inverse]
    reason[ci, ri] = u_reason[inverse]
    # a variant scanned with the longest hold among its combinations: cut at each one's own hold
    late = hit_j[ci, ri] > rows.j[sel[ri]] + hold[ci] - 1
    hit_j[ci[late], ri[late]] = -1
    reason[ci[late], ri[late]] = 0
    return hit_j, reason


def trade_block(kd: KernelData, plans: Sequence[RunPlan], listings: tuple[int, ...],
                portfolio: PortfolioSpec) -> TradeBlock:
    """Resolve every round trip of ``plans`` (same traded listings and portfolio)."""
    rows = kd.rows
    sel = np.nonzero(np.isin(rows.listing, listings))[0]
    c, r = len(plans), len(sel)
    p = _param_arrays(plans, rows, sel)
    slip = portfolio.slippage_bps / 10_000.0
    exp = rows.expected[sel]
    sign = np.where(p["dirmode"][:, None] != 0, p["dirmode"][:, None], exp[None, :]).astype(np.int64)
    lot = np.array([kd.listings[i].lot for i in rows.listing[sel]], dtype=np.int64)
    ref, fxd, raw = rows.ref[sel], rows.fx[sel], rows.price[sel]
    j = rows.j[sel]
    point = rows.point[sel]
    with np.errstate(invalid="ignore", divide="ignore"):
        per_unit = ref * fxd
        lots = np.floor(p["notional"][:, None] / (per_unit * lot)[None, :])
    ok = p["allowed"] & (sign != 0) & ~np.isnan(ref)[None, :] & (p["allow_short"][:, None] | (sign > 0))
    lots = np.where(ok & np.isfinite(lots), lots, 0.0)
    qty = lots.astype(np.int64) * lot[None, :]
    cand = ok & (qty > 0)
    buy = sign > 0
    # backtrader reports an open fill as its execution's average price, (q × open) / q,
    # which can differ from the open in the last bit; close fills are booked at the close
    qf = qty.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw_fill = np.where(point[None, :] == 0, (qf * raw[None, :]) / qf, raw[None, :])
    entry_price = np.where(buy, raw_fill * (1 + slip), raw_fill * (1 - slip))
    # exits
    jx = j[None, :] + p["hold"][:, None]
    x_point = np.broadcast_to(point[None, :], (c, r)).copy()
    reason = np.zeros((c, r), dtype=np.int64)
    hit_j, hit_reason = _stop_exits(kd, rows, sel, sign, qty, entry_price, p["hold"], p["stop_loss_pct"],
                                    p["take_profit_pct"], p["trailing_stop_pct"], cand)
    stopped = hit_j >= 0
    jx = np.where(stopped, hit_j + 1, jx)
    x_point = np.where(stopped, 0, x_point)
    reason = np.where(stopped, hit_reason, reason)
    n_bars = np.array([len(kd.listings[i].close) for i in rows.listing[sel]], dtype=np.int64)
    exited = jx <= (n_bars - 1)[None, :]
    # when_holding = "skip": scan each listing's rows in time order
    taken = cand.copy()
    if p["skip"].any():
        entry_pos = 2 * j + point
        exit_pos = np.where(exited, 2 * jx + x_point, _INF_POS)
        for li in listings:
            cols = np.nonzero(rows.listing[sel] == li)[0]
            cols = cols[np.argsort(entry_pos[cols], kind="stable")]
            latest = np.full(c, -1, dtype=np.int64)
            for col in cols:
                blocked = p["skip"] & (latest > entry_pos[col])
                taken[:, col] &= ~blocked
                latest = np.where(taken[:, col], np.maximum(latest, exit_pos[:, col]), latest)
    # fills, costs (the real CostBook, once per distinct fill) and cash flows
    entry_cost = np.zeros((c, r))
    exit_cost = np.zeros((c, r))
    ci, ri = np.nonzero(taken)
    # the real CostBook once per distinct fill: (row, quantity, side) at entry
    key = _encode([ri, qty[ci, ri], (sign[ci, ri] > 0).astype(np.int64)])
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    per_fill = np.empty(len(first))
    for u, f in enumerate(first):
        col, q, s = int(ri[f]), int(qty[ci[f], ri[f]]), int(sign[ci[f], ri[f]])
        per_fill[u] = float(kd.cost_total(int(rows.listing[sel[col]]), int(j[col]), "buy" if s > 0 else "sell", q,
                                          float(entry_price[ci[f], col])))
    entry_cost[ci, ri] = per_fill[inverse.reshape(-1)]
    xi = exited[ci, ri]
    ce, re_ = ci[xi], ri[xi]
    x_raw = np.zeros((c, r))
    x_fx = np.zeros((c, r))
    for col in range(r):
        data = kd.listings[int(rows.listing[sel[col]])]
        jj = np.minimum(jx[:, col], len(data.close) - 1)
        at_open = x_point[:, col] == 0
        qc = qty[:, col].astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            x_raw[:, col] = np.where(at_open, (qc * data.open[jj]) / qc, data.close[jj])
        x_fx[:, col] = np.where(at_open, data.fx_open[jj], data.fx_close[jj])
    exit_price = np.where(buy, x_raw * (1 - slip), x_raw * (1 + slip))
    # ... and (row, exit bar, quantity, side, point) at exit, plus the borrow fee of a short
    key = _encode([re_, jx[ce, re_], qty[ce, re_], (sign[ce, re_] > 0).astype(np.int64), x_point[ce, re_]])
    _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
    per_fill = np.empty(len(first))
    for u, f in enumerate(first):
        c_, col = ce[f], int(re_[f])
        jj, q, s = int(jx[c_, col]), int(qty[c_, col]), int(sign[c_, col])
        li = int(rows.listing[sel[col]])
        total = kd.cost_total(li, jj, "sell" if s > 0 else "buy", q, float(exit_price[c_, col]))
        if s < 0:
            total = total + kd.borrow(li, q, float(entry_price[c_, col]), int(j[col]), jj)
        per_fill[u] = float(total)
    exit_cost[ce, re_] = per_fill[inverse.reshape(-1)]
    entry_cons = qf * entry_price
    entry_flow = (np.where(buy, -entry_cons, entry_cons) - entry_cost) * fxd[None, :]
    exit_cons = qf * exit_price
    exit_flow = (np.where(buy, exit_cons, -exit_cons) - exit_cost) * x_fx
    return TradeBlock(rows=sel, taken=taken, sign=sign, qty=qty, entry_price=entry_price, entry_cost=entry_cost,
                      entry_flow=entry_flow, entry_fx=np.broadcast_to(fxd[None, :], (c, r)), exited=exited & taken,
                      jx=jx, x_point=x_point, exit_price=exit_price, exit_cost=exit_cost, exit_flow=exit_flow,
                      exit_fx=x_fx, reason=reason)


def _encode(columns: Sequence[np.ndarray]) -> np.ndarray:
    """Mixed-radix int64 code of non-negative integer columns (distinct rows -> distinct codes)."""
    code = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        col = np.asarray(col, dtype=np.int64)
        radix = int(col.max()) + 1 if len(col) else 1
        code = code * radix + col
    return code


# --------------------------------------------------------------------------------------- equity + metrics


def evaluate(inputs: SweepInputs, plans: Sequence[RunPlan]) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Metrics (:data:`~backtests.sweep.rowmetrics.ROW_METRICS`) and benchmark-clock returns of
    ``plans``, in their order. Every plan must be supported (see :func:`unsupported`)."""
    kd = kernel_data(inputs)
    n = len(plans)
    metrics = {k: np.full(n, np.nan) for k in ROW_METRICS}
    returns = np.full((n, len(kd.bench.close_ns)), np.nan)
    groups: dict[tuple[Any, ...], list[int]] = {}
    index = {sym: i for i, sym in enumerate(kd.symbols)}
    for i, plan in enumerate(plans):
        key = (tuple(sorted(index[s] for s in plan.listings)), plan.portfolio)
        groups.setdefault(key, []).append(i)
    for (listings, portfolio), members in groups.items():
        block_plans = [plans[i] for i in members]
        got, ret = _evaluate_group(kd, block_plans, listings, portfolio)
        for k in ROW_METRICS:
            metrics[k][members] = got[k]
        returns[members] = ret
    return metrics, returns


def _evaluate_group(kd: KernelData, plans: Sequence[RunPlan], listings: tuple[int, ...],
                    portfolio: PortfolioSpec) -> tuple[dict[str, np.ndarray], np.ndarray]:
    tb = trade_block(kd, plans, listings, portfolio)
    clock = kd.clock(listings)
    c, k = len(plans), len(clock.ns)
    rows = kd.rows
    row_listing = rows.listing[tb.rows]
    kc_entry = np.zeros(tb.taken.shape, dtype=np.int64)
    kc_exit = np.zeros(tb.taken.shape, dtype=np.int64)
    for col, li in enumerate(row_listing):
        kc = clock.kc[int(li)]
        kc_entry[:, col] = kc[rows.j[tb.rows[col]]]
        kc_exit[:, col] = kc[np.minimum(tb.jx[:, col], len(kc) - 1)]
    base = (np.arange(c, dtype=np.int64) * k)[:, None]
    ti = np.nonzero(tb.taken)
    xi = np.nonzero(tb.exited)
    flat = np.concatenate([(base + kc_entry)[ti], (base + kc_exit)[xi]])
    flows = np.concatenate([tb.entry_flow[ti], tb.exit_flow[xi]])
    cash = np.cumsum(np.bincount(flat, weights=flows, minlength=c * k).reshape(c, k), axis=1) + portfolio.initial_cash_base
    positions = np.zeros((c, k))
    signed = (tb.sign * tb.qty).astype(float)
    for li in listings:
        cols = row_listing == li
        if not cols.any():
            continue
        tk = tb.taken & cols[None, :]
        xk = tb.exited & cols[None, :]
        ti2, xi2 = np.nonzero(tk), np.nonzero(xk)
        f2 = np.concatenate([(base + kc_entry)[ti2], (base + kc_exit)[xi2]])
        w2 = np.concatenate([signed[ti2], -signed[xi2]])
        units = np.cumsum(np.bincount(f2, weights=w2, minlength=c * k).reshape(c, k), axis=1)
        units *= clock.mark[li][None, :]  # units x close x fx, the ledger's order of operations
        units *= clock.fx[li][None, :]
        positions += units
    equity = cash + positions
    closed_pnl = np.where(tb.exited, tb.entry_flow + tb.exit_flow, np.nan)
    costs_base = (np.where(tb.taken, tb.entry_cost * tb.entry_fx, 0.0)
                  + np.where(tb.exited, tb.exit_cost * tb.exit_fx, 0.0)).sum(axis=1)
    open_trades = (tb.taken & ~tb.exited).sum(axis=1)
    return metrics_matrix(clock_ns=clock.ns, equity=equity, cash=cash, positions=positions, bench=kd.bench,
                          initial_cash_base=portfolio.initial_cash_base, closed_pnl_base=closed_pnl,
                          costs_base=costs_base, open_trades=open_trades)


# --------------------------------------------------------------------------------------- one run's trades


def trades(inputs: SweepInputs, plan: RunPlan) -> pd.DataFrame:
    """The kernel's trade list for one combination, in the engine's ``trades.csv`` terms
    (rows in entry order; the columns the parity tests compare)."""
    kd = kernel_data(inputs)
    index = {sym: i for i, sym in enumerate(kd.symbols)}
    listings = tuple(sorted(index[s] for s in plan.listings))
    tb = trade_block(kd, [plan], listings, plan.portfolio)
    rows = kd.rows
    out = []
    for col in np.nonzero(tb.taken[0])[0]:
        r = tb.rows[col]
        data = kd.listings[int(rows.listing[r])]
        j = int(rows.j[r])
        exited = bool(tb.exited[0, col])
        jx = int(tb.jx[0, col])
        code = int(tb.reason[0, col])
        if code == 0:
            why = f"held {plan.params.hold_sessions} sessions"
        else:
            pct = getattr(plan.params, _REASONS[code - 1] + "_pct")
            why = f"{_REASONS[code - 1]} {pct:.2%}"
        out.append({
            "catalyst_id": rows.catalyst[r], "listing": data.symbol, "direction": int(tb.sign[0, col]),
            "quantity": int(tb.qty[0, col]), "status": "closed" if exited else "open",
            "entry_session": data.sessions[j], "entry_point": "open" if rows.point[r] == 0 else "close",
            "entry_price": float(tb.entry_price[0, col]),
            "exit_session": data.sessions[jx] if exited else pd.NaT,
            "exit_point": ("open" if tb.x_point[0, col] == 0 else "close") if exited else None,
            "exit_price": float(tb.exit_price[0, col]) if exited else math.nan,
            "exit_reason": why if exited else "open at end (marked at last close)",
            "costs_local": float(tb.entry_cost[0, col] + (tb.exit_cost[0, col] if exited else 0.0)),
            "net_pnl_base": float(tb.entry_flow[0, col] + tb.exit_flow[0, col]) if exited else math.nan,
            "_order": (int(rows.instant_ns[r]), int(r)),
        })
    out.sort(key=lambda d: d["_order"])
    for d in out:
        del d["_order"]
    return pd.DataFrame(out, columns=["catalyst_id", "listing", "direction", "quantity", "status", "entry_session",
                                      "entry_point", "entry_price", "exit_session", "exit_point", "exit_price",
                                      "exit_reason", "costs_local", "net_pnl_base"])
