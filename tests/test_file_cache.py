"""The in-process memo of loaded files (data_loaders/file_cache.py): a repeated load of an
unchanged file is served from memory, a changed file is read again, callers cannot corrupt
the memo, findings and warnings come back on every load, and errors are never remembered."""

from __future__ import annotations

import dataclasses
import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtests.runner import load_catalyst_calendar
from data_loaders.csv_source import CSV_BARS, CsvFolderSource
from data_loaders.errors import DataValidationError
from data_loaders.file_cache import FileMemo
from data_loaders.plausibility import parity_ratios
from data_loaders.registry import default_registry, use_registry
from data_loaders.registry_file import extend_registry
from events.calendar_file import CALENDARS, CalendarFileError, load_calendar

HEADER = "date,open,high,low,close,adj_close,volume"
# XHKG sessions 2024-01-02 .. 2024-01-05 (Tue..Fri)
ROWS = ["2024-01-02,70.0,72.0,69.0,71.0,71.0,100", "2024-01-03,71.0,73.0,70.0,72.0,72.0,110",
        "2024-01-04,72.0,74.0,71.0,73.0,73.0,120", "2024-01-05,73.0,75.0,72.0,74.0,74.0,130"]


def write_csv(folder: Path, rows: list[str], symbol: str = "9988.HK") -> Path:
    path = folder / f"{symbol}.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    return path


def counts() -> tuple[int, int]:
    info = CSV_BARS.info()
    return info.hits, info.misses


def test_a_repeated_load_is_served_from_memory_and_equal(tmp_path):
    write_csv(tmp_path, ROWS)
    source = CsvFolderSource(tmp_path)
    first = source.daily_bars("9988.HK")
    hits, misses = counts()
    again = source.daily_bars("9988.HK")
    assert counts() == (hits + 1, misses)
    pd.testing.assert_frame_equal(again.frame, first.frame)
    assert again.issues == first.issues and again.source == first.source
    assert list(again.frame["close"]) == [71.0, 72.0, 73.0, 74.0]


def test_other_arguments_are_other_entries(tmp_path):
    write_csv(tmp_path, ROWS)
    source = CsvFolderSource(tmp_path)
    assert len(source.daily_bars("9988.HK")) == 4
    assert len(source.daily_bars("9988.HK", start="2024-01-04")) == 2
    assert len(source.daily_bars("9988.HK", start=pd.Timestamp("2024-01-03"), end="2024-01-04")) == 2
    assert source.daily_bars("9988.HK", adjustment="adjusted").adjustment == "adjusted"


def test_a_rewritten_file_is_read_again(tmp_path):
    path = write_csv(tmp_path, ROWS)
    source = CsvFolderSource(tmp_path)
    assert source.daily_bars("9988.HK").frame["close"].iloc[-1] == 74.0
    # a different size
    write_csv(tmp_path, [*ROWS[:3], "2024-01-05,73.0,75.0,72.0,74.5,74.5,130"])
    assert source.daily_bars("9988.HK").frame["close"].iloc[-1] == 74.5
    # the same size and the very same mtime_ns (a rewrite inside the timestamp granularity):
    # the content digest still tells the versions apart
    before = path.stat()
    write_csv(tmp_path, [*ROWS[:3], "2024-01-05,73.0,75.0,72.0,74.7,74.7,130"])
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns
    assert source.daily_bars("9988.HK").frame["close"].iloc[-1] == 74.7


def test_a_touched_file_is_validated_again(tmp_path):
    path = write_csv(tmp_path, ROWS)
    source = CsvFolderSource(tmp_path)
    source.daily_bars("9988.HK")
    hits, misses = counts()
    st = path.stat()
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns + 1_000_000_000))
    source.daily_bars("9988.HK")
    assert counts() == (hits, misses + 1)


def test_mutating_a_returned_frame_does_not_change_the_next_load(tmp_path):
    write_csv(tmp_path, ROWS)
    source = CsvFolderSource(tmp_path)
    bars = source.daily_bars("9988.HK")
    bars.frame.loc[bars.frame.index[0], "close"] = 999.0
    bars.frame["open"] *= 2
    bars.frame.iloc[1, 1] = 5.0
    bars.frame["volume"] = -1.0
    again = source.daily_bars("9988.HK")
    assert list(again.frame["close"]) == [71.0, 72.0, 73.0, 74.0]
    assert list(again.frame["open"]) == [70.0, 71.0, 72.0, 73.0]


