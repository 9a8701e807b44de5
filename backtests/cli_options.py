"""Command-line options shared by every command that reads a TOML config."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TypeVar

import click

from backtests.config import SOURCES

F = TypeVar("F", bound=Callable[..., object])


def config_data_options(func: F) -> F:
    """``CONFIG`` argument plus ``--data-dir`` and ``--source`` (overrides of ``[data]``)."""
    func = click.option("--source", type=click.Choice(SOURCES),
                        help="Price source, overriding [data] source.")(func)
    func = click.option("--data-dir", type=click.Path(path_type=Path),
                        help="Folder of SYMBOL.csv files (implies --source csv).")(func)
    return click.argument("config", type=click.Path(path_type=Path))(func)
