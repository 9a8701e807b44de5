"""Catalyst calendar files: TOML that people edit, validated on load.

Format (one ``[[catalyst]]`` table per catalyst; see ``events/data/alibaba_2025.toml``)::

    title = "optional"                      # optional free text
    description = "optional"

    [[catalyst]]
    id = "qwen25max"                        # unique slug: a-z, 0-9, _
    headline = "Alibaba Cloud ships ..."    # our own words, one line
    published_at = "2025-01-29T00:00"       # local wall time in `tz` (string or TOML datetime);
                                            # a date alone means that day's 00:00
    tz = "Asia/Shanghai"                    # IANA zone the news was dated in; may be omitted
                                            # only when published_at carries an offset
    precision = "range"                     # minute | hour | day | range
    published_until = "2025-01-29T03:00"    # only with range: end of the interval (same tz)
    kind = "product"                        # product partnership earnings capex macro flow other
    listings = ["9988.HK", "BABA"]          # tradable listings from data_loaders.markets
    expected_sign = 1                       # optional: 1 or -1
    scheduled = false                       # optional: date announced in advance (earnings)
    starred = false                         # optional: a key catalyst (emphasised in reports)
    note = "why this timing"                # optional: the reasoning behind the interval

    [catalyst.source]                       # required: traceability
    article = "000_16929aaaa6aed802.txt"
    publisher = "..."                       # optional
    published = 2025-02-13                  # optional TOML date (or "YYYY-MM-DD")
    span = [812, 826]                       # optional: [start, end) character offsets of
                                            # the evidence in the article

    [[narrative]]                           # optional: named sets of catalysts about a basket
    id = "china_tech_rerating_2025"         # (see events/narrative.py)
    catalysts = ["deepseek_r1", "qwen25max"]
    basket = "@china_internet"              # a listing-registry target

Rules that make a precision *possible*: ``minute`` needs zero seconds, ``hour`` a time on
the hour, ``day`` no time (or 00:00), ``range`` a ``published_until`` after
``published_at``. A local time that does not exist in ``tz`` (spring-forward gap) or
occurs twice (fall-back) is rejected: give an explicit offset instead.

Every problem in a file is collected and raised together in one
:class:`CalendarFileError`, one line per problem naming the file, the entry, the key,
the value and the fix.
"""

from __future__ import annotations

import difflib
import io
import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

import pandas as pd

from data_loaders.errors import UserError
from data_loaders.file_cache import FileMemo
from data_loaders.registry import active_registry
from events.catalyst import CATALYST_KINDS, PRECISIONS, Catalyst, Source
from events.narrative import Narrative, parse_narratives

DEFAULT_CALENDAR_NAME = "alibaba_2025.toml"

TOP_KEYS: tuple[str, ...] = ("title", "description", "catalyst", "narrative")
CATALYST_KEYS: tuple[str, ...] = (
    "id", "headline", "published_at", "tz", "precision", "published_until", "kind",
    "listings", "expected_sign", "scheduled", "starred", "note", "source",
)
SOURCE_KEYS: tuple[str, ...] = ("article", "publisher", "published", "span")
_REQUIRED: tuple[str, ...] = ("id", "headline", "published_at", "precision", "kind", "listings", "source")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")
_HEADER_RE = re.compile(r"^[ \t]*\[\[[ \t]*catalyst[ \t]*\]\]", re.MULTILINE)
_NARRATIVE_RE = re.compile(r"^[ \t]*\[\[[ \t]*narrative[ \t]*\]\]", re.MULTILINE)


@dataclass(frozen=True, kw_only=True, slots=True)
class CalendarProblem:
    """One thing wrong with a calendar file.

    Attributes
    ----------
    entry
        ``catalyst #3 'qwen25max'`` style label (``None`` for file-level problems).
    index
        1-based position of the ``[[catalyst]]`` table, ``None`` for file-level problems.
    line
        Line of that table's header in the file, when known.
    key
        Offending key (``source.article`` for nested keys), ``None`` for the whole entry.
    value
        The value found, as written in the file (``repr``), or ``""``.
    message
        What is wrong.
    fix
        What to change.
    """

    entry: str | None
    index: int | None
    line: int | None
    key: str | None
    value: str
    message: str
    fix: str

    def format(self, origin: str) -> str:
        where = origin if self.line is None else f"{origin}:{self.line}"
        parts = [where]
        if self.entry:
            parts.append(self.entry)
        if self.key:
            parts.append(f"{self.key} = {self.value}" if self.value else self.key)
        return f"{': '.join(parts)}: {self.message}; fix: {self.fix}"


