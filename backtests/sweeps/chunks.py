"""The unit of work of a sweep: chunks of the canonical sequence of combinations, the task
shipped to a worker and its results, and the store key of each combination."""

from __future__ import annotations

import dataclasses
import hashlib
from collections.abc import Iterator
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


class KeyMaker:
    """``combo -> store key`` without building parameter objects (the same effective dict
    :meth:`RunPlan.effective` gives for fields that take their values as given), and
    ``combo -> canonical JSON`` of the combination itself (:meth:`params`).

    Both are assembled from cached fragments: each ``"name":value`` is encoded once per
    sweep, not once per combination; ``test_sweep_space`` checks the key equals that of the
    effective run and the JSON equals :func:`canonical_json`.
    """

    def __init__(self, inputs: SweepInputs) -> None:
        cfg = inputs.cfg
        assert cfg.strategy is not None
        kinds = field_kinds(type(cfg.strategy.params))
        base_params = {f.name: normalise_value(f.name, getattr(cfg.strategy.params, f.name), kinds)
                       for f in dataclasses.fields(cfg.strategy.params) if f.init}
        self._base_portfolio = dataclasses.asdict(cfg.portfolio)
        self._prefix = f"{inputs.data_hash}|{inputs.code_version}|"
        self._fragments: dict[tuple[str, str], str] = {}
        self._orders: dict[tuple[str, ...], list[str]] = {}
        self._names = sorted(base_params)
        self._base = {n: self._encode(n, base_params[n]) for n in self._names}
        self._portfolio = self._object(self._base_portfolio)
        self._listings, self._only = list(cfg.strategy.listings), list(cfg.events.only)
        self._strategy = self._encode("strategy", inputs.strategy)

    def _encode(self, name: str, value: Any) -> str:
        """``"name":value`` in canonical JSON, cached by the value's repr (1, 1.0 and True differ)."""
        memo = (name, repr(value))
        got = self._fragments.get(memo)
        if got is None:
            got = self._fragments[memo] = canonical_json({name: value})[1:-1]
        return got

    def _object(self, values: dict[str, Any]) -> str:
        return "{" + ",".join(self._encode(n, values[n]) for n in sorted(values)) + "}"

    def params(self, combo: Combo) -> str:
        """:func:`canonical_json` of ``combo``."""
        return self._object(combo)

    def __call__(self, combo: Combo) -> str:
        names = tuple(combo)
        order = self._orders.get(names)
        if order is None:  # the same names for every combination of a space: sorted once
            order = self._orders[names] = sorted({*self._names, *(n for n in names if n not in SPECIAL_DIMENSIONS)})
        params = ",".join(self._encode(n, combo[n]) if n in combo else self._base[n] for n in order)
        portfolio = self._portfolio
        if "portfolio.slippage_bps" in combo:
            portfolio = self._object({**self._base_portfolio, "slippage_bps": float(combo["portfolio.slippage_bps"])})
        text = ("{" + self._encode("listings", list(combo.get("strategy.listings", self._listings))) + ","
                + self._encode("only", list(combo.get("events.only", self._only)))
                + ',"params":{' + params + '},"portfolio":' + portfolio + "," + self._strategy + "}")
        return hashlib.sha256((self._prefix + text).encode()).hexdigest()



def chunks(inputs: SweepInputs, space: Space, constraint: Constraint | None, seed: int, size: int
           ) -> Iterator[Chunk]:
    """The canonical sequence of combinations passing ``constraint``, ``size`` at a time, with
    their store keys (lazily: memory does not grow with the grid)."""
    key = KeyMaker(inputs)
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


def _chunk(ids: list[int], combos: list[Combo], key: KeyMaker, consumed: int) -> Chunk:
    return Chunk(ids=tuple(ids), combos=tuple(combos), keys=tuple(key(c) for c in combos),
                 params=tuple(key.params(c) for c in combos), consumed=consumed)
