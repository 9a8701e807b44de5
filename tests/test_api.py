"""The Python API (``from backtests import run, study, sweep, report, load_config``) on the
seeded synthetic market (offline) and, where present, the real prices."""

from __future__ import annotations

import subprocess
import sys
from importlib import resources
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtests import load_config, report, run, study, sweep
from backtests.config import ConfigError
from data_loaders.errors import DataValidationError, SourceUnavailableError, UserError
from data_loaders.frame_source import FrameSource
from data_loaders.synthetic import SyntheticMarket

REPO = Path(__file__).resolve().parents[1]
DEMO = Path(str(resources.files("backtests") / "data" / "demo.toml"))


@pytest.fixture(scope="module")
def demo_run():
    return run(DEMO, hold_sessions=3)


def test_importing_backtests_is_cheap_and_exports_the_api() -> None:
    code = "import sys, backtests; print([m for m in ('pandas', 'backtrader', 'scipy') if m in sys.modules])"
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, check=True,
                         env={"PYTHONPATH": str(REPO), "PATH": ""}).stdout
    assert out.strip() == "[]"
    assert all(map(callable, (run, study, sweep, report, load_config)))


def test_overrides_reach_the_strategy_and_the_file_sections() -> None:
    cfg = load_config(DEMO, hold_sessions=3, portfolio__slippage_bps=10,
                      **{"run.start": "2025-01-02", "events.only": ["qwen25max"], "strategy.listings": ["BABA"]})
    assert cfg.strategy.params.hold_sessions == 3
    assert cfg.strategy.params.notional_per_trade_base == 150000  # untouched value kept (the demo config's)
    assert cfg.portfolio.slippage_bps == 10.0
    assert cfg.start == pd.Timestamp("2025-01-02") and cfg.events.only == ("qwen25max",)
    assert cfg.strategy.listings == ("BABA",) and cfg.data.source == "synthetic"


@pytest.mark.parametrize(("overrides", "expected"), [
    ({"hold_sesions": 3}, "did you mean 'hold_sessions'"),
    ({"slippage_bps": 3}, "did you mean 'portfolio.slippage_bps'"),
    ({"portfolio.slipage_bps": 3}, "did you mean 'slippage_bps'"),
    ({"hold_sessions": -2}, "hold_sessions must be a whole number >= 1, got -2"),
    ({"run.start": "2026-01-01"}, "is not before end"),
])
def test_bad_overrides_are_refused_with_the_fix(overrides: dict, expected: str) -> None:
    with pytest.raises(ConfigError, match="overrides") as info:
        load_config(DEMO, **overrides)
    assert expected in str(info.value)


def test_switching_strategy_takes_the_new_strategys_parameters() -> None:
    cfg = load_config(DEMO, strategy__name="event_fade", threshold=0.03)
    assert cfg.strategy.name == "event_fade" and cfg.strategy.params.threshold == 0.03


def test_all_override_problems_come_at_once() -> None:
    with pytest.raises(ConfigError) as info:
        load_config(DEMO, hold_sesions=3, kindz=["product"], portfolio__slipage_bps=1, hold_sessions=0)
    assert len(info.value.problems) == 4  # two unknown names, an unknown file key, a refused value


def test_equity_has_one_row_per_instant_and_ends_at_the_final_equity(demo_run) -> None:
    eq = demo_run.equity
    assert eq.index.is_unique and eq.index.is_monotonic_increasing and str(eq.index.tz) == "UTC"
    assert eq["equity_base"].iloc[-1] == pytest.approx(demo_run.summary["final_equity_base"])
    assert np.allclose(eq["cash_base"] + eq["positions_base"], eq["equity_base"])


def test_positions_have_one_column_per_listing_and_match_the_trades(demo_run) -> None:
    pos = demo_run.positions
    assert list(pos.columns) == ["9988.HK", "BABA"] and pos.index.equals(demo_run.equity.index)
    first = demo_run.trades.iloc[0]  # indexed by entry_utc
    held = pos.loc[(pos.index > first.name) & (pos.index < first["exit_utc"]), first["listing"]]
    assert len(held) and (held >= first["quantity"]).all()  # held throughout, maybe with later trades
    assert (pos.loc[pos.index < demo_run.trades.index.min()] == 0).all().all()  # nothing before the first entry


