"""When a price statement starts and ends: period words -> dates -> sessions of the listing's exchange.

Two steps, each written down for the reader:

1. :func:`period_rule` turns a claim's cues into calendar-free rules: year to date (年内 /
   this year) starts at the previous year's last close; "自 1 月 13 日 … 以来" / "since
   Jan 13" at that day's close; 同期 / "over the same period" takes the period of the claim
   it is compared with; a single day (周三 / on Wednesday) runs from the previous close to
   that day's close; "截至 … 收盘" / "as of" ends at that day's close; with no end the
   last close before the article's publication time is used (only when the article
   states that time).
2. :func:`sessions_for` places the rules on the listing's exchange calendar
   (:mod:`data_loaders.calendars`): a day that is not a session moves to the last session
   before it, and says so.

A rule that cannot be fixed (an undated low, a relative date in an undated article, a
quote during the session) is a *problem* string, never a guess.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Literal

import pandas as pd

from data_loaders.calendars import CALENDAR_END, CALENDAR_START, session_closes_utc, sessions_between
from events.claims import Claim, Cue
from events.extract import ArticleDate

StartKind = Literal["year_end", "close_on", "session_before"]
EndKind = Literal["close_on", "before_instant"]


@dataclass(frozen=True, kw_only=True, slots=True)
class PeriodRule:
    """A period in words turned into rules that any exchange calendar can place.

    ``start_kind`` / ``start_day``: ``year_end`` (last session of ``start_day.year``),
    ``close_on`` (the session on or before the day) or ``session_before`` (the session
    before the day's own session); ``None`` for a closing price. ``end_kind``:
    ``close_on`` (``end_day``) or ``before_instant`` (last close before ``published``).
    """

    start_kind: StartKind | None
    start_day: date | None
    end_kind: EndKind
    end_day: date | None
    published: datetime | None
    steps: tuple[str, ...]


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionPeriod:
    """A period on one exchange calendar: closes of ``start`` (``None`` for a close) and ``end``."""

    calendar: str
    start: pd.Timestamp | None
    end: pd.Timestamp
    steps: tuple[str, ...]


def _end(claim: Claim, anchor: ArticleDate, published: datetime | None
         ) -> tuple[EndKind, date | None, list[str]] | str:
    cue = claim.end
    if cue is not None and cue.kind == "intraday":
        return (f"{cue.text!r}: a price during the session (at the time of writing); daily bars hold the open, "
                f"high, low and close only")
    if cue is not None:
        if cue.day is None:
            return f"end {cue.text!r} cannot be dated: {cue.how}"
        return "close_on", cue.day, [f"end {cue.text!r} = the close of {cue.day} ({cue.how})"]
    if published is not None:
        return "before_instant", None, [f"no end date: the last close before the article's publication "
                                        f"({published:%Y-%m-%d %H:%M} {published.tzname() or ''})".rstrip()]
    when = f"dated {anchor.day} without a time" if anchor.day and anchor.exact else \
        f"undated (the {anchor.source} gives only a guess)" if anchor.day or anchor.year else "undated"
    return (f"no end date in the sentence and the article is {when}: cannot tell which close is meant "
            f"(write the date, or give the publication time: front matter date, or --article-date "
            f"'YYYY-MM-DD HH:MM')")


def _start(cue: Cue | None, end_day: date | None, published: datetime | None
           ) -> tuple[StartKind, date, list[str]] | str:
    if cue is None:
        return "no start of the period (年内 / 自 … 以来 / this year / since …) for this return"
    if cue.kind == "ytd":
        year = cue.year or (end_day.year if end_day else published.year if published else None)
        if year is None:
            return f"{cue.text!r} = year to date, but the year is unknown"
        return "year_end", date(year - 1, 12, 31), [f"{cue.text!r} = year to date: from the last close of {year - 1}"]
    if cue.kind in ("since", "day"):
        if cue.day is None:
            return f"start {cue.text!r} cannot be dated: {cue.how}"
        if cue.kind == "day":
            return "session_before", cue.day, [f"{cue.text!r} = the move of the session of {cue.day} ({cue.how}), "
                                               f"from the previous close"]
        return "close_on", cue.day, [f"{cue.text!r} = from the close of {cue.day} ({cue.how})"]
    if cue.kind == "past_week":
        if end_day is None:
            return f"{cue.text!r} needs the end date of the week"
        day = end_day - timedelta(days=7)
        return "close_on", day, [f"{cue.text!r} = from the close a week before the end ({day})"]
    if cue.kind == "low":
        return f"{cue.text!r}: from a low the sentence does not date; the start of the move is unknown"
    return f"period word {cue.text!r} is not understood"


def period_rule(claim: Claim, *, anchor: ArticleDate, published: datetime | None,
                rules: dict[int, PeriodRule | str]) -> PeriodRule | str:
    """The rule of ``claim``'s period, or the reason there is none.

    Parameters
    ----------
    claim
        The claim (its cues as found by :func:`events.claims.find_claims`).
    anchor, published
        The article's date and publication instant (``None`` when not stated).
    rules
        Rules (or problems) of the claims before this one, by index: 同期 / "the same
        period" copies the rule of the claim compared with.
    """
    carried = [claim.period_note] if claim.period_note else []
    if claim.start is not None and claim.start.kind == "same_period":
        ref = claim.compared_with
        if ref is None:
            return f"{claim.start.text!r} = the period of an earlier statement, but there is none before it"
        other = rules.get(ref)
        if other is None or isinstance(other, str):
            return f"{claim.start.text!r} = the period of claim #{ref + 1}, which is unresolved"
        return PeriodRule(start_kind=other.start_kind, start_day=other.start_day, end_kind=other.end_kind,
                          end_day=other.end_day, published=other.published,
                          steps=(*carried, f"{claim.start.text!r} = the period of claim #{ref + 1}", *other.steps))
    if claim.start is not None and claim.start.kind == "day":
        start = _start(claim.start, claim.start.day, published)
        if isinstance(start, str):
            return start
        return PeriodRule(start_kind=start[0], start_day=start[1], end_kind="close_on", end_day=claim.start.day,
                          published=published, steps=(*carried, *start[2]))
    end = _end(claim, anchor, published)
    if isinstance(end, str):
        return end
    end_kind, end_day, end_steps = end
    if claim.quantity == "close":
        return PeriodRule(start_kind=None, start_day=None, end_kind=end_kind, end_day=end_day, published=published,
                          steps=(*carried, *end_steps))
    reference_day = end_day or (published.date() if published else None)
    start = _start(claim.start, reference_day, published)
    if isinstance(start, str):
        return start
    return PeriodRule(start_kind=start[0], start_day=start[1], end_kind=end_kind, end_day=end_day,
                      published=published, steps=(*carried, *start[2], *end_steps))


def _on_or_before(calendar: str, day: date) -> pd.Timestamp | None:
    ts = pd.Timestamp(day)
    found = sessions_between(calendar, ts - pd.Timedelta(days=20), ts)
    return found[-1] if len(found) else None


def sessions_for(rule: PeriodRule, calendar: str) -> SessionPeriod | str:
    """Place ``rule`` on the exchange calendar ``calendar`` ("XHKG", "XNYS").

    Returns the sessions whose closes bound the period, or a problem string (a day
    outside the calendar's range, a single day that is not a session, an end after the
    article was published).
    """
    steps: list[str] = []
    days = [d for d in (rule.start_day, rule.end_day) if d is not None]
    for d in days:
        if not (CALENDAR_START.date() <= d <= CALENDAR_END.date()):
            return f"{d} is outside the exchange calendars' range ({CALENDAR_START:%Y}-{CALENDAR_END:%Y})"
    if rule.end_kind == "before_instant":
        assert rule.published is not None
        instant = pd.Timestamp(rule.published).tz_convert("UTC")
        sessions = sessions_between(calendar, instant.tz_localize(None) - pd.Timedelta(days=20),
                                    instant.tz_localize(None))
        closes = session_closes_utc(calendar, sessions)
        done = sessions[closes <= instant]
        if not len(done):
            return f"no {calendar} session closed in the 20 days before {rule.published}"
        end = done[-1]
        steps.append(f"{calendar}: last close before publication = {end:%Y-%m-%d}")
    else:
        assert rule.end_day is not None
        found = _on_or_before(calendar, rule.end_day)
        if found is None:
            return f"no {calendar} session on or before {rule.end_day}"
        end = found
        if end.date() != rule.end_day:
            steps.append(f"{rule.end_day} is not a {calendar} session: the close of {end:%Y-%m-%d} before it")
        if rule.published is not None:
            close = session_closes_utc(calendar, pd.DatetimeIndex([end]))[0]
            if close > pd.Timestamp(rule.published).tz_convert("UTC"):
                return (f"the {calendar} close of {end:%Y-%m-%d} comes after the article's publication "
                        f"({rule.published:%Y-%m-%d %H:%M}): the article cannot state it")
    start: pd.Timestamp | None = None
    if rule.start_kind == "year_end":
        assert rule.start_day is not None
        start = _on_or_before(calendar, rule.start_day)
        steps.append(f"{calendar}: last session of {rule.start_day.year} = {start:%Y-%m-%d}")
    elif rule.start_kind == "close_on":
        assert rule.start_day is not None
        start = _on_or_before(calendar, rule.start_day)
        if start is not None and start.date() != rule.start_day:
            steps.append(f"{rule.start_day} is not a {calendar} session: from the close of {start:%Y-%m-%d}")
    elif rule.start_kind == "session_before":
        assert rule.start_day is not None
        day = pd.Timestamp(rule.start_day)
        if end != day:
            return f"{rule.start_day} is not a {calendar} session: there was no move that day"
        before = sessions_between(calendar, day - pd.Timedelta(days=20), day - pd.Timedelta(days=1))
        start = before[-1] if len(before) else None
        if start is not None:
            steps.append(f"{calendar}: previous session = {start:%Y-%m-%d}")
    if rule.start_kind is not None and start is None:
        return f"no {calendar} session before {rule.start_day}"
    if start is not None and start >= end:
        return f"the period is empty on {calendar}: from {start:%Y-%m-%d} to {end:%Y-%m-%d}"
    return SessionPeriod(calendar=calendar, start=start, end=end, steps=(*rule.steps, *steps))
