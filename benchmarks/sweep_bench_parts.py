"""The parts of ``sweep_bench.py`` that drive other libraries: vectorbt on the same orders, a plain
backtrader strategy placing them, and the per-strategy fast path vs backtrader rows."""

from __future__ import annotations

import dataclasses
import itertools
import time
from pathlib import Path

import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
EVENT_IDS = ["deepseek_r1", "qwen25max", "arena_rank", "apple_report", "tsai_confirms", "earnings_fy25q3", "capex_380b",
             "southbound_record", "qwen3max_capex_up", "deepseek_selloff"]


def _orders(inputs, plans) -> dict[int, np.ndarray]:
    """Signed quantities ``bars x combinations`` per listing: each allowed schedule row buys at its
    first-trade open, floor(notional / (previous close x FX x lot)) lots, and sells ``hold`` bars
    later (the event table is the fast path's, sizing done here with numpy)."""
    from backtests.sweeps.kernel import kernel_data

    kd = kernel_data(inputs)
    rows = kd.rows
    notional = np.array([p.params.notional_per_trade_base for p in plans])
    hold = np.array([p.params.hold_sessions for p in plans], dtype=np.int64)
    cols = np.arange(len(plans))
    out = {}
    for li, data in enumerate(kd.listings[:len(kd.symbols)]):
        n = len(data.close)
        size = np.zeros((n, len(plans)))
        for r in np.nonzero(rows.listing == li)[0]:
            allowed = np.array([not p.only or rows.catalyst[r] in p.only for p in plans])
            qty = np.floor(notional / (rows.ref[r] * rows.fx[r] * data.lot)) * data.lot * allowed
            size[rows.j[r]] += qty
            exit_bar = rows.j[r] + hold
            ok = exit_bar < n
            np.add.at(size, (exit_bar[ok], cols[ok]), -qty[ok])
        out[li] = size
    return out


def vectorbt_run(inputs, plans) -> tuple[float, float, dict]:
    """(whole seconds, simulation + metrics seconds, portfolios by listing index)."""
    import vectorbt as vbt

    from backtests.sweeps.kernel import kernel_data

    kd = kernel_data(inputs)
    t0 = time.perf_counter()
    sizes = _orders(inputs, plans)
    t1 = time.perf_counter()
    pfs = {}
    slip = inputs.cfg.portfolio.slippage_bps / 10_000.0
    for li, size in sizes.items():
        data = kd.listings[li]
        idx = pd.DatetimeIndex(data.sessions)
        pf = vbt.Portfolio.from_orders(close=pd.Series(data.close, index=idx), size=pd.DataFrame(size, index=idx),
                                       price=pd.Series(data.open, index=idx), size_type="amount", slippage=slip,
                                       fees=0.0, init_cash=1e12, freq="1D")
        pf.sharpe_ratio(), pf.max_drawdown(), pf.total_return(), pf.trades.count()
        pfs[li] = pf
    t2 = time.perf_counter()
    return t2 - t0, t2 - t1, pfs


def same_trades(inputs, plans, picks: tuple[int, ...]) -> str:
    """Fills of the fast path and of vectorbt on ``picks``, netted per listing and session."""
    from backtests.sweeps import kernel
    from backtests.sweeps.kernel import kernel_data

    kd = kernel_data(inputs)
    _, _, pfs = vectorbt_run(inputs, [plans[i] for i in picks])
    same = 0
    for k, i in enumerate(picks):
        trades = kernel.trades(inputs, plans[i])
        mine: dict[tuple[str, pd.Timestamp], list] = {}
        for t in trades.itertuples():
            mine.setdefault((t.listing, t.entry_session), []).append((t.direction * t.quantity, t.entry_price))
            if t.status == "closed":
                mine.setdefault((t.listing, t.exit_session), []).append((-t.direction * t.quantity, t.exit_price))
        theirs = {}
        for li, pf in pfs.items():
            rec = pf.orders.records_readable
            rec = rec[rec["Column"] == k]
            for row in rec.itertuples():
                sign = 1 if row.Side == "Buy" else -1
                theirs[(kd.listings[li].symbol, pd.Timestamp(row.Timestamp))] = (sign * row.Size, row.Price)
        ok = set(theirs) == {key for key, fills in mine.items() if sum(q for q, _ in fills) != 0}
        for key, (qty, price) in theirs.items() if ok else ():
            fills = mine[key]
            ok &= abs(sum(q for q, _ in fills) - qty) < 1e-9
            if len({np.sign(q) for q, _ in fills}) == 1:  # one side: the same fill price
                ok &= all(abs(p - price) <= 1e-9 * price for _, p in fills)
        same += ok
    return f"{same}/{len(picks)} identical"


