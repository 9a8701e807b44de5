"""Bad config values: each is refused with its key, the value and the fix, exit code 2, no
traceback, and nothing written."""

from __future__ import annotations

from pathlib import Path

import pytest

from bad_input_helpers import cli, write_config


@pytest.mark.parametrize(("portfolio", "params", "expected"), [
    ("initial_cash = true", "hold_sessions = 3",
     "[portfolio] initial_cash = True is true/false, not a number; write e.g. initial_cash = 1000000"),
    ("slippage_bps = true", "hold_sessions = 3", "[portfolio] slippage_bps = True is true/false, not a number"),
    ('initial_cash = "a million"', "hold_sessions = 3",
     "[portfolio] initial_cash = 'a million' is str, not a number; write e.g. initial_cash = 1000000"),
    ("slippage_bps = 20000", "hold_sessions = 3",
     "[portfolio] slippage_bps = 20000 must be >= 0 and <= 1000 basis points"),
    ("initial_cash = inf", "hold_sessions = 3", "[portfolio] initial_cash = inf is not a finite number"),
    ("initial_cash = 1e15", "hold_sessions = 3", "[portfolio] initial_cash = 1000000000000000.0 must be > 0 and <= 1e+12"),
    ("initial_cash = 1000000", "stop_loss_pct = 5",
     "[strategy.params] stop_loss_pct must be a positive fraction (0.05 = 5%) of at most 1, got 5 — did you "
     "mean 0.05?"),
    ("initial_cash = 1000000", "notional_per_trade_base = inf", "notional_per_trade_base = inf is beyond 1e+12"),
])
def test_bad_value_names_key_value_and_fix(tmp_path: Path, capsys: pytest.CaptureFixture[str], portfolio: str,
                                          params: str, expected: str) -> None:
    out = tmp_path / "out"
    code, _, err = cli(capsys, "run", str(write_config(tmp_path, portfolio=portfolio, params=params)),
                       "--out", str(out))
    assert code == 2
    assert expected in err and "Traceback" not in err
    assert not out.exists()


def test_every_problem_of_a_file_comes_at_once(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, portfolio="initial_cash = true\nbase_ccy = \"HKD\"",
                        params='hold_sessions = -2\nkinds = ["prodcut"]\nstop_los_pct = 0.05', listings="[]")
    code, _, err = cli(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    assert code == 2
    for part in ("[portfolio] unknown key 'base_ccy' — did you mean 'base_currency'?",
                 "[portfolio] initial_cash = True",
                 "[strategy.params] unknown key 'stop_los_pct' — did you mean 'stop_loss_pct'?",
                 "[strategy.params] hold_sessions must be a whole number >= 1, got -2",
                 "kinds entry = 'prodcut' is not allowed — did you mean 'product'?",
                 "[strategy] listings is empty"):
        assert part in err, part
    assert "6 problem(s)" in err


def test_non_utf8_config_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "latin1.toml"
    path.write_bytes('[run]\nname = "caf\xe9"\n'.encode("latin-1"))
    code, _, err = cli(capsys, "run", str(path))
    assert code == 2
    assert f"{path}" in err and "not UTF-8 text (byte 0xe9 at offset 17); save the file as UTF-8" in err


def test_a_section_that_is_not_a_table(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "c.toml"
    path.write_text('portfolio = 3\n[strategy]\nname = "post_event_drift"\n', encoding="utf-8")
    code, _, err = cli(capsys, "run", str(path))
    assert code == 2 and "[portfolio] portfolio = 3 must be a table" in err


def test_calendar_names_cannot_leave_the_shipped_folder(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path)
    path.write_text(path.read_text().replace('calendar = "alibaba_2025"', 'calendar = ".."'), encoding="utf-8")
    code, _, err = cli(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    assert code == 2
    assert "calendar '..' is neither a shipped calendar name (letters, digits, _ and - only) nor a path" in err
    # with a separator it is a path, relative to the config file, never looked up in events/data/
    path.write_text(path.read_text().replace('calendar = ".."', 'calendar = "../events/data/alibaba_2025"'),
                    encoding="utf-8")
    code, _, err = cli(capsys, "run", str(path), "--out", str(tmp_path / "out"))
    assert code == 2 and "does not exist (or is not a file)" in err


def test_placebo_draws_are_bounded(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, extra="[study]\nplacebo_draws = 1000000000000\n")
    code, _, err = cli(capsys, "study", str(path), "--out", str(tmp_path / "out"))
    assert code == 2
    assert "placebo_draws = 1,000,000,000,000 is too many" in err and "use at most 1,000,000" in err
    assert not (tmp_path / "out").exists()
