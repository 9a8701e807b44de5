"""The engine: the only place a backtrader ``Cerebro`` is built.

Data flow: canonical bars (one feed per traded listing, stamped at the session close in
UTC so HK and US bars interleave in true order) + an :class:`~events.schedule.EventSchedule`
+ a :class:`~strategies.base.CatalystStrategy` subclass -> fills matched by backtrader at
session opens (cheat-on-open) or closes (cheat-on-close) -> booked in a multi-currency
:class:`~backtests.ledger.Ledger` with dated costs -> :class:`BacktestResult`.

Backtrader's own broker is only the matching engine: it is given unlimited cash and no
commission; money, costs and FX live in the ledger, which tests check by hand.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import backtrader as bt
import pandas as pd

from backtests.costs import CostBook, Fill
from backtests.fx import FxRates
from backtests.ledger import Ledger
from backtests.metrics import drawdown, total_return
from backtests.results import EQUITY_COLUMNS, FILL_COLUMNS, TRADE_COLUMNS, BacktestResult
from data_loaders.calendars import session_opens_utc
from data_loaders.errors import UserError
from data_loaders.markets import get_listing
from data_loaders.schema import DailyBars
from events.schedule import EventSchedule, ScheduleRow
from strategies.base import CatalystStrategy, OrderIntent, Phase

UNLIMITED_CASH = 1e15


class BacktestSetupError(UserError):
    """The run cannot start: a listing without data, an unknown base currency ..."""


@dataclass(frozen=True, kw_only=True, slots=True)
class PortfolioSpec:
    """The account.

    Attributes
    ----------
    base_currency
        "HKD" or "USD": cash, equity and P&L are reported in it.
    initial_cash_base
        Starting cash in base currency (> 0).
    slippage_bps
        Adverse slippage on every fill, basis points of the price (>= 0).
    """

    base_currency: str = "HKD"
    initial_cash_base: float = 1_000_000.0
    slippage_bps: float = 0.0

    def __post_init__(self) -> None:
        if self.base_currency not in ("HKD", "USD"):
            raise BacktestSetupError(f"base_currency must be 'HKD' or 'USD', got {self.base_currency!r}")
        if not self.initial_cash_base > 0:
            raise BacktestSetupError(f"initial_cash must be > 0, got {self.initial_cash_base!r}")
        if self.slippage_bps < 0:
            raise BacktestSetupError(f"slippage_bps must be >= 0, got {self.slippage_bps!r}")


@dataclass(kw_only=True, slots=True)
class _OpenTrade:
    trade_id: int
    intent: OrderIntent
    price: float
    costs_local: float
    flow_base: float
    entry_index: int


@dataclass(kw_only=True)
class _Context:
    """The engine's side of :class:`strategies.base.ExecutionContext`."""

    bars_by_listing: Mapping[str, DailyBars]
    events: dict[tuple[str, pd.Timestamp, Phase], list[ScheduleRow]]
    ledger: Ledger
    costs: CostBook
    fx: FxRates | None
    portfolio: PortfolioSpec
    opens_utc: dict[str, pd.DatetimeIndex]
    notes: list[str] = field(default_factory=list)
    fills: list[dict[str, Any]] = field(default_factory=list)
    trades: list[dict[str, Any]] = field(default_factory=list)
    open_trades: dict[str, _OpenTrade] = field(default_factory=dict)
    equity_rows: list[dict[str, Any]] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)

    def bars(self, listing: str) -> DailyBars:
        return self.bars_by_listing[listing]

    def open_utc(self, listing: str, index: int) -> pd.Timestamp:
        return self.opens_utc[listing][index]

    def events_at(self, listing: str, session: pd.Timestamp, point: Phase) -> list[ScheduleRow]:
        return self.events.get((listing, session, point), [])

    def fx_to_base(self, currency: str, instant_utc: pd.Timestamp) -> float:
        if currency == self.portfolio.base_currency:
            return 1.0
        if self.fx is None:
            raise BacktestSetupError(
                f"a {currency} listing in a {self.portfolio.base_currency} portfolio needs USDHKD data")
        return self.fx.rate(currency, self.portfolio.base_currency, instant_utc)

    def size_units(self, listing: str, *, notional_base: float, ref_price: float,
                   instant_utc: pd.Timestamp) -> int:
        lst = get_listing(listing)
        per_unit_base = ref_price * self.fx_to_base(lst.currency, instant_utc)
        lots = math.floor(notional_base / (per_unit_base * lst.lot_size_shares))
        return lots * lst.lot_size_shares

    def on_filled(self, intent: OrderIntent, *, price: float) -> None:
        lst = get_listing(intent.listing)
        slip = self.portfolio.slippage_bps / 10_000.0
        fill_price = price * (1 + slip) if intent.side == "buy" else price * (1 - slip)
        fill = Fill(listing=intent.listing, market=lst.market.code, side=intent.side,
                    quantity=intent.quantity, price=fill_price, session=intent.session)
        costs = self.costs.cost(fill)
        fx = self.fx_to_base(lst.currency, intent.instant_utc)
        booked = self.ledger.book(fill, currency=lst.currency, instant_utc=intent.instant_utc,
                                  costs=costs, fx_to_base=fx)
        index = int(self.bars(intent.listing).frame.index.get_loc(intent.session))
        if intent.purpose == "entry":
            trade_id = len(self.trades) + len(self.open_trades) + 1
            self.open_trades[intent.trade_key] = _OpenTrade(
                trade_id=trade_id, intent=intent, price=fill_price, costs_local=float(costs.total),
                flow_base=booked.cash_flow_base, entry_index=index)
        else:
            trade_id = self._close_trade(intent, fill_price, float(costs.total), booked.cash_flow_base, index)
        self.fills.append({
            "trade_id": trade_id, "listing": intent.listing, "currency": lst.currency,
            "side": intent.side, "quantity": intent.quantity, "session": intent.session,
            "point": intent.point, "instant_utc": intent.instant_utc, "price": fill_price,
            "fx_to_base": fx, "cost_total_local": float(costs.total),
            "cash_flow_base": booked.cash_flow_base, **costs.as_dict(),
        })

    def _close_trade(self, intent: OrderIntent, price: float, costs_local: float, flow_base: float,
                     index: int) -> int:
        entry = self.open_trades.pop(intent.trade_key)
        direction = 1 if entry.intent.side == "buy" else -1
        gross = direction * entry.intent.quantity * (price - entry.price)
        total_costs = entry.costs_local + costs_local
        self.trades.append(self._trade_row(entry, direction) | {
            "status": "closed", "exit_session": intent.session, "exit_point": intent.point,
            "exit_utc": intent.instant_utc, "exit_price": price, "exit_reason": intent.reason,
            "holding_sessions": index - entry.entry_index, "gross_pnl_local": gross,
            "costs_local": total_costs, "net_pnl_local": gross - total_costs,
            "net_pnl_base": entry.flow_base + flow_base,
        })
        return entry.trade_id

    def _trade_row(self, entry: _OpenTrade, direction: int) -> dict[str, Any]:
        i = entry.intent
        return {
            "trade_id": entry.trade_id, "catalyst_id": i.catalyst_id, "listing": i.listing,
            "currency": get_listing(i.listing).currency, "direction": direction,
            "quantity": i.quantity, "entry_session": i.session, "entry_point": i.point,
            "entry_utc": i.instant_utc, "entry_price": entry.price,
        }

    def after_close(self, listing: str, session: pd.Timestamp, instant_utc: pd.Timestamp,
                    marks: dict[str, float]) -> None:
        self.marks.update(marks)
        held = {pos.currency for pos in self.ledger.positions.values() if pos.quantity}
        positions = self.ledger.market_value_base(
            self.marks, {ccy: self.fx_to_base(ccy, instant_utc) for ccy in held})
        self.equity_rows.append({
            "instant_utc": instant_utc, "listing": listing, "session": session,
            "cash_base": self.ledger.cash_base, "positions_base": positions,
            "equity_base": self.ledger.cash_base + positions,
        })

    def note(self, message: str) -> None:
        self.notes.append(message)


