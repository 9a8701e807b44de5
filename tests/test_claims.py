"""Article claims: short articles written for these tests, checked against the real closes by hand.

Hand computations (closes from ../shared/data/prices, raw):
9988.HK 2024-12-31 82.40, 2025-01-13 78.10, 02-11 104.90, 02-12 113.80, 02-13 116.70, 03-14 135.80;
HSTECH 2024-12-31 4468.11, 2025-01-13 4221.92, 02-13 5235.28, 03-14 5880.78; HSI 2024-12-31 20059.95,
02-13 21814.37; BABA 02-11 112.78, 02-12 118.33, 03-11 139.02, 03-12 137.14; IXIC 2024-12-31 19310.79,
03-14 17754.09; 1810.HK 2024-12-31 34.50, 03-14 53.85; 1024.HK 03-13 63.30; 0700.HK has no row for
2024-12-31 (a half-day placeholder dropped from the file).
"""

from __future__ import annotations

import csv
from pathlib import Path

import pytest

from backtests.claims_check import ClaimChecker, ClaimRow, ClaimsInputError, Tolerances, judge
from data_loaders.csv_source import CsvFolderSource
from data_loaders.registry import active_registry
from events.claims import find_claims
from events.claims_subjects import AliasIndex
from tests.cli_runner import run_cli

# Written for these tests (not taken from any article). Published Thursday 2025-02-13 18:00 Beijing
# time, after the Hong Kong close.
ZH = (
    "---\ndate: \"2025-02-13 18:00:00\"\n---\n"
    "周三，阿里巴巴港股大涨8.48%，收盘报113.80港元。\n"
    "截至2月13日收盘，阿里巴巴H股年内累计上涨41.6%，恒生科技指数同期上涨约17%，恒生指数涨幅不到10%。\n"
    "自1月13日以来，恒生科技指数累计上涨35%。\n"
    "阿里巴巴港股自1月13日以来上涨了约49%，跑赢恒生科技指数同期24%的涨幅。\n"
    "阿里巴巴美股周三上涨4.9%。\n"
    "腾讯年内上涨约6%。\n"
    "阿里云收入同比增长13%。\n"
    "小米股价从低点反弹超过30%。\n"
    "港股周四上涨1%。\n"
)
# Published Saturday 2025-03-15 09:00 New York time.
EN = (
    "---\ndate: 2025-03-15 09:00:00\n---\n"
    "Alibaba's Hong Kong shares closed at HK$135.80 on Friday. Alibaba's Hong Kong shares have gained 64.81% "
    "this year, outperforming the Hang Seng Tech Index, which rose nearly 32% over the same period.\n"
    "Alibaba's U.S. shares fell 1.4% on Wednesday. The Nasdaq Composite fell 8.1% this year.\n"
    "Xiaomi jumped more than 60% this year. Kuaishou closed at HK$63.50 on Thursday.\n"
    "Tencent's revenue rose 11% year-on-year.\n"
)


def _check(text: str, prices_dir: Path, name: str) -> list[ClaimRow]:
    registry = active_registry()
    result = find_claims(text, index=AliasIndex(registry), article=name)
    return ClaimChecker(registry=registry, source=CsvFolderSource(prices_dir)).check(result, text)


def _summary(rows: list[ClaimRow]) -> list[tuple[str, str, str, str, str, str, str]]:
    return [(r.listing, r.quantity, r.period_start, r.period_end, r.claimed, r.computed, r.verdict) for r in rows]


