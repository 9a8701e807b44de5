"""Command-line options shared by every command that reads a TOML config."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from backtests.config import SOURCES

F = TypeVar("F", bound=Callable[..., object])


def config_data_options(func: F) -> F:
    """``CONFIG`` argument plus ``--data-dir``, ``--source`` and ``--refresh`` (overrides of ``[data]``)."""
    func = click.option("--refresh", is_flag=True,
                        help="Fetch akshare data again instead of reading the cache (with --source akshare).")(func)
    func = click.option("--source", type=click.Choice(SOURCES),
                        help="Price source, overriding [data] source.")(func)
    func = click.option("--data-dir", type=click.Path(path_type=Path),
                        help="Folder of SYMBOL.csv files (implies --source csv).")(func)
    return click.argument("config", type=click.Path(path_type=Path))(func)


def output_options(func: F) -> F:
    """``--json`` (the summary as JSON, the only thing on stdout) and ``--quiet`` (no tables,
    no progress; problems still reach stderr)."""
    func = click.option("--quiet", "-q", is_flag=True,
                        help="Print no tables or progress (files are still written; problems go to stderr).")(func)
    return click.option("--json", "as_json", is_flag=True,
                        help="Print the summary as JSON on stdout (nothing else goes to stdout).")(func)


def print_json(payload: Any) -> None:
    """``payload`` as strict, sorted, indented JSON on stdout (NaN -> null)."""
    from backtests.results import json_safe

    click.echo(json.dumps(json_safe(payload), indent=2, sort_keys=True, default=str, allow_nan=False))
