"""Quantitative price statements in an article: the number, whom it is about, its period and wording.

``find_claims`` reads an article (Chinese or English, see :mod:`events.claims_words`) and
returns one :class:`Claim` per statement about a price: a closing price ("收盘报 113.80
港元", "closed at HK$113.80"), a return over a period ("年内涨幅近 17 %", "rose 8.5 % on
Wednesday") or a price quoted during the session ("截至发稿 ... 报 118 港元"). Each claim
keeps its evidence as ``[start, end)`` character offsets into the article text.

Reading rules, in the order they apply to each number of a sentence:

1. *Topic*: the nearest topic word before the number decides whether it is about a price
   (股价, 指数, 涨幅, shares, index) or about something else (营收, 利润, 份额, revenue,
   market share); percentages about something else are listed in ``skipped``.
2. *Direction*: the nearest move word (涨 / 跌, rose / fell) signs the number.
3. *Wording*: 近 / 约 / nearly / about = approximate; 超过 / more than = a lower bound;
   不到 / less than = an upper bound; a bare number is exact to its last written digit.
4. *Subject*: the nearest name before the number (a list joined by 、/ 和 / and counts as
   one group; with 分别 / "respectively" or as many numbers as names, they pair up); none
   -> the subject of the previous statement in the sentence.
5. *Period*: the nearest start word (年内 / 自 1 月 13 日 … 以来 / 同期 / this year / since
   Jan 13 / over the same period), end word (截至 … 收盘 / as of), or a single day (周三 /
   on Wednesday); with none, the period of the previous statement in the paragraph is
   carried over (and said so).
6. *Comparison*: 超过 / outperformed / ahead of right before a name compares that
   statement with the previous one.

Nothing here reads prices or resolves sessions: see :mod:`events.claims_period` and
``backtests.claims_check``.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from zoneinfo import ZoneInfo

from events import dates_en, dates_zh
from events.claims_model import ArticleClaims, Claim, Cue, CueKind, Quantity, WordingKind
from events.claims_reader import ClaimReader, numbers
from events.claims_subjects import AliasIndex
from events.claims_words import VOCABULARIES
from events.extract import DEFAULT_TZ, article_date_of, detect_language, front_matter

__all__ = ["ArticleClaims", "Claim", "Cue", "CueKind", "Quantity", "WordingKind", "find_claims"]

# Sentences end at their punctuation or a blank line: articles are often hard-wrapped mid-sentence
# ("收盘报113.80\n港元"), so a single line break does not end one (unlike the date finders' rule).
_SENTENCE_END: dict[str, re.Pattern[str]] = {
    "zh": re.compile(r"[。！？!?；;]|\n(?=[ \t]*\n)|\n(?=[ \t]*(?:#|>|[-*] |!\[|\|))"),
    "en": re.compile(dates_en.SENTENCE_END.pattern.removesuffix("|\\n") + r"|\n(?=[ \t]*\n)"),
}


def find_claims(text: str, *, index: AliasIndex, article: str = "article",
                article_date: date | datetime | None = None, tz: str | None = None) -> ArticleClaims:
    """The price statements of ``text`` (see the module docstring).

    Parameters
    ----------
    text
        The whole article, front matter included; every offset indexes this string.
    index
        Names and aliases of the listing registry.
    article
        Its name (file name).
    article_date
        The publication date (or date and local time, in ``tz``) when the article does not
        state it; it overrides the front matter. Only with a time of day is "the last close
        before publication" known.
    tz
        Zone of the publication time (default: front matter ``tz``, else Asia/Shanghai for
        Chinese and America/New_York for English, as ``events extract``).
    """
    fm, body_start = front_matter(text)
    language = detect_language(text[body_start:])
    vocab = VOCABULARIES[language]
    finder = dates_zh if language == "zh" else dates_en
    mentions = finder.find_mentions(text, body_start)
    given_day = article_date.date() if isinstance(article_date, datetime) else article_date
    anchor = article_date_of(article, text, mentions, language, given_day)
    zone = tz or fm.get("tz") or DEFAULT_TZ[language]
    if isinstance(article_date, datetime):
        published: datetime | None = article_date if article_date.tzinfo else article_date.replace(
            tzinfo=ZoneInfo(zone))
    else:
        published = _published(fm.get("date", ""), zone) if article_date is None else None
    reader = ClaimReader(text=text, vocab=vocab, sentence_end=_SENTENCE_END[language],
                         hits=index.find(text, vocab, body_start), mentions=mentions, anchor=anchor)
    claims, skipped = reader.read(numbers(text, vocab, body_start))
    return ArticleClaims(article=article, language=language, article_date=anchor, published=published, tz=zone,
                         claims=tuple(claims), skipped=tuple(skipped))


def _published(value: str, zone: str) -> datetime | None:
    if ":" not in value:
        return None
    try:
        stamp = datetime.fromisoformat(value.strip())
    except ValueError:
        return None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=ZoneInfo(zone))
