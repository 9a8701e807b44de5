"""Prices that parse but cannot be right, and files that hide their format: refused (or
warned about, when asked) with the symbol, the date and the fix."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from bad_input_helpers import cli
from data_loaders.csv_source import CsvFolderSource
from data_loaders.errors import DataValidationError

HEADER = "date,open,high,low,close,adj_close,volume"
RUN = """
[run]
start = "{start}"
end = "{end}"
[data]
source = "csv"
{data}
[events]
calendar = "{calendar}"
[strategy]
name = "{strategy}"
listings = {listings}
[strategy.params]
{params}
"""


def _config(folder: Path, *, start: str = "2024-10-01", end: str = "2025-10-31", data: str = "",
            calendar: str = "alibaba_2025", strategy: str = "post_event_drift",
            listings: str = '["9988.HK", "BABA"]', params: str = "hold_sessions = 5") -> Path:
    path = folder / "run.toml"
    path.write_text(RUN.format(start=start, end=end, data=data, calendar=calendar, strategy=strategy,
                               listings=listings, params=params), encoding="utf-8")
    return path


def _copy(prices_dir: Path, folder: Path, *symbols: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for sym in symbols:
        shutil.copy(prices_dir / f"{sym}.csv", folder / f"{sym}.csv")
    return folder


def test_inf_price_and_text_volume_are_refused_with_the_line(tmp_path: Path) -> None:
    (tmp_path / "9988.HK.csv").write_text(f"{HEADER}\n2025-02-03,1,2,0.5,inf,1.5,lots\n2025-02-04,1,2,0.5,1.5,1.5,\n")
    with pytest.raises(DataValidationError) as exc:
        CsvFolderSource(tmp_path).daily_bars("9988.HK")
    text = str(exc.value)
    assert "9988.HK.csv" in text
    assert "line 2 (2025-02-03): close = 'inf' is not a positive price (not finite)" in text
    assert "line 2: volume = 'lots' is not a finite number" in text and "line 3" not in text  # empty = unknown


def test_day_first_dates_are_detected_and_named(tmp_path: Path) -> None:
    (tmp_path / "0700.HK.csv").write_text(f"{HEADER}\n03/02/2025,1,2,0.5,1.5,1.5,10\n13/02/2025,1,2,0.5,1.5,1.5,10\n")
    bars = CsvFolderSource(tmp_path).daily_bars("0700.HK")
    assert list(bars.frame.index) == [pd.Timestamp("2025-02-03"), pd.Timestamp("2025-02-13")]
    assert any(i.kind == "date_format" and "DD/MM/YYYY (detected from '13/02/2025', line 3)" in i.message
               for i in bars.issues)


def test_ambiguous_slashed_dates_are_refused(tmp_path: Path) -> None:
    (tmp_path / "0700.HK.csv").write_text(f"{HEADER}\n03/02/2025,1,2,0.5,1.5,1.5,10\n04/02/2025,1,2,0.5,1.5,1.5,10\n")
    with pytest.raises(DataValidationError, match=r"could be DD/MM/YYYY or MM/DD/YYYY .* write every date as YYYY-MM-DD"):
        CsvFolderSource(tmp_path).daily_bars("0700.HK")


def test_rows_before_the_calendar_are_named_as_such(tmp_path: Path) -> None:
    days = pd.bdate_range("2014-12-01", "2015-01-09")
    prices = np.full(len(days), 10.0)
    pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "open": prices, "high": prices, "low": prices,
                  "close": prices, "adj_close": prices, "volume": 100}).to_csv(tmp_path / "0700.HK.csv", index=False)
    bars = CsvFolderSource(tmp_path).daily_bars("0700.HK")
    messages = {i.kind: i.message for i in bars.issues}
    assert "before the XHKG calendar's first session 2015-01-02" in messages["outside_calendar"]
    assert "2014-12-01..2015-01-01" in messages["outside_calendar"]
    assert "2014-" not in messages.get("non_sessions_dropped", "")  # not blamed on closed days


@pytest.mark.realdata
def test_a_price_spike_is_refused_with_its_date(prices_dir: Path, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    data = _copy(prices_dir, tmp_path / "prices", "9988.HK", "BABA", "HSTECH", "USDHKD")
    frame = pd.read_csv(data / "9988.HK.csv")
    frame.loc[frame["date"] == "2025-03-04", ["high", "close"]] = 1e12
    frame.to_csv(data / "9988.HK.csv", index=False)
    out = tmp_path / "out"
    code, stdout, err = cli(capsys, "run", str(_config(tmp_path)), "--data-dir", str(data), "--out", str(out))
    assert code == 2
    assert "9988.HK: 2 implausible one-session move(s)" in err and "2025-03-04 close 1e+12" in err
    assert 'set [data] plausibility = "warn" to run anyway' in err
    assert not out.exists() and "volatility" not in stdout
    # asked to warn: the run goes on and says so on the console and in notes.txt
    code, stdout, err = cli(capsys, "run", str(_config(tmp_path, data='plausibility = "warn"')),
                            "--data-dir", str(data), "--out", str(out))
    assert code == 0, err
    assert "implausible one-session move(s)" in " ".join(stdout.split())
    assert "2025-03-04 close 1e+12" in (out / "notes.txt").read_text()


@pytest.mark.realdata
def test_an_adr_file_in_cents_is_refused_by_parity(prices_dir: Path, tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    data = _copy(prices_dir, tmp_path / "prices", "9988.HK", "BABA", "HSTECH", "USDHKD")
    frame = pd.read_csv(data / "BABA.csv")
    frame[["open", "high", "low", "close", "adj_close"]] *= 100
    frame.to_csv(data / "BABA.csv", index=False)
    code, _, err = cli(capsys, "run", str(_config(tmp_path)), "--data-dir", str(data), "--out", str(tmp_path / "o"))
    assert code == 2
    assert "BABA closes are 99.7" in err and "their parity with 9988.HK (8 x 9988.HK / USDHKD" in err
    assert "in cents? divide its prices by 100" in err


@pytest.mark.realdata
def test_the_fade_trap_makes_no_trade_and_says_why(prices_dir: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    # 9618.HK has no row for 2025-01-28: 02-03's return over the previous row spans two sessions
    data = _copy(prices_dir, tmp_path / "prices", "9618.HK", "HSTECH")
    calendar = tmp_path / "jd.toml"
    calendar.write_text('title = "trap"\n[[catalyst]]\nid = "jd_trap"\nheadline = "over Lunar New Year"\n'
                        'published_at = 2025-02-02\ntz = "Asia/Hong_Kong"\nprecision = "day"\nkind = "other"\n'
                        'listings = ["9618.HK"]\n[catalyst.source]\narticle = "x.txt"\n', encoding="utf-8")
    cfg = _config(tmp_path, start="2025-01-02", end="2025-03-31", calendar=str(calendar), strategy="event_fade",
                  listings='["9618.HK"]', params="threshold = 0.03\nhold_sessions = 3")
    out = tmp_path / "out"
    code, stdout, err = cli(capsys, "run", str(cfg), "--data-dir", str(data), "--out", str(out))
    assert code == 0, err
    assert len(pd.read_csv(out / "trades.csv")) == 0
    notes = (out / "notes.txt").read_text()
    assert ("jd_trap@9618.HK: day-0 abnormal return on 2025-02-03 not measurable (9618.HK's previous close is "
            "2025-01-27, not its previous XHKG session 2025-01-28 (row missing): the return would span 2 sessions); "
            "not traded") in notes
    assert "FLAG no_trades" in " ".join(stdout.split())