class CalendarFileError(UserError, ValueError):
    """A calendar file has problems; ``problems`` lists all of them, one line each."""

    def __init__(self, origin: str, problems: list[CalendarProblem]) -> None:
        self.origin = origin
        self.problems: tuple[CalendarProblem, ...] = tuple(problems)
        lines = [f"{origin}: {len(self.problems)} problem(s) in this catalyst calendar:"]
        lines += [f"  - {p.format(origin)}" for p in self.problems]
        super().__init__("\n".join(lines))


@dataclass(frozen=True, kw_only=True, slots=True)
class CatalystCalendar:
    """A validated set of catalysts read from one file.

    Attributes
    ----------
    catalysts
        In file order; ids are unique.
    path
        The file it came from (``None`` when parsed from a string).
    title, description
        Free text from the file.
    notes
        ``(id, note)`` pairs for entries that carry a ``note``.
    narratives
        Named sets of catalysts about a basket (``[[narrative]]``, see :mod:`events.narrative`).
    """

    catalysts: tuple[Catalyst, ...]
    path: Path | None = None
    title: str = ""
    description: str = ""
    notes: tuple[tuple[str, str], ...] = field(default=())
    narratives: tuple[Narrative, ...] = field(default=())

    def __len__(self) -> int:
        return len(self.catalysts)

    def __iter__(self) -> Iterator[Catalyst]:
        return iter(self.catalysts)

    @property
    def ids(self) -> tuple[str, ...]:
        return tuple(c.id for c in self.catalysts)

    def get(self, catalyst_id: str) -> Catalyst:
        """The catalyst with ``catalyst_id``; ``KeyError`` with near matches otherwise."""
        for cat in self.catalysts:
            if cat.id == catalyst_id:
                return cat
        raise KeyError(f"no catalyst {catalyst_id!r} in {self.path or 'this calendar'}"
                       f"{_did_you_mean(catalyst_id, self.ids)}")

    def note(self, catalyst_id: str) -> str:
        """The entry's ``note`` ("" when it has none)."""
        return dict(self.notes).get(catalyst_id, "")


def load_calendar(path: str | Path) -> CatalystCalendar:
    """Read and validate a TOML catalyst calendar (once per file version, path and listing
    registry in a process: :data:`CALENDARS`; a changed file is read again).

    Raises
    ------
    CalendarFileError
        The file is missing, unreadable, not TOML, or has one or more invalid entries
        (every problem is listed, not just the first).
    """
    p = Path(path)
    try:
        return CALENDARS.load(p, (str(p), active_registry().content_key), lambda data: _validate_file(data, p))
    except FileNotFoundError:
        raise CalendarFileError(str(p), [_file_problem(
            "file not found", "check the path, or use the shipped calendar via load_default_calendar()")]
        ) from None
    except OSError as exc:
        raise CalendarFileError(str(p), [_file_problem(
            f"cannot read the file ({exc})", "save it as UTF-8 text")]) from None


def _validate_file(data: bytes, p: Path) -> CatalystCalendar:
    try:  # decoded as ``Path.read_text`` decodes (universal newlines)
        text = io.TextIOWrapper(io.BytesIO(data), encoding="utf-8").read()
    except UnicodeDecodeError as exc:
        raise CalendarFileError(str(p), [_file_problem(
            f"cannot read the file ({exc})", "save it as UTF-8 text")]) from None
    return loads_calendar(text, origin=str(p), path=p)


#: Validated calendars read in this process, by file version, path as given and the active
#: listing registry (:mod:`data_loaders.file_cache`); a calendar is immutable, so shared.
CALENDARS: FileMemo[CatalystCalendar] = FileMemo("catalyst calendars", handout=lambda cal: cal)


