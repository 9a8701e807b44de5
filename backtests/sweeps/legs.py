"""Round trips of many combinations at once: the fast path's shared core.

Every library strategy is, on the engine's unlimited-cash broker, a set of independent
round trips: a *candidate entry* (listing, bar, price point, sizing price, decision FX)
that a combination takes or not, with its own direction, notional, hold and protective
rules. A strategy's planner (``backtests.sweeps.plans``) turns its parameters into those
candidates (:class:`Legs`, fixed across combinations) and each combination's decisions
(:class:`Orders`, ``C x R``); :func:`resolve` then fills them exactly as the engine does:

* quantity ``floor(notional / (ref × fx × lot)) × lot``; fill ``open`` (reported by
  backtrader as ``(q × open) / q``) or ``close``, ``× (1 ± slippage)``;
* exit ``hold`` bars later at the exit point, or at the open after the first close that
  breaches a stop (stop-loss / take-profit / trailing, checked in that order; from the
  entry's own close when entered at the open); ``when_holding = "skip"`` by a scan in time
  order;
* costs of each distinct fill from the real ``CostBook`` (cached), borrow on short exits,
  cash flows at the FX rate as-of the fill.

Every float comes from the same IEEE operations in the same order as ``strategies.base`` /
``backtests.engine`` / ``backtests.ledger``, so quantities, prices and costs are bit-identical.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np

from backtests.sweeps.kernel_data import KernelData

NO_HOLD = -1
_INF_POS = np.iinfo(np.int64).max


@dataclass(frozen=True, kw_only=True)
class Legs:
    """``R`` candidate entries, the same for every combination of a block.

    Attributes
    ----------
    listing, j, point
        Listing index in ``KernelData.listings``, entry bar, price point (0 open, 1 close).
    ref, fx, price
        Sizing price, FX to base at the decision, raw fill price (open or close of bar ``j``).
    catalyst, key
        Catalyst id (or None) and the engine's trade key (``catalyst@listing`` ...).
    order
        Entry order among candidates filled at the same instant (smaller first).
    """

    listing: np.ndarray
    j: np.ndarray
    point: np.ndarray
    ref: np.ndarray
    fx: np.ndarray
    price: np.ndarray
    catalyst: np.ndarray
    key: np.ndarray
    order: np.ndarray

    def __len__(self) -> int:
        return len(self.j)

    @classmethod
    def at(cls, kd: KernelData, *, listing: Sequence[int], j: Sequence[int], point: Sequence[int],
           catalyst: Sequence[object], key: Sequence[str], order: Sequence[int]) -> "Legs":
        """Candidates deciding at their own fill instant (the engine's ``enter`` now): the sizing
        price is the previous close at an open (NaN at the first bar), the open at a close."""
        li = np.asarray(listing, dtype=np.int64)
        jj = np.asarray(j, dtype=np.int64)
        pt = np.asarray(point, dtype=np.int64)
        ref, fx, price = np.empty(len(jj)), np.empty(len(jj)), np.empty(len(jj))
        for c, (l_, j_, p_) in enumerate(zip(li, jj, pt)):
            data = kd.listings[int(l_)]
            if p_ == 0:
                ref[c] = data.close[j_ - 1] if j_ > 0 else np.nan
                fx[c], price[c] = data.fx_open[j_], data.open[j_]
            else:
                ref[c], fx[c], price[c] = data.open[j_], data.fx_close[j_], data.close[j_]
        return cls(listing=li, j=jj, point=pt, ref=ref, fx=fx, price=price,
                   catalyst=np.array(list(catalyst), dtype=object), key=np.array(list(key), dtype=object),
                   order=np.asarray(order, dtype=np.int64))


@dataclass(frozen=True, kw_only=True)
class Orders:
    """What each of ``C`` combinations does with each candidate (arrays broadcast to ``C x R``).

    ``hold`` is the number of bars to the exit (:data:`NO_HOLD`: held to the end), ``x_point``
    the exit's price point; ``sl``/``tp``/``ts`` (``C``, NaN = off) the protective rules.
    """

    want: np.ndarray
    sign: np.ndarray
    notional: np.ndarray
    hold: np.ndarray
    x_point: np.ndarray
    sl: np.ndarray
    tp: np.ndarray
    ts: np.ndarray
    skip: np.ndarray
    allow_short: np.ndarray


@dataclass(frozen=True, kw_only=True)
class TradeBlock:
    """Round trips of ``C`` combinations on ``R`` candidates (``C x R`` arrays; ``taken`` marks
    the real trades)."""

    legs: Legs
    taken: np.ndarray
    sign: np.ndarray
    qty: np.ndarray
    hold: np.ndarray
    entry_price: np.ndarray
    entry_cost: np.ndarray    # local currency, float(Decimal total)
    entry_flow: np.ndarray    # base currency, signed
    exited: np.ndarray        # closed before the end
    jx: np.ndarray            # exit bar (valid where exited)
    x_point: np.ndarray
    exit_price: np.ndarray
    exit_cost: np.ndarray
    exit_flow: np.ndarray
    exit_fx: np.ndarray
    reason: np.ndarray        # 0 hold, 1 stop_loss, 2 take_profit, 3 trailing_stop, 4 hedge exit

    @property
    def entry_fx(self) -> np.ndarray:
        return np.broadcast_to(self.legs.fx[None, :], self.taken.shape)


def encode(columns: Sequence[np.ndarray]) -> np.ndarray:
    """Mixed-radix int64 code of non-negative integer columns (distinct rows -> distinct codes)."""
    code = np.zeros(len(columns[0]), dtype=np.int64)
    for col in columns:
        col = np.asarray(col, dtype=np.int64)
        radix = int(col.max()) + 1 if len(col) else 1
        code = code * radix + col
    return code


def _stop_exits(kd: KernelData, legs: Legs, sign: np.ndarray, qty: np.ndarray, entry_price: np.ndarray,
                hold: np.ndarray, o: Orders, cand: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """First close that triggers a protective rule before the hold exit: (bar or -1, reason 1..3)."""
    c, r = sign.shape
    hit_j = np.full((c, r), -1, dtype=np.int64)
    reason = np.zeros((c, r), dtype=np.int64)
    sl, tp, ts = o.sl, o.tp, o.ts
    on = cand & (~np.isnan(sl) | ~np.isnan(tp) | ~np.isnan(ts))[:, None]
    if not on.any():
        return hit_j, reason
    ci, ri = np.nonzero(on)
    # distinct variants (candidate, sign, quantity -> entry price, three rule levels) scanned once
    codes = [ri, (sign[ci, ri] > 0).astype(np.int64), np.unique(qty[ci, ri], return_inverse=True)[1].reshape(-1)]
    for arr in (sl, tp, ts):
        codes.append(np.unique(np.nan_to_num(arr[ci], nan=-1.0), return_inverse=True)[1].reshape(-1))
    _, first, inverse = np.unique(encode(codes), return_index=True, return_inverse=True)
    inverse = inverse.reshape(-1)
    u_ci, u_ri = ci[first], ri[first]
    u_sign = sign[u_ci, u_ri].astype(float)
    u_ep = entry_price[u_ci, u_ri]
    u_sl, u_tp, u_ts = sl[u_ci], tp[u_ci], ts[u_ci]
    h = hold[ci, ri]
    u_hold = np.zeros(len(first), dtype=np.int64)
    np.maximum.at(u_hold, inverse, np.where(h < 0, np.iinfo(np.int32).max, h))
    u_first = np.full(len(first), -1, dtype=np.int64)
    u_reason = np.zeros(len(first), dtype=np.int64)
    u_li = legs.listing[u_ri]
    for li in np.unique(u_li):
        m = np.nonzero(u_li == li)[0]
        data = kd.listings[int(li)]
        n = len(data.close)
        start = legs.j[u_ri[m]] + legs.point[u_ri[m]]          # an open entry: from its own close
        checks = np.minimum(u_hold[m] - legs.point[u_ri[m]], n)  # closes before the hold exit
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
        u_first[m] = np.where(has, start + pos, -1)
        u_reason[m] = np.where(has, which, 0)
    hit_j[ci, ri] = u_first[inverse]
    reason[ci, ri] = u_reason[inverse]
    # a variant scanned with the longest hold among its combinations: cut at each one's own hold
    late = (h >= 0) & (hit_j[ci, ri] > legs.j[ri] + h - 1)
    hit_j[ci[late], ri[late]] = -1
    reason[ci[late], ri[late]] = 0
    return hit_j, reason


def _skip_scan(legs: Legs, taken: np.ndarray, skip: np.ndarray, exited: np.ndarray, jx: np.ndarray,
               x_point: np.ndarray) -> np.ndarray:
    """``when_holding = "skip"``: decline an entry while a trade in the listing stays open past it."""
    c = taken.shape[0]
    entry_pos = 2 * legs.j + legs.point
    exit_pos = np.where(exited, 2 * jx + x_point, _INF_POS)
    for li in np.unique(legs.listing):
        cols = np.nonzero(legs.listing == li)[0]
        cols = cols[np.lexsort((legs.order[cols], entry_pos[cols]))]
        latest = np.full(c, -1, dtype=np.int64)
        for col in cols:
            taken[:, col] &= ~(skip & (latest > entry_pos[col]))
            latest = np.where(taken[:, col], np.maximum(latest, exit_pos[:, col]), latest)
    return taken


def resolve(kd: KernelData, legs: Legs, o: Orders, slippage_bps: float) -> TradeBlock:
    """Fill every round trip of ``o`` on ``legs`` (see the module docstring)."""
    c, r = o.want.shape
    slip = slippage_bps / 10_000.0
    sign = np.broadcast_to(o.sign, (c, r)).astype(np.int64)
    hold = np.broadcast_to(o.hold, (c, r)).astype(np.int64)
    lot = np.array([kd.listings[i].lot for i in legs.listing], dtype=np.int64)
    index_col = np.array([kd.listings[i].kind == "index" for i in legs.listing], dtype=bool)
    with np.errstate(invalid="ignore", divide="ignore"):
        per_unit = legs.ref * legs.fx
        lots = np.floor(np.broadcast_to(o.notional, (c, r)) / (per_unit * lot)[None, :])
    ok = (o.want & (sign != 0) & ~np.isnan(legs.ref)[None, :]
          & (o.allow_short[:, None] | (sign > 0) | index_col[None, :]))
    lots = np.where(ok & np.isfinite(lots), lots, 0.0)
    qty = lots.astype(np.int64) * lot[None, :]
    cand = ok & (qty > 0)
    buy = sign > 0
    qf = qty.astype(float)
    with np.errstate(invalid="ignore", divide="ignore"):
        raw_fill = np.where(legs.point[None, :] == 0, (qf * legs.price[None, :]) / qf, legs.price[None, :])
    entry_price = np.where(buy, raw_fill * (1 + slip), raw_fill * (1 - slip))
    n_bars = np.array([len(kd.listings[i].close) for i in legs.listing], dtype=np.int64)
    jx = np.where(hold >= 0, legs.j[None, :] + hold, n_bars[None, :] + 1)
    x_point = np.broadcast_to(o.x_point, (c, r)).astype(np.int64).copy()
    hit_j, hit_reason = _stop_exits(kd, legs, sign, qty, entry_price, hold, o, cand)
    stopped = hit_j >= 0
    jx = np.where(stopped, hit_j + 1, jx)
    x_point = np.where(stopped, 0, x_point)
    reason = np.where(stopped, hit_reason, 0)
    exited = jx <= (n_bars - 1)[None, :]
    taken = cand.copy()
    if o.skip.any():
        taken = _skip_scan(legs, taken, o.skip, exited, jx, x_point)
    exited &= taken
    entry_cost, exit_cost, exit_price, exit_fx = _fills(kd, legs, sign, qty, entry_price, taken, exited, jx,
                                                        x_point, slip)
    entry_cons = qf * entry_price
    entry_flow = (np.where(buy, -entry_cons, entry_cons) - entry_cost) * legs.fx[None, :]
    exit_cons = qf * exit_price
    exit_flow = (np.where(buy, exit_cons, -exit_cons) - exit_cost) * exit_fx
    return TradeBlock(legs=legs, taken=taken, sign=sign, qty=qty, hold=hold, entry_price=entry_price,
                      entry_cost=entry_cost, entry_flow=entry_flow, exited=exited, jx=jx, x_point=x_point,
                      exit_price=exit_price, exit_cost=exit_cost, exit_flow=exit_flow, exit_fx=exit_fx,
                      reason=reason)


def _fills(kd: KernelData, legs: Legs, sign: np.ndarray, qty: np.ndarray, entry_price: np.ndarray,
           taken: np.ndarray, exited: np.ndarray, jx: np.ndarray, x_point: np.ndarray, slip: float
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Costs of every entry and exit (the real CostBook once per distinct fill), exit prices and FX."""
    c, r = taken.shape
    entry_cost = np.zeros((c, r))
    exit_cost = np.zeros((c, r))
    ci, ri = np.nonzero(taken)
    if len(ci):
        key = encode([ri, qty[ci, ri], (sign[ci, ri] > 0).astype(np.int64)])
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        fc, fr = ci[first], ri[first]
        q, s, price = qty[fc, fr], sign[fc, fr], entry_price[fc, fr]

        def entry(u: int) -> float:
            return float(kd.cost_total(int(legs.listing[fr[u]]), int(legs.j[fr[u]]), "buy" if s[u] > 0 else "sell",
                                       int(q[u]), float(price[u])))

        entry_cost[ci, ri] = _memo(kd, [np.zeros_like(fr), legs.listing[fr], legs.j[fr], s, q, price.view(np.int64)],
                                   entry)[inverse.reshape(-1)]
    x_raw = np.zeros((c, r))
    x_fx = np.zeros((c, r))
    for col in range(r):
        data = kd.listings[int(legs.listing[col])]
        jj = np.minimum(jx[:, col], len(data.close) - 1)
        at_open = x_point[:, col] == 0
        qc = qty[:, col].astype(float)
        with np.errstate(invalid="ignore", divide="ignore"):
            x_raw[:, col] = np.where(at_open, (qc * data.open[jj]) / qc, data.close[jj])
        x_fx[:, col] = np.where(at_open, data.fx_open[jj], data.fx_close[jj])
    exit_price = np.where(sign > 0, x_raw * (1 - slip), x_raw * (1 + slip))
    ce, re_ = np.nonzero(exited)
    if len(ce):
        key = encode([re_, jx[ce, re_], qty[ce, re_], (sign[ce, re_] > 0).astype(np.int64), x_point[ce, re_]])
        _, first, inverse = np.unique(key, return_index=True, return_inverse=True)
        fc, fr = ce[first], re_[first]
        jj, q, s, price, paid = jx[fc, fr], qty[fc, fr], sign[fc, fr], exit_price[fc, fr], entry_price[fc, fr]

        def exit_(u: int) -> float:
            li = int(legs.listing[fr[u]])
            total = kd.cost_total(li, int(jj[u]), "sell" if s[u] > 0 else "buy", int(q[u]), float(price[u]))
            if s[u] < 0:
                total = total + kd.borrow(li, int(q[u]), float(paid[u]), int(legs.j[fr[u]]), int(jj[u]))
            return float(total)

        exit_cost[ce, re_] = _memo(kd, [np.ones_like(fr), legs.listing[fr], jj, s, q, price.view(np.int64),
                                        paid.view(np.int64), legs.j[fr]], exit_)[inverse.reshape(-1)]
    return entry_cost, exit_cost, exit_price, x_fx


def _memo(kd: KernelData, key: Sequence[np.ndarray], compute: Callable[[int], float]) -> np.ndarray:
    """``compute(u)`` of each distinct fill ``u``, remembered per process under its ``key`` columns
    (int64: every input of the computation, floats by their bits)."""
    rows = np.ascontiguousarray(np.stack([np.asarray(k, dtype=np.int64) for k in key], axis=1))
    raw = rows.view(f"V{rows.shape[1] * 8}").ravel().tolist()
    memo = kd.fill_costs
    got = [memo.get(b) for b in raw]
    for u in [u for u, v in enumerate(got) if v is None]:
        got[u] = memo[raw[u]] = compute(u)
    return np.array(got, dtype=float)
