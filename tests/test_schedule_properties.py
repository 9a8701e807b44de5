"""No look-ahead in the schedule rule, as hypothesis properties.

(a) the first trade is never at or before ``latest`` — and never later than needed;
(c) moving a catalyst later (or knowing it less precisely) never lets a trade happen
earlier, nor day 0. Property (b), decisions vs. noise after t, lives with the strategy
base. Instants cover 2016-2028 in zones with and without DST, including ones that move
their clocks at midnight (America/Santiago) or by 30 / 45 minutes.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from data_loaders.calendars import exchange_calendar
from data_loaders.markets import get_listing
from events.catalyst import PRECISIONS, Catalyst
from events.schedule import FILL_POLICIES, schedule_row

ZONES = ("Asia/Hong_Kong", "Asia/Shanghai", "America/New_York", "Europe/London", "Asia/Dubai",
         "Asia/Kolkata", "Asia/Kathmandu", "America/Santiago", "Australia/Lord_Howe", "UTC")
LISTINGS = ("9988.HK", "BABA")
PROPERTY_SETTINGS = settings(max_examples=200, deadline=None)


def _dst_transitions(zone: str, years: range) -> list[datetime]:
    """UTC instants (naive, to the minute) at which ``zone`` changes its offset."""
    tz = ZoneInfo(zone)
    out: list[datetime] = []
    day = datetime(years.start, 1, 1)
    while day.year < years.stop:
        nxt = day + timedelta(days=1)
        if day.replace(tzinfo=UTC).astimezone(tz).utcoffset() != nxt.replace(tzinfo=UTC).astimezone(tz).utcoffset():
            lo, hi = day, nxt  # bisect to the minute
            while hi - lo > timedelta(minutes=1):
                mid = lo + (hi - lo) / 2
                same = (mid.replace(tzinfo=UTC).astimezone(tz).utcoffset()
                        == lo.replace(tzinfo=UTC).astimezone(tz).utcoffset())
                lo, hi = (mid, hi) if same else (lo, mid)
            out.append(hi)
        day = nxt
    return out


# Instants near clock changes are where wall-clock arithmetic breaks (repeated or missing
# hours, midnights that do not exist), so a third of the examples are drawn there.
DST_ZONES = ("America/New_York", "America/Santiago", "Europe/London", "Australia/Lord_Howe")
TRANSITIONS = [(zone, t) for zone in DST_ZONES for t in _dst_transitions(zone, range(2016, 2028))]


@st.composite
def catalysts(draw: st.DrawFn) -> Catalyst:
    """Any catalyst the model accepts, between 2016 and mid-2028 (inside the calendars)."""
    if draw(st.integers(min_value=0, max_value=2)) == 0:
        zone, change = draw(st.sampled_from(TRANSITIONS))
        utc = change + timedelta(seconds=draw(st.integers(min_value=-3 * 3600, max_value=3 * 3600)))
    else:
        utc = draw(st.datetimes(min_value=datetime(2016, 1, 1), max_value=datetime(2028, 6, 30)))
        zone = draw(st.sampled_from(ZONES))
    at = pd.Timestamp(utc).tz_localize("UTC").tz_convert(zone)
    precision = draw(st.sampled_from(PRECISIONS))
    until = None
    if precision == "range":
        until = at + pd.Timedelta(seconds=draw(st.integers(min_value=1, max_value=10 * 86400)))
    return Catalyst(id="c", headline="h", published_at=at, precision=precision, published_until=until,
                    listings=LISTINGS)


def _shifted(cat: Catalyst, seconds: int) -> Catalyst:
    delta = pd.Timedelta(seconds=seconds)
    until = cat.published_until + delta if cat.published_until is not None else None
    return Catalyst(id=cat.id, headline=cat.headline, published_at=cat.published_at + delta,
                    precision=cat.precision, published_until=until, listings=cat.listings)


def _utc_ns(series: pd.Series) -> np.ndarray:
    idx = pd.DatetimeIndex(series.to_numpy())
    return (idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")).asi8


@PROPERTY_SETTINGS
@given(cat=catalysts(), listing=st.sampled_from(LISTINGS), policy=st.sampled_from(FILL_POLICIES))
def test_first_trade_is_strictly_after_latest_and_not_later_than_needed(
        cat: Catalyst, listing: str, policy: str) -> None:
    row = schedule_row(cat, listing, policy)  # type: ignore[arg-type]
    assert cat.earliest_utc <= cat.latest_utc
    # (a) never at or before the moment the news is surely out
    assert row.first_trade_utc > row.latest_utc == cat.latest_utc
    assert row.reaction_close_utc > row.earliest_utc
    assert row.reaction_session <= row.first_trade_session
    assert row.sessions_lost >= 0

    # The instants are the calendar's own open / close of those sessions ...
    cal = exchange_calendar(get_listing(listing).market.calendar_code or "")
    sessions = pd.DatetimeIndex(cal.sessions).tz_localize(None)
    opens, closes = _utc_ns(cal.opens), _utc_ns(cal.closes)
    trade = sessions.get_loc(row.first_trade_session)
    day0 = sessions.get_loc(row.reaction_session)
    assert row.first_trade_utc.value == (opens if row.first_trade_point == "open" else closes)[trade]
    assert row.reaction_close_utc.value == closes[day0]
    assert row.sessions_lost == trade - day0
    # ... and the rule is not needlessly late: the previous session could not carry / trade it.
    if day0 > 0:
        assert closes[day0 - 1] <= cat.earliest_utc.value
    if trade > 0:
        if policy == "next_open":
            assert opens[trade - 1] <= cat.latest_utc.value
        else:
            cutoff = pd.Timedelta(minutes=get_listing(listing).market.moc_cutoff_minutes).value
            assert closes[trade - 1] - cutoff <= cat.latest_utc.value


@PROPERTY_SETTINGS
@given(cat=catalysts(), later_s=st.integers(min_value=0, max_value=20 * 86400),
       listing=st.sampled_from(LISTINGS), policy=st.sampled_from(FILL_POLICIES))
def test_moving_a_catalyst_later_never_trades_earlier(cat: Catalyst, later_s: int, listing: str,
                                                      policy: str) -> None:
    moved = _shifted(cat, later_s)
    before = schedule_row(cat, listing, policy)  # type: ignore[arg-type]
    after = schedule_row(moved, listing, policy)  # type: ignore[arg-type]
    assert moved.latest_utc >= cat.latest_utc
    assert after.first_trade_utc >= before.first_trade_utc
    assert after.first_trade_session >= before.first_trade_session
    assert after.reaction_session >= before.reaction_session


@PROPERTY_SETTINGS
@given(cat=catalysts(), extra_s=st.integers(min_value=1, max_value=10 * 86400),
       listing=st.sampled_from(LISTINGS), policy=st.sampled_from(FILL_POLICIES))
def test_a_later_end_of_the_interval_never_trades_earlier(cat: Catalyst, extra_s: int, listing: str,
                                                          policy: str) -> None:
    """Knowing the time less precisely (a later ``latest``) never moves the first trade earlier."""
    wider = Catalyst(id=cat.id, headline=cat.headline, published_at=cat.published_at, precision="range",
                     published_until=cat.latest_utc + pd.Timedelta(seconds=extra_s), listings=cat.listings)
    narrow = schedule_row(cat, listing, policy)  # type: ignore[arg-type]
    wide = schedule_row(wider, listing, policy)  # type: ignore[arg-type]
    assert wide.first_trade_utc >= narrow.first_trade_utc


@PROPERTY_SETTINGS
@given(cat=catalysts(), listing=st.sampled_from(LISTINGS))
def test_market_on_close_is_never_later_than_the_next_open_session(cat: Catalyst, listing: str) -> None:
    """same_close trades in the next-open session or earlier: its close is after that open."""
    moc = schedule_row(cat, listing, "same_close")
    nxt = schedule_row(cat, listing, "next_open")
    assert moc.first_trade_session <= nxt.first_trade_session
    assert moc.reaction_session == nxt.reaction_session


def test_dst_fall_back_hour_is_placed_on_its_own_offset() -> None:
    """01:30 on 2025-11-02 happens twice in New York; each occurrence keeps its own hour."""
    first = pd.Timestamp("2025-11-02T01:30-04:00").tz_convert("America/New_York")
    second = pd.Timestamp("2025-11-02T01:30-05:00").tz_convert("America/New_York")
    for ts, start_utc in ((first, "2025-11-02T05:00Z"), (second, "2025-11-02T06:00Z")):
        cat = Catalyst(id="x", headline="h", published_at=ts, precision="hour", listings=("BABA",))
        assert cat.earliest_utc == pd.Timestamp(start_utc)
        assert cat.latest_utc - cat.earliest_utc == timedelta(hours=1)