def test_chinese_article_claims_by_hand(prices_dir: Path) -> None:
    rows = _check(ZH, prices_dir, "zh_test.md")
    assert _summary(rows) == [
        # 周三 = 2025-02-12: 113.80 / 104.90 - 1 = +8.484 %
        ("9988.HK", "return", "2025-02-11", "2025-02-12", "+8.48%", "+8.484%", "supported"),
        # the close of the same day
        ("9988.HK", "close", "", "2025-02-12", "113.80 HKD", "113.800", "supported"),
        # 年内 to the 2-13 close: 116.70 / 82.40 - 1 = +41.63 %, written 41.6 (to its rounding)
        ("9988.HK", "return", "2024-12-31", "2025-02-13", "+41.6%", "+41.63%", "supported"),
        # 同期: 5235.28 / 4468.11 - 1 = +17.17 %, 约17 (within ±1 pp)
        ("HSTECH", "return", "2024-12-31", "2025-02-13", "≈ +17%", "+17.17%", "supported"),
        # 21814.37 / 20059.95 - 1 = +8.75 % is under 10 % (不到)
        ("HSI", "return", "2024-12-31", "2025-02-13", "≤ +10%", "+8.75%", "supported"),
        # THE FALSE CLAIM: 5235.28 / 4221.92 - 1 = +24.00 %, not 35 %
        ("HSTECH", "return", "2025-01-13", "2025-02-13", "+35%", "+24.00%", "contradicted"),
        # 116.70 / 78.10 - 1 = +49.42 %, 约49
        ("9988.HK", "return", "2025-01-13", "2025-02-13", "≈ +49%", "+49.42%", "supported"),
        ("HSTECH", "return", "2025-01-13", "2025-02-13", "+24%", "+24.00%", "supported"),
        # 美股 周三: 118.33 / 112.78 - 1 = +4.92 %
        ("BABA", "return", "2025-02-11", "2025-02-12", "+4.9%", "+4.92%", "supported"),
        # 0700.HK has no 2024-12-31 close: never taken from a neighbouring day
        ("0700.HK", "return", "2024-12-31", "2025-02-13", "≈ +6%", "", "unresolved"),
        # 低点 without a date
        ("1810.HK", "return", "", "", "≥ +30%", "", "unresolved"),
        # 港股 alone is the market, not a listing
        ("", "return", "", "", "+1%", "", "unresolved"),
        # 跑赢: +49.42 % vs +24.00 %
        ("9988.HK vs HSTECH", "comparison", "2025-01-13", "2025-02-13", "9988.HK ahead of HSTECH",
         "+49.42% vs +24.00%", "supported"),
    ]
    false = rows[5]
    assert "+24.00%" in false.why and "off by -11.00 pp" in false.why
    assert "no close of 0700.HK for session 2024-12-31" in rows[9].why
    assert "低点" in rows[10].why and "港股" in rows[11].why
    # evidence offsets point at the numbers; 同比 revenue growth is no price statement
    assert ZH[int(rows[0].span.split(":")[0]):int(rows[0].span.split(":")[1])].endswith("8.48%")
    assert all("13%" not in r.evidence for r in rows)


def test_english_article_claims_by_hand(prices_dir: Path) -> None:
    rows = _check(EN, prices_dir, "en_test.md")
    assert _summary(rows) == [
        # Friday = 2025-03-14
        ("9988.HK", "close", "", "2025-03-14", "135.80 HKD", "135.800", "supported"),
        # this year, last close before publication (Fri 03-14): 135.80 / 82.40 - 1 = +64.806 %
        ("9988.HK", "return", "2024-12-31", "2025-03-14", "+64.81%", "+64.806%", "supported"),
        # 5880.78 / 4468.11 - 1 = +31.62 %, nearly 32 (within ±1.6 pp = 5 % of 32)
        ("HSTECH", "return", "2024-12-31", "2025-03-14", "≈ +32%", "+31.62%", "supported"),
        # Wednesday 03-12 in New York: 137.14 / 139.02 - 1 = -1.35 %, written -1.4
        ("BABA", "return", "2025-03-11", "2025-03-12", "-1.4%", "-1.35%", "supported"),
        # 17754.09 / 19310.79 - 1 = -8.06 %
        ("IXIC", "return", "2024-12-31", "2025-03-14", "-8.1%", "-8.06%", "supported"),
        # THE FALSE CLAIM: 53.85 / 34.50 - 1 = +56.09 %, not more than 60 %
        ("1810.HK", "return", "2024-12-31", "2025-03-14", "≥ +60%", "+56.09%", "contradicted"),
        # Thursday 03-13 close 63.30: 0.20 off, more than its rounding but within 1 %
        ("1024.HK", "close", "", "2025-03-13", "63.50 HKD", "63.300", "approximately"),
        ("9988.HK vs HSTECH", "comparison", "2024-12-31", "2025-03-14", "9988.HK ahead of HSTECH",
         "+64.81% vs +31.62%", "supported"),
    ]
    assert "+56.09%" in rows[5].why and "by 3.91 pp" in rows[5].why


