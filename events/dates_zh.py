"""Dated mentions in Chinese text (simplified and traditional).

Recognised: ``2025 年 1 月 29 日`` and ``2025-01-29`` / ``2025/1/29`` / ``2025.1.29``
(full dates), ``2月11日`` / ``2月11号`` (month-day), ``週二`` / ``周三`` / ``星期四`` /
``上周五`` / ``下週四`` (weekdays), ``今天`` / ``昨日`` / ``今晨`` ... (days relative to the
article), each optionally followed by a time of day: a part of the day (``凌晨``,
``上午``, ``晚间`` ...), a market phase (``盘前``, ``盘中``, ``收盘后``; the market is taken
from ``美股`` / ``港股`` in the sentence, else Hong Kong) or a clock time (``10:30``,
``晚上8点``, ``9点半``). "北京时间" / "美东时间" before the mention set the zone.
"""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import time

from events.mentions import (
    MARKET_TZ, MARKET_WINDOWS, DateMention, TimeHint, drop_overlaps, mark_roles, normalise, sentence_bounds,
    window_hint,
)

_M = r"(?P<m>1[0-2]|0?[1-9])"
_D = r"(?P<d>3[01]|[12]\d|0?[1-9])"
_YMD = re.compile(rf"(?<!\d)(?P<y>(?:19|20)\d\d)\s*年\s*{_M}\s*月\s*{_D}\s*[日号號](?!\d)")
_ISO = re.compile(rf"(?<![\d.])(?P<y>(?:19|20)\d\d)(?P<sep>[-/.]){_M}(?P=sep){_D}(?![\d.])")
_MD = re.compile(rf"(?<![\d年])(?<!年\s){_M}\s*月\s*{_D}\s*[日号號](?!\d)")
_WEEKDAY_CHARS = {"一": 0, "二": 1, "三": 2, "四": 3, "五": 4, "六": 5, "日": 6, "天": 6}
_WEEK = re.compile(r"(?P<rel>上上|上|下下|下|本|这|這)?(?:个|個)?(?:周|週|星期|礼拜|禮拜)(?P<w>[一二三四五六日天])")
_WEEK_REL = {"上上": -2, "上": -1, "本": 0, "这": 0, "這": 0, "下": 1, "下下": 2}
_RELDAY: dict[str, tuple[int, str | None]] = {
    "今天": (0, None), "今日": (0, None), "今晨": (0, "morning"), "今早": (0, "morning"),
    "今晚": (0, "evening"), "昨天": (-1, None), "昨日": (-1, None), "昨晚": (-1, "evening"),
    "昨夜": (-1, "evening"), "前天": (-2, None), "明天": (1, None), "明日": (1, None),
}
_RELDAY_RE = re.compile("|".join(sorted(_RELDAY, key=len, reverse=True)))

# Parts of the day as local windows (wide on purpose; a reviewer narrows them).
_PARTS: dict[str, tuple[str, str]] = {
    "凌晨": ("00:00", "06:00"), "清晨": ("05:00", "09:00"), "早晨": ("05:00", "10:00"),
    "早上": ("05:00", "10:00"), "一早": ("05:00", "10:00"), "上午": ("06:00", "12:00"),
    "中午": ("11:00", "13:00"), "午间": ("11:00", "13:00"), "午間": ("11:00", "13:00"),
    "下午": ("12:00", "18:00"), "午后": ("12:00", "18:00"), "午後": ("12:00", "18:00"),
    "傍晚": ("17:00", "20:00"), "晚上": ("18:00", "24:00"), "晚间": ("18:00", "24:00"),
    "晚間": ("18:00", "24:00"), "夜间": ("18:00", "24:00"), "夜間": ("18:00", "24:00"),
    "深夜": ("21:00", "24:00"),
}
_RELDAY_PARTS = {"morning": ("05:00", "10:00"), "evening": ("18:00", "24:00")}
_PHASES: dict[str, str] = {
    "盘前": "pre_open", "盤前": "pre_open", "开盘前": "pre_open", "開盤前": "pre_open",
    "盘中": "session", "盤中": "session",
    "盘后": "after_close", "盤後": "after_close", "收盘后": "after_close", "收盤後": "after_close",
    "收市后": "after_close", "收市後": "after_close",
}
_PM_PARTS = {"下午", "午后", "午後", "傍晚", "晚上", "晚间", "晚間", "夜间", "夜間", "深夜"}
_PHASE_WORDS = "|".join(sorted(_PHASES, key=len, reverse=True))
_PART_WORDS = "|".join(sorted(_PARTS, key=len, reverse=True))
_MARKET_WORD = r"(?:美股|港股|A股)?"
_AFTER = re.compile(
    rf"[\s（(]*(?:{_MARKET_WORD}(?P<phase>{_PHASE_WORDS})|(?P<part>{_PART_WORDS}))?\s*"
    rf"(?:(?P<h>[01]?\d|2[0-3])(?:\s*[:]\s*(?P<mi>[0-5]\d)|\s*[点點时時](?:\s*(?P<half>半)|\s*(?P<mi2>[0-5]?\d)\s*分)?))?")
