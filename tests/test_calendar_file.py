"""Calendar files: the shipped calendar, and one clear problem per mistake in a bad one."""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pandas as pd
import pytest

from data_loaders.errors import UserError
from events.calendar_file import (
    CalendarFileError, CatalystCalendar, default_calendar_path, load_calendar, load_default_calendar,
    loads_calendar,
)

STARRED = ("qwen25max", "apple_report", "earnings_fy25q3", "capex_380b")
# CATALYSTS.md: id -> (local date, tz). Precision there is "day" or "hour range"; where the
# timing notes pin a session the calendar states it as a range (documented in the file).
CATALYSTS_MD = {
    "deepseek_r1": ("2025-01-20", "Asia/Shanghai"),
    "deepseek_selloff": ("2025-01-27", "America/New_York"),
    "qwen25max": ("2025-01-29", "Asia/Shanghai"),
    "arena_rank": ("2025-02-04", "Asia/Shanghai"),
    "apple_report": ("2025-02-11", "America/New_York"),
    "tsai_confirms": ("2025-02-13", "Asia/Dubai"),
    "earnings_fy25q3": ("2025-02-20", "Asia/Hong_Kong"),
    "capex_380b": ("2025-02-24", "Asia/Shanghai"),
    "southbound_record": ("2025-03-10", "Asia/Hong_Kong"),
    "qwen3max_capex_up": ("2025-09-24", "Asia/Shanghai"),
}
CJK = re.compile(r"[\u3400-\u9fff]")

GOOD_ENTRY = """
[[catalyst]]
id = "{id}"
headline = "Something happened"
published_at = "2025-02-11T09:30"
published_until = "2025-02-11T16:00"
tz = "America/New_York"
precision = "range"
kind = "partnership"
listings = ["9988.HK", "BABA"]
[catalyst.source]
article = "002.txt"
"""


# --------------------------------------------------------------------- shipped calendar


def test_shipped_calendar_is_package_data_with_every_catalyst() -> None:
    path = default_calendar_path()
    assert path.name == "alibaba_2025.toml" and path.is_file()
    assert path.parent == Path(__file__).resolve().parents[1] / "events" / "data"
    cal = load_default_calendar()
    assert isinstance(cal, CatalystCalendar) and cal.path == path
    assert set(cal.ids) == set(CATALYSTS_MD)
    assert set(STARRED) <= set(cal.ids)


@pytest.mark.parametrize("cid", sorted(CATALYSTS_MD))
def test_shipped_catalyst_matches_catalysts_md(cid: str) -> None:
    cat = load_default_calendar().get(cid)
    local_date, tz = CATALYSTS_MD[cid]
    assert str(cat.published_at.tz) == tz
    assert cat.published_at.date() == date.fromisoformat(local_date)
    if cat.published_until is not None:  # ranges stay within the stated local day
        assert cat.published_until.date() == date.fromisoformat(local_date)
    assert cat.source is not None and re.fullmatch(r"00[0-4]_[0-9a-f]{16}\.txt", cat.source.article)
    assert cat.source.span is not None
    assert not CJK.search(cat.headline), "headlines are in our own (English) words"
    assert set(cat.listings) == {"9988.HK", "BABA"}


def test_shipped_timing_decisions() -> None:
    cal = load_default_calendar()
    qwen = cal.get("qwen25max")
    assert (qwen.earliest_utc, qwen.latest_utc) == (
        pd.Timestamp("2025-01-28T16:00Z"), pd.Timestamp("2025-01-28T19:00Z"))
    results = cal.get("earnings_fy25q3")
    assert results.scheduled and results.kind == "earnings"
    hk_close, us_open = pd.Timestamp("2025-02-20T08:00Z"), pd.Timestamp("2025-02-20T14:30Z")
    assert hk_close <= results.earliest_utc < results.latest_utc < us_open
    capex = cal.get("capex_380b")
    assert capex.precision == "day"
    assert (capex.earliest_utc, capex.latest_utc) == (
        pd.Timestamp("2025-02-23T16:00Z"), pd.Timestamp("2025-02-24T16:00Z"))
    assert cal.note("apple_report")


