"""What the overfitting diagnostics need from every trial, computed once per row.

Each combination's benchmark-clock return series is reduced, where it is computed, to a
few numbers: its per-session Sharpe ratio (for the trials' variance in the deflated Sharpe
ratio), per-block sums and sums of squares (CSCV), per-window sums (walk-forward) and a
128-bit hash of its bytes to count distinct series. Every reduction works row by row, so
a row's numbers do not depend on which chunk it was computed in. A sweep keeps these ``O(N)`` numbers, never the ``N x T`` return matrix.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field

import numpy as np

from backtests.sweep import overfit


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
    """Reduce an ``n x T`` return matrix (see the module docstring)."""
    n, t = returns.shape
    with np.errstate(all="ignore"):
        std = np.std(returns, axis=1, ddof=1) if t >= 2 else np.full(n, np.nan)
        flat = returns.max(axis=1) == returns.min(axis=1) if t else np.ones(n, bool)
        sharpe = np.where(flat, np.nan, returns.mean(axis=1) / std)
    if spec.cscv:
        block_sum, block_sq = overfit.block_stats(returns, spec.blocks)
    else:
        block_sum = block_sq = np.zeros((n, 0))
    if spec.folds:
        fold_sum, fold_sq = overfit.fold_stats(returns, overfit.fold_bounds(t, spec.folds))
    else:
        fold_sum = fold_sq = np.zeros((n, 0))
    rows = np.ascontiguousarray(returns, dtype=np.float64)
    prints = np.frombuffer(b"".join(hashlib.blake2b(r.tobytes(), digest_size=16).digest() for r in rows),
                           dtype=np.uint64).reshape(n, 2)
    return RowStats(sharpe=sharpe, block_sum=block_sum, block_sq=block_sq, fold_sum=fold_sum, fold_sq=fold_sq,
                    prints=prints)


@dataclass
class TrialLog:
    """Row stats of every trial, in ``combo_id`` order, plus the ranking metric."""

    metric: list[np.ndarray] = field(default_factory=list)
    stats: list[RowStats] = field(default_factory=list)

    def add(self, stats: RowStats, metric: np.ndarray) -> None:
        self.stats.append(stats)
        self.metric.append(metric)

    def column(self, name: str) -> np.ndarray:
        return np.concatenate([getattr(s, name) for s in self.stats])

    def distinct(self) -> int:
        return len(np.unique(self.column("prints"), axis=0)) if self.stats else 0  # O(N) arrays, no tuples
