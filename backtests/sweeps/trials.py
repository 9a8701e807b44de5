"""What the overfitting diagnostics need from every trial, computed once per row.

Each combination's benchmark-clock return series is reduced, where it is computed, to a
few numbers: its per-session Sharpe ratio (for the trials' variance in the deflated Sharpe
ratio), per-block sums and sums of squares (CSCV), per-window sums (walk-forward) and a
128-bit fingerprint of its bytes to count distinct series. Every reduction works row by row, so
a row's numbers do not depend on which chunk it was computed in. A sweep keeps these ``O(N)`` numbers, never the ``N x T`` return matrix.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backtests.sweeps import overfit


@dataclass(frozen=True, kw_only=True)
class StatsSpec:
    """How the return series are cut: ``blocks`` for CSCV, ``folds`` for walk-forward (0: off)."""

    blocks: int
    folds: int
    sessions: int

    @property
    def cscv(self) -> bool:
        return self.sessions >= 2 * self.blocks


@dataclass(frozen=True, kw_only=True)
class RowStats:
    """Per-row reductions of ``n`` return series (arrays with ``n`` rows)."""

    sharpe: np.ndarray
    block_sum: np.ndarray
    block_sq: np.ndarray
    fold_sum: np.ndarray
    fold_sq: np.ndarray
    prints: np.ndarray

    def take(self, rows: list[int]) -> "RowStats":
        return RowStats(**{k: getattr(self, k)[rows] for k in self.__dataclass_fields__})


def row_stats(returns: np.ndarray, spec: StatsSpec) -> RowStats:
    """Reduce an ``n x T`` return matrix (see the module docstring), a few rows at a time (the
    temporaries stay in cache)."""
    r = np.ascontiguousarray(returns, dtype=np.float64)
    n, t = r.shape
    step = max(1, _BLOCK_BYTES // (8 * max(t, 1)))
    parts = [_row_stats(r[a:a + step], spec) for a in range(0, n, step)] or [_row_stats(r, spec)]
    if len(parts) == 1:
        return parts[0]
    return RowStats(**{f: np.concatenate([getattr(p, f) for p in parts]) for f in RowStats.__dataclass_fields__})


_BLOCK_BYTES = 1 << 20


def _row_stats(r: np.ndarray, spec: StatsSpec) -> RowStats:
    n, t = r.shape
    with np.errstate(all="ignore"):
        mean = r.mean(axis=1)
        if t >= 2:  # np.std(ddof=1): the same operations, the mean computed once
            dev = np.subtract(r, mean[:, None])
            std = np.sqrt(np.square(dev, out=dev).sum(axis=1) / (t - 1))
        else:
            std = np.full(n, np.nan)
        flat = r.max(axis=1) == r.min(axis=1) if t else np.ones(n, bool)
        sharpe = np.where(flat, np.nan, mean / std)
    # overfit.block_stats / fold_stats, the squares computed once for both
    sq = np.square(r)
    block_sum = block_sq = np.zeros((n, 0))
    if spec.cscv:
        start, size = overfit.block_bounds(t, spec.blocks)
        shape, used = (n, spec.blocks, size), slice(start, start + size * spec.blocks)
        block_sum, block_sq = r[:, used].reshape(shape).sum(axis=2), sq[:, used].reshape(shape).sum(axis=2)
    bounds = overfit.fold_bounds(t, spec.folds) if spec.folds else []
    fold_sum, fold_sq = np.empty((n, len(bounds))), np.empty((n, len(bounds)))
    for i, (a, b) in enumerate(bounds):
        r[:, a:b].sum(axis=1, out=fold_sum[:, i])
        sq[:, a:b].sum(axis=1, out=fold_sq[:, i])
    return RowStats(sharpe=sharpe, block_sum=block_sum, block_sq=block_sq, fold_sum=fold_sum, fold_sq=fold_sq,
                    prints=fingerprints(r))


def fingerprints(returns: np.ndarray) -> np.ndarray:
    """A 128-bit fingerprint of each row's bytes (``n x 2`` uint64): equal rows, equal prints.

    The row's 32-bit words ``z`` are summed with fixed pseudo-random 64-bit weights, modulo
    2^64, in two lanes (an integer dot product: exact, whatever the order or the other rows).
    For two different rows some word differs by less than 2^32, so a lane maps them to the same
    value for at most a 2^-33 share of weights, both lanes for 2^-66: distinct series are
    counted as one with probability below 2^-66 per pair (blake2b did the same job 3x slower).
    """
    r = np.ascontiguousarray(returns, dtype=np.float64)
    words = r.view(np.uint32).astype(np.int64)
    weights = _weights(words.shape[1])
    return np.stack([np.einsum("ij,j->i", words, lane) for lane in weights], axis=1).view(np.uint64)


_WEIGHTS: dict[int, np.ndarray] = {}


def _weights(width: int) -> np.ndarray:
    got = _WEIGHTS.get(width)
    if got is None:
        rng = np.random.default_rng(0x5EED_F1A9)
        got = _WEIGHTS[width] = rng.integers(np.iinfo(np.int64).min, np.iinfo(np.int64).max, size=(2, width),
                                             dtype=np.int64, endpoint=True)
    return got


class TrialLog:
    """Row stats of every trial, in ``combo_id`` order, plus the ranking metric.

    Stored in arrays allocated once for ``capacity`` trials (grown by doubling beyond it), so
    the diagnostics read views and never hold a second copy of the log.
    """

    def __init__(self, capacity: int = 1024) -> None:
        self._capacity = max(1, int(capacity))
        self._cols: dict[str, np.ndarray] = {}
        self._n = 0
        self._distinct: tuple[int, np.ndarray, np.ndarray] | None = None

    def add(self, stats: RowStats, metric: np.ndarray) -> None:
        k = len(metric)
        fields = {name: getattr(stats, name) for name in RowStats.__dataclass_fields__}
        fields["metric"] = np.asarray(metric, dtype=float)
        if not self._cols:
            self._cols = {name: np.empty((self._capacity, *v.shape[1:]), dtype=v.dtype) for name, v in fields.items()}
        if self._n + k > len(self._cols["metric"]):
            size = max(2 * len(self._cols["metric"]), self._n + k)
            for name, col in self._cols.items():
                grown = np.empty((size, *col.shape[1:]), dtype=col.dtype)
                grown[:self._n] = col[:self._n]
                self._cols[name] = grown
        for name, v in fields.items():
            self._cols[name][self._n:self._n + k] = v
        self._n += k

    def column(self, name: str) -> np.ndarray:
        """Every trial's ``name`` (``metric`` included), in order: a view, not a copy."""
        return self._cols[name][:self._n] if self._cols else np.empty(0)

    def distinct(self) -> int:
        return len(self.distinct_rows()[0]) if self._n else 0  # O(N) arrays, no tuples

    def distinct_rows(self) -> tuple[np.ndarray, np.ndarray]:
        """(first row of each distinct print, in print order; each row's index among them): as
        ``np.unique(prints, axis=0, return_index=True, return_inverse=True)``, computed once."""
        if self._distinct is None or self._distinct[0] != self._n:
            prints = np.ascontiguousarray(self.column("prints"))
            keys = prints.view(np.dtype((np.void, prints.dtype.itemsize * prints.shape[1]))).reshape(-1)
            _, first, inverse = np.unique(keys, return_index=True, return_inverse=True)
            self._distinct = (self._n, first, inverse.reshape(-1))
        return self._distinct[1], self._distinct[2]
