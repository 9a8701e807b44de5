"""Validation: each bad-input case gives a message naming file, line and value; gaps are reported."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from data_loaders.csv_source import CsvFolderSource
from data_loaders.errors import DataValidationError
from data_loaders.validation import restrict_bars

HEADER = "date,open,high,low,close,adj_close,volume"
# XHKG sessions of the week 2025-02-10 (Mon) .. 2025-02-14 (Fri).
GOOD = [
    "2025-02-10,100.0,102.0,99.0,101.0,100.0,1000",
    "2025-02-11,101.0,103.0,100.0,102.0,101.0,1000",
    "2025-02-12,102.0,104.0,101.0,103.0,102.0,1000",
    "2025-02-13,103.0,105.0,102.0,104.0,103.0,1000",
    "2025-02-14,104.0,106.0,103.0,105.0,104.0,1000",
]


def write(tmp_path: Path, rows: list[str], symbol: str = "9988.HK") -> tuple[CsvFolderSource, Path]:
    path = tmp_path / f"{symbol}.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return CsvFolderSource(tmp_path), path


def problems(tmp_path: Path, rows: list[str]) -> tuple[DataValidationError, Path]:
    source, path = write(tmp_path, rows)
    with pytest.raises(DataValidationError) as err:
        source.daily_bars("9988.HK")
    return err.value, path


def test_clean_file_has_no_issues(tmp_path):
    source, _ = write(tmp_path, GOOD)
    bars = source.daily_bars("9988.HK")
    assert len(bars) == 5 and bars.issues == ()


def test_nan_price_names_file_line_and_value(tmp_path):
    rows = GOOD.copy()
    rows[1] = "2025-02-11,101.0,103.0,100.0,,101.0,1000"  # line 3: empty close
    err, path = problems(tmp_path, rows)
    assert err.origin == str(path) and str(path) in str(err)
    assert len(err.problems) == 1
    assert err.problems[0].startswith("line 3 (2025-02-11): close = nan is not a positive price")


@pytest.mark.parametrize("value", ["0", "-5.0", "abc"])
def test_non_positive_or_non_numeric_price(tmp_path, value):
    rows = GOOD.copy()
    rows[3] = f"2025-02-13,{value},105.0,102.0,104.0,103.0,1000"  # line 5
    err, _ = problems(tmp_path, rows)
    assert err.problems[0].startswith(f"line 5 (2025-02-13): open = '{value}' is not a positive price")


def test_high_below_low(tmp_path):
    rows = GOOD.copy()
    rows[2] = "2025-02-12,102.0,99.0,104.0,103.0,102.0,1000"  # line 4
    err, _ = problems(tmp_path, rows)
    assert err.problems == ["line 4 (2025-02-12): high 99.0 < low 104.0; the columns may be swapped"]


def test_unparseable_date(tmp_path):
    rows = GOOD.copy()
    rows[0] = "10/02/2025x,100.0,102.0,99.0,101.0,100.0,1000"
    err, _ = problems(tmp_path, rows)
    assert err.problems[0].startswith("line 2: date '10/02/2025x' is not a date")


def test_conflicting_duplicate_is_fatal_and_names_both_lines(tmp_path):
    rows = [*GOOD, "2025-02-14,104.0,106.0,103.0,999.0,104.0,1000"]  # line 7 repeats line 6
    err, _ = problems(tmp_path, rows)
    assert err.problems[0].startswith("session 2025-02-14 appears 2 times with different values (line 6, line 7)")


def test_identical_duplicate_is_dropped_and_reported(tmp_path):
    source, _ = write(tmp_path, [*GOOD, GOOD[-1]])
    bars = source.daily_bars("9988.HK")
    assert len(bars) == 5
    assert [(i.kind, i.sessions) for i in bars.issues] == [("duplicate_rows_dropped", ("2025-02-14",))]


def test_unsorted_rows_are_sorted_and_reported(tmp_path):
    source, _ = write(tmp_path, [GOOD[2], GOOD[0], GOOD[1], GOOD[4], GOOD[3]])
    bars = source.daily_bars("9988.HK")
    assert bars.sessions.is_monotonic_increasing and len(bars) == 5
    assert [i.kind for i in bars.issues] == ["unsorted"]


def test_row_on_a_non_session_is_dropped_and_named(tmp_path):
    saturday = "2025-02-15,105.0,107.0,104.0,106.0,105.0,1000"
    source, _ = write(tmp_path, [*GOOD, saturday, "2025-02-17,106.0,108.0,105.0,107.0,106.0,1000"])
    bars = source.daily_bars("9988.HK")
    assert pd.Timestamp("2025-02-15") not in bars.sessions and len(bars) == 6
    assert [(i.kind, i.sessions) for i in bars.issues] == [("non_sessions_dropped", ("2025-02-15",))]
    assert "XHKG has no session" in bars.issues[0].message


def test_missing_sessions_are_reported_with_dates_not_filled(tmp_path):
    source, _ = write(tmp_path, [GOOD[0], GOOD[3], GOOD[4]])
    bars = source.daily_bars("9988.HK")
    assert len(bars) == 3
    (issue,) = bars.issues
    assert issue.kind == "missing_sessions" and issue.sessions == ("2025-02-11", "2025-02-12")
    assert "2025-02-11, 2025-02-12" in issue.message and "not filled" in issue.message


def test_flat_zero_volume_placeholder_is_reported(tmp_path):
    rows = GOOD.copy()
    rows[2] = "2025-02-12,102.0,102.0,102.0,102.0,102.0,0"
    source, _ = write(tmp_path, rows)
    assert [(i.kind, i.sessions) for i in source.daily_bars("9988.HK").issues] == \
        [("placeholder_rows", ("2025-02-12",))]


def test_missing_column_names_what_was_found(tmp_path):
    path = tmp_path / "9988.HK.csv"
    path.write_text("date,open,high,close\n2025-02-10,1,2,1.5\n")
    with pytest.raises(DataValidationError, match=r"missing column\(s\) \['low'\]; found \['date', 'open', 'high', "
                                                  r"'close'\]"):
        CsvFolderSource(tmp_path).daily_bars("9988.HK")


def test_restrict_bars_reports_only_its_span(tmp_path):
    source, _ = write(tmp_path, [GOOD[0], GOOD[1], GOOD[3], GOOD[4], GOOD[4]])  # gap 02-12, dup 02-14
    bars = source.daily_bars("9988.HK")
    assert {i.kind for i in bars.issues} == {"missing_sessions", "duplicate_rows_dropped"}
    early = restrict_bars(bars, start="2025-02-10", end="2025-02-11")
    assert len(early) == 2 and early.issues == ()
    late = restrict_bars(bars, start="2025-02-11")
    assert [(i.kind, i.sessions) for i in late.issues] == [("duplicate_rows_dropped", ("2025-02-14",)),
                                                            ("missing_sessions", ("2025-02-12",))]
    assert restrict_bars(bars) is bars


@pytest.mark.realdata
def test_real_9988_reports_its_two_dropped_half_days(prices_dir):
    bars = CsvFolderSource(prices_dir).daily_bars("9988.HK")
    missing = [i for i in bars.issues if i.kind == "missing_sessions"]
    assert len(missing) == 1 and missing[0].sessions == ("2025-12-24", "2026-02-16")
    assert bars.frame.loc["2025-02-12", "close"] == 113.80


@pytest.mark.realdata
def test_real_0700_reports_2025_01_28_missing(prices_dir):
    bars = CsvFolderSource(prices_dir).daily_bars("0700.HK")
    (missing,) = [i for i in bars.issues if i.kind == "missing_sessions"]
    assert "2025-01-28" in missing.sessions
    assert pd.Timestamp("2025-01-28") not in bars.sessions


def test_unsorted_duplicated_rows_sliced_and_adjusted_by_hand(tmp_path):
    """The rows kept: the first of each session, in date order, inside [start, end]; OHLC
    scaled by adj_close / close (02-12: factor 102/103; 02-13: 103/104)."""
    rows = [GOOD[3], GOOD[1], GOOD[2], GOOD[3], GOOD[0]]
    source, _ = write(tmp_path, rows)
    bars = source.daily_bars("9988.HK", start="2025-02-11", end="2025-02-13", adjustment="adjusted")
    assert [f"{d:%m-%d}" for d in bars.frame.index] == ["02-11", "02-12", "02-13"]
    assert bars.frame.loc["2025-02-12", "close"] == pytest.approx(102.0)
    assert bars.frame.loc["2025-02-13", "open"] == pytest.approx(103.0 * 103.0 / 104.0)
    assert list(bars.frame.columns) == ["open", "high", "low", "close", "volume", "close_utc"]
    assert bars.frame.index.name == "session"
    assert {i.kind for i in bars.issues} == {"duplicate_rows_dropped", "unsorted"}
