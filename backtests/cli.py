"""``catalyst-bt`` command line.

Each area registers its own click commands from a small module (``cli_data``,
``cli_events`` ...); this module only assembles them and turns known errors into
one-line messages instead of tracebacks.
"""

from __future__ import annotations

import importlib
import sys

import click

from data_loaders.errors import UserError

# Modules that each define ``register(group: click.Group) -> None``.
_COMMAND_MODULES: tuple[str, ...] = (
    "backtests.cli_run",
    "backtests.cli_data",
    "backtests.cli_events",
    "backtests.cli_study",
    "backtests.cli_sweep",
    "backtests.cli_report",
)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="catalyst-bt")
def cli() -> None:
    """Backtest dated news catalysts on 9988.HK / BABA against HSTECH."""


def _register_all() -> None:
    for name in _COMMAND_MODULES:
        try:
            module = importlib.import_module(name)
        except ModuleNotFoundError as exc:
            if exc.name == name:  # area not built yet
                continue
            raise
        module.register(cli)


_register_all()


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI, mapping user-actionable errors to exit code 2."""
    try:
        cli.main(args=argv, prog_name="catalyst-bt", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except UserError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(2)
