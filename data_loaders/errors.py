"""Errors raised by the data layer.

Every message names *what* (file / symbol / source), *where* (row, key, session),
*the value* found and *the fix*, so a user can act on it without a traceback.
"""

from __future__ import annotations


class UserError(Exception):
    """An error caused by input the user can fix; the CLI prints it without a traceback.

    Every subclass's message must name the file / key / row, the bad value and the fix.
    """


class DataError(UserError):
    """Base class of every data-layer error a user can act on."""


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
    """A price source could not deliver a symbol (network down, symbol unknown upstream)."""


class UnknownSymbolError(DataError):
    """A symbol that catalyst-bt has no listing record for."""