def test_shipped_spans_lie_in_their_articles(seeds_dir: Path) -> None:
    for cat in load_default_calendar():
        assert cat.source is not None and cat.source.span is not None
        text = (seeds_dir / cat.source.article).read_text(encoding="utf-8")
        start, end = cat.source.span
        assert end <= len(text), cat.id
        assert text[start:end].strip(), cat.id


def test_calendar_lookup_suggests_near_ids() -> None:
    cal = load_default_calendar()
    with pytest.raises(KeyError, match="qwen25max"):
        cal.get("qwen25maxx")


# --------------------------------------------------------------------- valid variants


def test_offset_without_tz_and_toml_dates_are_accepted() -> None:
    text = """
[[catalyst]]
id = "a"
headline = "x"
published_at = 2025-01-29T01:15:00+08:00
precision = "minute"
kind = "product"
listings = ["BABA"]
[catalyst.source]
article = "a.txt"
published = 2025-02-13
span = [3, 9]

[[catalyst]]
id = "b"
headline = "y"
published_at = 2025-02-24
tz = "Asia/Shanghai"
precision = "day"
kind = "capex"
listings = ["9988.HK"]
expected_sign = -1
scheduled = true
[catalyst.source]
article = "b.txt"
published = "2025-02-25"
"""
    cal = loads_calendar(text)
    a, b = cal.catalysts
    assert a.earliest_utc == pd.Timestamp("2025-01-28T17:15Z")
    assert a.source is not None and a.source.span == (3, 9) and a.source.published == date(2025, 2, 13)
    assert b.earliest_utc == pd.Timestamp("2025-02-23T16:00Z") and b.expected_sign == -1 and b.scheduled
    assert b.source is not None and b.source.published == date(2025, 2, 25)


# --------------------------------------------------------------------- bad files


def _problems(text: str) -> list:
    with pytest.raises(CalendarFileError) as info:
        loads_calendar(text, origin="bad.toml")
    return list(info.value.problems)


def _entry(**overrides: object) -> str:
    """One entry, with keys replaced / removed (value None) / added."""
    fields: dict[str, object] = {
        "id": '"e"', "headline": '"x"', "published_at": '"2025-02-11T10:00"', "tz": '"Asia/Hong_Kong"',
        "precision": '"minute"', "kind": '"product"', "listings": '["9988.HK"]',
    }
    fields.update(overrides)
    body = "\n".join(f"{k} = {v}" for k, v in fields.items() if v is not None)
    return f"[[catalyst]]\n{body}\n[catalyst.source]\narticle = \"a.txt\"\n"


