"""``CatalystStrategy``: the one place strategies meet backtrader.

Subclasses implement :meth:`CatalystStrategy.on_catalyst` (and optionally
:meth:`on_session_close`) and act through :meth:`enter` / :meth:`exit`; they never touch
backtrader lines, ``ago`` indexing or orders.

Timing contract (bars are sessions stamped at their close, so HK and US bars interleave in
true time order):

* ``on_catalyst(event, listing)`` is called exactly at ``event.first_trade_utc``: at the
  *open* of the first-trade session (policy ``next_open``; backtrader's cheat-on-open
  phase, before that bar's high, low or close exist for the strategy) or just before its
  *close* (``same_close``; a market-on-close order).
* What a strategy can see at that moment: completed sessions only, plus the current
  session's open when it acts at the close. :meth:`closes` enforces it.
* Orders sized by the last price known at the decision (previous close at an open, the
  session's open at a close), in whole board lots, and filled at that session's open or
  close.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import backtrader as bt
import pandas as pd

from data_loaders.schema import DailyBars
from events.schedule import ScheduleRow

Phase = Literal["open", "close"]


@dataclass(frozen=True, kw_only=True, slots=True)
class OrderIntent:
    """What the strategy asked for, kept with the backtrader order until it fills."""

    listing: str
    side: Literal["buy", "sell"]
    quantity: int
    session: pd.Timestamp
    point: Phase
    instant_utc: pd.Timestamp
    purpose: Literal["entry", "exit"]
    trade_key: str
    catalyst_id: str | None
    reason: str


class ExecutionContext(Protocol):
    """What the engine provides to the strategy base (implemented in ``backtests.engine``)."""

    def bars(self, listing: str) -> DailyBars: ...
    def open_utc(self, listing: str, index: int) -> pd.Timestamp: ...
    def events_at(self, listing: str, session: pd.Timestamp, point: Phase) -> list[ScheduleRow]: ...
    def size_units(self, listing: str, *, notional_base: float, ref_price: float,
                   instant_utc: pd.Timestamp) -> int: ...
    def on_filled(self, intent: OrderIntent, *, price: float) -> None: ...
    def after_close(self, listing: str, session: pd.Timestamp, instant_utc: pd.Timestamp,
                    marks: dict[str, float]) -> None: ...
    def note(self, message: str) -> None: ...


@dataclass(kw_only=True, slots=True)
class _Trade:
    key: str
    listing: str
    units: int  # signed
    entry_index: int
    point: Phase
    hold_sessions: int | None
    catalyst_id: str | None
    exiting: bool = False


class CatalystStrategy(bt.Strategy):
    """Base class for catalyst strategies (see the module docstring for the timing contract).

    The engine passes ``ctx`` (an :class:`ExecutionContext`) and ``config`` (the
    strategy's frozen parameter object) as backtrader params; subclasses read
    ``self.config``.
    """

    params = (("ctx", None), ("config", None))

    # ------------------------------------------------------------------ public hooks
    def on_catalyst(self, event: ScheduleRow, listing: str) -> None:
        """Called once per schedule row at its first-trade instant. Override."""

    def on_session_close(self, listing: str, session: pd.Timestamp) -> None:
        """Called after each completed session of ``listing``. Override if needed."""

    # ------------------------------------------------------------------ public queries
    @property
    def config(self):  # noqa: ANN201 - the subclass's own parameter type
        return self.p.config

    @property
    def now_utc(self) -> pd.Timestamp:
        """The instant the strategy is deciding at."""
        return self._now_utc

    def position_units(self, listing: str) -> int:
        """Units held (negative when short)."""
        return self._units.get(listing, 0)

    def closes(self, listing: str) -> pd.Series:
        """Closes of ``listing``'s sessions completed before :attr:`now_utc` (session-indexed)."""
        frame = self.p.ctx.bars(listing).frame
        return frame["close"].iloc[: self._completed(listing)]

    def current_open(self, listing: str) -> float | None:
        """Open of ``listing``'s current session if it has opened by now, else None."""
        idx = self._index.get(listing)
        if idx is None or self._phase is None:
            return None
        return float(self.p.ctx.bars(listing).frame["open"].iloc[idx])

    # ------------------------------------------------------------------ public actions
    def enter(self, listing: str, *, direction: int = 1, notional_base: float,
              hold_sessions: int | None = None, catalyst_id: str | None = None,
              reason: str = "", when_holding: Literal["stack", "skip"] = "stack") -> bool:
        """Open a new trade in ``listing`` now (at the current price point).

        Each entry is its own trade (one per catalyst and listing), so overlapping
        catalysts hold overlapping trades; the position is their sum.

        Parameters
        ----------
        direction
            +1 long, -1 short.
        notional_base
            Target value in base currency; rounded down to whole board lots.
        hold_sessions
            Exit automatically at the same price point this many sessions of the listing
            later (None: hold until :meth:`exit` or the end of the data).
        when_holding
            ``stack`` (default) adds a trade beside open ones; ``skip`` declines while any
            trade in ``listing`` stays open past this instant.

        Returns
        -------
        bool
            False (and a note in the run log) when nothing was ordered.
        """
        if direction not in (1, -1):
            raise ValueError(f"direction must be +1 or -1, got {direction}")
        key = f"{catalyst_id or 'manual'}@{listing}"
        stamp = f"{self._now_utc:%Y-%m-%d %H:%M}Z {listing}: skip entry for {catalyst_id}"
        if key in self._open_trades:
            self.p.ctx.note(f"{stamp}: a trade for it is already open")
            return False
        staying = [t for t in self._open_trades.values() if t.listing == listing and not t.exiting]
        if when_holding == "skip" and staying:
            self.p.ctx.note(f"{stamp}: already in a position")
            return False
        ref = self._reference_price(listing)
        if ref is None:
            self.p.ctx.note(f"{stamp}: no earlier price to size from")
            return False
        units = self.p.ctx.size_units(listing, notional_base=notional_base, ref_price=ref,
                                      instant_utc=self._now_utc)
        if units <= 0:
            self.p.ctx.note(f"{stamp}: {notional_base:,.0f} base is less than one board lot")
            return False
        self._open_trades[key] = _Trade(key=key, listing=listing, units=units * direction,
                                   entry_index=self._index[listing], point=self._phase,
                                   hold_sessions=hold_sessions, catalyst_id=catalyst_id)
        self._submit(self._open_trades[key], "buy" if direction > 0 else "sell", units, "entry", reason)
        return True

    def exit(self, listing: str, *, reason: str = "signal") -> bool:
        """Close every open trade in ``listing`` now. False when there is none."""
        trades = [t for t in self._open_trades.values() if t.listing == listing and not t.exiting]
        for trade in trades:
            self._exit_trade(trade, reason)
        return bool(trades)

    def _exit_trade(self, trade: _Trade, reason: str) -> None:
        trade.exiting = True
        self._submit(trade, "sell" if trade.units > 0 else "buy", abs(trade.units), "exit", reason)

    # ------------------------------------------------------------------ backtrader plumbing
    def __init__(self) -> None:
        self._by_name = {d._name: d for d in self.datas}
        self._seen: dict[str, int] = {name: 0 for name in self._by_name}
        self._index: dict[str, int] = {}
        self._in_progress: set[str] = set()  # sessions opened but not yet closed
        self._units: dict[str, int] = {}      # filled units per listing
        self._open_trades: dict[str, _Trade] = {}  # open trades by key, until their exit fills
        self._intents: dict[int, OrderIntent] = {}
        self._phase: Phase | None = None
        self._now_utc = pd.Timestamp("1970-01-01", tz="UTC")

    def _completed(self, listing: str) -> int:
        """Number of ``listing``'s sessions whose close is before now."""
        idx = self._index.get(listing)
        if idx is None:
            return 0
        return idx if listing in self._in_progress else idx + 1

    def _reference_price(self, listing: str) -> float | None:
        frame = self.p.ctx.bars(listing).frame
        idx = self._index[listing]
        if self._phase == "close":
            return float(frame["open"].iloc[idx])
        return float(frame["close"].iloc[idx - 1]) if idx > 0 else None

    def _submit(self, trade: _Trade, side: Literal["buy", "sell"], units: int, purpose: str,
                reason: str) -> None:
        listing = trade.listing
        # Orders made at an open fill at that bar's open (cheat-on-open, coc off); orders
        # made at a close fill at that bar's close (cheat-on-close): see the engine.
        order = (self.buy if side == "buy" else self.sell)(data=self._by_name[listing], size=units,
                                                           coc=self._phase == "close")
        frame = self.p.ctx.bars(listing).frame
        intent = OrderIntent(
            listing=listing, side=side, quantity=units, session=frame.index[self._index[listing]],
            point=self._phase, instant_utc=self._now_utc, purpose=purpose, trade_key=trade.key,
            catalyst_id=trade.catalyst_id, reason=reason)
        self._intents[order.ref] = intent
        if self._phase == "close":
            # backtrader books a cheat-on-close fill one step later, at this bar's close;
            # book it now so the equity marked at this close already holds it.
            self._apply_fill(intent, float(frame["close"].iloc[self._index[listing]]))

    def _apply_fill(self, intent: OrderIntent, price: float) -> None:
        signed = intent.quantity if intent.side == "buy" else -intent.quantity
        self._units[intent.listing] = self._units.get(intent.listing, 0) + signed
        if intent.purpose == "exit":
            del self._open_trades[intent.trade_key]
        self.p.ctx.on_filled(intent, price=price)

    def notify_order(self, order: bt.Order) -> None:
        if order.status not in (order.Completed, order.Canceled, order.Margin, order.Rejected):
            return
        intent = self._intents.pop(order.ref)
        if order.status != order.Completed:
            # the engine gives the broker unlimited cash, so this means a bug, not a limit
            raise RuntimeError(f"{intent.listing}: {intent.purpose} order {order.getstatusname()}")
        if intent.point == "close":
            return  # booked when submitted (see _submit)
        self._apply_fill(intent, float(order.executed.price))

    def _session_step(self, listing: str) -> None:
        session = self.p.ctx.bars(listing).frame.index[self._index[listing]]
        for trade in [t for t in self._open_trades.values() if t.listing == listing]:
            if (not trade.exiting and trade.hold_sessions is not None and trade.point == self._phase
                    and self._index[listing] - trade.entry_index >= trade.hold_sessions):
                self._exit_trade(trade, f"held {trade.hold_sessions} sessions")
        for event in self.p.ctx.events_at(listing, session, self._phase):
            self.on_catalyst(event, listing)

    def next_open(self) -> None:
        self._phase = "open"
        advanced = [name for name, d in self._by_name.items() if len(d) > self._seen[name]]
        for name in advanced:
            self._index[name] = len(self._by_name[name]) - 1
            self._in_progress.add(name)
        for name in advanced:
            self._now_utc = self.p.ctx.open_utc(name, self._index[name])
            self._session_step(name)

    def prenext_open(self) -> None:  # datas with no bar yet are simply not advanced
        self.next_open()

    def nextstart_open(self) -> None:
        self.next_open()

    def prenext(self) -> None:
        self.next()

    def nextstart(self) -> None:
        self.next()

    def next(self) -> None:
        self._phase = "close"
        for name in sorted(self._in_progress):
            frame = self.p.ctx.bars(name).frame
            idx = self._index[name]
            self._now_utc = frame["close_utc"].iloc[idx]
            self._session_step(name)
            self._in_progress.discard(name)
            self._seen[name] = idx + 1
            self.on_session_close(name, frame.index[idx])
            marks = {sym: float(self.p.ctx.bars(sym).frame["close"].iloc[self._completed(sym) - 1])
                     for sym, units in self._units.items() if units}
            self.p.ctx.after_close(name, frame.index[idx], self._now_utc, marks)
