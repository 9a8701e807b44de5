"""``catalyst-bt`` command line.

The command line is its own sub-package: each area registers its click commands from a
small module here (``backtests.cli.data``, ``backtests.cli.events`` ...), next to the shared
options (``cli.options``) and terminal tables (``cli.tables``); this module only assembles
them and turns known errors into one-line messages instead of tracebacks.

Commands load lazily: ``catalyst-bt run`` imports ``cli.run`` and what it uses, not the
event study (scipy), the sweep (pyarrow, dask) or the tearsheet (matplotlib);
``--help`` and ``--version`` import none of them (the one-line help of each command is read from its
module's source).
"""

from __future__ import annotations

import errno
import importlib
import os
import signal
import sys
import traceback

import click

from data_loaders.errors import ExitCode, UserError

#: command name -> module defining ``register(group)``; ``--help`` reads each command's one-line
#: help from the module's source (:func:`_short_help`) without importing it.
_LAZY_COMMANDS: dict[str, str] = {
    "claims": "backtests.cli.claims",
    "data": "backtests.cli.data",
    "demo": "backtests.cli.run",
    "events": "backtests.cli.events",
    "report": "backtests.cli.report",
    "run": "backtests.cli.run",
    "study": "backtests.cli.study",
    "sweep": "backtests.cli.sweep",
}

# Modules that each define ``register(group: click.Group) -> None``; those with no entry in
# _LAZY_COMMANDS are imported (and registered) at start-up.
_COMMAND_MODULES: tuple[str, ...] = (
    "backtests.cli.run",
    "backtests.cli.data",
    "backtests.cli.events",
    "backtests.cli.study",
    "backtests.cli.sweep",
    "backtests.cli.report",
    "backtests.cli.claims",
)


class _LazyGroup(click.Group):
    """A group whose commands are imported when first used (see the module docstring)."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *_LAZY_COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in _LAZY_COMMANDS:
            _register(_LAZY_COMMANDS[cmd_name])
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            limit = formatter.width - 6 - len(name)
            if name in self.commands:
                rows.append((name, self.commands[name].get_short_help_str(limit=limit)))
            else:
                rows.append((name, click.Command(name, help=_short_help(name)).get_short_help_str(limit=limit)))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


def _short_help(command: str) -> str:
    """The docstring of the function that ``_LAZY_COMMANDS[command]``'s module decorates as
    ``command`` (``@group.command("run")``, ``@click.group("events")`` ...), read with ``ast``."""
    import ast
    import importlib.util

    spec = importlib.util.find_spec(_LAZY_COMMANDS[command])
    if spec is None or spec.origin is None:
        return ""
    with open(spec.origin, encoding="utf-8") as fh:
        tree = ast.parse(fh.read())
    for node in ast.walk(tree):
        if not isinstance(node, ast.FunctionDef):
            continue
        for deco in node.decorator_list:
            if isinstance(deco, ast.Call) and getattr(deco.func, "attr", None) in ("command", "group"):
                named = [a.value for a in deco.args[:1] if isinstance(a, ast.Constant)]
                if (named[0] if named else node.name) == command:
                    return ast.get_docstring(node) or ""
    return ""


def _register(name: str) -> None:
    try:
        module = importlib.import_module(name)
    except ModuleNotFoundError as exc:
        if exc.name == name:  # area not built yet
            return
        raise
    before = dict(cli.commands)
    module.register(cli)
    # a module imported twice (run + demo) must not register its commands twice
    for key, command in before.items():
        cli.commands[key] = command


def _version() -> str:
    """The installed distribution's version, else (a bare checkout) ``setup.cfg``'s."""
    from importlib import metadata

    try:
        return metadata.version("catalyst-bt")
    except metadata.PackageNotFoundError:
        import configparser
        from pathlib import Path

        parser = configparser.ConfigParser()
        parser.read(Path(__file__).resolve().parents[1] / "setup.cfg")
        return parser.get("metadata", "version", fallback="0+unknown")


def _print_version(ctx: click.Context) -> None:
    click.echo(f"catalyst-bt, version {_version()}")
    ctx.exit()


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--version", is_flag=True, expose_value=False, is_eager=True, help="Show the version and exit.",
              callback=lambda ctx, _param, value: _print_version(ctx) if value and not ctx.resilient_parsing else None)
def cli() -> None:
    """Backtest dated news catalysts on any declared listing (9988.HK / BABA first) against HSTECH."""


def _register_eager() -> None:
    lazy_modules = set(_LAZY_COMMANDS.values())
    for name in _COMMAND_MODULES:
        if name not in lazy_modules:
            _register(name)


_register_eager()


_DISK_FULL = {errno.ENOSPC, errno.EDQUOT}
_NOT_WRITABLE = {errno.EACCES, errno.EPERM, errno.EROFS}


def _os_error_message(exc: OSError) -> str:
    where = f" {exc.filename}" if exc.filename else ""
    if exc.errno in _DISK_FULL:
        return (f"the disk is full while writing{where} ({exc.strerror}); no half-written file was kept — free space "
                f"or pass --out on another disk, then rerun")
    if exc.errno in _NOT_WRITABLE:
        return f"cannot write{where} ({exc.strerror}); pass a writable --out folder"
    return f"input/output error on{where or ' a file'}: {exc.strerror or exc}; check the path and the disk, then rerun"


def _on_sigterm(signum: int, frame: object) -> None:  # noqa: ARG001 - signal handler signature
    raise SystemExit(128 + signum)  # unwinds through every cleanup (staging folders, temp files)


def main(argv: list[str] | None = None) -> None:
    """Entry point: run the CLI; every failure ends in one line on stderr and its exit code.

    Exit codes (:class:`~data_loaders.errors.ExitCode`): 64 usage (the command line), 2 bad
    input (config, CSV, calendar, parameters), 3 data / network (source, corrupt cache or
    store part), 4 I/O (output folder, disk full), 70 internal (a bug: set
    ``CATALYST_BT_DEBUG=1`` for the traceback), 130 interrupted.
    """
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _on_sigterm)
    try:
        cli.main(args=argv, prog_name="catalyst-bt", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("aborted", err=True)
        sys.exit(ExitCode.ABORTED)
    except KeyboardInterrupt:
        click.echo("interrupted", err=True)
        sys.exit(ExitCode.ABORTED)
    except click.exceptions.UsageError as exc:
        exc.show()
        sys.exit(ExitCode.USAGE)
    except click.ClickException as exc:
        exc.show()
        sys.exit(ExitCode.BAD_INPUT if exc.exit_code == 1 else exc.exit_code)
    except UserError as exc:
        click.echo(f"error: {exc}", err=True)
        sys.exit(int(exc.exit_code))
    except OSError as exc:
        click.echo(f"error: {_os_error_message(exc)}", err=True)
        sys.exit(ExitCode.IO)
    except MemoryError:
        click.echo("error: out of memory; the request is too large for this machine (fewer combinations, "
                   "draws or a shorter period)", err=True)
        sys.exit(ExitCode.INTERNAL)
    except Exception as exc:  # noqa: BLE001 - the last line of defence: one line, not a traceback
        if os.environ.get("CATALYST_BT_DEBUG"):
            traceback.print_exc()
        click.echo(f"internal error: {type(exc).__name__}: {exc}. This is a bug in catalyst-bt, not in your "
                   f"input; rerun with CATALYST_BT_DEBUG=1 for the traceback and report it", err=True)
        sys.exit(ExitCode.INTERNAL)
