"""Errors raised by the data layer.

Every message names *what* (file / symbol / source), *where* (row, key, session),
*the value* found and *the fix*, so a user can act on it without a traceback.
"""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    """The command line's exit codes: one per class of failure.

    ``USAGE`` (64, as sysexits' EX_USAGE) is a command line click cannot parse (unknown
    option, missing argument); ``BAD_INPUT`` a file or value the user wrote (config, CSV
    rows, calendar, parameters); ``DATA`` a source or stored file that cannot deliver
    (network, upstream, a corrupt cache or store part); ``IO`` the output side (folder not
    writable, disk full); ``INTERNAL`` a bug (printed as one line, traceback only with
    ``CATALYST_BT_DEBUG=1``). ``FINDINGS`` (1) means the command finished but reports
    problems (e.g. catalysts that could not be scheduled).
    """

    OK = 0
    FINDINGS = 1
    BAD_INPUT = 2
    DATA = 3
    IO = 4
    USAGE = 64
    INTERNAL = 70
    ABORTED = 130


class UserError(Exception):
    """An error caused by input the user can fix; the CLI prints it without a traceback.

    Every subclass's message must name the file / key / row, the bad value and the fix.
    ``exit_code`` is the class of failure (:class:`ExitCode`), ``BAD_INPUT`` by default.
    """

    exit_code: ExitCode = ExitCode.BAD_INPUT


class DataError(UserError):
    """Base class of every data-layer error a user can act on."""


class StoredDataError(DataError):
    """A stored file (cache entry, sweep store part) is unreadable or corrupt; delete it to
    have it rebuilt."""

    exit_code = ExitCode.DATA


class OutputError(UserError):
    """The output side cannot take the results: ``--out`` is a file, the filesystem root,
    not writable, or the disk filled up while writing."""

    exit_code = ExitCode.IO


class DataValidationError(DataError):
    """Price data is structurally unusable (NaN prices, high < low, duplicates ...).

    Parameters
    ----------
    origin
        Where the data came from (file path or ``source:symbol``).
    problems
        One human-readable line per problem, each naming the row and value.
    """

    def __init__(self, origin: str, problems: list[str]) -> None:
        self.origin = origin
        self.problems = list(problems)
        shown = self.problems[:20]
        more = len(self.problems) - len(shown)
        lines = [f"{origin}: {len(self.problems)} problem(s) make these prices unusable:"]
        lines += [f"  - {p}" for p in shown]
        if more:
            lines.append(f"  ... and {more} more")
        super().__init__("\n".join(lines))


class SourceUnavailableError(DataError):
    """A price source could not deliver a symbol (no such file, not in the synthetic market)."""


class NetworkSourceError(SourceUnavailableError):
    """An online source could not deliver (network down, upstream error, symbol unknown upstream)."""

    exit_code = ExitCode.DATA


class UnknownSymbolError(DataError):
    """A symbol that catalyst-bt has no listing record for."""
