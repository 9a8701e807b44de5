"""The strategy library on hand-made bars: every entry, exit, size, fee and note derivable on paper.

Bars sit on the real XHKG / XNYS calendars. Unless a test says otherwise the market cost
models charge nothing (``FREE``) so prices alone explain the P&L; the stock-borrow fee (1% a
year by default) and the index-proxy fee (1 bp) still apply where a test says so.

HK sessions used most (March 2025, no holidays)::

    idx  0    1    2    3    4    5     6     7     8     9
         3-03 3-04 3-05 3-06 3-07 3-10  3-11  3-12  3-13  3-14

A catalyst published 2025-03-04 20:00 HKT (after the HK close) has day 0 = 3-05 (idx 2) on
9988.HK and first trade at the 3-05 open (``next_open``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pytest

from backtests.config import ConfigError, parse_config
from backtests.costs import CostBook, CostBreakdown, Fill
from backtests.engine import PortfolioSpec, run_backtest
from backtests.metrics import METRIC_KEYS
from bars_factory import constant_fx
from data_loaders.calendars import sessions_between
from data_loaders.markets import get_listing
from data_loaders.schema import DailyBars
from data_loaders.validation import normalise_bars
from events.catalyst import Catalyst
from events.schedule import build_schedule
from strategies.base import HedgeSpec
from strategies.buy_and_hold import BuyAndHold, BuyAndHoldParams
from strategies.cross_listing_lead_lag import CrossListingLeadLag, CrossListingLeadLagParams
from strategies.event_fade import EventFade, EventFadeParams
from strategies.post_event_drift import PostEventDrift, PostEventDriftParams
from strategies.pre_event_run_up import PreEventRunUp, PreEventRunUpParams
from strategies.registry import build_params, resolve

T = pd.Timestamp
HK, US, IDX = "9988.HK", "BABA", "HSTECH"
MARCH = "2025-03-03"


class _Free:
    """Charges nothing, so prices alone explain the P&L (borrow fees are separate)."""

    def cost(self, fill: Fill) -> CostBreakdown:
        return CostBreakdown(currency="X", components=())


FREE = CostBook(by_market={"HK": _Free(), "US": _Free()})
CASH = PortfolioSpec(initial_cash_base=1_000_000)


def bars(symbol: str, start: str, rows: list[tuple[float, ...]]) -> DailyBars:
    """One bar per ``(open, close[, low])`` on consecutive real sessions of ``symbol`` from
    ``start``; high = max(open, close), low = min(open, close) unless given."""
    listing = get_listing(symbol)
    days = sessions_between(listing.market.calendar_code, T(start), T(start) + pd.Timedelta(days=90))
    assert len(days) >= len(rows)
    records = []
    for day, row in zip(days, rows):
        o, c = row[0], row[1]
        records.append({"date": f"{day:%Y-%m-%d}", "open": o, "high": max(o, c),
                        "low": row[2] if len(row) > 2 else min(o, c), "close": c, "adj_close": c,
                        "volume": 1000.0})
    return normalise_bars(pd.DataFrame(records), listing=listing, adjustment="raw", source="test",
                          origin=f"test:{symbol}")


def flat(n: int, price: float) -> list[tuple[float, float]]:
    return [(price, price)] * n


# 9988.HK, steadily rising: idx 2 opens 101, idx i >= 2 opens 97 + 2i and closes one higher.
RISING = [(100, 100), (100, 100), (101, 102), (103, 104), (105, 106), (107, 108), (109, 110),
          (111, 112), (113, 114), (115, 116)]
FX = constant_fx("2025-01-01", "2025-04-30")  # 7.8 HKD per USD


def cat(cid: str, when: str, *, kind: str = "other", sign: int | None = None, scheduled: bool = False,
        listings: tuple[str, ...] = (HK,)) -> Catalyst:
    """A catalyst published at ``when`` Hong Kong time, to the minute."""
    return Catalyst(id=cid, headline=f"test {cid}", published_at=T(when, tz="Asia/Hong_Kong"),
                    precision="minute", kind=kind, expected_sign=sign, scheduled=scheduled, listings=listings)


AFTER_HK_CLOSE_0304 = "2025-03-04 20:00"  # 9988.HK: day 0 = 3-05 (idx 2), first trade 3-05 open


def run(strategy, params, catalysts, *, listings: dict[str, DailyBars], bench: DailyBars | None = None,
        portfolio: PortfolioSpec = CASH, costs: CostBook = FREE, hedge: HedgeSpec | None = None):
    return run_backtest(strategy=strategy, strategy_config=params, bars=listings,
                        schedule=build_schedule(catalysts), benchmark=bench if bench is not None else bars(IDX, MARCH, flat(10, 2000.0)),
                        fx=FX, portfolio=portfolio, costs=costs, hedge=hedge)


def drift(catalysts, rows=RISING, **params):
    cfg = PostEventDriftParams(notional_per_trade_base=105_000, **({"hold_sessions": 2} | params))
    return run(PostEventDrift, cfg, catalysts, listings={HK: bars(HK, MARCH, rows)})


def one(result) -> pd.Series:
    assert len(result.trades) == 1, result.trades
    return result.trades.iloc[0]


# ------------------------------------------------------------------------- PostEventDrift
def test_drift_long_enters_at_first_open_and_exits_after_hold() -> None:
    t = one(drift([cat("a", AFTER_HK_CLOSE_0304)], direction="long"))
    assert (t.direction, t.entry_session, t.entry_point, t.entry_price) == (1, T("2025-03-05"), "open", 101.0)
    # sized from the previous close: floor(105,000 / (100 x 100 shares)) = 10 lots
    assert t.quantity == 1000
    # held 2 HK sessions: idx 2 -> idx 4 (3-07), at the open
    assert (t.exit_session, t.exit_point, t.exit_price) == (T("2025-03-07"), "open", 105.0)
    assert t.exit_reason == "held 2 sessions" and t.holding_sessions == 2
    assert t.net_pnl_base == pytest.approx(4000.0)  # 1000 x (105 - 101), no costs, no borrow on a long
    assert t.borrow_fee_local == 0.0


def test_drift_short_pays_the_borrow_fee_on_its_exit_fill() -> None:
    r = drift([cat("a", AFTER_HK_CLOSE_0304)], direction="short", hold_sessions=5)
    t = one(r)
    assert (t.direction, t.quantity, t.entry_price) == (-1, 1000, 101.0)
    assert (t.exit_session, t.exit_price) == (T("2025-03-12"), 111.0)  # idx 7 open
    # 1000 x 101 x 1% x 7 calendar days (3-05 -> 3-12) / 365 = 19.3699 -> 19.37
    assert t.borrow_fee_local == pytest.approx(19.37)
    fills = r.fills.set_index("side")
    assert fills.loc["sell", "borrow_fee"] == 0.0 and fills.loc["buy", "borrow_fee"] == pytest.approx(19.37)
    # -1000 x (111 - 101) - 19.37
    assert t.gross_pnl_local == pytest.approx(-10_000.0)
    assert t.net_pnl_base == pytest.approx(-10_019.37)
    assert r.summary["final_equity_base"] == pytest.approx(1_000_000 - 10_019.37)


def test_drift_borrow_fee_uses_the_configured_rate() -> None:
    costs = CostBook(by_market=FREE.by_market, borrow_rate_annual={"HK": Decimal("0.0365"), "US": Decimal(0)})
    cfg = PostEventDriftParams(notional_per_trade_base=105_000, hold_sessions=5, direction="short")
    t = one(run(PostEventDrift, cfg, [cat("a", AFTER_HK_CLOSE_0304)], listings={HK: bars(HK, MARCH, RISING)},
                costs=costs))
    assert t.borrow_fee_local == pytest.approx(70.70)  # 1000 x 101 x 3.65% x 7 / 365 = 101,000 x 0.0007


def test_drift_short_refused_when_portfolio_forbids_shorts() -> None:
    cfg = PostEventDriftParams(notional_per_trade_base=105_000, direction="short")
    r = run(PostEventDrift, cfg, [cat("a", AFTER_HK_CLOSE_0304)], listings={HK: bars(HK, MARCH, RISING)},
            portfolio=PortfolioSpec(initial_cash_base=1_000_000, allow_short=False))
    assert len(r.trades) == 0 and len(r.fills) == 0
    assert any("skip entry for a" in n and "allow_short = false" in n for n in r.notes), r.notes
    assert r.summary["final_equity_base"] == 1_000_000


def test_drift_expected_direction_follows_the_sign_and_skips_unsigned() -> None:
    cats = [cat("up", AFTER_HK_CLOSE_0304, sign=1),            # day 0 3-05 (idx 2)
            cat("down", "2025-03-06 20:00", sign=-1),           # day 0 3-07 (idx 4)
            cat("nosign", "2025-03-10 20:00")]                  # day 0 3-11 (idx 6)
    r = drift(cats, direction="expected")
    t = r.trades.set_index("catalyst_id")
    assert set(t.index) == {"up", "down"}
    assert (t.loc["up", "direction"], t.loc["up", "entry_price"], t.loc["up", "quantity"]) == (1, 101.0, 1000)
    # short at the idx 4 open 105, sized from the idx 3 close 104: floor(105,000 / 10,400) = 10 lots
    assert (t.loc["down", "direction"], t.loc["down", "entry_price"], t.loc["down", "quantity"]) == (-1, 105.0, 1000)
    assert t.loc["down", "exit_price"] == 109.0  # idx 6 open
    assert [n for n in r.notes if "nosign@9988.HK: no expected_sign" in n] == [
        "2025-03-11 01:30Z nosign@9988.HK: no expected_sign in the calendar; not traded"]


def test_drift_kinds_filter_trades_only_listed_kinds() -> None:
    cats = [cat("prod", AFTER_HK_CLOSE_0304, kind="product"), cat("earn", "2025-03-06 20:00", kind="earnings")]
    r = drift(cats, kinds=("earnings",))
    assert list(r.trades["catalyst_id"]) == ["earn"]
    assert one(r).entry_session == T("2025-03-07")
    assert list(drift(cats).trades["catalyst_id"]) == ["prod", "earn"]  # no filter: both


# idx 2 opens 100 (entry); its low touches 90 (-10%) but it closes 97 (-3%): no stop at that close;
# idx 3 closes 94.5 (-5.5%) -> stop; exit at the idx 4 open, 93.
STOPPED = [(100, 100), (100, 100), (100, 97, 90), (96, 94.5), (93, 95), (95, 95), (95, 95), (95, 95)]


def test_drift_stop_loss_is_close_triggered_and_exits_at_next_open() -> None:
    t = one(drift([cat("a", AFTER_HK_CLOSE_0304)], rows=STOPPED, hold_sessions=5, stop_loss_pct=0.05))
    assert (t.entry_session, t.entry_price, t.quantity) == (T("2025-03-05"), 100.0, 1000)
    assert (t.exit_session, t.exit_point, t.exit_price) == (T("2025-03-07"), "open", 93.0)
    assert t.exit_reason.startswith("stop_loss") and t.exit_reason == "stop_loss 5.00%"
    assert t.net_pnl_base == pytest.approx(-7000.0)  # 1000 x (93 - 100)


def test_drift_stop_that_does_not_trigger_leaves_the_hold_exit() -> None:
    # worst close 94.5 is -5.5%: a 6% stop never triggers; held 5 sessions -> idx 7 (3-12) open 95
    t = one(drift([cat("a", AFTER_HK_CLOSE_0304)], rows=STOPPED, hold_sessions=5, stop_loss_pct=0.06))
    assert (t.exit_session, t.exit_price, t.exit_reason) == (T("2025-03-12"), 95.0, "held 5 sessions")


def test_drift_short_stop_loss_triggers_on_a_rise() -> None:
    rows = [(100, 100), (100, 100), (100, 103), (104, 106), (107, 107), (107, 107), (107, 107), (107, 107)]
    t = one(drift([cat("a", AFTER_HK_CLOSE_0304)], rows=rows, direction="short", hold_sessions=5,
                  stop_loss_pct=0.05))
    # short from 100: close 103 is -3% for the short, 106 is -6% -> stop; buy back at the idx 4 open 107
    assert (t.direction, t.exit_session, t.exit_price, t.exit_reason) == (-1, T("2025-03-07"), 107.0,
                                                                          "stop_loss 5.00%")
    # borrow: 1000 x 100 x 1% x 2 days (3-05 -> 3-07) / 365 = 5.479 -> 5.48
    assert t.borrow_fee_local == pytest.approx(5.48)
    assert t.net_pnl_base == pytest.approx(-7000.0 - 5.48)


def test_drift_take_profit() -> None:
    rows = [(100, 100), (100, 100), (100, 105), (106, 111), (112, 112), (112, 112), (112, 112), (112, 112)]
    t = one(drift([cat("a", AFTER_HK_CLOSE_0304)], rows=rows, hold_sessions=5, take_profit_pct=0.10))
    # close 105 = +5%, close 111 = +11% >= 10% -> exit at the idx 4 open 112
    assert (t.exit_session, t.exit_price, t.exit_reason) == (T("2025-03-07"), 112.0, "take_profit 10.00%")
    assert t.net_pnl_base == pytest.approx(12_000.0)  # 1000 x (112 - 100)


def test_drift_trailing_stop_is_measured_from_the_best_close() -> None:
    # closes since the 100 entry: 104, 110 (best), 106 (-3.6% from best), 104 (-5.45% from best; +4% from entry)
    rows = [(100, 100), (100, 100), (100, 104), (105, 110), (109, 106), (105, 104), (103, 103), (103, 103),
            (103, 103)]
    t = one(drift([cat("a", AFTER_HK_CLOSE_0304)], rows=rows, hold_sessions=6, trailing_stop_pct=0.05,
                  stop_loss_pct=0.05))
    # the trailing stop triggers at the idx 5 close (3-10); exit at the idx 6 open 103; the 5% stop-loss
    # (vs entry) never triggered
    assert (t.exit_session, t.exit_price, t.exit_reason) == (T("2025-03-11"), 103.0, "trailing_stop 5.00%")
    assert t.net_pnl_base == pytest.approx(3000.0)


# ------------------------------------------------------------------------- PreEventRunUp
EARNINGS = cat("earn", "2025-03-11 20:00", kind="earnings", scheduled=True)  # day 0 = 3-12 (idx 7)
UNSCHEDULED = cat("news", "2025-03-06 20:00", kind="earnings")               # day 0 = 3-07 (idx 4)


def test_run_up_enters_k_sessions_before_day0_and_exits_at_its_close() -> None:
    cfg = PreEventRunUpParams(enter_sessions_before=2, notional_per_trade_base=105_000)
    r = run(PreEventRunUp, cfg, [EARNINGS, UNSCHEDULED], listings={HK: bars(HK, MARCH, RISING)})
    t = one(r)  # the unscheduled catalyst is ignored
    assert t.catalyst_id == "earn"
    # 2 sessions before idx 7 = idx 5 (3-10) open 107; sized from the idx 4 close 106:
    # floor(105,000 / 10,600) = 9 lots
    assert (t.entry_session, t.entry_point, t.entry_price, t.quantity) == (T("2025-03-10"), "open", 107.0, 900)
    # exit at day 0's close: idx 7 (3-12) close 112
    assert (t.exit_session, t.exit_point, t.exit_price) == (T("2025-03-12"), "close", 112.0)
    assert t.net_pnl_base == pytest.approx(4500.0)  # 900 x (112 - 107)


def test_run_up_can_exit_at_an_open_after_day0() -> None:
    cfg = PreEventRunUpParams(enter_sessions_before=3, exit_sessions_after=1, exit_point="open",
                              notional_per_trade_base=105_000)
    t = one(run(PreEventRunUp, cfg, [EARNINGS], listings={HK: bars(HK, MARCH, RISING)}))
    # enter idx 4 (3-07) open 105 sized from 104 -> 10 lots; exit idx 8 (3-13) open 113
    assert (t.entry_session, t.entry_price, t.quantity) == (T("2025-03-07"), 105.0, 1000)
    assert (t.exit_session, t.exit_point, t.exit_price) == (T("2025-03-13"), "open", 113.0)


def test_run_up_counts_sessions_of_the_listing_across_a_holiday() -> None:
    # scheduled news 2025-01-30 20:00 HKT, HK closed 01-29..31 -> day 0 = 02-03 (idx 7 of HK_LNY below);
    # 2 HK sessions before = 01-27 (idx 5; 01-28 is idx 6), not 01-31
    cfg = PreEventRunUpParams(enter_sessions_before=2, notional_per_trade_base=105_000)
    t = one(run(PreEventRunUp, cfg, [cat("lny", "2025-01-30 20:00", kind="earnings", scheduled=True)],
                listings={HK: bars(HK, "2025-01-20", HK_LNY)}, bench=bars(IDX, "2025-01-20", flat(12, 4000.0))))
    assert (t.entry_session, t.entry_price, t.quantity) == (T("2025-01-27"), 100.0, 1000)
    assert (t.exit_session, t.exit_point, t.exit_price) == (T("2025-02-03"), "close", 108.0)
    assert t.holding_sessions == 2


def test_run_up_ignores_unscheduled_catalysts() -> None:
    cfg = PreEventRunUpParams(enter_sessions_before=2, notional_per_trade_base=105_000)
    r = run(PreEventRunUp, cfg, [UNSCHEDULED], listings={HK: bars(HK, MARCH, RISING)})
    assert len(r.trades) == 0


# ------------------------------------------------------------------------- EventFade
def fade(hk_day0_close: float, bench_day0_close: float, threshold: float = 0.05):
    # day 0 = idx 2 (3-05): 9988.HK 100 -> hk_day0_close, HSTECH 4000 -> bench_day0_close
    hk = [(100, 100), (100, 100), (101, hk_day0_close), (108, 107), (106, 105), (104, 104), (104, 104),
          (104, 104)]
    bench = [(4000, 4000), (4000, 4000), (4000, bench_day0_close), *flat(5, bench_day0_close)]
    cfg = EventFadeParams(threshold=threshold, hold_sessions=2, notional_per_trade_base=105_000)
    return run(EventFade, cfg, [cat("f", AFTER_HK_CLOSE_0304)], listings={HK: bars(HK, MARCH, hk)},
               bench=bars(IDX, MARCH, bench))


def test_fade_shorts_a_large_abnormal_rise_at_the_open_after_day0() -> None:
    t = one(fade(110, 4080))
    # AR = +10% - 2% = +8% > 5% -> short at the first open after day 0's close: idx 3 (3-06) open 108,
    # sized from day 0's close 110: floor(105,000 / 11,000) = 9 lots
    assert (t.direction, t.entry_session, t.entry_price, t.quantity) == (-1, T("2025-03-06"), 108.0, 900)
    assert (t.exit_session, t.exit_price) == (T("2025-03-10"), 104.0)  # 2 sessions later, idx 5 open
    assert t.exit_reason == "held 2 sessions"
    # 900 x (108 - 104) = 3600; borrow 900 x 108 x 1% x 4 days / 365 = 10.652 -> 10.65
    assert t.borrow_fee_local == pytest.approx(10.65)
    assert t.net_pnl_base == pytest.approx(3600.0 - 10.65)


def test_fade_buys_a_large_abnormal_fall() -> None:
    t = one(fade(90, 4080))  # AR = -10% - 2% = -12% -> long at idx 3 open 108, sized from 90: 11 lots
    assert (t.direction, t.entry_price, t.quantity) == (1, 108.0, 1100)


def test_fade_ignores_a_move_the_benchmark_explains() -> None:
    # raw +10%, but the index rose 6%: AR = +4% <= 5%
    r = fade(110, 4240)
    assert len(r.trades) == 0
    # and a 2% abnormal move below a 3% threshold
    assert len(fade(110, 4320, threshold=0.03).trades) == 0  # +10% - 8% = 2%


# ------------------------------------------------------------------------- CrossListingLeadLag
# Qwen2.5-Max: 2025-01-29 00:00-03:00 Beijing, during HK's Lunar New Year break (closed 01-29..31).
# BABA: day 0 = 01-28 (its close 21:00 UTC is after the news), first trade 01-29 open -> the leader.
# 9988.HK: day 0 = first trade = 02-03 (its first session after the break) -> the lagger.
QWEN = Catalyst(id="qwen25max", headline="model release", kind="product",
                published_at=T("2025-01-29 00:00", tz="Asia/Shanghai"),
                published_until=T("2025-01-29 03:00", tz="Asia/Shanghai"), precision="range",
                listings=(HK, US))
# HK sessions from 01-20: 20 21 22 23 24 27 28 | 02-03 (idx 7) 04 05 06 07
HK_LNY = [*flat(7, 100.0), (108, 108), (109, 109), (110, 110), (111, 111), (112, 112)]


def lead_lag(baba_last_close: float, **params):
    # BABA sessions from 01-21: 21 22 23 24 27 28 29 30 31 (idx 8) | 02-03 ...: 50 USD, then the 01-31
    # close is the one the strategy sees at 9988.HK's 02-03 open
    baba = [*flat(8, 50.0), (50, baba_last_close), *flat(5, baba_last_close)]
    cfg = CrossListingLeadLagParams(hold_sessions=2, **params)
    return run(CrossListingLeadLag, cfg, [QWEN],
               listings={HK: bars(HK, "2025-01-20", HK_LNY), US: bars(US, "2025-01-21", baba)},
               bench=bars(IDX, "2025-01-20", flat(12, 4000.0)))


def test_lead_lag_buys_the_laggard_toward_parity() -> None:
    r = lead_lag(112.0, notional_per_gap_base=2_000_000, max_notional_base=400_000)
    t = one(r)  # the leader (BABA) is not traded
    assert t.listing == HK and t.catalyst_id == "qwen25max"
    # implied 9988.HK = 112 USD x 7.8 / 8 = 109.20 HKD vs last close 100 -> gap +9.2% -> long
    # notional = min(400,000, 2,000,000 x 0.092 = 184,000) = 184,000 -> floor(184,000 / 10,000) = 18 lots
    assert (t.direction, t.quantity) == (1, 1800)
    assert (t.entry_session, t.entry_point, t.entry_price) == (T("2025-02-03"), "open", 108.0)
    assert (t.exit_session, t.exit_price) == (T("2025-02-05"), 110.0)
    assert t.net_pnl_base == pytest.approx(3600.0)  # 1800 x (110 - 108)


def test_lead_lag_notional_is_capped() -> None:
    # gap +9.2% x 5,000,000 = 460,000 > cap 395,000 -> floor(395,000 / 10,000) = 39 lots
    assert one(lead_lag(112.0, notional_per_gap_base=5_000_000, max_notional_base=395_000)).quantity == 3900


def test_lead_lag_shorts_a_negative_gap() -> None:
    # implied 96 x 7.8 / 8 = 93.60 vs 100 -> gap -6.4% -> short 2,000,000 x 0.064 = 128,000 -> 12 lots
    t = one(lead_lag(96.0, notional_per_gap_base=2_000_000))
    assert (t.listing, t.direction, t.quantity, t.entry_price) == (HK, -1, 1200, 108.0)


def test_lead_lag_gap_below_minimum_is_not_traded() -> None:
    # implied 102.5 x 7.8 / 8 = 99.9375 vs 100 -> gap -0.0625% < 1%
    r = lead_lag(102.5, min_gap=0.01)
    assert len(r.trades) == 0
    assert "2025-02-03 01:30Z qwen25max@9988.HK: parity gap -0.06% vs BABA below 1.00%" in r.notes


# ------------------------------------------------------------------------- BenchmarkHedged
# HSTECH closes 2000, 2200 (+10%), 2090 (-5%), 2299 (+10%): 9988.HK closes 100, 120 (+20%),
# 108 (-10%), 129.6 (+20%): every listing return is exactly twice the index's -> OLS beta 2.
IDX_BETA = [(2000, 2000), (2000, 2200), (2200, 2090), (2090, 2299), (2300, 2310), (2320, 2330),
            (2350, 2340), (2340, 2340), (2340, 2340), (2340, 2340)]
HK_BETA = [(100, 100), (100, 120), (120, 108), (108, 129.6), (130, 131), (132, 133), (134, 135),
           (135, 135), (135, 135), (135, 135)]
AFTER_HK_CLOSE_0306 = "2025-03-06 20:00"  # 9988.HK: first trade 3-07 open (idx 4)


def hedged(min_beta_sessions: int, listings: dict[str, DailyBars], catalyst: Catalyst):
    params = build_params("benchmark_hedged", {
        "strategy": "post_event_drift", "beta_window_sessions": 5, "min_beta_sessions": min_beta_sessions,
        "params": {"hold_sessions": 2, "notional_per_trade_base": 105_000}})
    res = resolve("benchmark_hedged", params)
    assert res.strategy is PostEventDrift and res.hedge == HedgeSpec(beta_window_sessions=5,
                                                                     min_beta_sessions=min_beta_sessions)
    return run_backtest(strategy=res.strategy, strategy_config=res.config, bars=listings,
                        schedule=build_schedule([catalyst]), benchmark=bars(IDX, MARCH, IDX_BETA), fx=FX,
                        portfolio=CASH, costs=CostBook(), hedge=res.hedge)


def test_hedge_is_short_beta_times_the_trade_value() -> None:
    r = hedged(3, {HK: bars(HK, MARCH, HK_BETA)}, cat("h", AFTER_HK_CLOSE_0306))
    t = r.trades.set_index("role")
    trade, hedge = t.loc["trade"], t.loc["hedge"]
    # the trade: 3-07 open 130, sized from 129.6: floor(105,000 / 12,960) = 8 lots = 800 shares
    assert (trade.listing, trade.direction, trade.quantity, trade.entry_price) == (HK, 1, 800, 130.0)
    # value 800 x 129.6 = 103,680; beta 2 -> short 207,360 of HSTECH at ref 2299: floor(90.19) = 90 units,
    # at the index's open at the same instant (3-07 09:30 HKT), 2300
    assert (hedge.listing, hedge.direction, hedge.quantity) == (IDX, -1, 90)
    assert (hedge.entry_session, hedge.entry_price, hedge.catalyst_id) == (T("2025-03-07"), 2300.0, "h")
    assert hedge.entry_utc == trade.entry_utc == T("2025-03-07 01:30", tz="UTC")
    # trade exits 2 sessions later at the 3-11 open (134); the hedge is lifted at the index's 3-11 open 2350
    assert (trade.exit_session, trade.exit_price) == (T("2025-03-11"), 134.0)
    assert (hedge.exit_session, hedge.exit_price, hedge.status) == (T("2025-03-11"), 2350.0, "closed")
    assert hedge.exit_reason == "hedged trade h@9988.HK exited"
    # index proxy: 1 bp a side, no stamp duty, no borrow fee:
    # 90 x 2300 x 0.0001 = 20.70 and 90 x 2350 x 0.0001 = 21.15
    fills = r.fills[r.fills["listing"] == IDX]
    assert list(fills["index_proxy_fee"]) == pytest.approx([20.70, 21.15])
    assert list(fills["stamp_duty"]) == [0.0, 0.0] and list(fills["borrow_fee"]) == [0.0, 0.0]
    assert hedge.gross_pnl_local == pytest.approx(-4500.0)  # -90 x (2350 - 2300)
    assert hedge.net_pnl_base == pytest.approx(-4500.0 - 20.70 - 21.15)
    # the HK leg pays stamp duty: 0.1% of 800 x 130 = 104 and of 800 x 134 = 107.2 -> 108 (rounded up)
    assert list(r.fills[r.fills["listing"] == HK]["stamp_duty"]) == [104.0, 108.0]


def test_hedged_marks_at_a_shared_close_use_both_closes() -> None:
    # 9988.HK and HSTECH close at the same instant (16:00 HKT): every mark at that instant must value
    # HSTECH at its close of that session, not the previous one, and list each position once.
    r = hedged(3, {HK: bars(HK, MARCH, HK_BETA)}, cat("h", AFTER_HK_CLOSE_0306))
    # cash after the 3-07 open: 1,000,000 - 800 x 130 - 114.93 HK costs (stamp 104, SFC 2.81, AFRC 0.16,
    # trading 5.88, settlement 2.08) + 90 x 2300 - 20.70 = 1,102,864.37
    # 3-07 close: + 800 x 131 - 90 x 2310 = -103,100 -> 999,764.37 (not -90 x 2299, the 3-06 close)
    # 3-10 close: + 800 x 133 - 90 x 2330 = -103,300 -> 999,564.37
    by_instant = r.equity.groupby("instant_utc")["equity_base"]
    assert (by_instant.max() - by_instant.min()).abs().max() == pytest.approx(0.0)
    eq = by_instant.last()
    assert eq[T("2025-03-07 08:00", tz="UTC")] == pytest.approx(999_764.37)
    assert eq[T("2025-03-10 08:00", tz="UTC")] == pytest.approx(999_564.37)
    # after the 3-11 exits: - 119.25 HK costs on 800 x 134, - 90 x 2350 - 21.15 -> 998,423.97
    assert r.summary["final_equity_base"] == pytest.approx(998_423.97)
    # deepest fall from the 1,000,000 start: 998,423.97 / 1,000,000 - 1
    assert r.summary["max_drawdown"] == pytest.approx(-0.00157603)
    assert r.summary["metrics"]["max_drawdown"] == pytest.approx(-0.00157603)
    pos = r.positions
    assert not pos.duplicated(["instant_utc", "listing"]).any()
    assert list(zip(pos["session"], pos["listing"], pos["price_local"])) == [
        (T("2025-03-07"), HK, 131.0), (T("2025-03-07"), IDX, 2310.0),
        (T("2025-03-10"), HK, 133.0), (T("2025-03-10"), IDX, 2330.0)]


def test_hedge_with_too_few_returns_uses_beta_one_and_says_so() -> None:
    r = hedged(4, {HK: bars(HK, MARCH, HK_BETA)}, cat("h", AFTER_HK_CLOSE_0306))
    hedge = r.trades.set_index("role").loc["hedge"]
    # 3 returns < 4: beta 1 -> 103,680 / 2299 = 45.1 -> 45 units
    assert hedge.quantity == 45
    assert "2025-03-07 01:30Z 9988.HK: 3 aligned returns (< 4) for the HSTECH beta; hedging with beta 1" in r.notes


def test_hedge_of_a_us_trade_waits_for_the_next_hk_open() -> None:
    baba = [(100, 100), (100, 100), (100, 100), (101, 102), (103, 104), (105, 106), (107, 108), (109, 110)]
    # published 3-06 20:00 HKT = 12:00 UTC -> BABA first trade at the 3-06 open (14:30 UTC), idx 3
    r = hedged(3, {US: bars(US, MARCH, baba)}, cat("u", AFTER_HK_CLOSE_0306, listings=(US,)))
    t = r.trades.set_index("role")
    trade, hedge = t.loc["trade"], t.loc["hedge"]
    # 105,000 HKD / (100 USD x 7.8) = 134.6 -> 134 ADS at 101
    assert (trade.entry_session, trade.entry_price, trade.quantity) == (T("2025-03-06"), 101.0, 134)
    # BABA's 2 returns (3-04, 3-05) align with 2 of HSTECH's -> < 3 -> beta 1: 134 x 100 x 7.8 = 104,520 HKD;
    # hedge at HSTECH's next open (3-07 09:30 HKT, 2300) sized from its 3-06 close 2299 -> 45 units
    assert (hedge.entry_session, hedge.entry_price, hedge.quantity, hedge.direction) == (
        T("2025-03-07"), 2300.0, 45, -1)
    assert hedge.entry_utc == T("2025-03-07 01:30", tz="UTC")
    # BABA exits at the 3-10 open (idx 5; 13:30 UTC, New York on DST); the hedge at HSTECH's next open 3-11
    assert (trade.exit_session, trade.exit_price) == (T("2025-03-10"), 105.0)
    assert (hedge.exit_session, hedge.exit_price) == (T("2025-03-11"), 2350.0)
    assert any("BABA: 2 aligned returns (< 3)" in n for n in r.notes), r.notes


# ------------------------------------------------------------------------- BuyAndHold
def test_buy_and_hold_listings_enter_at_second_open_and_stay_open() -> None:
    hk = [(100, 100), (101, 102), *flat(6, 103.0)]
    baba = [(50, 50), (51, 52), *flat(6, 53.0)]
    r = run(BuyAndHold, BuyAndHoldParams(instrument="listings", fraction_of_cash=0.95), [],
            listings={HK: bars(HK, MARCH, hk), US: bars(US, MARCH, baba)})
    t = r.trades.set_index("listing")
    # 950,000 split in two: 475,000 each
    # 9988.HK: floor(475,000 / (100 x 100)) = 47 lots at the 3-04 open 101
    assert (t.loc[HK, "entry_session"], t.loc[HK, "entry_price"], t.loc[HK, "quantity"]) == (
        T("2025-03-04"), 101.0, 4700)
    # BABA: floor(475,000 / (50 x 7.8)) = floor(1217.9) = 1217 ADS at the 3-04 open 51
    assert (t.loc[US, "entry_session"], t.loc[US, "entry_price"], t.loc[US, "quantity"]) == (
        T("2025-03-04"), 51.0, 1217)
    assert set(t["status"]) == {"open"} and set(t["exit_reason"]) == {"open at end (marked at last close)"}
    # marked at the last closes: 4700 x (103 - 101) and 1217 x (53 - 51) USD
    assert t.loc[HK, "gross_pnl_local"] == pytest.approx(9400.0)
    assert t.loc[US, "gross_pnl_local"] == pytest.approx(2434.0)
    # equity = 1,000,000 + 9400 + 2434 x 7.8 = 1,028,385.2
    assert r.summary["final_equity_base"] == pytest.approx(1_028_385.2)


def test_buy_and_hold_benchmark_through_the_index_proxy() -> None:
    idx = [(3000, 3000), (3010, 3020), *flat(6, 3100.0)]
    r = run(BuyAndHold, BuyAndHoldParams(instrument="benchmark"), [],
            listings={HK: bars(HK, MARCH, flat(8, 100.0))}, bench=bars(IDX, MARCH, idx), costs=CostBook())
    t = one(r)
    # floor(950,000 / 3000) = 316 units at the index's 3-04 open 3010; fee 316 x 3010 x 1 bp = 95.116 -> 95.12
    assert (t.listing, t.entry_session, t.entry_price, t.quantity, t.status) == (
        IDX, T("2025-03-04"), 3010.0, 316, "open")
    assert t.costs_local == pytest.approx(95.12) and t.index_proxy_fee_local == pytest.approx(95.12)
    assert "stamp_duty_local" not in r.trades.columns  # an index proxy pays no stamp duty
    assert t.gross_pnl_local == pytest.approx(316 * 90.0)  # marked at 3100
    assert r.summary["final_equity_base"] == pytest.approx(1_000_000 + 28_440 - 95.12)


# ------------------------------------------------------------------------- metrics plumbing
def test_metrics_returns_on_benchmark_clock_and_positions() -> None:
    # BABA only; news at 3-04 20:00 HKT = 12:00 UTC, before New York's 3-04 open (14:30 UTC)
    baba = [(50, 50), (50, 50), (51, 52), (53, 54), (55, 56), (57, 58), (59, 60), (61, 62)]
    cfg = PostEventDriftParams(notional_per_trade_base=105_000, hold_sessions=3)
    bench = bars(IDX, MARCH, flat(8, 2000.0))
    r = run(PostEventDrift, cfg, [cat("b", "2025-03-04 20:00", listings=(US,))],
            listings={US: bars(US, MARCH, baba)}, bench=bench)
    t = one(r)
    # first open after 3-04 12:00 UTC = BABA's 3-04 open (14:30 UTC), idx 1 at 50, sized from the
    # 3-03 close: floor(105,000 / (50 x 7.8)) = 269 ADS
    assert (t.entry_session, t.entry_price, t.quantity) == (T("2025-03-04"), 50.0, 269)
    assert (t.exit_session, t.exit_price) == (T("2025-03-07"), 55.0)  # idx 4 open

    assert tuple(r.summary["metrics"]) == METRIC_KEYS
    ret = r.returns
    assert list(ret["session"]) == list(bench.frame.index)  # the HSTECH clock
    eq = ret.set_index("session")["equity_base"]
    # HK 3-04 close (08:00 UTC) is before the BABA fill: still cash
    assert eq[T("2025-03-04")] == 1_000_000
    # HK 3-05 close (08:00 UTC 3-05) carries BABA's 3-04 close mark (21:00 UTC 3-04):
    # cash 1,000,000 - 269 x 50 x 7.8 + 269 x 50 x 7.8 = 1,000,000 (closed flat at 50)
    assert eq[T("2025-03-05")] == pytest.approx(1_000_000)
    # HK 3-06 close carries BABA's 3-05 close 52: + 269 x 2 x 7.8 = 4196.4
    assert eq[T("2025-03-06")] == pytest.approx(1_004_196.4)
    assert ret.set_index("session").loc[T("2025-03-06"), "strategy_return"] == pytest.approx(4196.4 / 1_000_000)
    # after the 3-07 exit at 55: + 269 x 5 x 7.8 = 10,491 from BABA's 3-07 close onwards (HK 3-10)
    assert eq[T("2025-03-10")] == pytest.approx(1_010_491.0)

    pos = r.positions
    assert list(pos["session"]) == [T("2025-03-04"), T("2025-03-05"), T("2025-03-06")]
    assert set(pos["listing"]) == {US} and set(pos["quantity"]) == {269} and set(pos["fx_to_base"]) == {7.8}
    assert list(pos["price_local"]) == [50.0, 52.0, 54.0]
    assert list(pos["market_value_base"]) == pytest.approx([269 * 50 * 7.8, 269 * 52 * 7.8, 269 * 54 * 7.8])


# ------------------------------------------------------------------------- bad parameters
@pytest.mark.parametrize(("name", "table", "pattern"), [
    ("post_event_drift", {"hold_sessions": -1},
     r"hold_sessions must be a whole number >= 1, got -1; e.g. hold_sessions = 5"),
    ("post_event_drift", {"hold_sessions": 0}, r"hold_sessions must be a whole number >= 1, got 0"),
    ("post_event_drift", {"kinds": ["prodcut"]}, r"kinds entry = 'prodcut' is not allowed — did you mean "
                                                 r"'product'\? Use one of: product, partnership"),
    ("post_event_drift", {"direction": "lnog"}, r"direction = 'lnog' is not allowed — did you mean 'long'\? "
                                                r"Use one of: long, short, expected"),
    ("post_event_drift", {"hold_session": 3}, r"unknown key 'hold_session' — did you mean 'hold_sessions'\?"),
    ("post_event_drift", {"stop_loss_pct": 0}, r"stop_loss_pct must be a positive fraction \(0.05 = 5%\)"),
    ("post_event_drift", {"stop_loss_pct": -0.05}, r"stop_loss_pct must be a positive fraction"),
    ("benchmark_hedged", {"strategy": "benchmark_hedged"},
     r"cannot wrap itself; set strategy = \"post_event_drift\""),
    ("pre_event_run_up", {"exit_sessions_after": 0, "exit_point": "open"},
     r"use exit_point = 'close' or exit_sessions_after >= 1"),
    ("event_fade", {"threshold": 0}, r"threshold must be a number > 0, got 0; e.g. threshold = 0.03"),
    ("benchmark_hedged", {"params": {"hold_sesions": 2}}, r"did you mean 'hold_sessions'"),
])
def test_bad_params_are_refused_with_a_fix(name: str, table: dict, pattern: str) -> None:
    with pytest.raises(ValueError, match=pattern):
        build_params(name, table)
    doc = {"strategy": {"name": name, "params": table}}
    with pytest.raises(ConfigError) as info:
        parse_config(doc, Path("/tmp/x.toml"))
    assert len(info.value.problems) == 1
    assert info.value.problems[0].startswith("[")
    assert re.search(pattern, info.value.problems[0])


def test_unknown_strategy_name_suggests_the_nearest() -> None:
    with pytest.raises(ConfigError, match=r"'post_event_drfit' is unknown — did you mean 'post_event_drift'"):
        parse_config({"strategy": {"name": "post_event_drfit"}}, Path("/tmp/x.toml"))


def test_open_short_at_the_end_accrues_borrow_and_has_a_base_pnl() -> None:
    # entered 3-05 at 101 (idx 2), held past the data's last session (idx 9 = 3-14), marked at its close 116
    t = one(drift([cat("a", AFTER_HK_CLOSE_0304)], direction="short", hold_sessions=50))
    assert t.status == "open" and t.quantity == 1000
    # 1000 x 101 x 1% x 9 calendar days (3-05 -> 3-14) / 365 = 24.904 -> 24.90
    assert t.costs_local == pytest.approx(24.90)
    assert t.gross_pnl_local == pytest.approx(-15_000.0)  # -1000 x (116 - 101)
    assert t.net_pnl_local == pytest.approx(-15_024.90)
    assert t.net_pnl_base == pytest.approx(-15_024.90)  # HKD listing, HKD base
    assert "borrow accrued" in t.exit_reason
