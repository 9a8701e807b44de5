"""Estimation and abnormal returns for many day-0 positions at once (numpy, no loops).

A return model is a linear regression ``y = X @ theta + e`` fitted by OLS on the
estimation window ``[d0 - gap - L, d0 - gap - 1]`` (sessions flagged 0 in the weights are
dropped: other catalysts' windows, missing data). Everything the inference needs comes
from the window sums ``S = sum w z z'`` of ``z = (X, y)``:

* ``theta = Sxx^-1 Sxy``, ``SSR = Syy - theta' Sxy``, ``sigma^2 = SSR / (n - k)``;
* abnormal returns ``AR_t = y_t - X_t theta`` on the event days;
* a CAR over ``L`` days has prediction-error variance
  ``sigma^2 (L + v' Sxx^-1 v)`` with ``v = sum_t X_t`` over the window — exactly the
  variance of the sum of event-day dummies in the regression on estimation + event
  sessions (the statsmodels cross-check in the tests).

The same functions serve the catalysts (one day 0 each, own mask) and the placebo (every
session as day 0), so the placebo statistic is computed exactly as the real one.

Closure-adjusted variance: a session that follows a closure of the listing's market while
the firm traded elsewhere (9988.HK on the first session after Lunar New Year, while BABA
traded in New York) carries several sessions of firm news. With ``scale_t`` the number of
the firm's sessions it spans relative to a normal one (see
:func:`backtests.event_study.listing.closure_scale`), the adjusted prediction-error
variance is ``sigma^2 (sum_t scale_t + v' Sxx^-1 v)``; ``t_adj = CAR / se_adj`` equals
``t`` when no such session is in the window. The textbook ``se``/``t`` are kept as they
are (they match the dummy-variable regression exactly).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Sxx whose condition number exceeds this is treated as singular (e.g. a flat benchmark).
_MAX_CONDITION = 1e12


def gather(values: np.ndarray, starts: np.ndarray, length: int,
           ok: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """``values[s : s + length]`` for every ``s`` in ``starts`` (rows outside are zeroed).

    Returns
    -------
    (block, inside)
        ``block`` has shape ``(len(starts), length) + values.shape[1:]`` with NaN replaced by
        0 where a position is outside ``values`` or ``ok`` is False; ``inside`` flags the
        positions that are inside and ``ok``.
    """
    idx = np.asarray(starts, dtype=np.int64)[:, None] + np.arange(length, dtype=np.int64)
    n = len(values)
    inside = (idx >= 0) & (idx < n)
    safe = np.clip(idx, 0, max(n - 1, 0))
    if ok is not None and n:
        inside &= ok[safe]
    block = values[safe] if n else np.zeros(idx.shape + values.shape[1:])
    mask = inside.reshape(inside.shape + (1,) * (block.ndim - 2))
    block = np.where(mask, np.nan_to_num(block, nan=0.0), 0.0)
    return block, inside


@dataclass(frozen=True, kw_only=True)
class Fits:
    """OLS fits, one per estimation window (arrays over windows ``m``).

    Attributes
    ----------
    theta
        ``(m, k)`` parameters.
    sigma2
        ``(m,)`` residual variance ``SSR / (n - k)``.
    n, df
        ``(m,)`` usable sessions and residual degrees of freedom ``n - k``.
    sxx_inv
        ``(m, k, k)`` inverse of ``X'X``.
    ok
        ``(m,)`` fit usable: enough sessions, ``X'X`` well conditioned, ``sigma2 > 0``.
    first, last
        ``(m,)`` positions of the first and last usable estimation session (-1 if none).
    starts, use
        ``(m,)`` first position of each window and ``(m, L)`` which of its sessions were used.
    """

    theta: np.ndarray
    sigma2: np.ndarray
    n: np.ndarray
    df: np.ndarray
    sxx_inv: np.ndarray
    ok: np.ndarray
    first: np.ndarray
    last: np.ndarray
    starts: np.ndarray
    use: np.ndarray

    def positions(self, i: int) -> np.ndarray:
        """Positions of the sessions fit ``i`` was estimated on, ascending."""
        return self.starts[i] + np.flatnonzero(self.use[i])


def fit_windows(y: np.ndarray, X: np.ndarray, weights: np.ndarray, ends: np.ndarray, length: int,
                min_sessions: int) -> Fits:
    """Fit ``y ~ X`` on ``[end - length, end - 1]`` for every ``end`` in ``ends``.

    Parameters
    ----------
    y, X
        ``(N,)`` and ``(N, k)``; NaN allowed where ``weights`` is 0.
    weights
        ``(N,)`` shared by all windows, or ``(m, N)`` one row per window; 1 = use.
    ends
        ``(m,)`` exclusive end positions (``d0 - gap``).
    length
        Estimation window length ``L``.
    min_sessions
        Fits with fewer usable sessions are flagged not ``ok``.
    """
    ends = np.asarray(ends, dtype=np.int64)
    m, k = len(ends), X.shape[1]
    z = np.column_stack([X, y])
    starts = ends - length
    w = weights.astype(bool)
    if w.ndim == 1:
        S, n, use = _shared_window_sums(z, w, starts, length)
    else:
        block, inside = gather(z, starts, length)
        idx = np.clip(starts[:, None] + np.arange(length), 0, max(len(y) - 1, 0))
        use = inside & np.take_along_axis(w, idx, axis=1)
        if len(y):
            use &= np.isfinite(z[idx]).all(axis=2)
        block = np.where(use[..., None], block, 0.0)
        S = np.einsum("mlp,mlq->mpq", block, block)
        n = use.sum(axis=1)
    sxx, sxy, syy = S[:, :k, :k], S[:, :k, k], S[:, k, k]
    theta = np.full((m, k), np.nan)
    sxx_inv = np.full((m, k, k), np.nan)
    ok = n >= max(min_sessions, k + 2)
    if k:
        cond = np.full(m, np.inf)
        if ok.any():
            cond[ok] = np.linalg.cond(sxx[ok])
        ok &= cond < _MAX_CONDITION
        if ok.any():
            sxx_inv[ok] = np.linalg.inv(sxx[ok])
            theta[ok] = np.linalg.solve(sxx[ok], sxy[ok][..., None])[..., 0]
    ssr = syy - np.einsum("mk,mk->m", np.nan_to_num(theta), sxy)
    df = n - k
    with np.errstate(invalid="ignore", divide="ignore"):
        sigma2 = np.where(ok, ssr / np.maximum(df, 1), np.nan)
    ok &= sigma2 > 0
    has = use.any(axis=1)
    pos = starts[:, None] + np.arange(length)
    first = np.where(has, np.where(use, pos, np.iinfo(np.int64).max).min(axis=1), -1)
    last = np.where(has, np.where(use, pos, -1).max(axis=1), -1)
    return Fits(theta=theta, sigma2=sigma2, n=n, df=df, sxx_inv=sxx_inv, ok=ok, first=first, last=last,
                starts=starts, use=use)


def _shared_window_sums(z: np.ndarray, w: np.ndarray, starts: np.ndarray, length: int
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``sum z z'`` and the count over ``[start, start + length)`` for every start, with one
    mask ``w`` for all windows: differences of running sums, ``O(N k^2)`` instead of
    ``O(m L k^2)`` (the placebo fits every session, so ``m = N``)."""
    n_obs = len(z)
    ok = w & np.isfinite(z).all(axis=1) if n_obs else w
    zm = np.where(ok[:, None], np.nan_to_num(z), 0.0)
    cum = np.concatenate([np.zeros((1, z.shape[1], z.shape[1])), np.cumsum(zm[:, :, None] * zm[:, None, :], axis=0)])
    count = np.concatenate([[0], np.cumsum(ok)])
    lo, hi = np.clip(starts, 0, n_obs), np.clip(starts + length, 0, n_obs)
    idx = starts[:, None] + np.arange(length)
    inside = (idx >= 0) & (idx < n_obs)
    use = inside & ok[np.clip(idx, 0, max(n_obs - 1, 0))] if n_obs else inside
    return cum[hi] - cum[lo], count[hi] - count[lo], use