def test_findings_come_back_on_a_memoised_load(tmp_path):
    # 2024-01-03 missing: a gap finding; dates written DD/MM/YYYY: a format finding
    rows = ["02/01/2024,70.0,72.0,69.0,71.0,71.0,100", "04/01/2024,72.0,74.0,71.0,73.0,73.0,120",
            "15/01/2024,73.0,75.0,72.0,74.0,74.0,130"]
    write_csv(tmp_path, rows)
    source = CsvFolderSource(tmp_path)
    first = source.daily_bars("9988.HK", end="2024-01-05")
    again = source.daily_bars("9988.HK", end="2024-01-05")
    kinds = [i.kind for i in first.issues]
    assert "date_format" in kinds and "missing_sessions" in kinds
    assert again.issues == first.issues


def test_python_warnings_are_emitted_on_every_load(tmp_path):
    path = tmp_path / "x.txt"
    path.write_text("7")
    memo: FileMemo[int] = FileMemo("test", handout=lambda v: v)

    def build(data: bytes) -> int:
        warnings.warn(f"value {data.decode()} looks odd", UserWarning)
        return int(data)

    for _ in range(2):
        with pytest.warns(UserWarning, match="value 7 looks odd"):
            assert memo.load(path, (), build) == 7
    assert memo.info().hits == 1


def test_a_bad_file_fails_the_same_way_every_time_until_fixed(tmp_path):
    write_csv(tmp_path, [*ROWS[:3], "2024-01-05,73.0,75.0,72.0,abc,74.0,130"])
    source = CsvFolderSource(tmp_path)
    messages = []
    for _ in range(2):
        with pytest.raises(DataValidationError) as err:
            source.daily_bars("9988.HK")
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "line 5 (2024-01-05): close = 'abc' is not a positive price" in messages[0]
    write_csv(tmp_path, ROWS)
    assert source.daily_bars("9988.HK").frame["close"].iloc[-1] == 74.0


def test_the_memo_is_bounded(tmp_path):
    memo: FileMemo[bytes] = FileMemo("test", handout=lambda v: v, maxsize=2)
    for i in range(3):
        (tmp_path / f"{i}.txt").write_text(str(i))
        memo.load(tmp_path / f"{i}.txt", (), lambda data: data)
    assert memo.info().currsize == 2


CALENDAR = """
[[catalyst]]
id = "news"
headline = "Something happened"
published_at = "2024-01-03T12:00"
tz = "Asia/Hong_Kong"
precision = "minute"
kind = "product"
listings = ["{symbol}"]

[catalyst.source]
article = "a.txt"
"""


def test_a_calendar_is_parsed_once_per_file_version(tmp_path):
    path = tmp_path / "cal.toml"
    path.write_text(CALENDAR.format(symbol="9988.HK"))
    first = load_catalyst_calendar(str(path))
    assert load_catalyst_calendar(str(path)) is first  # immutable, so shared
    path.write_text(CALENDAR.format(symbol="BABA"))
    assert load_catalyst_calendar(str(path)).catalysts[0].listings == ("BABA",)


def test_a_calendar_is_validated_against_the_active_registry(tmp_path):
    path = tmp_path / "cal.toml"
    path.write_text(CALENDAR.format(symbol="NEWCO"))
    mine = extend_registry(default_registry(), {"listing": [{"symbol": "NEWCO", "market": "US", "kind": "stock"}]},
                           origin="test")
    for _ in range(2):
        with pytest.raises(CalendarFileError, match="NEWCO"):
            load_calendar(path)
        with use_registry(mine):
            assert load_calendar(path).catalysts[0].listings == ("NEWCO",)
    assert CALENDARS.info().hits >= 1


def test_a_broken_calendar_fails_the_same_way_every_time(tmp_path):
    path = tmp_path / "cal.toml"
    path.write_text("[[catalyst]\nid = 1\n")
    messages = []
    for _ in range(2):
        with pytest.raises(CalendarFileError) as err:
            load_calendar(path)
        messages.append(str(err.value))
    assert messages[0] == messages[1] and "not valid TOML" in messages[0]


