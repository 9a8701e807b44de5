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
* Protective exits (stop-loss, take-profit, trailing stop) are checked on each completed
  close of the listing and executed at its next open: with daily bars an intraday stop
  level cannot be known to have been touched before the close.
* Reference series (the benchmark) are fed like listings, so :meth:`closes` shows them
  with the same completed-sessions rule; an index can be traded only as a proxy (hedges,
  reference holdings; see ``backtests.costs.IndexProxyCosts``).
* An optional :class:`HedgeSpec` hedges every trade with the benchmark index sized by a
  rolling beta; hedge orders go in at the index's first open at or after the decision.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal, Protocol

import backtrader as bt
import numpy as np
import pandas as pd

from data_loaders.schema import DailyBars
from events.catalyst import Catalyst
from events.schedule import ScheduleRow
from strategies.aligned import one_session_returns
from strategies.params import check_fraction

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
    role: Literal["trade", "hedge"] = "trade"
    signal: Signal | None = None


@dataclass(frozen=True, kw_only=True, slots=True)
class Signal:
    """The number a strategy decided on, written to ``trades.csv`` so each trade can be audited.

    ``name`` says what it is (``day0_abnormal_return``, ``parity_gap``), ``value`` its value
    and ``threshold`` the level it had to pass (fractions).
    """

    name: str
    value: float
    threshold: float


@dataclass(frozen=True, kw_only=True, slots=True)
class HedgeSpec:
    """Hedge every trade with an index, sized by a rolling beta.

    Attributes
    ----------
    symbol
        The index (fed as a reference series, traded as a proxy), e.g. "HSTECH".
    beta_window_sessions
        Close-to-close returns used for the beta (the latest completed ones, listing and
        index aligned on session dates).
    min_beta_sessions
        Fewer aligned returns than this: hedge with beta 1 and say so in the notes.
    """

    symbol: str = "HSTECH"
    beta_window_sessions: int = 60
    min_beta_sessions: int = 20

    def __post_init__(self) -> None:
        if not isinstance(self.beta_window_sessions, int) or self.beta_window_sessions < 5:
            raise ValueError(f"beta_window_sessions must be a whole number >= 5, got {self.beta_window_sessions!r}")
        if not isinstance(self.min_beta_sessions, int) or not 2 <= self.min_beta_sessions <= self.beta_window_sessions:
            raise ValueError(f"min_beta_sessions must be between 2 and beta_window_sessions "
                             f"({self.beta_window_sessions}), got {self.min_beta_sessions!r}")


def aligned_returns(listing_closes: pd.Series, index_closes: pd.Series, *,
                    symbols: tuple[str, str] | None = None) -> pd.DataFrame:
    """Close-to-close returns of a listing and an index on the session dates both traded (no NaN).

    With ``symbols`` (listing, index) each return must span exactly one session of its own
    calendar: a return across a missing row is dropped, not stretched over the gap
    (:func:`strategies.aligned.one_session_returns`).
    """
    if symbols is None:
        return pd.concat([listing_closes.pct_change(), index_closes.pct_change()], axis=1, join="inner").dropna()
    return pd.concat([one_session_returns(symbols[0], listing_closes), one_session_returns(symbols[1], index_closes)],
                     axis=1, join="inner").dropna()


def rolling_beta(listing_closes: pd.Series, index_closes: pd.Series, hedge: HedgeSpec,
                 aligned: pd.DataFrame | None = None) -> tuple[float | None, int]:
    """OLS beta of close-to-close returns on the index's over the latest ``beta_window_sessions``
    sessions both traded (:func:`aligned_returns`, which may be passed in when already known),
    and the number of aligned returns; None when fewer than ``min_beta_sessions`` (the hedge
    then uses 1). Both series hold completed sessions only. The sweep's fast path calls this
    too, so both get the same bits."""
    joined = (aligned if aligned is not None else aligned_returns(listing_closes, index_closes))
    values = joined.to_numpy(dtype=float)[-hedge.beta_window_sessions:]
    if len(values) < hedge.min_beta_sessions:
        return None, len(values)
    y, x = np.ascontiguousarray(values[:, 0]), np.ascontiguousarray(values[:, 1])
    var = float(np.var(x, ddof=1))
    return (float(np.cov(y, x, ddof=1)[0, 1] / var) if var > 0 else 1.0), len(values)


