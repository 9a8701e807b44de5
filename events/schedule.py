"""When could each listing first react to a catalyst, and when could a strategy first trade?

:func:`schedule_row` owns the rule; everything else (tables, CLI, strategies, event
studies) calls it. Sessions, opens and closes come from exchange_calendars, so lunch
breaks, half days, one-sided holidays, US DST and early closes are all handled by using
the real open and close instants of each session:

* ``reaction_session`` (day 0 of an event study) is the first session whose close is
  strictly after ``earliest_utc``: the first close that could carry the news. News that
  lands during a session or its lunch break makes that session day 0.
* ``first_trade`` is the first price point strictly after ``latest_utc`` under a fill
  policy:

  - ``next_open`` (default): the open of the first session that opens after ``latest``;
  - ``same_close``: a market-on-close order in the first session whose MOC cut-off
    (close minus ``Market.moc_cutoff_minutes``) is after ``latest``; a half day's
    close is 12:00 HKT, so news at 14:00 on a half day goes to the next session.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass
from functools import lru_cache
from typing import Literal

import numpy as np
import pandas as pd

from data_loaders.calendars import exchange_calendar
from data_loaders.errors import UserError
from data_loaders.markets import Listing, get_listing
from data_loaders.registry import active_registry
from events.catalyst import Catalyst

FillPolicy = Literal["next_open", "same_close"]
FILL_POLICIES: tuple[FillPolicy, ...] = ("next_open", "same_close")
PricePoint = Literal["open", "close"]


class ScheduleError(UserError, ValueError):
    """A catalyst cannot be placed on a listing's calendar (outside its range, not tradable)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ScheduleRow:
    """Where one catalyst lands on one listing's calendar.

    Attributes
    ----------
    catalyst_id, listing
        What and where.
    earliest_utc, latest_utc
        The catalyst's knowledge interval (UTC).
    reaction_session
        Day 0 for event studies: first session whose close is after ``earliest_utc``
        (naive session label).
    reaction_close_utc
        That session's close instant.
    fill_policy
        ``next_open`` or ``same_close``.
    first_trade_session
        Session label of the first bar a strategy may act on.
    first_trade_point
        ``open`` or ``close`` of that session.
    first_trade_utc
        The instant of that price point; always strictly after ``latest_utc``.
    sessions_lost
        Sessions of this listing between day 0 and the first-trade session (0 when the
        strategy can trade on the reaction session itself).
    """

    catalyst_id: str
    listing: str
    earliest_utc: pd.Timestamp
    latest_utc: pd.Timestamp
    reaction_session: pd.Timestamp
    reaction_close_utc: pd.Timestamp
    fill_policy: FillPolicy
    first_trade_session: pd.Timestamp
    first_trade_point: PricePoint
    first_trade_utc: pd.Timestamp
    sessions_lost: int


def _instants(series: pd.Series) -> np.ndarray:
    # DatetimeIndex(series) stays vectorised; series.to_numpy() would box every instant of
    # a tz-aware series into a Timestamp object first (~5 ms per call).
    idx = pd.DatetimeIndex(series)
    idx = idx.tz_localize("UTC") if idx.tz is None else idx.tz_convert("UTC")
    return idx.as_unit("ns").asi8  # nanoseconds, like Timestamp.value


@lru_cache(maxsize=None)
def _calendar_instants(code: str) -> tuple[pd.DatetimeIndex, np.ndarray, np.ndarray]:
    """(session labels, opens, closes as UTC ns) of calendar ``code``, computed once per code."""
    cal = exchange_calendar(code)
    sessions = pd.DatetimeIndex(cal.sessions).tz_localize(None)
    opens, closes = _instants(cal.opens), _instants(cal.closes)
    opens.flags.writeable = False  # shared by every call: read-only
    closes.flags.writeable = False
    return sessions, opens, closes


def _first_after(values: np.ndarray, instant: pd.Timestamp, what: str, catalyst_id: str,
                 listing: Listing) -> int:
    pos = int(np.searchsorted(values, instant.value, side="right"))
    if pos >= len(values):
        raise ScheduleError(
            f"catalyst {catalyst_id!r} on {listing.symbol}: no {listing.market.calendar_code} session "
            f"{what} after {instant.isoformat()} within the calendar; check the catalyst's date")
    return pos


