"""``sweep_summary.json``: the best combinations, the number of trials, the deflated Sharpe
ratio, the probability of backtest overfitting, the walk-forward and the heatmaps.

The return series behind the diagnostics are the daily strategy returns on the benchmark's
session clock (the engine's ``returns.csv``), one per combination: they are what the
metrics are computed from, they exist for every combination whichever engine ran it, and
a common clock is what CSCV needs (per-trade returns would give each trial its own clock).
"""

from __future__ import annotations

import collections
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from backtests.sweep import overfit
from backtests.sweep.inputs import SweepInputs
from backtests.sweep.outputs import default_pairs, write_best_returns, write_heatmaps
from backtests.sweep.rowmetrics import ROW_METRICS
from backtests.sweep.space import RandomSearch, Space, jsonable
from backtests.sweep.store import ResultStore
from backtests.sweep.trials import StatsSpec, TrialLog

TABLE_NAME = "sweep.parquet"
#: Metrics where smaller is better (ranked by their negative).
LOWER_IS_BETTER: frozenset[str] = frozenset({"volatility_annual", "max_drawdown_duration_sessions",
                                             "tracking_error_annual", "costs_base"})


def rank_values(values: np.ndarray, metric: str) -> np.ndarray:
    """Higher is better; NaN last."""
    v = -values if metric in LOWER_IS_BETTER else values.copy()
    return np.where(np.isnan(v), -np.inf, v)


def _series(store: ResultStore, key: str) -> np.ndarray:
    return store.rows([key], columns=["returns"]).column("returns").combine_chunks().flatten().to_numpy()


def _best(table_path: Path, log: TrialLog, top: int) -> list[dict[str, Any]]:
    """The ``top`` rows by the ranking metric (ties: lower combo_id first)."""
    ranked = log.column("metric")
    order = np.lexsort((np.arange(len(ranked)), -ranked))
    top_ids = [int(i) for i in order[:top]]
    cols = ["combo_id", "params", "engine", "key", *ROW_METRICS]
    rows = pq.read_table(table_path, columns=cols, filters=[("combo_id", "in", top_ids)]).to_pandas()
    rows = rows.set_index("combo_id").loc[top_ids]
    return [{"combo_id": int(cid), "key": row["key"], "engine": row["engine"], "params": json.loads(row["params"]),
             "metrics": {m: float(row[m]) for m in ROW_METRICS}} for cid, row in rows.iterrows()]


#: CSCV splits evaluated at most (drawn at random above it, seeded; the summary says so): the
#: PBO's sampling error stays <= 0.016 while 16 blocks' 12,870 splits no longer dominate a sweep.
PBO_MAX_SPLITS = 2_000


def _pbo(log: TrialLog, blocks: int, sessions: pd.DatetimeIndex, trials: int) -> dict[str, Any]:
    if not (StatsSpec(blocks=blocks, folds=0, sessions=len(sessions)).cscv and trials >= 2):
        return {"value": None, "reason": f"CSCV needs >= 2 combinations and >= 2 sessions in each of {blocks} blocks"}
    start, size = overfit.block_bounds(len(sessions), blocks)
    res = overfit.pbo_cscv(log.column("block_sum"), log.column("block_sq"), size, max_splits=PBO_MAX_SPLITS, seed=0)
    return {**res.as_dict(), "performance": "Sharpe ratio", "first_session": f"{sessions[start]:%Y-%m-%d}"}


def _walk_forward(log: TrialLog, folds: int, sessions: pd.DatetimeIndex, table_path: Path, store: ResultStore,
                  ppy: float) -> dict[str, Any]:
    """Fit (best Sharpe) on window i, test on window i + 1; the tests joined are the out-of-sample run."""
    bounds = overfit.fold_bounds(len(sessions), folds)
    picks = overfit.walk_forward_choices(log.column("fold_sum"), log.column("fold_sq"), bounds)
    table = pq.read_table(table_path, columns=["combo_id", "key", "params"],
                          filters=[("combo_id", "in", sorted(set(picks)))]).to_pandas().set_index("combo_id")
    out, oos = [], []
    for i, pick in enumerate(picks):
        row = table.loc[pick]
        series = _series(store, row["key"])
        (fa, fb), (ta, tb) = bounds[i], bounds[i + 1]
        test = series[ta:tb]
        oos.append(test)
        fit_sharpe = _annual_sharpe(series[fa:fb], ppy)
        out.append({"fit": [f"{sessions[fa]:%Y-%m-%d}", f"{sessions[fb - 1]:%Y-%m-%d}"],
                    "test": [f"{sessions[ta]:%Y-%m-%d}", f"{sessions[tb - 1]:%Y-%m-%d}"],
                    "combo_id": int(pick), "params": json.loads(row["params"]),
                    # no combination moved in the fit window: the pick is the first one, by default
                    "fit_flat": fit_sharpe is None,
                    "fit_sharpe_annual": fit_sharpe, "test_sharpe_annual": _annual_sharpe(test, ppy),
                    "test_total_return": float(np.prod(1.0 + test) - 1.0)})
    joined = np.concatenate(oos)
    return {"folds": out, "selection": "best Sharpe on the fit window",
            "oos": {"sessions": int(len(joined)), "sharpe_annual": _annual_sharpe(joined, ppy),
                    "total_return": float(np.prod(1.0 + joined) - 1.0)}}


