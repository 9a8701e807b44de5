"""Candidate catalysts from an article: dated mentions -> reviewable calendar entries.

``extract_candidates`` finds dated mentions (Chinese or English, see
:mod:`events.dates_zh` / :mod:`events.dates_en`), resolves them against the article's own
date and turns each into a :class:`Candidate`: a resolved local date, a precision from the
time of day (none -> ``day``; a part of the day or market phase -> ``range``; a clock time
-> ``minute`` / ``hour``), a guessed kind, and the evidence as ``[start, end)`` character
offsets into the article text. Nothing here decides what is a catalyst: a person reviews
the candidates (``render_toml`` writes them as ``[[catalyst]]`` tables that
:func:`events.calendar_file.loads_calendar` accepts) and merges the real ones.

The article's own date comes from, in order: the ``article_date`` argument, the front
matter's ``date``, a date in the file name (all *exact*), else it is *inferred* from the
first full date in the text (or the largest year mentioned). Month-days without a year
use either; weekdays and "today / 昨天" need an exact date and are left unresolved
otherwise (a wrong weekday would be worse than none).

Mentions that are not news times are kept out of the candidates but listed in
``skipped``: "as of" levels (截至 ... 收盘), datelines (2月13日讯) and ends of periods
("2020.12.31-2024.12.31").
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from data_loaders.errors import UserError
from events import dates_en, dates_zh
from events.catalyst import CatalystKind, Precision
from events.mentions import DateMention, sentence_bounds

Language = Literal["zh", "en"]
Confidence = Literal["high", "medium", "low"]
DEFAULT_LISTINGS: tuple[str, ...] = ("9988.HK", "BABA")
DEFAULT_TZ: dict[str, str] = {"zh": "Asia/Shanghai", "en": "America/New_York"}

# First match wins, so a results sentence that also mentions capex stays "earnings".
KIND_KEYWORDS: tuple[tuple[CatalystKind, tuple[str, ...]], ...] = (
    ("earnings", ("财报", "財報", "业绩", "業績", "季报", "季報", "财季", "財季", "earnings", "results",
                  "quarterly report")),
    ("capex", ("capex", "资本开支", "資本開支", "资本支出", "資本支出", "基建投入", "capital expenditure",
               "capital spending", "infrastructure spending")),
    ("partnership", ("合作", "伙伴", "夥伴", "联手", "聯手", "partner", "team up", "teams up", "working with")),
    ("product", ("发布", "發佈", "發布", "推出", "上线", "上線", "开源", "開源", "模型", "launch", "release",
                 "unveil", "model")),
    ("flow", ("南向", "北向", "净买入", "淨買入", "净流入", "淨流入", "资金流", "資金流", "inflow", "outflow",
              "southbound", "northbound", "net buying")),
    ("macro", ("关税", "關稅", "美联储", "美聯儲", "利率", "政府工作报告", "政府工作報告", "崩盘", "崩盤", "暴跌",
               "tariff", "federal reserve", "interest rate", "sell-off", "selloff")),
)
_ANNOUNCE = ("宣布", "宣佈", "公布", "公佈", "发布", "發佈", "發布", "推出", "announced", "unveiled", "reported",
             "launched", "said it would")
_RECENT = ("最近", "近日", "日前", "近期", "recently", "earlier this week", "this week")
_FRONT_MATTER = re.compile(r"\A\ufeff?---[ \t]*\r?\n(?P<body>.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)
_FM_LINE = re.compile(r"^(?P<key>[A-Za-z_][\w-]*)\s*:\s*(?P<value>.*?)\s*$")
_NAME_DATE = re.compile(r"(?<!\d)(?P<y>20\d\d)[-_.]?(?P<m>0[1-9]|1[0-2])[-_.]?(?P<d>0[1-9]|[12]\d|3[01])(?!\d)")
_YEAR_ZH = re.compile(r"(?<!\d)((?:19|20)\d\d)\s*年")
_YEAR_EN = re.compile(r"\b((?:19|20)\d\d)\b")


class ExtractionError(UserError, ValueError):
    """The article cannot be read, or an option given for it is invalid."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ArticleDate:
    """The article's own date and how it was found.

    ``exact`` is true when it came from the caller, the front matter or the file name;
    an inferred date only fixes years of month-days. ``day`` is ``None`` when only a
    year could be inferred.
    """

    day: date | None
    year: int | None
    source: str
    exact: bool


