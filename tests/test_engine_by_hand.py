"""The engine on hand-made bars: every entry, exit, size and cash figure derivable on paper."""

from __future__ import annotations

import pandas as pd
import pytest

from backtests.costs import CostBook, CostBreakdown, Fill, HKCosts, USCosts
from backtests.engine import BacktestSetupError, PortfolioSpec, run_backtest
from bars_factory import constant_fx, make_bars
from events.catalyst import Catalyst
from events.schedule import build_schedule
from strategies.post_event_drift import PostEventDrift, PostEventDriftParams

T = pd.Timestamp


class _Free:
    """A cost model that charges nothing, so prices alone explain the P&L."""

    def cost(self, fill: Fill) -> CostBreakdown:
        return CostBreakdown(currency="X", components=())


FREE = CostBook(by_market={"HK": _Free(), "US": _Free()})

QWEN = Catalyst(id="qwen25max", headline="model release",
                published_at=T("2025-01-29 00:00", tz="Asia/Shanghai"),
                published_until=T("2025-01-29 03:00", tz="Asia/Shanghai"), precision="range",
                listings=("9988.HK", "BABA"))


def run(policy: str = "next_open", hold: int = 2, costs: CostBook = FREE):
    bars = {"9988.HK": make_bars("9988.HK", "2025-01-20", "2025-02-14"),
            "BABA": make_bars("BABA", "2025-01-20", "2025-02-14", open_=50.0)}
    return run_backtest(
        strategy=PostEventDrift,
        strategy_config=PostEventDriftParams(hold_sessions=hold, notional_per_trade_base=100_000),
        bars=bars, schedule=build_schedule([QWEN], fill_policy=policy),
        benchmark=make_bars("HSTECH", "2025-01-20", "2025-02-14", open_=4000.0),
        fx=constant_fx("2025-01-01", "2025-02-14"), portfolio=PortfolioSpec(initial_cash_base=1_000_000),
        costs=costs)


def test_next_open_entries_exits_and_sizes() -> None:
    r = run()
    t = r.trades.set_index("listing")
    # HK sessions from 2025-01-20: 20,21,22,23,24,27,28 | closed 29-31 | Feb 3 = index 7
    hk = t.loc["9988.HK"]
    assert hk.entry_session == T("2025-02-03") and hk.entry_point == "open"
    assert hk.entry_price == 107.0                       # open = 100 + 7
    # sized from the previous close (01-28: 106.5): floor(100,000 / 106.5 / 100) lots = 9 lots
    assert hk.quantity == 900
    assert hk.exit_session == T("2025-02-05") and hk.exit_price == 109.0
    assert hk.net_pnl_base == pytest.approx(900 * 2.0)
    # US sessions from 2025-01-20: 20 is MLK day (closed): 21,22,23,24,27,28,29 -> 01-29 = index 6
    us = t.loc["BABA"]
    assert us.entry_session == T("2025-01-29") and us.entry_price == 56.0
    # previous close 55.5 USD x 7.8 = 432.9 HKD per ADS -> floor(100,000 / 432.9) = 231
    assert us.quantity == 231
    assert us.exit_session == T("2025-01-31") and us.exit_price == 58.0
    assert us.net_pnl_base == pytest.approx(231 * 2.0 * 7.8)
    assert r.summary["final_equity_base"] == pytest.approx(1_000_000 + 1800 + 231 * 2 * 7.8)
    assert r.summary["trade_count"] == 2


def test_same_close_policy_buys_at_the_close_of_day0_in_us() -> None:
    r = run(policy="same_close")
    us = r.trades.set_index("listing").loc["BABA"]
    # news by 03:00 Beijing on 01-29 = 14:00 ET on 01-28, before the 15:50 MOC cut-off
    assert us.entry_session == T("2025-01-28") and us.entry_point == "close" and us.entry_price == 55.5
    # sized from that session's open (55.0 x 7.8 = 429 HKD): floor(100,000/429) = 233
    assert us.quantity == 233


def test_equity_is_marked_after_each_close_in_time_order() -> None:
    r = run()
    instants = list(r.equity["instant_utc"])
    assert instants == sorted(instants)
    assert set(r.equity["listing"]) == {"9988.HK", "BABA"}
    # cash only until the first fill (BABA, 2025-01-29 open)
    before = r.equity[r.equity["instant_utc"] < T("2025-01-29 14:30", tz="UTC")]
    assert (before["equity_base"] == 1_000_000).all()


def test_costs_reduce_pnl_by_exactly_the_booked_costs() -> None:
    free, costly = run(), run(costs=CostBook(by_market={"HK": HKCosts(), "US": USCosts()}))
    booked = (costly.fills["cost_total_local"] * costly.fills["fx_to_base"]).sum()
    assert booked > 0
    assert costly.summary["final_equity_base"] == pytest.approx(free.summary["final_equity_base"] - booked)


def test_listing_without_bars_is_refused_with_a_fix() -> None:
    empty = make_bars("9988.HK", "2025-01-20", "2025-02-14").between("2030-01-01", None)
    with pytest.raises(BacktestSetupError, match="no bars in the run period; widen"):
        run_backtest(strategy=PostEventDrift, strategy_config=PostEventDriftParams(),
                     bars={"9988.HK": empty}, schedule=build_schedule([QWEN]),
                     benchmark=make_bars("HSTECH", "2025-01-20", "2025-02-14"))


def test_foreign_listing_without_fx_is_refused() -> None:
    with pytest.raises(BacktestSetupError, match="USDHKD"):
        run_backtest(strategy=PostEventDrift, strategy_config=PostEventDriftParams(),
                     bars={"BABA": make_bars("BABA", "2025-01-20", "2025-02-14")},
                     schedule=build_schedule([QWEN]),
                     benchmark=make_bars("HSTECH", "2025-01-20", "2025-02-14"))
