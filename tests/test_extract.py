"""Article extraction on short articles written for these tests, and on the seed articles."""

from __future__ import annotations

import json
from datetime import date, datetime
from pathlib import Path

import pytest

from events.calendar_file import load_default_calendar, loads_calendar
from events.extract import (
    Candidate, ExtractionError, detect_language, extract_article, extract_candidates, front_matter,
    guess_kind, read_article, render_jsonl, render_toml,
)

# Written for these tests (not taken from any article). The article is dated Wednesday 2025-03-05.
ZH = (
    "---\n"
    'title: "测试"\n'
    'date: "2025-03-05 10:00:00"\n'
    "---\n"
    "某公司于2025年3月3日凌晨发布新模型。周二美股盘后，该公司公布财报。下周四公司将召开发布会。"
    "截至3月4日收盘，股价上涨。3月1日，两家公司宣布合作。今天上午10:30，公司宣布回购。12月30日的旧闻不算。\n"
)
# Dated Friday 2025-02-21.
EN = (
    "---\ndate: 2025-02-21\n---\n"
    "Acme reported results on Feb 20 after the close. Shares rallied on Tuesday. "
    "The company will hold an event next Thursday at 8:30 a.m. ET. As of Feb 19, the stock was flat. "
    "On 2025-01-29, Acme and Beta announced a partnership. Acme recently announced a bigger capex plan.\n"
)


def _rows(cands: tuple[Candidate, ...]) -> list[tuple]:
    return [(c.date, c.precision, c.published_at, c.published_until, c.tz, c.kind) for c in cands]


def test_chinese_article_dates_times_and_kinds() -> None:
    res = extract_candidates(ZH, article="zh_test.md")
    assert (res.language, res.article_date.day, res.article_date.exact) == ("zh", date(2025, 3, 5), True)
    assert _rows(res.candidates) == [
        # absolute date + 凌晨 -> 00:00-06:00 range
        (date(2025, 3, 3), "range", datetime(2025, 3, 3, 0), datetime(2025, 3, 3, 6), "Asia/Shanghai", "product"),
        # 周二 before Wednesday 03-05 -> 03-04; 美股盘后 -> US after-hours window in New York time
        (date(2025, 3, 4), "range", datetime(2025, 3, 4, 16), datetime(2025, 3, 4, 20), "America/New_York",
         "earnings"),
        # 下周四 -> Thursday of the next week
        (date(2025, 3, 13), "day", datetime(2025, 3, 13), None, "Asia/Shanghai", "product"),
        (date(2025, 3, 1), "day", datetime(2025, 3, 1), None, "Asia/Shanghai", "partnership"),
        # 今天上午10:30 -> the article's own date, to the minute
        (date(2025, 3, 5), "minute", datetime(2025, 3, 5, 10, 30), None, "Asia/Shanghai", "other"),
        # 12月30日 in an article of March 2025 is the previous December
        (date(2024, 12, 30), "day", datetime(2024, 12, 30), None, "Asia/Shanghai", "other"),
    ]
    evidence = [ZH[c.span[0]:c.span[1]] for c in res.candidates]
    assert evidence == ["2025年3月3日凌晨", "周二美股盘后", "下周四", "3月1日", "今天上午10:30", "12月30日"]
    assert [(role, ZH[s:e]) for role, (s, e), _ in res.skipped] == [("as_of", "3月4日")]
    assert all(ZH[c.sentence[0]:c.sentence[1]].find(ZH[c.span[0]:c.span[1]]) >= 0 for c in res.candidates)


def test_english_article_dates_times_and_kinds() -> None:
    res = extract_candidates(EN, article="en_test.md")
    assert res.language == "en" and res.default_tz == "America/New_York"
    assert _rows(res.candidates) == [
        (date(2025, 2, 20), "range", datetime(2025, 2, 20, 16), datetime(2025, 2, 20, 20), "America/New_York",
         "earnings"),
        (date(2025, 2, 18), "day", datetime(2025, 2, 18), None, "America/New_York", "other"),
        (date(2025, 2, 27), "minute", datetime(2025, 2, 27, 8, 30), None, "America/New_York", "other"),
        (date(2025, 1, 29), "day", datetime(2025, 1, 29), None, "America/New_York", "partnership"),
    ]
    assert [EN[c.span[0]:c.span[1]] for c in res.candidates] == [
        "Feb 20 after the close", "Tuesday", "next Thursday at 8:30 a.m. ET", "2025-01-29"]
    assert [role for role, _, _ in res.skipped] == ["as_of"]
    (undated,) = res.undated
    assert undated.kind == "capex" and undated.date is None
    assert EN[undated.span[0]:undated.span[1]].startswith("Acme recently announced")


def test_weekday_needs_the_publication_date() -> None:
    text = "據報道，某公司週二發佈新模型。2 月 20 日將公佈財報。"
    unknown = extract_candidates(text)
    assert unknown.article_date.source == "unknown"
    assert [c.date for c in unknown.candidates] == [None, None]
    assert "--article-date" in unknown.candidates[0].resolution
    known = extract_candidates(text, article_date=date(2025, 2, 13))
    assert [(c.date, c.kind, c.confidence) for c in known.candidates] == [
        (date(2025, 2, 11), "product", "medium"), (date(2025, 2, 20), "earnings", "medium")]


def test_inferred_article_date_fixes_years_but_not_weekdays() -> None:
    text = "2025 年 1 月 29 日凌晨，某模型發佈。週二有報道。2 月 20 日發佈財報。"
    res = extract_candidates(text)
    assert not res.article_date.exact and res.article_date.day == date(2025, 1, 29)
    assert [(c.date, c.confidence) for c in res.candidates] == [
        (date(2025, 1, 29), "high"), (None, "low"), (date(2025, 2, 20), "low")]