def test_resolution_steps_are_written_down(prices_dir: Path) -> None:
    rows = _check(ZH, prices_dir, "zh_test.md")
    steps = rows[2].resolution
    for expected in ("'阿里巴巴' names the issuer 'alibaba'", "'H股' after the name picks its HK listing",
                     "'年内' = year to date: from the last close of 2024", "end '2月13日' = the close of 2025-02-13",
                     "XHKG: last session of 2024 = 2024-12-31", "82.4 (2024-12-31) -> 116.7 (2025-02-13)"):
        assert expected in steps
    assert "'同期' = the period of claim #3" in rows[3].resolution


def test_wording_tolerances_by_hand() -> None:
    registry = active_registry()
    text = "---\ndate: \"2025-02-13 18:00:00\"\n---\n恒指年内上涨约17%。恒指年内上涨17.0%。恒指年内上涨超过20%。恒指年内下跌超过5%。\n"
    claims = find_claims(text, index=AliasIndex(registry)).claims
    approx, exact, bound, fall = claims
    tol = Tolerances()
    assert judge(approx, 17.9, tol)[0] == "supported"          # within ±1 pp
    assert judge(approx, 18.2, tol)[0] == "contradicted"
    assert judge(exact, 17.04, tol)[0] == "supported"          # 17.0 covers 16.95..17.05
    assert judge(exact, 17.4, tol)[0] == "approximately"       # beyond its rounding, within 1 pp
    assert judge(exact, 19.0, tol)[0] == "contradicted"
    assert judge(bound, 20.5, tol)[0] == "supported"
    assert judge(bound, 19.5, tol)[0] == "approximately"       # short of the bound by less than 1 pp
    assert judge(bound, 15.0, tol)[0] == "contradicted"
    assert fall.value == -5.0 and judge(fall, -6.0, tol)[0] == "supported"
    assert judge(fall, 2.0, tol)[0] == "contradicted"
    with pytest.raises(ClaimsInputError, match="approx_pp must be a finite number >= 0, got -1"):
        Tolerances(approx_pp=-1)


def test_an_issuer_with_two_listings_needs_a_market_word() -> None:
    registry = active_registry()
    text = "---\ndate: \"2025-02-13 18:00:00\"\n---\n阿里巴巴年内上涨40%。\n"
    result = find_claims(text, index=AliasIndex(registry))
    rows = ClaimChecker(registry=registry, source=CsvFolderSource("/nonexistent")).check(result, text)
    assert rows[0].verdict == "unresolved"
    assert "has several listings (9988.HK, BABA)" in rows[0].why and "names no market" in rows[0].why


def test_relative_dates_need_an_article_date() -> None:
    registry = active_registry()
    text = "阿里巴巴港股昨日收盘报113.80港元。\n"
    result = find_claims(text, index=AliasIndex(registry), article="undated.txt")
    rows = ClaimChecker(registry=registry, source=CsvFolderSource("/nonexistent")).check(result, text)
    assert rows[0].verdict == "unresolved" and "cannot be dated" in rows[0].why