def test_parity_ratios_match_the_reindexed_pandas_formula(tmp_path):
    """As-of fx: 01-02 has no fx yet (left out), 01-04 uses 01-03's rate (no fx row that day)."""
    def bars(symbol, rows):
        write_csv(tmp_path, rows, symbol)
        return CsvFolderSource(tmp_path).daily_bars(symbol)

    ordinary = bars("9988.HK", ROWS)
    adr = bars("BABA", ["2024-01-02,9.0,9.3,8.9,9.1,9.1,5", "2024-01-03,9.1,9.4,9.0,9.2,9.2,5",
                        "2024-01-04,9.2,9.5,9.1,9.3,9.3,5", "2024-01-05,9.3,9.6,9.2,9.4,9.4,5"])
    fx = bars("USDHKD", ["2024-01-03,7.8,7.8,7.8,7.8,7.8,", "2024-01-05,7.9,7.9,7.9,7.9,7.9,"])
    got = parity_ratios(adr=adr, ordinary=ordinary, fx=fx, shares_per_adr=8)
    a, o = adr.frame["close"], ordinary.frame["close"]
    common = a.index.intersection(o.index)
    rate = fx.frame["close"].reindex(fx.frame.index.union(common)).ffill().reindex(common)
    want = (a.reindex(common) / (8 * o.reindex(common) / rate)).dropna()
    assert np.array_equal(got, want.to_numpy())
    assert got == pytest.approx([9.2 / (8 * 72 / 7.8), 9.3 / (8 * 73 / 7.8), 9.4 / (8 * 74 / 7.9)])


def test_a_memoised_sweep_load_has_the_data_hash_of_a_fresh_one(prices_dir):
    from backtests.config import load_config
    from backtests.runner import _schedule
    from backtests.sweeps.inputs import REPO_ROOT, _events_bytes, data_snapshot_hash, load_sweep_inputs

    cfg = load_config(REPO_ROOT / "configs" / "sweep_alibaba_2025.toml").with_overrides(data_dir=prices_dir)
    for memo in (CSV_BARS, CALENDARS):
        memo.clear()
    _schedule.cache_clear()
    _events_bytes.cache_clear()
    fresh = load_sweep_inputs(cfg, listings=("9988.HK", "BABA"))
    again = load_sweep_inputs(cfg, listings=("9988.HK", "BABA"))
    assert again.data_hash == fresh.data_hash
    for sym in fresh.bars:
        pd.testing.assert_frame_equal(again.bars[sym].frame, fresh.bars[sym].frame)
    # one price one cent off is another snapshot
    frame = fresh.bars["BABA"].frame.copy()
    frame.iloc[5, frame.columns.get_loc("close")] += 0.01
    bars = {**fresh.bars, "BABA": dataclasses.replace(fresh.bars["BABA"], frame=frame)}
    assert data_snapshot_hash(cfg=cfg, bars=bars, benchmark=fresh.benchmark, fx=fresh.fx, calendar=fresh.calendar,
                              schedule=fresh.schedule) != fresh.data_hash


def test_a_slice_is_cut_once_per_content_and_bounds(tmp_path):
    from data_loaders.validation import SLICES, restrict_bars

    write_csv(tmp_path, ROWS)
    bars = CsvFolderSource(tmp_path).daily_bars("9988.HK")
    first = restrict_bars(bars, start="2024-01-03", end="2024-01-04")
    hits = SLICES.info().hits
    first.frame["close"] = -1.0  # the caller's copy
    again = restrict_bars(bars, start="2024-01-03", end="2024-01-04")
    assert SLICES.info().hits == hits + 1
    assert list(again.frame["close"]) == [72.0, 73.0] and again.issues == first.issues
    changed = dataclasses.replace(bars, frame=bars.frame.assign(close=bars.frame["close"] + 1))
    assert list(restrict_bars(changed, start="2024-01-03", end="2024-01-04").frame["close"]) == [73.0, 74.0]


def test_a_parquet_cache_file_is_decoded_once_per_version(tmp_path):
    from data_loaders.cache import PARQUET_BARS, CacheError, read_bars, write_bars

    write_csv(tmp_path, ROWS)
    bars = CsvFolderSource(tmp_path).daily_bars("9988.HK")
    path = tmp_path / "cache" / "9988.HK.parquet"
    fetched = pd.Timestamp("2024-01-06", tz="UTC")
    write_bars(path, bars, fetched_at_utc=fetched)
    got, at = read_bars(path)
    got.frame["close"] = -1.0
    hits = PARQUET_BARS.info().hits
    again, at2 = read_bars(path)
    assert PARQUET_BARS.info().hits == hits + 1 and at2 == at == fetched
    pd.testing.assert_frame_equal(again.frame, bars.frame)
    write_bars(path, dataclasses.replace(bars, frame=bars.frame.assign(close=bars.frame["close"] * 2)),
               fetched_at_utc=fetched)
    assert list(read_bars(path)[0].frame["close"]) == [142.0, 144.0, 146.0, 148.0]
    path.write_bytes(b"not parquet")
    for _ in range(2):
        with pytest.raises(CacheError, match=r"9988.HK.parquet cannot be read \(.*9988.HK.parquet.*--refresh"):
            read_bars(path)