@dataclass(frozen=True, kw_only=True, slots=True)
class Candidate:
    """A candidate catalyst for review.

    Attributes
    ----------
    id
        Suggested slug (file prefix, date, kind); rename when merging.
    date
        Resolved local date of the news, ``None`` for undated / unresolved candidates.
    precision, published_at, published_until, tz
        As a calendar entry would state them (local wall times in ``tz``); ``None`` when
        the date is unknown.
    kind, kind_keyword
        Guessed kind and the word that suggested it ("" when nothing did: ``other``).
    mention
        The date expression as written ("" for undated candidates).
    time_of_day
        The time-of-day words attached ("凌晨", "after the close"), or "".
    span
        ``[start, end)`` offsets of the date expression plus its time of day.
    sentence
        ``[start, end)`` offsets of the sentence around it.
    resolution, confidence
        How the date was resolved, and how far to trust it.
    """

    id: str
    date: date | None
    precision: Precision | None
    published_at: datetime | None
    published_until: datetime | None
    tz: str
    kind: CatalystKind
    kind_keyword: str
    mention: str
    time_of_day: str
    span: tuple[int, int]
    sentence: tuple[int, int]
    resolution: str
    confidence: Confidence


@dataclass(frozen=True, kw_only=True, slots=True)
class ExtractionResult:
    """Everything ``extract_candidates`` found in one article."""

    article: str
    language: Language
    article_date: ArticleDate
    default_tz: str
    listings: tuple[str, ...]
    candidates: tuple[Candidate, ...]
    undated: tuple[Candidate, ...]
    skipped: tuple[tuple[str, tuple[int, int], str], ...]  # (role, span, text)

    @property
    def dated(self) -> tuple[Candidate, ...]:
        return tuple(c for c in self.candidates if c.date is not None)


def read_article(path: str | Path) -> str:
    """The article's text exactly as stored (UTF-8, newlines untranslated, so offsets hold).

    Raises
    ------
    ExtractionError
        Missing or non-UTF-8 file.
    """
    p = Path(path)
    try:
        with open(p, encoding="utf-8", newline="") as fh:
            return fh.read()
    except FileNotFoundError:
        raise ExtractionError(f"{p}: article not found; check the path") from None
    except UnicodeDecodeError as exc:
        raise ExtractionError(f"{p}: not UTF-8 text ({exc.reason} at byte {exc.start}); "
                              f"re-save the article as UTF-8") from None


def front_matter(text: str) -> tuple[dict[str, str], int]:
    """Top-level scalar keys of a leading ``---`` front matter block, and where the body starts.

    Only ``key: value`` lines at column 0 are read (quotes stripped); lists and nested
    keys are ignored, which is all the extractor needs (``date``, ``tz``).
    """
    m = _FRONT_MATTER.match(text)
    if m is None:
        return {}, 0
    keys: dict[str, str] = {}
    for line in m["body"].splitlines():
        lm = _FM_LINE.match(line)
        if lm and lm["value"]:
            keys[lm["key"].lower()] = lm["value"].strip().strip("\"'")
    return keys, m.end()


def detect_language(text: str) -> Language:
    """``zh`` when CJK ideographs are at least a fifth of the letters, else ``en``."""
    letters = sum(1 for _ in _LETTER.finditer(text))  # regex scans: linear and fast on megabytes
    cjk = sum(1 for _ in _CJK.finditer(text))
    return "zh" if letters and cjk / letters >= 0.2 else "en"


