"""Dated mentions found in article text: the shared types of the zh / en date finders.

A :class:`DateMention` is what a finder saw (``2月11日``, ``週二``, ``Feb 20``) with its
character span; it is *not* yet a date: month-days and weekdays are resolved against the
article's own date by :mod:`events.extract`. A :class:`TimeHint` is a time of day attached
to a mention (``凌晨``, ``after the close``, ``8:30 p.m. ET``) as a local window.
"""

from __future__ import annotations

import bisect

import re
from dataclasses import dataclass, replace
from datetime import time
from typing import Literal, Protocol, TypeVar

MentionForm = Literal["ymd", "md", "weekday", "relday"]
MentionRole = Literal["event", "as_of", "dateline", "period"]
HintPrecision = Literal["minute", "hour", "range"]

# Length-preserving, so offsets into the normalised text are offsets into the article.
_FULLWIDTH = str.maketrans("０１２３４５６７８９：", "0123456789:")

# Market-relative hints become windows in the market's own zone. The windows are
# deliberately wide (a reviewer narrows them): pre-open starts at local midnight in HK and
# at 04:00 ET (US pre-market); "after the close" ends at midnight in HK and at 20:00 ET
# (end of US after-hours trading).
MARKET_TZ: dict[str, str] = {"HK": "Asia/Hong_Kong", "US": "America/New_York"}
MARKET_WINDOWS: dict[str, dict[str, tuple[str, str]]] = {
    "pre_open": {"HK": ("00:00", "09:30"), "US": ("04:00", "09:30")},
    "session": {"HK": ("09:30", "16:00"), "US": ("09:30", "16:00")},
    "after_close": {"HK": ("16:00", "24:00"), "US": ("16:00", "20:00")},
}


@dataclass(frozen=True, kw_only=True, slots=True)
class TimeHint:
    """A time of day attached to a date mention.

    Attributes
    ----------
    text
        As written ("凌晨", "after the close", "8:30 p.m. ET").
    span
        ``[start, end)`` character offsets in the article.
    start, end
        Local window; ``end`` is ``None`` for "until midnight". For ``minute`` / ``hour``
        precision ``end`` is ``None`` and the precision says how long the instant lasts.
    precision
        ``minute`` (a clock time), ``hour`` ("3点") or ``range`` (a part of the day).
    tz
        IANA zone the window is in when the text implies one (a market's or an explicit
        "北京时间" / "ET"), else ``None`` (the article's default zone).
    """

    text: str
    span: tuple[int, int]
    start: time
    end: time | None
    precision: HintPrecision
    tz: str | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class DateMention:
    """A date expression in an article, before resolution.

    Attributes
    ----------
    span, text
        ``[start, end)`` offsets of the date expression and the text there.
    form
        ``ymd`` (full date), ``md`` (month-day, no year), ``weekday`` or ``relday``
        (今天 / yesterday ...).
    year, month, day
        Parts given in the text (``None`` when absent).
    weekday
        0 = Monday ... 6 = Sunday, for ``weekday`` mentions.
    week_offset
        -1 last week, 0 this week, +1 next week; ``None`` for a bare weekday (resolved to
        the latest such day on or before the article date, or the next one when the
        sentence is in the future tense).
    day_offset
        Days from the article date, for ``relday`` mentions.
    future
        A future-tense marker precedes the mention (将 / will ...).
    role
        ``event`` (a candidate), ``as_of`` ("截至 ... 收盘" / "as of"), ``dateline``
        ("2月13日讯") or ``period`` (one end of "A-B").
    hint
        The attached time of day, if any.
    """

    span: tuple[int, int]
    text: str
    form: MentionForm
    year: int | None = None
    month: int | None = None
    day: int | None = None
    weekday: int | None = None
    week_offset: int | None = None
    day_offset: int | None = None
    future: bool = False
    role: MentionRole = "event"
    hint: TimeHint | None = None

    @property
    def evidence_span(self) -> tuple[int, int]:
        """The date expression plus its time hint."""
        if self.hint is None:
            return self.span
        return (min(self.span[0], self.hint.span[0]), max(self.span[1], self.hint.span[1]))


def normalise(text: str) -> str:
    """Full-width digits and colon to ASCII (same length, so offsets are unchanged)."""
    return text.translate(_FULLWIDTH)


