"""``PreEventRunUp``: position ahead of a *scheduled* catalyst (earnings), exit at or after it.

A scheduled catalyst's date is public in advance, so its reaction session (day 0) can be
known before it happens; the strategy enters at the open ``enter_sessions_before``
sessions of the listing before day 0 and exits ``exit_sessions_after`` sessions after day
0 at ``exit_point`` (``close`` of day 0 by default: holding through the announcement).
Unscheduled catalysts are ignored: trading before them would be look-ahead.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from events.schedule import ScheduleRow
from strategies.base import CatalystStrategy
from strategies.params import DIRECTIONS, Direction, check_choice, check_kinds, check_positive, \
    check_positive_int, sign_of


@dataclass(frozen=True, kw_only=True, slots=True)
class PreEventRunUpParams:
    """Parameters.

    Attributes
    ----------
    enter_sessions_before
        Enter at the open this many sessions of the listing before day 0 (>= 1).
    exit_sessions_after
        Exit this many sessions after day 0 (>= 0) ...
    exit_point
        ... at its ``open`` or ``close`` (``exit_sessions_after = 0`` with ``open`` would exit
        before the reaction; it is refused).
    notional_per_trade_base
        Target size in base currency, whole board lots.
    direction
        ``long``, ``short`` or ``expected`` (the catalyst's prior; skipped without one).
    kinds
        Only scheduled catalysts of these kinds (empty: all scheduled ones).
    """

    enter_sessions_before: int = 3
    exit_sessions_after: int = 0
    exit_point: Literal["open", "close"] = "close"
    notional_per_trade_base: float = 200_000.0
    direction: Direction = "long"
    kinds: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_positive_int("enter_sessions_before", self.enter_sessions_before, example=3)
        check_positive_int("exit_sessions_after", self.exit_sessions_after, minimum=0, example=0)
        check_choice("exit_point", self.exit_point, ("open", "close"))
        if self.exit_sessions_after == 0 and self.exit_point == "open":
            raise ValueError("exit_sessions_after = 0 with exit_point = 'open' exits before day 0's reaction; "
                             "use exit_point = 'close' or exit_sessions_after >= 1")
        check_positive("notional_per_trade_base", self.notional_per_trade_base, example="200000")
        check_choice("direction", self.direction, DIRECTIONS)
        check_kinds(self)


class PreEventRunUp(CatalystStrategy):
    """Hold scheduled catalysts from k sessions before day 0 through the announcement."""

    def __init__(self) -> None:
        super().__init__()
        self._entries: dict[str, dict[int, list[ScheduleRow]]] | None = None

    def on_session_open(self, listing: str, session: pd.Timestamp) -> None:
        cfg: PreEventRunUpParams = self.config
        due = self._entry_plan().get(listing, {}).get(self.current_session_index(listing), [])
        for row in due:
            sign = sign_of(cfg.direction, self.catalyst(row).expected_sign)
            if sign is None:
                self.note(f"{row.catalyst_id}@{listing}: no expected_sign in the calendar; not traded")
                continue
            self.enter(listing, direction=sign, notional_base=cfg.notional_per_trade_base,
                       hold_sessions=cfg.enter_sessions_before + cfg.exit_sessions_after,
                       exit_point=cfg.exit_point, catalyst_id=row.catalyst_id,
                       reason=f"{cfg.enter_sessions_before} sessions before scheduled {row.catalyst_id}")

    def _entry_plan(self) -> dict[str, dict[int, list[ScheduleRow]]]:
        """Traded listing -> session index to enter at -> scheduled rows, built once: the dates of
        scheduled catalysts and the exchange sessions are both known in advance."""
        if self._entries is None:
            cfg: PreEventRunUpParams = self.config
            self._entries = {}
            for cat in self.catalysts():
                if not cat.scheduled or (cfg.kinds and cat.kind not in cfg.kinds):
                    continue
                for row in self.schedule_rows(cat.id):
                    sessions = self.sessions(row.listing)
                    if row.reaction_session not in sessions:
                        continue
                    at = int(sessions.get_loc(row.reaction_session)) - cfg.enter_sessions_before
                    self._entries.setdefault(row.listing, {}).setdefault(at, []).append(row)
        return self._entries