class ExecutionContext(Protocol):
    """What the engine provides to the strategy base (implemented in ``backtests.engine``)."""

    def bars(self, listing: str) -> DailyBars: ...
    def open_utc(self, listing: str, index: int) -> pd.Timestamp: ...
    def events_at(self, listing: str, session: pd.Timestamp, point: Phase) -> list[ScheduleRow]: ...
    def size_units(self, listing: str, *, notional_base: float, ref_price: float,
                   instant_utc: pd.Timestamp) -> int: ...
    def fx_to_base(self, currency: str, instant_utc: pd.Timestamp) -> float: ...
    def allow_short(self, listing: str) -> bool: ...
    def catalyst(self, catalyst_id: str) -> Catalyst: ...
    def catalysts(self) -> tuple[Catalyst, ...]: ...
    def schedule_rows(self, catalyst_id: str) -> tuple[ScheduleRow, ...]: ...
    def traded(self) -> tuple[str, ...]: ...
    def initial_cash_base(self) -> float: ...
    def benchmark_symbol(self) -> str: ...
    def on_filled(self, intent: OrderIntent, *, price: float) -> float: ...
    def after_close(self, listing: str, session: pd.Timestamp, instant_utc: pd.Timestamp,
                    marks: dict[str, float]) -> None: ...
    def note(self, message: str) -> None: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class ExitRules:
    """Protective exits of one trade, fractions of the entry price (None = off).

    Checked on each completed close of the listing (signed by the trade's direction);
    a hit exits at the listing's next open.
    """

    stop_loss_pct: float | None = None
    take_profit_pct: float | None = None
    trailing_stop_pct: float | None = None

    def __post_init__(self) -> None:
        for name in ("stop_loss_pct", "take_profit_pct", "trailing_stop_pct"):
            value = getattr(self, name)
            if value is not None:  # fractions: 0.05 = 5%; a 5 (500%) is a percentage typed by mistake
                check_fraction(name, value, example="0.05")

    def reason(self, *, direction: int, entry_price: float, best_close: float, close: float) -> str | None:
        """Which rule a close triggers (None when none does)."""
        move = direction * (close / entry_price - 1.0)
        if self.stop_loss_pct is not None and move <= -self.stop_loss_pct:
            return f"stop_loss {self.stop_loss_pct:.2%}"
        if self.take_profit_pct is not None and move >= self.take_profit_pct:
            return f"take_profit {self.take_profit_pct:.2%}"
        if self.trailing_stop_pct is not None and direction * (close / best_close - 1.0) <= -self.trailing_stop_pct:
            return f"trailing_stop {self.trailing_stop_pct:.2%}"
        return None


NO_EXIT_RULES = ExitRules()


@dataclass(frozen=True, kw_only=True, slots=True)
class _BarArrays:
    """One fed series' bars as the per-bar loop reads them."""

    open: np.ndarray
    close: np.ndarray
    sessions: list[pd.Timestamp]
    close_utc: list[pd.Timestamp]


@dataclass(kw_only=True, slots=True)
class _Trade:
    key: str
    listing: str
    units: int  # signed
    entry_index: int
    point: Phase
    exit_point: Phase
    hold_sessions: int | None
    catalyst_id: str | None
    rules: ExitRules = NO_EXIT_RULES
    role: Literal["trade", "hedge"] = "trade"
    signal: Signal | None = None
    entry_price: float | None = None  # the fill price, once filled
    best_close: float | None = None   # most favourable close since entry (trailing stop)
    pending_exit: str | None = None   # a protective exit to execute at the next open
    exiting: bool = False


