"""Strategy names users write in config files -> (strategy class, parameter class)."""

from __future__ import annotations

from dataclasses import dataclass

from strategies.base import CatalystStrategy
from strategies.post_event_drift import PostEventDrift, PostEventDriftParams


@dataclass(frozen=True, kw_only=True, slots=True)
class StrategyEntry:
    """A registered strategy: its class, its frozen parameter type and a one-line summary."""

    name: str
    strategy: type[CatalystStrategy]
    params: type
    summary: str


STRATEGIES: dict[str, StrategyEntry] = {
    e.name: e for e in (
        StrategyEntry(name="post_event_drift", strategy=PostEventDrift, params=PostEventDriftParams,
                      summary="enter at each catalyst's first-trade point, hold N sessions"),
    )
}
