"""Tearsheet panels: one module per panel, found by file name, each rendering one HTML fragment.

How to add a panel (no edit of the core needed)
-----------------------------------------------
Add a module ``backtests/reporting/panels/<name>.py`` that defines ``PANEL``: an object with

* ``name`` -- a short id (also the section's anchor unless the fragment says otherwise);
* ``needs`` -- the file names (relative to the results folder) that must all exist for the
  panel to be asked at all, e.g. ``("cross_section.csv",)``; ``()`` = always asked;
* ``order`` -- where the section goes on the page (see :data:`CORE_ORDER` for the core
  sections' places; ties break by ``name``);
* ``render(folder) -> Fragment | None`` -- given the loaded
  :class:`~backtests.reporting.load.ResultsFolder` (``folder.path`` to read the panel's own
  files), the fragment to show, or ``None`` for nothing to show.

Build the fragment's HTML with :mod:`backtests.reporting.fragments` (``table`` gives sortable /
filterable tables, ``chart`` an interactive Plotly chart; both escape their text). A panel
that cannot use its files should say so in ``Fragment.problems`` rather than raise; an
exception is caught, shown at the top of the report as a problem, and costs that panel only.
``Fragment.flags`` are headline warnings shown under the page title (e.g. "borrowed beyond
the limit"); ``Fragment.facts`` are (label, value) pairs added to the page's context box.
"""

from __future__ import annotations

import importlib
import pkgutil
from dataclasses import dataclass
from typing import Protocol, runtime_checkable

from backtests.reporting.load import ResultsFolder

#: Places of the core sections on the page; a panel's ``order`` puts it between them.
CORE_ORDER: dict[str, int] = {
    "metrics": 10, "equity": 20, "catalysts": 30, "drawdown": 40, "risk": 45, "monthly": 50, "rolling": 60,
    "trades": 70, "event-study": 80, "sweep": 90, "provenance": 100,
}


@dataclass(frozen=True, kw_only=True, slots=True)
class Fragment:
    """What one panel shows.

    Attributes
    ----------
    anchor
        Element id of the section (``[a-z0-9-]``, unique on the page); the nav links to it.
    title
        Heading of the section and its nav label.
    html
        The section's body, trusted HTML (build it with :mod:`backtests.reporting.fragments`).
    flags
        Headline warnings shown at the top of the page, one line each.
    facts
        ``(label, value)`` pairs for the page's context box (span, config, provenance ...).
    problems
        Lines for the "files skipped or incomplete" box (what could not be used and the fix).
    """

    anchor: str
    title: str
    html: str = ""
    flags: tuple[str, ...] = ()
    facts: tuple[tuple[str, str], ...] = ()
    problems: tuple[str, ...] = ()


@runtime_checkable
class Panel(Protocol):
    """A tearsheet panel (see the module docstring)."""

    name: str
    needs: tuple[str, ...]
    order: int

    def render(self, folder: ResultsFolder) -> Fragment | None:
        """The fragment to show for ``folder``, or ``None``."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Placed:
    """A rendered panel with its place on the page."""

    order: int
    name: str
    fragment: Fragment


def discover() -> tuple[Panel, ...]:
    """Every ``PANEL`` of the modules in this package, sorted by ``(order, name)``.

    Raises
    ------
    TypeError
        A module of this package has no ``PANEL`` or it does not follow :class:`Panel`
        (a programming error: the message names the module).
    """
    panels = []
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        panel = getattr(module, "PANEL", None)
        if not isinstance(panel, Panel) or not isinstance(panel.needs, tuple) or not isinstance(panel.order, int):
            raise TypeError(f"{module.__name__} must define PANEL with name (str), needs (tuple of file names), "
                            f"order (int) and render(folder) -> Fragment | None; found {panel!r}")
        panels.append(panel)
    return tuple(sorted(panels, key=lambda p: (p.order, p.name)))


def render_panels(folder: ResultsFolder, panels: tuple[Panel, ...] | None = None) -> tuple[list[Placed], list[str]]:
    """Render every panel whose files exist in ``folder``.

    Returns
    -------
    (placed, problems)
        The fragments in page order, and one line per panel that failed (its name, the error
        and that the rest of the report is unaffected).
    """
    placed: list[Placed] = []
    problems: list[str] = []
    for panel in discover() if panels is None else panels:
        if not all((folder.path / name).exists() for name in panel.needs):
            continue
        try:
            fragment = panel.render(folder)
        except Exception as exc:  # noqa: BLE001 - one broken panel must not cost the report
            problems.append(f"panel {panel.name!r} failed ({type(exc).__name__}: {exc}); the rest of the report "
                            f"is unaffected — report this as a bug with the results folder")
            continue
        if fragment is not None:
            placed.append(Placed(order=panel.order, name=panel.name, fragment=fragment))
    return placed, problems