def summarise(spec: Any, inputs: SweepInputs, space: Space, constraint: Any, seed: int,
              dims: tuple[str, ...], table_path: Path, store: ResultStore, log: TrialLog, trials: int,
              engines: collections.Counter[str], reasons: collections.Counter[str], out_dir: Path) -> dict[str, Any]:
    """The content of ``sweep_summary.json`` (and the heatmap CSVs, written to ``out_dir``).

    Keys: ``metric``, ``trials``, ``distinct_trials``, ``best`` (``[{"params", "metrics",
    "combo_id", "key", "engine"}]``), ``deflated_sharpe`` (``{"value", ...}``), ``pbo``
    (``{"value", ...}``), ``walk_forward`` (when on), ``heatmaps`` (``[{"x", "y", "metric",
    "file"}]``), ``engines`` and the settings behind the run.
    """
    metric = spec.metric
    ppy = inputs.bench_clock.periods_per_year
    sessions = pd.DatetimeIndex(inputs.benchmark.frame.index)
    best = _best(table_path, log, spec.top)
    best_series = _series(store, best[0]["key"])
    best_returns = write_best_returns(out_dir, sessions, best_series, inputs.bench_clock.returns)
    dsr = overfit.deflated_sharpe(best_series, log.column("sharpe"), trials=trials)
    deflated = {**dsr.as_dict(), "sharpe_annual": dsr.sharpe * math.sqrt(ppy),
                "returns": "daily strategy returns on the benchmark's session clock (returns.csv)",
                "best_by": metric}
    walk = _walk_forward(log, spec.walk_forward_folds, sessions, table_path, store, ppy) \
        if spec.walk_forward_folds and trials >= 2 else None
    frame = pq.read_table(table_path, columns=[*dims, metric]).to_pandas()
    pairs = list(spec.heatmaps) if spec.heatmaps is not None else default_pairs(frame, dims)
    heatmaps = write_heatmaps(frame, pairs, metric, out_dir)
    cfg = spec.config
    space_json: dict[str, Any]
    if isinstance(space, RandomSearch):
        space_json = {"search": "random", "n": space.n, "seed": seed,
                      "ranges": {k: list(v) for k, v in space.ranges.items()},
                      "choices": {k: jsonable(list(v)) for k, v in space.choices.items()}}
    else:
        space_json = {"search": "grid", "grid": {k: jsonable(list(v)) for k, v in space.items()}}
    return {
        "metric": metric,
        "trials": trials,
        "distinct_trials": log.distinct(),
        "best": best,
        "best_returns": best_returns,
        "deflated_sharpe": deflated,
        "pbo": _pbo(log, spec.pbo_blocks, sessions, trials),
        **({"walk_forward": walk} if walk is not None else {}),
        "heatmaps": heatmaps,
        "heatmap_aggregate": "max over the other dimensions",
        "engines": {"kernel": int(engines.get("kernel", 0)), "backtrader": int(engines.get("backtrader", 0)),
                    "fallback_reasons": dict(sorted(reasons.items()))},
        "space": space_json,
        "constraint": constraint if isinstance(constraint, str) else (None if constraint is None else "python callable"),
        "strategy": inputs.strategy,
        "config": str(cfg.path),
        "start": f"{cfg.start:%Y-%m-%d}",
        "end": f"{cfg.end:%Y-%m-%d}",
        "benchmark": inputs.benchmark.symbol,
        "periods_per_year": ppy,
        "data_hash": inputs.data_hash,
        "code_version": inputs.code_version,
        "synthetic_data": any(b.synthetic for b in inputs.bars.values()),
        "table": TABLE_NAME,
    }


def _annual_sharpe(r: np.ndarray, ppy: float) -> float | None:
    sr = overfit.sharpe_per_period(r)
    return None if not math.isfinite(sr) else sr * math.sqrt(ppy)
