"""Cross-sectional event study: a hand-checked CAAR, firms counted once per issuer, refusals,
and a fast size check of the clustering-aware tests (the full one: benchmarks/cross_section_size.py)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from backtests.event_study import EventStudySpec
from backtests.event_study.cross_section import FirmSeries, analyse_pattern, weights_vector
from backtests.event_study.cross_section_study import Scope, run_cross_section
from event_study_factory import bars_from_returns, catalyst, sessions
from events.schedule import build_schedule

FIRMS = ("0700.HK", "1810.HK", "3690.HK")
# Planted abnormal returns (market_adjusted: AR = r - r_HSTECH) on day 0 and day +1.
PLANTED = {  # listing -> catalyst -> (AR day 0, AR day +1)
    "0700.HK": {"a": (0.03, 0.005), "b": (0.01, -0.002)},
    "1810.HK": {"a": (-0.01, 0.004), "b": (0.02, 0.001)},
    "3690.HK": {"a": (0.02, -0.003), "b": (0.00, 0.006)},
}
SPEC = EventStudySpec(windows=((0, 0), (0, 1)), model="market_adjusted", placebo_draws=1000)


def _market(n_days: int = 260) -> tuple[pd.DatetimeIndex, dict, dict, int, int]:
    days = sessions("0700.HK", "2024-01-02", "2025-03-31")[:n_days]
    rng = np.random.default_rng(5)
    bench = rng.normal(0, 0.01, len(days))
    pos = {"a": 150, "b": 190}
    prices, benchmarks = {}, {}
    hstech = bars_from_returns("HSTECH", days, bench, start_price=5000.0)
    for k, sym in enumerate(FIRMS):
        noise = 0.002 * np.where(np.arange(len(days)) % 2 == k % 2, 1.0, -1.0)
        for cid, (ar0, ar1) in PLANTED[sym].items():
            noise[pos[cid]], noise[pos[cid] + 1] = ar0, ar1
        # (1 + r) = (1 + r_bench) + ar keeps r - r_bench = ar exactly
        prices[sym] = bars_from_returns(sym, days, bench + noise)
        benchmarks[sym] = hstech
    return days, prices, benchmarks, pos["a"], pos["b"]


def _run(narrative: bool = True, issuer_of=lambda s: s):
    days, prices, benchmarks, a, b = _market()
    # news 1 minute after the previous close: day 0 is the session at position a / b
    cats = [catalyst("a", days[a - 1] + pd.Timedelta(hours=9), FIRMS),
            catalyst("b", days[b - 1] + pd.Timedelta(hours=9), FIRMS)]
    schedule = build_schedule(cats, listings=FIRMS)
    assert [r.reaction_session for r in schedule.rows if r.listing == "0700.HK"] == [days[a], days[b]]
    scopes = [Scope(kind="narrative", id="story", catalysts=("a", "b"), listings=FIRMS)] if narrative else []
    return run_cross_section(prices, benchmarks, schedule, SPEC, issuer_of=issuer_of, narratives=scopes)


def test_three_firms_two_catalysts_caar_by_hand() -> None:
    table = _run().table.set_index(["id", "window"])
    # catalyst a, day 0: (3% - 1% + 2%) / 3
    assert table.loc[("a", "[0,0]"), "caar"] == pytest.approx(0.04 / 3, abs=1e-12)
    # catalyst b, [0,+1]: ((1 - 0.2) + (2 + 0.1) + (0 + 0.6)) / 3 %
    assert table.loc[("b", "[0,+1]"), "caar"] == pytest.approx(0.035 / 3, abs=1e-12)
    # the narrative: mean over 2 catalysts x 3 firms of the day-0 ARs: (3 - 1 + 2 + 1 + 2 + 0) / 6 %
    assert table.loc[("story", "[0,0]"), "caar"] == pytest.approx(0.07 / 6, abs=1e-12)
    assert table.loc[("story", "[0,+1]"), "caar"] == pytest.approx((0.04 + 0.006 + 0.03 + 0.005) / 6, abs=1e-12)
    row = table.loc[("a", "[0,0]")]
    assert row["n_firms"] == 3 and row["firms"] == "0700.HK;1810.HK;3690.HK" and row["clock"] == "XHKG"
    days, *_ = _market()
    assert row["n_positive"] == 2 and row["day0"] == f"{days[150]:%Y-%m-%d}"
    assert table.loc[("story", "[0,0]"), "day0"] == f"{days[150]:%Y-%m-%d};{days[190]:%Y-%m-%d}"
    # one common benchmark: the portfolio's abnormal return is exactly the mean of the firms'
    assert row["port_car"] == pytest.approx(row["caar"], abs=1e-12)
    for col in ("p_port_t", "p_port_placebo", "p_bmp_kp", "p_grank"):
        assert 0 < row[col] <= 1, col
    assert row["problem"] == ""


def test_two_listings_of_one_issuer_count_once() -> None:
    days, prices, benchmarks, a, _ = _market()
    issuers = {"0700.HK": "tencent", "1810.HK": "xiaomi", "3690.HK": "tencent"}
    cats = [catalyst("a", days[a - 1] + pd.Timedelta(hours=9), FIRMS)]
    result = run_cross_section(prices, benchmarks, build_schedule(cats, listings=FIRMS), SPEC,
                               issuer_of=issuers.__getitem__)
    row = result.table.iloc[0]
    assert row["n_firms"] == 2 and row["firms"] == "tencent;xiaomi" and row["listings"] == "0700.HK;1810.HK"
    assert "3690.HK: issuer tencent counted once, through 0700.HK" in row["notes"]
    # the firm's first listing in the study's order represents it: CAAR of 0700 and 1810
    assert row["caar"] == pytest.approx((0.03 - 0.01) / 2, abs=1e-12)


def test_a_catalyst_of_one_issuer_has_no_row_and_a_one_firm_narrative_is_flagged() -> None:
    result = _run(issuer_of=lambda s: "same_firm")
    assert set(result.table["scope"]) == {"narrative"}
    assert (result.table["n_firms"] == 1).all()
    assert result.table["problem"].str.contains("need at least 2").all()
    assert result.table["p_port_t"].isna().all() and result.table["p_bmp_kp"].isna().all()


def test_weights_count_overlapping_windows_once_per_window() -> None:
    # catalysts at relative days 0 and 1, window [0, 1]: day 1 is in both windows
    assert weights_vector([0, 1], (0, 1), -1, 4).tolist() == [0.0, 0.5, 1.0, 0.5]


def test_size_of_the_clustering_aware_tests_is_near_five_percent() -> None:
    """Fast variant of benchmarks/cross_section_size.py: 7 firms, residual correlation 0.5,
    one day 0 for all; naive tests (independent firms) over-reject, these do not."""
    spec = EventStudySpec(windows=((0, 0),), placebo_draws=1000, estimation_sessions=100, min_estimation_sessions=60)
    n, event, seeds = 260, 200, 150
    rejections = {k: 0 for k in ("p_port_t", "p_port_placebo", "p_bmp_kp", "p_grank", "naive")}
    for seed in range(seeds):
        rng = np.random.default_rng(seed)
        m = rng.normal(0, 0.015, n)
        y = 0.9 * m + 0.02 * (np.sqrt(0.5) * rng.standard_normal(n) + np.sqrt(0.5) * rng.standard_normal((7, n)))
        zone = np.zeros(n, dtype=np.int64)
        zone[event + spec.span[0]:event + spec.span[1] + 1] = 1
        X = np.column_stack([np.ones(n), m])
        firms = [FirmSeries(firm=f"f{i}", listing=f"F{i}", y=y[i], X=X, columns=("alpha", "m"),
                            valid=np.ones(n, bool), zone=zone) for i in range(7)]
        r = analyse_pattern(firms, zone, [event], spec)[0][(0, 0)]
        for k in rejections:
            p = 2 * stats.t.sf(abs(r.bmp_t), 6) if k == "naive" else getattr(r, k)
            rejections[k] += p < 0.05
    rates = {k: v / seeds for k, v in rejections.items()}
    for k in ("p_port_t", "p_port_placebo", "p_bmp_kp", "p_grank"):
        assert 0.0 <= rates[k] <= 0.11, rates
    assert rates["naive"] > 0.2, rates
