"""Evaluate one chunk of combinations: the kernel where it applies, backtrader otherwise.

A chunk is the unit of work shipped to a process or a Dask worker, and the unit written
to the result store. Its rows come back in the order asked, whichever engine ran them.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd

from backtests import engine as _engine
from backtests.results import BacktestResult
from backtests.sweeps import kernel
from backtests.sweeps.inputs import RunPlan, SweepInputs
from backtests.sweeps.chunks import ChunkResult, ChunkTask
from backtests.sweeps.rowmetrics import ROW_METRICS, metrics_matrix, utc_ns
from backtests.sweeps.space import SweepSpaceError, canonical_json
from backtests.sweeps.store import write_part
from backtests.sweeps.trials import row_stats
from data_loaders.registry import use_registry


def run_engine(inputs: SweepInputs, plan: RunPlan) -> BacktestResult:
    """The backtrader engine on one combination, called as ``backtests.runner.run_config`` calls
    it (the run command's checks of intent — e.g. a notional below one board lot — are not
    applied: in a sweep such a combination simply trades less)."""
    bars = {sym: inputs.bars[sym] for sym in plan.listings}
    needs_fx = any(b.currency != plan.portfolio.base_currency for b in bars.values())
    resolved = inputs.resolve(plan)
    extra = {"hedge": resolved.hedge} if resolved.hedge is not None else {}
    return _engine.run_backtest(strategy=resolved.strategy, strategy_config=resolved.config, bars=bars,
                                schedule=inputs.schedule_for(plan.only), benchmark=inputs.benchmark,
                                fx=inputs.fx if needs_fx else None, portfolio=plan.portfolio,
                                costs=inputs.cfg.costs, **extra)


def result_metrics(inputs: SweepInputs, result: BacktestResult, initial_cash_base: float
                   ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """:data:`ROW_METRICS` of one engine run, computed like the kernel's (one-row matrices)."""
    eq = result.equity
    clock_ns = utc_ns(eq["instant_utc"]) if len(eq) else np.zeros(0, dtype=np.int64)
    as_row = (lambda col: eq[col].to_numpy(dtype=float)[None, :])
    trades = result.trades
    role = trades["role"] if "role" in trades.columns else pd.Series("trade", index=trades.index)
    closed = trades[(trades["status"] == "closed") & (role == "trade")]
    pnl = closed["net_pnl_base"].to_numpy(dtype=float)[None, :] if len(closed) else np.full((1, 1), np.nan)
    fills = result.fills
    costs = float((fills["cost_total_local"] * fills["fx_to_base"]).sum()) if len(fills) else 0.0
    return metrics_matrix(clock_ns=clock_ns, equity=as_row("equity_base"), cash=as_row("cash_base"),
                          positions=as_row("positions_base"), bench=inputs.bench_clock, initial_cash_base=initial_cash_base,
                          closed_pnl_base=pnl, costs_base=np.array([costs]),
                          open_trades=np.array([int((trades["status"] == "open").sum())]))


def fallback_reasons(inputs: SweepInputs, task: ChunkTask) -> tuple[list[RunPlan], list[str | None]]:
    """The runs of ``task`` and why each runs on backtrader (None: on the kernel).

    Raises
    ------
    SweepSpaceError
        ``engine = "kernel"`` with a combination the kernel does not cover.
    """
    with use_registry(inputs.cfg.registry):
        plans = [inputs.plan(c) for c in task.combos]
        return plans, _reasons(inputs, task, plans)


def _reasons(inputs: SweepInputs, task: ChunkTask, plans: list[RunPlan]) -> list[str | None]:
    reasons: list[str | None] = []
    for plan in plans:
        why = "engine = backtrader requested" if task.engine == "backtrader" else kernel.unsupported(inputs, plan)
        if why is not None and task.engine == "kernel":
            raise SweepSpaceError(f"engine = kernel, but the kernel does not cover "
                                  f"{canonical_json(plan.effective(inputs.strategy))}: {why}; "
                                  f"use engine = auto to fall back to backtrader")
        reasons.append(why)
    return reasons


def run_chunk(inputs: SweepInputs, task: ChunkTask,
              prepared: tuple[list[RunPlan], list[str | None]] | None = None) -> ChunkResult:
    """Evaluate ``task`` (see the module docstring); ``prepared``: :func:`fallback_reasons`
    when the caller has them already.

    Raises
    ------
    SweepSpaceError
        ``engine = "kernel"`` with a combination the kernel does not cover.
    """
    with use_registry(inputs.cfg.registry):  # workers see the config's declared listings
        return _run_chunk(inputs, task, prepared)


def _run_chunk(inputs: SweepInputs, task: ChunkTask,
               prepared: tuple[list[RunPlan], list[str | None]] | None) -> ChunkResult:
    plans, reasons = prepared if prepared is not None else fallback_reasons(inputs, task)
    n = len(plans)
    if all(r is None for r in reasons):
        return _finish(task, *kernel.evaluate(inputs, plans), reasons)
    metrics = {k: np.full(n, np.nan) for k in ROW_METRICS}
    returns = np.full((n, len(inputs.bench_clock.close_ns)), np.nan)
    fast = [i for i in range(n) if reasons[i] is None]
    if fast:
        got, ret = kernel.evaluate(inputs, [plans[i] for i in fast])
        for k in ROW_METRICS:
            metrics[k][fast] = got[k]
        returns[fast] = ret
    for i in range(n):
        if reasons[i] is None:
            continue
        result = run_engine(inputs, plans[i])
        got, ret = result_metrics(inputs, result, plans[i].portfolio.initial_cash_base)
        for k in ROW_METRICS:
            metrics[k][i] = got[k][0]
        returns[i] = ret[0]
    return _finish(task, metrics, returns, reasons)


def _finish(task: ChunkTask, metrics: dict[str, np.ndarray], returns: np.ndarray,
            reasons: list[str | None]) -> ChunkResult:
    result = ChunkResult(keys=task.keys, params=task.params, metrics=metrics, returns=returns,
                         stats=row_stats(returns, task.stats),
                         engine=tuple("kernel" if r is None else "backtrader" for r in reasons),
                         fallback_reason=tuple(reasons))
    if task.store_dir is None:
        return result
    part = write_part(task.store_dir, result)
    return dataclasses.replace(result, returns=None, part=part.name)


def run_kernel_chunks(inputs: SweepInputs, tasks: list[ChunkTask], plans: list[list[RunPlan]]
                      ) -> list[ChunkResult]:
    """Several chunks whose combinations all run on the kernel, in one kernel pass (its fixed
    costs paid once; a row does not depend on the rows evaluated with it), written by the caller."""
    with use_registry(inputs.cfg.registry):
        metrics, returns = kernel.evaluate(inputs, [p for chunk in plans for p in chunk])
    out, start = [], 0
    for task, chunk in zip(tasks, plans):
        end = start + len(chunk)
        out.append(_finish(dataclasses.replace(task, store_dir=None), {k: v[start:end] for k, v in metrics.items()},
                           returns[start:end], [None] * len(chunk)))
        start = end
    return out
