"""Terminal tables that survive narrow terminals and pipes.

Rich falls back to 80 columns when output is piped (every log file) and otherwise cuts
cells to ``2025-0…``. Here each column has a priority: while the table's narrowest
rendering is wider than the console, the least important column is left out (and the
caption says which, and where to find it); text columns (catalyst ids, parameters) wrap;
dates and numbers are never cut. The width is the console's: ``COLUMNS`` when set, else
the terminal's, else 80.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from rich import box
from rich.cells import cell_len
from rich.console import Console
from rich.table import Table


@dataclass(frozen=True, kw_only=True, slots=True)
class Col:
    """One column.

    Attributes
    ----------
    header
        Column title (short: it is never wrapped).
    priority
        0 = always shown; higher numbers are left out first when the table is too wide.
    justify
        ``left`` or ``right`` (numbers).
    wrap
        Text that may wrap onto several lines (ids, parameter lists); otherwise the cell
        is kept whole (dates, numbers).
    min_width
        For a wrapping column: the narrowest it is squeezed to before other columns are
        left out (a word longer than that is folded; default 20).
    """

    header: str
    priority: int = 0
    justify: str = "left"
    wrap: bool = False
    min_width: int = 20


_GAP = 3  # padding, rule and padding between two columns (SIMPLE_HEAD box, no edges)


def _widths(cols: Sequence[Col], rows: Sequence[Sequence[str]]) -> tuple[list[int], list[int]]:
    """Natural width of each column, and the narrowest it may get (a wrapping column: its
    longest word, at most ``min_width``, or its header; any other: its natural width)."""
    natural, narrowest = [], []
    for i, c in enumerate(cols):
        cells = [str(r[i]) for r in rows]
        nat = max([cell_len(c.header), *(cell_len(x) for x in cells)])
        longest = max((cell_len(w) for x in cells for w in x.split()), default=0)
        natural.append(nat)
        narrowest.append(min(nat, max(cell_len(c.header), min(longest, c.min_width))) if c.wrap else nat)
    return natural, narrowest


def _build(title: str | None, cols: Sequence[Col], rows: Sequence[Sequence[str]], keep: list[int],
           caption: str | None, widths: dict[int, int]) -> Table:
    table = Table(title=title, caption=caption, box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
                  caption_justify="left", title_justify="left")
    for i in keep:
        c = cols[i]
        table.add_column(c.header, justify=c.justify, no_wrap=not c.wrap,  # type: ignore[arg-type]
                         overflow="fold", width=widths.get(i))
    for row in rows:
        table.add_row(*(row[i] for i in keep))
    return table


def fit_table(console: Console, cols: Sequence[Col], rows: Sequence[Sequence[str]], *, title: str | None = None,
              caption: str | None = None, dropped_hint: str = "") -> Table:
    """A rich table of ``rows`` that fits ``console.width`` without cutting any cell.

    Parameters
    ----------
    console
        Its width is the budget.
    cols, rows
        Column specs and the cells (strings), one sequence per row in ``cols`` order.
    title, caption
        Shown above and below.
    dropped_hint
        Appended to the note naming left-out columns (e.g. "all in trades.csv").

    Returns
    -------
    Table
        Columns left out are named in the caption: ``not shown at 80 columns: ...``. When
        even the priority-0 columns cannot fit, the table is as narrow as it can be and the
        terminal wraps its lines (nothing is cut).
    """
    natural, narrowest = _widths(cols, rows)
    keep = list(range(len(cols)))
    dropped: list[int] = []

    def need(which: list[int], widths: list[int]) -> int:
        return sum(widths[i] for i in which) + _GAP * (len(which) - 1)

    for victim in sorted(keep, key=lambda i: (-cols[i].priority, -i)):  # least important, rightmost first
        if need(keep, narrowest) <= console.width or cols[victim].priority == 0:
            break
        keep.remove(victim)
        dropped.append(victim)
    widths: dict[int, int] = {}
    spare = console.width - need(keep, natural)
    if spare < 0:  # shrink the wrapping columns, widest first, down to their narrowest
        for i in sorted((i for i in keep if cols[i].wrap), key=lambda i: -natural[i]):
            cut = min(natural[i] - narrowest[i], -spare)
            widths[i] = natural[i] - cut
            spare += cut
    notes = [caption] if caption else []
    if dropped:
        names = ", ".join(cols[i].header for i in sorted(dropped))
        notes.append(f"not shown at {console.width} columns: {names}" + (f" ({dropped_hint})" if dropped_hint else ""))
    return _build(title, cols, rows, keep, "\n".join(notes) or None, widths)
