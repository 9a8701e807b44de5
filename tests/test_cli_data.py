"""``catalyst-bt data show|fetch`` (no network: synthetic, tmp CSVs, a pre-filled cache)."""

from __future__ import annotations

import click
import pandas as pd
import pytest
from click.testing import CliRunner

from backtests.cli import data as cli_data
from data_loaders.cache import CacheKey, ParquetCache
from data_loaders.errors import UserError
from data_loaders.sources import SourceConfigError, make_source
from data_loaders.synthetic import SyntheticMarket

HEADER = "date,open,high,low,close,adj_close,volume"


@pytest.fixture()
def group() -> click.Group:
    g = click.Group("catalyst-bt")
    cli_data.register(g)
    return g


def run(group, *args):
    return CliRunner().invoke(group, list(args), catch_exceptions=True)


def test_show_synthetic_is_labelled_and_has_no_issues(group):
    result = run(group, "data", "show", "9988.HK", "--start", "2025-02-10", "--end", "2025-02-14", "--rows", "2")
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("SYNTHETIC DATA") and "synthetic(seed=3)" in lines[0]
    assert "5 sessions, 2025-02-10..2025-02-14" in lines[1]
    assert lines[-1] == "issues: none"
    assert "... 1 sessions not shown" in result.output


def test_show_csv_lists_gap_dates(group, tmp_path):
    rows = ["2025-02-10,1,2,0.5,1.5,1.5,10", "2025-02-13,1,2,0.5,1.5,1.5,10"]
    (tmp_path / "0700.HK.csv").write_text("\n".join([HEADER, *rows]) + "\n")
    result = run(group, "data", "show", "0700.HK", "--data-dir", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "SYNTHETIC" not in result.output
    assert "issues: 1" in result.output
    assert "missing_sessions: 2 XHKG session(s) have no row (not filled): 2025-02-11, 2025-02-12" in result.output


def test_start_after_end_is_a_usage_error(group):
    result = run(group, "data", "show", "BABA", "--start", "2025-03-01", "--end", "2025-02-01")
    assert result.exit_code == 2 and "--start 2025-03-01 is after --end 2025-02-01" in result.output


def test_fetch_reports_the_cached_file(group, tmp_path):
    cache = ParquetCache(root=tmp_path)
    bars = SyntheticMarket(seed=3).daily_bars("HSTECH", "2025-02-03", "2025-02-14")
    key = CacheKey(source="akshare", symbol="HSTECH", adjustment="raw")
    cache.put(key, bars, fetched_at_utc=pd.Timestamp("2026-01-02 03:04", tz="UTC"))
    result = run(group, "data", "fetch", "HSTECH", "--cache-dir", str(tmp_path), "--start", "2025-02-10")
    assert result.exit_code == 0, result.output
    assert f"already cached in {cache.path_for(key)} (fetched 2026-01-02 03:04 UTC)" in result.output
    assert "5 sessions, 2025-02-10..2025-02-14" in result.output


def test_fetch_of_a_local_source_is_a_user_error(group):
    result = run(group, "data", "fetch", "BABA", "--source", "synthetic")
    assert isinstance(result.exception, SourceConfigError)
    assert "data fetch caches akshare downloads" in str(result.exception)


def test_make_source_csv_needs_data_dir():
    with pytest.raises(SourceConfigError, match="--source csv needs --data-dir"):
        make_source("csv")
    with pytest.raises(SourceConfigError, match="unknown source 'yahoo'"):
        make_source("yahoo")  # type: ignore[arg-type]


def test_errors_print_one_line_through_the_main_entry(capsys):
    from backtests.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["data", "show", "0700.HK", "--source", "synthetic"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("error: the synthetic market has only") and err.count("\n") == 1
    assert issubclass(SourceConfigError, UserError)