def schedule_row(catalyst: Catalyst, listing: str | Listing,
                 fill_policy: FillPolicy = "next_open") -> ScheduleRow:
    """Place ``catalyst`` on ``listing``'s exchange calendar (the one rule; see module doc).

    Raises
    ------
    ScheduleError
        Unknown fill policy, a listing without an exchange calendar (FX), or an instant
        beyond the calendar's range.
    """
    lst = listing if isinstance(listing, Listing) else get_listing(listing)
    if fill_policy not in FILL_POLICIES:
        raise ScheduleError(f"fill policy {fill_policy!r} is not one of {FILL_POLICIES}")
    if lst.market.calendar_code is None:
        raise ScheduleError(f"{lst.symbol} has no exchange sessions; catalysts are scheduled on listings")
    sessions, opens, closes = _calendar_instants(lst.market.calendar_code)
    earliest, latest = catalyst.earliest_utc, catalyst.latest_utc
    if earliest.value < opens[0]:
        raise ScheduleError(
            f"catalyst {catalyst.id!r}: {earliest.isoformat()} is before the calendar starts "
            f"({sessions[0]:%Y-%m-%d})")

    day0 = _first_after(closes, earliest, "closing", catalyst.id, lst)
    if fill_policy == "next_open":
        trade = _first_after(opens, latest, "opening", catalyst.id, lst)
        point: PricePoint = "open"
        instant = opens[trade]
    else:
        cutoffs = closes - pd.Timedelta(minutes=lst.market.moc_cutoff_minutes).value
        trade = _first_after(cutoffs, latest, "with a market-on-close cut-off", catalyst.id, lst)
        point = "close"
        instant = closes[trade]
    return ScheduleRow(
        catalyst_id=catalyst.id,
        listing=lst.symbol,
        earliest_utc=earliest,
        latest_utc=latest,
        reaction_session=sessions[day0],
        reaction_close_utc=pd.Timestamp(closes[day0], tz="UTC"),
        fill_policy=fill_policy,
        first_trade_session=sessions[trade],
        first_trade_point=point,
        first_trade_utc=pd.Timestamp(instant, tz="UTC"),
        sessions_lost=trade - day0,
    )


@dataclass(frozen=True, kw_only=True, slots=True)
class EventSchedule:
    """Schedule rows for catalysts × listings, plus what could not be scheduled."""

    rows: tuple[ScheduleRow, ...]
    problems: tuple[str, ...] = ()
    catalysts: tuple[Catalyst, ...] = ()

    def catalyst(self, catalyst_id: str) -> Catalyst:
        """The catalyst behind a row (KeyError when the schedule was built without it)."""
        for cat in self.catalysts:
            if cat.id == catalyst_id:
                return cat
        raise KeyError(f"catalyst {catalyst_id!r} is not in this schedule")

    def for_listing(self, symbol: str) -> tuple[ScheduleRow, ...]:
        return tuple(r for r in self.rows if r.listing == symbol)

    def to_frame(self) -> pd.DataFrame:
        """One row per catalyst × listing, columns as :class:`ScheduleRow` fields."""
        cols = list(ScheduleRow.__dataclass_fields__)
        return pd.DataFrame([asdict(r) for r in self.rows], columns=cols)


def build_schedule(catalysts: Iterable[Catalyst], listings: Sequence[str] | None = None,
                   fill_policy: FillPolicy = "next_open", apply_to: str = "named") -> EventSchedule:
    """Schedule every catalyst on each listing it concerns (restricted to ``listings``).

    A catalyst concerns the listings its targets expand to in the active registry
    (``"0700.HK"``, ``"@alibaba"``, ``"@china_internet"``); with ``apply_to="all"`` it
    concerns every listing in ``listings`` instead (spill-over studies).

    A catalyst that cannot be placed is reported in ``problems``; the rest go on.
    Rows are ordered by first-trade instant, then catalyst id, then listing.
    """
    if apply_to not in ("named", "all"):
        raise ValueError(f"apply_to = {apply_to!r}; use 'named' or 'all'")
    if apply_to == "all" and listings is None:
        raise ValueError("apply_to='all' needs the listings to aim the catalysts at")
    registry = active_registry()
    rows: list[ScheduleRow] = []
    problems: list[str] = []
    catalysts = tuple(catalysts)
    for cat in catalysts:
        targets = tuple(listings) if apply_to == "all" else registry.expand_all(cat.listings)
        for sym in targets:
            if listings is not None and sym not in listings:
                continue
            try:
                rows.append(schedule_row(cat, sym, fill_policy))
            except ScheduleError as exc:
                problems.append(str(exc))
    rows.sort(key=lambda r: (r.first_trade_utc, r.catalyst_id, r.listing))
    return EventSchedule(rows=tuple(rows), problems=tuple(problems), catalysts=catalysts)


def explain_no_rows(catalysts: Sequence[Catalyst], listings: Sequence[str], *, calendar: str) -> str:
    """Why a schedule aimed at ``listings`` has no row, and what to change."""
    if not catalysts:
        return f"calendar {calendar!r} has no catalyst in this selection ([events] only?)"
    registry = active_registry()
    named = sorted({s for c in catalysts for s in registry.expand_all(c.listings)})
    return (f"no catalyst of calendar {calendar!r} concerns {', '.join(listings)}: its "
            f"{len(catalysts)} catalyst(s) name {', '.join(named)}. To test whether this news moved "
            f"other listings (spill-over), set [events] apply_to = \"all\"; or add the listings "
            f"(or an @issuer / @basket target) to the catalysts' listings in the calendar")