def _feed(bars: DailyBars) -> bt.feeds.PandasData:
    frame = bars.frame
    # backtrader keeps naive datetimes: give it the close instant in UTC (see MARKETS.md).
    stamped = pd.DataFrame({
        "open": frame["open"].to_numpy(), "high": frame["high"].to_numpy(),
        "low": frame["low"].to_numpy(), "close": frame["close"].to_numpy(),
        "volume": frame["volume"].fillna(0.0).to_numpy(),
    }, index=pd.DatetimeIndex(frame["close_utc"]).tz_convert("UTC").tz_localize(None))
    return bt.feeds.PandasData(dataname=stamped, openinterest=None, name=bars.symbol)


def _index_events(schedule: EventSchedule, bars: Mapping[str, DailyBars],
                  notes: list[str]) -> dict[tuple[str, pd.Timestamp, Phase], list[ScheduleRow]]:
    out: dict[tuple[str, pd.Timestamp, Phase], list[ScheduleRow]] = defaultdict(list)
    for row in schedule.rows:
        data = bars.get(row.listing)
        if data is None:
            continue
        sessions = data.frame.index
        if len(sessions) == 0 or not (sessions[0] <= row.first_trade_session <= sessions[-1]):
            continue
        if row.first_trade_session not in sessions:
            notes.append(f"{row.catalyst_id} on {row.listing}: first-trade session "
                         f"{row.first_trade_session:%Y-%m-%d} has no bar in the data; not traded")
            continue
        out[(row.listing, row.first_trade_session, row.first_trade_point)].append(row)
    return dict(out)