_US_WORDS = re.compile(r"美股|美國|美国|纽约|紐約|华尔街|華爾街|纳斯达克|納斯達克|纳指|納指|美东|美東|道指")
_HK_WORDS = re.compile(r"港股|香港|恒指|恒生|港交所|恒科")
_TZ_WORDS: dict[str, str] = {
    "北京时间": "Asia/Shanghai", "北京時間": "Asia/Shanghai",
    "香港时间": "Asia/Hong_Kong", "香港時間": "Asia/Hong_Kong",
    "美东时间": "America/New_York", "美東時間": "America/New_York",
    "美国东部时间": "America/New_York", "美國東部時間": "America/New_York",
    "纽约时间": "America/New_York", "紐約時間": "America/New_York",
}
_TZ_RE = re.compile("|".join(_TZ_WORDS))
_FUTURE = re.compile(r"(?:将|將|即将|即將|拟|擬|预计|預計|计划|計劃|定于|定於|会|會)\s*(?:于|於|在)?\s*$")
_AS_OF = re.compile(r"(?:截至|截止|截到|至今|截至到)\s*$")
_DATELINE = re.compile(r"^\s*(?:讯|訊|电|電|消息)")
SENTENCE_END = re.compile(r"[。！？!?；;\n]")


def find_mentions(text: str, body_start: int = 0) -> list[DateMention]:
    """All date mentions in ``text[body_start:]``, with roles and time hints attached.

    Offsets are into ``text`` itself. Overlapping matches keep the longest.
    """
    norm = normalise(text)
    found: list[DateMention] = []
    for rx in (_YMD, _ISO):
        for m in rx.finditer(norm, body_start):
            found.append(DateMention(span=m.span(), text=text[m.start():m.end()], form="ymd",
                                     year=int(m["y"]), month=int(m["m"]), day=int(m["d"])))
    for m in _MD.finditer(norm, body_start):
        found.append(DateMention(span=m.span(), text=text[m.start():m.end()], form="md",
                                 month=int(m["m"]), day=int(m["d"])))
    for m in _WEEK.finditer(norm, body_start):
        rel = m["rel"]
        found.append(DateMention(span=m.span(), text=text[m.start():m.end()], form="weekday",
                                 weekday=_WEEKDAY_CHARS[m["w"]],
                                 week_offset=_WEEK_REL[rel] if rel else None))
    for m in _RELDAY_RE.finditer(norm, body_start):
        if norm.startswith("的", m.end()):  # "今天的中国" is "nowadays", not a date
            continue
        found.append(DateMention(span=m.span(), text=m.group(), form="relday", day_offset=_RELDAY[m.group()][0]))
    mentions = mark_roles(norm, drop_overlaps(found), as_of=_AS_OF, dateline=_DATELINE)
    return [_with_context(norm, text, m) for m in mentions]


def _sentence_before(norm: str, pos: int) -> str:
    return norm[sentence_bounds(norm, pos, pos, SENTENCE_END)[0]:pos]


def _sentence_around(norm: str, start: int, end: int) -> str:
    lo, hi = sentence_bounds(norm, start, end, SENTENCE_END)
    return norm[lo:hi]


def _with_context(norm: str, text: str, mention: DateMention) -> DateMention:
    before = _sentence_before(norm, mention.span[0])
    future = bool(_FUTURE.search(before[-6:]))
    zones = [(m.start(), _TZ_WORDS[m.group()]) for m in _TZ_RE.finditer(before)]
    explicit_tz = zones[-1][1] if zones else None
    hint = _hint_after(norm, text, mention, explicit_tz)
    if hint is None and mention.form == "relday":
        part = _RELDAY[mention.text][1]
        if part is not None:
            hint = window_hint(mention.text, mention.span, _RELDAY_PARTS[part], explicit_tz)
    return replace(mention, future=future, hint=hint)


def _hint_after(norm: str, text: str, mention: DateMention, explicit_tz: str | None) -> TimeHint | None:
    m = _AFTER.match(norm, mention.span[1])
    if m is None or not (m["phase"] or m["part"] or m["h"]):
        return None
    hint_start = m.start("phase") if m["phase"] else m.start("part") if m["part"] else m.start("h")
    span = (hint_start, m.end())
    written = text[span[0]:span[1]]
    if m["h"]:
        hour = int(m["h"])
        if m["part"] in _PM_PARTS and hour < 12:
            hour += 12
        if m["part"] == "中午" and hour < 6:
            hour += 12
        minute_text = m["mi"] or m["mi2"]
        minute = 30 if m["half"] else int(minute_text) if minute_text else 0
        precision = "minute" if (m["mi"] or m["mi2"] or m["half"]) else "hour"
        if hour > 23:
            return None
        return TimeHint(text=written, span=span, start=time(hour, minute), end=None,
                        precision=precision, tz=explicit_tz)
    if m["phase"]:
        sentence = _sentence_around(norm, mention.span[0], mention.span[1])
        market = "US" if _US_WORDS.search(sentence) and not _HK_WORDS.search(sentence) else "HK"
        window = MARKET_WINDOWS[_PHASES[m["phase"]]][market]
        return window_hint(written, span, window, MARKET_TZ[market])
    return window_hint(written, span, _PARTS[m["part"]], explicit_tz)
