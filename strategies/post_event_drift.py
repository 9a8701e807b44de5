"""``PostEventDrift``: enter at a catalyst's first-trade point, hold N sessions.

For each catalyst that concerns a traded listing (optionally only some kinds), buy or
sell short a fixed base-currency notional in whole board lots at the schedule's
first-trade point — long, short, or in the catalyst's expected direction — and exit at
the same price point ``hold_sessions`` sessions of that listing later, or earlier at the
next open after a close that hits a stop-loss, take-profit or trailing stop.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from events.schedule import ScheduleRow
from strategies.base import CatalystStrategy, ExitRules
from strategies.params import DIRECTIONS, Direction, check_choice, check_kinds, check_positive, \
    check_positive_int, sign_of


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
        ``long``, ``short``, or ``expected`` (the catalyst's ``expected_sign``; catalysts
        without one are skipped and noted).
    kinds
        Trade only catalysts of these kinds (empty: all).
    when_holding
        ``stack``: every catalyst is its own trade, even while an earlier one is open;
        ``skip``: ignore a catalyst while the listing is held.
    stop_loss_pct, take_profit_pct, trailing_stop_pct
        Protective exits as fractions of the entry price (None: off), checked at each
        close and executed at the next open (see :class:`strategies.base.ExitRules`).
    """

    hold_sessions: int = 5
    notional_per_trade_base: float = 200_000.0
    direction: Direction = "long"
    kinds: tuple[str, ...] = ()
    when_holding: Literal["stack", "skip"] = "stack"
    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    trailing_stop_pct: float | None = None

    def __post_init__(self) -> None:
        check_positive_int("hold_sessions", self.hold_sessions)
        check_positive("notional_per_trade_base", self.notional_per_trade_base, example="200000")
        check_choice("direction", self.direction, DIRECTIONS)
        check_kinds(self)
        check_choice("when_holding", self.when_holding, ("stack", "skip"))
        self.rules  # validates the protective exits

    @property
    def rules(self) -> ExitRules:
        return ExitRules(stop_loss_pct=self.stop_loss_pct, take_profit_pct=self.take_profit_pct,
                         trailing_stop_pct=self.trailing_stop_pct)


class PostEventDrift(CatalystStrategy):
    """Trade each catalyst at its first-trade point and hold ``hold_sessions`` sessions."""

    def on_catalyst(self, event: ScheduleRow, listing: str) -> None:
        cfg: PostEventDriftParams = self.config
        catalyst = self.catalyst(event)
        if cfg.kinds and catalyst.kind not in cfg.kinds:
            return
        sign = sign_of(cfg.direction, catalyst.expected_sign)
        if sign is None:
            self.note(f"{event.catalyst_id}@{listing}: no expected_sign in the calendar; not traded")
            return
        self.enter(listing, direction=sign, notional_base=cfg.notional_per_trade_base,
                   hold_sessions=cfg.hold_sessions, catalyst_id=event.catalyst_id,
                   reason=f"{event.catalyst_id} first trade ({event.fill_policy})",
                   when_holding=cfg.when_holding, rules=cfg.rules)
