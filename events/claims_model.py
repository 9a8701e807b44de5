"""The values :func:`events.claims.find_claims` returns: claims, their period cues, the article.

See :mod:`events.claims` for how an article is read into them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal

from events.claims_subjects import SubjectHit
from events.extract import ArticleDate, Language

Quantity = Literal["close", "return", "quote"]
WordingKind = Literal["exact", "approx", "at_least", "at_most", "range"]
CueKind = Literal["ytd", "since", "same_period", "past_week", "low", "day", "end", "intraday"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Cue:
    """A period word found near a claim.

    ``day`` is the resolved local date of a date cue (``since`` / ``end`` / ``day``) and
    ``how`` how it was resolved; ``year`` is an explicit year of a year-to-date cue
    ("2025年至今").
    """

    kind: CueKind
    text: str
    span: tuple[int, int]
    day: date | None = None
    how: str = ""
    year: int | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Claim:
    """One price statement as written (before resolution; see the module docstring).

    Attributes
    ----------
    index
        Position in the article's list of claims (0-based).
    quantity
        ``close``, ``return`` (percent) or ``quote`` (a price during the session).
    value, value_high
        The number, signed by the move word for returns (percent units); ``value_high``
        is the other end of a range ("20%-60%").
    number_text, decimals
        The number as written and its count of decimals.
    unit
        ``%``, ``HKD``, ``USD``, ``points`` or "" (a price without a currency).
    wording, wording_word
        How precise the number is meant to be and the word that says so.
    move_word
        The word giving the direction ("" for prices).
    span, sentence
        ``[start, end)`` of the evidence and of its sentence.
    subject, subject_note
        The name the claim is about (``None`` when none was found) and how it was chosen.
    context_issuer, sentence_markets, currency_market
        What :func:`events.claims_subjects.resolve_subject` needs from the sentence.
    start, end
        Period cues (``None`` when absent); ``period_note`` says when they were carried over.
    compared_with, comparison_word
        The claim this one is compared with (同期 / "over the same period" / "ahead of").
    in_parens
        Written inside parentheses (an aside: never a source of carried subjects).
    """

    index: int
    quantity: Quantity
    value: float
    value_high: float | None
    number_text: str
    decimals: int
    unit: str
    wording: WordingKind
    wording_word: str
    move_word: str
    span: tuple[int, int]
    sentence: tuple[int, int]
    subject: SubjectHit | None
    subject_note: str
    context_issuer: SubjectHit | None
    sentence_markets: tuple[tuple[str, str], ...]
    currency_market: tuple[str, str] | None
    start: Cue | None
    end: Cue | None
    period_note: str
    compared_with: int | None
    comparison_word: str
    in_parens: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class ArticleClaims:
    """Everything ``find_claims`` read from one article.

    ``published`` is the publication instant when the article states a time (front
    matter ``date: 2025-02-13 11:36``), else ``None``; ``skipped`` lists percentages that
    are not about prices as ``(reason, span, text)``.
    """

    article: str
    language: Language
    article_date: ArticleDate
    published: datetime | None
    tz: str
    claims: tuple[Claim, ...]
    skipped: tuple[tuple[str, tuple[int, int], str], ...]
