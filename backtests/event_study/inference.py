"""Tests that fit one firm, two listings and a handful of events.

Per catalyst x listing x window
    * ``p_t``: the estimation-residual t test, ``t = CAR / se`` with the OLS prediction
      error variance, Student t with ``n - k`` degrees of freedom (exact under normal iid
      errors).
    * ``p_placebo``: the same statistic recomputed with day 0 on non-event sessions
      (re-estimated each time, same masks), ``placebo_draws`` seeded draws;
      ``p = (1 + #{|t*| >= |t|}) / (1 + draws)``. Free of the normality assumption; its
      resolution is limited by the number of distinct eligible sessions (reported).
    * ``p_sq``: the sample-quantile test of Gelbach, Helland & Klick (2013) for single-firm
      studies: the CAR against the empirical distribution of sums of ``L`` consecutive
      estimation residuals (gaps closed up), two-sided rank p-value
      ``min(1, 2 (1 + #more extreme on the nearer side) / (m + 1))``.
    * ``p_rank``: Wilcoxon-Mann-Whitney rank test of the window's abnormal returns against
      the estimation residuals (Corrado's single-firm rank test for ``L = 1``); valid for a
      single firm when residuals are exchangeable.

Across catalysts (per listing x window)
    * generalized sign test (Cowan 1992): positive CARs against the estimation-period
      share of positive ``L``-sums. Reported only when the catalysts' windows do not
      overlap — overlapping windows share sessions and are not independent trials.

Multiple testing
    Holm (family-wise) and Benjamini-Hochberg (false discovery rate) over every
    catalyst x listing x window row with a p-value (``statsmodels.stats.multitest``). Holm
    holds under any dependence; BH assumes positive dependence, which correlated listings
    and nested windows satisfy.

Two listings, one firm
    9988.HK and BABA are claims on the same shares, so their abnormal returns are not
    independent evidence. The joint statistic is the mean of the listings' t statistics;
    its placebo draws *matched* non-event instants (a draw is an instant just after some
    session close; each listing's placebo day 0 is its first session closing after it,
    the schedule's rule), so the null distribution carries the listings' true
    correlation. A parametric companion divides the sum of the t statistics by
    ``sqrt(sum_ij rho_ij)`` with ``rho`` their correlation over the matched placebo
    sessions (Stouffer with a correlation adjustment); assuming independence would
    overstate the evidence by up to ``sqrt(2)``.
"""

from __future__ import annotations

import numpy as np
from scipy import stats
from statsmodels.stats.multitest import multipletests


def t_pvalues(t: np.ndarray, df: np.ndarray) -> np.ndarray:
    """Two-sided Student-t p-values (NaN where ``t`` is NaN)."""
    t = np.asarray(t, dtype=float)
    df = np.asarray(df, dtype=float)
    with np.errstate(invalid="ignore"):
        return np.where(np.isfinite(t) & (df > 0), 2.0 * stats.t.sf(np.abs(t), np.maximum(df, 1)), np.nan)


def placebo_pvalue(observed: float, null: np.ndarray) -> float:
    """Two-sided empirical p-value ``(1 + #{|null| >= |observed|}) / (1 + len(null))``."""
    if not np.isfinite(observed) or len(null) == 0:
        return float("nan")
    return float((1 + np.count_nonzero(np.abs(null) >= abs(observed))) / (1 + len(null)))


def rolling_sums(values: np.ndarray, length: int) -> np.ndarray:
    """Sums of ``length`` consecutive values (empty when too few)."""
    if len(values) < length:
        return np.empty(0)
    c = np.concatenate([[0.0], np.cumsum(values)])
    return c[length:] - c[:-length]


def sq_pvalue(car: float, residuals: np.ndarray, length: int) -> float:
    """Sample-quantile (GHK 2013) two-sided p-value of ``car`` against ``length``-sums of residuals."""
    sums = rolling_sums(residuals, length)
    if not np.isfinite(car) or len(sums) == 0:
        return float("nan")
    below = np.count_nonzero(sums <= car)
    above = np.count_nonzero(sums >= car)
    return float(min(1.0, 2.0 * (1 + min(below, above)) / (len(sums) + 1)))


def rank_pvalue(window_ars: np.ndarray, residuals: np.ndarray) -> float:
    """Two-sided Wilcoxon-Mann-Whitney p-value of event-window ARs vs estimation residuals."""
    if len(window_ars) == 0 or not np.isfinite(window_ars).all() or len(residuals) < 2:
        return float("nan")
    return float(stats.mannwhitneyu(window_ars, residuals, alternative="two-sided").pvalue)


def sign_test(cars: np.ndarray, p_positive: float) -> float:
    """Generalized sign test: two-sided binomial p of #positive CARs given ``p_positive``."""
    cars = np.asarray(cars, dtype=float)
    if len(cars) == 0 or not 0.0 < p_positive < 1.0:
        return float("nan")
    return float(stats.binomtest(int(np.count_nonzero(cars > 0)), len(cars), p_positive).pvalue)


def adjust_pvalues(p: np.ndarray, method: str) -> np.ndarray:
    """Holm (``"holm"``) or Benjamini-Hochberg (``"fdr_bh"``) adjusted p-values; NaN stays NaN."""
    p = np.asarray(p, dtype=float)
    out = np.full(len(p), np.nan)
    ok = np.isfinite(p)
    if ok.any():
        out[ok] = multipletests(p[ok], method=method)[1]
    return out


def correlated_stouffer(t: np.ndarray, rho: np.ndarray) -> tuple[float, float]:
    """``Z = sum t / sqrt(sum_ij rho_ij)`` and its two-sided normal p-value."""
    denom = float(np.sum(rho))
    if not np.isfinite(t).all() or not np.isfinite(denom) or denom <= 0:
        return float("nan"), float("nan")
    z = float(np.sum(t) / np.sqrt(denom))
    return z, float(2.0 * stats.norm.sf(abs(z)))
