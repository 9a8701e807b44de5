"""Terminal output at 80 columns and in pipes, ``--json``, ``--quiet``, ``--refresh`` and the
sweep's distinct results. Output is parsed (dates, counts, JSON), never compared whole."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest
from rich.console import Console

from backtests.cli.tables import Col, fit_table
from cli_runner import run_cli
from data_loaders.cache import CachedSource, ParquetCache
from data_loaders.synthetic import SyntheticMarket

REPO = Path(__file__).resolve().parents[1]
DATE = r"\d{4}-\d\d-\d\d"

SYNTHETIC_RUN = """
[run]
start = "2025-01-02"
end = "2025-10-31"
[data]
source = "synthetic"
[events]
calendar = "alibaba_2025"
[strategy]
name = "post_event_drift"
listings = ["9988.HK", "BABA"]
[strategy.params]
hold_sessions = 5
notional_per_trade_base = 200000
"""


def widths(text: str) -> list[int]:
    return [len(line.rstrip()) for line in text.splitlines()]


def trade_dates(text: str) -> list[tuple[str, str]]:
    """(entry, exit) of every trade line (catalyst, listing, ..., two dates)."""
    lines = [line for line in text.splitlines() if re.match(r"\S+\s+(9988\.HK|BABA)\s", line)]
    return [tuple(m) for m in (re.findall(DATE, line) for line in lines) if len(m) == 2]


@pytest.fixture
def columns80(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "80")  # captured output is not a terminal: as in a pipe


def synthetic_config(tmp_path: Path, text: str = SYNTHETIC_RUN) -> Path:
    path = tmp_path / "cfg.toml"
    path.write_text(text)
    return path


# ------------------------------------------------------------------------------------ fit_table

def test_fit_table_leaves_out_the_least_important_columns_and_cuts_nothing() -> None:
    cols = (Col(header="name", wrap=True), Col(header="date"), Col(header="price", priority=2, justify="right"),
            Col(header="qty", priority=1, justify="right"))
    rows = [("a_rather_long_identifier", "2025-01-21", "123456.78", "+2300")]
    console = Console(width=42, record=True, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(fit_table(console, cols, rows, dropped_hint="see file"))
    text = console.export_text()
    # all four: 24 + 10 + 9 + 5 + 3 gaps of 3 = 57 > 42; without price 24 + 10 + 5 + 6 = 45 > 42, but the
    # name may wrap down to 20 (41 <= 42): price is left out, the name folds to 21, qty and the date stay
    assert "2025-01-21" in text and "+2300" in text and "123456.78" not in text
    assert "a_rather_long_identifi" not in text and "a_rather_long_identif" in text  # folded at 21
    assert "not shown at 42 columns: price (see file)" in text
    assert max(widths(text)) <= 42


# ------------------------------------------------------------------------------------------ run

def test_run_at_80_columns_shows_every_trade_date_in_full(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                           columns80: None) -> None:
    assert run_cli(["run", str(synthetic_config(tmp_path)), "--out", str(tmp_path / "out")]) == 0
    out = capsys.readouterr().out
    trades = pd.read_csv(tmp_path / "out" / "trades.csv")
    expected = list(zip(trades["entry_session"], trades["exit_session"].fillna("open")))
    assert trade_dates(out) == [e for e in expected if e[1] != "open"] and len(expected) > 5
    assert max(widths(out)) <= 80


def test_run_on_real_prices_at_80_columns(prices_dir: Path, tmp_path: Path, capsys: pytest.CaptureFixture,
                                          columns80: None) -> None:
    run_cli(["run", str(REPO / "configs" / "alibaba_2025.toml"), "--data-dir", str(prices_dir),
             "--out", str(tmp_path)])
    out = capsys.readouterr().out
    trades = pd.read_csv(tmp_path / "trades.csv")
    assert trade_dates(out) == list(zip(trades["entry_session"], trades["exit_session"]))  # 20 trades
    assert max(widths(out)) <= 80


def test_run_json_is_the_only_thing_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run_cli(["run", str(synthetic_config(tmp_path)), "--out", str(tmp_path / "out"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "run" and doc["summary"]["synthetic_data"] is True
    assert doc["summary"]["trade_count"] == len(pd.read_csv(tmp_path / "out" / "trades.csv"))


def test_run_quiet_prints_nothing_on_stdout(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run_cli(["run", str(synthetic_config(tmp_path)), "--out", str(tmp_path / "out"), "--quiet"]) == 0
    captured = capsys.readouterr()
    assert captured.out == "" and (tmp_path / "out" / "summary.json").is_file()


# -------------------------------------------------------------------------------------- refresh

def _cache_and_offline(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A cache filled (from the synthetic market) as an akshare download would fill it, and an
    offline network: a run can only succeed from the cache."""
    import data_loaders.akshare_source as ak_src

    cache = tmp_path / "cache"
    filled = CachedSource(inner=SyntheticMarket(seed=7), cache=ParquetCache(root=cache), source_key="akshare")
    for sym in ("9988.HK", "BABA", "HSTECH", "USDHKD"):
        filled.daily_bars(sym)

    def offline(self, call):  # noqa: ANN001, ANN202
        raise ConnectionError("Failed to establish a new connection: Network is unreachable")

    monkeypatch.setattr(ak_src.AkshareModuleFetcher, "fetch", offline)
    return cache


