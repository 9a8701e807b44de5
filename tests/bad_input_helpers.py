"""Shared helpers of the bad-input suite: a synthetic-market config writer and a CLI runner
that returns the exit code and both streams."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtests.cli import main

CONFIG = """
[run]
name = "bad-input"
start = "2025-01-02"
end = "2025-04-30"
[data]
source = "synthetic"
seed = 7
[events]
calendar = "alibaba_2025"
[portfolio]
{portfolio}
[strategy]
name = "{strategy}"
listings = {listings}
[strategy.params]
{params}
"""


def write_config(folder: Path, *, portfolio: str = "initial_cash = 1000000", strategy: str = "post_event_drift",
                 listings: str = '["9988.HK", "BABA"]', params: str = "hold_sessions = 3",
                 extra: str = "") -> Path:
    """A run config on the synthetic market with the given sections' bodies."""
    path = folder / "config.toml"
    path.write_text(CONFIG.format(portfolio=portfolio, strategy=strategy, listings=listings, params=params) + extra,
                    encoding="utf-8")
    return path


def cli(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    """``catalyst-bt ARGS`` in-process: (exit code, stdout, stderr)."""
    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = int(exc.code or 0)
    out, err = capsys.readouterr()
    return code, out, err


def leftovers(folder: Path) -> list[str]:
    """Staging folders and temporary files left beside or inside ``folder``."""
    names = [p.name for p in folder.parent.glob(f".{folder.name}.staging-*")]
    if folder.is_dir():
        names += [p.name for p in folder.rglob("*.tmp")]
    return names
