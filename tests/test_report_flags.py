"""A run's flags (summary.json) reach the tearsheet headline."""

from __future__ import annotations

from pathlib import Path

from tests.cli_runner import run_cli


def test_borrowing_beyond_the_limit_is_a_headline_warning(tmp_path: Path) -> None:
    cfg = tmp_path / "borrow.toml"
    cfg.write_text('[run]\nstart = "2024-10-01"\nend = "2025-10-31"\n[data]\nsource = "synthetic"\n'
                   '[portfolio]\ninitial_cash = 300000\n[strategy]\nname = "post_event_drift"\n'
                   'listings = ["9988.HK", "BABA"]\n[strategy.params]\nhold_sessions = 20\n'
                   'notional_per_trade_base = 200000\n', encoding="utf-8")
    out = tmp_path / "out"
    assert run_cli(["run", str(cfg), "--out", str(out)]) == 0
    assert run_cli(["report", str(out)]) == 0
    html = (out / "tearsheet.html").read_text(encoding="utf-8")
    headline = html[html.index('id="headline-flags"'):]
    headline = headline[:headline.index("</ul>")]
    assert "FLAG borrow_limit: the portfolio borrowed beyond its limit" in headline
    assert "assume that credit was free" in html


def test_a_run_without_flags_has_no_warning_section(tmp_path: Path) -> None:
    out = tmp_path / "demo"
    assert run_cli(["demo", "--out", str(out)]) == 0
    assert run_cli(["report", str(out)]) == 0
    html = (out / "tearsheet.html").read_text(encoding="utf-8")
    assert 'id="headline-flags"' not in html and 'id="run-flags"' not in html