def test_stats_is_a_series_of_the_summary_metrics(demo_run) -> None:
    stats = demo_run.stats()
    assert isinstance(stats, pd.Series) and stats.dtype == "float64"
    assert stats["sharpe"] == demo_run.summary["metrics"]["sharpe"]
    assert stats["trade_count"] == len(demo_run.trades)
    html = demo_run._repr_html_()
    assert "Sharpe" in html and "SYNTHETIC" in html


def test_prices_as_dataframes_give_the_same_trades_as_the_source() -> None:
    market = SyntheticMarket(seed=7)
    frames = {sym: market.daily_bars(sym).frame.drop(columns="close_utc").rename(columns=str.title)
              for sym in ("9988.HK", "BABA", "HSTECH", "USDHKD")}
    via_frames = run(DEMO, prices=frames)
    via_source = run(DEMO)
    assert via_frames.summary["data_source"] == "frames"
    pd.testing.assert_frame_equal(via_frames.trades, via_source.trades)


def test_prices_and_a_source_together_are_refused() -> None:
    with pytest.raises(UserError, match="prices= replaces the config's price source"):
        load_config(DEMO, prices={}, source="synthetic")


def test_dataframe_prices_are_validated_like_csv_files() -> None:
    bars = SyntheticMarket(seed=7).daily_bars("BABA").frame.drop(columns="close_utc")
    broken = bars.copy()
    broken.iloc[3, broken.columns.get_loc("close")] = -1.0
    with pytest.raises(DataValidationError, match=r"row 3 \(\d{4}-\d\d-\d\d\): close = -1.0 is not a positive price"):
        FrameSource({"BABA": broken}).daily_bars("BABA")
    with pytest.raises(SourceUnavailableError, match=r"no prices for HSTECH among the DataFrames given \(BABA\)"):
        FrameSource({"BABA": bars}).daily_bars("HSTECH")


def test_sweep_collapses_combinations_with_identical_results(tmp_path: Path) -> None:
    # a 90% stop never fires in a year of this market: each pair of combinations is one result
    res = sweep(DEMO, {"hold_sessions": [1, 5], "stop_loss_pct": [None, 0.9]}, workers=1, out=tmp_path)
    assert len(res.table) == 4 and res.summary["distinct_trials"] == 2
    distinct = res.distinct()
    assert list(distinct["combos"]) == [2, 2]
    assert all(v == {"stop_loss_pct": ["off", "0.9"]} for v in distinct["varies"])
    assert distinct["sharpe"].is_monotonic_decreasing
    assert res.stats()["trials"] == 4 and res.best_params["hold_sessions"] in (1, 5)


def test_study_returns_rows_indexed_by_day0_close(tmp_path: Path) -> None:
    res = study(REPO / "configs" / "study_alibaba_2025.toml", source="synthetic", placebo_draws=1000,
                windows=[[0, 1]], seed=3, out=tmp_path)
    assert res.table.index.name == "day0_close_utc" and str(res.table.index.tz) == "UTC"
    assert set(res.table["window"]) == {"[0,+1]"} and res.stats()["rows"] == len(res.table)
    assert (tmp_path / "event_study.csv").is_file() and "SYNTHETIC" in res._repr_html_()


def test_report_writes_the_files_and_the_tearsheet(demo_run, tmp_path: Path) -> None:
    path = report(demo_run, tmp_path / "page")
    assert path.name == "tearsheet.html" and path.is_file()
    assert (tmp_path / "page" / "trades.csv").is_file() and (tmp_path / "page" / "schedule.csv").is_file()
    with pytest.raises(Exception, match="say which folder"):
        report(demo_run)


def test_run_on_real_prices_matches_the_cli(prices_dir: Path, tmp_path: Path) -> None:
    res = run(REPO / "configs" / "alibaba_2025.toml", data_dir=prices_dir, out=tmp_path)
    on_disk = pd.read_csv(tmp_path / "trades.csv")
    assert len(res.trades) == len(on_disk) == 20
    assert np.allclose(res.trades["net_pnl_base"].to_numpy(), on_disk["net_pnl_base"].to_numpy())