def run_backtest(
    *,
    strategy: type[CatalystStrategy],
    strategy_config: object,
    bars: Mapping[str, DailyBars],
    schedule: EventSchedule,
    benchmark: DailyBars,
    fx: DailyBars | None = None,
    portfolio: PortfolioSpec = PortfolioSpec(),
    costs: CostBook = CostBook(),
) -> BacktestResult:
    """Run one backtest.

    Parameters
    ----------
    strategy, strategy_config
        A :class:`CatalystStrategy` subclass and its frozen parameter object.
    bars
        Raw (traded-price) bars per traded listing, already cut to the run period.
    schedule
        Catalyst placements; rows for other listings or outside the data are ignored,
        rows whose first-trade session has no bar are reported in ``notes``.
    benchmark
        Benchmark bars over the run (reported, not traded).
    fx
        USDHKD bars; required when a listing's currency differs from the base.

    Raises
    ------
    BacktestSetupError
        A listing with no bars, or missing FX for a foreign-currency listing.
    """
    for sym, data in bars.items():
        if len(data) == 0:
            raise BacktestSetupError(
                f"{sym} has no bars in the run period; widen [run] start/end or remove it from "
                f"[strategy] listings")
        if data.adjustment != "raw":
            raise BacktestSetupError(f"{sym}: backtests trade raw prices, got {data.adjustment} bars")
    notes: list[str] = []
    ctx = _Context(
        bars_by_listing=bars, events=_index_events(schedule, bars, notes),
        ledger=Ledger(base_currency=portfolio.base_currency,
                      initial_cash_base=portfolio.initial_cash_base),
        costs=costs, fx=FxRates(usdhkd=fx) if fx is not None and len(fx) else None,
        portfolio=portfolio,
        opens_utc={sym: session_opens_utc(get_listing(sym).market.calendar_code, d.frame.index)
                   for sym, d in bars.items()},
        notes=notes,
    )
    foreign = [s for s in bars if get_listing(s).currency != portfolio.base_currency]
    if foreign and ctx.fx is None:
        raise BacktestSetupError(
            f"{', '.join(foreign)} trade in another currency than the {portfolio.base_currency} base; "
            f"USDHKD bars covering the run are needed (add USDHKD.csv to the data folder)")

    cerebro = bt.Cerebro(stdstats=False, cheat_on_open=True, runonce=False, preload=True)
    cerebro.broker.setcash(UNLIMITED_CASH)
    cerebro.broker.set_coc(True)
    cerebro.broker.set_coo(True)
    for sym in sorted(bars):
        cerebro.adddata(_feed(bars[sym]), name=sym)
    cerebro.addstrategy(strategy, ctx=ctx, config=strategy_config)
    cerebro.run()

    for entry in sorted(ctx.open_trades.values(), key=lambda e: e.trade_id):
        mark = ctx.marks.get(entry.intent.listing, entry.price)
        direction = 1 if entry.intent.side == "buy" else -1
        gross = direction * entry.intent.quantity * (mark - entry.price)
        ctx.trades.append(ctx._trade_row(entry, direction) | {
            "status": "open", "exit_reason": "open at end (marked at last close)",
            "gross_pnl_local": gross, "costs_local": entry.costs_local,
            "net_pnl_local": gross - entry.costs_local,
        })
    trades = pd.DataFrame(sorted(ctx.trades, key=lambda r: r["trade_id"]), columns=list(TRADE_COLUMNS))
    cost_cols = sorted({k for f in ctx.fills for k in f} - set(FILL_COLUMNS))
    fills = pd.DataFrame(ctx.fills, columns=[*FILL_COLUMNS, *cost_cols])
    equity = pd.DataFrame(ctx.equity_rows, columns=list(EQUITY_COLUMNS))
    bench = benchmark.frame[["open", "close", "close_utc"]]
    summary = summarise(equity=equity, trades=trades, fills=fills, benchmark=benchmark,
                        portfolio=portfolio, synthetic=any(b.synthetic for b in bars.values()))
    return BacktestResult(trades=trades, fills=fills, equity=equity, benchmark=bench,
                          summary=summary, notes=tuple(notes))


