"""Quick commands import only what they use (issue 15).

Each case runs the CLI in a fresh interpreter and lists the heavy packages it imported.
``--help`` / ``--version`` import no data stack at all; ``run`` on CSV prices leaves the event
study's scipy / statsmodels, the sweep's Dask, the tearsheet's matplotlib and akshare's
network stack alone. The one-line help shown for lazily loaded commands is the
commands' own.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
HEAVY = ("scipy", "statsmodels", "dask", "distributed", "matplotlib", "numba", "backtrader", "pandas", "requests",
         "akshare")
PROBE = """
import json, sys
from backtests.cli import main
try:
    main(sys.argv[1:])
except SystemExit:
    pass
print(json.dumps(sorted({m.split('.')[0] for m in sys.modules} & set(%r))), file=sys.stderr)
""" % (HEAVY,)


def _imported(*args: str, cwd: Path = REPO) -> set[str]:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    res = subprocess.run([sys.executable, "-c", PROBE, *args], capture_output=True, text=True, cwd=cwd, env=env,
                         timeout=120)
    return set(json.loads(res.stderr.strip().splitlines()[-1]))


@pytest.mark.parametrize("args", [["--help"], ["--version"]])
def test_help_and_version_import_no_data_stack(args: list[str]) -> None:
    assert _imported(*args) == set()


def test_run_imports_no_study_sweep_or_plotting(prices_dir: Path, tmp_path: Path) -> None:
    got = _imported("run", str(REPO / "configs" / "alibaba_2025.toml"), "--data-dir", str(prices_dir),
                    "--out", str(tmp_path / "out"))
    assert {"backtrader", "pandas"} <= got  # it did run
    assert not got & {"scipy", "statsmodels", "dask", "distributed", "matplotlib", "numba", "requests", "akshare"}


def test_report_and_events_help_stay_light() -> None:
    for args in (["report", "--help"], ["events", "--help"]):
        assert not _imported(*args) & {"scipy", "statsmodels", "dask", "matplotlib", "numba", "backtrader"}, args


def test_lazy_help_lines_are_the_commands_own() -> None:
    import click

    from backtests import cli as cli_module

    for name, module in cli_module._LAZY_COMMANDS.items():
        line = cli_module._short_help(name)
        cli_module._register(module)
        command = cli_module.cli.commands[name]
        assert line and click.Command(name, help=line).get_short_help_str(200) == command.get_short_help_str(200), name


def test_version_without_an_installed_distribution() -> None:
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    res = subprocess.run([sys.executable, "-m", "backtests", "--version"], capture_output=True, text=True,
                         cwd=REPO, env=env, timeout=60)
    assert res.returncode == 0 and res.stdout.startswith("catalyst-bt, version "), res.stderr