def test_file_name_date_and_crlf_offsets(tmp_path: Path) -> None:
    path = tmp_path / "2025-02-13_note.txt"
    path.write_bytes("第一段。\r\n周二公司宣布合作。\r\n".encode())
    res = extract_article(path)
    assert res.article_date.source == "file name"
    (cand,) = res.candidates
    text = read_article(path)
    assert "\r\n" in text and text[cand.span[0]:cand.span[1]] == "周二"
    assert cand.date == date(2025, 2, 11) and cand.kind == "partnership"


def test_fullwidth_digits_keep_offsets() -> None:
    text = "公司於２月１１日發佈新模型。"
    (cand,) = extract_candidates(text, article_date=date(2025, 2, 13)).candidates
    assert text[cand.span[0]:cand.span[1]] == "２月１１日" and cand.date == date(2025, 2, 11)


def test_datelines_and_periods_are_skipped() -> None:
    text = "某社2月13日讯，公司周期为2020.12.31-2024.12.31。"
    res = extract_candidates(text, article_date=date(2025, 2, 13))
    assert res.candidates == ()
    assert [role for role, _, _ in res.skipped] == ["dateline", "period", "period"]


@pytest.mark.parametrize(("sentence", "kind"), [
    ("阿里巴巴公布季度财报，资本开支大增", "earnings"),
    ("未来三年资本开支3800亿", "capex"),
    ("Apple is working with Alibaba", "partnership"),
    ("南向资金净买入创纪录", "flow"),
    ("天气很好", "other"),
])
def test_guess_kind(sentence: str, kind: str) -> None:
    assert guess_kind(sentence)[0] == kind


def test_front_matter_and_language() -> None:
    keys, body_start = front_matter(ZH)
    assert keys["date"] == "2025-03-05 10:00:00" and keys["title"] == "测试"
    assert ZH[body_start:].startswith("某公司")
    assert front_matter("no front matter") == ({}, 0)
    assert detect_language(ZH) == "zh" and detect_language(EN) == "en"


def test_toml_output_is_a_valid_calendar_and_jsonl_parses() -> None:
    res = extract_candidates(ZH, article="zh_test.md")
    cal = loads_calendar(render_toml(res, ZH), origin="candidates.toml")
    assert cal.ids == tuple(c.id for c in res.candidates)
    assert [c.source.span for c in cal] == [c.span for c in res.candidates]  # type: ignore[union-attr]
    us = cal.get(res.candidates[1].id)
    assert str(us.published_at.tz) == "America/New_York" and us.precision == "range"
    rows = [json.loads(line) for line in render_jsonl(res).splitlines()]
    assert len(rows) == len(res.candidates) + len(res.undated)
    assert rows[0]["published_until"] == "2025-03-03T06:00" and rows[0]["span"] == list(res.candidates[0].span)


def test_bad_inputs(tmp_path: Path) -> None:
    with pytest.raises(ExtractionError, match="not found"):
        extract_article(tmp_path / "missing.txt")
    bad = tmp_path / "latin1.txt"
    bad.write_bytes("caf\xe9".encode("latin-1"))
    with pytest.raises(ExtractionError, match="UTF-8"):
        extract_article(bad)
    with pytest.raises(ExtractionError, match="time zone"):
        extract_candidates("x", tz="Mars/Base")


# --------------------------------------------------------------------- seed articles


def _seed_candidates(seeds_dir: Path) -> list[tuple[str, Candidate]]:
    out = []
    for path in sorted(seeds_dir.glob("*.txt")):
        res = extract_article(path)
        out += [(path.name, c) for c in res.candidates + res.undated]
    return out


def test_seed_articles_propose_the_starred_catalysts(seeds_dir: Path) -> None:
    cands = _seed_candidates(seeds_dir)

    def found(kind: str, day: date | None, article: str | None = None) -> list[Candidate]:
        return [c for name, c in cands if c.kind == kind and c.date == day and (article is None or name == article)]

    # qwen25max: the early morning of 2025-01-29 Beijing time
    (qwen,) = found("product", date(2025, 1, 29))
    assert qwen.precision == "range" and qwen.tz == "Asia/Shanghai"
    assert (qwen.published_at, qwen.published_until) == (datetime(2025, 1, 29, 0), datetime(2025, 1, 29, 6))
    # apple_report: 2025-02-11
    assert found("partnership", date(2025, 2, 11))
    # earnings_fy25q3: 2025-02-20, as a month-day and as "next Thursday" in a 2025-02-13 article
    assert len(found("earnings", date(2025, 2, 20))) >= 2
    assert found("earnings", date(2025, 2, 20), "001_505203a87042e3b8.txt")
    # capex_380b: its article names the plan without a date (the date is public record), so it
    # is proposed undated, on the sentence the shipped calendar points to.
    capex = load_default_calendar().get("capex_380b")
    assert capex.source is not None
    assert any(c.date is None and c.kind == "capex" and c.span == capex.source.span
               for name, c in cands if name == capex.source.article)


def test_shipped_calendar_evidence_is_what_extract_finds(seeds_dir: Path) -> None:
    """Each dated span in the shipped calendar is a candidate of the same local date."""
    cands = _seed_candidates(seeds_dir)
    checked = 0
    for cat in load_default_calendar():
        assert cat.source is not None and cat.source.span is not None
        match = [c for name, c in cands if name == cat.source.article and c.span == cat.source.span]
        if match and match[0].date is not None:
            assert match[0].date == cat.published_at.date(), cat.id
            checked += 1
    assert checked >= 6  # qwen25max, arena_rank, apple_report, tsai_confirms, earnings, southbound