def loads_calendar(text: str, *, origin: str = "<calendar>", path: Path | None = None) -> CatalystCalendar:
    """Validate calendar ``text`` (TOML); ``origin`` names it in messages. See :func:`load_calendar`."""
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise CalendarFileError(origin, [_file_problem(
            f"not valid TOML ({exc})", "fix the syntax at that line (strings need quotes, "
            "each catalyst starts with [[catalyst]])")]) from None
    header_lines = [text.count("\n", 0, m.start()) + 1 for m in _HEADER_RE.finditer(text)]
    problems: list[CalendarProblem] = []
    for key in doc:
        if key not in TOP_KEYS:
            problems.append(_file_problem(
                f"unknown top-level key {key!r}",
                f"remove it{_did_you_mean(key, TOP_KEYS)} (catalysts go in [[catalyst]] tables)"))
    for key in ("title", "description"):
        if key in doc and not isinstance(doc[key], str):
            problems.append(_file_problem(f"{key} must be a string, got {doc[key]!r}", f"quote the {key}"))
    entries = doc.get("catalyst", [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        problems.append(_file_problem("'catalyst' must be an array of tables",
                                      "write each catalyst as a [[catalyst]] table"))
        entries = []
    if not entries and not problems:
        problems.append(_file_problem("the calendar has no catalysts", "add at least one [[catalyst]] table"))

    catalysts: list[Catalyst] = []
    notes: list[tuple[str, str]] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(entries, start=1):
        line = header_lines[i - 1] if i - 1 < len(header_lines) else None
        checker = _EntryChecker(raw, index=i, line=line)
        cat = checker.build()
        problems.extend(checker.problems)
        cid = raw.get("id")
        if isinstance(cid, str):
            if cid in seen:
                problems.append(checker.problem(
                    "id", cid, f"duplicate id: catalyst #{seen[cid]} already uses it",
                    "give every catalyst a unique id"))
            else:
                seen[cid] = i
        if cat is not None:
            catalysts.append(cat)
            note = raw.get("note")
            if isinstance(note, str) and note:
                notes.append((cat.id, note))
    narratives: tuple[Narrative, ...] = ()
    if "narrative" in doc:
        lines = [text.count("\n", 0, m.start()) + 1 for m in _NARRATIVE_RE.finditer(text)]
        narratives, found = parse_narratives(doc["narrative"], list(seen), lines=lines,
                                             expand=active_registry().expand, problem=_narrative_problem)
        problems.extend(found)
    if problems:
        raise CalendarFileError(origin, problems)
    return CatalystCalendar(
        catalysts=tuple(catalysts), path=path, title=str(doc.get("title", "")),
        description=str(doc.get("description", "")), notes=tuple(notes), narratives=narratives)


def default_calendar_path() -> Path:
    """Path of the shipped calendar ``events/data/alibaba_2025.toml`` (package data)."""
    return Path(str(resources.files("events").joinpath("data", DEFAULT_CALENDAR_NAME)))


def load_default_calendar() -> CatalystCalendar:
    """Load the shipped Alibaba 2025 calendar (every catalyst in CATALYSTS.md)."""
    return load_calendar(default_calendar_path())


# --------------------------------------------------------------------------- helpers


def _did_you_mean(word: str, choices: tuple[str, ...] | list[str], *, cutoff: float = 0.6) -> str:
    near = difflib.get_close_matches(word, list(choices), n=3, cutoff=cutoff)
    if not near:
        near = [c for c in choices if c.lower() == word.lower()]
    return f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""


def _narrative_problem(index: int, line: int | None, label: str, key: str | None, value: object, message: str,
                       fix: str) -> CalendarProblem:
    return CalendarProblem(entry=label or None, index=index or None, line=line, key=key,
                           value="" if value is None else repr(value), message=message, fix=fix)


def _file_problem(message: str, fix: str) -> CalendarProblem:
    return CalendarProblem(entry=None, index=None, line=None, key=None, value="", message=message, fix=fix)


@lru_cache(maxsize=1)
def _zone_names() -> tuple[str, ...]:
    return tuple(sorted(available_timezones()))


class _EntryChecker:
    """Validates one ``[[catalyst]]`` table, collecting every problem it finds."""

    def __init__(self, raw: Mapping[str, Any], *, index: int, line: int | None) -> None:
        self.raw = raw
        self.index = index
        self.line = line
        cid = raw.get("id")
        self.label = f"catalyst #{index}" + (f" {cid!r}" if isinstance(cid, str) and cid else "")
        self.problems: list[CalendarProblem] = []

    def problem(self, key: str | None, value: object, message: str, fix: str) -> CalendarProblem:
        return CalendarProblem(entry=self.label, index=self.index, line=self.line, key=key,
                               value="" if value is None else repr(value), message=message, fix=fix)

    def add(self, key: str | None, value: object, message: str, fix: str) -> None:
        self.problems.append(self.problem(key, value, message, fix))

    # -- the entry -------------------------------------------------------------------

    def build(self) -> Catalyst | None:
        raw = self.raw
        misspelt: set[str] = set()
        for key in raw:
            if key not in CATALYST_KEYS:
                near = difflib.get_close_matches(key, CATALYST_KEYS, n=1, cutoff=0.6)
                if near and near[0] not in raw:  # a typo of a key that is missing: one problem, not two
                    misspelt.add(near[0])
                    self.add(key, raw[key], "unknown key", f"rename it to {near[0]!r}")
                else:
                    self.add(key, raw[key], "unknown key",
                             f"remove or rename it{_did_you_mean(key, CATALYST_KEYS)}")
        for key in _REQUIRED:
            if key not in raw and key not in misspelt:
                self.add(key, None, "missing required key", f"add {key} = ... to this [[catalyst]] table")
        cid = self._string("id")
        if cid is not None and not _ID_RE.match(cid):
            self.add("id", cid, "ids are lower-case slugs", "use a-z, 0-9 and _ only, e.g. 'apple_report'")
        headline = self._string("headline")
        kind = self._choice("kind", CATALYST_KINDS)
        precision = self._choice("precision", PRECISIONS)
        listings = self._listings()
        sign = raw.get("expected_sign")
        if sign is not None and (isinstance(sign, bool) or sign not in (1, -1)):
            self.add("expected_sign", sign, "must be 1 or -1", "write 1 (up), -1 (down) or leave the key out")
            sign = None
        scheduled = raw.get("scheduled", False)
        if not isinstance(scheduled, bool):
            self.add("scheduled", scheduled, "must be true or false", "write scheduled = true or false (no quotes)")
            scheduled = False
        starred = raw.get("starred", False)
        if not isinstance(starred, bool):
            self.add("starred", starred, "must be true or false", "write starred = true or false (no quotes)")
            starred = False
        if "note" in raw and not isinstance(raw["note"], str):
            self.add("note", raw["note"], "must be a string", "quote the note")
        zone = self._zone()
        at = self._instant("published_at", zone)
        until = self._instant("published_until", zone) if "published_until" in raw else None
        self._check_precision(precision, at, until)
        source = self._source()
        if self.problems:
            return None
        assert cid and headline and kind and precision and at is not None and listings and source
        try:
            return Catalyst(
                id=cid, headline=headline, published_at=at, precision=precision,  # type: ignore[arg-type]
                published_until=until, kind=kind, listings=listings,  # type: ignore[arg-type]
                expected_sign=sign, scheduled=scheduled, starred=starred, source=source)
        except ValueError as exc:  # the model's own checks, should the two ever drift apart
            self.add(None, None, str(exc), "correct the entry as the message says")
            return None

    # -- scalar keys -----------------------------------------------------------------

    def _string(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if not isinstance(value, str) or not value.strip():
            self.add(key, value, "must be a non-empty string", f"write {key} = \"...\"")
            return None
        return value.strip()

    def _choice(self, key: str, choices: tuple[str, ...]) -> str | None:
        value = self._string(key)
        if value is not None and value not in choices:
            self.add(key, value, f"not one of {', '.join(choices)}",
                     f"use one of them{_did_you_mean(value, choices)}")
            return None
        return value

    def _listings(self) -> tuple[str, ...] | None:
        value = self.raw.get("listings")
        if value is None:
            return None
        if not isinstance(value, list) or not value or not all(isinstance(v, str) for v in value):
            self.add("listings", value, "must be a non-empty list of symbols", 'write listings = ["9988.HK", "BABA"] (symbols, "@issuer" or "@basket" targets)')
            return None
        ok = True
        registry = active_registry()
        tradable = registry.tradable_symbols()
        for sym in value:
            if sym.startswith("@"):
                try:
                    registry.expand(sym)
                except UserError as exc:
                    self.add("listings", sym, str(exc).split(" Baskets:")[0],
                             "use a declared @issuer or @basket, or declare it in the registry")
                    ok = False
            elif sym not in registry.listings:
                self.add("listings", sym, "unknown listing",
                         f"use a tradable symbol{_did_you_mean(sym.upper(), tradable)}, an @issuer or @basket "
                         f"target, or declare the listing with [[listing]] in your config; known: "
                         f"{', '.join(tradable)}")
                ok = False
            elif not registry.listings[sym].tradable:
                self.add("listings", sym, f"{sym} is not tradable (it is an {registry.listings[sym].kind} series)",
                         "name the stocks / ADRs the news concerns; benchmarks are chosen by the study")
                ok = False
        if len(set(value)) != len(value):
            self.add("listings", value, "a listing appears twice", "name each listing once")
            ok = False
        return tuple(value) if ok else None

    def _zone(self) -> ZoneInfo | None:
        name = self.raw.get("tz")
        if name is None:
            return None
        if not isinstance(name, str) or not name:
            self.add("tz", name, "must be an IANA zone name", 'write e.g. tz = "Asia/Shanghai"')
            return None
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            self.add("tz", name, "unknown time zone",
                     f"use an IANA name{_did_you_mean(name, _zone_names())}, e.g. 'Asia/Hong_Kong', "
                     f"'America/New_York'")
            return None

    def _instant(self, key: str, zone: ZoneInfo | None) -> pd.Timestamp | None:
        """Parse ``key`` into a tz-aware timestamp (problems recorded, ``None`` on failure)."""
        value = self.raw.get(key)
        if value is None:
            return None
        parsed = _parse_datetime(value)
        if parsed is None:
            self.add(key, value, "not a date-time",
                     'write an ISO local time such as "2025-01-29T00:00" (or a date "2025-02-24")')
            return None
        if parsed.tzinfo is not None:
            if zone is not None:
                expected = parsed.replace(tzinfo=None).replace(tzinfo=zone).utcoffset()
                if expected != parsed.utcoffset():
                    self.add(key, value, f"its offset {_fmt_offset(parsed.utcoffset())} disagrees with tz "
                             f"{zone.key} ({_fmt_offset(expected)} at that time)",
                             "drop the offset (the tz gives it) or correct one of them")
                    return None
                return pd.Timestamp(parsed.replace(tzinfo=None)).tz_localize(zone.key)
            return pd.Timestamp(parsed)
        if zone is None:
            if "tz" not in self.raw:
                self.add(key, value, "naive timestamp: no time zone",
                         'add tz = "Asia/Shanghai" (the zone the news was dated in) or an offset such '
                         'as "2025-01-29T00:00+08:00"')
            return None  # an unknown tz was already reported
        naive = parsed
        fold0 = naive.replace(tzinfo=zone, fold=0)
        fold1 = naive.replace(tzinfo=zone, fold=1)
        roundtrip = fold0.astimezone(ZoneInfo("UTC")).astimezone(zone).replace(tzinfo=None)
        if roundtrip != naive:
            self.add(key, value, f"{naive:%Y-%m-%d %H:%M} does not exist in {zone.key} (clocks jump forward)",
                     "give the time with an explicit offset, or the time after the jump")
            return None
        if fold0.utcoffset() != fold1.utcoffset():
            self.add(key, value, f"{naive:%Y-%m-%d %H:%M} happens twice in {zone.key} (clocks go back)",
                     f"add the offset you mean: {_fmt_offset(fold0.utcoffset())} (first) or "
                     f"{_fmt_offset(fold1.utcoffset())} (second)")
            return None
        return pd.Timestamp(naive).tz_localize(zone.key)

    def _check_precision(self, precision: str | None, at: pd.Timestamp | None,
                         until: pd.Timestamp | None) -> None:
        raw = self.raw
        if precision is None:
            return
        if precision == "range":
            if "published_until" not in raw:
                self.add("precision", precision, "a range needs published_until",
                         "add published_until = the last moment the news could have appeared")
            elif at is not None and until is not None and until <= at:
                self.add("published_until", raw["published_until"],
                         f"is not after published_at {raw.get('published_at')!r}",
                         "swap them or correct the end of the interval")
            return
        if "published_until" in raw:
            self.add("published_until", raw["published_until"],
                     f"only allowed with precision 'range' (precision is {precision!r})",
                     "use precision = \"range\" or remove published_until")
        if at is None:
            return
        value = raw.get("published_at")
        if precision == "minute" and (at.second or at.microsecond):
            self.add("published_at", value, "has seconds but precision is 'minute'",
                     "drop the seconds, or use precision 'range' to state an interval")
        elif precision == "hour" and (at.minute or at.second or at.microsecond):
            self.add("published_at", value, "is not on the hour but precision is 'hour'",
                     f"write {at:%H}:00 with precision 'hour', or keep the minutes with precision 'minute'")
        elif precision == "day" and (at.hour or at.minute or at.second or at.microsecond):
            self.add("published_at", value, "has a time of day but precision is 'day'",
                     "drop the time (a day is 00:00-24:00 local), or use 'minute' / 'hour' / 'range'")

    def _source(self) -> Source | None:
        raw = self.raw.get("source")
        if raw is None:
            return None
        if not isinstance(raw, dict):
            self.add("source", raw, "must be a table", "write a [catalyst.source] table with article = ...")
            return None
        ok = True
        for key in raw:
            if key not in SOURCE_KEYS:
                self.add(f"source.{key}", raw[key], "unknown key",
                         f"remove or rename it{_did_you_mean(key, SOURCE_KEYS)}")
                ok = False
        article = raw.get("article")
        if not isinstance(article, str) or not article.strip():
            self.add("source.article", article, "missing or empty",
                     "name the article the catalyst comes from (file name or URL)")
            ok = False
        publisher = raw.get("publisher", "")
        if not isinstance(publisher, str):
            self.add("source.publisher", publisher, "must be a string", "quote the publisher")
            ok = False
        published = raw.get("published")
        pub_date: date | None = None
        if published is not None:
            if isinstance(published, date) and not isinstance(published, datetime):
                pub_date = published
            elif isinstance(published, str):
                try:
                    pub_date = date.fromisoformat(published)
                except ValueError:
                    pass
            if pub_date is None:
                self.add("source.published", published, "not a date", "write published = 2025-02-13")
                ok = False
        span = raw.get("span")
        if span is not None and not (
                isinstance(span, list) and len(span) == 2 and all(type(v) is int for v in span)
                and 0 <= span[0] < span[1]):
            self.add("source.span", span, "must be [start, end) character offsets with 0 <= start < end",
                     "write span = [812, 826] (as printed by catalyst-bt events extract)")
            ok = False
        if not ok:
            return None
        return Source(article=str(article).strip(), publisher=str(publisher), published=pub_date,
                      span=(span[0], span[1]) if span is not None else None)


def _parse_datetime(value: object) -> datetime | None:
    """TOML datetime / date or an ISO string -> ``datetime`` (naive or aware); else ``None``."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, date):
        return datetime.combine(value, time())
    if isinstance(value, str):
        text = value.strip()
        try:
            return datetime.fromisoformat(text)
        except ValueError:
            return None
    return None


def _fmt_offset(offset: timedelta | None) -> str:
    if offset is None:
        return "?"
    minutes = int(offset.total_seconds() // 60)
    sign = "+" if minutes >= 0 else "-"
    return f"{sign}{abs(minutes) // 60:02d}:{abs(minutes) % 60:02d}"