_LETTER = re.compile(r"[^\W\d_]")
# the "CJK UNIFIED IDEOGRAPH" blocks (BMP, extension A, and the supplementary planes)
_CJK = re.compile("[\u3400-\u4dbf\u4e00-\u9fff\U00020000-\U0002ebef\U00030000-\U000323af]")


def extract_article(path: str | Path, *, article_date: date | None = None, tz: str | None = None,
                    listings: Sequence[str] = DEFAULT_LISTINGS) -> ExtractionResult:
    """Read ``path`` and :func:`extract_candidates` from it (article named by its file name)."""
    p = Path(path)
    return extract_candidates(read_article(p), article=p.name, article_date=article_date, tz=tz,
                              listings=listings)


def extract_candidates(text: str, *, article: str = "article", article_date: date | None = None,
                       tz: str | None = None, listings: Sequence[str] = DEFAULT_LISTINGS) -> ExtractionResult:
    """Candidate catalysts from an article's ``text`` (see the module docstring).

    Parameters
    ----------
    text
        The whole article, front matter included; all offsets index this string.
    article
        Its name (file name), used for ids and ``source.article``.
    article_date
        The publication date when known; overrides front matter and file name.
    tz
        Default zone of undated-zone mentions (else front matter ``tz``, else
        Asia/Shanghai for Chinese and America/New_York for English).
    listings
        Listings each candidate is proposed for.

    Raises
    ------
    ExtractionError
        An unknown ``tz``.
    """
    fm, body_start = front_matter(text)
    body = text[body_start:]
    language = detect_language(body)
    finder = dates_zh if language == "zh" else dates_en
    mentions = finder.find_mentions(text, body_start)
    anchor = _article_date(article, fm, body, mentions, language, article_date)
    default_tz = tz or fm.get("tz") or DEFAULT_TZ[language]
    _check_zone(default_tz)
    sentence_end = finder.SENTENCE_END
    prefix = _slug(Path(article).stem.split("_")[0] or "article")

    candidates: list[Candidate] = []
    skipped: list[tuple[str, tuple[int, int], str]] = []
    used_ids: dict[str, int] = {}
    dated_sentences: set[tuple[int, int]] = set()
    for m in mentions:
        if m.role != "event":
            skipped.append((m.role, m.span, m.text))
            continue
        sentence = sentence_bounds(text, m.span[0], m.span[1], sentence_end)
        dated_sentences.add(sentence)
        kind, keyword = guess_kind(text[sentence[0]:sentence[1]])
        day, how, confidence = _resolve(m, anchor)
        candidates.append(_candidate(m, day, how, confidence, kind, keyword, sentence, default_tz,
                                     prefix, used_ids))
    undated = _undated(text, body_start, sentence_end, dated_sentences, anchor, default_tz, prefix, used_ids)
    return ExtractionResult(article=article, language=language, article_date=anchor, default_tz=default_tz,
                            listings=tuple(listings), candidates=tuple(candidates), undated=tuple(undated),
                            skipped=tuple(skipped))


def guess_kind(sentence: str) -> tuple[CatalystKind, str]:
    """(kind, keyword) from the first keyword group found in ``sentence``; ("other", "") if none."""
    low = sentence.lower()
    for kind, words in KIND_KEYWORDS:
        for word in words:
            if word in low:
                return kind, word
    return "other", ""


# --------------------------------------------------------------------------- resolution


