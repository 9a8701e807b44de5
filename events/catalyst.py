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
    """Where a catalyst is documented: article file / id, publisher, publication date."""

    article: str
    publisher: str = ""
    published: date | None = None


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
        Canonical symbols it concerns ("9988.HK", "BABA").
    expected_sign
        +1, -1 or None (no prior).
    scheduled
        True when the date was announced in advance (earnings).
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
            return ts.floor("h").tz_convert("UTC")
        if self.precision == "day":
            return ts.normalize().tz_convert("UTC")
        return ts.tz_convert("UTC")

    @property
    def latest_utc(self) -> pd.Timestamp:
        """Last instant by which the market surely knew (exclusive bound), UTC."""
        ts = self.published_at
        if self.precision == "minute":
            return (ts.floor("min") + pd.Timedelta(minutes=1)).tz_convert("UTC")
        if self.precision == "hour":
            return (ts.floor("h") + pd.Timedelta(hours=1)).tz_convert("UTC")
        if self.precision == "day":
            # next local midnight, DST-safe
            nxt = (ts.tz_localize(None).normalize() + pd.Timedelta(days=1)).tz_localize(ts.tz)
            return nxt.tz_convert("UTC")
        assert self.published_until is not None
        return self.published_until.tz_convert("UTC")
