"""Assembling ``sweep.parquet``: dimension columns and the rows of a chunk, whether just
computed or read back from the store."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pyarrow as pa

from backtests.sweeps.chunks import Chunk, ChunkResult
from backtests.sweeps.rowmetrics import ROW_METRICS
from backtests.sweeps.space import RandomSearch, Space, label, normalise_value
from backtests.sweeps.store import ResultStore
from backtests.sweeps.trials import RowStats, StatsSpec, row_stats


def dim_type(values: Sequence[Any]) -> pa.DataType:
    """Column type of a dimension: bool, int64, float64 (None -> null) or string labels."""
    present = [v for v in values if v is not None]
    if present and all(isinstance(v, bool) for v in present):
        return pa.bool_()
    if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
        return pa.int64()
    if present and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in present):
        return pa.float64()
    return pa.string()


def dim_types(space: Space, kinds: Mapping[str, str | None]) -> dict[str, pa.DataType]:
    if isinstance(space, RandomSearch):
        out = {}
        for name in space.names:
            if name in space.choices:
                out[name] = dim_type([normalise_value(name, v, kinds) for v in space.choices[name]])
            else:
                lo, hi = space.ranges[name]
                whole = isinstance(lo, int) and isinstance(hi, int) and kinds.get(name) != "float"
                out[name] = pa.int64() if whole else pa.float64()
        return out
    return {name: dim_type([normalise_value(name, v, kinds) for v in values]) for name, values in space.items()}


def dim_array(values: Sequence[Any], typ: pa.DataType) -> pa.Array:
    if pa.types.is_string(typ):
        return pa.array([None if v is None else label(v) for v in values], type=typ)
    return pa.array(list(values), type=typ)


def rows_for(chunk: Chunk, computed: dict[str, tuple[ChunkResult, int]], store: ResultStore,
             stats_spec: StatsSpec, *, want_returns: bool = False
             ) -> tuple[dict[str, np.ndarray], RowStats, list[str], list[str | None], np.ndarray | None]:
    """Metrics, row stats, engines, fallback reasons and (``want_returns``: the computed
    results must carry them) return series of a chunk's keys, in order: from the results just
    computed, or read back from the store (rows of an earlier run)."""
    n = len(chunk.keys)
    whole = next(iter(computed.values()))[0] if len(computed) == n else None
    if whole is not None and whole.keys == chunk.keys and (whole.returns is not None or not want_returns):
        # the usual case: the chunk computed just now, in order, by one task
        return (whole.metrics, whole.stats, list(whole.engine), list(whole.fallback_reason),
                whole.returns if want_returns else None)
    returns = np.empty((n, stats_spec.sessions)) if want_returns else None
    metrics = {k: np.empty(n) for k in ROW_METRICS}
    engine: list[str] = [""] * n
    reason: list[str | None] = [None] * n
    pieces: list[tuple[list[int], RowStats]] = []
    by_result: dict[int, tuple[ChunkResult, list[int], list[int]]] = {}
    for i, k in enumerate(chunk.keys):
        got = computed.get(k)
        if got is not None:
            entry = by_result.setdefault(id(got[0]), (got[0], [], []))
            entry[1].append(i)
            entry[2].append(got[1])
    for res, here, there in by_result.values():
        for m in ROW_METRICS:
            metrics[m][here] = res.metrics[m][there]
        pieces.append((here, res.stats.take(there)))
        if returns is not None and res.returns is not None:
            returns[here] = res.returns[there]
        elif returns is not None:  # a worker process wrote them to its part and sent none back
            returns[here] = store.returns([chunk.keys[i] for i in here])
        for i, j in zip(here, there):
            engine[i] = res.engine[j]
            reason[i] = res.fallback_reason[j]
    stored = [i for i, k in enumerate(chunk.keys) if k not in computed]
    if stored:
        table = store.rows([chunk.keys[i] for i in stored])
        for m in ROW_METRICS:
            metrics[m][stored] = table.column(m).to_numpy()
        flat = table.column("returns").combine_chunks().flatten().to_numpy().reshape(len(stored), stats_spec.sessions)
        pieces.append((stored, row_stats(flat, stats_spec)))
        if returns is not None:
            returns[stored] = flat
        engines = table.column("engine").to_pylist()
        reasons = table.column("fallback_reason").to_pylist()
        for pos, i in enumerate(stored):
            engine[i] = engines[pos]
            reason[i] = reasons[pos]
    if len(pieces) == 1 and pieces[0][0] == list(range(n)):
        return metrics, pieces[0][1], engine, reason, returns
    order = np.argsort(np.concatenate([np.asarray(p[0]) for p in pieces]), kind="stable")
    merged = RowStats(**{f: np.concatenate([getattr(p[1], f) for p in pieces])[order]
                         for f in RowStats.__dataclass_fields__})
    return metrics, merged, engine, reason, returns