def _article_date(article: str, fm: dict[str, str], body: str, mentions: list[DateMention],
                  language: Language, given: date | None) -> ArticleDate:
    if given is not None:
        return ArticleDate(day=given, year=given.year, source="given", exact=True)
    if "date" in fm:
        parsed = _parse_fm_date(fm["date"])
        if parsed is not None:
            return ArticleDate(day=parsed, year=parsed.year, source="front matter 'date'", exact=True)
    nm = _NAME_DATE.search(Path(article).name)
    if nm:
        try:
            d = date(int(nm["y"]), int(nm["m"]), int(nm["d"]))
            return ArticleDate(day=d, year=d.year, source="file name", exact=True)
        except ValueError:
            pass
    for m in mentions:
        if m.role == "event" and m.form == "ymd" and m.year and m.month and m.day:
            try:
                d = date(m.year, m.month, m.day)
            except ValueError:
                continue
            return ArticleDate(day=d, year=d.year, source=f"first full date in the text ({m.text})", exact=False)
    years = [int(y) for y in (_YEAR_ZH if language == "zh" else _YEAR_EN).findall(body)]
    if years:
        return ArticleDate(day=None, year=max(years), source="largest year mentioned", exact=False)
    return ArticleDate(day=None, year=None, source="unknown", exact=False)


def _parse_fm_date(value: str) -> date | None:
    try:
        return datetime.fromisoformat(value.strip()).date()
    except ValueError:
        m = _NAME_DATE.search(value)
        if m:
            try:
                return date(int(m["y"]), int(m["m"]), int(m["d"]))
            except ValueError:
                return None
    return None


def _resolve(m: DateMention, anchor: ArticleDate) -> tuple[date | None, str, Confidence]:
    """The mention's local date, how it was found, and how far to trust it."""
    if m.form == "ymd":
        assert m.year and m.month and m.day
        try:
            return date(m.year, m.month, m.day), "full date in the text", "high"
        except ValueError:
            return None, f"{m.text!r} is not a real date", "low"
    if m.form == "md":
        assert m.month and m.day
        if anchor.day is not None:
            options = []
            for year in (anchor.day.year - 1, anchor.day.year, anchor.day.year + 1):
                try:
                    options.append(date(year, m.month, m.day))
                except ValueError:
                    continue
            if not options:
                return None, f"{m.text!r} is not a real date", "low"
            best = min(options, key=lambda d: abs((d - anchor.day).days))  # type: ignore[operator]
            return (best, f"month-day; year from the article date {anchor.day} ({anchor.source})",
                    "medium" if anchor.exact else "low")
        if anchor.year is not None:
            try:
                return (date(anchor.year, m.month, m.day),
                        f"month-day; year {anchor.year} from the {anchor.source}", "low")
            except ValueError:
                return None, f"{m.text!r} is not a real date", "low"
        return None, "month-day without a year and no article date: pass --article-date", "low"
    if not anchor.exact or anchor.day is None:
        return (None, f"{m.text!r} is relative to the publication date, which is not known "
                      f"(only {anchor.source}): pass --article-date or add 'date' to the front matter", "low")
    base = anchor.day
    if m.form == "relday":
        assert m.day_offset is not None
        return base + timedelta(days=m.day_offset), f"{m.text!r} relative to the article date {base}", "medium"
    assert m.weekday is not None
    if m.week_offset is not None:
        monday = base - timedelta(days=base.weekday())
        day = monday + timedelta(days=7 * m.week_offset + m.weekday)
        how = f"{m.text!r} in the week {m.week_offset:+d} from the article date {base}"
    elif m.future:
        day = base + timedelta(days=(m.weekday - base.weekday()) % 7)
        how = f"{m.text!r} (future tense): the next such day on or after the article date {base}"
    else:
        day = base - timedelta(days=(base.weekday() - m.weekday) % 7)
        how = f"{m.text!r}: the latest such day on or before the article date {base}"
    return day, how, "medium"


# --------------------------------------------------------------------------- candidates


