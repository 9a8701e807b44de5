"""Distinct results of a sweep: combinations that produced the same run, collapsed into one row.

Many combinations of a grid give the very same trades — a stop level that never fires, a
take-profit beyond every move, ``when_holding`` when no two catalysts overlap — so the top
rows of ``sweep.parquet`` repeat one result under several names. Here combinations are
grouped by their result: first by every metric of the row (identical trades give identical
metrics, to the bit), then, where the result store is at hand, by a hash of the daily return
series, so two different runs that happen to share every metric stay apart. Each group
becomes one row listing the parameter values its combinations share and those that vary.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtests.sweeps.rowmetrics import ROW_METRICS
from backtests.sweeps.store import ResultStore
from backtests.sweeps.summary import rank_values

#: Columns of :func:`distinct_results` besides the metrics.
DISTINCT_COLUMNS: tuple[str, ...] = ("combo_id", "combos", "combo_ids", "same", "varies")


def _label(value: Any) -> str:
    """A parameter value as a person reads it: None -> off, [] -> all, lists joined by +."""
    if value is None:
        return "off"
    if isinstance(value, (list, tuple)):
        return "+".join(map(str, value)) if value else "all"
    return str(value)


def _return_prints(store_dir: Path, keys: Sequence[str]) -> list[bytes]:
    series = ResultStore(store_dir).rows(list(keys), columns=["returns"]).column("returns").to_pylist()
    return [hashlib.blake2b(np.asarray(r, dtype=np.float64).tobytes(), digest_size=16).digest() for r in series]


def _describe(params: list[dict[str, Any]], dims: Sequence[str]) -> tuple[dict[str, str], dict[str, list[str]]]:
    same: dict[str, str] = {}
    varies: dict[str, list[str]] = {}
    for d in dims:
        values = list(dict.fromkeys(_label(p.get(d)) for p in params))
        if len(values) == 1:
            same[d] = values[0]
        else:
            varies[d] = values
    return same, varies


def distinct_results(table: pd.DataFrame, *, metric: str, dims: Sequence[str], top: int | None = None,
                     store_dir: str | Path | None = None) -> pd.DataFrame:
    """One row per distinct result, best ``metric`` first.

    Parameters
    ----------
    table
        ``sweep.parquet`` as a frame: ``combo_id``, ``params`` (canonical JSON), every
        :data:`~backtests.sweeps.rowmetrics.ROW_METRICS` column and, with ``store_dir``, ``key``.
    metric
        Ranking column (lower is better for volatility, durations, tracking error, costs).
    dims
        Swept dimensions, described in ``same`` / ``varies``.
    top
        Keep the best ``top`` distinct results (None: all).
    store_dir
        The sweep's result store; when given, groups of equal metrics are split by a hash
        of each combination's daily return series.

    Returns
    -------
    DataFrame
        Columns :data:`DISTINCT_COLUMNS` then ``ROW_METRICS``: ``combo_id`` is the group's
        lowest id (its representative), ``combos`` its size, ``combo_ids`` every id,
        ``same`` ``{dimension: value}`` shared by all, ``varies`` ``{dimension: [values]}``.
        Ties in ``metric`` keep the lower ``combo_id`` first.
    """
    if not len(table):
        return pd.DataFrame(columns=[*DISTINCT_COLUMNS, *ROW_METRICS])
    frame = table.sort_values("combo_id", kind="stable").reset_index(drop=True)
    group = pd.util.hash_pandas_object(frame[list(ROW_METRICS)], index=False).to_numpy()
    score = rank_values(frame[metric].to_numpy(dtype=float), metric)
    order = np.lexsort((frame["combo_id"].to_numpy(), -score))
    first_of: dict[int, list[int]] = {}
    for i in order:  # groups in ranking order; members in combo_id order
        first_of.setdefault(int(group[i]), []).append(int(i))
    rows: list[dict[str, Any]] = []
    for members in first_of.values():
        members = sorted(members)
        parts = [members]
        if store_dir is not None and len(members) > 1:
            prints = _return_prints(Path(store_dir), frame.loc[members, "key"].tolist())
            split: dict[bytes, list[int]] = {}
            for m, p in zip(members, prints):
                split.setdefault(p, []).append(m)
            parts = list(split.values())
        for part in parts:
            params = [json.loads(p) for p in frame.loc[part, "params"]]
            same, varies = _describe(params, dims)
            head = frame.loc[part[0]]
            rows.append({"combo_id": int(head["combo_id"]), "combos": len(part),
                         "combo_ids": [int(c) for c in frame.loc[part, "combo_id"]], "same": same,
                         "varies": varies, **{m: float(head[m]) for m in ROW_METRICS}})
        if top is not None and len(rows) >= top:
            break
    out = pd.DataFrame(rows, columns=[*DISTINCT_COLUMNS, *ROW_METRICS])
    return out.head(top) if top is not None else out


def describe_parameters(same: dict[str, str], varies: dict[str, list[str]]) -> str:
    """``hold_sessions=5, stop_loss_pct in {off, 0.05}`` — one group's parameters in one line."""
    return ", ".join([*(f"{k}={v}" for k, v in same.items()),
                      *(f"{k} in {{{', '.join(v)}}}" for k, v in varies.items())])
