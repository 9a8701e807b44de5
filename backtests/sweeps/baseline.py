"""The reference the sweep kernel is measured against: backtrader's own ``optstrategy``.

:func:`optstrategy_run` builds one ``Cerebro`` exactly as :func:`backtests.engine.run_backtest`
does (same feeds, cheat-on-open/close, unlimited-cash broker, the engine's context with its
multi-currency ledger) and hands the parameter objects to ``cerebro.optstrategy`` with
``maxcpus`` worker processes and ``optreturn``. Each combination runs the full event loop
in a worker; the context travels with every task (pickled), so every combination starts
from a fresh ledger, and comes back with the results. Used by ``benchmarks/sweep_bench.py``;
not part of a sweep.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence
from typing import Any

import backtrader as bt

from backtests import engine
from backtests.ledger import Ledger
from backtests.sweeps.inputs import RunPlan, SweepInputs
from data_loaders.calendars import session_opens_utc
from data_loaders.markets import get_listing


def _context(inputs: SweepInputs, plan: RunPlan) -> Any:
    """A fresh ``engine._Context`` for ``plan``, built like ``run_backtest`` builds it."""
    bars = {sym: inputs.bars[sym] for sym in plan.listings}
    fed = {**bars, inputs.benchmark.symbol: inputs.benchmark}
    schedule = inputs.schedule_for(plan.only)
    notes: list[str] = []
    portfolio = plan.portfolio
    known = {
        "bars_by_listing": fed, "traded_listings": tuple(sorted(bars)), "benchmark": inputs.benchmark.symbol,
        "schedule": schedule, "events": engine._index_events(schedule, bars, notes),
        "ledger": Ledger(base_currency=portfolio.base_currency, initial_cash_base=portfolio.initial_cash_base),
        "costs": inputs.cfg.costs,
        "fx": engine.FxRates(usdhkd=inputs.fx) if inputs.fx is not None and len(inputs.fx) else None,
        "portfolio": portfolio,
        "opens_utc": {sym: session_opens_utc(get_listing(sym).market.calendar_code, d.frame.index)
                      for sym, d in fed.items()},
        "notes": notes,
    }
    fields = dataclasses.fields(engine._Context)
    missing = [f.name for f in fields if f.name not in known and f.default is dataclasses.MISSING
               and f.default_factory is dataclasses.MISSING]
    if missing:
        raise RuntimeError(f"engine._Context gained required field(s) {missing}; update backtests/sweeps/baseline.py")
    return engine._Context(**{f.name: known[f.name] for f in fields if f.name in known})


def optstrategy_run(inputs: SweepInputs, plans: Sequence[RunPlan], *, maxcpus: int = 2) -> list[float]:
    """Run ``plans`` (same listings, only and portfolio) with ``cerebro.optstrategy``.

    Returns
    -------
    list[float]
        Final equity (base currency) of each plan, in order: the last mark of its run.
    """
    first = plans[0]
    if any((p.listings, p.only, p.portfolio) != (first.listings, first.only, first.portfolio) for p in plans):
        raise ValueError("optstrategy varies strategy parameters only: give plans with the same listings, "
                         "catalysts and portfolio")
    resolved = inputs.resolve(first)
    ctx = _context(inputs, first)
    cerebro = bt.Cerebro(stdstats=False, cheat_on_open=True, runonce=False, preload=True, maxcpus=maxcpus,
                         optreturn=True)
    cerebro.broker.setcash(engine.UNLIMITED_CASH)
    cerebro.broker.set_coc(True)
    cerebro.broker.set_coo(True)
    for sym, data in sorted(ctx.bars_by_listing.items()):
        cerebro.adddata(engine._feed(data), name=sym)
    configs = [inputs.resolve(p).config for p in plans]
    cerebro.optstrategy(resolved.strategy, ctx=[ctx], config=configs, hedge=[resolved.hedge])
    results = cerebro.run()
    by_config = {}
    for (result,) in results:
        rows = result.params.ctx.equity_rows
        by_config[id_of(result.params.config)] = rows[-1]["equity_base"] if rows else first.portfolio.initial_cash_base
    return [by_config[id_of(c)] for c in configs]


def id_of(config: Any) -> str:
    """Identity of a parameter object that survives pickling (its repr)."""
    return repr(config)
