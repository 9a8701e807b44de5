"""``EventFade``: bet against an outsized day-0 move.

After a catalyst's reaction session (day 0) has closed, compare the listing's day-0
return with the benchmark's (market-adjusted abnormal return
``AR = r_listing - r_benchmark``); when ``|AR|`` exceeds ``threshold`` take the opposite
side at the listing's next open and hold ``hold_sessions`` sessions.

Timing: the decision uses day 0's close, so the earliest entry is the open after it,
and never before the catalyst's first-trade point. The benchmark's day-0 return is that
of its session with day 0's date when it has closed by then (for BABA that is Hong
Kong's session of the same date, which closes before New York opens), else its last
completed session. Each return spans exactly one session of its own calendar: a missing
row (e.g. 9618.HK 2025-01-28) makes the decision unmeasurable, and it is skipped with a
note instead of fading a two-session move against a one-session benchmark move. The AR
and the threshold are written to ``trades.csv`` (``signal_value``, ``signal_threshold``).
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from events.schedule import ScheduleRow
from strategies.aligned import one_session_return
from strategies.base import CatalystStrategy, ExitRules, Signal
from strategies.params import check_fraction, check_kinds, check_positive, check_positive_int


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
        check_fraction("threshold", self.threshold, example="0.03")
        check_positive_int("hold_sessions", self.hold_sessions, example=3)
        check_positive("notional_per_trade_base", self.notional_per_trade_base, example="200000")
        check_kinds(self)
        ExitRules(stop_loss_pct=self.stop_loss_pct)


@dataclass(frozen=True, kw_only=True, slots=True)
class Day0Move:
    """A day-0 abnormal return and what it was built from (``ar`` None: ``reason`` says why)."""

    ar: float | None
    listing_return: float | None = None
    benchmark_return: float | None = None
    benchmark_session: pd.Timestamp | None = None
    reason: str = ""


def day0_abnormal_return(listing: str, listing_closes: pd.Series, benchmark: str, benchmark_closes: pd.Series,
                         day0: pd.Timestamp) -> Day0Move:
    """Market-adjusted return of ``day0``: the listing's one-session return minus the
    benchmark's one-session return of its last session on or before day 0's date.

    Both returns must span exactly one session of their own calendar (a missing row makes a
    multi-session return, which is refused with the reason, never compared with a one-session
    benchmark move). Both series hold completed sessions only (session-indexed closes).
    """
    mine = one_session_return(listing, listing_closes, day0)
    if mine.value is None:
        return Day0Move(ar=None, reason=mine.reason)
    bench_idx = benchmark_closes.index[benchmark_closes.index <= day0]
    if len(bench_idx) == 0:
        return Day0Move(ar=None, listing_return=mine.value, reason=f"{benchmark} has no close by {day0:%Y-%m-%d}")
    theirs = one_session_return(benchmark, benchmark_closes, bench_idx[-1])
    if theirs.value is None:
        return Day0Move(ar=None, listing_return=mine.value, reason=theirs.reason)
    return Day0Move(ar=mine.value - theirs.value, listing_return=mine.value, benchmark_return=theirs.value,
                    benchmark_session=pd.Timestamp(bench_idx[-1]))


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
            move = day0_abnormal_return(listing, closes, self.benchmark_symbol, bench, row.reaction_session)
            if move.ar is None:
                self.note(f"{row.catalyst_id}@{listing}: day-0 abnormal return on {row.reaction_session:%Y-%m-%d} "
                          f"not measurable ({move.reason}); not traded")
                continue
            ar = move.ar
            if abs(ar) <= cfg.threshold:
                continue
            self.enter(listing, direction=-1 if ar > 0 else 1, notional_base=cfg.notional_per_trade_base,
                       hold_sessions=cfg.hold_sessions, catalyst_id=row.catalyst_id,
                       rules=ExitRules(stop_loss_pct=cfg.stop_loss_pct),
                       signal=Signal(name="day0_abnormal_return", value=ar, threshold=cfg.threshold),
                       reason=(f"fade day-0 abnormal return {ar:+.2%} on {row.reaction_session:%Y-%m-%d} "
                               f"({listing} {move.listing_return:+.2%} - {self.benchmark_symbol} "
                               f"{move.benchmark_return:+.2%} on {move.benchmark_session:%Y-%m-%d}; "
                               f"threshold {cfg.threshold:.2%})"))
