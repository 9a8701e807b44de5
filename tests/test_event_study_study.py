"""The study as a whole: determinism, masking, paths and bands, lead-lag, joint and pooled
results, and the planted jumps of the synthetic market found where its ground truth says."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtests.event_study import EventStudySpec, format_table, result_to_json, run_event_study, write_event_study
from data_loaders.synthetic import DEFAULT_SEED, SyntheticMarket
from event_study_factory import bars_from_returns, catalyst, sessions
from events.calendar_file import load_default_calendar
from events.schedule import build_schedule

SPEC = EventStudySpec(placebo_draws=2000, min_placebo_sessions=20)


def _hk_market(seed: int = 4, start: str = "2023-06-01", end: str = "2025-06-30"):
    rng = np.random.default_rng(seed)
    hk = sessions("9988.HK", start, end)
    x = rng.normal(0, 0.02, len(hk))
    return ({"9988.HK": bars_from_returns("9988.HK", hk, 1.1 * x + rng.normal(0, 0.015, len(hk)))},
            {"9988.HK": bars_from_returns("HSTECH", hk, x, start_price=5000.0)})


def _at(cid: str, day: str):
    return catalyst(cid, pd.Timestamp(f"{day} 09:00", tz="Asia/Hong_Kong"), listings=("9988.HK",))


def _row(result, cid: str, window: str = "[0,0]") -> pd.Series:
    t = result.table
    return t[(t["catalyst_id"] == cid) & (t["window"] == window)].iloc[0]


def test_same_seed_same_bytes_other_seed_other_placebo(tmp_path: Path) -> None:
    prices, benches = _hk_market()
    schedule = build_schedule([_at("a", "2024-11-04"), _at("b", "2025-03-03")])
    one = run_event_study(prices, benches, schedule, SPEC, seed=5)
    two = run_event_study(prices, benches, schedule, SPEC, seed=5)
    other = run_event_study(prices, benches, schedule, SPEC, seed=6)
    assert result_to_json(one) == result_to_json(two)
    write_event_study(one, tmp_path / "x")
    write_event_study(two, tmp_path / "y")
    for name in ("event_study.csv", "event_study.json"):
        assert (tmp_path / "x" / name).read_bytes() == (tmp_path / "y" / name).read_bytes()
    pd.testing.assert_series_equal(one.table["p_t"], other.table["p_t"])
    # issue 13: the placebo enumerates every distinct eligible session, so the seed no longer matters
    pd.testing.assert_series_equal(one.table["p_placebo"], other.table["p_placebo"])
    doc = json.loads((tmp_path / "x" / "event_study.json").read_text())
    assert set(doc) == {"meta", "primary", "table", "joint", "pooled_sign_tests", "lead_lag", "paths", "problems"}
    assert doc["meta"]["seed"] == 5 and doc["meta"]["spec"]["windows"][0] == [0, 0]
    csv = pd.read_csv(tmp_path / "x" / "event_study.csv")
    assert len(csv) == 10 and list(csv.columns[:3]) == ["catalyst_id", "listing", "window"]


def test_far_catalyst_changes_nothing_near_one_is_masked() -> None:
    prices, benches = _hk_market()
    alone = run_event_study(prices, benches, build_schedule([_at("a", "2024-11-04")]), SPEC)
    far = run_event_study(prices, benches, build_schedule([_at("a", "2024-11-04"), _at("far", "2025-05-05")]), SPEC)
    # p_sq is now out-of-sample against the placebo pool (issue 13), which a far catalyst thins, like p_placebo
    cols = ["car", "t_stat", "p_t", "alpha", "beta", "sigma", "n_est", "p_rank"]
    for w in ("[0,0]", "[-5,+10]"):
        pd.testing.assert_series_equal(_row(alone, "a", w)[cols], _row(far, "a", w)[cols], check_names=False)
    # a catalyst 60 sessions earlier puts its 16-session span inside a's estimation window
    near = run_event_study(prices, benches, build_schedule([_at("a", "2024-11-04"), _at("near", "2024-08-07")]), SPEC)
    a_near, a_alone = _row(near, "a"), _row(alone, "a")
    assert a_near["n_est_masked"] == 16 and a_alone["n_est_masked"] == 0
    assert a_near["n_est"] == a_alone["n_est"] - 16


def test_paths_and_placebo_bands() -> None:
    prices, benches = _hk_market(start="2019-01-02")
    result = run_event_study(prices, benches, build_schedule([_at("a", "2024-11-04")]), SPEC)
    path = result.paths[result.paths["catalyst_id"] == "a"]
    assert list(path["rel_day"]) == list(range(-5, 11))
    assert path["session"].iloc[5] == "2024-11-04"
    assert path["car"].iloc[-1] == pytest.approx(_row(result, "a", "[-5,+10]")["car"])
    assert path["ar"].iloc[5] == pytest.approx(_row(result, "a")["ar_day0"])
    bands = path[["band_q025", "band_q050", "band_q500", "band_q950", "band_q975"]].to_numpy()
    assert (np.diff(bands, axis=1) >= 0).all()
    # normal residuals: the 2.5-97.5 % band of a k-day CAR spans about 2 x 1.96 sigma sqrt(k)
    # (overlapping placebo paths make long horizons noisy: checked for the first 4 days)
    sigma = _row(result, "a")["sigma"]
    width = (bands[:, 4] - bands[:, 0])[:4]
    np.testing.assert_allclose(width, 2 * 1.96 * sigma * np.sqrt(np.arange(1, 5)), rtol=0.2)


def test_lead_lag_by_hand() -> None:
    # BABA reacts on 2024-11-04 (US) with +3 %, 9988.HK on 2024-11-05 (HK) with +5 %.
    rng = np.random.default_rng(0)
    hk, us = sessions("9988.HK", "2024-01-02", "2025-03-31"), sessions("BABA", "2024-01-02", "2025-03-31")
    r_hk, r_us = rng.normal(0, 1e-4, len(hk)), rng.normal(0, 1e-4, len(us))
    r_hk[hk.get_loc(pd.Timestamp("2024-11-05"))] += 0.05
    r_us[us.get_loc(pd.Timestamp("2024-11-04"))] += 0.03
    prices = {"9988.HK": bars_from_returns("9988.HK", hk, r_hk), "BABA": bars_from_returns("BABA", us, r_us)}
    news = catalyst("n", pd.Timestamp("2024-11-04 11:00", tz="America/New_York"))
    result = run_event_study(prices, {}, build_schedule([news]),
                             EventStudySpec(model="constant_mean", placebo_draws=1000, min_placebo_sessions=20))
    ll = result.lead_lag.iloc[0]
    assert (ll["leader"], ll["lagger"], ll["leader_day0"], ll["lagger_day0"]) == ("BABA", "9988.HK", "2024-11-04",
                                                                                 "2024-11-05")
    assert ll["lead_hours"] == pytest.approx(11.0)          # 21:00 UTC -> 08:00 UTC next day
    assert ll["leader_car"] == pytest.approx(0.03, abs=1e-3)
    assert ll["lagger_ar_day0"] == pytest.approx(0.05, abs=1e-3)
    assert ll["lagger_share_at_first_session"] == pytest.approx(5 / 3, abs=0.05)
    assert ll["lagger_open_gap"] == pytest.approx(0.0)     # the factory opens at the previous close
    assert ll["lagger_share_after_open"] == pytest.approx(1.0)
    joint = result.joint[result.joint["window"] == "[0,0]"].iloc[0]
    t = result.table[result.table["window"] == "[0,0]"]["t_stat"]
    assert joint["t_mean"] == pytest.approx(t.mean()) and joint["same_sign"]


def test_pooled_sign_test_only_when_windows_do_not_overlap() -> None:
    prices, benches = _hk_market()
    apart = [_at(f"c{i}", d) for i, d in enumerate(("2024-06-03", "2024-09-02", "2024-12-02", "2025-03-03"))]
    result = run_event_study(prices, benches, build_schedule(apart), SPEC)
    pooled = result.pooled.set_index("window")
    assert pooled.loc["[0,0]", "n_catalysts"] == 4 and np.isfinite(pooled.loc["[0,0]", "p_sign"])
    assert 0.3 < pooled.loc["[0,0]", "p_positive_est"] < 0.7
    close = build_schedule([_at("x", "2024-11-04"), _at("y", "2024-11-07")])
    pooled = run_event_study(prices, benches, close, SPEC).pooled.set_index("window")
    assert np.isfinite(pooled.loc["[0,0]", "p_sign"])
    assert np.isnan(pooled.loc["[0,+5]", "p_sign"]) and "overlap" in pooled.loc["[0,+5]", "note"]


@pytest.fixture(scope="module")
def synthetic_result():
    market = SyntheticMarket(seed=DEFAULT_SEED)
    bars = {s: market.daily_bars(s, adjustment="adjusted") for s in ("9988.HK", "BABA", "HSTECH", "KWEB")}
    schedule = build_schedule(load_default_calendar().catalysts, ("9988.HK", "BABA"))
    result = run_event_study({"9988.HK": bars["9988.HK"], "BABA": bars["BABA"]},
                             {"9988.HK": bars["HSTECH"], "BABA": bars["KWEB"]}, schedule, EventStudySpec(), seed=0)
    return market.ground_truth, result


def test_planted_jumps_found_on_their_ground_truth_sessions(synthetic_result) -> None:
    truth, result = synthetic_result
    assert result.synthetic and (result.table["synthetic"]).all()
    assert "[SYNTHETIC DATA]" in format_table(result).splitlines()[0]
    for jump in truth.jumps:
        for listing, session in (("9988.HK", jump.session_hk), ("BABA", jump.session_us)):
            row = result.table[(result.table["catalyst_id"] == jump.catalyst_id)
                               & (result.table["listing"] == listing) & (result.table["window"] == "[0,0]")].iloc[0]
            assert row["day0"] == f"{session:%Y-%m-%d}"
            planted = np.expm1(jump.jump_log)
            assert abs(row["ar_day0"] - planted) < 4 * row["sigma"], (jump.catalyst_id, listing)
            assert row["t_stat"] > 2 and row["p_placebo"] < 0.05
        joint = result.joint[(result.joint["catalyst_id"] == jump.catalyst_id) & (result.joint["window"] == "[0,0]")]
        assert joint["p_joint_placebo"].iloc[0] < 0.01


def test_lead_lag_follows_the_synthetic_timeline(synthetic_result) -> None:
    truth, result = synthetic_result
    ll = result.lead_lag.set_index("catalyst_id")
    for jump in truth.jumps:
        # on the same date Hong Kong closes first; BABA leads only from an earlier date
        expected = "BABA" if jump.session_us < jump.session_hk else "9988.HK"
        assert ll.loc[jump.catalyst_id, "leader"] == expected