def bare_backtrader_run(inputs, plan) -> float:
    """Seconds for a plain backtrader strategy that only places ``plan``'s orders (sizes given) at
    the opens the fast path fills them (cheat-on-open), on the same two feeds."""
    import backtrader as bt

    from backtests.engine import _feed
    from backtests.sweeps import kernel

    trades = kernel.trades(inputs, plan)
    orders: dict[tuple[str, int], int] = {}
    for t in trades.itertuples():
        sessions = inputs.bars[t.listing].frame.index
        key = (t.listing, int(sessions.get_loc(t.entry_session)))
        orders[key] = orders.get(key, 0) + t.direction * t.quantity
        if t.status == "closed":
            key = (t.listing, int(sessions.get_loc(t.exit_session)))
            orders[key] = orders.get(key, 0) - t.direction * t.quantity

    class Bare(bt.Strategy):
        def __init__(self) -> None:
            self.seen = {d._name: 0 for d in self.datas}

        def next_open(self) -> None:
            for d in self.datas:
                if len(d) > self.seen[d._name]:
                    self.seen[d._name] = len(d)
                    q = orders.get((d._name, len(d) - 1), 0)
                    if q:
                        (self.buy if q > 0 else self.sell)(data=d, size=abs(q))

    t0 = time.perf_counter()
    cerebro = bt.Cerebro(stdstats=False, cheat_on_open=True, runonce=False, preload=True)
    cerebro.broker.setcash(1e15)
    cerebro.broker.set_coo(True)
    for sym in sorted(plan.listings):
        cerebro.adddata(_feed(inputs.bars[sym]), name=sym)
    cerebro.addstrategy(Bare)
    cerebro.run()
    return time.perf_counter() - t0


STRATEGY_GRIDS = {
    "post_event_drift": ("post_event_drift", {"hold_sessions": list(range(1, 21)),
                                              "notional_per_trade_base": [1e5, 2e5, 3e5, 4e5],
                                              "direction": ["long", "short", "expected"]}),
    "event_fade": ("event_fade", {"threshold": [0.005, 0.01, 0.015, 0.02, 0.03, 0.04], "hold_sessions": list(range(1, 11)),
                                  "notional_per_trade_base": [1e5, 2e5, 3e5, 4e5]}),
    "pre_event_run_up": ("pre_event_run_up", {"enter_sessions_before": list(range(1, 7)),
                                              "exit_sessions_after": list(range(1, 6)), "exit_point": ["open", "close"],
                                              "notional_per_trade_base": [1e5, 2e5, 3e5, 4e5]}),
    "cross_listing_lead_lag": ("cross_listing_lead_lag", {"min_gap": [0.002, 0.005, 0.01, 0.02, 0.03],
                                                          "notional_per_gap_base": [1e6, 5e6, 1e7, 2e7],
                                                          "hold_sessions": list(range(1, 11))}),
    "benchmark_hedged": ("benchmark_hedged", {"beta_window_sessions": list(range(20, 120, 10)),
                                              "min_beta_sessions": [10, 20],
                                              "params": [{"hold_sessions": h} for h in range(1, 11)]}),
    "narrative_basket": ("narrative_basket", {"hold_sessions": list(range(1, 11)),
                                              "notional_per_catalyst_base": [3.5e5, 7e5, 1.4e6],
                                              "direction": ["long", "expected"], "hedge": [False, True]}),
    "buy_and_hold": ("buy_and_hold_stocks", {"instrument": ["listings", "benchmark"],
                                             "fraction_of_cash": [round(0.02 * k, 2) for k in range(1, 51)],
                                             "strategy.listings": [("9988.HK",), ("BABA",), ("9988.HK", "BABA")]}),
}


def per_strategy_rows(data_dir: Path, engine_runs: int = 3, fast_runs: int = 5) -> list[dict]:
    """Combinations per second of each strategy's fast path (median of ``fast_runs`` evaluations
    of the whole grid, each with the per-process caches emptied first, as a new sweep finds
    them) and of its backtrader path (``engine_runs`` runs)."""
    from backtests.config import load_config
    from backtests.sweeps import kernel
    from backtests.sweeps.evaluate import run_engine
    from backtests.sweeps.kernel_data import forget_kernel_data
    from backtests.sweeps.inputs import load_sweep_inputs

    out = []
    for name, (config_name, grid) in STRATEGY_GRIDS.items():
        cfg = load_config(REPO / "configs" / "strategies" / f"{config_name}.toml").with_overrides(data_dir=data_dir)
        cfg = dataclasses.replace(cfg, start=pd.Timestamp("2024-01-02"), end=pd.Timestamp("2025-12-31"))
        inputs = load_sweep_inputs(cfg, listings=tuple(sorted({*cfg.strategy.listings, "9988.HK", "BABA"}))
                                   if name != "narrative_basket" else tuple(cfg.strategy.listings))
        plans = [inputs.plan(dict(zip(grid, values))) for values in itertools.product(*grid.values())]
        assert all(kernel.unsupported(inputs, p) is None for p in plans), name
        timings = []
        for _ in range(fast_runs):  # the median: one run alone can catch a hiccup of a shared machine
            forget_kernel_data()  # each run as a new sweep finds it: no prepared arrays, no fills memoised
            kernel.evaluate(inputs, plans[:8])  # warm: imports, prepared arrays
            t0 = time.perf_counter()
            kernel.evaluate(inputs, plans)
            timings.append(time.perf_counter() - t0)
        fast = len(plans) / float(np.median(timings))
        picks = [plans[i] for i in np.linspace(0, len(plans) - 1, engine_runs).astype(int)]
        t0 = time.perf_counter()
        for plan in picks:
            run_engine(inputs, plan)
        slow = len(picks) / (time.perf_counter() - t0)
        out.append({"strategy": name, "combos": len(plans), "fast": fast, "backtrader": slow})
    return out
