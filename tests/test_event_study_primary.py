"""Inference that holds its size (issue 13): exact placebo with its floor, the pre-specified
primary family, overlap flags and episodes, closure-scaled variance, CAR intervals, the
post-event beta and the EWMA day-0 statistic — each checked by hand on small markets."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from backtests.event_study import EventStudySpec, EventStudySpecError, format_table, run_event_study
from backtests.event_study.listing import ScheduledEvent, analyse_listing, closure_scale
from backtests.event_study.spec import window_label
from event_study_factory import bars_from_returns, catalyst, sessions
from events.schedule import build_schedule

SPEC = EventStudySpec(min_placebo_sessions=20)


def _hk_market(seed: int = 4, start: str = "2023-06-01", end: str = "2025-06-30", beta_after: str | None = None):
    rng = np.random.default_rng(seed)
    hk = sessions("9988.HK", start, end)
    x = rng.normal(0, 0.02, len(hk))
    beta = np.where(hk >= pd.Timestamp(beta_after), 2.0, 1.0) if beta_after else 1.1
    return ({"9988.HK": bars_from_returns("9988.HK", hk, beta * x + rng.normal(0, 0.015, len(hk)))},
            {"9988.HK": bars_from_returns("HSTECH", hk, x, start_price=5000.0)})


def _at(cid: str, day: str):
    return catalyst(cid, pd.Timestamp(f"{day} 09:00", tz="Asia/Hong_Kong"), listings=("9988.HK",))


def _row(result, cid: str, window: str) -> pd.Series:
    t = result.table
    return t[(t["catalyst_id"] == cid) & (t["window"] == window)].iloc[0]


def test_placebo_p_is_the_exact_permutation_over_distinct_sessions_never_below_its_floor() -> None:
    prices, benches = _hk_market()
    days = ("2024-06-03", "2024-11-04", "2025-03-03")
    result = run_event_study(prices, benches, build_schedule([_at(f"c{i}", d) for i, d in enumerate(days)]), SPEC)
    run = analyse_listing("9988.HK", prices["9988.HK"], benches["9988.HK"],
                          [ScheduledEvent(catalyst_id=f"c{i}", listing="9988.HK", day0=pd.Timestamp(d))
                           for i, d in enumerate(days)], SPEC)
    n = int(run.eligible.sum())
    for w in SPEC.windows:
        null = run.placebo_t[w][run.eligible]
        for cid in ("c0", "c1", "c2"):
            row = _row(result, cid, window_label(w))
            expected = (1 + np.count_nonzero(np.abs(null) >= abs(row["t_adj"]))) / (1 + n)
            assert row["p_placebo"] == pytest.approx(expected), (cid, w)
    t = result.table
    assert (t["n_placebo_sessions"] == n).all() and (t["n_placebo_draws"] == n).all()
    np.testing.assert_allclose(t["p_placebo_floor"], 1 / (1 + n))
    assert (t["p_placebo"] >= t["p_placebo_floor"]).all()
    assert (t["p_sq"] >= t["p_placebo_floor"]).all()


def test_a_huge_move_gets_the_floor_not_less() -> None:
    prices, benches = _hk_market()
    frame = prices["9988.HK"].frame.copy()
    i = frame.index.get_loc(pd.Timestamp("2024-11-04"))
    frame.iloc[i:, frame.columns.get_indexer(["open", "high", "low", "close"])] *= 1.5   # +50 % on day 0
    prices = {"9988.HK": type(prices["9988.HK"])(**{**prices["9988.HK"].__dict__, "frame": frame})}
    result = run_event_study(prices, benches, build_schedule([_at("big", "2024-11-04")]), SPEC)
    row = _row(result, "big", "[0,0]")
    assert row["p_placebo"] == pytest.approx(row["p_placebo_floor"])
    assert row["p_t"] < row["p_placebo_floor"]      # the parametric p goes far below what the data can say


def test_primary_family_is_one_window_one_test_per_catalyst_with_holm_over_it_only() -> None:
    prices, benches = _hk_market()
    days = ("2024-06-03", "2024-11-04", "2025-03-03")
    result = run_event_study(prices, benches, build_schedule([_at(f"c{i}", d) for i, d in enumerate(days)]), SPEC)
    f = result.primary
    assert list(f["catalyst_id"]) == ["c0", "c1", "c2"] and set(f["window"]) == {"[0,+1]"}
    assert set(f["test"]) == {"placebo"}                          # one listing: that listing's placebo
    p = f["p"].to_numpy()
    order = np.argsort(p)
    holm = np.empty(3)
    holm[order] = np.minimum(1, np.maximum.accumulate(p[order] * [3, 2, 1]))
    np.testing.assert_allclose(f["p_holm"], holm)
    t = result.table
    primary_rows = t[t["family"] == "primary"]
    assert list(primary_rows["window"]) == ["[0,+1]"] * 3
    np.testing.assert_allclose(primary_rows["p_placebo"], p)          # the same test, reported once
    np.testing.assert_allclose(primary_rows["p_placebo_holm"], f["p_holm"])
    rest = t[t["family"] != "primary"]
    assert rest[["p_placebo_holm", "p_placebo_bh", "p_t_holm", "p_t_bh"]].isna().all().all()
    assert result.meta["primary"]["n_tests"] == 3 and "parametric" in result.meta["p_labels"]["p_t"]
    text = format_table(result)
    assert text.index("PRIMARY FAMILY") < text.index("EXPLORATORY") and "PARAMETRIC" in text


def test_overlapping_catalysts_are_flagged_and_merged_into_an_episode() -> None:
    prices, benches = _hk_market()
    cats = [_at("a", "2024-11-04"), _at("b", "2024-11-05"), _at("far", "2025-03-03")]
    result = run_event_study(prices, benches, build_schedule(cats), SPEC)
    assert _row(result, "a", "[0,+1]")["overlaps"] == "b"
    assert _row(result, "a", "[0,0]")["overlaps"] == "" and _row(result, "b", "[-1,+1]")["overlaps"] == "a"
    assert list(result.primary["overlaps"]) == ["b", "", ""]
    merged = run_event_study(prices, benches, build_schedule(cats), EventStudySpec(min_placebo_sessions=20,
                                                                                  episodes=True))
    f = merged.primary
    assert list(f["catalyst_id"]) == ["a+b", "far"] and f.iloc[0]["members"] == "a,b"
    assert f.iloc[0]["overlaps"] == ""
    # the episode's window runs from a's day 0 to b's day +1: three sessions of abnormal returns
    path = merged.paths[merged.paths["catalyst_id"] == "a"].set_index("rel_day")
    assert f.iloc[0]["car"] == pytest.approx(path.loc[0:2, "ar"].sum())
    assert (merged.table["family"] == "exploratory").all()          # no single row is the episode's test
    assert merged.primary.iloc[1]["p"] == pytest.approx(result.primary.iloc[2]["p"])


def test_closure_scale_by_hand() -> None:
    # own closes at 10, 20, 60, 70; the firm's other listing closes at 15, 30, 40, 50, 65
    own = np.array([10, 20, 60, 70])
    firm = np.array([10, 20, 60, 70, 15, 30, 40, 50, 65])
    # closes in (prev, this]: 20 <- {15, 20} = 2; 60 <- {30, 40, 50, 60} = 4; 70 <- {65, 70} = 2; median 2
    np.testing.assert_allclose(closure_scale(own, firm), [1.0, 1.0, 2.0, 1.0])
    np.testing.assert_allclose(closure_scale(own, None), 1.0)
    np.testing.assert_allclose(closure_scale(own, own), 1.0)


def test_first_hong_kong_session_after_lunar_new_year_is_variance_scaled() -> None:
    rng = np.random.default_rng(1)
    hk, us = sessions("9988.HK", "2024-01-02", "2025-06-30"), sessions("BABA", "2024-01-02", "2025-06-30")
    prices = {"9988.HK": bars_from_returns("9988.HK", hk, rng.normal(0, 0.015, len(hk))),
              "BABA": bars_from_returns("BABA", us, rng.normal(0, 0.015, len(us)))}
    news = catalyst("lny", pd.Timestamp("2025-01-30 10:00", tz="America/New_York"))   # HK closed 29-31 Jan
    result = run_event_study(prices, {}, build_schedule([news]), EventStudySpec(model="constant_mean",
                                                                               min_placebo_sessions=20))
    t = result.table
    hk0 = t[(t["listing"] == "9988.HK") & (t["window"] == "[0,0]")].iloc[0]
    us0 = t[(t["listing"] == "BABA") & (t["window"] == "[0,0]")].iloc[0]
    assert hk0["day0"] == "2025-02-03"
    # 9988.HK's 2025-02-03 spans BABA's 01-28 .. 01-31 closes and its own: 5 closes against a normal 2
    assert hk0["variance_scale"] == pytest.approx(2.5) and us0["variance_scale"] == pytest.approx(1.0)
    assert hk0["t_adj"] == pytest.approx(hk0["t_stat"] * hk0["car_se"] / np.sqrt(
        hk0["car_se"] ** 2 + 1.5 * hk0["sigma"] ** 2))
    assert "closure: 2025-02-03 (day +0) spans 2.5x" in hk0["notes"]
    assert us0["t_adj"] == pytest.approx(us0["t_stat"])


def test_car_intervals_by_hand() -> None:
    prices, benches = _hk_market()
    result = run_event_study(prices, benches, build_schedule([_at("a", "2024-11-04")]), SPEC)
    run = analyse_listing("9988.HK", prices["9988.HK"], benches["9988.HK"],
                          [ScheduledEvent(catalyst_id="a", listing="9988.HK", day0=pd.Timestamp("2024-11-04"))], SPEC)
    row = _row(result, "a", "[0,+5]")
    half = stats.t.ppf(0.975, row["df"]) * row["car_se"]
    assert (row["car_ci_lo_t"], row["car_ci_hi_t"]) == pytest.approx((row["car"] - half, row["car"] + half))
    q_lo, q_hi = np.quantile(run.placebo_t[(0, 5)][run.eligible], [0.025, 0.975])
    assert row["car_ci_lo_placebo"] == pytest.approx(row["car"] - q_hi * row["car_se"])
    assert row["car_ci_hi_placebo"] == pytest.approx(row["car"] - q_lo * row["car_se"])
    f = result.primary.iloc[0]
    one = _row(result, "a", "[0,+1]")
    assert (f["car_ci_lo_t"], f["car_ci_hi_t"]) == pytest.approx((one["car_ci_lo_t"], one["car_ci_hi_t"]))
    assert (f["car_ci_lo_placebo"], f["car_ci_hi_placebo"]) == pytest.approx(
        (one["car_ci_lo_placebo"], one["car_ci_hi_placebo"]))


def test_post_event_beta_shows_a_beta_that_changed() -> None:
    prices, benches = _hk_market(beta_after="2024-11-20")
    result = run_event_study(prices, benches, build_schedule([_at("a", "2024-11-04")]), SPEC)
    row = _row(result, "a", "[0,+1]")
    assert row["beta"] == pytest.approx(1.0, abs=0.15) and row["beta_post"] == pytest.approx(2.0, abs=0.15)
    assert row["n_post"] == 120 and np.isfinite(row["car_post_beta"])
    late = run_event_study(prices, benches, build_schedule([_at("z", "2025-05-02")]), SPEC)
    z = _row(late, "z", "[0,0]")
    assert np.isnan(z["beta_post"]) and "post-event beta" in z["notes"]


def test_ewma_standardised_day0_is_off_by_default_and_exact_when_on() -> None:
    prices, benches = _hk_market()
    schedule = build_schedule([_at("a", "2024-11-04")])
    off = _row(run_event_study(prices, benches, schedule, SPEC), "a", "[0,0]")
    assert np.isnan(off["ar_day0_ewma_z"]) and np.isnan(off["p_ewma_placebo"])
    on = _row(run_event_study(prices, benches, schedule, EventStudySpec(min_placebo_sessions=20, ewma_lambda=0.94)),
              "a", "[0,0]")
    assert on["ar_day0_ewma_z"] == pytest.approx(on["ar_day0"] / on["ewma_sigma"])
    assert 0.005 < on["ewma_sigma"] < 0.03 and on["p_placebo_floor"] <= on["p_ewma_placebo"] <= 1


@pytest.mark.parametrize("kwargs, needle", [
    ({"primary_window": (0, 2)}, "is not one of windows"),
    ({"primary_window": "x"}, "pair of whole numbers"),
    ({"primary_test": "t"}, "choose one of joint_placebo, placebo"),
    ({"episodes": "yes"}, "episodes = 'yes' must be true or false"),
    ({"ewma_lambda": 1.0}, "must be a number in [0, 1)"),
])
def test_spec_refuses_bad_primary_settings(kwargs: dict, needle: str) -> None:
    with pytest.raises(EventStudySpecError, match=None) as err:
        EventStudySpec(**kwargs)
    assert needle in str(err.value)


def test_primary_window_defaults() -> None:
    assert EventStudySpec().primary_window == (0, 1)
    assert EventStudySpec(windows=((0, 0), (-1, 1))).primary_window == (0, 0)
    assert EventStudySpec(windows=((0, 0), (0, 5)), primary_window=[0, 5]).primary_window == (0, 5)