def _candidate(m: DateMention, day: date | None, how: str, confidence: Confidence, kind: CatalystKind,
               keyword: str, sentence: tuple[int, int], default_tz: str, prefix: str,
               used_ids: dict[str, int]) -> Candidate:
    hint = m.hint
    tz = hint.tz if hint is not None and hint.tz else default_tz
    precision: Precision | None = None
    at = until = None
    if day is not None:
        if hint is None:
            precision, at = "day", datetime.combine(day, time())
        elif hint.precision == "range":
            precision, at = "range", datetime.combine(day, hint.start)
            until = datetime.combine(day, hint.end) if hint.end else datetime.combine(day + timedelta(days=1), time())
        else:
            precision, at = hint.precision, datetime.combine(day, hint.start)
    stamp = day.strftime("%Y%m%d") if day else "undated"
    return Candidate(
        id=_unique(f"{prefix}_{stamp}_{kind}", used_ids), date=day, precision=precision, published_at=at,
        published_until=until, tz=tz, kind=kind, kind_keyword=keyword, mention=m.text,
        time_of_day=hint.text if hint else "", span=m.evidence_span, sentence=sentence, resolution=how,
        confidence=confidence)


def _undated(text: str, body_start: int, sentence_end: re.Pattern[str], dated: set[tuple[int, int]],
             anchor: ArticleDate, default_tz: str, prefix: str, used_ids: dict[str, int]) -> list[Candidate]:
    """Sentences that announce something "recently" without a date: the date must be looked up."""
    out: list[Candidate] = []
    pos = body_start
    while pos < len(text):
        lo, hi = sentence_bounds(text, pos, pos, sentence_end)
        hi = max(hi, pos + 1)
        sentence = text[lo:hi]
        low = sentence.lower()
        if (lo, hi) not in dated and any(w in low for w in _RECENT) and any(w in low for w in _ANNOUNCE):
            kind, keyword = guess_kind(sentence)
            if kind != "other":
                before = f"before the article date {anchor.day}" if anchor.day else "before the article's date"
                out.append(Candidate(
                    id=_unique(f"{prefix}_undated_{kind}", used_ids), date=None, precision=None,
                    published_at=None, published_until=None, tz=default_tz, kind=kind, kind_keyword=keyword,
                    mention="", time_of_day="", span=(lo, hi), sentence=(lo, hi),
                    resolution=f"announced 'recently' without a date ({before}): look the date up",
                    confidence="low"))
        pos = hi + 1
    return out


def _unique(base: str, used: dict[str, int]) -> str:
    """``base``, else ``base_2``, ``base_3`` ... (the next free suffix is remembered per base, so
    thousands of candidates of one kind stay linear)."""
    n = used.get(base)
    if n is None:
        used[base] = 2
        return base
    candidate = f"{base}_{n}"
    while candidate in used:
        n += 1
        candidate = f"{base}_{n}"
    used[base] = n + 1
    used[candidate] = 2
    return candidate


