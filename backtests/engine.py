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

from backtests.costs import CostBook, CostBreakdown, Fill
from backtests.fx import FxRates
from backtests.ledger import Ledger
from backtests.metrics import benchmark_metrics, drawdown, performance_metrics, total_return
from backtests.results import (EQUITY_COLUMNS, FILL_COLUMNS, POSITION_COLUMNS, RETURN_COLUMNS, TRADE_COLUMNS,
                               BacktestResult)
from data_loaders.calendars import session_opens_utc, sessions_per_year
from data_loaders.errors import UserError
from data_loaders.markets import get_listing
from data_loaders.schema import DailyBars
from events.catalyst import Catalyst
from events.schedule import EventSchedule, ScheduleRow
from strategies.base import CatalystStrategy, HedgeSpec, OrderIntent, Phase

UNLIMITED_CASH = 1e15


class BacktestSetupError(UserError):
    """The run cannot start: a listing without data, an unknown base currency ..."""


BORROW_ACTIONS: tuple[str, ...] = ("flag", "stop")


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
    allow_short
        Whether strategies may sell stocks short (paying ``CostBook.borrow_rate_annual``);
        index hedges are futures-like and always allowed.
    max_borrow_base
        How far cash may go below zero (base currency) before the run is flagged; 0: any
        borrowing is flagged.
    on_borrow_limit
        ``flag`` (default: the run finishes and says so on the console, in the notes and in
        ``summary.json`` ``flags``) or ``stop`` (the run is refused, nothing is written).
    """

    base_currency: str = "HKD"
    initial_cash_base: float = 1_000_000.0
    slippage_bps: float = 0.0
    allow_short: bool = True
    max_borrow_base: float = 0.0
    on_borrow_limit: str = "flag"

    def __post_init__(self) -> None:
        if self.base_currency not in ("HKD", "USD"):
            raise BacktestSetupError(f"base_currency must be 'HKD' or 'USD', got {self.base_currency!r}")
        if not self.initial_cash_base > 0:
            raise BacktestSetupError(f"initial_cash must be > 0, got {self.initial_cash_base!r}")
        if self.slippage_bps < 0:
            raise BacktestSetupError(f"slippage_bps must be >= 0, got {self.slippage_bps!r}")
        if not isinstance(self.allow_short, bool):
            raise BacktestSetupError(f"allow_short must be true or false, got {self.allow_short!r}")
        if not self.max_borrow_base >= 0:
            raise BacktestSetupError(f"max_borrow_base must be >= 0, got {self.max_borrow_base!r}")
        if self.on_borrow_limit not in BORROW_ACTIONS:
            raise BacktestSetupError(f"on_borrow_limit must be one of {', '.join(BORROW_ACTIONS)}, "
                                     f"got {self.on_borrow_limit!r}")


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

    bars_by_listing: Mapping[str, DailyBars]  # traded listings and reference series
    traded_listings: tuple[str, ...]
    benchmark: str
    schedule: EventSchedule
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
    position_rows: list[dict[str, Any]] = field(default_factory=list)
    marks: dict[str, float] = field(default_factory=dict)

    def bars(self, listing: str) -> DailyBars:
        return self.bars_by_listing[listing]

    def traded(self) -> tuple[str, ...]:
        return self.traded_listings

    def benchmark_symbol(self) -> str:
        return self.benchmark

    def initial_cash_base(self) -> float:
        return self.portfolio.initial_cash_base

    def allow_short(self, listing: str) -> bool:
        return self.portfolio.allow_short or get_listing(listing).kind == "index"

    def catalyst(self, catalyst_id: str) -> Catalyst:
        return self.schedule.catalyst(catalyst_id)

    def catalysts(self) -> tuple[Catalyst, ...]:
        return self.schedule.catalysts

    def schedule_rows(self, catalyst_id: str) -> tuple[ScheduleRow, ...]:
        return tuple(r for r in self.schedule.rows
                     if r.catalyst_id == catalyst_id and r.listing in self.traded_listings)

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

    def on_filled(self, intent: OrderIntent, *, price: float) -> float:
        lst = get_listing(intent.listing)
        slip = self.portfolio.slippage_bps / 10_000.0
        fill_price = price * (1 + slip) if intent.side == "buy" else price * (1 - slip)
        fill = Fill(listing=intent.listing, market=lst.market.code, side=intent.side,
                    quantity=intent.quantity, price=fill_price, session=intent.session)
        costs = self.costs.cost(fill)
        borrow = 0
        entry = self.open_trades.get(intent.trade_key)
        if intent.purpose == "exit" and entry is not None and entry.intent.side == "sell":
            borrow = self.costs.borrow_fee(listing=intent.listing, market=lst.market.code,
                                           quantity=intent.quantity, entry_price=entry.price,
                                           entry_session=entry.intent.session, exit_session=intent.session)
        costs = CostBreakdown(currency=costs.currency, components=(*costs.components, ("borrow_fee", borrow)))
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
        return fill_price

    def _close_trade(self, intent: OrderIntent, price: float, costs_local: float, flow_base: float,
                     index: int) -> int:
        # holding_sessions counts sessions of the listing from entry to exit
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
            "trade_id": entry.trade_id, "catalyst_id": i.catalyst_id, "role": i.role, "listing": i.listing,
            "currency": get_listing(i.listing).currency, "direction": direction,
            "quantity": i.quantity, "entry_session": i.session, "entry_point": i.point,
            "entry_utc": i.instant_utc, "entry_price": entry.price, "entry_reason": i.reason,
            "signal": i.signal.name if i.signal else None,
            "signal_value": i.signal.value if i.signal else float("nan"),
            "signal_threshold": i.signal.threshold if i.signal else float("nan"),
        }

    def after_close(self, listing: str, session: pd.Timestamp, instant_utc: pd.Timestamp,
                    marks: dict[str, float]) -> None:
        self.marks.update(marks)
        held = {pos.currency for pos in self.ledger.positions.values() if pos.quantity}
        rates = {ccy: self.fx_to_base(ccy, instant_utc) for ccy in held}
        positions = self.ledger.market_value_base(self.marks, rates)
        while self.position_rows and self.position_rows[-1]["instant_utc"] == instant_utc:
            self.position_rows.pop()  # a later mark at the same instant (HSTECH after 9988.HK) supersedes
        for sym in sorted(self.ledger.positions):
            pos = self.ledger.positions[sym]
            if pos.quantity:
                self.position_rows.append({
                    "instant_utc": instant_utc, "session": session, "listing": sym, "quantity": pos.quantity,
                    "price_local": self.marks[sym], "currency": pos.currency, "fx_to_base": rates[pos.currency],
                    "market_value_base": pos.quantity * self.marks[sym] * rates[pos.currency],
                })
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


def require_tradable_bars(bars: Mapping[str, DailyBars]) -> None:
    """Every traded listing has raw bars in the run period.

    Raises
    ------
    BacktestSetupError
        Naming the listing and the fix.
    """
    for sym, data in bars.items():
        if len(data) == 0:
            raise BacktestSetupError(
                f"{sym} has no bars in the run period; widen [run] start/end, check the data folder, or "
                f"remove it from [strategy] listings")
        if data.adjustment != "raw":
            raise BacktestSetupError(f"{sym}: backtests trade raw prices, got {data.adjustment} bars")


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
    hedge: HedgeSpec | None = None,
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
        Benchmark bars over the run: fed to the strategy as a reference series (visible
        through ``closes``; tradable only as an index proxy, e.g. a hedge) and the clock
        of the returns and metrics.
    fx
        USDHKD bars; required when a listing's currency differs from the base.
    hedge
        Hedge every trade with the benchmark index (see :class:`strategies.base.HedgeSpec`);
        its ``symbol`` must be the benchmark's.

    Raises
    ------
    BacktestSetupError
        A listing with no bars, or missing FX for a foreign-currency listing.
    """
    require_tradable_bars(bars)
    if benchmark.symbol in bars:
        raise BacktestSetupError(f"{benchmark.symbol} is both traded and the benchmark; pick another benchmark")
    if len(benchmark) == 0:
        raise BacktestSetupError(f"benchmark {benchmark.symbol} has no bars in the run period")
    if hedge is not None and hedge.symbol != benchmark.symbol:
        raise BacktestSetupError(f"the hedge trades the benchmark: hedge symbol {hedge.symbol!r} differs from "
                                 f"benchmark {benchmark.symbol!r}; set [data] benchmark = {hedge.symbol!r}")
    notes: list[str] = []
    fed = {**bars, benchmark.symbol: benchmark}
    ctx = _Context(
        bars_by_listing=fed, traded_listings=tuple(sorted(bars)), benchmark=benchmark.symbol, schedule=schedule,
        events=_index_events(schedule, bars, notes),
        ledger=Ledger(base_currency=portfolio.base_currency,
                      initial_cash_base=portfolio.initial_cash_base),
        costs=costs, fx=FxRates(usdhkd=fx) if fx is not None and len(fx) else None,
        portfolio=portfolio,
        opens_utc={sym: session_opens_utc(get_listing(sym).market.calendar_code, d.frame.index)
                   for sym, d in fed.items()},
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
    for sym in sorted(fed):
        cerebro.adddata(_feed(fed[sym]), name=sym)
    cerebro.addstrategy(strategy, ctx=ctx, config=strategy_config, hedge=hedge)
    cerebro.run()

    end_utc = ctx.equity_rows[-1]["instant_utc"] if ctx.equity_rows else None
    for entry in sorted(ctx.open_trades.values(), key=lambda e: e.trade_id):
        sym, qty = entry.intent.listing, entry.intent.quantity
        mark = ctx.marks.get(sym, entry.price)
        direction = 1 if entry.intent.side == "buy" else -1
        gross = direction * qty * (mark - entry.price)
        last_session = fed[sym].frame.index[-1]
        accrued = 0.0 if direction > 0 else float(costs.borrow_fee(
            listing=sym, market=get_listing(sym).market.code, quantity=qty, entry_price=entry.price,
            entry_session=entry.intent.session, exit_session=last_session))
        fx_end = ctx.fx_to_base(get_listing(sym).currency, end_utc) if end_utc is not None else 1.0
        ctx.trades.append(ctx._trade_row(entry, direction) | {
            "status": "open",
            "exit_reason": "open at end (marked at last close; borrow accrued to it)" if accrued
            else "open at end (marked at last close)",
            "gross_pnl_local": gross, "costs_local": entry.costs_local + accrued,
            "net_pnl_local": gross - entry.costs_local - accrued,
            # entry cash flow (base, at the entry FX) + the position's value and accrued borrow now
            "net_pnl_base": entry.flow_base + (direction * qty * mark - accrued) * fx_end,
        })
    cost_cols = sorted({k for f in ctx.fills for k in f} - set(FILL_COLUMNS))
    fills = pd.DataFrame(ctx.fills, columns=[*FILL_COLUMNS, *cost_cols])
    fills[cost_cols] = fills[cost_cols].fillna(0.0)
    trades = pd.DataFrame(sorted(ctx.trades, key=lambda r: r["trade_id"]), columns=list(TRADE_COLUMNS))
    by_trade = fills.groupby("trade_id")[cost_cols].sum() if len(fills) else pd.DataFrame(columns=cost_cols)
    for col in cost_cols:
        trades[f"{col}_local"] = trades["trade_id"].map(by_trade[col]).fillna(0.0).astype(float)
    equity = pd.DataFrame(ctx.equity_rows, columns=list(EQUITY_COLUMNS))
    positions = pd.DataFrame(ctx.position_rows, columns=list(POSITION_COLUMNS))
    returns = returns_on_clock(equity=equity, benchmark=benchmark, initial_cash_base=portfolio.initial_cash_base)
    bench = benchmark.frame[["open", "close", "close_utc"]]
    summary = summarise(equity=equity, trades=trades, fills=fills, returns=returns, benchmark=benchmark,
                        portfolio=portfolio, synthetic=any(b.synthetic for b in bars.values()))
    return BacktestResult(trades=trades, fills=fills, equity=equity, benchmark=bench, positions=positions,
                          returns=returns, summary=summary, notes=tuple(notes))


def returns_on_clock(*, equity: pd.DataFrame, benchmark: DailyBars, initial_cash_base: float) -> pd.DataFrame:
    """The portfolio and the benchmark on the benchmark's session clock.

    At each benchmark session close the portfolio's equity is the latest mark at or
    before that instant (US marks of the previous night count for a Hong Kong close);
    the first session's returns are measured from the initial cash and from the
    benchmark's first open, the span ``benchmark_return`` uses.

    Returns
    -------
    DataFrame
        ``RETURN_COLUMNS``: session, close_utc, equity_base, strategy_return,
        benchmark_close, benchmark_return, positions_base (net value held at that close).
    """
    frame = benchmark.frame
    closes_utc = pd.DatetimeIndex(frame["close_utc"])
    if len(equity):
        marks = equity.drop_duplicates("instant_utc", keep="last").set_index("instant_utc")
        marks.index = pd.DatetimeIndex(marks.index)
        asof = marks[["equity_base", "positions_base"]].reindex(marks.index.union(closes_utc)).ffill()
        asof = asof.reindex(closes_utc)
        level = asof["equity_base"].fillna(initial_cash_base).to_numpy(dtype=float)
        held = asof["positions_base"].fillna(0.0).to_numpy(dtype=float)
    else:
        level = pd.Series(initial_cash_base, index=closes_utc).to_numpy(dtype=float)
        held = level * 0.0
    prev_level = pd.Series(level).shift(1).fillna(initial_cash_base).to_numpy()
    bench_close = frame["close"].to_numpy(dtype=float)
    prev_bench = pd.Series(bench_close).shift(1).to_numpy(copy=True)
    if len(prev_bench):
        prev_bench[0] = float(frame["open"].iloc[0])
    return pd.DataFrame({
        "session": frame.index, "close_utc": closes_utc, "equity_base": level,
        "strategy_return": level / prev_level - 1.0, "benchmark_close": bench_close,
        "benchmark_return": bench_close / prev_bench - 1.0, "positions_base": held,
    }, columns=list(RETURN_COLUMNS))


def summarise(*, equity: pd.DataFrame, trades: pd.DataFrame, fills: pd.DataFrame, returns: pd.DataFrame,
              benchmark: DailyBars, portfolio: PortfolioSpec, synthetic: bool) -> dict[str, Any]:
    """Headline figures of a run (fractions, not percent; money in base currency).

    The top-level ``max_drawdown`` is measured on every mark (each traded listing's close,
    both markets); ``metrics["max_drawdown"]`` on the benchmark's session clock, like every
    other figure in ``metrics``. A US mark between two Hong Kong closes can make the first
    deeper.

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
        "allow_short": portfolio.allow_short,
        **_metrics(returns=returns, trades=trades, benchmark=benchmark),
    }


def _metrics(*, returns: pd.DataFrame, trades: pd.DataFrame, benchmark: DailyBars) -> dict[str, Any]:
    """``metrics`` and ``benchmark_metrics`` on the benchmark's clock, annualised with that
    exchange's sessions per year over the run's years."""
    if not len(returns):
        return {"metrics": {}, "benchmark_metrics": {}}
    code = get_listing(benchmark.symbol).market.calendar_code
    ppy = sessions_per_year(code, returns["session"].iloc[0], returns["session"].iloc[-1])
    index = pd.DatetimeIndex(returns["session"])
    strat = pd.Series(returns["strategy_return"].to_numpy(), index=index)
    bench = pd.Series(returns["benchmark_return"].to_numpy(), index=index)
    closed = trades[(trades["status"] == "closed") & (trades["role"] == "trade")] if len(trades) else trades
    pnl = closed["net_pnl_base"].astype(float).tolist() if len(closed) else []
    exposure = pd.Series(returns["positions_base"].to_numpy() != 0, index=index)
    return {
        "metrics": performance_metrics(strategy_returns=strat, benchmark_returns=bench, periods_per_year=ppy,
                                       trade_pnl_base=pnl, exposure=exposure),
        "benchmark_metrics": benchmark_metrics(bench, periods_per_year=ppy),
        "annualisation": {"calendar": code, "periods_per_year": ppy},
    }

