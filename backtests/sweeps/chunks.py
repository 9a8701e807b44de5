"""The unit of work of a sweep: chunks of the canonical sequence of combinations, the task
shipped to a worker and its results, and the store key of each combination."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from backtests.sweeps.inputs import SweepInputs
from backtests.sweeps.space import (SPECIAL_DIMENSIONS, Combo, Constraint, Space, apply_constraint, canonical_json,
                                   field_kinds, iter_space, normalise_value)
from backtests.sweeps.trials import RowStats, StatsSpec

EngineMode = Literal["auto", "kernel", "backtrader"]
ENGINE_MODES: tuple[EngineMode, ...] = ("auto", "kernel", "backtrader")


@dataclass(frozen=True, kw_only=True)
class ChunkTask:
    """Combinations to evaluate (keys and canonical JSON computed by the caller).

    Attributes
    ----------
    store_dir
        When set, the worker writes its result part there itself (local processes share
        the disk) and returns no return series; None: the caller writes (Dask workers,
        this process).
    """

    keys: tuple[str, ...]
    combos: tuple[Combo, ...]
    params: tuple[str, ...]
    stats: StatsSpec
    engine: EngineMode = "auto"
    store_dir: str | None = None


@dataclass(frozen=True, kw_only=True)
class ChunkResult:
    """Rows of one chunk, in the task's order.

    Attributes
    ----------
    metrics
        :data:`~backtests.sweeps.rowmetrics.ROW_METRICS` name -> float array.
    returns
        ``n x T`` strategy returns on the benchmark clock (None once written to a part).
    stats
        What the diagnostics need of each row (:mod:`backtests.sweeps.trials`).
    engine
        ``kernel`` or ``backtrader`` per row.
    fallback_reason
        Why a row ran on backtrader (None for kernel rows).
    part
        File name of the part the worker wrote (None: not written yet).
    """

    keys: tuple[str, ...]
    params: tuple[str, ...]
    metrics: dict[str, np.ndarray]
    returns: np.ndarray | None
    stats: RowStats
    engine: tuple[str, ...]
    fallback_reason: tuple[str | None, ...]
    part: str | None = None



@dataclass(frozen=True, kw_only=True)
class Chunk:
    """A run of consecutive combinations of the canonical sequence (``ids`` = combo ids)."""

    ids: tuple[int, ...]
    combos: tuple[Combo, ...]
    keys: tuple[str, ...]
    params: tuple[str, ...]  # canonical JSON of each combination
    consumed: int  # combinations drawn from the space for it (constraint rejects included)


def key_maker(inputs: SweepInputs) -> Callable[[Combo], str]:
    """``combo -> store key`` without building parameter objects (the same effective dict
    :meth:`RunPlan.effective` gives for fields that take their values as given).

    The canonical JSON is assembled from cached fragments (each parameter value is encoded
    once per sweep, not once per combination); ``test_sweep_space`` checks it equals
    :func:`canonical_json` of the effective run.
    """
    cfg = inputs.cfg
    assert cfg.strategy is not None
    kinds = field_kinds(type(cfg.strategy.params))
    base_params = {f.name: normalise_value(f.name, getattr(cfg.strategy.params, f.name), kinds)
                   for f in dataclasses.fields(cfg.strategy.params) if f.init}
    base_portfolio = dataclasses.asdict(cfg.portfolio)
    prefix = f"{inputs.data_hash}|{inputs.code_version}|"
    fragments: dict[tuple[str, str], str] = {}

    def encode(name: str, value: Any) -> str:
        """``"name":value`` in canonical JSON, cached by the value's repr (1, 1.0 and True differ)."""
        memo = (name, repr(value))
        got = fragments.get(memo)
        if got is None:
            got = fragments[memo] = canonical_json({name: value})[1:-1]
        return got

    names = sorted(base_params)
    base_fragments = {n: encode(n, base_params[n]) for n in names}
    base_portfolio_json = "{" + ",".join(encode(n, base_portfolio[n]) for n in sorted(base_portfolio)) + "}"
    default_listings, default_only = list(cfg.strategy.listings), list(cfg.events.only)

    def key(combo: Combo) -> str:
        swept = {n: v for n, v in combo.items() if n not in SPECIAL_DIMENSIONS}
        params = ",".join(encode(n, swept[n]) if n in swept else base_fragments[n]
                          for n in sorted({*names, *swept}))
        portfolio = base_portfolio_json
        if "portfolio.slippage_bps" in combo:
            changed = {**base_portfolio, "slippage_bps": float(combo["portfolio.slippage_bps"])}
            portfolio = "{" + ",".join(encode(n, changed[n]) for n in sorted(changed)) + "}"
        text = ("{" + encode("listings", list(combo.get("strategy.listings", default_listings))) + ","
                + encode("only", list(combo.get("events.only", default_only)))
                + ',"params":{' + params + '},"portfolio":' + portfolio + "," + encode("strategy", inputs.strategy) + "}")
        return hashlib.sha256((prefix + text).encode()).hexdigest()

    return key


def chunks(inputs: SweepInputs, space: Space, constraint: Constraint | None, seed: int, size: int
           ) -> Iterator[Chunk]:
    """The canonical sequence of combinations passing ``constraint``, ``size`` at a time, with
    their store keys (lazily: memory does not grow with the grid)."""
    key = key_maker(inputs)
    ids: list[int] = []
    combos: list[Combo] = []
    consumed = 0
    next_id = 0
    for combo in iter_space(space, seed=seed, kinds=inputs.kinds):
        consumed += 1
        if not apply_constraint(constraint, inputs.constraint_env(combo) if constraint else {}, combo):
            continue
        ids.append(next_id)
        combos.append(combo)
        next_id += 1
        if len(ids) == size:
            yield _chunk(ids, combos, key, consumed)
            ids, combos, consumed = [], [], 0
    if ids or consumed:
        yield _chunk(ids, combos, key, consumed)


def _chunk(ids: list[int], combos: list[Combo], key: Callable[[Combo], str], consumed: int) -> Chunk:
    return Chunk(ids=tuple(ids), combos=tuple(combos), keys=tuple(key(c) for c in combos),
                  params=tuple(canonical_json(c) for c in combos), consumed=consumed)
