"""``catalyst-bt events schedule`` / ``events extract`` end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from backtests.cli import cli, main
from events.calendar_file import default_calendar_path, load_calendar, loads_calendar

# CATALYSTS.md's timing notes: (catalyst, listing) -> (day 0, first next_open session).
TIMING_NOTES = {
    ("qwen25max", "BABA"): ("2025-01-28", None),         # the ADR could react that day
    ("qwen25max", "9988.HK"): ("2025-02-03", "2025-02-03"),  # not before the open of 02-03
    ("apple_report", "9988.HK"): ("2025-02-12", "2025-02-12"),  # next HK session
    ("earnings_fy25q3", "BABA"): ("2025-02-20", "2025-02-20"),
    ("earnings_fy25q3", "9988.HK"): ("2025-02-21", "2025-02-21"),
}


def _run(*args: str) -> object:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    return result


def test_schedule_per_listing_matches_catalysts_md(tmp_path: Path) -> None:
    out = tmp_path / "sched"
    result = _run("events", "schedule", str(default_calendar_path()), "--out", str(out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    assert "9988.HK" in result.output and "BABA" in result.output  # type: ignore[attr-defined]
    frames = {sym: pd.read_csv(out / f"{sym}.csv") for sym in ("9988.HK", "BABA")}
    for sym, frame in frames.items():
        assert len(frame) == 10 and set(frame["listing"]) == {sym}
        assert (frame["fill_policy"] == "next_open").all()
        first = pd.to_datetime(frame["first_trade_utc"], utc=True)
        assert (first > pd.to_datetime(frame["latest_utc"], utc=True)).all()
    for (cid, sym), (day0, first_open) in TIMING_NOTES.items():
        row = frames[sym].set_index("catalyst_id").loc[cid]
        assert row["reaction_session"] == day0, (cid, sym)
        if first_open is not None:
            assert (row["first_trade_session"], row["first_trade_point"]) == (first_open, "open")


def test_schedule_single_csv_listing_filter_and_same_close(tmp_path: Path) -> None:
    out = tmp_path / "hk.csv"
    result = _run("events", "schedule", str(default_calendar_path()), "--listing", "9988.HK",
                  "--fill-policy", "same_close", "--out", str(out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    frame = pd.read_csv(out)
    assert set(frame["listing"]) == {"9988.HK"} and len(frame) == 10
    assert set(frame["first_trade_point"]) == {"close"}
    qwen = frame.set_index("catalyst_id").loc["qwen25max"]
    assert qwen["first_trade_utc"] == "2025-02-03T08:00:00+00:00"


def test_schedule_default_output_next_to_cwd(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = _run("events", "schedule", str(default_calendar_path()))
    assert result.exit_code == 0
    assert len(pd.read_csv(tmp_path / "alibaba_2025_schedule.csv")) == 20


def test_schedule_reports_unplaceable_catalysts_and_goes_on(tmp_path: Path) -> None:
    cal = tmp_path / "late.toml"
    cal.write_text(default_calendar_path().read_text(encoding="utf-8") + (
        '\n[[catalyst]]\nid = "far_future"\nheadline = "x"\npublished_at = 2031-01-02\n'
        'tz = "Asia/Hong_Kong"\nprecision = "day"\nkind = "other"\nlistings = ["9988.HK"]\n'
        '[catalyst.source]\narticle = "x.txt"\n'), encoding="utf-8")
    out = tmp_path / "s.csv"
    result = CliRunner().invoke(cli, ["events", "schedule", str(cal), "--out", str(out)])
    assert result.exit_code == 1
    assert "far_future" in result.output
    assert len(pd.read_csv(out)) == 20  # the other rows were still written
    assert len(load_calendar(cal)) == 11


def test_malformed_calendar_one_line_per_problem(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[[catalyst]]\nid = "a"\nheadline = "x"\npublished_at = "2025-02-11T10:00"\nprecision = "minute"\n'
        'kind = "product"\nlistings = ["9988.HK"]\n[catalyst.source]\narticle = "a.txt"\n\n'
        '[[catalyst]]\nid = "a"\nheadline = "x"\npublished_at = "2025-02-11T10:00"\ntz = "Asia/Hongkong"\n'
        'precision = "minute"\nkind = "product"\nlistings = ["9988.HK"]\n[catalyst.source]\narticle = "a.txt"\n',
        encoding="utf-8")
    with pytest.raises(SystemExit) as info:
        main(["events", "schedule", str(bad), "--out", str(tmp_path / "x.csv")])
    assert info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 + 3  # header + naive timestamp, unknown tz, duplicate id
    assert all(str(bad) in line for line in err)
    assert not (tmp_path / "x.csv").exists()


def test_unknown_listing_option_is_a_user_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as info:
        main(["events", "schedule", str(default_calendar_path()), "--listing", "BABA.US"])
    assert info.value.code == 2
    assert "BABA" in capsys.readouterr().err


def test_extract_writes_reviewable_toml_and_jsonl(tmp_path: Path) -> None:
    article = tmp_path / "note.md"
    article.write_text("---\ndate: 2025-03-05\n---\n周二美股盘后，某公司公布财报。3月1日两家公司宣布合作。\n",
                       encoding="utf-8")
    toml_out = tmp_path / "cands.toml"
    result = _run("events", "extract", str(article), "--out", str(toml_out))
    assert result.exit_code == 0, result.output  # type: ignore[attr-defined]
    cal = load_calendar(toml_out)
    assert [c.published_at.date().isoformat() for c in cal] == ["2025-03-04", "2025-03-01"]
    jsonl_out = tmp_path / "cands.jsonl"
    assert _run("events", "extract", str(article), "--out", str(jsonl_out),
                "--listing", "BABA").exit_code == 0  # type: ignore[attr-defined]
    lines = jsonl_out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == 2 and '"listings": ["BABA"]' in lines[0]


def test_extract_to_stdout_with_article_date(tmp_path: Path) -> None:
    article = tmp_path / "note.txt"
    article.write_text("週二，某公司發佈新模型。\n", encoding="utf-8")
    result = _run("events", "extract", str(article), "--article-date", "2025-02-13")
    assert result.exit_code == 0
    (cat,) = loads_calendar(result.stdout).catalysts  # type: ignore[attr-defined]
    assert cat.published_at == pd.Timestamp("2025-02-11", tz="Asia/Shanghai") and cat.kind == "product"
