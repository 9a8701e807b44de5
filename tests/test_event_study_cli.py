"""``catalyst-bt study CONFIG``: config parsing, real-data and synthetic runs, errors."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from backtests.cli import main
from backtests.cli.study import parse_study_section
from backtests.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "configs" / "study_alibaba_2025.toml"


def _config(tmp_path: Path, study: str, data: str = 'source = "synthetic"') -> Path:
    path = tmp_path / "study.toml"
    path.write_text(f'[run]\nname = "t"\n[data]\n{data}\n[events]\ncalendar = "alibaba_2025"\n[study]\n{study}\n',
                    encoding="utf-8")
    return path


@pytest.mark.realdata
def test_study_on_the_alibaba_calendar_and_real_prices(prices_dir: Path, tmp_path: Path, capsys) -> None:
    main(["study", str(EXAMPLE), "--data-dir", str(prices_dir), "--out", str(tmp_path)])
    out = capsys.readouterr().out
    assert "event study: 100 rows, model market, seed 0" in out and "SYNTHETIC" not in out
    assert "apple_report" in out and "joint (both listings as one firm)" in out
    table = pd.read_csv(tmp_path / "event_study.csv", keep_default_na=False, na_values=[""])
    assert len(table) == 10 * 2 * 5 and (table["problem"].isna()).all()
    assert set(table["benchmark"]) == {"HSTECH", "KWEB"}
    # placebo p-values enumerate the distinct eligible sessions (issue 13), no draws
    assert (table["n_placebo_draws"] == table["n_placebo_sessions"]).all()
    assert (table["p_placebo"] >= table["p_placebo_floor"]).all()
    assert "PRIMARY FAMILY (pre-specified): joint_placebo on [0,+1]" in out
    doc = json.loads((tmp_path / "event_study.json").read_text())
    assert doc["meta"]["benchmarks"] == {"9988.HK": "HSTECH", "BABA": "KWEB"}
    assert len(doc["paths"]) == 10 * 2 * 16 and len(doc["lead_lag"]) == 10


def test_study_on_the_synthetic_market_with_seed_override(tmp_path: Path, capsys) -> None:
    main(["study", str(EXAMPLE), "--source", "synthetic", "--out", str(tmp_path), "--seed", "3"])
    out = capsys.readouterr().out
    assert "[SYNTHETIC DATA]" in out.splitlines()[0] and "seed 3" in out.splitlines()[0]
    doc = json.loads((tmp_path / "event_study.json").read_text())
    assert doc["meta"]["synthetic"] is True and doc["meta"]["seed"] == 3


def test_unknown_study_key_is_rejected_with_a_suggestion(tmp_path: Path, capsys) -> None:
    path = _config(tmp_path, "placebo_draw = 5000\nmodel = \"capm\"")
    with pytest.raises(SystemExit) as info:
        main(["study", str(path), "--out", str(tmp_path / "o")])
    assert info.value.code == 2
    err = capsys.readouterr().err
    assert "[study] unknown key 'placebo_draw' — did you mean 'placebo_draws'?" in err
    assert "model = 'capm'" in err


def test_study_section_parsing(tmp_path: Path) -> None:
    cfg = load_config(_config(tmp_path, 'windows = [[0, 0], [-2, 2]]\ngap_sessions = 2\nseed = 4\n'
                                        'start = "2024-01-02"\n[study.benchmarks]\nBABA = "HSTECH"'),
                      need_strategy=False)
    study = parse_study_section(cfg)
    assert study.spec.windows == ((0, 0), (-2, 2)) and study.spec.gap_sessions == 2 and study.seed == 4
    assert study.benchmarks == {"9988.HK": "HSTECH", "BABA": "HSTECH"}
    assert study.start == pd.Timestamp("2024-01-02") and study.end is None
    defaults = parse_study_section(load_config(_config(tmp_path, ""), need_strategy=False))
    assert defaults.benchmarks == {"9988.HK": "HSTECH", "BABA": "KWEB"} and defaults.listings == ("9988.HK", "BABA")
    with pytest.raises(ConfigError) as info:
        parse_study_section(load_config(_config(
            tmp_path, 'listings = ["HSTECH"]\nwindows = [0, 1]\nseed = -1\n[study.benchmarks]\nBABA = "USDHKD"'),
            need_strategy=False))
    text = str(info.value)
    for needle in ("'HSTECH' is not a tradable listing", "write a list of [start, end] pairs",
                   "seed = -1 must be", "[study.benchmarks] 'BABA' is not in [study] listings"):
        assert needle in text


def test_a_benchmark_that_cannot_be_loaded_is_reported_and_the_rest_goes_on(tmp_path: Path, capsys) -> None:
    path = _config(tmp_path, 'placebo_draws = 1000\n[study.benchmarks]\nBABA = "QQQ"')
    main(["study", str(path), "--out", str(tmp_path / "o")])
    out = capsys.readouterr().out
    assert "cannot load QQQ" in out
    table = pd.read_csv(tmp_path / "o" / "event_study.csv", keep_default_na=False)
    assert (table.loc[table["listing"] == "BABA", "problem"].str.contains("needs a benchmark")).all()
    assert (table.loc[table["listing"] == "9988.HK", "problem"] == "").all()
