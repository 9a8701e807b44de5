"""Size and power of the event-study tests on a synthetic firm with a known truth.

The firm trades in Hong Kong (9988.HK vs HSTECH) and New York (BABA vs KWEB). News about
it arrives on one UTC timeline (a shock per step between consecutive closes of either
market), so each listing prices a piece of news at its first close after it — the
schedule's rule — and the two listings' abnormal returns are correlated the way real
cross-listings are. Each seed plants 14 catalysts on 2019-2025 at spread-out instants:
7 null (nothing happens) and 7 with a jump of 2 idiosyncratic sigmas on day 0. The study
runs through :func:`run_event_study` with the default estimation design and 10,000
placebo draws.

Bands (stated, not tuned): for a correctly sized 5 % test with ``n`` independent nulls the
rejection rate lies in the binomial 99.9 % interval printed below; the power of the
t test for a 2-sigma jump is about 0.51 (noncentral t, ``P(|T + 2| > 1.98)``), and the
joint two-listing test must beat it.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from backtests.event_study import EventStudySpec, run_event_study
from data_loaders.calendars import session_closes_utc
from event_study_factory import bars_from_returns, catalyst, sessions
from events.schedule import build_schedule

SEEDS = 32
PER_SEED = 14
SIGMA = 0.015                    # idiosyncratic daily sd of each listing
FIRM_STEP_SD = 0.012 / np.sqrt(2)  # firm news per close-to-close step (two steps a day)
NOISE_SD = np.sqrt(SIGMA**2 - 0.012**2)  # listing-specific noise
JUMP = 2 * SIGMA
WINDOWS = ((0, 0), (0, 1), (-1, 1))
START, END = "2019-01-02", "2025-12-31"


def _firm(seed: int):
    rng = np.random.default_rng(seed)
    hk_days, us_days = sessions("9988.HK", START, END), sessions("BABA", START, END)
    hk_close = session_closes_utc("XHKG", hk_days).asi8
    us_close = session_closes_utc("XNYS", us_days).asi8
    timeline = np.union1d(hk_close, us_close)
    # catalysts: evenly spread, each just after a random close of either market
    slots = np.linspace(200, len(timeline) - 60, PER_SEED).astype(int) + rng.integers(-20, 20, PER_SEED)
    instants = timeline[slots] + pd.Timedelta(minutes=30).value
    jumps = np.arange(PER_SEED) % 2 == 1
    steps = rng.normal(0.0, FIRM_STEP_SD, len(timeline))
    steps[np.searchsorted(timeline, instants[jumps], side="right")] += JUMP
    firm = np.concatenate([[0.0], np.cumsum(steps)])

    def idio(closes: np.ndarray) -> np.ndarray:
        level = firm[np.searchsorted(timeline, closes, side="right")]
        return np.r_[0.0, np.diff(level)] + rng.normal(0.0, NOISE_SD, len(closes))

    x_hk = rng.normal(0.0, 0.02, len(hk_days))
    x_us = rng.normal(0.0, 0.02, len(us_days))
    prices = {"9988.HK": bars_from_returns("9988.HK", hk_days, 0.0003 + 1.2 * x_hk + idio(hk_close)),
              "BABA": bars_from_returns("BABA", us_days, 1.0 * x_us + idio(us_close))}
    benchmarks = {"9988.HK": bars_from_returns("HSTECH", hk_days, x_hk, start_price=5000.0),
                  "BABA": bars_from_returns("KWEB", us_days, x_us, start_price=30.0)}
    cats = [catalyst(f"{'jump' if j else 'null'}{i:02d}", pd.Timestamp(int(u), tz="UTC"))
            for i, (u, j) in enumerate(zip(instants, jumps))]
    return prices, benchmarks, build_schedule(cats)


@pytest.fixture(scope="module")
def simulated() -> tuple[pd.DataFrame, pd.DataFrame]:
    spec = EventStudySpec(windows=WINDOWS)
    tables, joints = [], []
    for seed in range(SEEDS):
        prices, benchmarks, schedule = _firm(seed)
        result = run_event_study(prices, benchmarks, schedule, spec, seed=seed)
        assert (result.table["problem"] == "").all(), result.problems
        tables.append(result.table.assign(seed=seed))
        joints.append(result.joint.assign(seed=seed))
    return pd.concat(tables, ignore_index=True), pd.concat(joints, ignore_index=True)


def _band(n: int, level: float = 0.05) -> tuple[float, float]:
    lo, hi = stats.binom.ppf([0.0005, 0.9995], n, level)
    return lo / n, hi / n


def test_size_about_five_percent(simulated) -> None:
    table, joint = simulated
    null = table[table["catalyst_id"].str.startswith("null")]
    jnull = joint[joint["catalyst_id"].str.startswith("null")]
    n = len(null) // len(WINDOWS)
    lo, hi = _band(n)
    jlo, jhi = _band(len(jnull) // len(WINDOWS))
    print(f"\nsize at 5 %: {n} nulls per window (listings pooled), 99.9 % band [{lo:.3f}, {hi:.3f}]")
    for label, sub in null.groupby("window", sort=False):
        rates = {c: float((sub[c] <= 0.05).mean()) for c in ("p_t", "p_placebo", "p_sq", "p_rank")}
        print(f"  {label:8} " + "  ".join(f"{c} {v:.3f}" for c, v in rates.items()))
        assert lo <= rates["p_t"] <= hi and lo <= rates["p_placebo"] <= hi
        # SQ and rank p-values are discrete (about 1/n_est): conservative, never oversized
        assert rates["p_sq"] <= hi and rates["p_rank"] <= hi
    print(f"  joint (matched placebo / correlated Stouffer), band [{jlo:.3f}, {jhi:.3f}]")
    for label, sub in jnull.groupby("window", sort=False):
        placebo = float((sub["p_joint_placebo"] <= 0.05).mean())
        stouffer = float((sub["p_stouffer_corr"] <= 0.05).mean())
        naive = float((2 * stats.norm.sf(np.abs(sub["t_mean"] * np.sqrt(2))) <= 0.05).mean())
        print(f"  {label:8} joint placebo {placebo:.3f}  corr. Stouffer {stouffer:.3f}  "
              f"(independence Stouffer would reject {naive:.3f})")
        assert jlo <= placebo <= jhi and jlo <= stouffer <= jhi


def test_power_for_a_two_sigma_jump(simulated) -> None:
    table, joint = simulated
    hit = table[table["catalyst_id"].str.startswith("jump") & (table["window"] == "[0,0]")]
    jhit = joint[joint["catalyst_id"].str.startswith("jump") & (joint["window"] == "[0,0]")]
    power = {c: float((hit[c] <= 0.05).mean()) for c in ("p_t", "p_placebo", "p_sq", "p_rank")}
    joint_power = float((jhit["p_joint_placebo"] <= 0.05).mean())
    theory = float(stats.nct.sf(stats.t.ppf(0.975, 100), 100, 2.0) + stats.nct.cdf(-stats.t.ppf(0.975, 100), 100, 2.0))
    lo, hi = (stats.binom.ppf([0.0005, 0.9995], len(hit), theory) / len(hit))
    print(f"\npower at 5 % for a 2-sigma day-0 jump ({len(hit)} listing rows, {len(jhit)} joint): "
          + "  ".join(f"{c} {v:.3f}" for c, v in power.items())
          + f"  joint placebo {joint_power:.3f}  (t-test theory {theory:.3f}, band [{lo:.3f}, {hi:.3f}])")
    print(f"  mean day-0 AR {hit['ar_day0'].mean():.4f} (planted {JUMP:.4f})")
    assert lo <= power["p_t"] <= hi
    assert power["p_placebo"] >= lo
    assert joint_power >= 0.6 and joint_power > power["p_t"]
    assert abs(hit["ar_day0"].mean() - JUMP) < 4 * SIGMA / np.sqrt(len(hit))
