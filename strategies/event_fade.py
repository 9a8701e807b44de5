"""``EventFade``: bet against an outsized day-0 move.

After a catalyst's reaction session (day 0) has closed, compare the listing's day-0
return with the benchmark's (market-adjusted abnormal return
``AR = r_listing - r_benchmark``); when ``|AR|`` exceeds ``threshold`` take the opposite
side at the listing's next open and hold ``hold_sessions`` sessions.

Timing: the decision uses day 0's close, so the earliest entry is the open after it,
and never before the catalyst's first-trade point. The benchmark's day-0 return is that
of its session with day 0's date when it has closed by then (for BABA that is Hong
Kong's session of the same date, which closes before New York opens), else its last
completed session.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from events.schedule import ScheduleRow
from strategies.base import CatalystStrategy, ExitRules
from strategies.params import check_kinds, check_positive, check_positive_int


@dataclass(frozen=True, kw_only=True, slots=True)
class EventFadeParams:
    """Parameters.

    Attributes
    ----------
    threshold
        Minimum absolute day-0 abnormal return to fade (fraction; 0.03 = 3%).
    hold_sessions
        Sessions to hold the fade (>= 1), exiting at the open.
    notional_per_trade_base
        Target size in base currency, whole board lots.
    kinds
        Only catalysts of these kinds (empty: all).
    stop_loss_pct
        Optional protective stop (fraction of entry; checked at closes, exits next open).
    """

    threshold: float = 0.03
    hold_sessions: int = 3
    notional_per_trade_base: float = 200_000.0
    kinds: tuple[str, ...] = ()
    stop_loss_pct: float | None = None

    def __post_init__(self) -> None:
        check_positive("threshold", self.threshold, example="0.03")
        check_positive_int("hold_sessions", self.hold_sessions, example=3)
        check_positive("notional_per_trade_base", self.notional_per_trade_base, example="200000")
        check_kinds(self)
        ExitRules(stop_loss_pct=self.stop_loss_pct)


def day0_abnormal_return(listing_closes: pd.Series, benchmark_closes: pd.Series,
                         day0: pd.Timestamp) -> float | None:
    """Market-adjusted return of ``day0`` (None when day 0 or its previous close is unknown).

    Both series hold completed sessions only (session-indexed closes).
    """
    if day0 not in listing_closes.index:
        return None
    i = int(listing_closes.index.get_loc(day0))
    if i == 0:
        return None
    r_listing = float(listing_closes.iloc[i] / listing_closes.iloc[i - 1] - 1.0)
    bench = benchmark_closes[benchmark_closes.index <= day0]
    if len(bench) < 2:
        return None
    r_bench = float(bench.iloc[-1] / bench.iloc[-2] - 1.0)
    return r_listing - r_bench


class EventFade(CatalystStrategy):
    """Fade day-0 abnormal moves larger than ``threshold``."""

    def __init__(self) -> None:
        super().__init__()
        self._waiting: list[ScheduleRow] = []  # rows whose day 0 has not closed yet

    def on_catalyst(self, event: ScheduleRow, listing: str) -> None:
        cfg: EventFadeParams = self.config
        if cfg.kinds and self.catalyst(event).kind not in cfg.kinds:
            return
        self._waiting.append(event)
        if event.first_trade_point == "open":
            self._consider(listing)

    def on_session_open(self, listing: str, session: pd.Timestamp) -> None:
        self._consider(listing)

    def _consider(self, listing: str) -> None:
        cfg: EventFadeParams = self.config
        for row in [r for r in self._waiting if r.listing == listing]:
            closes = self.closes(listing)
            if len(closes) == 0 or closes.index[-1] < row.reaction_session:
                continue  # day 0 has not closed yet
            self._waiting.remove(row)
            bench = self.closes(self.benchmark_symbol)
            ar = day0_abnormal_return(closes, bench, row.reaction_session)
            if ar is None:
                self.note(f"{row.catalyst_id}@{listing}: day-0 return unknown (no earlier close); not traded")
                continue
            if abs(ar) <= cfg.threshold:
                continue
            self.enter(listing, direction=-1 if ar > 0 else 1, notional_base=cfg.notional_per_trade_base,
                       hold_sessions=cfg.hold_sessions, catalyst_id=row.catalyst_id,
                       rules=ExitRules(stop_loss_pct=cfg.stop_loss_pct),
                       reason=f"fade day-0 abnormal return {ar:+.2%} on {row.reaction_session:%Y-%m-%d}")
