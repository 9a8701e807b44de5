"""Parquet cache: exact round trip, atomic writes, hits / misses / refresh, slicing."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq
import pytest

from data_loaders.cache import (
    CachedSource,
    CacheError,
    CacheKey,
    ParquetCache,
    default_cache_dir,
    read_bars,
    write_bars,
)
from data_loaders.markets import get_listing
from data_loaders.schema import DailyBars
from data_loaders.validation import normalise_bars

FETCHED = pd.Timestamp("2026-01-05 10:30", tz="UTC")


def tiny_bars(symbol: str = "9988.HK", drop: tuple[str, ...] = ("2025-02-12",)) -> DailyBars:
    """Five XHKG sessions 2025-02-10..14 minus ``drop`` (a reported gap)."""
    dates = [d for d in ("2025-02-10", "2025-02-11", "2025-02-12", "2025-02-13", "2025-02-14") if d not in drop]
    n = len(dates)
    raw = pd.DataFrame({"date": dates, "open": [100.0 + i for i in range(n)], "high": [102.0 + i for i in range(n)],
                        "low": [99.0 + i for i in range(n)], "close": [101.0 + i for i in range(n)],
                        "volume": [1e6] * n})
    return normalise_bars(raw, listing=get_listing(symbol), adjustment="raw", source="test", origin="tiny")


class CountingSource:
    def __init__(self, bars: DailyBars) -> None:
        self.bars = bars
        self.calls: list[tuple] = []

    def daily_bars(self, symbol, start=None, end=None, adjustment="raw"):
        self.calls.append((symbol, start, end, adjustment))
        return self.bars


def test_round_trip_rebuilds_bars_exactly(tmp_path):
    bars = tiny_bars()
    path = tmp_path / "x.parquet"
    write_bars(path, bars, fetched_at_utc=FETCHED)
    back, fetched = read_bars(path)
    pd.testing.assert_frame_equal(back.frame, bars.frame)
    assert str(back.frame["close_utc"].dt.tz) == "UTC"
    assert back.frame.index.name == "session"
    assert back.issues == bars.issues and back.issues[0].sessions == ("2025-02-12",)
    assert (back.symbol, back.currency, back.adjustment, back.source, back.synthetic) == \
        ("9988.HK", "HKD", "raw", "test", False)
    assert fetched == FETCHED
    meta = json.loads(pq.read_schema(path).metadata[b"catalyst_bt"])
    assert meta["row_count"] == 4 and meta["fetched_at_utc"] == "2026-01-05T10:30:00+00:00"


def test_failed_write_leaves_old_file_intact_and_no_partial_file(tmp_path, monkeypatch):
    path = tmp_path / "akshare" / "raw" / "9988.HK.parquet"
    old = tiny_bars()
    write_bars(path, old, fetched_at_utc=FETCHED)
    before = path.read_bytes()

    def crash_midway(table, where, *args, **kwargs):
        Path(where).write_bytes(b"PAR1 half a file")  # some bytes reach the disk, then the process dies
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", crash_midway)
    with pytest.raises(OSError, match="disk full"):
        write_bars(path, tiny_bars(drop=()), fetched_at_utc=FETCHED + pd.Timedelta(days=1))
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert sorted(p.name for p in path.parent.iterdir()) == ["9988.HK.parquet"]
    back, fetched = read_bars(path)
    assert len(back) == 4 and fetched == FETCHED


def test_unreadable_or_foreign_file_says_how_to_fix(tmp_path):
    bad = tmp_path / "bad.parquet"
    bad.write_bytes(b"not parquet")
    with pytest.raises(CacheError, match=r"bad.parquet cannot be read .*--refresh"):
        read_bars(bad)
    foreign = tmp_path / "foreign.parquet"
    pd.DataFrame({"a": [1]}).to_parquet(foreign)
    with pytest.raises(CacheError, match="not written by catalyst-bt"):
        read_bars(foreign)


def test_cache_key_layout_and_validation(tmp_path):
    cache = ParquetCache(root=tmp_path)
    key = CacheKey(source="akshare", symbol="9988.HK", adjustment="adjusted")
    assert cache.path_for(key) == tmp_path / "akshare" / "adjusted" / "9988.HK.parquet"
    with pytest.raises(ValueError, match="symbol"):
        CacheKey(source="akshare", symbol="../etc", adjustment="raw")
    with pytest.raises(ValueError, match="adjustment"):
        CacheKey(source="akshare", symbol="BABA", adjustment="qfq")


def test_default_cache_dir_env_then_xdg_then_home(monkeypatch, tmp_path):
    monkeypatch.setenv("CATALYST_BT_CACHE", str(tmp_path / "c"))
    assert default_cache_dir() == tmp_path / "c"
    monkeypatch.delenv("CATALYST_BT_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert default_cache_dir() == tmp_path / "xdg" / "catalyst-bt"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_cache_dir() == tmp_path / "home" / ".cache" / "catalyst-bt"


def make_cached(tmp_path, inner, refresh=False, now=FETCHED):
    return CachedSource(inner=inner, cache=ParquetCache(root=tmp_path), source_key="akshare", refresh=refresh,
                        clock=lambda: now)


def test_miss_fetches_full_history_once_then_hits(tmp_path):
    inner = CountingSource(tiny_bars())
    source = make_cached(tmp_path, inner)
    first = source.load("9988.HK")
    assert not first.from_cache and first.path.is_file()
    second = source.load("9988.HK", "2025-02-10", "2025-02-14")
    assert second.from_cache and second.fetched_at_utc == FETCHED
    assert inner.calls == [("9988.HK", None, None, "raw")]
    # A new process (new instance) reads the same file.
    assert make_cached(tmp_path, inner).load("9988.HK").from_cache
    assert len(inner.calls) == 1


def test_refresh_fetches_again_once_per_key(tmp_path):
    inner = CountingSource(tiny_bars())
    make_cached(tmp_path, inner).daily_bars("9988.HK")
    inner.bars = tiny_bars(drop=())
    source = make_cached(tmp_path, inner, refresh=True)
    assert len(source.daily_bars("9988.HK")) == 5
    assert len(source.daily_bars("9988.HK")) == 5
    assert len(inner.calls) == 2
    back, _ = read_bars(source.cache.path_for(CacheKey(source="akshare", symbol="9988.HK", adjustment="raw")))
    assert len(back) == 5


def test_end_after_fetch_day_fetches_again(tmp_path):
    inner = CountingSource(tiny_bars())
    make_cached(tmp_path, inner, now=pd.Timestamp("2025-02-14 09:00", tz="UTC")).daily_bars("9988.HK")
    later = make_cached(tmp_path, inner, now=pd.Timestamp("2025-03-01", tz="UTC"))
    later.daily_bars("9988.HK", end="2025-02-14")
    assert len(inner.calls) == 1
    later.daily_bars("9988.HK", end="2025-02-20")
    assert len(inner.calls) == 2


def test_slice_reports_issues_of_its_own_span(tmp_path):
    source = make_cached(tmp_path, CountingSource(tiny_bars()))
    whole = source.daily_bars("9988.HK")
    assert [i.sessions for i in whole.issues] == [("2025-02-12",)]
    before_gap = source.daily_bars("9988.HK", "2025-02-10", "2025-02-11")
    assert len(before_gap) == 2 and before_gap.issues == ()
    around_gap = source.daily_bars("9988.HK", "2025-02-11", "2025-02-13")
    assert [i.sessions for i in around_gap.issues] == [("2025-02-12",)]


def test_unknown_symbol_fails_before_touching_the_cache(tmp_path):
    from data_loaders.errors import UnknownSymbolError
    with pytest.raises(UnknownSymbolError):
        make_cached(tmp_path, CountingSource(tiny_bars())).daily_bars("../../x")
    assert list(tmp_path.iterdir()) == []
