"""The schedule rule against hand-derived rows (tests/golden/schedule_golden.csv).

Every row was derived by hand from the exchanges' published hours (HKEX 09:30-12:00 and
13:00-16:00 HKT, half days closing 12:00; NYSE 09:30-16:00 ET, early closes 13:00, MOC
cut-off 10 minutes before the close) and holiday lists, not with the code under test; the
``derivation`` column says how. Regenerate only on purpose.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from events.catalyst import Catalyst
from events.schedule import schedule_row

GOLDEN = Path(__file__).resolve().parent / "golden" / "schedule_golden.csv"
ROWS = list(csv.DictReader(GOLDEN.open(encoding="utf-8", newline="")))

# Cases the issue names; deleting one of them from the golden file must fail a test.
REQUIRED_CASES = {
    "qwen25max_us_next_open", "qwen25max_hk_next_open",
    "apple_session_hk_next_open", "apple_session_us_next_open",
    "apple_day_hk_next_open", "apple_day_hk_same_close",
    "earnings_hk_next_open", "earnings_us_next_open",
    "lunch_minute_hk_next_open", "halfday_afternoon_hk_next_open",
    "us_early_close_after_close", "us_early_close_moc_missed",
    "weekend_hk", "weekend_us_presidents_day", "dst_spring_week_next_open", "dst_autumn_week_before",
}


def _instant(text: str, tz: str) -> pd.Timestamp:
    ts = pd.Timestamp(text)
    return ts.tz_convert(tz) if ts.tzinfo is not None else ts.tz_localize(tz)


def _catalyst(row: dict[str, str]) -> Catalyst:
    return Catalyst(
        id=row["case"], headline=row["case"], published_at=_instant(row["published_at"], row["tz"]),
        precision=row["precision"],  # type: ignore[arg-type]
        published_until=_instant(row["published_until"], row["tz"]) if row["published_until"] else None,
        listings=(row["listing"],))


def test_golden_file_has_the_required_cases() -> None:
    cases = [r["case"] for r in ROWS]
    assert len(cases) == len(set(cases)), "case names must be unique"
    assert REQUIRED_CASES <= set(cases)
    assert all(r["derivation"].strip() for r in ROWS)


@pytest.mark.parametrize("row", ROWS, ids=[r["case"] for r in ROWS])
def test_schedule_matches_hand_derivation(row: dict[str, str]) -> None:
    got = schedule_row(_catalyst(row), row["listing"], row["fill_policy"])  # type: ignore[arg-type]
    assert got.reaction_session == pd.Timestamp(row["reaction_session"])
    assert got.first_trade_session == pd.Timestamp(row["first_trade_session"])
    assert got.first_trade_point == row["first_trade_point"]
    assert got.first_trade_utc == pd.Timestamp(row["first_trade_utc"])
    assert got.sessions_lost == int(row["sessions_lost"])


def test_day_only_new_york_date_costs_hk_a_session() -> None:
    """Recording the Apple report only to the New York day, not to the US session.

    The day interval opens at 13:00 HKT on the 11th (inside HK's afternoon session) and
    closes at 13:00 HKT on the 12th (after HK's open): day 0 moves one session earlier and
    the first HK open one session later than with the session range.
    """
    by_case = {r["case"]: r for r in ROWS}
    day = _catalyst(by_case["apple_day_hk_next_open"])
    session = _catalyst(by_case["apple_session_hk_next_open"])
    hk_tz = "Asia/Hong_Kong"
    assert day.earliest_utc.tz_convert(hk_tz) == pd.Timestamp("2025-02-11 13:00", tz=hk_tz)
    assert day.latest_utc.tz_convert(hk_tz) == pd.Timestamp("2025-02-12 13:00", tz=hk_tz)
    row_day, row_session = schedule_row(day, "9988.HK"), schedule_row(session, "9988.HK")
    assert (row_day.reaction_session, row_session.reaction_session) == (
        pd.Timestamp("2025-02-11"), pd.Timestamp("2025-02-12"))
    assert (row_day.first_trade_session, row_session.first_trade_session) == (
        pd.Timestamp("2025-02-13"), pd.Timestamp("2025-02-12"))
    assert (row_day.sessions_lost, row_session.sessions_lost) == (2, 0)
