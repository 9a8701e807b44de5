"""The CLI's run/demo commands and the errors a user can act on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from cli_runner import run_cli
from backtests.config import ConfigError, load_config

REPO = Path(__file__).resolve().parents[1]


def test_demo_runs_offline_and_is_labelled_synthetic(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    assert run_cli(["demo", "--out", str(tmp_path)]) == 0
    summary = json.loads((tmp_path / "summary.json").read_text())
    assert summary["synthetic_data"] is True
    assert summary["trade_count"] > 0
    assert "SYNTHETIC" in capsys.readouterr().out
    for name in ("trades.csv", "equity.csv", "costs.csv", "summary.json"):
        assert (tmp_path / name).is_file()


def test_demo_is_deterministic(tmp_path: Path) -> None:
    run_cli(["demo", "--out", str(tmp_path / "a")])
    run_cli(["demo", "--out", str(tmp_path / "b")])
    for name in ("trades.csv", "equity.csv", "costs.csv", "summary.json"):
        assert (tmp_path / "a" / name).read_bytes() == (tmp_path / "b" / name).read_bytes()


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "cfg.toml"
    path.write_text(text)
    return path


def test_config_reports_every_problem_with_the_key(tmp_path: Path) -> None:
    path = write(tmp_path, """
[run]
start = "2025-13-01"
[data]
source = "bloomberg"
[events]
fill_policy = "next_close"
[strategy]
name = "post_event_drfit"
listings = ["9988.HK", "HSTECH"]
[portfolio]
base_ccy = "HKD"
""")
    with pytest.raises(ConfigError) as exc:
        load_config(path)
    text = str(exc.value)
    assert "[run] start = '2025-13-01' is not a date" in text
    assert "[data] source = 'bloomberg'; allowed: csv, akshare, synthetic" in text
    assert "[events] fill_policy = 'next_close'; allowed: next_open, same_close" in text
    assert "did you mean 'post_event_drift'" in text
    assert "'HSTECH' is not a tradable listing" in text
    assert "[portfolio] unknown key 'base_ccy' — did you mean 'base_currency'?" in text
    assert len(exc.value.problems) == 6


def test_bad_strategy_parameter_names_the_fix(tmp_path: Path) -> None:
    path = write(tmp_path, '[strategy]\nname = "post_event_drift"\n[strategy.params]\nhold_sessions = -2\n')
    with pytest.raises(ConfigError, match=r"\[strategy.params\] hold_sessions must be a whole number >= 1"):
        load_config(path)


def test_cli_error_is_one_message_not_a_traceback(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    path = write(tmp_path, '[strategy]\nname = "nope"\n')
    assert run_cli(["run", str(path)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and "[strategy] name = 'nope' is unknown" in err


def test_bad_price_file_names_file_line_and_value(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "prices"
    data.mkdir()
    (data / "9988.HK.csv").write_text(
        "date,open,high,low,close,adj_close,volume\n"
        "2025-01-27,87.0,88.0,86.0,87.25,87.25,100\n"
        "2025-01-28,88.0,87.0,89.0,88.3,88.3,100\n")
    cfg = write(tmp_path, '[run]\nstart = "2025-01-27"\nend = "2025-01-28"\n'
                          '[strategy]\nname = "post_event_drift"\nlistings = ["9988.HK"]\n')
    assert run_cli(["run", str(cfg), "--data-dir", str(data), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert "9988.HK.csv" in err and "line 3" in err and "high 87.0 < low 89.0" in err
    assert "Traceback" not in err


def test_missing_symbol_file_says_what_to_add(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    data = tmp_path / "empty"
    data.mkdir()
    cfg = write(tmp_path, '[strategy]\nname = "post_event_drift"\n')
    assert run_cli(["run", str(cfg), "--data-dir", str(data)]) == 2
    err = capsys.readouterr().err
    assert "9988.HK.csv" in err and "date,open,high,low,close,adj_close,volume" in err


def test_akshare_without_network_is_an_actionable_error(tmp_path: Path, capsys: pytest.CaptureFixture,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    # The network edge: make every akshare call fail the way an offline machine does.
    import data_loaders.akshare_source as ak_src

    def offline(self, call):  # noqa: ANN001, ANN202
        raise ConnectionError("Failed to establish a new connection: Network is unreachable")

    monkeypatch.setattr(ak_src.AkshareModuleFetcher, "fetch", offline)
    monkeypatch.setenv("CATALYST_BT_CACHE", str(tmp_path / "cache"))
    cfg = write(tmp_path, '[strategy]\nname = "post_event_drift"\n')
    code = run_cli(["run", str(cfg), "--source", "akshare", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 3  # data / network (issue 14: one exit code per class)
    assert "akshare could not fetch 9988.HK" in err and "--data-dir" in err
    assert "Traceback" not in err
