"""Dated mentions in English text.

Recognised: ``February 20, 2025`` / ``Feb 20`` / ``20 Feb 2025`` / ``2025-02-20`` (dates,
the year optional), ``Tuesday`` / ``last Tuesday`` / ``next Thursday`` (weekdays),
``today`` / ``yesterday`` / ``tomorrow`` / ``tonight`` (relative days), and a time of day
near the mention in the same sentence: a market phase (``before the open``, ``pre-market``,
``during the session``, ``after the close``, ``after hours``; the market is the US unless
the sentence names Hong Kong), a part of the day (``early morning``, ``afternoon`` ...) or a
clock time (``8:30 a.m. ET``, ``16:00 HKT``).
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import time

from events.mentions import (
    MARKET_TZ, MARKET_WINDOWS, DateMention, TimeHint, drop_overlaps, mark_roles, normalise, sentence_bounds,
    window_hint,
)

_MONTHS: dict[str, int] = {}
for _i, _names in enumerate((
        ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"), ("may",),
        ("june", "jun"), ("july", "jul"), ("august", "aug"), ("september", "sept", "sep"),
        ("october", "oct"), ("november", "nov"), ("december", "dec")), start=1):
    for _n in _names:
        _MONTHS[_n] = _i
_MON = "(?P<mon>" + "|".join(sorted(_MONTHS, key=len, reverse=True)) + r")\.?"
_DAY = r"(?P<d>3[01]|[12]\d|0?[1-9])(?:st|nd|rd|th)?"
_YEAR = r"(?:,?\s+(?P<y>(?:19|20)\d\d))?"
_MDY = re.compile(rf"\b{_MON}\s+{_DAY}\b{_YEAR}(?!\d)", re.IGNORECASE)
_DMY = re.compile(rf"\b{_DAY}\s+(?:of\s+)?{_MON}\b{_YEAR}(?!\d)", re.IGNORECASE)
_ISO = re.compile(r"(?<![\d.])(?P<y>(?:19|20)\d\d)-(?P<m>1[0-2]|0[1-9])-(?P<d>3[01]|[12]\d|0[1-9])(?![\d])")
_WEEKDAYS = {"monday": 0, "tuesday": 1, "wednesday": 2, "thursday": 3, "friday": 4, "saturday": 5, "sunday": 6}
_WEEK = re.compile(r"\b(?:(?P<rel>last|next|this)\s+)?(?P<w>" + "|".join(_WEEKDAYS) + r")\b", re.IGNORECASE)
_WEEK_REL = {"last": -1, "this": 0, "next": 1}
_RELDAY: dict[str, tuple[int, str | None]] = {
    "today": (0, None), "yesterday": (-1, None), "tomorrow": (1, None), "tonight": (0, "evening"),
    "this morning": (0, "morning"), "last night": (-1, "evening"),
}
_RELDAY_RE = re.compile(r"\b(?:" + "|".join(sorted(_RELDAY, key=len, reverse=True)) + r")\b", re.IGNORECASE)

_PHASES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"before the (?:market |opening )?(?:open(?:ing)?|bell)|pre-?market|ahead of the open", re.I),
     "pre_open"),
    (re.compile(r"after the (?:market )?(?:close|bell)|after[- ]hours|post-?market|after markets? closed?", re.I),
     "after_close"),
    (re.compile(r"during (?:the )?(?:trading )?(?:session|trading)|intraday", re.I), "session"),
)
_PARTS: tuple[tuple[re.Pattern[str], tuple[str, str]], ...] = (
    (re.compile(r"early (?:morning|hours)", re.I), ("00:00", "08:00")),
    (re.compile(r"\bmorning\b", re.I), ("05:00", "12:00")),
    (re.compile(r"\bafternoon\b", re.I), ("12:00", "18:00")),
    (re.compile(r"\b(?:evening|night)\b", re.I), ("18:00", "24:00")),
)
_RELDAY_PARTS = {"morning": ("05:00", "12:00"), "evening": ("18:00", "24:00")}
_TZ_WORDS: dict[str, str] = {
    "et": "America/New_York", "est": "America/New_York", "edt": "America/New_York",
    "eastern": "America/New_York", "new york time": "America/New_York",
    "hkt": "Asia/Hong_Kong", "hong kong time": "Asia/Hong_Kong",
    "beijing time": "Asia/Shanghai", "china time": "Asia/Shanghai",
    "utc": "UTC", "gmt": "UTC",
}
_TZ = "|".join(sorted((re.escape(k) for k in _TZ_WORDS), key=len, reverse=True))
_CLOCK = re.compile(
    rf"\b(?:(?P<h>1[0-2]|0?[1-9])(?::(?P<mi>[0-5]\d))?\s*(?P<ap>a\.?m\.?|p\.?m\.?)"
    rf"|(?P<h24>[01]?\d|2[0-3]):(?P<mi24>[0-5]\d))(?:\s+(?P<tz>{_TZ})\b)?", re.IGNORECASE)
_HK_WORDS = re.compile(r"Hong Kong|\bHK\b|Hang Seng|HKEX", re.I)
_FUTURE = re.compile(r"\b(?:will|is due to|are due to|is set to|is scheduled to|plans to|expected to)\b[^.]{0,40}$",
                     re.I)
_AS_OF = re.compile(r"\b(?:as of|through|until|since)\s*$", re.I)
_DATELINE = re.compile(r"^\s*\((?:Reuters|Bloomberg|AP|AFP|Xinhua)\)", re.I)
# A sentence ends at ". " before a capital, except after abbreviations that take one.
SENTENCE_END = re.compile(r"(?<=[a-z0-9)\"'%][.!?])(?<!a\.m\.)(?<!p\.m\.)(?<!Inc\.)(?<!Corp\.)(?<!\bCo\.)"
                          r"(?<!Mr\.)(?<!Ms\.)(?<!Dr\.)\s(?=\s*[A-Z\"“])|(?<=[;])\s|\n")
_NEAR = 40  # characters around a mention searched for its time of day


def find_mentions(text: str, body_start: int = 0) -> list[DateMention]:
    """All date mentions in ``text[body_start:]``, with roles and time hints attached."""
    norm = normalise(text)
    found: list[DateMention] = []
    for rx in (_MDY, _DMY):
        for m in rx.finditer(norm, body_start):
            if m["mon"][0].islower():  # "may 5" is a verb far more often than a date
                continue
            year = int(m["y"]) if m["y"] else None
            found.append(DateMention(span=m.span(), text=text[m.start():m.end()], form="ymd" if year else "md",
                                     year=year, month=_MONTHS[m["mon"].lower()], day=int(m["d"])))
    for m in _ISO.finditer(norm, body_start):
        found.append(DateMention(span=m.span(), text=m.group(), form="ymd",
                                 year=int(m["y"]), month=int(m["m"]), day=int(m["d"])))
    for m in _WEEK.finditer(norm, body_start):
        rel = m["rel"].lower() if m["rel"] else None
        found.append(DateMention(span=m.span(), text=m.group(), form="weekday",
                                 weekday=_WEEKDAYS[m["w"].lower()], week_offset=_WEEK_REL[rel] if rel else None))
    for m in _RELDAY_RE.finditer(norm, body_start):
        found.append(DateMention(span=m.span(), text=m.group(), form="relday",
                                 day_offset=_RELDAY[m.group().lower()][0]))
    mentions = mark_roles(norm, drop_overlaps(found), as_of=_AS_OF, dateline=_DATELINE)
    return [_with_context(norm, text, m, mentions) for m in mentions]


def _with_context(norm: str, text: str, mention: DateMention, mentions: list[DateMention]) -> DateMention:
    lo, hi = sentence_bounds(norm, mention.span[0], mention.span[1], SENTENCE_END)
    before = norm[lo:mention.span[0]]
    future = bool(_FUTURE.search(before))
    # Search only up to the neighbouring mentions, so two dates in one sentence keep their own times.
    others = [m.span for m in mentions if m is not mention]
    win_lo = max([lo, mention.span[0] - _NEAR] + [e for s, e in others if e <= mention.span[0]])
    win_hi = min([hi, mention.span[1] + _NEAR] + [s for s, e in others if s >= mention.span[1]])
    hint = _hint_near(norm, text, mention, win_lo, win_hi, norm[lo:hi])
    if hint is None and mention.form == "relday":
        part = _RELDAY[mention.text.lower()][1]
        if part is not None:
            hint = window_hint(mention.text, mention.span, _RELDAY_PARTS[part])
    return replace(mention, future=future, hint=hint)


def _closest(matches: list[re.Match[str]], mention: DateMention) -> re.Match[str] | None:
    def distance(m: re.Match[str]) -> int:
        return m.start() - mention.span[1] if m.start() >= mention.span[1] else mention.span[0] - m.end()
    return min(matches, key=distance) if matches else None


def _hint_near(norm: str, text: str, mention: DateMention, lo: int, hi: int, sentence: str) -> TimeHint | None:
    clock = _closest([m for m in _CLOCK.finditer(norm, lo, hi)], mention)
    if clock is not None:
        tz = _TZ_WORDS[clock["tz"].lower()] if clock["tz"] else None
        if clock["h24"]:
            start = time(int(clock["h24"]), int(clock["mi24"]))
        else:
            hour = int(clock["h"]) % 12 + (12 if clock["ap"].lower().startswith("p") else 0)
            start = time(hour, int(clock["mi"]) if clock["mi"] else 0)
        precision = "minute" if (clock["mi"] or clock["mi24"]) else "hour"
        return TimeHint(text=text[clock.start():clock.end()], span=clock.span(), start=start, end=None,
                        precision=precision, tz=tz)
    for rx, phase in _PHASES:
        m = _closest(list(rx.finditer(norm, lo, hi)), mention)
        if m is not None:
            market = "HK" if _HK_WORDS.search(sentence) else "US"
            return window_hint(text[m.start():m.end()], m.span(), MARKET_WINDOWS[phase][market], MARKET_TZ[market])
    for rx, window in _PARTS:
        m = _closest(list(rx.finditer(norm, lo, hi)), mention)
        if m is not None:
            return window_hint(text[m.start():m.end()], m.span(), window)
    return None
