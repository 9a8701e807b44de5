"""``claims`` on the seed articles (../shared/seeds), against ../shared/data/prices.

Every expectation below was checked by hand against the price files (see PROVENANCE.md
there for the same figures); the articles' sentences are not copied here: each claim is
named by its article, listing, period and number, and the test checks that its evidence
offsets point at that number in the article.
"""

from __future__ import annotations

import re
from pathlib import Path

from backtests.claims_check import ClaimChecker, ClaimRow
from data_loaders.csv_source import CsvFolderSource
from data_loaders.registry import active_registry
from events.claims import find_claims
from events.claims_subjects import AliasIndex

# (article prefix, listing, quantity, period_start, period_end, claimed, computed, verdict)
CHECKED: dict[str, list[tuple[str, str, str, str, str, str, str]]] = {
    "001": [
        # close of 2025-02-12 ("yesterday" of an article dated 2025-02-13)
        ("9988.HK", "close", "", "2025-02-12", "113.80 HKD", "113.800", "supported"),
        # since the 2025-01-13 low: 113.80 / 78.10 - 1 = +45.71 %, written 46 %
        ("9988.HK", "return", "2025-01-13", "2025-02-12", "+46%", "+45.71%", "supported"),
        # HSTECH over the same period: 5281.18 / 4221.92 - 1 = +25.09 %, written 25 %
        ("HSTECH", "return", "2025-01-13", "2025-02-12", "+25%", "+25.09%", "supported"),
        ("9988.HK vs HSTECH", "comparison", "2025-01-13", "2025-02-12", "9988.HK ahead of HSTECH",
         "+45.71% vs +25.09%", "supported"),
    ],
    "002": [
        # year to date to the 2025-02-13 close: 116.70 / 82.40 - 1 = +41.63 %, "more than 40 %"
        ("9988.HK", "return", "2024-12-31", "2025-02-13", "≥ +40%", "+41.63%", "supported"),
        # HSTECH over the same period: 5235.28 / 4468.11 - 1 = +17.17 %, "about 17 %"
        ("HSTECH", "return", "2024-12-31", "2025-02-13", "≈ +17%", "+17.17%", "supported"),
    ],
    "004": [
        # year to date to the 2025-03-13 close
        ("HSI", "return", "2024-12-31", "2025-03-13", "≈ +17%", "+16.96%", "supported"),      # 23462.65 / 20059.95
        ("HSTECH", "return", "2024-12-31", "2025-03-13", "≈ +30%", "+28.64%", "supported"),   # 5747.77 / 4468.11
        ("9988.HK", "return", "2024-12-31", "2025-03-13", "≥ +50%", "+59.59%", "supported"),  # 131.50 / 82.40
        ("1810.HK", "return", "2024-12-31", "2025-03-13", "≥ +50%", "+53.19%", "supported"),  # 52.85 / 34.50
        ("1024.HK", "return", "2024-12-31", "2025-03-13", "≥ +50%", "+53.08%", "supported"),  # 63.30 / 41.35
        ("IXIC", "return", "2024-12-31", "2025-03-13", "≈ -10%", "-10.40%", "supported"),     # 17303.01 / 19310.79
        # year to date to the 2025-03-14 close
        ("9988.HK", "return", "2024-12-31", "2025-03-14", "+64.81%", "+64.806%", "supported"),  # 135.80 / 82.40
        ("1024.HK", "return", "2024-12-31", "2025-03-14", "+56.95%", "+56.953%", "supported"),  # 64.90 / 41.35
        ("1810.HK", "return", "2024-12-31", "2025-03-14", "+56.09%", "+56.087%", "supported"),  # 53.85 / 34.50
    ],
}
# Statements found but not checkable, with the reason each must give.
UNRESOLVED: dict[str, list[tuple[str, str]]] = {
    "000": [("9988.HK", "no end date"), ("HSI", "unresolved"), ("9988.HK", "no end date")],
    "001": [("9988.HK", "a price during the session"), ("9988.HK", "a price during the session"),
            ("BABA", "a price during the session"), ("BABA", "a price during the session")],
    "002": [],
    "003": [],
    "004": [("", "unnamed members of a group"), ("", "no listing, index or company named"),
            ("", "no listing, index or company named"), ("", "no listing, index or company named"),
            ("", "no listing, index or company named")],
}


def _rows(seeds_dir: Path, prices_dir: Path) -> dict[str, tuple[str, list[ClaimRow]]]:
    registry = active_registry()
    index = AliasIndex(registry)
    checker = ClaimChecker(registry=registry, source=CsvFolderSource(prices_dir))
    out = {}
    for path in sorted(seeds_dir.glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        out[path.name[:3]] = (text, checker.check(find_claims(text, index=index, article=path.name), text))
    return out


def test_seed_claims_match_the_hand_checks(seeds_dir: Path, prices_dir: Path) -> None:
    found = _rows(seeds_dir, prices_dir)
    for prefix, expected in CHECKED.items():
        _, rows = found[prefix]
        checked = [(r.listing, r.quantity, r.period_start, r.period_end, r.claimed, r.computed, r.verdict)
                   for r in rows if r.verdict != "unresolved"]
        assert checked == expected, prefix
    for prefix, expected_unresolved in UNRESOLVED.items():
        _, rows = found[prefix]
        unresolved = [r for r in rows if r.verdict == "unresolved"]
        assert [r.listing for r in unresolved] == [listing for listing, _ in expected_unresolved], prefix
        for r, (_, reason) in zip(unresolved, expected_unresolved):
            assert reason in r.why or reason == r.verdict, (prefix, r.why)


def test_seed_evidence_offsets_point_at_the_numbers(seeds_dir: Path, prices_dir: Path) -> None:
    for prefix, (text, rows) in _rows(seeds_dir, prices_dir).items():
        for r in rows:
            lo, hi = (int(v) for v in r.span.split(":"))
            evidence = text[lo:hi]
            assert " ".join(evidence.split()) == r.evidence
            if r.quantity != "comparison":
                digits = re.search(r"\d+(?:\.\d+)?", r.claimed)
                assert digits is not None and digits.group() in evidence, (prefix, r.span, r.claimed)
