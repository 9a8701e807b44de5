"""``sweep_summary.json``: the best combinations, the number of trials, the deflated Sharpe
ratio, the probability of backtest overfitting, the walk-forward and the heatmaps.

The return series behind the diagnostics are the daily strategy returns on the benchmark's
session clock (the engine's ``returns.csv``), one per combination: they are what the
metrics are computed from, they exist for every combination whichever engine ran it, and
a common clock is what CSCV needs (per-trade returns would give each trial its own clock).

Honesty of the diagnostics (:mod:`backtests.sweeps.effective`):

* the deflated Sharpe ratio's ``N`` is the **effective** number of trials (distinct series
  clustered by correlation) with ``V[SR]`` over those clusters, taken about zero (a cluster's
  sign — a long arm or its mirrored short — is arbitrary, so the variance must not depend on
  it: with the sample variance the shipped sweep's DSR moved 0.66-1.00 with the order of its
  series; it is now 0.61 whatever the order); ``deflated_sharpe`` also
  carries the DSR under the raw and the distinct count (``dsr_raw``, ``dsr_distinct``,
  ``dsr_effective`` with their ``trials_*`` and ``sharpe_variance_*``);
* PBO is refused (``value: null`` with the reason) when fewer than half the calendar blocks
  carry any return, and then computed on blocks of event time (``pbo.event_time``: only
  sessions where some combination is invested);
* a walk-forward fit window in which no combination moved is reported as ``no_signal``,
  picks nothing and is left out of the out-of-sample run.
"""

from __future__ import annotations

import collections
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtests.sweeps import effective, overfit
from backtests.sweeps.held import HeldRows, StoredRows
from backtests.sweeps.inputs import SweepInputs
from backtests.sweeps.outputs import default_pairs, write_best_returns, write_heatmaps
from backtests.sweeps.rowmetrics import ROW_METRICS
from backtests.sweeps.space import RandomSearch, Space, jsonable
from backtests.sweeps.trials import StatsSpec, TrialLog

TABLE_NAME = "sweep.parquet"
#: Metrics where smaller is better (ranked by their negative).
LOWER_IS_BETTER: frozenset[str] = frozenset({"volatility_annual", "max_drawdown_duration_sessions",
                                             "tracking_error_annual", "costs_base"})


def rank_values(values: np.ndarray, metric: str) -> np.ndarray:
    """Higher is better; NaN last."""
    v = -values if metric in LOWER_IS_BETTER else values.copy()
    return np.where(np.isnan(v), -np.inf, v)


Rows = HeldRows | StoredRows


def _best(rows: Rows, log: TrialLog, top: int) -> list[dict[str, Any]]:
    """The ``top`` rows by the ranking metric (ties: lower combo_id first)."""
    ranked = log.column("metric")
    order = np.lexsort((np.arange(len(ranked)), -ranked))
    top_ids = [int(i) for i in order[:top]]
    got = rows.rows(["params", "engine", "key", *ROW_METRICS], top_ids).to_pydict()
    return [{"combo_id": cid, "key": got["key"][i], "engine": got["engine"][i], "params": json.loads(got["params"][i]),
             "metrics": {m: float("nan") if got[m][i] is None else float(got[m][i]) for m in ROW_METRICS}}
            for i, cid in enumerate(top_ids)]


#: CSCV splits evaluated at most (drawn at random above it, seeded; the summary says so): the
#: PBO's sampling error stays <= 0.022 (500 splits and their complements) while 16 blocks'
#: 12,870 splits no longer dominate a sweep. On the 800-combination event sweep of
#: benchmarks/sweep_bench.py all 12,870 give 0.615; 1,000 drawn with seeds 0, 1, 2 give 0.626,
#: 0.609, 0.619 (2,000: 0.612, 0.618, 0.623).
PBO_MAX_SPLITS = 1_000


