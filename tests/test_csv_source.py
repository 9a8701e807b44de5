"""CSV folder source: locating files, adjustment, slicing, session-close stamps."""

from __future__ import annotations

import pandas as pd
import pytest

from data_loaders.csv_source import CsvFolderSource
from data_loaders.errors import DataValidationError, SourceUnavailableError, UnknownSymbolError

HEADER = "date,open,high,low,close,adj_close,volume"


def folder(tmp_path, symbol, rows):
    (tmp_path / f"{symbol}.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    return CsvFolderSource(tmp_path)


def test_missing_folder_and_missing_file_say_what_to_do(tmp_path):
    with pytest.raises(SourceUnavailableError, match="does not exist; pass --data-dir"):
        CsvFolderSource(tmp_path / "nope").daily_bars("BABA")
    source = folder(tmp_path, "BABA", ["2025-02-10,1,2,0.5,1.5,1.4,10"])
    with pytest.raises(SourceUnavailableError, match=r"no file .*9988.HK.csv for 9988.HK; the folder has: BABA"):
        source.daily_bars("9988.HK")


def test_unknown_symbol(tmp_path):
    with pytest.raises(UnknownSymbolError, match="Did you mean BABA"):
        CsvFolderSource(tmp_path).daily_bars("BABAA")


def test_adjusted_scales_ohlc_by_adj_close_over_close(tmp_path):
    source = folder(tmp_path, "BABA", ["2025-02-10,100.0,110.0,90.0,100.0,95.0,10",
                                       "2025-02-11,100.0,104.0,96.0,102.0,102.0,12"])
    raw = source.daily_bars("BABA")
    adj = source.daily_bars("BABA", adjustment="adjusted")
    assert raw.frame.loc["2025-02-10", "close"] == 100.0
    assert adj.adjustment == "adjusted"
    ohlc = adj.frame.loc["2025-02-10", ["open", "high", "low", "close"]]
    assert list(ohlc) == pytest.approx([95.0, 104.5, 85.5, 95.0])
    assert adj.frame.loc["2025-02-11", "close"] == 102.0
    assert list(adj.frame["volume"]) == [10.0, 12.0]


def test_adjusted_without_adj_close_column(tmp_path):
    (tmp_path / "BABA.csv").write_text("date,open,high,low,close,volume\n2025-02-10,1,2,0.5,1.5,10\n")
    with pytest.raises(DataValidationError, match="adjustment='raw'"):
        CsvFolderSource(tmp_path).daily_bars("BABA", adjustment="adjusted")


def test_start_end_slice_and_close_stamps(tmp_path):
    hk = folder(tmp_path, "9988.HK", ["2024-12-23,1,2,0.5,1.5,1.5,10", "2024-12-24,1,2,0.5,1.5,1.5,10",
                                      "2024-12-27,1,2,0.5,1.5,1.5,10"])
    bars = hk.daily_bars("9988.HK", start="2024-12-24", end="2024-12-27")
    assert list(bars.sessions.strftime("%Y-%m-%d")) == ["2024-12-24", "2024-12-27"]
    # Christmas Eve is a half day: the close is 12:00 HKT = 04:00 UTC.
    assert bars.frame.loc["2024-12-24", "close_utc"] == pd.Timestamp("2024-12-24 04:00", tz="UTC")
    assert bars.frame.loc["2024-12-27", "close_utc"] == pd.Timestamp("2024-12-27 08:00", tz="UTC")
    us = folder(tmp_path, "BABA", ["2024-07-03,1,2,0.5,1.5,1.5,10", "2024-07-05,1,2,0.5,1.5,1.5,10"])
    closes = us.daily_bars("BABA").frame["close_utc"]
    # Early close 13:00 EDT, then a normal 16:00 EDT close.
    assert list(closes) == [pd.Timestamp("2024-07-03 17:00", tz="UTC"), pd.Timestamp("2024-07-05 20:00", tz="UTC")]


def test_unreadable_csv(tmp_path):
    (tmp_path / "BABA.csv").write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(DataValidationError, match="BABA.csv"):
        CsvFolderSource(tmp_path).daily_bars("BABA")


@pytest.mark.realdata
def test_real_baba_loads_clean_and_adjusted_differs_before_ex_dates(prices_dir):
    source = CsvFolderSource(prices_dir)
    raw = source.daily_bars("BABA", "2025-02-01", "2025-02-28")
    adj = source.daily_bars("BABA", "2025-02-01", "2025-02-28", adjustment="adjusted")
    assert raw.issues == () and len(raw) == 19
    assert raw.frame.loc["2025-02-12", "close"] == 118.33
    assert (adj.frame["close"] < raw.frame["close"]).all()  # dividends paid after Feb 2025
