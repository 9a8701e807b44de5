"""Cross-sectional event study: many firms sharing one event day (event-date clustering).

When a catalyst (or a narrative: a set of catalysts) reaches several firms on one exchange
clock, every firm has the same day 0, so their abnormal returns share that day's common
shock: tests that treat firms as independent evidence over-reject. Everything here works
on plain arrays of firms on one session clock (:class:`FirmSeries`), so the study
(:mod:`.cross_section_study`), the size benchmark and the tests call the same code.

A *pattern* is one or more day-0 positions ``d_1 <= ... <= d_K`` (one per catalyst of a
narrative; ``K = 1`` for a catalyst) and a window ``[a, b]``. Its event statistic is the
weighted sum ``sum_t c_t AR_t`` with ``c_t = (1/K) #{k : d_k + a <= t <= d_k + b}``: the
mean over the catalysts of their CARs (overlapping windows count their shared sessions
once per window, and the variance below counts them the same way). Every fit uses the
estimation window ``[d_1 - gap - L, d_1 - gap - 1]`` before the *first* day 0, dropping
sessions inside any catalyst's span (:attr:`EventStudySpec.span`) and sessions without data.

Tests (two-sided p-values)
--------------------------
* **Calendar-time portfolio** (``p_port_t``, ``p_port_placebo``): the equal-weighted
  portfolio of the firms' returns, regressed on the union of their regressors (one
  intercept, each benchmark column once; with one common benchmark the portfolio's
  abnormal return is exactly the mean of the firms'), is one series, so the cross-
  correlation sits inside its residual variance. ``t = sum c AR / (sigma sqrt(c'c + v'
  Sxx^-1 v))`` (Student t, ``n - k`` df) and the single-series placebo: the same pattern
  shifted to every session where it, its estimation window and its spans are clear of all
  catalysts, re-estimated each time; ``p = (1 + #{|t*| >= |t|}) / (1 + n)``.
* **BMP with the Kolari-Pynnönen adjustment** (``p_bmp_kp``): firm ``i``'s standardised
  CAR is its own residual t statistic ``SCAR_i``; ``t_BMP = mean(SCAR) sqrt(N) / sd(SCAR)``
  (Boehmer, Musumeci & Poulsen 1991), times ``sqrt((1 - r) / (1 + (N - 1) r))`` with ``r``
  the mean pairwise correlation of the firms' estimation-window residuals on their common
  sessions (Kolari & Pynnönen 2010); Student t with ``N - 1`` df.
* **Generalised rank test GRANK-T** (``p_grank``; Kolari & Pynnönen 2011): per firm, the
  estimation residuals divided by their sigma plus the event's ``SCAR_i`` as one more
  observation are ranked, ``U = rank / (T_i + 1) - 1/2``; the cross-sectional mean rank of
  the event is compared with the time series of mean ranks over the estimation sessions,
  whose variance carries the cross-correlation. ``SCAR_i`` is *not* divided by its cross-
  sectional standard deviation (the paper's correction for event-induced variance): when
  firms share the event day that spread shrinks with the correlation and the rescaling
  makes the event observation too extreme (``benchmarks/cross_section_size.py`` shows it).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import stats

from backtests.event_study.models import Fits, fit_windows, gather
from backtests.event_study.spec import EventStudySpec, Window

#: Fewest sessions shared by every firm's estimation window for the residual correlation.
MIN_COMMON_SESSIONS = 20


@dataclass(frozen=True, kw_only=True, slots=True)
class FirmSeries:
    """One firm on the panel's clock (arrays of length ``T``, session positions shared).

    Attributes
    ----------
    firm, listing
        Issuer id and the listing that represents it.
    y, X
        Dependent variable and regressors of its return model (``(T,)``, ``(T, k)``),
        as :class:`~backtests.event_study.returns.Design` builds them.
    columns
        A key per column of ``X`` naming what it is (``"alpha"``, ``"HSTECH:beta"``):
        equal keys are the same regressor, so the portfolio uses it once.
    valid
        ``(T,)`` session usable (return and benchmark present).
    zone
        ``(T,)`` how many of *this firm's* catalysts' spans cover each session.
    """

    firm: str
    listing: str
    y: np.ndarray
    X: np.ndarray
    columns: tuple[str, ...]
    valid: np.ndarray
    zone: np.ndarray


@dataclass(frozen=True, kw_only=True, slots=True)
class PatternResult:
    """Tests of one pattern x window (fractions; NaN where a test cannot speak)."""

    n_firms: int
    firms: tuple[str, ...]
    caar: float
    firm_cars: tuple[float, ...]
    firm_t: tuple[float, ...]
    n_positive: int
    port_car: float = float("nan")
    port_se: float = float("nan")
    port_t: float = float("nan")
    port_df: int = 0
    p_port_t: float = float("nan")
    p_port_placebo: float = float("nan")
    n_placebo_sessions: int = 0
    bmp_t: float = float("nan")
    rbar: float = float("nan")
    bmp_kp_t: float = float("nan")
    p_bmp_kp: float = float("nan")
    grank_t: float = float("nan")
    p_grank: float = float("nan")
    n_est: int = 0
    est_first: int = -1
    est_last: int = -1
    notes: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class PatternPath:
    """Mean abnormal return of the firms on every day of the pattern's extent, with the
    placebo band of its cumulative sum (quantiles of the portfolio's placebo paths scaled
    to the event's portfolio sigma)."""

    rel_days: np.ndarray
    mean_ar: np.ndarray
    bands: np.ndarray  # (len(quantiles), R)


def weights_vector(offsets: Sequence[int], window: Window, lo: int, length: int) -> np.ndarray:
    """``c`` over relative days ``lo .. lo + length - 1``: the mean over catalysts of their
    window indicators (see the module doc)."""
    rel = lo + np.arange(length)
    c = np.zeros(length)
    for o in offsets:
        c += (rel >= o + window[0]) & (rel <= o + window[1])
    return c / len(offsets)


def _weighted(y: np.ndarray, X: np.ndarray, valid: np.ndarray, fits: Fits, anchors: np.ndarray, lo: int,
              length: int, c: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """ARs over the extent and, for weights ``c``: statistic, its se and completeness per anchor."""
    yb, ok = gather(y, anchors + lo, length, valid)
    Xb, _ = gather(X, anchors + lo, length, valid)
    ar = np.where(ok & fits.ok[:, None], yb - np.einsum("mrk,mk->mr", Xb, np.nan_to_num(fits.theta)), np.nan)
    need = c > 0
    complete = fits.ok & ok[:, need].all(axis=1)
    stat = np.where(complete, np.nan_to_num(ar[:, need]) @ c[need], np.nan)
    v = np.einsum("mrk,r->mk", Xb, c)
    quad = np.einsum("mk,mkl,ml->m", v, np.nan_to_num(fits.sxx_inv), v) if X.shape[1] else np.zeros(len(anchors))
    with np.errstate(invalid="ignore"):
        se = np.where(complete, np.sqrt(fits.sigma2 * (float(c @ c) + quad)), np.nan)
    return ar, stat, se, complete


def portfolio(firms: Sequence[FirmSeries]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(y, X, valid)`` of the equal-weighted portfolio: mean ``y``, the union of the
    firms' regressor columns (each key once), valid where every firm is."""
    valid = np.logical_and.reduce([f.valid for f in firms])
    y = np.mean([f.y for f in firms], axis=0)
    cols: dict[str, np.ndarray] = {}
    for f in firms:
        for j, key in enumerate(f.columns):
            cols.setdefault(key, f.X[:, j])
    X = np.column_stack(list(cols.values())) if cols else np.empty((len(y), 0))
    valid = valid & np.isfinite(X).all(axis=1) & np.isfinite(y)
    return y, X, valid


def _residuals(f: FirmSeries, fits: Fits) -> tuple[np.ndarray, np.ndarray]:
    pos = fits.positions(0)
    return pos, f.y[pos] - f.X[pos] @ np.nan_to_num(fits.theta[0])


def mean_correlation(residuals: Sequence[tuple[np.ndarray, np.ndarray]]) -> tuple[float, int]:
    """Mean pairwise correlation of residual series on the sessions they all share, and
    that count (NaN when fewer than :data:`MIN_COMMON_SESSIONS`)."""
    common = residuals[0][0]
    for pos, _ in residuals[1:]:
        common = np.intersect1d(common, pos)
    if len(common) < MIN_COMMON_SESSIONS or len(residuals) < 2:
        return float("nan"), int(len(common))
    mat = np.vstack([e[np.searchsorted(pos, common)] for pos, e in residuals])
    rho = np.corrcoef(mat)
    return float(np.mean(rho[np.triu_indices(len(residuals), 1)])), int(len(common))


def bmp_kp(scar: np.ndarray, rbar: float) -> tuple[float, float, float]:
    """``(t_BMP, t_BMP-KP, p)`` of standardised CARs ``scar`` given mean correlation ``rbar``."""
    n = len(scar)
    sd = float(np.std(scar, ddof=1)) if n >= 2 else float("nan")
    if n < 2 or not sd > 0:
        return float("nan"), float("nan"), float("nan")
    t = float(np.mean(scar) * np.sqrt(n) / sd)
    denom = 1.0 + (n - 1) * rbar
    if not np.isfinite(rbar) or denom <= 0:
        return t, float("nan"), float("nan")
    t_kp = t * float(np.sqrt((1.0 - rbar) / denom))
    return t, t_kp, float(2.0 * stats.t.sf(abs(t_kp), n - 1))


def grank(scar: np.ndarray, residuals: Sequence[tuple[np.ndarray, np.ndarray]],
          sigmas: np.ndarray) -> tuple[float, float]:
    """GRANK-T statistic and p-value (module doc) from each firm's ``(positions, residuals)``."""
    n = len(scar)
    if n < 2:
        return float("nan"), float("nan")
    times = np.unique(np.concatenate([pos for pos, _ in residuals]))
    T = len(times) + 1                        # estimation sessions + the event observation
    u = np.full((n, T), np.nan)
    for i, ((pos, e), s) in enumerate(zip(residuals, sigmas)):
        obs = np.r_[e / s, scar[i]]
        ranks = stats.rankdata(obs) / (len(obs) + 1) - 0.5
        u[i, np.searchsorted(times, pos)] = ranks[:-1]
        u[i, -1] = ranks[-1]
    n_t = np.isfinite(u).sum(axis=0)
    ubar = np.where(n_t > 0, np.nansum(u, axis=0) / np.maximum(n_t, 1), 0.0)
    s2 = float(np.sum(n_t / n * ubar ** 2) / T)
    if T < 3 or not s2 > 0:
        return float("nan"), float("nan")
    z = ubar[-1] / np.sqrt(s2)
    t = float(z * np.sqrt((T - 2) / (T - 1 - z ** 2)))
    return t, float(2.0 * stats.t.sf(abs(t), T - 2))


@dataclass(kw_only=True)
class _Portfolio:
    """Portfolio fits at every anchor (the event's and the placebo's) for one firm set."""

    y: np.ndarray
    X: np.ndarray
    valid: np.ndarray
    fits: Fits
    eligible: np.ndarray
    std_paths: np.ndarray = field(default_factory=lambda: np.empty((0, 0)))


def analyse_pattern(firms: Sequence[FirmSeries], zone: np.ndarray, day0: Sequence[int],
                    spec: EventStudySpec, quantiles: Sequence[float] = ()) -> tuple[dict[Window, PatternResult],
                                                                                    PatternPath | None]:
    """Every test of one pattern for each of ``spec.windows`` (see the module doc).

    Parameters
    ----------
    firms
        The firms (one listing each) on one clock.
    zone
        ``(T,)`` coverage of every catalyst's span on this clock (masks estimation windows
        and keeps placebo patterns clear of catalysts).
    day0
        The pattern's day-0 positions on the clock.
    spec
        Windows, estimation design.
    quantiles
        Placebo band quantiles of the CAAR path (empty: no band).

    Returns
    -------
    (results, path)
        One :class:`PatternResult` per window; the mean-AR path over the extent (``None``
        when no firm could be fitted).
    """
    day0 = np.sort(np.asarray(day0, dtype=np.int64))
    offsets = day0 - day0[0]
    span = spec.span
    lo, length = span[0], int(offsets[-1]) + span[1] - span[0] + 1
    gap, est_len = spec.gap_sessions, spec.estimation_sessions
    anchor = np.array([day0[0]])
    fitted: list[tuple[FirmSeries, Fits]] = []
    dropped: list[str] = []
    for f in firms:
        fits = fit_windows(f.y, f.X, f.valid & (f.zone == 0), anchor - gap, est_len, spec.min_estimation_sessions)
        if fits.ok[0]:
            fitted.append((f, fits))
        else:
            dropped.append(f.listing)
    ports: dict[tuple[str, ...], _Portfolio] = {}
    results: dict[Window, PatternResult] = {}
    for w in spec.windows:
        c = weights_vector(offsets, w, lo, length)
        rows = []
        for f, fits in fitted:
            _, stat, se, complete = _weighted(f.y, f.X, f.valid, fits, anchor, lo, length, c)
            if complete[0]:
                rows.append((f, fits, float(stat[0]), float(se[0])))
        notes = [f"{s}: estimation window too short or singular; left out" for s in dropped]
        notes += [f"{f.listing}: no return on some day of the window; left out"
                  for f, _ in fitted if f.listing not in {r[0].listing for r in rows}]
        cars = np.array([r[2] for r in rows])
        scar = np.array([r[2] / r[3] for r in rows])
        res: dict = {"n_firms": len(rows), "firms": tuple(r[0].firm for r in rows),
                     "caar": float(cars.mean()) if len(rows) else float("nan"),
                     "firm_cars": tuple(float(v) for v in cars), "firm_t": tuple(float(v) for v in scar),
                     "n_positive": int(np.count_nonzero(cars > 0))}
        if len(rows) < 2:
            notes.append(f"{len(rows)} firm(s) with a CAR; cross-sectional tests need at least 2")
            results[w] = PatternResult(**res, notes=tuple(notes))
            continue
        key = tuple(r[0].listing for r in rows)
        if key not in ports:
            ports[key] = _portfolio_fits(rows, zone, offsets, spec, lo, length)
        port = ports[key]
        _, stat, se, complete = _weighted(port.y, port.X, port.valid, port.fits, np.arange(len(port.y)), lo,
                                          length, c)
        i0 = int(day0[0])
        if complete[i0]:
            t_all = stat / se
            null = t_all[port.eligible & complete]
            t0 = float(t_all[i0])
            df = int(port.fits.df[i0])
            res.update(port_car=float(stat[i0]), port_se=float(se[i0]), port_t=t0, port_df=df,
                       p_port_t=float(2.0 * stats.t.sf(abs(t0), df)), n_placebo_sessions=int(len(null)))
            if len(null) >= spec.min_placebo_sessions:
                res["p_port_placebo"] = float((1 + np.count_nonzero(np.abs(null) >= abs(t0))) / (1 + len(null)))
            else:
                notes.append(f"only {len(null)} placebo session(s) (< min_placebo_sessions = "
                             f"{spec.min_placebo_sessions}); no portfolio placebo p-value")
        else:
            notes.append("the portfolio has no return on some day of the window or estimation window")
        resid = [_residuals(r[0], r[1]) for r in rows]
        rbar, n_common = mean_correlation(resid)
        if not np.isfinite(rbar):
            notes.append(f"only {n_common} estimation session(s) shared by every firm (< {MIN_COMMON_SESSIONS}); "
                         f"no residual correlation, no BMP-KP")
        res["bmp_t"], res["bmp_kp_t"], res["p_bmp_kp"] = bmp_kp(scar, rbar)
        res["rbar"] = rbar
        res["grank_t"], res["p_grank"] = grank(scar, resid, np.sqrt([r[1].sigma2[0] for r in rows]))
        pf = port.fits
        res.update(n_est=int(pf.n[i0]), est_first=int(pf.first[i0]), est_last=int(pf.last[i0]))
        results[w] = PatternResult(**res, notes=tuple(notes))
    path = None
    if fitted:
        ars = [_weighted(f.y, f.X, f.valid, fits, anchor, lo, length, np.ones(length))[0][0] for f, fits in fitted]
        bands = np.full((len(quantiles), length), np.nan)
        port = ports.get(tuple(f.listing for f, _ in fitted)) or (
            _portfolio_fits([(f, fits, 0.0, 1.0) for f, fits in fitted], zone, offsets, spec, lo, length)
            if len(fitted) >= 2 else None)
        if port is not None and len(quantiles) and port.eligible.any() and port.fits.ok[day0[0]]:
            sigma = float(np.sqrt(port.fits.sigma2[day0[0]]))
            bands = np.nanquantile(port.std_paths[port.eligible], list(quantiles), axis=0) * sigma
        path = PatternPath(rel_days=lo + np.arange(length), mean_ar=np.nanmean(np.vstack(ars), axis=0), bands=bands)
    return results, path


def _portfolio_fits(rows: Sequence[tuple], zone: np.ndarray, offsets: np.ndarray, spec: EventStudySpec,
                    lo: int, length: int) -> _Portfolio:
    """Fits of the firms' portfolio with every session as the first day 0, and which of
    those anchors may serve as placebo (pattern and spans clear of every catalyst)."""
    y, X, valid = portfolio([r[0] for r in rows])
    n = len(y)
    every = np.arange(n)
    fits = fit_windows(y, X, valid & (zone == 0), every - spec.gap_sessions, spec.estimation_sessions,
                       spec.min_estimation_sessions)
    clear = np.ones(n, dtype=bool)
    span_len = spec.span[1] - spec.span[0] + 1
    for o in offsets:
        block, inside = gather((zone == 0).astype(float), every + o + spec.span[0], span_len, valid)
        clear &= inside.all(axis=1) & (block.sum(axis=1) == span_len)
    ar, _, _, _ = _weighted(y, X, valid, fits, every, lo, length, np.ones(length))
    with np.errstate(invalid="ignore"):
        std_paths = np.cumsum(ar, axis=1) / np.sqrt(fits.sigma2)[:, None]
    eligible = clear & fits.ok & np.isfinite(std_paths).all(axis=1)
    return _Portfolio(y=y, X=X, valid=valid, fits=fits, eligible=eligible, std_paths=std_paths)
