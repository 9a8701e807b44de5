"""Probability of backtest overfitting by combinatorially symmetric cross-validation (CSCV;
Bailey, Borwein, López de Prado & Zhu, 2015), from per-block statistics.

Cut the ``T × N`` matrix of returns into ``S`` equal blocks of sessions; for each of the
``C(S, S/2)`` ways to pick half the blocks as in-sample, take the in-sample best (Sharpe) and
its relative rank ``ω`` out of sample; ``λ = log(ω / (1 − ω))``; PBO is the share of splits
with ``λ ≤ 0`` (the in-sample winner at or below the out-of-sample median). Above a number of
splits a seeded sample of them is used, and the result says so.
"""

from __future__ import annotations

import hashlib
import itertools
from dataclasses import asdict, dataclass

import numpy as np


def block_bounds(n_obs: int, blocks: int) -> tuple[int, int]:
    """(first row used, rows per block): the earliest ``n_obs mod blocks`` rows are dropped so
    that every block has the same length."""
    size = n_obs // blocks
    return n_obs - size * blocks, size


def block_stats(returns: np.ndarray, blocks: int) -> tuple[np.ndarray, np.ndarray]:
    """Per-block sums and sums of squares of a ``C x T`` return matrix: two ``C x S`` arrays."""
    r = np.atleast_2d(np.asarray(returns, dtype=float))
    start, size = block_bounds(r.shape[1], blocks)
    used = r[:, start:start + size * blocks].reshape(r.shape[0], blocks, size)
    return used.sum(axis=2), (used ** 2).sum(axis=2)


@dataclass(frozen=True, kw_only=True, slots=True)
class PBOResult:
    """CSCV result.

    Attributes
    ----------
    value
        Probability of backtest overfitting (share of splits with logit <= 0).
    blocks, splits, block_sessions, trials
        ``S``, the number of in/out-of-sample splits, sessions per block, strategies ``N``.
    logit_mean
        Mean logit of the out-of-sample relative rank of the in-sample best.
    prob_oos_loss
        Share of splits where the in-sample best has a negative out-of-sample Sharpe.
    degradation_slope, degradation_intercept
        OLS of out-of-sample on in-sample Sharpe (per period) of the in-sample best.
    """

    value: float
    blocks: int
    splits: int
    block_sessions: int
    trials: int
    logit_mean: float
    prob_oos_loss: float
    degradation_slope: float
    degradation_intercept: float
    splits_possible: int = 0
    sampling: str = "all splits"

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def _score(total: np.ndarray, total_sq: np.ndarray, n: int) -> np.ndarray:
    """``sign(SR) × SR² × n/(n − 1)`` of series of ``n`` returns from their sums: ordered exactly
    like the Sharpe ratio, without a square root (0 for a flat series)."""
    square = total * total  # |score| below: total x |total| is the same float
    spread = total_sq * n
    spread -= square
    flat = spread <= square * 1e-18
    score = np.copysign(square, total, out=square)
    np.copyto(spread, 1.0, where=flat)
    score /= spread
    np.copyto(score, 0.0, where=flat)
    return score


TABLE_BYTES = 64_000_000  # subset-sum tables of CSCV; beyond this the half sums are products
BATCH_BYTES = 4_000_000   # one split-batch x strategies array of CSCV, at most
CACHE_BYTES = 256_000     # ... and, where a batch of 8 splits fits, arrays that stay in a core's L2 cache (fastest)
TIE_DIRECT = 32  # strategies sharing the in-sample best ranked by direct comparison up to this many