@dataclass(frozen=True, kw_only=True)
class Paths:
    """Abnormal returns of every day ``span[0]..span[1]`` around each day 0.

    Attributes
    ----------
    ar
        ``(m, R)`` abnormal returns (NaN where the day has no usable data).
    X
        ``(m, R, k)`` regressors on those days (0 where unusable).
    ok
        ``(m, R)`` day usable.
    scale
        ``(m, R)`` closure variance scale of each day (1 = a normal session).
    """

    ar: np.ndarray
    X: np.ndarray
    ok: np.ndarray
    scale: np.ndarray


def event_paths(y: np.ndarray, X: np.ndarray, valid: np.ndarray, day0: np.ndarray,
                span: tuple[int, int], fits: Fits, scale: np.ndarray | None = None) -> Paths:
    """Abnormal returns ``y - X theta`` on days ``span`` around each ``day0`` (``scale``:
    per-session closure variance scale, default 1)."""
    length = span[1] - span[0] + 1
    starts = np.asarray(day0, dtype=np.int64) + span[0]
    yb, ok = gather(y, starts, length, valid)
    Xb, _ = gather(X, starts, length, valid)
    sb, _ = gather(np.ones(len(y)) if scale is None else scale, starts, length)
    ar = yb - np.einsum("mrk,mk->mr", Xb, np.nan_to_num(fits.theta))
    ar = np.where(ok & fits.ok[:, None], ar, np.nan)
    return Paths(ar=ar, X=Xb, ok=ok, scale=np.where(ok, sb, 1.0))


