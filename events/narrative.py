"""Narratives: a named set of catalysts about a basket of listings ("DeepSeek re-rated Chinese tech").

In a calendar file (validated with the catalysts, see :mod:`events.calendar_file`)::

    [[narrative]]
    id = "china_tech_rerating_2025"        # slug: a-z, 0-9, _
    title = "DeepSeek / Qwen re-rate Chinese tech"   # optional, one line
    catalysts = ["deepseek_r1", "qwen25max"]          # ids of [[catalyst]] tables in the file
    basket = "@china_internet"              # a registry target: @basket, @issuer or a listing
    note = "why these catalysts"            # optional

A narrative *extends the reach* of its catalysts to its basket: in a study or a run that
uses it, each of its catalysts is scheduled on every listing of the basket as well as on
the catalyst's own ``listings`` (:func:`with_narrative_reach` adds the basket's target; the
schedule expands it with the listing registry, once, when the study or run is assembled).
"""

from __future__ import annotations

import dataclasses
import difflib
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from data_loaders.errors import UserError
from events.catalyst import Catalyst

NARRATIVE_KEYS: tuple[str, ...] = ("id", "title", "catalysts", "basket", "note")
_ID_RE = re.compile(r"^[a-z0-9][a-z0-9_]*$")

#: ``(index, line, label, key, value, message, fix)`` -> a problem object of the caller's type.
ProblemFactory = Callable[[int, int | None, str, str | None, object, str, str], Any]


@dataclass(frozen=True, kw_only=True, slots=True)
class Narrative:
    """A named set of catalysts about a basket.

    Attributes
    ----------
    id
        Unique slug among the file's narratives.
    catalysts
        Ids of catalysts in the same calendar, in file order of the list.
    basket
        Registry target the narrative is about (``"@china_internet"``).
    title, note
        Free text.
    """

    id: str
    catalysts: tuple[str, ...]
    basket: str
    title: str = ""
    note: str = ""


def _near(word: str, choices: Sequence[str]) -> str:
    near = difflib.get_close_matches(word, list(choices), n=3, cutoff=0.6)
    return f" (did you mean {' or '.join(repr(n) for n in near)}?)" if near else ""


def parse_narratives(entries: object, catalyst_ids: Sequence[str], *, lines: Sequence[int],
                     expand: Callable[[str], tuple[str, ...]], problem: ProblemFactory
                     ) -> tuple[tuple[Narrative, ...], list[Any]]:
    """Validate the ``[[narrative]]`` tables of a calendar document.

    Parameters
    ----------
    entries
        ``doc.get("narrative", [])``.
    catalyst_ids
        Ids of the file's catalysts (narratives may only name those).
    lines
        Line of each ``[[narrative]]`` header in the file (for messages).
    expand
        The registry's target expansion; raises a :class:`UserError` (or ``KeyError`` /
        ``ValueError``) for an unknown target, whose message is passed on.
    problem
        Builds one problem record (see :data:`ProblemFactory`).

    Returns
    -------
    (narratives, problems)
        Narratives with no problem, and every problem found (one per mistake).
    """
    problems: list[Any] = []
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        return (), [problem(0, None, "", "narrative", entries, "'narrative' must be an array of tables",
                            "write each narrative as a [[narrative]] table")]
    out: list[Narrative] = []
    seen: dict[str, int] = {}
    for i, raw in enumerate(entries, start=1):
        line = lines[i - 1] if i - 1 < len(lines) else None
        nid = raw.get("id")
        label = f"narrative #{i}" + (f" {nid!r}" if isinstance(nid, str) and nid else "")
        before = len(problems)

        def add(key: str | None, value: object, message: str, fix: str) -> None:
            problems.append(problem(i, line, label, key, value, message, fix))  # noqa: B023 - used at once

        for key in raw:
            if key not in NARRATIVE_KEYS:
                add(key, raw[key], "unknown key", f"remove or rename it{_near(key, NARRATIVE_KEYS)}")
        for key in ("id", "catalysts", "basket"):
            if key not in raw:
                add(key, None, "missing required key", f"add {key} = ... to this [[narrative]] table")
        if "id" in raw:
            if not isinstance(nid, str) or not _ID_RE.match(nid):
                add("id", nid, "ids are lower-case slugs", "use a-z, 0-9 and _ only, e.g. 'china_tech_2025'")
            elif nid in seen:
                add("id", nid, f"duplicate id: narrative #{seen[nid]} already uses it",
                    "give every narrative a unique id")
            else:
                seen[nid] = i
        for key in ("title", "note"):
            if key in raw and not isinstance(raw[key], str):
                add(key, raw[key], "must be a string", f"quote the {key}")
        cats = raw.get("catalysts")
        if "catalysts" in raw:
            if not isinstance(cats, list) or not cats or not all(isinstance(c, str) for c in cats):
                add("catalysts", cats, "must be a non-empty list of catalyst ids",
                    'write catalysts = ["deepseek_r1", "qwen25max"]')
            else:
                for cid in cats:
                    if cid not in catalyst_ids:
                        add("catalysts", cid, "no [[catalyst]] with this id in the file",
                            f"name a catalyst of this calendar{_near(cid, catalyst_ids)}")
                if len(set(cats)) != len(cats):
                    add("catalysts", cats, "a catalyst appears twice", "name each catalyst once")
        basket = raw.get("basket")
        if "basket" in raw:
            if not isinstance(basket, str) or not basket.strip():
                add("basket", basket, "must be a registry target", 'write basket = "@china_internet"')
            else:
                try:
                    expand(basket)
                except (KeyError, ValueError, UserError) as exc:
                    add("basket", basket, str(exc).strip("'\""), "name a basket, issuer or listing of the registry")
        if len(problems) == before:
            out.append(Narrative(id=nid, catalysts=tuple(cats), basket=basket.strip(),
                                 title=str(raw.get("title", "")), note=str(raw.get("note", ""))))
    return tuple(out), problems


def with_narrative_reach(catalysts: Iterable[Catalyst], narratives: Iterable[Narrative]) -> tuple[Catalyst, ...]:
    """The catalysts with each narrative's basket target (``"@china_internet"``) added to its
    catalysts' ``listings``; the schedule expands it with the registry."""
    extra: dict[str, list[str]] = {}
    for n in narratives:
        for cid in n.catalysts:
            extra.setdefault(cid, []).append(n.basket)
    return tuple(dataclasses.replace(c, listings=tuple(dict.fromkeys([*c.listings, *extra[c.id]])))
                 if c.id in extra else c for c in catalysts)


def narrative_by_id(narratives: Mapping[str, Narrative] | Sequence[Narrative], narrative_id: str,
                    origin: str) -> Narrative:
    """The narrative ``narrative_id``; ``KeyError`` naming the known ones (did you mean) otherwise."""
    by_id = narratives if isinstance(narratives, Mapping) else {n.id: n for n in narratives}
    if narrative_id not in by_id:
        known = ", ".join(by_id) or "none"
        raise KeyError(f"no narrative {narrative_id!r} in {origin}{_near(narrative_id, list(by_id))}; "
                       f"known: {known}")
    return by_id[narrative_id]