def _unique_rows(sums: np.ndarray, sqs: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(first, inverse)`` of the distinct rows of ``[sums | sqs]`` (as ``np.unique(axis=0)``
    gives them, up to the order of the groups), from a 128-bit digest of each row: O(N)
    memory instead of sorting copies of the ``N x 2S`` matrix."""
    a, b = np.ascontiguousarray(sums, dtype=float), np.ascontiguousarray(sqs, dtype=float)
    digests = np.frombuffer(b"".join(hashlib.blake2b(x.tobytes() + y.tobytes(), digest_size=16).digest()
                                     for x, y in zip(a, b)), dtype=np.uint64).reshape(len(a), 2)
    _, first, inverse = np.unique(digests, axis=0, return_index=True, return_inverse=True)
    return first, inverse.reshape(-1)


def _subset_sums(x: np.ndarray, blocks: range) -> np.ndarray:
    """``2**len(blocks) x N``: row ``m`` is the sum of ``x[:, b]`` over the blocks whose bit is set in ``m``."""
    blocks = list(blocks)
    out = np.zeros((1 << len(blocks), x.shape[0]))
    cols = np.ascontiguousarray(x.T)
    # row m = row (m without its lowest set bit) + that bit's block: the rows whose lowest set
    # bit is j, all at once, highest j first (their other rows are then done)
    masks = np.arange(len(out))
    lowest = masks & -masks
    for j in reversed(range(len(blocks))):
        rows = masks[lowest == (1 << j)]
        out[rows] = out[rows ^ (1 << j)] + cols[blocks[j]]
    return out


def _sharpe_of_score(score: np.ndarray, n: int) -> np.ndarray:
    return np.sign(score) * np.sqrt(np.abs(score) * (n - 1) / n)


def pbo_cscv(block_sum: np.ndarray, block_sumsq: np.ndarray, block_sessions: int, *,
             batch: int = 1024, max_splits: int | None = None, seed: int = 0) -> PBOResult:
    """PBO from per-block statistics (``N x S`` sums and sums of squares, ``block_sessions``
    rows each). All ``C(S, S/2)`` splits are used, or, when there are more than ``max_splits``,
    ``max_splits`` of them drawn at random without replacement (seeded; each with its
    complement), which the result states in ``sampling``.

    Identical strategies (same statistics in every block) are evaluated once and counted
    with their multiplicity; ties in out-of-sample ranks are averaged; when several strategies
    share the in-sample best, each is the pick with equal chance and the split counts their
    average (so the result does not depend on the order of the strategies). Each split and
    its complement share one pass (the in-sample half of one is the out-of-sample half of
    the other).

    Raises
    ------
    ValueError
        ``S`` odd or < 2, fewer than 2 strategies, or blocks of fewer than 2 sessions.
    """
    sums = np.asarray(block_sum, dtype=float)
    sqs = np.asarray(block_sumsq, dtype=float)
    n_strat, s = sums.shape
    if s < 2 or s % 2:
        raise ValueError(f"CSCV needs an even number of blocks >= 2, got {s}")
    if n_strat < 2:
        raise ValueError("CSCV needs at least 2 strategies")
    if block_sessions < 2:
        raise ValueError(f"CSCV blocks of {block_sessions} session(s) are too short; use fewer blocks")
    first, inverse = _unique_rows(sums, sqs)
    count = np.bincount(inverse.reshape(-1), minlength=len(first))
    # representatives: strategies seen once (input order), then repeated ones with weights
    single = np.sort(first[count == 1])
    multi_order = np.argsort(first[count > 1], kind="stable")
    multi = first[count > 1][multi_order]
    weight = count[count > 1][multi_order].astype(float)
    reps = np.concatenate([single, multi])
    n_single = len(single)
    if len(reps) != n_strat or np.any(reps != np.arange(n_strat)):  # no copy when every row is distinct
        sums, sqs = sums[reps], sqs[reps]
    if s > 62:
        raise ValueError(f"CSCV with {s} blocks is too many; use at most 62 (16 is usual)")
    # splits whose first block is in-sample (in lexicographic order); the complement of each is
    # the other half
    others = list(itertools.combinations(range(1, s), s // 2 - 1))
    rest = np.array(others, dtype=np.int64).reshape(len(others), s // 2 - 1)
    possible = 2 * len(rest)
    sampling = "all splits"
    if max_splits is not None and possible > max_splits:
        keep = np.sort(np.random.default_rng(seed).choice(len(rest), size=max(1, max_splits // 2), replace=False))
        rest = rest[keep]
        sampling = (f"{2 * len(rest):,} of {possible:,} splits drawn at random (seed {seed}, each with its "
                    f"complement); sampling error of the PBO <= {0.5 / np.sqrt(len(rest)):.3f}")
    masks = 1 | (np.left_shift(1, rest, dtype=np.int64).sum(axis=1) if rest.shape[1] else np.zeros(len(rest), np.int64))
    n = block_sessions * (s // 2)
    # per direction (a split's first half in-sample, then its complement's), batch by batch:
    # concatenated forward then backward, the figures do not depend on the batch size
    logits: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    is_best: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])
    oos_best: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])

    def count_weighted(mask: np.ndarray) -> np.ndarray:
        out = np.count_nonzero(mask[:, :n_single], axis=1).astype(float)
        if len(weight):
            out += mask[:, n_single:] @ weight
        return out

    all_weight = np.concatenate([np.ones(n_single), weight])
    overfit_share: tuple[list[np.ndarray], list[np.ndarray]] = ([], [])

    def ranks(row_out: np.ndarray, values: np.ndarray) -> np.ndarray:
        """Relative ranks ω of ``values`` (some of ``row_out``) among one split's out-of-sample
        scores, without sorting all of them: O(N log k) for k distinct values."""
        uv = np.unique(values)
        right = np.searchsorted(uv, row_out, side="right")  # s_u < uv[i] for i >= right[u]
        left = np.searchsorted(uv, row_out, side="left")
        below = np.cumsum(np.bincount(right, weights=all_weight, minlength=len(uv) + 1))[:len(uv)]
        hit = right - left == 1
        equal = np.bincount(left[hit], weights=all_weight[hit], minlength=len(uv))
        i = np.searchsorted(uv, values)
        return (below[i] + (equal[i] + 1.0) / 2.0) / (n_strat + 1.0)

    def one_way(score_in: np.ndarray, score_out: np.ndarray, way: int) -> None:
        best = np.argmax(score_in, axis=1)
        rows = np.arange(len(best))
        top = score_in[rows, best][:, None]
        v = score_out[rows, best][:, None]
        below = count_weighted(score_out < v)
        equal = count_weighted(score_out == v)
        omega = (below + (equal + 1.0) / 2.0) / (n_strat + 1.0)
        lam = np.log(omega / (1.0 - omega))
        share = (lam <= 0).astype(float)
        is_sr = _sharpe_of_score(top[:, 0], n)
        oos_sr = _sharpe_of_score(v[:, 0], n)
        # several different strategies share the in-sample best: each is the pick with equal
        # chance (weighted by multiplicity), so the split counts their average
        at_top = score_in == top
        size = np.count_nonzero(at_top, axis=1)
        # few members: their ranks by direct comparison, all such splits at once ...
        few = np.flatnonzero((size > 1) & (size <= TIE_DIRECT))
        for part in np.array_split(few, -(-len(few) * TIE_DIRECT * len(all_weight) * 8 // BATCH_BYTES) or 1):
            if not len(part):
                continue
            at, member = np.nonzero(at_top[part])
            row = part[at]
            vals = score_out[row, member][:, None]
            om = (count_weighted(score_out[row] < vals) + (count_weighted(score_out[row] == vals) + 1.0) / 2.0) \
                / (n_strat + 1.0)
            lam_t = np.log(om / (1.0 - om))
            w = all_weight[member]
            total = np.bincount(at, weights=w, minlength=len(part))
            lam[part] = np.bincount(at, weights=w * lam_t, minlength=len(part)) / total
            share[part] = np.bincount(at, weights=w * (lam_t <= 0), minlength=len(part)) / total
            oos_sr[part] = np.bincount(at, weights=w * _sharpe_of_score(vals[:, 0], n), minlength=len(part)) / total
        # ... many (e.g. every strategy flat in-sample): sorted ranks, one split at a time
        for r in np.flatnonzero(size > TIE_DIRECT):
            members = np.nonzero(at_top[r])[0]
            w = all_weight[members]
            lam_t = np.log((om := ranks(score_out[r], score_out[r, members])) / (1.0 - om))
            lam[r] = np.average(lam_t, weights=w)
            share[r] = np.average(lam_t <= 0, weights=w)
            oos_sr[r] = np.average(_sharpe_of_score(score_out[r, members], n), weights=w)
        logits[way].append(lam)
        overfit_share[way].append(share)
        is_best[way].append(is_sr)
        oos_best[way].append(oos_sr)

    # sums over any set of blocks = one lookup per group of blocks in tables of subset sums;
    # memory stays bounded as N grows: tables only while they fit TABLE_BYTES, else the
    # half sums come from one product per batch, and batches shrink with N
    # tables of 8 blocks' subset sums pay for themselves over many splits; for a sampled few,
    # 4 blocks' (16 rows, cheap to build, in cache) are faster (measured: 12 vs 15 ms, 1,000 x 800)
    sizes = (8, 4) if len(masks) > 2_000 else (4,)
    group = next((g for g in sizes if (-(-s // g)) * (1 << g) * len(reps) * 16 <= TABLE_BYTES), 0)
    group = min(group, s)
    per_split = 8 * max(1, len(reps))  # one split's scores
    batch = max(1, min(batch, max(CACHE_BYTES // per_split, min(8, BATCH_BYTES // per_split))))
    tables = [(_subset_sums(sums, range(g, min(g + group, s))), _subset_sums(sqs, range(g, min(g + group, s))))
              for g in range(0, s, group)] if group else []
    full = (1 << s) - 1
    bits = np.arange(s, dtype=np.int64)

    def half_sums(m: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        if not group:
            sel = ((m[:, None] >> bits) & 1).astype(float)
            return sel @ sums.T, sel @ sqs.T
        tot = tsq = None
        for i, (t_sum, t_sq) in enumerate(tables):
            sub = (m >> (i * group)) & ((1 << group) - 1)
            tot = t_sum[sub] if tot is None else tot + t_sum[sub]
            tsq = t_sq[sub] if tsq is None else tsq + t_sq[sub]
        return tot, tsq

    for start in range(0, len(masks), batch):
        m = masks[start:start + batch]
        score_a = _score(*half_sums(m), n)
        score_b = _score(*half_sums(full ^ m), n)
        one_way(score_a, score_b, 0)
        one_way(score_b, score_a, 1)
    lam = np.concatenate([*logits[0], *logits[1]])
    x, y = np.concatenate([*is_best[0], *is_best[1]]), np.concatenate([*oos_best[0], *oos_best[1]])
    if np.ptp(x) > 0:
        slope, intercept = np.polyfit(x, y, 1)
    else:
        slope, intercept = float("nan"), float(np.mean(y))
    return PBOResult(value=float(np.mean(np.concatenate([*overfit_share[0], *overfit_share[1]]))), blocks=s, splits=len(lam),
                     block_sessions=block_sessions,
                     trials=n_strat, logit_mean=float(np.mean(lam)), prob_oos_loss=float(np.mean(y < 0)),
                     degradation_slope=float(slope), degradation_intercept=float(intercept),
                     splits_possible=possible, sampling=sampling)


def pbo_from_returns(returns: np.ndarray, blocks: int = 16) -> PBOResult:
    """PBO of an ``N x T`` return matrix (one row per strategy)."""
    sums, sqs = block_stats(returns, blocks)
    return pbo_cscv(sums, sqs, block_bounds(np.atleast_2d(returns).shape[1], blocks)[1])