class CatalystStrategy(bt.Strategy):
    """Base class for catalyst strategies (see the module docstring for the timing contract).

    The engine passes ``ctx`` (an :class:`ExecutionContext`) and ``config`` (the
    strategy's frozen parameter object) as backtrader params; subclasses read
    ``self.config``.
    """

    params = (("ctx", None), ("config", None), ("hedge", None))
    #: Whether the strategy trades on catalysts (a run whose schedule is empty is refused).
    uses_catalysts: bool = True

    # ------------------------------------------------------------------ public hooks
    def on_catalyst(self, event: ScheduleRow, listing: str) -> None:
        """Called once per schedule row at its first-trade instant. Override."""

    def on_session_open(self, listing: str, session: pd.Timestamp) -> None:
        """Called at each open of every fed series — traded listings and references such as
        the benchmark (check ``listing``) — after due exits, before that instant's
        catalysts. Override if needed."""

    def on_session_close(self, listing: str, session: pd.Timestamp) -> None:
        """Called after each completed session of a traded ``listing``. Override if needed."""

    # ------------------------------------------------------------------ public queries
    @property
    def config(self):  # noqa: ANN201 - the subclass's own parameter type
        return self.p.config

    @property
    def now_utc(self) -> pd.Timestamp:
        """The instant the strategy is deciding at."""
        return self._now_utc

    def catalyst(self, event: ScheduleRow | str) -> Catalyst:
        """The catalyst behind a schedule row (or by id): kind, expected sign, scheduled ..."""
        return self.p.ctx.catalyst(event if isinstance(event, str) else event.catalyst_id)

    def catalysts(self) -> tuple[Catalyst, ...]:
        """Every catalyst of the run's calendar (dates and kinds are public; whether a
        scheduled one is known in advance is the strategy's responsibility to respect)."""
        return self.p.ctx.catalysts()

    def schedule_rows(self, catalyst_id: str) -> tuple[ScheduleRow, ...]:
        """The catalyst's placement on every traded listing (its timing is public)."""
        return self.p.ctx.schedule_rows(catalyst_id)

    @property
    def initial_cash_base(self) -> float:
        """The portfolio's starting cash in base currency."""
        return self.p.ctx.initial_cash_base()

    @property
    def benchmark_symbol(self) -> str:
        """The benchmark fed as a reference series (its closes via :meth:`closes`)."""
        return self.p.ctx.benchmark_symbol()

    @property
    def traded_listings(self) -> tuple[str, ...]:
        """The listings this run trades (reference series excluded)."""
        return self.p.ctx.traded()

    def sessions(self, listing: str) -> pd.DatetimeIndex:
        """Every session of ``listing`` in the run (the exchange calendar's, known in
        advance; prices of sessions not yet completed stay hidden)."""
        return self.p.ctx.bars(listing).frame.index

    def current_session_index(self, listing: str) -> int | None:
        """Position in :meth:`sessions` of the session now open or just closed (None before
        the first)."""
        return self._index.get(listing)

    def note(self, message: str) -> None:
        """Add a line to the run's notes, stamped with the decision instant."""
        self.p.ctx.note(f"{self._now_utc:%Y-%m-%d %H:%M}Z {message}")

    def fx_to_base(self, currency: str) -> float:
        """FX rate to the base currency known now."""
        return self.p.ctx.fx_to_base(currency, self._now_utc)

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
        return float(self._bar_arrays(listing).open[idx])

    # ------------------------------------------------------------------ public actions
    def enter(self, listing: str, *, direction: int = 1, notional_base: float,
              hold_sessions: int | None = None, catalyst_id: str | None = None,
              reason: str = "", when_holding: Literal["stack", "skip"] = "stack",
              exit_point: Phase | None = None, rules: ExitRules = NO_EXIT_RULES,
              key: str | None = None, signal: Signal | None = None) -> bool:
        """Open a new trade in ``listing`` now (at the current price point).

        Each entry is its own trade (one per catalyst and listing), so overlapping
        catalysts hold overlapping trades; the position is their sum.

        Parameters
        ----------
        direction
            +1 long, -1 short (refused, with a note, when the portfolio forbids shorts).
        notional_base
            Target value in base currency; rounded down to whole board lots.
        hold_sessions
            Exit automatically ``hold_sessions`` sessions of the listing later at
            ``exit_point`` (None: hold until :meth:`exit` or the end of the data).
        exit_point
            ``open`` or ``close``; default: the entry's own price point. With a different
            point, ``hold_sessions = 0`` exits within the entry session (open -> close).
        rules
            Protective exits (see :class:`ExitRules`).
        when_holding
            ``stack`` (default) adds a trade beside open ones; ``skip`` declines while any
            trade in ``listing`` stays open past this instant.
        key
            Trade identity (default ``catalyst@listing``); one open trade per key.
        signal
            The decision's input (written to ``trades.csv``: ``signal``, ``signal_value``,
            ``signal_threshold``).

        Returns
        -------
        bool
            False (and a note in the run log) when nothing was ordered.
        """
        if direction not in (1, -1):
            raise ValueError(f"direction must be +1 or -1, got {direction}")
        exit_point = exit_point or self._phase
        if hold_sessions is not None and (hold_sessions < 0 or (hold_sessions == 0 and exit_point == self._phase)):
            raise ValueError(f"hold_sessions={hold_sessions} would exit before or at the entry")
        key = key or f"{catalyst_id or 'manual'}@{listing}"
        stamp = f"{self._now_utc:%Y-%m-%d %H:%M}Z {listing}: skip entry for {catalyst_id}"
        if key in self._open_trades:
            self.p.ctx.note(f"{stamp}: a trade for it is already open")
            return False
        staying = [t for t in self._open_trades.values()
                   if t.listing == listing and not t.exiting and t.role == "trade"]
        if when_holding == "skip" and staying:
            self.p.ctx.note(f"{stamp}: already in a position")
            return False
        if direction < 0 and not self.p.ctx.allow_short(listing):
            self.p.ctx.note(f"{stamp}: short selling is off ([portfolio] allow_short = false)")
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
        trade = _Trade(key=key, listing=listing, units=units * direction, entry_index=self._index[listing],
                       point=self._phase, exit_point=exit_point, hold_sessions=hold_sessions,
                       catalyst_id=catalyst_id, rules=rules, signal=signal)
        self._open_trades[key] = trade
        self._ever_traded.add(listing)
        self._submit(trade, "buy" if direction > 0 else "sell", units, "entry", reason)
        hedge = self.p.hedge
        if hedge is not None and listing != hedge.symbol:
            beta = self._beta(listing, hedge)
            value_base = units * ref * self.p.ctx.fx_to_base(self.p.ctx.bars(listing).currency, self._now_utc)
            self._hedge_queue.append(("enter", key, -direction * beta * value_base, catalyst_id))
        return True

    def exit(self, listing: str, *, reason: str = "signal") -> bool:
        """Close every open trade in ``listing`` now. False when there is none."""
        trades = [t for t in self._open_trades.values()
                  if t.listing == listing and not t.exiting and t.role == "trade"]
        for trade in trades:
            self._exit_trade(trade, reason)
        return bool(trades)

    def _exit_trade(self, trade: _Trade, reason: str) -> None:
        trade.exiting = True
        self._submit(trade, "sell" if trade.units > 0 else "buy", abs(trade.units), "exit", reason)
        if trade.role == "trade" and self.p.hedge is not None:
            self._hedge_queue.append(("exit", trade.key, 0.0, trade.catalyst_id))

    # ------------------------------------------------------------------ hedging
    def _beta(self, listing: str, hedge: HedgeSpec) -> float:
        """:func:`rolling_beta` of the listing on the index over completed sessions (1 with a
        note when too few returns are aligned)."""
        beta, aligned = rolling_beta(self.closes(listing), self.closes(hedge.symbol), hedge,
                                     aligned=aligned_returns(self.closes(listing), self.closes(hedge.symbol),
                                                             symbols=(listing, hedge.symbol)))
        if beta is None:
            self.p.ctx.note(f"{self._now_utc:%Y-%m-%d %H:%M}Z {listing}: {aligned} aligned returns "
                            f"(< {hedge.min_beta_sessions}) for the {hedge.symbol} beta; hedging with beta 1")
            return 1.0
        return beta

    def _run_hedge_queue(self) -> None:
        """Place queued hedge orders; called when the hedge index has just opened."""
        hedge = self.p.hedge
        queue, self._hedge_queue = self._hedge_queue, []
        cancelled = {k for action, k, _, _ in queue if action == "exit"} & {
            k for action, k, _, _ in queue if action == "enter"}
        for action, main_key, signed_value_base, catalyst_id in queue:
            key = f"hedge:{main_key}"
            if main_key in cancelled:
                self.p.ctx.note(f"{self._now_utc:%Y-%m-%d %H:%M}Z {key}: trade opened and closed before "
                                f"{hedge.symbol} opened; no hedge")
                continue
            if action == "exit":
                trade = self._open_trades.get(key)
                if trade is not None and not trade.exiting:
                    self._exit_trade(trade, f"hedged trade {main_key} exited")
                continue
            ref = self._reference_price(hedge.symbol)
            units = 0 if ref is None else self.p.ctx.size_units(
                hedge.symbol, notional_base=abs(signed_value_base), ref_price=ref, instant_utc=self._now_utc)
            if units <= 0:
                self.p.ctx.note(f"{self._now_utc:%Y-%m-%d %H:%M}Z {key}: hedge rounds to zero units; none placed")
                continue
            direction = 1 if signed_value_base > 0 else -1
            trade = _Trade(key=key, listing=hedge.symbol, units=units * direction,
                           entry_index=self._index[hedge.symbol], point="open", exit_point="open",
                           hold_sessions=None, catalyst_id=catalyst_id, role="hedge")
            self._open_trades[key] = trade
            self._ever_traded.add(hedge.symbol)
            self._submit(trade, "buy" if direction > 0 else "sell", units, "entry",
                         f"hedge of {main_key} ({-signed_value_base:,.0f} base long-equivalent)")

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
        self._hedge_queue: list[tuple[str, str, float, str | None]] = []
        self._ever_traded: set[str] = set(self.p.ctx.traded())
        self._arrays: dict[str, _BarArrays] = {}

    def _completed(self, listing: str) -> int:
        """Number of ``listing``'s sessions whose close is before now."""
        idx = self._index.get(listing)
        if idx is None:
            return 0
        return idx if listing in self._in_progress else idx + 1

    def _bar_arrays(self, listing: str) -> _BarArrays:
        """Per-bar values of ``listing`` as numpy arrays and lists (read at every bar; pandas
        scalar access there costs more than the rest of the step)."""
        got = self._arrays.get(listing)
        if got is None:
            frame = self.p.ctx.bars(listing).frame
            got = self._arrays[listing] = _BarArrays(
                open=frame["open"].to_numpy(dtype=float), close=frame["close"].to_numpy(dtype=float),
                sessions=list(frame.index), close_utc=list(frame["close_utc"]))
        return got

    def _reference_price(self, listing: str) -> float | None:
        bars = self._bar_arrays(listing)
        idx = self._index[listing]
        if self._phase == "close":
            return float(bars.open[idx])
        return float(bars.close[idx - 1]) if idx > 0 else None

    def _submit(self, trade: _Trade, side: Literal["buy", "sell"], units: int, purpose: str,
                reason: str) -> None:
        listing = trade.listing
        # Orders made at an open fill at that bar's open (cheat-on-open, coc off); orders
        # made at a close fill at that bar's close (cheat-on-close): see the engine.
        order = (self.buy if side == "buy" else self.sell)(data=self._by_name[listing], size=units,
                                                           coc=self._phase == "close")
        bars = self._bar_arrays(listing)
        intent = OrderIntent(
            listing=listing, side=side, quantity=units, session=bars.sessions[self._index[listing]],
            point=self._phase, instant_utc=self._now_utc, purpose=purpose, trade_key=trade.key,
            catalyst_id=trade.catalyst_id, reason=reason, role=trade.role,
            signal=trade.signal if purpose == "entry" else None)
        self._intents[order.ref] = intent
        if self._phase == "close":
            # backtrader books a cheat-on-close fill one step later, at this bar's close;
            # book it now so the equity marked at this close already holds it.
            self._apply_fill(intent, float(bars.close[self._index[listing]]))

    def _apply_fill(self, intent: OrderIntent, price: float) -> None:
        signed = intent.quantity if intent.side == "buy" else -intent.quantity
        self._units[intent.listing] = self._units.get(intent.listing, 0) + signed
        filled_at = self.p.ctx.on_filled(intent, price=price)
        if intent.purpose == "exit":
            del self._open_trades[intent.trade_key]
        else:
            trade = self._open_trades[intent.trade_key]
            trade.entry_price = trade.best_close = filled_at

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
        index = self._index[listing]
        session = self._bar_arrays(listing).sessions[index]
        for trade in [t for t in self._open_trades.values() if t.listing == listing and not t.exiting]:
            if self._phase == "open" and trade.pending_exit is not None:
                self._exit_trade(trade, trade.pending_exit)
            elif (trade.hold_sessions is not None and trade.exit_point == self._phase
                  and index - trade.entry_index >= trade.hold_sessions):
                self._exit_trade(trade, f"held {trade.hold_sessions} sessions")
        if self._phase == "open":
            self.on_session_open(listing, session)
        for event in self.p.ctx.events_at(listing, session, self._phase):
            self.on_catalyst(event, listing)

    def _check_exit_rules(self, listing: str, index: int, close: float) -> None:
        """After a close: mark trades whose protective rule that close triggers."""
        for trade in self._open_trades.values():
            if (trade.listing != listing or trade.exiting or trade.entry_price is None
                    or trade.pending_exit is not None or trade.rules is NO_EXIT_RULES
                    or (trade.point == "close" and trade.entry_index == index)):
                continue
            direction = 1 if trade.units > 0 else -1
            trade.best_close = (max if direction > 0 else min)(trade.best_close, close)
            trade.pending_exit = trade.rules.reason(direction=direction, entry_price=trade.entry_price,
                                                    best_close=trade.best_close, close=close)

    def next_open(self) -> None:
        self._phase = "open"
        advanced = [name for name, d in self._by_name.items() if len(d) > self._seen[name]]
        for name in advanced:
            self._index[name] = len(self._by_name[name]) - 1
            self._in_progress.add(name)
        for name in advanced:
            self._now_utc = self.p.ctx.open_utc(name, self._index[name])
            self._session_step(name)
        hedge = self.p.hedge
        if hedge is not None and hedge.symbol in advanced and self._hedge_queue:
            self._now_utc = self.p.ctx.open_utc(hedge.symbol, self._index[hedge.symbol])
            self._run_hedge_queue()

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
            bars = self._bar_arrays(name)
            idx = self._index[name]
            self._now_utc = bars.close_utc[idx]
            self._session_step(name)
            self._in_progress.discard(name)
            self._seen[name] = idx + 1
            self._check_exit_rules(name, idx, float(bars.close[idx]))
            if name not in self._ever_traded:
                continue
            if name in self.p.ctx.traded():
                self.on_session_close(name, bars.sessions[idx])
            # marks for the ledger, not the strategy: every fed series' current bar has closed by now,
            # including one closing at this same instant (HSTECH with 9988.HK) still in _in_progress
            marks = {sym: float(self._bar_arrays(sym).close[self._index[sym]])
                     for sym, units in self._units.items() if units}
            self.p.ctx.after_close(name, bars.sessions[idx], self._now_utc, marks)
