"""Bad input is reported per row and the rest of the study goes on."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from backtests.event_study import EventStudyInputError, EventStudySpec, run_event_study
from event_study_factory import bars_from_returns, catalyst, sessions
from events.schedule import build_schedule

SPEC = EventStudySpec(placebo_draws=1000, min_placebo_sessions=20)


def _market(start: str = "2024-01-02", end: str = "2025-06-30", seed: int = 1, *, drop_stock=(), drop_index=(),
            adjustment: str = "adjusted"):
    rng = np.random.default_rng(seed)
    hk = sessions("9988.HK", start, end)
    x = rng.normal(0, 0.02, len(hk))
    stock = bars_from_returns("9988.HK", hk, 1.1 * x + rng.normal(0, 0.015, len(hk)), drop=drop_stock,
                              adjustment=adjustment)
    index = bars_from_returns("HSTECH", hk, x, start_price=5000.0, drop=drop_index)
    return {"9988.HK": stock}, {"9988.HK": index}


def _hk_catalyst(cid: str, day: str):
    """News at 09:00 HKT on ``day``: day 0 is that HK session."""
    return catalyst(cid, pd.Timestamp(f"{day} 09:00", tz="Asia/Hong_Kong"), listings=("9988.HK",))


def _rows(result, cid: str) -> pd.DataFrame:
    return result.table[result.table["catalyst_id"] == cid].set_index("window")


def test_catalyst_outside_the_data_fails_alone() -> None:
    prices, benches = _market()
    schedule = build_schedule([_hk_catalyst("late", "2025-09-01"), _hk_catalyst("fine", "2024-11-04")])
    result = run_event_study(prices, benches, schedule, SPEC)
    late, fine = _rows(result, "late"), _rows(result, "fine")
    assert late["car"].isna().all()
    assert late["problem"].str.contains("outside the 9988.HK data").all()
    assert late["problem"].str.contains("2024-01-02 to 2025-06-30").all()
    assert (fine["problem"] == "").all() and fine["p_t"].notna().all() and fine["p_placebo"].notna().all()
    assert any("late / 9988.HK" in p for p in result.problems)


def test_window_past_the_data_end_fails_only_that_window() -> None:
    prices, benches = _market()
    result = run_event_study(prices, benches, build_schedule([_hk_catalyst("edge", "2025-06-24")]), SPEC)
    rows = _rows(result, "edge")
    assert rows.loc["[0,0]", "problem"] == "" and np.isfinite(rows.loc["[0,0]", "car"])
    assert "runs past the 9988.HK data" in rows.loc["[-5,+10]", "problem"]
    assert np.isnan(rows.loc["[-5,+10]", "car"])


def test_estimation_window_too_short() -> None:
    prices, benches = _market(start="2024-09-02")
    result = run_event_study(prices, benches, build_schedule([_hk_catalyst("early", "2024-12-02")]), SPEC)
    problem = _rows(result, "early")["problem"].iloc[0]
    assert "estimation window too short" in problem and "before the data starts" in problem
    assert "load earlier data or lower min_estimation_sessions" in problem


def test_estimation_window_mostly_masked_by_other_catalysts() -> None:
    prices, benches = _market()
    # six catalysts 16 sessions apart before the last one mask its whole estimation window
    days = sessions("9988.HK", "2024-06-03", "2025-03-31")
    cats = [_hk_catalyst(f"c{i}", f"{days[16 * i]:%Y-%m-%d}") for i in range(12)]
    result = run_event_study(prices, benches, build_schedule(cats), SPEC)
    last = _rows(result, "c11")
    problem = last["problem"].iloc[0]
    assert "mostly masked" in problem and "masked by other catalysts' windows" in problem
    assert int(last["n_est_masked"].iloc[0]) > SPEC.estimation_sessions - SPEC.min_estimation_sessions
    ok = result.table[result.table["problem"] == ""]
    assert len(ok) > 0 and (ok["n_est"] >= SPEC.min_estimation_sessions).all()


def test_benchmark_gap_in_window_and_in_estimation() -> None:
    prices, benches = _market(drop_index=("2024-11-06", "2024-09-10"))
    result = run_event_study(prices, benches, build_schedule([_hk_catalyst("ev", "2024-11-04")]), SPEC)
    rows = _rows(result, "ev")
    # 2024-11-06 is day +2: windows reaching it fail with the benchmark named, others are computed
    assert rows.loc["[0,0]", "problem"] == "" and rows.loc["[0,+1]", "problem"] == ""
    for w in ("[0,+5]", "[-5,+10]"):
        assert "no HSTECH return matched to 2024-11-06, 2024-11-07 (day +2, +3)" in rows.loc[w, "problem"]
        assert "gaps are not filled" in rows.loc[w, "problem"]
    # the estimation gap (2024-09-10 and the session after it) is dropped and counted
    assert int(rows.loc["[0,0]", "n_est_missing"]) == 2
    assert "2024-09-10" in rows.loc["[0,0]", "notes"]
    assert any("benchmark HSTECH has no bar on 2024-09-10, 2024-11-06" in p for p in result.problems)


def test_listing_gap_and_raw_prices_are_reported() -> None:
    prices, benches = _market(drop_stock=("2024-11-05",), adjustment="raw")
    result = run_event_study(prices, benches, build_schedule([_hk_catalyst("ev", "2024-11-04")]), SPEC)
    rows = _rows(result, "ev")
    assert "no 9988.HK return on 2024-11-05 (day +1)" in rows.loc["[0,+1]", "problem"]
    assert "no 9988.HK return on 2024-11-05, 2024-11-06 (day +1, +2)" in rows.loc["[0,+5]", "problem"]
    assert rows.loc["[0,0]", "problem"] == ""
    assert "not dividend-adjusted" in rows.loc["[0,0]", "notes"]


def test_missing_prices_or_benchmark_fail_their_rows_only() -> None:
    prices, benches = _market()
    cats = [catalyst("both", pd.Timestamp("2024-11-04 09:00", tz="Asia/Hong_Kong"))]
    result = run_event_study(prices, {}, build_schedule(cats), SPEC)
    assert result.table["problem"].str.contains("needs a benchmark for 9988.HK").sum() == 5
    assert result.table["problem"].str.contains("no prices for BABA").sum() == 5
    assert result.joint["problem"].str.contains("needs every listing's row").all()
    mean_only = run_event_study(prices, {}, build_schedule(cats), EventStudySpec(model="constant_mean",
                                                                                 placebo_draws=1000))
    hk = mean_only.table[mean_only.table["listing"] == "9988.HK"]
    assert (hk["problem"] == "").all() and hk["benchmark"].eq("none (constant mean)").all()


def test_schedule_frame_checks() -> None:
    prices, benches = _market()
    with pytest.raises(EventStudyInputError, match="lacks column"):
        run_event_study(prices, benches, pd.DataFrame({"catalyst_id": ["a"], "listing": ["9988.HK"]}), SPEC)
    with pytest.raises(EventStudyInputError, match="is not a date"):
        run_event_study(prices, benches, pd.DataFrame(
            {"catalyst_id": ["a"], "listing": ["9988.HK"], "reaction_session": ["someday"]}), SPEC)
    sunday = pd.DataFrame({"catalyst_id": ["a"], "listing": ["9988.HK"], "reaction_session": ["2024-11-03"]})
    result = run_event_study(prices, benches, sunday, SPEC)
    assert result.table["problem"].str.contains("is not a XHKG session").all()
