"""The catalyst model: a dated piece of news with an honest statement of *when*.

A news time is often known only roughly, so a catalyst is an interval
``[earliest_utc, latest_utc]`` of instants at which the market could first have known.
Event studies anchor day 0 on ``earliest``; strategies may only trade after ``latest``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Literal

import pandas as pd

Precision = Literal["minute", "hour", "day", "range"]
PRECISIONS: tuple[Precision, ...] = ("minute", "hour", "day", "range")

CatalystKind = Literal["product", "partnership", "earnings", "capex", "macro", "flow", "other"]
CATALYST_KINDS: tuple[CatalystKind, ...] = (
    "product", "partnership", "earnings", "capex", "macro", "flow", "other",
)


@dataclass(frozen=True, kw_only=True, slots=True)
class Source:
    """Where a catalyst is documented: article file / id, publisher, publication date.

    ``span`` is the evidence as character offsets ``[start, end)`` into the article's
    text (as read with universal newlines off), so a reviewer can find the sentence
    without the calendar quoting it.
    """

    article: str
    publisher: str = ""
    published: date | None = None
    span: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.span is not None:
            start, end = self.span
            if not 0 <= start < end:
                raise ValueError(
                    f"source {self.article!r}: span {self.span} must be [start, end) with 0 <= start < end")


@dataclass(frozen=True, kw_only=True, slots=True)
class Catalyst:
    """A dated catalyst.

    Attributes
    ----------
    id
        Unique slug ("qwen25max").
    headline
        Our own words, one line.
    published_at
        Tz-aware instant in the zone the news was dated in. Its meaning depends on
        ``precision``: ``minute`` — that minute; ``hour`` — that clock hour; ``day`` —
        the local calendar day containing it; ``range`` — from it to ``published_until``.
    precision
        One of ``minute``, ``hour``, ``day``, ``range``.
    published_until
        Tz-aware end of the interval; required with ``range``, forbidden otherwise.
    kind
        product, partnership, earnings, capex, macro, flow or other.
    listings
        Targets it concerns, as written in the calendar: symbols ("9988.HK", "BABA"),
        issuers ("@alibaba") or baskets ("@china_internet"); the schedule expands them
        with the active listing registry (:mod:`data_loaders.registry`).
    expected_sign
        +1, -1 or None (no prior).
    scheduled
        True when the date was announced in advance (earnings).
    starred
        A key catalyst of the story (marked ★ in CATALYSTS.md; emphasised in reports).
    source
        Traceability to an article.

    Raises
    ------
    ValueError
        Naive timestamps, unknown precision or kind, a range that ends before it
        starts, an empty listing tuple or a sign other than +1 / -1.
    """

    id: str
    headline: str
    published_at: pd.Timestamp
    precision: Precision
    published_until: pd.Timestamp | None = None
    kind: CatalystKind = "other"
    listings: tuple[str, ...] = ()
    expected_sign: int | None = None
    scheduled: bool = False
    starred: bool = False
    source: Source | None = None

    def __post_init__(self) -> None:
        ts = pd.Timestamp(self.published_at)
        if ts.tzinfo is None:
            raise ValueError(
                f"catalyst {self.id!r}: published_at {self.published_at} has no time zone; give an "
                f"offset or zone, e.g. '2025-01-29T01:00:00+08:00'")
        object.__setattr__(self, "published_at", ts)
        if self.precision not in PRECISIONS:
            raise ValueError(f"catalyst {self.id!r}: precision {self.precision!r} is not one of {PRECISIONS}")
        if self.kind not in CATALYST_KINDS:
            raise ValueError(f"catalyst {self.id!r}: kind {self.kind!r} is not one of {CATALYST_KINDS}")
        if self.precision == "range":
            if self.published_until is None:
                raise ValueError(f"catalyst {self.id!r}: precision 'range' needs published_until")
            until = pd.Timestamp(self.published_until)
            if until.tzinfo is None:
                raise ValueError(f"catalyst {self.id!r}: published_until {until} has no time zone")
            if until <= ts:
                raise ValueError(
                    f"catalyst {self.id!r}: published_until {until} is not after published_at {ts}")
            object.__setattr__(self, "published_until", until)
        elif self.published_until is not None:
            raise ValueError(
                f"catalyst {self.id!r}: published_until is only allowed with precision 'range' "
                f"(got precision {self.precision!r})")
        if not self.listings:
            raise ValueError(f"catalyst {self.id!r}: listings is empty; name e.g. ['9988.HK', 'BABA']")
        if self.expected_sign not in (None, 1, -1):
            raise ValueError(f"catalyst {self.id!r}: expected_sign must be 1, -1 or omitted")

    @property
    def earliest_utc(self) -> pd.Timestamp:
        """First instant the market could have known (inclusive), UTC."""
        ts = self.published_at
        if self.precision == "hour":
            return _floor_wall(ts, "h").tz_convert("UTC")
        if self.precision == "day":
            return _local_midnight(ts, days_later=0).tz_convert("UTC")
        if self.precision == "minute":
            return _floor_wall(ts, "min").tz_convert("UTC")
        return ts.tz_convert("UTC")

    @property
    def latest_utc(self) -> pd.Timestamp:
        """Last instant by which the market surely knew (exclusive bound), UTC."""
        ts = self.published_at
        if self.precision == "minute":
            return (_floor_wall(ts, "min") + pd.Timedelta(minutes=1)).tz_convert("UTC")
        if self.precision == "hour":
            return (_floor_wall(ts, "h") + pd.Timedelta(hours=1)).tz_convert("UTC")
        if self.precision == "day":
            return _local_midnight(ts, days_later=1).tz_convert("UTC")
        assert self.published_until is not None
        return self.published_until.tz_convert("UTC")


def _floor_wall(ts: pd.Timestamp, unit: str) -> pd.Timestamp:
    """Floor ``ts`` to ``unit`` on its local wall clock, keeping ts's own UTC offset.

    ``Timestamp.floor`` re-localises the floored wall time and raises inside a DST
    fall-back hour (01:30 EDT on 2025-11-02 is ambiguous); subtracting the wall-clock
    remainder instead stays on the offset the instant already has.
    """
    wall = ts.tz_localize(None)
    return ts - (wall - wall.floor(unit))


def _local_midnight(ts: pd.Timestamp, *, days_later: int) -> pd.Timestamp:
    """First instant of the local calendar day ``days_later`` days after ``ts``'s day.

    Some zones move their clocks at midnight (America/Santiago, Asia/Beirut): a midnight
    that does not exist is shifted forward to the day's first instant, and a repeated one
    takes its first (DST) occurrence, so a day always starts at its earliest instant.
    """
    wall = ts.tz_localize(None).normalize() + pd.Timedelta(days=days_later)
    return wall.tz_localize(ts.tz, ambiguous=True, nonexistent="shift_forward")
