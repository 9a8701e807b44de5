"""The built exchange calendars are kept on disk (issue 15: a single run is mostly start-up).

A cached calendar is used as is; a missing or unreadable cache file is rebuilt from
exchange_calendars and rewritten; the sessions are the library's either way.
"""

from __future__ import annotations

from pathlib import Path

import exchange_calendars as xcals
import pandas as pd
import pytest

from data_loaders import calendars


@pytest.fixture()
def fresh(monkeypatch: pytest.MonkeyPatch, tmp_path: Path):
    monkeypatch.setenv("CATALYST_BT_CACHE", str(tmp_path))
    calendars.exchange_calendar.cache_clear()
    yield tmp_path
    calendars.exchange_calendar.cache_clear()


def test_built_once_then_read_from_disk(fresh: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    built = calendars.exchange_calendar("XNYS")
    path = calendars._cached_path("XNYS")
    assert path is not None and path.is_file() and path.is_relative_to(fresh)
    calendars.exchange_calendar.cache_clear()
    monkeypatch.setattr(calendars, "_build", lambda code: pytest.fail("rebuilt although cached"))
    again = calendars.exchange_calendar("XNYS")
    pd.testing.assert_index_equal(again.sessions, built.sessions)
    pd.testing.assert_series_equal(again.closes, built.closes)
    ref = xcals.get_calendar("XNYS", start=calendars.CALENDAR_START, end=calendars.CALENDAR_END)
    pd.testing.assert_index_equal(again.sessions, ref.sessions)


def test_unreadable_cache_file_is_rebuilt(fresh: Path) -> None:
    path = calendars._cached_path("XHKG")
    assert path is not None
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not a pickle")
    cal = calendars.exchange_calendar("XHKG")
    assert pd.Timestamp("2023-09-08") not in cal.sessions  # our weather closure survives the cache
    assert path.read_bytes() != b"not a pickle"
