"""What a study config asks of the cross-section: every catalyst that reaches two or more
issuers, and ``[events] narrative`` over its basket (see :mod:`.cross_section_study`)."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence

from backtests.config import RunConfig
from backtests.event_study.cross_section_study import CrossSectionResult, Scope, run_cross_section
from backtests.event_study.spec import EventStudySpec
from data_loaders.registry import active_registry
from data_loaders.schema import DailyBars
from events.calendar_file import CatalystCalendar
from events.narrative import narrative_by_id
from events.schedule import EventSchedule


def study_cross_section(cfg: RunConfig, calendar: CatalystCalendar, listings: Sequence[str], spec: EventStudySpec,
                        prices: Mapping[str, DailyBars], benchmarks: Mapping[str, DailyBars],
                        schedule: EventSchedule) -> CrossSectionResult:
    """The cross-section of a study (run inside the config's registry).

    Basket members outside the studied ``listings`` are left out and named in the
    problems; the narrative id was checked when the schedule was built
    (:func:`backtests.runner.narrative_catalysts`).
    """
    reg = active_registry()
    scopes: list[Scope] = []
    outside: list[str] = []
    if cfg.events.narrative is not None:
        narrative = narrative_by_id(calendar.narratives, cfg.events.narrative, cfg.events.calendar)
        members = reg.expand(narrative.basket)
        scopes.append(Scope(kind="narrative", id=narrative.id, catalysts=narrative.catalysts,
                            listings=tuple(s for s in members if s in listings)))
        outside = [s for s in members if s not in listings]
    cross = run_cross_section(prices, benchmarks, schedule, spec, issuer_of=reg.issuer_of, narratives=scopes)
    if outside:
        note = (f"narrative {cfg.events.narrative}: basket member(s) {', '.join(outside)} not in [study] listings; "
                f"left out (add them to [study] listings to study them)")
        cross = dataclasses.replace(cross, problems=(note, *cross.problems))
    return cross