def _pbo(log: TrialLog, blocks: int, sessions: pd.DatetimeIndex, trials: int,
         distinct: tuple[np.ndarray, np.ndarray] | None) -> dict[str, Any]:
    """PBO on calendar blocks, refused when fewer than half of them carry returns; then (or
    always, when ``distinct`` series are given) PBO on event-time blocks as well."""
    if not (StatsSpec(blocks=blocks, folds=0, sessions=len(sessions)).cscv and trials >= 2):
        return {"value": None, "reason": f"CSCV needs >= 2 combinations and >= 2 sessions in each of {blocks} blocks"}
    start, size = overfit.block_bounds(len(sessions), blocks)
    block_sq = log.column("block_sq")
    active = effective.active_blocks(block_sq)
    out: dict[str, Any] = {"blocks_with_returns": active}
    if 2 * active < blocks:
        out.update(value=None, blocks=blocks, reason=(
            f"only {active} of {blocks} calendar blocks carry any return: CSCV would rank flat ties, not skill; "
            f"see event_time (blocks of sessions where some combination is invested)"))
    else:
        res = overfit.pbo_cscv(log.column("block_sum"), block_sq, size, max_splits=PBO_MAX_SPLITS, seed=0)
        out.update(res.as_dict(), performance="Sharpe ratio", first_session=f"{sessions[start]:%Y-%m-%d}")
    if distinct is not None:
        series, inverse = distinct
        active_r = effective.event_time_returns(series)
        if active_r.shape[1] >= 2 * blocks and len(inverse) >= 2:
            sums, sqs = overfit.block_stats(active_r, blocks)
            res = overfit.pbo_cscv(sums[inverse], sqs[inverse], overfit.block_bounds(active_r.shape[1], blocks)[1],
                                   max_splits=PBO_MAX_SPLITS, seed=0)
            out["event_time"] = {**res.as_dict(), "sessions": int(active_r.shape[1])}
        else:
            out["event_time"] = {"value": None, "sessions": int(active_r.shape[1]),
                                 "reason": f"fewer than {2 * blocks} invested sessions for {blocks} blocks"}
        out["event_time_pbo"] = out["event_time"]["value"]
    return out


#: Distinct series clustered at most: the clustering holds K x K correlations (8 K² bytes, a few
#: copies), so more would make a sweep's memory grow with its size; above it DSR uses N raw.
MAX_DISTINCT_SERIES = 2_000


def _distinct_series(log: TrialLog, rows: Rows, sessions: int,
                     max_values: int = 20_000_000) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """The distinct return series (``K x T``, first combination of each), per combination the
    index of its series, and the combo ids of the firsts; ``None`` when they would exceed
    ``max_values`` numbers."""
    prints = log.column("prints")
    if not len(prints):
        return None
    first, inverse = log.distinct_rows()
    if len(first) > MAX_DISTINCT_SERIES or len(first) * sessions > max_values:
        return None
    # in order of first appearance (combo_id), not of the prints: the clustering behind the
    # effective number of trials must not depend on how a hash happens to sort
    order = np.argsort(first, kind="stable")
    rank = np.empty_like(order)
    rank[order] = np.arange(len(order))
    first = first[order]
    return rows.series([int(i) for i in first]), rank[inverse.reshape(-1)], first


def _deflated(best: np.ndarray, log: TrialLog, trials: int,
              distinct: tuple[np.ndarray, np.ndarray, np.ndarray] | None) -> dict[str, Any]:
    """DSR with N effective (headline) and its sensitivity to N raw and N distinct."""
    sharpes = log.column("sharpe")
    moments = overfit.return_moments(best)  # of the best series: the same for every N
    raw = overfit.deflated_sharpe(best, sharpes, trials=trials, moments=moments)
    out: dict[str, Any] = {"trials_raw": trials, "dsr_raw": raw.value, "sharpe_variance_raw": raw.sharpe_variance}
    if distinct is None:
        return {**raw.as_dict(), **out, "n_basis": f"raw (more than {MAX_DISTINCT_SERIES:,} distinct series, or too large "
                                                  f"to read back: not clustered)"}
    series, _, first = distinct
    dist_sr = sharpes[first]  # each series' Sharpe ratio, as its first combination's row has it
    dis = overfit.deflated_sharpe(best, dist_sr, trials=len(series), moments=moments)
    eff = effective.effective_trials(series)
    eff_dsr = overfit.deflated_sharpe(best, eff.sharpes, trials=max(eff.count, 1), moments=moments,
                                      sharpe_variance=eff.sharpe_variance)
    out.update(trials_distinct=len(series), dsr_distinct=dis.value, sharpe_variance_distinct=dis.sharpe_variance,
               trials_effective=eff.count, dsr_effective=eff_dsr.value,
               sharpe_variance_effective=eff_dsr.sharpe_variance, flat_series=eff.flat,
               effective_method=effective.EFFECTIVE_METHOD, n_basis="effective")
    return {**eff_dsr.as_dict(), **out}


