"""``PostEventDrift``: enter at a catalyst's first-trade point, hold N sessions.

The simplest catalyst strategy: for each catalyst that concerns a traded listing, buy
(or sell short) a fixed base-currency notional in whole board lots at the schedule's
first-trade point and exit at the same price point ``hold_sessions`` sessions of that
listing later.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from events.schedule import ScheduleRow
from strategies.base import CatalystStrategy


@dataclass(frozen=True, kw_only=True, slots=True)
class PostEventDriftParams:
    """Parameters.

    Attributes
    ----------
    hold_sessions
        Sessions of the traded listing between entry and exit (>= 1).
    notional_per_trade_base
        Target size of each entry in the portfolio's base currency (> 0), rounded down
        to whole board lots.
    direction
        +1 long, -1 short.
    when_holding
        ``stack``: every catalyst is its own trade, even while an earlier one is open;
        ``skip``: ignore a catalyst while the listing is held.
    """

    hold_sessions: int = 5
    notional_per_trade_base: float = 200_000.0
    direction: int = 1
    when_holding: Literal["stack", "skip"] = "stack"

    def __post_init__(self) -> None:
        if not isinstance(self.hold_sessions, int) or self.hold_sessions < 1:
            raise ValueError(f"hold_sessions must be a whole number >= 1, got {self.hold_sessions!r}; "
                             f"e.g. hold_sessions = 5")
        if not self.notional_per_trade_base > 0:
            raise ValueError(f"notional_per_trade_base must be > 0, got {self.notional_per_trade_base!r}")
        if self.direction not in (1, -1):
            raise ValueError(f"direction must be 1 (long) or -1 (short), got {self.direction!r}")
        if self.when_holding not in ("stack", "skip"):
            raise ValueError(f"when_holding must be 'stack' or 'skip', got {self.when_holding!r}")


class PostEventDrift(CatalystStrategy):
    """Trade each catalyst at its first-trade point and hold ``hold_sessions`` sessions."""

    def on_catalyst(self, event: ScheduleRow, listing: str) -> None:
        cfg: PostEventDriftParams = self.config
        self.enter(listing, direction=cfg.direction, notional_base=cfg.notional_per_trade_base,
                   hold_sessions=cfg.hold_sessions, catalyst_id=event.catalyst_id,
                   reason=f"{event.catalyst_id} first trade ({event.fill_policy})",
                   when_holding=cfg.when_holding)