@dataclass(frozen=True, kw_only=True)
class WindowStats:
    """CAR and its estimation-residual t statistic for one window, per day 0 (arrays ``(m,)``).

    ``scale`` is the mean closure variance scale of the window's days, ``se_adj``/``t_adj``
    the closure-adjusted standard error and t (equal to ``se``/``t`` when ``scale == 1``).
    """

    car: np.ndarray
    se: np.ndarray
    t: np.ndarray
    complete: np.ndarray
    scale: np.ndarray
    se_adj: np.ndarray
    t_adj: np.ndarray


def window_stats(paths: Paths, fits: Fits, span: tuple[int, int], window: tuple[int, int]) -> WindowStats:
    """CAR over ``window`` (inside ``span``) with ``se = sigma sqrt(L + v' Sxx^-1 v)``."""
    lo, hi = window[0] - span[0], window[1] - span[0] + 1
    length = hi - lo
    complete = paths.ok[:, lo:hi].all(axis=1) & fits.ok
    car = np.where(complete, np.nan_to_num(paths.ar[:, lo:hi]).sum(axis=1), np.nan)
    v = paths.X[:, lo:hi, :].sum(axis=1)
    quad = np.einsum("mk,mkl,ml->m", v, np.nan_to_num(fits.sxx_inv), v) if v.shape[1] else np.zeros(len(car))
    total = paths.scale[:, lo:hi].sum(axis=1)
    with np.errstate(invalid="ignore"):
        se = np.where(complete, np.sqrt(fits.sigma2 * (length + quad)), np.nan)
        t = car / se
        se_adj = np.where(complete, np.sqrt(fits.sigma2 * (total + quad)), np.nan)
        t_adj = car / se_adj
    return WindowStats(car=car, se=se, t=t, complete=complete, scale=total / length, se_adj=se_adj, t_adj=t_adj)


def take_fit(fits: Fits, rows: np.ndarray) -> Fits:
    """The fits of ``rows`` only (same fields, first axis indexed)."""
    return Fits(**{name: getattr(fits, name)[rows] for name in Fits.__dataclass_fields__})


def estimation_residuals(y: np.ndarray, X: np.ndarray, fits: Fits, i: int) -> np.ndarray:
    """Residuals of fit ``i`` on its estimation sessions, in time order."""
    pos = fits.positions(i)
    return y[pos] - X[pos] @ np.nan_to_num(fits.theta[i])