def _walk_forward(log: TrialLog, folds: int, sessions: pd.DatetimeIndex, rows: Rows, ppy: float) -> dict[str, Any]:
    """Fit (best Sharpe) on window i, test on window i + 1; the tests joined are the out-of-sample run."""
    bounds = overfit.fold_bounds(len(sessions), folds)
    picks = overfit.walk_forward_choices(log.column("fold_sum"), log.column("fold_sq"), bounds)
    chosen = sorted({p for p in picks if p is not None})
    params = dict(zip(chosen, rows.rows(["params"], chosen).column("params").to_pylist())) if chosen else {}
    picked = dict(zip(chosen, rows.series(chosen))) if chosen else {}
    out, oos = [], []
    for i, pick in enumerate(picks):
        (fa, fb), (ta, tb) = bounds[i], bounds[i + 1]
        if pick is None:
            out.append({"fit": [f"{sessions[fa]:%Y-%m-%d}", f"{sessions[fb - 1]:%Y-%m-%d}"],
                        "test": [f"{sessions[ta]:%Y-%m-%d}", f"{sessions[tb - 1]:%Y-%m-%d}"],
                        "combo_id": None, "params": None, "no_signal": True, "fit_flat": True,
                        "reason": "no combination had a non-zero return in the fit window: nothing to pick",
                        "fit_sharpe_annual": None, "test_sharpe_annual": None, "test_total_return": None})
            continue
        series = picked[pick]
        test = series[ta:tb]
        oos.append(test)
        fit_sharpe = _annual_sharpe(series[fa:fb], ppy)
        out.append({"fit": [f"{sessions[fa]:%Y-%m-%d}", f"{sessions[fb - 1]:%Y-%m-%d}"],
                    "test": [f"{sessions[ta]:%Y-%m-%d}", f"{sessions[tb - 1]:%Y-%m-%d}"],
                    "combo_id": int(pick), "params": json.loads(params[pick]), "no_signal": False,
                    # the pick itself was flat in the fit window (others moved, all worse)
                    "fit_flat": fit_sharpe is None,
                    "fit_sharpe_annual": fit_sharpe, "test_sharpe_annual": _annual_sharpe(test, ppy),
                    "test_total_return": float(np.prod(1.0 + test) - 1.0)})
    joined = np.concatenate(oos) if oos else np.empty(0)
    no_signal = sum(1 for f in out if f["no_signal"])
    return {"folds": out, "selection": "best Sharpe on the fit window; none where no combination moved",
            "folds_without_signal": no_signal,
            "oos": {"sessions": int(len(joined)), "sharpe_annual": _annual_sharpe(joined, ppy),
                    "total_return": float(np.prod(1.0 + joined) - 1.0) if len(joined) else None,
                    "folds_used": len(out) - no_signal}}


def summarise(spec: Any, inputs: SweepInputs, space: Space, constraint: Any, seed: int,
              dims: tuple[str, ...], rows: Rows, log: TrialLog, trials: int,
              engines: collections.Counter[str], reasons: collections.Counter[str], out_dir: Path) -> dict[str, Any]:
    """The content of ``sweep_summary.json`` (and the heatmap CSVs, written to ``out_dir``).

    Keys: ``metric``, ``trials``, ``distinct_trials``, ``effective_trials``, ``best``
    (``[{"params", "metrics", "combo_id", "key", "engine"}]``), ``deflated_sharpe``
    (``{"value", "trials", "dsr_raw", "dsr_distinct", "dsr_effective", ...}``; ``value`` is
    the DSR with N effective), ``pbo`` (``{"value", "blocks_with_returns", "event_time",
    ...}``), ``walk_forward`` (when on), ``heatmaps`` (``[{"x", "y", "metric", "file"}]``),
    ``engines`` and the settings behind the run.
    """
    metric = spec.metric
    ppy = inputs.bench_clock.periods_per_year
    sessions = pd.DatetimeIndex(inputs.benchmark.frame.index)
    best = _best(rows, log, spec.top)
    best_series = rows.series([best[0]["combo_id"]])[0]
    distinct = _distinct_series(log, rows, len(sessions))

    best_returns = write_best_returns(out_dir, sessions, best_series, inputs.bench_clock.returns)
    dsr = _deflated(best_series, log, trials, distinct)
    walk = _walk_forward(log, spec.walk_forward_folds, sessions, rows, ppy) \
        if spec.walk_forward_folds and trials >= 2 else None
    frame = rows.rows([*dims, metric]).to_pandas()
    pairs = list(spec.heatmaps) if spec.heatmaps is not None else default_pairs(frame, dims)
    heatmaps = write_heatmaps(frame, pairs, metric, out_dir)
    deflated = {**dsr, "sharpe_annual": dsr["sharpe"] * math.sqrt(ppy),
                "returns": "daily strategy returns on the benchmark's session clock (returns.csv)",
                "best_by": metric}
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
        "effective_trials": deflated.get("trials_effective"),
        "best": best,
        "best_returns": best_returns,
        "deflated_sharpe": deflated,
        "pbo": _pbo(log, spec.pbo_blocks, sessions, trials, None if distinct is None else distinct[:2]),
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
