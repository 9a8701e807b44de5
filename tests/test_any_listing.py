"""Any declared listing, end to end: run, study, sweep and report with no code change;
pairs only where declared; spill-over studies; empty selections refused."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from tests.cli_runner import run_cli

DECLARE_2618 = """
[[listing]]
symbol = "2618.HK"
market = "HK"
kind = "stock"
lot_size_shares = 100
name = "A listing the package has never heard of"
issuer = "newco"
"""


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _config(tmp: Path, name: str, symbol: str, *, data: str, strategy: str = "post_event_drift",
            params: str = "hold_sessions = 3\nnotional_per_trade_base = 200000", extra: str = "") -> Path:
    return _write(tmp / f"{name}.toml", f"""
[run]
name = "{name}"
start = "2024-10-01"
end = "2025-10-31"
[data]
{data}
[events]
calendar = "alibaba_2025"
apply_to = "all"
[strategy]
name = "{strategy}"
listings = {json.dumps(symbol) if symbol.startswith('[') is False else symbol}
[strategy.params]
{params}
{DECLARE_2618}
{extra}
""".replace(f'listings = "{symbol}"', f'listings = ["{symbol}"]'))


@pytest.mark.realdata
def test_a_user_declared_listing_runs_studies_sweeps_and_reports_like_9988(prices_dir: Path, tmp_path: Path) -> None:
    data = tmp_path / "prices"
    data.mkdir()
    for name in ("HSTECH", "USDHKD", "9988.HK"):
        shutil.copy(prices_dir / f"{name}.csv", data / f"{name}.csv")
    shutil.copy(prices_dir / "9988.HK.csv", data / "2618.HK.csv")  # same prices under a new name
    source = f'source = "csv"\ndir = "{data}"'
    study = '[study]\nlistings = ["{sym}"]\nplacebo_draws = 1000\n'
    new = _config(tmp_path, "new", "2618.HK", data=source, extra=study.format(sym="2618.HK"))
    old = _config(tmp_path, "old", "9988.HK", data=source, extra=study.format(sym="9988.HK"))

    assert run_cli(["run", str(new), "--out", str(tmp_path / "run_new")]) == 0
    assert run_cli(["run", str(old), "--out", str(tmp_path / "run_old")]) == 0
    t_new = pd.read_csv(tmp_path / "run_new" / "trades.csv")
    t_old = pd.read_csv(tmp_path / "run_old" / "trades.csv")
    assert len(t_new) == 10 and set(t_new["listing"]) == {"2618.HK"}
    pd.testing.assert_frame_equal(t_new.drop(columns="listing"), t_old.drop(columns="listing"))

    assert run_cli(["study", str(new), "--out", str(tmp_path / "study_new")]) == 0
    assert run_cli(["study", str(old), "--out", str(tmp_path / "study_old")]) == 0
    s_new = pd.read_csv(tmp_path / "study_new" / "event_study.csv")
    s_old = pd.read_csv(tmp_path / "study_old" / "event_study.csv")
    assert len(s_new) == 50 and s_new["car"].notna().all()
    pd.testing.assert_series_equal(s_new["car"], s_old["car"])

    sweep = _write(tmp_path / "sweep.toml", new.read_text(encoding="utf-8")
                   + '[sweep]\nsearch = "grid"\n[sweep.grid]\nhold_sessions = [1, 3]\n')
    assert run_cli(["sweep", str(sweep), "--out", str(tmp_path / "sweep"), "--workers", "2"]) == 0
    table = pd.read_parquet(tmp_path / "sweep" / "sweep.parquet")
    assert len(table) == 2 and (table["trade_count"] == 10).all()

    assert run_cli(["report", str(tmp_path / "run_new")]) == 0
    assert "2618.HK" in (tmp_path / "run_new" / "tearsheet.html").read_text(encoding="utf-8")


def test_lead_lag_on_another_declared_pair_trades_on_the_synthetic_market(tmp_path: Path) -> None:
    cfg = _config(tmp_path, "jd", '["9618.HK", "JD"]', data='source = "synthetic"',
                  strategy="cross_listing_lead_lag", params="min_gap = 0.005")
    assert run_cli(["run", str(cfg), "--out", str(tmp_path / "out")]) == 0
    trades = pd.read_csv(tmp_path / "out" / "trades.csv")
    assert len(trades) > 0 and set(trades["listing"]) <= {"9618.HK", "JD"}
    hk = trades[trades["listing"] == "9618.HK"]
    assert len(hk) > 0 and (hk["quantity"] % 50 == 0).all()  # JD's HK board lot from the registry


@pytest.mark.parametrize("listings", ['["9618.HK", "BABA"]', '["9988.HK"]', '["0700.HK", "BABA"]'])
def test_lead_lag_on_a_non_pair_is_refused_before_any_work(tmp_path: Path, listings: str, capsys) -> None:
    cfg = _config(tmp_path, "bad", listings, data='source = "synthetic"', strategy="cross_listing_lead_lag",
                  params="min_gap = 0.005")
    assert run_cli(["run", str(cfg), "--out", str(tmp_path / "out")]) != 0
    err = capsys.readouterr().err
    assert "declared cross-listed pairs only" in err and "BABA/9988.HK (1 ADS = 8 shares)" in err
    assert "JD/9618.HK (1 ADS = 2 shares)" in err and "[[pair]]" in err
    assert not (tmp_path / "out").exists()


def test_undeclared_symbol_in_a_config_shows_the_listing_table(tmp_path: Path, capsys) -> None:
    cfg = _write(tmp_path / "x.toml", '[data]\nsource = "synthetic"\n[strategy]\nname = "post_event_drift"\n'
                                      'listings = ["9999.HKX"]\n')
    assert run_cli(["run", str(cfg)]) != 0
    err = capsys.readouterr().err
    assert "unknown symbol '9999.HKX'" in err and "Did you mean 9999.HK" in err and "[[listing]]" in err


def _study(tmp: Path, listings: str, apply_to: str, data: str) -> Path:
    return _write(tmp / f"s_{apply_to}.toml", f'[run]\nname = "s"\n[data]\n{data}\n[events]\ncalendar = '
                  f'"alibaba_2025"\napply_to = "{apply_to}"\n[study]\nlistings = {listings}\nplacebo_draws = 1000\n')


@pytest.mark.realdata
def test_spill_over_study_works_and_an_empty_one_fails_loudly(prices_dir: Path, tmp_path: Path, capsys) -> None:
    data = f'source = "csv"\ndir = "{prices_dir}"'
    named = _study(tmp_path, '["0700.HK", "@alibaba"]', "named", data)
    assert run_cli(["study", str(named), "--out", str(tmp_path / "named")]) == 0
    table = pd.read_csv(tmp_path / "named" / "event_study.csv")
    assert "0700.HK" not in set(table["listing"])  # the Alibaba calendar names Alibaba only

    lonely = _study(tmp_path, '["0700.HK"]', "named", data)
    assert run_cli(["study", str(lonely), "--out", str(tmp_path / "lonely")]) != 0
    err = capsys.readouterr().err
    assert "nothing to study" in err and "0700.HK" in err and 'apply_to = "all"' in err
    assert not (tmp_path / "lonely" / "event_study.csv").exists()

    spill = _study(tmp_path, '["0700.HK", "9988.HK", "BABA"]', "all", data)
    assert run_cli(["study", str(spill), "--out", str(tmp_path / "spill")]) == 0
    table = pd.read_csv(tmp_path / "spill" / "event_study.csv")
    assert set(table["listing"]) == {"0700.HK", "9988.HK", "BABA"} and (table["listing"] == "0700.HK").sum() == 50
    doc = json.loads((tmp_path / "spill" / "event_study.json").read_text(encoding="utf-8"))
    assert {r["listings"] for r in doc["joint"]} == {"9988.HK,BABA"}  # one firm = one issuer only
    assert {(r["leader"], r["lagger"]) for r in doc["lead_lag"] if r["leader"]} <= {("9988.HK", "BABA"),
                                                                                   ("BABA", "9988.HK")}


def test_run_with_no_matching_catalyst_is_an_error(tmp_path: Path, capsys) -> None:
    cfg = _write(tmp_path / "r.toml", '[data]\nsource = "synthetic"\n[events]\ncalendar = "alibaba_2025"\n'
                                      '[strategy]\nname = "post_event_drift"\nlistings = ["9618.HK"]\n')
    assert run_cli(["run", str(cfg), "--out", str(tmp_path / "out")]) != 0
    err = capsys.readouterr().err
    assert "nothing to trade" in err and "9618.HK" in err and 'apply_to = "all"' in err


@pytest.mark.realdata
def test_the_readme_worked_example_on_a_second_issuer(prices_dir: Path, tmp_path: Path) -> None:
    example = Path(__file__).resolve().parents[1] / "configs" / "examples" / "xiaomi_2025"
    assert run_cli(["run", str(example / "run.toml"), "--data-dir", str(prices_dir), "--out", str(tmp_path / "r")]) == 0
    trades = pd.read_csv(tmp_path / "r" / "trades.csv")
    assert set(trades["listing"]) == {"1810.HK"} and (trades["quantity"].abs() % 200 == 0).all()
    schedule = pd.read_csv(tmp_path / "r" / "schedule.csv").set_index("catalyst_id")
    assert schedule.loc["su7_ultra_launch", "reaction_session"] == "2025-02-28"  # evening launch -> next session
    assert schedule.loc["placement_2025", "reaction_session"] == "2025-03-25"    # before the open -> same day
    short = trades.set_index("catalyst_id").loc["placement_2025"]
    assert short["direction"] == -1 and short["entry_session"] == "2025-03-25"  # announced 09:00, opens 09:30
    assert run_cli(["study", str(example / "study.toml"), "--data-dir", str(prices_dir),
                    "--out", str(tmp_path / "s")]) == 0
    table = pd.read_csv(tmp_path / "s" / "event_study.csv")
    assert set(table["listing"]) == {"9988.HK", "1810.HK", "1024.HK"} and len(table) == 6 * 3 * 5