def test_cli_writes_claims_csv_and_refuses_bad_sources(prices_dir: Path, tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    article = tmp_path / "zh_test.md"
    article.write_text(ZH, encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli(["claims", str(article), "--data-dir", str(prices_dir), "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "contradicted" in printed and "13 statement(s): 9 supported, 0 approximately, 1 contradicted, " \
                                         "3 unresolved" in printed
    with open(out / "claims.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))
    assert list(rows[0])[:11] == ["article", "span", "subject", "listing", "quantity", "period_start", "period_end",
                                  "claimed", "computed", "verdict", "why"]
    assert [r["verdict"] for r in rows].count("contradicted") == 1
    assert run_cli(["claims", str(article), "--source", "synthetic"]) == 2
    assert "simulated prices" in capsys.readouterr().err
    assert run_cli(["claims", str(article)]) == 2
    assert "pass --data-dir DIR" in capsys.readouterr().err
    assert run_cli(["claims", str(article), str(article), "--data-dir", str(prices_dir),
                    "--article-date", "2025-02-13"]) == 2
    assert "--article-date applies to one article" in capsys.readouterr().err
    assert run_cli(["claims", str(tmp_path / "missing.md"), "--data-dir", str(prices_dir)]) == 2
    assert "article not found" in capsys.readouterr().err
    assert run_cli(["claims", str(article), "--data-dir", str(prices_dir), "--approx-pp", "-1"]) == 2
    assert "approx_pp must be a finite number >= 0, got -1" in capsys.readouterr().err


def test_tearsheet_shows_the_claims_panel(prices_dir: Path, tmp_path: Path) -> None:
    article = tmp_path / "en_test.md"
    article.write_text(EN, encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli(["claims", str(article), "--data-dir", str(prices_dir), "--out", str(out)]) == 0
    assert run_cli(["report", str(out)]) == 0
    html = (out / "tearsheet.html").read_text(encoding="utf-8")
    assert 'id="claims"' in html and "Article claims" in html
    assert "1 article claim(s) contradicted by the prices" in html
    assert "+56.09%" in html


def test_users_add_aliases_in_a_listings_file(prices_dir: Path, tmp_path: Path) -> None:
    article = tmp_path / "alias.md"
    # 米厂 is a nickname of Xiaomi the shipped registry does not know: 53.85 / 34.50 - 1 = +56.09 %
    article.write_text("---\ndate: 2025-03-15 09:00:00\n---\n截至3月14日收盘，米厂年内上涨56.09%。\n", encoding="utf-8")
    listings = tmp_path / "my_listings.toml"
    listings.write_text('[[issuer]]\nid = "xiaomi"\nname = "Xiaomi"\naliases = ["小米", "米厂"]\n', encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli(["claims", str(article), "--data-dir", str(prices_dir), "--out", str(out)]) == 0
    with open(out / "claims.csv", encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert row["verdict"] == "unresolved" and "no listing, index or company named" in row["why"]
    assert run_cli(["claims", str(article), "--data-dir", str(prices_dir), "--out", str(out),
                    "--listings", str(listings)]) == 0
    with open(out / "claims.csv", encoding="utf-8", newline="") as fh:
        (row,) = list(csv.DictReader(fh))
    assert (row["listing"], row["computed"], row["verdict"]) == ("1810.HK", "+56.087%", "supported")


def test_a_move_after_a_dated_close_is_that_days_move(prices_dir: Path) -> None:
    # HSI 2025-02-11 21294.86, 02-12 21857.92: 21857.92 / 21294.86 - 1 = +2.644 %
    text = "---\ndate: \"2025-02-13 08:00:00\"\n---\n周三，恒生指数收报21857.92点，涨2.64%。\n"
    assert _summary(_check(text, prices_dir, "index.md")) == [
        ("HSI", "close", "", "2025-02-12", "21857.92 points", "21857.920", "supported"),
        ("HSI", "return", "2025-02-11", "2025-02-12", "+2.64%", "+2.644%", "supported"),
    ]


def test_an_undated_article_with_a_publication_time_on_the_command_line(prices_dir: Path, tmp_path: Path) -> None:
    article = tmp_path / "undated.txt"
    article.write_text("阿里巴巴港股年内上涨超过60%。\n", encoding="utf-8")
    out = tmp_path / "out"

    def row(*extra: str) -> dict[str, str]:
        assert run_cli(["claims", str(article), "--data-dir", str(prices_dir), "--out", str(out), *extra]) == 0
        with open(out / "claims.csv", encoding="utf-8", newline="") as fh:
            (only,) = list(csv.DictReader(fh))
        return only

    # a date alone does not say whether that day's close was known: unresolved
    assert "no end date" in row("--article-date", "2025-03-15")["why"]
    # Saturday 10:00 Beijing time: the last close is Friday 03-14, 135.80 / 82.40 - 1 = +64.81 %
    got = row("--article-date", "2025-03-15 10:00")
    assert (got["period_start"], got["period_end"], got["computed"], got["verdict"]) == (
        "2024-12-31", "2025-03-14", "+64.81%", "supported")
