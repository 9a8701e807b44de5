"""Every shipped strategy config runs from its TOML file through ``catalyst-bt run`` — on
the real prices and on the synthetic default — and bad parameters are refused with a fix."""

from __future__ import annotations

import json
import tomllib
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import run_cli
from backtests.metrics import METRIC_KEYS
from strategies.registry import STRATEGIES

REPO = Path(__file__).resolve().parents[1]
CONFIGS = sorted((REPO / "configs" / "strategies").glob("*.toml"))
RUN_FILES = ("trades.csv", "costs.csv", "equity.csv", "positions.csv", "returns.csv", "schedule.csv",
             "provenance.json", "summary.json")


def test_every_registered_strategy_has_a_shipped_config() -> None:
    named = {Path(p).read_text().split('name = "', 2)[2].split('"', 1)[0] for p in CONFIGS}
    assert set(STRATEGIES) <= named


@pytest.mark.realdata
@pytest.mark.parametrize("config", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_runs_on_real_prices(config: Path, prices_dir: Path, tmp_path: Path) -> None:
    assert run_cli(["run", str(config), "--data-dir", str(prices_dir), "--out", str(tmp_path)]) == 0
    for name in RUN_FILES:
        assert (tmp_path / name).is_file(), name
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["synthetic_data"] is False
    assert tuple(summary["metrics"]) == tuple(sorted(METRIC_KEYS)) or set(summary["metrics"]) == set(METRIC_KEYS)
    assert summary["annualisation"] == {"calendar": "XHKG", "periods_per_year": pytest.approx(245.5, abs=1)}
    trades = pd.read_csv(tmp_path / "trades.csv")
    assert len(trades) > 0, "each shipped strategy trades at least once on the 2024-10..2025-10 window"
    # the equity at the last benchmark close agrees with the summary's final equity when nothing is open
    returns = pd.read_csv(tmp_path / "returns.csv")
    assert len(returns) == summary["metrics"]["sessions"] > 200  # one row per HSTECH session of the run
    assert returns["strategy_return"].notna().all()
    positions = pd.read_csv(tmp_path / "positions.csv")
    traded = set(tomllib.loads(config.read_text())["strategy"]["listings"])
    assert len(positions) > 0 and set(positions["listing"]) <= traded | {"HSTECH"}
    provenance = json.loads((tmp_path / "provenance.json").read_text())
    assert {"9988.HK", "HSTECH"} <= set(provenance["series"])


# Configs trading listings the synthetic market does not model: refused, naming the first one.
REFUSED_ON_SYNTHETIC = {"narrative_basket": "the synthetic market has only 9988.HK, BABA, HSTECH, USDHKD, KWEB, not 0700.HK"}


@pytest.mark.parametrize("config", CONFIGS, ids=[p.stem for p in CONFIGS])
def test_config_runs_on_the_synthetic_default(config: Path, tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    code = run_cli(["run", str(config), "--source", "synthetic", "--out", str(tmp_path)])
    if config.stem in REFUSED_ON_SYNTHETIC:
        assert code == 2 and REFUSED_ON_SYNTHETIC[config.stem] in " ".join(capsys.readouterr().err.split())
        return
    assert code == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["synthetic_data"] is True
    assert set(summary["metrics"]) == set(METRIC_KEYS)


def _config(tmp_path: Path, params: str, *, name: str = "post_event_drift", extra: str = "",
            listings: str = '["9988.HK", "BABA"]') -> Path:
    path = tmp_path / "bad.toml"
    path.write_text(f"""
[run]
start = "2025-01-02"
end = "2025-03-31"
[data]
source = "synthetic"
{extra}
[strategy]
name = "{name}"
listings = {listings}
[strategy.params]
{params}
""")
    return path


@pytest.mark.parametrize(("params", "expected"), [
    ("hold_sessions = -2", ["hold_sessions must be a whole number >= 1, got -2", "e.g. hold_sessions = 5"]),
    ("hold_sessions = 0", ["hold_sessions must be a whole number >= 1, got 0"]),
    ('kinds = ["prodcut"]', ["'prodcut' is not allowed", "did you mean 'product'?", "earnings"]),
    ('direction = "up"', ["direction = 'up' is not allowed", "long, short, expected"]),
    ("hold_session = 3", ["unknown key 'hold_session'", "did you mean 'hold_sessions'?"]),
    ("stop_loss_pct = -0.1", ["stop_loss_pct must be a positive fraction (0.05 = 5%)"]),
])
def test_bad_strategy_parameters_are_refused_with_a_fix(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                        params: str, expected: list[str]) -> None:
    assert run_cli(["run", str(_config(tmp_path, params)), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "[strategy.params]" in err
    for text in expected:
        assert text in " ".join(err.split()), (text, err)
    assert not (tmp_path / "out").exists(), "nothing is written for a refused config"


def test_a_notional_below_one_board_lot_is_refused(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = _config(tmp_path, "notional_per_trade_base = 5000")
    assert run_cli(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "cannot buy one board lot of 9988.HK (100 ×" in err
    assert "set it to at least" in err


def test_a_listing_without_data_in_the_period_is_refused(tmp_path: Path, prices_dir: Path,
                                                          capsys: pytest.CaptureFixture) -> None:
    folder = tmp_path / "prices"
    folder.mkdir()
    for name in ("BABA.csv", "HSTECH.csv", "USDHKD.csv"):
        (folder / name).write_bytes((prices_dir / name).read_bytes())
    full = pd.read_csv(prices_dir / "9988.HK.csv")
    full[full["date"] < "2024-06-01"].to_csv(folder / "9988.HK.csv", index=False)  # stops before the run
    path = _config(tmp_path, "hold_sessions = 3", extra=f'dir = "{folder}"').with_name("bad.toml")
    text = path.read_text().replace('source = "synthetic"', 'source = "csv"')
    path.write_text(text)
    assert run_cli(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "9988.HK" in err and ("no bars" in err or "no rows" in err or "nothing" in err), err


def test_unknown_catalyst_in_only_is_refused_with_a_suggestion(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = _config(tmp_path, "hold_sessions = 3")
    path.write_text(path.read_text() + '\n[events]\nonly = ["qwen25maxx"]\n')
    assert run_cli(["run", str(path), "--out", str(tmp_path / "out")]) == 2
    err = " ".join(capsys.readouterr().err.split())
    assert "'qwen25maxx'" in err and "did you mean 'qwen25max'?" in err
