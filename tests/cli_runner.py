"""Run the ``catalyst-bt`` command line in-process, as tests do."""

from __future__ import annotations

from backtests.cli import main


def run_cli(args: list[str]) -> int:
    """Exit code of ``catalyst-bt ARGS`` (0 when it returns normally)."""
    try:
        main(args)
    except SystemExit as exc:
        return exc.code or 0
    return 0
