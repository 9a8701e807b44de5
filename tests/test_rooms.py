"""backtests/ reads as rooms: the CLI, the sweeps and the tearsheet are sub-packages whose
names never shadow the Python API's functions."""

from __future__ import annotations

import inspect
from pathlib import Path

import backtests
import backtests.reporting  # noqa: F401 - imported on purpose: must not shadow backtests.report
import backtests.sweeps  # noqa: F401 - likewise for backtests.sweep
from backtests import api

REPO = Path(__file__).resolve().parents[1]


def test_api_names_are_the_api_functions_even_after_the_rooms_are_imported() -> None:
    for name in ("run", "study", "sweep", "report", "load_config"):
        assert getattr(backtests, name) is getattr(api, name) and inspect.isfunction(getattr(backtests, name))


def test_the_command_line_lives_in_its_own_sub_package() -> None:
    cli = REPO / "backtests" / "cli"
    assert (cli / "__init__.py").is_file() and {"run.py", "study.py", "sweep.py", "report.py"} <= {
        p.name for p in cli.glob("*.py")}
    assert not list((REPO / "backtests").glob("cli_*.py"))
