"""How much to believe the best combination of a sweep.

* **Deflated Sharpe ratio** (Bailey & López de Prado, 2014, "The Deflated Sharpe Ratio"):
  the probability that the best combination's true Sharpe ratio is above the Sharpe ratio
  the best of ``N`` skill-less trials would reach by luck,

  ``SR0 = sqrt(V[SR]) × ((1 − γ) Φ⁻¹(1 − 1/N) + γ Φ⁻¹(1 − 1/(N e)))``,
  ``DSR = Φ( (SR* − SR0) √(T − 1) / √(1 − γ₃ SR* + (γ₄ − 1)/4 · SR*²) )``,

  with per-period (not annualised) Sharpe ratios, ``V[SR]`` their variance across the
  trials, ``γ`` Euler–Mascheroni, ``γ₃``/``γ₄`` the skewness and (non-excess) kurtosis of
  the best combination's returns and ``T`` their number. With one trial ``SR0 = 0`` and
  DSR is the probabilistic Sharpe ratio.
* **Probability of backtest overfitting** by combinatorially symmetric cross-validation
  (Bailey, Borwein, López de Prado & Zhu, 2015): cut the ``T × N`` matrix of returns into
  ``S`` equal blocks of sessions; for each of the ``C(S, S/2)`` ways to pick half the blocks
  as in-sample, take the in-sample best (Sharpe) and its relative rank ``ω`` out of sample;
  ``λ = log(ω / (1 − ω))``; PBO is the share of splits with ``λ ≤ 0`` (the in-sample
  winner at or below the out-of-sample median).
* **Walk-forward**: fit (pick the best Sharpe) on one window of sessions, test on the next.
  A fit window in which no combination has a single non-zero return has no signal: it
  picks nothing (``None``), it is not filled with the first combination.
* Effective number of trials and PBO coverage: :mod:`backtests.sweeps.effective`.

CSCV lives in :mod:`backtests.sweeps.cscv`; its public names are importable from here too.
Every function takes summary statistics (sums, sums of squares per block) so a sweep can
stream its returns through once and keep ``O(N × S)`` numbers, never the whole matrix.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np
from scipy import stats

from backtests.sweeps.cscv import PBOResult, block_bounds, block_stats, pbo_cscv, pbo_from_returns

__all__ = ["DeflatedSharpe", "PBOResult", "block_bounds", "block_stats", "deflated_sharpe", "expected_max_sharpe",
           "fold_bounds", "fold_stats", "pbo_cscv", "pbo_from_returns", "probabilistic_sharpe", "return_moments",
           "sharpe_per_period", "sharpe_per_period_rows", "walk_forward_choices"]

EULER_GAMMA = 0.5772156649015329


def sharpe_per_period(returns: np.ndarray) -> float:
    """``mean / std(ddof=1)`` of one series (NaN with < 2 values or zero dispersion)."""
    r = np.asarray(returns, dtype=float)
    if len(r) < 2 or r.max() == r.min():
        return float("nan")
    return float(np.mean(r) / np.std(r, ddof=1))


def sharpe_per_period_rows(returns: np.ndarray) -> np.ndarray:
    """:func:`sharpe_per_period` of every row of a ``K x T`` matrix (the same floats)."""
    r = np.atleast_2d(np.asarray(returns, dtype=float))
    if r.shape[1] < 2:
        return np.full(len(r), np.nan)
    flat = r.max(axis=1) == r.min(axis=1)
    with np.errstate(all="ignore"):
        sr = np.mean(r, axis=1) / np.std(r, axis=1, ddof=1)
    return np.where(flat, np.nan, sr)


def expected_max_sharpe(n_trials: int, sharpe_variance: float) -> float:
    """Expected maximum of ``n_trials`` per-period Sharpe ratios of skill-less strategies."""
    if n_trials <= 1 or not sharpe_variance > 0:
        return 0.0
    z1 = stats.norm.ppf(1.0 - 1.0 / n_trials)
    z2 = stats.norm.ppf(1.0 - 1.0 / (n_trials * math.e))
    return float(math.sqrt(sharpe_variance) * ((1.0 - EULER_GAMMA) * z1 + EULER_GAMMA * z2))


def probabilistic_sharpe(sharpe: float, benchmark_sharpe: float, observations: int, skewness: float,
                         kurtosis: float) -> float:
    """P(true Sharpe > ``benchmark_sharpe``) given an observed per-period ``sharpe`` (PSR)."""
    denom = 1.0 - skewness * sharpe + (kurtosis - 1.0) / 4.0 * sharpe ** 2
    if observations < 2 or not denom > 0 or not math.isfinite(sharpe):
        return float("nan")
    return float(stats.norm.cdf((sharpe - benchmark_sharpe) * math.sqrt(observations - 1) / math.sqrt(denom)))


@dataclass(frozen=True, kw_only=True, slots=True)
class DeflatedSharpe:
    """Deflated Sharpe ratio of the best trial and its ingredients (per-period Sharpe ratios)."""

    value: float
    sharpe: float
    expected_max_sharpe: float
    trials: int
    sharpe_variance: float
    skewness: float
    kurtosis: float
    observations: int

    def as_dict(self) -> dict[str, float | int]:
        return asdict(self)


def return_moments(returns: np.ndarray) -> tuple[float, float]:
    """(skewness, Pearson kurtosis) of a return series, NaN when too short or flat."""
    r = np.asarray(returns, dtype=float)
    skew = float(stats.skew(r)) if len(r) > 2 and r.max() > r.min() else float("nan")
    kurt = float(stats.kurtosis(r, fisher=False)) if len(r) > 3 and r.max() > r.min() else float("nan")
    return skew, kurt


def deflated_sharpe(best_returns: np.ndarray, trial_sharpes: np.ndarray, *, trials: int | None = None,
                    moments: tuple[float, float] | None = None,
                    sharpe_variance: float | None = None) -> DeflatedSharpe:
    """DSR of ``best_returns`` against the trials' per-period Sharpe ratios.

    Parameters
    ----------
    best_returns
        The best combination's per-period returns.
    trial_sharpes
        Per-period Sharpe ratio of every trial (NaN ones — flat strategies — are left out
        of the variance).
    trials
        Number of trials ``N`` (default: ``len(trial_sharpes)``).
    moments
        :func:`return_moments` of ``best_returns`` when the caller has them already.
    sharpe_variance
        ``V[SR]`` of the trials when the caller estimates it otherwise (default: the sample
        variance of the finite ``trial_sharpes``).
    """
    r = np.asarray(best_returns, dtype=float)
    sr = sharpe_per_period(r)
    finite = np.asarray(trial_sharpes, dtype=float)
    finite = finite[np.isfinite(finite)]
    n = int(trials if trials is not None else len(trial_sharpes))
    if sharpe_variance is not None:
        var = float(sharpe_variance)
    else:
        var = float(np.var(finite, ddof=1)) if len(finite) >= 2 else 0.0
    skew, kurt = moments if moments is not None else return_moments(r)
    sr0 = expected_max_sharpe(n, var)
    value = probabilistic_sharpe(sr, sr0, len(r), skew, kurt)
    return DeflatedSharpe(value=value, sharpe=sr, expected_max_sharpe=sr0, trials=n, sharpe_variance=var,
                          skewness=skew, kurtosis=kurt, observations=len(r))


# --------------------------------------------------------------------------------------- walk-forward


def _sharpe_from_sums(total: np.ndarray, total_sq: np.ndarray, n: int) -> np.ndarray:
    mean = total / n
    var = np.maximum((total_sq - total * mean) / (n - 1), 0.0)
    std = np.sqrt(var)
    # a flat series (no position in that half) has no risk-adjusted return: 0, not +-inf;
    # "flat" includes a dispersion that is only rounding error of the sums
    flat = std <= 1e-9 * np.abs(mean)
    return np.where(flat, 0.0, mean / np.where(flat, 1.0, std))


def fold_bounds(n_obs: int, folds: int) -> list[tuple[int, int]]:
    """``folds`` consecutive, nearly equal windows ``[start, end)`` covering ``n_obs`` sessions."""
    edges = np.linspace(0, n_obs, folds + 1).round().astype(int)
    return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def fold_stats(returns: np.ndarray, bounds: list[tuple[int, int]]) -> tuple[np.ndarray, np.ndarray]:
    """Per-window sums and sums of squares (``C x F`` each) of a ``C x T`` return matrix."""
    r = np.atleast_2d(np.asarray(returns, dtype=float))
    sums = np.stack([r[:, a:b].sum(axis=1) for a, b in bounds], axis=1)
    sqs = np.stack([(r[:, a:b] ** 2).sum(axis=1) for a, b in bounds], axis=1)
    return sums, sqs


def walk_forward_choices(sums: np.ndarray, sqs: np.ndarray, bounds: list[tuple[int, int]]) -> list[int | None]:
    """Index of the best in-sample Sharpe on window ``i`` (the choice tested on window ``i + 1``);
    ``None`` when no combination has a non-zero return in window ``i`` (no signal to fit)."""
    out: list[int | None] = []
    for i in range(len(bounds) - 1):
        n = bounds[i][1] - bounds[i][0]
        if not np.any(sqs[:, i] > 0):
            out.append(None)
            continue
        sr = _sharpe_from_sums(sums[:, i], sqs[:, i], n) if n >= 2 else np.zeros(len(sums))
        out.append(int(np.argmax(sr)))
    return out