def test_refresh_fetches_again_instead_of_reading_the_cache(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    cache = _cache_and_offline(tmp_path, monkeypatch)
    cfg = str(synthetic_config(tmp_path))
    base = ["run", cfg, "--source", "akshare", "--cache-dir", str(cache), "--out", str(tmp_path / "out"), "--quiet"]
    assert run_cli(base) == 0  # from the cache
    capsys.readouterr()
    assert run_cli([*base, "--refresh"]) != 0  # went to the (offline) network
    assert "akshare could not fetch 9988.HK" in capsys.readouterr().err


def test_refresh_without_a_cached_source_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run_cli(["run", str(synthetic_config(tmp_path)), "--refresh"]) != 0
    err = capsys.readouterr().err
    assert "--refresh" in err and "source 'synthetic'" in err and "--source akshare" in err


# ---------------------------------------------------------------------------------------- study

def test_study_fits_80_columns_and_json_has_every_row(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                      columns80: None) -> None:
    text = (REPO / "configs" / "study_alibaba_2025.toml").read_text().replace("placebo_draws = 10000",
                                                                              "placebo_draws = 1000")
    cfg = str(synthetic_config(tmp_path, text))
    assert run_cli(["study", cfg, "--source", "synthetic", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert max(widths(out)) <= 80
    rows = pd.read_csv(tmp_path / "event_study.csv")
    shown = [line for line in out.splitlines() if re.match(r"\w+\s+(9988\.HK|BABA)\s+\[", line)]
    assert len(shown) == len(rows)  # one line per catalyst x listing x window
    assert run_cli(["study", cfg, "--source", "synthetic", "--out", str(tmp_path), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["command"] == "study" and len(doc["table"]) == len(rows) and "paths" not in doc


# --------------------------------------------------------------------------------------- events

@pytest.mark.parametrize("width", [60, 140])
def test_events_schedule_honours_columns(width: int, tmp_path: Path, capsys: pytest.CaptureFixture,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", str(width))
    run_cli(["events", "schedule", "alibaba_2025", "--listing", "9988.HK", "--out", str(tmp_path / "s.csv")])
    out = capsys.readouterr().out
    assert max(widths(out)) <= width
    header = next(line for line in out.splitlines() if line.startswith("catalyst"))
    assert ("sessions lost" in header) == (width == 140)  # left out at 60 columns, and said so
    assert ("not shown at 60 columns" in out) == (width == 60)
    assert len([line for line in out.splitlines() if re.search(rf"{DATE}\s+{DATE} (open|close)", line)]) == \
        len(pd.read_csv(tmp_path / "s.csv"))


# ---------------------------------------------------------------------------------------- sweep

SWEEP = """
[sweep]
workers = 1
top = 3
constraint = "stop_loss_pct is None or hold_sessions > 1"
[sweep.grid]
hold_sessions = [1, 5]
stop_loss_pct = ["off", 0.9]    # a 90% stop never fires: same trades as no stop
"""


def test_sweep_collapses_identical_results_and_counts_consistently(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                                   columns80: None) -> None:
    cfg = str(synthetic_config(tmp_path, SYNTHETIC_RUN + SWEEP))
    assert run_cli(["sweep", cfg, "--out", str(tmp_path / "out"), "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert max(widths(out)) <= 80
    words = " ".join(out.split())  # lines wrapped at 80 columns joined again
    # 4 grid points, (1, 0.9) excluded: 3 combinations, 2 distinct results
    assert "3 combinations run (4 grid points, 1 excluded by the constraint); 2 distinct results" in words
    assert "stop_loss_pct in {off, 0.9}" in words  # the collapsed pair, its variants listed
    assert run_cli(["sweep", cfg, "--out", str(tmp_path / "out"), "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert (doc["grid_points"], doc["excluded_by_constraint"], doc["summary"]["trials"]) == (4, 1, 3)
    assert sorted(r["combos"] for r in doc["best_distinct"]) == [1, 2]