def parse_hhmm(value: str) -> time | None:
    """"09:30" -> time; "24:00" -> ``None`` (end of day)."""
    hours, minutes = (int(v) for v in value.split(":"))
    return None if hours == 24 else time(hours, minutes)


def window_hint(text: str, span: tuple[int, int], window: tuple[str, str], tz: str | None = None) -> TimeHint:
    start = parse_hhmm(window[0])
    assert start is not None
    return TimeHint(text=text, span=span, start=start, end=parse_hhmm(window[1]), precision="range", tz=tz)


class _Spanned(Protocol):
    @property
    def span(self) -> tuple[int, int]: ...


_S = TypeVar("_S", bound=_Spanned)


def drop_overlaps(mentions: list[_S]) -> list[_S]:
    """Keep the longest of overlapping mentions (``2025年1月29日`` over ``1月29日``); anything with a ``span``."""
    ordered = sorted(mentions, key=lambda m: (m.span[0], -(m.span[1] - m.span[0])))
    kept: list[_S] = []
    for m in ordered:
        if kept and m.span[0] < kept[-1].span[1]:
            continue
        kept.append(m)
    return kept


_PERIOD_JOIN = re.compile(r"^\s*(?:-|–|—|~|～|至|到|to|through|until)\s*$")


def mark_roles(text: str, mentions: list[DateMention], *, as_of: re.Pattern[str],
               dateline: re.Pattern[str]) -> list[DateMention]:
    """Set ``role`` from the words around each mention (see :class:`DateMention`)."""
    out: list[DateMention] = []
    for i, m in enumerate(mentions):
        before = text[max(0, m.span[0] - 8):m.span[0]]
        after = text[m.span[1]:m.span[1] + 4]
        role: MentionRole = m.role
        if as_of.search(before):
            role = "as_of"
        elif dateline.match(after):
            role = "dateline"
        else:
            prev_gap = text[mentions[i - 1].span[1]:m.span[0]] if i else None
            next_gap = text[m.span[1]:mentions[i + 1].span[0]] if i + 1 < len(mentions) else None
            if (prev_gap is not None and _PERIOD_JOIN.match(prev_gap)) or (
                    next_gap is not None and _PERIOD_JOIN.match(next_gap)):
                role = "period"
        out.append(replace(m, role=role) if role != m.role else m)
    return out


def sentence_bounds(text: str, start: int, end: int, sentence_end: re.Pattern[str]) -> tuple[int, int]:
    """``[lo, hi)`` of the sentence holding ``text[start:end]`` (``sentence_end`` splits).

    ``lo`` is one past the last position before ``start`` where ``sentence_end`` matches
    (0 when none), ``hi`` the first position at or after ``end`` where it matches (the
    text's length when none), each at most ``MAX_SENTENCE_CHARS`` from the span. Positions come from one scan of the text (cached), so many
    lookups stay linear in the text's size, however long its sentences.
    """
    ends = _sentence_ends(text, sentence_end)
    i = bisect.bisect_right(ends, start - 1)
    lo = ends[i - 1] + 1 if i > 0 else 0
    j = bisect.bisect_left(ends, end)
    hi = ends[j] if j < len(ends) else len(text)
    # text without sentence ends (a table, a dump) is not one sentence: each mention gets a
    # window around it, so slicing "its sentence" stays bounded and extraction linear
    return max(lo, start - MAX_SENTENCE_CHARS), min(hi, end + MAX_SENTENCE_CHARS)


MAX_SENTENCE_CHARS = 1_000  # each side of a mention

_ENDS_CACHE: dict[tuple[int, re.Pattern[str]], tuple[str, tuple[int, ...]]] = {}


def _sentence_ends(text: str, sentence_end: re.Pattern[str]) -> tuple[int, ...]:
    """Every position where ``sentence_end`` matches (overlapping matches included).

    Cached by the text's identity, not its value: comparing two equal megabyte strings on
    every lookup (a text and its normalised copy are often equal) would make it quadratic.
    """
    key = (id(text), sentence_end)
    hit = _ENDS_CACHE.get(key)
    if hit is not None and hit[0] is text:
        return hit[1]
    every = re.compile(f"(?=(?:{sentence_end.pattern}))", sentence_end.flags)
    ends = tuple(m.start() for m in every.finditer(text))
    if len(_ENDS_CACHE) >= 8:
        _ENDS_CACHE.pop(next(iter(_ENDS_CACHE)))
    _ENDS_CACHE[key] = (text, ends)
    return ends