def _slug(text: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_")
    return slug or "article"


def _check_zone(name: str) -> None:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ExtractionError(f"unknown time zone {name!r}; use an IANA name such as 'Asia/Shanghai'") from None


# --------------------------------------------------------------------------- output


def _toml_str(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # JSON string escapes are valid TOML basic strings


def _excerpt(text: str, span: tuple[int, int], limit: int = 100) -> str:
    snippet = " ".join(text[span[0]:span[1]].split())
    return snippet if len(snippet) <= limit else snippet[:limit - 1] + "…"


def render_toml(result: ExtractionResult, text: str) -> str:
    """Candidates as ``[[catalyst]]`` tables a reviewer edits and merges into a calendar.

    Dated candidates are valid calendar entries (``loads_calendar`` accepts the output
    as is); undated ones and skipped mentions are comments. ``text`` is the article,
    quoted in comments as evidence for the reviewer (never stored in the repository).
    """
    ad = result.article_date
    lines = [
        f"# Candidate catalysts extracted from {result.article} by `catalyst-bt events extract`.",
        f"# Article date: {ad.day or ad.year or 'unknown'} ({ad.source}{'' if ad.exact else ', inferred'}); "
        f"language {result.language}; default time zone {result.default_tz}.",
        "# REVIEW every entry before merging it into a calendar: write the headline in your own words,",
        "# check kind, listings and expected_sign, and narrow the time window if you know more.",
        "# Offsets are [start, end) characters of the article text.",
        "",
    ]
    for c in result.dated:
        assert c.published_at is not None and c.date is not None
        lines += [
            "[[catalyst]]",
            f"# evidence {list(c.span)}: {_excerpt(text, c.span)!s} | sentence {list(c.sentence)}: "
            f"{_excerpt(text, c.sentence)}",
            f"# date: {c.resolution} (confidence {c.confidence})"
            + (f"; time of day from {c.time_of_day!r}" if c.time_of_day else ""),
            f"# kind guessed from {c.kind_keyword!r}" if c.kind_keyword else "# kind: no keyword matched",
            f"id = {_toml_str(c.id)}",
            f"headline = {_toml_str(f'REVIEW: {c.kind} news of {c.date.isoformat()} (write in your own words)')}",
            f"published_at = {_toml_str(c.published_at.isoformat(timespec='minutes'))}",
        ]
        if c.published_until is not None:
            lines.append(f"published_until = {_toml_str(c.published_until.isoformat(timespec='minutes'))}")
        lines += [
            f"tz = {_toml_str(c.tz)}",
            f"precision = {_toml_str(c.precision or 'day')}",
            f"kind = {_toml_str(c.kind)}",
            "listings = [" + ", ".join(_toml_str(s) for s in result.listings) + "]",
            "[catalyst.source]",
            f"article = {_toml_str(result.article)}",
        ]
        if ad.exact and ad.day is not None:
            lines.append(f"published = {ad.day.isoformat()}")
        lines += [f"span = [{c.span[0]}, {c.span[1]}]", ""]
    unresolved = [c for c in result.candidates if c.date is None] + list(result.undated)
    if unresolved:
        lines.append("# Candidates without a date (find the date, then write a [[catalyst]] entry):")
        for c in unresolved:
            lines.append(f"# - {c.id} ({c.kind}) evidence {list(c.span)}: {_excerpt(text, c.span)} — {c.resolution}")
        lines.append("")
    if result.skipped:
        lines.append("# Mentions skipped as not news times:")
        lines += [f"# - {role} {list(span)}: {mention}" for role, span, mention in result.skipped]
        lines.append("")
    return "\n".join(lines)


def render_jsonl(result: ExtractionResult) -> str:
    """One JSON object per candidate (dated, unresolved and undated), for tools."""
    rows = []
    for c in result.candidates + result.undated:
        rows.append(json.dumps({
            "article": result.article, "article_date": result.article_date.day.isoformat()
            if result.article_date.day else None, "article_date_source": result.article_date.source,
            "id": c.id, "date": c.date.isoformat() if c.date else None, "precision": c.precision,
            "published_at": c.published_at.isoformat(timespec="minutes") if c.published_at else None,
            "published_until": c.published_until.isoformat(timespec="minutes") if c.published_until else None,
            "tz": c.tz, "kind": c.kind, "kind_keyword": c.kind_keyword, "mention": c.mention,
            "time_of_day": c.time_of_day, "span": list(c.span), "sentence": list(c.sentence),
            "resolution": c.resolution, "confidence": c.confidence, "listings": list(result.listings),
        }, ensure_ascii=False))
    return "\n".join(rows) + ("\n" if rows else "")


# --------------------------------------------------------------------------- shared with other readers


def article_date_of(article: str, text: str, mentions: list[DateMention], language: Language,
                    given: date | None = None) -> ArticleDate:
    """The article's own date, by the rule of the module docstring (given, front matter, file name, text).

    For other readers of articles (``events.claims``), so every reader dates an article alike.
    """
    fm, body_start = front_matter(text)
    return _article_date(article, fm, text[body_start:], mentions, language, given)


def resolve_mention(mention: DateMention, anchor: ArticleDate) -> tuple[date | None, str, Confidence]:
    """A mention's local date, how it was resolved and how far to trust it (see :func:`extract_candidates`)."""
    return _resolve(mention, anchor)
