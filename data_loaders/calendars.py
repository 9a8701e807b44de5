"""Exchange calendars: the only place sessions come from.

We use ``exchange_calendars`` with a fixed bound (so results do not depend on today's
date, which is the library's default anchor) and add closures the library does not know.

Building a calendar (every holiday rule over 2015–2028) takes about a quarter of a second,
as long as a whole single backtest; the built calendar is therefore kept as a pickle in the
cache folder (:func:`data_loaders.cache.default_cache_dir`), keyed by the library versions
and this module's source (bounds, closures), and rebuilt whenever it is missing or unreadable.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path

import exchange_calendars as xcals
import pandas as pd
from exchange_calendars.exchange_calendar_xhkg import XHKGExchangeCalendar

CALENDAR_START = pd.Timestamp("2015-01-02")
CALENDAR_END = pd.Timestamp("2028-12-29")

# Whole-day closures for severe weather that exchange_calendars does not carry.
# HKEX cancelled trading for the full day on both dates (Typhoon Saola signal No. 8,
# 2023-09-01; black rainstorm warning, 2023-09-08). Since 2024-09-23 HKEX trades
# through severe weather, so no later dates are expected here.
HK_WEATHER_CLOSURES: tuple[pd.Timestamp, ...] = (
    pd.Timestamp("2023-09-01"),
    pd.Timestamp("2023-09-08"),
)


class _XHKGWithWeather(XHKGExchangeCalendar):
    """XHKG plus the severe-weather closures listed in ``HK_WEATHER_CLOSURES``."""

    @property
    def adhoc_holidays(self) -> list[pd.Timestamp]:
        return list(super().adhoc_holidays) + list(HK_WEATHER_CLOSURES)


@lru_cache(maxsize=None)
def exchange_calendar(code: str) -> xcals.ExchangeCalendar:
    """Return the exchange calendar ``code`` ("XHKG", "XNYS", ...), bounded 2015–2028
    (from the on-disk cache when a matching one is there; see the module docstring).

    Raises
    ------
    ValueError
        If ``code`` is not a calendar exchange_calendars knows.
    """
    path = _cached_path(code)
    if path is not None and path.is_file():
        try:
            with path.open("rb") as fh:
                cal = pickle.load(fh)
            if isinstance(cal, xcals.ExchangeCalendar) and cal.name == _build_name(code):
                return cal
        except Exception:  # noqa: BLE001 - any unreadable cache file is rebuilt below
            pass
    cal = _build(code)
    if path is not None:
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
            with os.fdopen(fd, "wb") as fh:
                pickle.dump(cal, fh, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except OSError:  # a read-only home: build every time
            pass
    return cal


def _build_name(code: str) -> str:
    return "XHKG" if code == "XHKG" else code


def _cached_path(code: str) -> Path | None:
    from data_loaders.cache import default_cache_dir  # the cache module imports this one

    if not code.replace("_", "").isalnum():
        return None
    source = hashlib.sha256(Path(__file__).read_bytes()).hexdigest()  # this module's closures and bounds
    key = repr((code, xcals.__version__, pd.__version__, source))
    return default_cache_dir() / "calendars" / f"{code}-{hashlib.sha256(key.encode()).hexdigest()[:16]}.pickle"


def _build(code: str) -> xcals.ExchangeCalendar:
    if code == "XHKG":
        return _XHKGWithWeather(start=CALENDAR_START, end=CALENDAR_END)
    try:
        return xcals.get_calendar(code, start=CALENDAR_START, end=CALENDAR_END)
    except xcals.errors.InvalidCalendarName as exc:  # pragma: no cover - message path
        raise ValueError(
            f"unknown exchange calendar {code!r}; use one of exchange_calendars' codes "
            f"such as 'XHKG' or 'XNYS'"
        ) from exc


def sessions_between(code: str, start: pd.Timestamp, end: pd.Timestamp) -> pd.DatetimeIndex:
    """Sessions of calendar ``code`` with ``start <= session <= end`` (naive dates)."""
    cal = exchange_calendar(code)
    start = max(pd.Timestamp(start).normalize(), cal.first_session)
    end = min(pd.Timestamp(end).normalize(), cal.last_session)
    if start > end:
        return pd.DatetimeIndex([], name="session")
    return pd.DatetimeIndex(cal.sessions_in_range(start, end), name="session").tz_localize(None)


def session_closes_utc(code: str, sessions: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Close instant (tz-aware UTC) of each session, half days and early closes included."""
    return _at_sessions(exchange_calendar(code).closes, sessions, "close_utc")


def session_opens_utc(code: str, sessions: pd.DatetimeIndex) -> pd.DatetimeIndex:
    """Open instant (tz-aware UTC) of each session."""
    return _at_sessions(exchange_calendar(code).opens, sessions, "open_utc")


def _at_sessions(instants: pd.Series, sessions: pd.DatetimeIndex, name: str) -> pd.DatetimeIndex:
    """``instants`` (indexed by session) at ``sessions`` as UTC, NaT where a label is no session."""
    at = instants.index.get_indexer(pd.DatetimeIndex(sessions))
    idx = pd.DatetimeIndex(instants.array.take(at, allow_fill=True), name=name)
    return idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")


def sessions_per_year(code: str, start: pd.Timestamp, end: pd.Timestamp) -> float:
    """Average number of sessions per calendar year of ``code`` over [start, end].

    Used for annualisation: HK is about 246, the US about 251 — never a hard-coded 252.
    Whole calendar years covering the span are used so short spans are not distorted.
    """
    first_year = pd.Timestamp(start).year
    last_year = pd.Timestamp(end).year
    counts = [
        len(sessions_between(code, pd.Timestamp(f"{y}-01-01"), pd.Timestamp(f"{y}-12-31")))
        for y in range(first_year, last_year + 1)
    ]
    return float(sum(counts)) / len(counts)


def previous_session(code: str, session: pd.Timestamp) -> pd.Timestamp | None:
    """The session of calendar ``code`` before ``session`` (a session label); None before coverage."""
    cal = exchange_calendar(code)
    day = pd.Timestamp(session).normalize()
    if day <= cal.first_session or day > cal.last_session:
        return None
    sessions = cal.sessions
    i = int(sessions.searchsorted(day))  # first session >= day
    return pd.Timestamp(sessions[i - 1]).tz_localize(None) if i > 0 else None