@pytest.mark.parametrize(("overrides", "key", "fix_word"), [
    ({"headlne": '"x"'}, "headlne", "'headline'"),
    ({"headline": None, "headlne": '"x"'}, "headlne", "rename it to 'headline'"),
    ({"tz": None}, "published_at", "tz ="),
    ({"tz": '"Asia/Shangai"'}, "tz", "'Asia/Shanghai'"),
    ({"listings": '["BABA.US"]'}, "listings", "'BABA'"),
    ({"listings": '["HSTECH"]'}, "listings", "stocks"),
    ({"precision": '"week"'}, "precision", "one of them"),
    ({"precision": '"day"'}, "published_at", "drop the time"),
    ({"precision": '"hour"', "published_at": '"2025-02-11T10:30"'}, "published_at", "10:00"),
    ({"published_at": '"2025-02-11T10:00:15"'}, "published_at", "drop the seconds"),
    ({"precision": '"range"'}, "precision", "published_until"),
    ({"precision": '"range"', "published_until": '"2025-02-11T09:00"'}, "published_until", "swap"),
    ({"published_until": '"2025-02-11T11:00"'}, "published_until", "range"),
    ({"tz": '"America/New_York"', "published_at": '"2025-03-09T02:30"'}, "published_at", "offset"),
    ({"tz": '"America/New_York"', "published_at": '"2025-11-02T01:30"'}, "published_at", "-04:00"),
    ({"published_at": '"2025-02-11T10:00+09:00"'}, "published_at", "drop the offset"),
    ({"published_at": '"next tuesday"'}, "published_at", "ISO"),
    ({"kind": '"earning"'}, "kind", "'earnings'"),
    ({"expected_sign": "2"}, "expected_sign", "-1"),
    ({"scheduled": '"yes"'}, "scheduled", "true"),
    ({"id": '"Bad Id"'}, "id", "a-z"),
    ({"kind": None}, "kind", "add kind"),
])
def test_each_mistake_gives_one_problem_with_a_fix(overrides: dict[str, object], key: str, fix_word: str) -> None:
    problems = _problems(_entry(**overrides))
    assert len(problems) == 1, [p.format("bad.toml") for p in problems]
    (p,) = problems
    assert (p.key, p.index, p.line) == (key, 1, 1)
    assert fix_word in p.fix


def test_a_file_with_many_mistakes_lists_them_all() -> None:
    text = (
        'titel = "x"\n'
        + _entry(id='"a"', tz='"Mars/Base"')
        + _entry(id='"a"', listings='["9988.HK", "NOPE"]', headlne='"y"')
        + GOOD_ENTRY.format(id="ok")
        + _entry(id='"c"', precision='"range"', published_until='"2025-02-11T08:00"')
    )
    with pytest.raises(CalendarFileError) as info:
        loads_calendar(text, origin="cal.toml")
    err = info.value
    assert isinstance(err, UserError)
    header_lines = [i + 1 for i, line in enumerate(text.splitlines()) if line == "[[catalyst]]"]
    assert all(p.line == header_lines[p.index - 1] for p in err.problems if p.index)
    got = sorted((p.index or 0, p.key or "") for p in err.problems)
    assert got == [(0, ""), (1, "tz"), (2, "headlne"), (2, "id"), (2, "listings"), (4, "published_until")]
    lines = str(err).splitlines()
    assert len(lines) == 1 + len(err.problems)  # a header, then one line per problem
    assert all(line.lstrip("- ").startswith("cal.toml") for line in lines)
    assert all("fix:" in line for line in lines[1:])


def test_duplicate_ids_are_reported_on_the_second_entry() -> None:
    problems = _problems(GOOD_ENTRY.format(id="same") + GOOD_ENTRY.format(id="same"))
    assert [(p.index, p.key) for p in problems] == [(2, "id")]
    assert "#1" in problems[0].message


def test_source_problems_are_reported_per_key() -> None:
    text = _entry().replace('article = "a.txt"', 'article = ""\nspan = [5, 2]\npublished = "soon"\nurl = "x"')
    assert sorted(p.key for p in _problems(text)) == [
        "source.article", "source.published", "source.span", "source.url"]


@pytest.mark.parametrize(("text", "word"), [
    ("", "no catalysts"),
    ("[[catalyst]\nid = 1", "not valid TOML"),
    ("catalyst = 3", "array of tables"),
])
def test_file_level_problems(text: str, word: str) -> None:
    (p,) = _problems(text)
    assert p.index is None and word in p.message


def test_missing_file_names_the_path(tmp_path: Path) -> None:
    with pytest.raises(CalendarFileError, match="file not found") as info:
        load_calendar(tmp_path / "nope.toml")
    assert str(tmp_path / "nope.toml") in str(info.value)


def test_load_calendar_reads_a_file(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(GOOD_ENTRY.format(id="one"), encoding="utf-8")
    cal = load_calendar(path)
    assert cal.path == path and cal.ids == ("one",)
    assert cal.get("one").latest_utc == pd.Timestamp("2025-02-11T21:00Z")
