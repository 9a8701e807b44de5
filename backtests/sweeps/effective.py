"""How many different bets a sweep really tried, and whether its blocks carry returns.

**Effective number of trials** (López de Prado, 2019, "A Data Science Solution to the
Multiple-Testing Crisis in Financial Research"): the distinct return series are
clustered by average-linkage hierarchical clustering on ``1 − |ρ|`` and cut at
``|ρ| ≥`` :data:`EFFECTIVE_CORRELATION` (a short arm that mirrors a long one, ``ρ = −1``,
is the same trial); each cluster is one trial whose returns are the equal-weight mean of
its members (sign-aligned to its first member), and ``V[SR]`` is taken over the clusters'
Sharpe ratios.

**PBO coverage**: CSCV is refused when fewer than half the blocks carry any return (a
split of flat blocks ranks ties, not skill); :func:`event_time_returns` keeps only the
sessions where some combination is invested, so blocks can be cut in event time instead.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from backtests.sweeps.overfit import sharpe_per_period

#: Series correlated at least this much (in absolute value) are one trial.
EFFECTIVE_CORRELATION = 0.5
EFFECTIVE_METHOD = (f"distinct return series clustered by average-linkage hierarchical clustering on 1 - |corr|, "
                    f"cut at |corr| >= {EFFECTIVE_CORRELATION}; cluster returns = equal-weight mean of its members "
                    f"(sign-aligned); V[SR] = mean of the clusters' squared Sharpe ratios (about zero, the null's "
                    f"mean: a cluster's sign, long or its mirrored short, is arbitrary)")


@dataclass(frozen=True, kw_only=True, slots=True)
class EffectiveTrials:
    """Clusters of distinct return series (see the module doc).

    Attributes
    ----------
    count
        Number of clusters (the effective number of trials), flat series excluded.
    labels
        Cluster of each input series (``-1``: flat, in no cluster).
    sharpes
        Per-period Sharpe ratio of each cluster's mean series (its sign follows the
        cluster's first member: arbitrary, since a mirrored arm is the same trial).
    flat
        Number of flat input series (no dispersion).
    """

    count: int
    labels: np.ndarray
    sharpes: np.ndarray
    flat: int

    @property
    def sharpe_variance(self) -> float:
        """``V[SR]`` across the clusters for the deflated Sharpe ratio: the mean squared Sharpe
        ratio, i.e. the variance about zero (the null's mean). Unlike the sample variance it
        does not depend on which way each cluster is signed — with ``|corr|`` clusters that is
        an accident of member order (measured on the shipped sweep: the same 8 clusters gave
        sample variances 0.0009-0.0048 over orders of the series, hence DSR 0.66-1.00)."""
        return float(np.mean(np.square(self.sharpes))) if len(self.sharpes) else 0.0


def effective_trials(returns: np.ndarray, threshold: float = EFFECTIVE_CORRELATION) -> EffectiveTrials:
    """Cluster the rows of a ``K x T`` matrix of distinct return series by ``|corr|``."""
    from scipy.cluster.hierarchy import fcluster, linkage
    from scipy.spatial.distance import squareform

    r = np.atleast_2d(np.asarray(returns, dtype=float))
    labels = np.full(len(r), -1)
    live = np.flatnonzero(r.max(axis=1) > r.min(axis=1)) if r.shape[1] >= 2 else np.empty(0, dtype=int)
    if len(live) == 0:
        return EffectiveTrials(count=0, labels=labels, sharpes=np.empty(0), flat=len(r))
    x = r if len(live) == len(r) else r[live]
    unit = _unit_rows(x)
    if len(live) == 1:
        groups = np.array([1])
    else:
        dist = unit @ unit.T  # correlations ...
        np.clip(dist, -1.0, 1.0, out=dist)
        np.abs(dist, out=dist)
        np.subtract(1.0, dist, out=dist)  # ... -> 1 - |corr|, in place (K x K is the sweep's largest array)
        np.fill_diagonal(dist, 0.0)
        groups = fcluster(linkage(squareform(dist, checks=False), method="average"), 1.0 - threshold,
                          criterion="distance")
    sharpes = []
    for k, g in enumerate(np.unique(groups)):
        members = np.flatnonzero(groups == g)
        labels[live[members]] = k
        signs = np.sign(unit[members] @ unit[members[0]])  # correlation with the cluster's first member
        signs[signs == 0] = 1.0
        sharpes.append(sharpe_per_period((x[members] * signs[:, None]).mean(axis=0)))
    return EffectiveTrials(count=len(sharpes), labels=labels, sharpes=np.array(sharpes), flat=int(len(r) - len(live)))


def _unit_rows(x: np.ndarray) -> np.ndarray:
    """Rows of ``x`` (``K x T``, no flat row) centred and scaled to unit length, so that
    ``u @ u.T`` is their Pearson correlation matrix.

    Event strategies are flat on most sessions: only the sessions where some row is non-zero
    are kept, plus one column standing for all the others (each centred value there is
    ``-mean``, so they contribute ``(T - A) mean_i mean_j``): the cost follows the invested
    sessions, not the calendar."""
    t = x.shape[1]
    cols = np.any(x != 0.0, axis=0)
    mean = x.mean(axis=1)
    u = np.empty((len(x), int(cols.sum()) + 1))
    np.subtract(x[:, cols], mean[:, None], out=u[:, :-1])
    u[:, -1] = -mean * np.sqrt(t - int(cols.sum()))
    u /= np.sqrt(np.einsum("ij,ij->i", u, u))[:, None]
    return u


def event_time_returns(returns: np.ndarray) -> np.ndarray:
    """The columns (sessions) of an ``N x T`` return matrix where some row is non-zero:
    CSCV blocks cut on them are blocks of event time, each carrying returns."""
    r = np.atleast_2d(np.asarray(returns, dtype=float))
    return r[:, np.any(r != 0.0, axis=0)]


def active_blocks(block_sq: np.ndarray) -> int:
    """Blocks in which at least one strategy has a non-zero return (``N x S`` sums of squares)."""
    sq = np.atleast_2d(np.asarray(block_sq, dtype=float))
    return int(np.count_nonzero(sq.sum(axis=0) > 0)) if sq.size else 0