def summarise(*, equity: pd.DataFrame, trades: pd.DataFrame, fills: pd.DataFrame,
              benchmark: DailyBars, portfolio: PortfolioSpec, synthetic: bool) -> dict[str, Any]:
    """Headline figures of a run (fractions, not percent; money in base currency).

    ``benchmark_return`` buys the benchmark at the open of its first session in the run
    and marks it at the close of its last, the span over which the portfolio (starting
    as cash before the first open) is measured.
    """
    curve = equity.set_index("instant_utc")["equity_base"] if len(equity) else pd.Series(dtype=float)
    dd = drawdown(curve, initial=portfolio.initial_cash_base)
    bench = benchmark.frame
    bench_ret = float(bench["close"].iloc[-1] / bench["open"].iloc[0] - 1.0) if len(bench) else float("nan")
    cost_total_base = float((fills["cost_total_local"] * fills["fx_to_base"]).sum()) if len(fills) else 0.0
    return {
        "synthetic_data": synthetic,
        "base_currency": portfolio.base_currency,
        "initial_cash_base": portfolio.initial_cash_base,
        "final_equity_base": float(curve.iloc[-1]) if len(curve) else portfolio.initial_cash_base,
        "total_return": total_return(curve, initial=portfolio.initial_cash_base),
        "benchmark": benchmark.symbol,
        "benchmark_return": bench_ret,
        "benchmark_span": [f"{bench.index[0]:%Y-%m-%d}", f"{bench.index[-1]:%Y-%m-%d}"] if len(bench) else [],
        "max_drawdown": dd.max_drawdown,
        "max_drawdown_peak_utc": str(dd.peak_at),
        "max_drawdown_trough_utc": str(dd.trough_at),
        "trade_count": int(len(trades)),
        "closed_trade_count": int((trades["status"] == "closed").sum()) if len(trades) else 0,
        "costs_base": cost_total_base,
        # below zero means the strategy borrowed cash (overlapping trades exceeded equity)
        "min_cash_base": float(equity["cash_base"].min()) if len(equity) else portfolio.initial_cash_base,
        "max_positions_to_equity": float((equity["positions_base"].abs() / equity["equity_base"]).max())
        if len(equity) else 0.0,
        "slippage_bps": portfolio.slippage_bps,
    }

