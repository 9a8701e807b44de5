"""Ledger arithmetic by hand: cash in base currency, FX at fill time."""

from decimal import Decimal

import pandas as pd
import pytest

from backtests.costs import CostBreakdown, Fill
from backtests.ledger import Ledger

T0 = pd.Timestamp("2025-02-12 14:30", tz="UTC")


def fill(side: str, qty: int, price: float, listing: str = "BABA") -> Fill:
    return Fill(listing=listing, market="US", side=side, quantity=qty, price=price, session=pd.Timestamp("2025-02-12"))


def costs(amount: str) -> CostBreakdown:
    return CostBreakdown(currency="USD", components=(("x", Decimal(amount)),))


def test_usd_round_trip_in_hkd_base() -> None:
    led = Ledger(base_currency="HKD", initial_cash_base=100_000.0)
    led.book(fill("buy", 100, 100.0), currency="USD", instant_utc=T0, costs=costs("1.00"), fx_to_base=7.8)
    # cash out: (10,000 + 1) USD x 7.8 = 78,007.80 HKD
    assert led.cash_base == pytest.approx(100_000 - 78_007.8)
    assert led.quantity("BABA") == 100
    led.book(fill("sell", 100, 110.0), currency="USD", instant_utc=T0, costs=costs("0.50"), fx_to_base=7.7)
    # cash in: (11,000 - 0.5) x 7.7 = 84,696.15
    assert led.cash_base == pytest.approx(100_000 - 78_007.8 + 84_696.15)
    assert led.quantity("BABA") == 0
    assert led.positions["BABA"].cost_basis_local == 0.0


def test_market_value_converts_per_currency() -> None:
    led = Ledger(base_currency="HKD", initial_cash_base=1e6)
    led.book(fill("buy", 100, 100.0), currency="USD", instant_utc=T0, costs=costs("0"), fx_to_base=7.8)
    led.book(Fill(listing="9988.HK", market="HK", side="buy", quantity=200, price=100.0,
                  session=pd.Timestamp("2025-02-12")), currency="HKD", instant_utc=T0,
             costs=costs("0"), fx_to_base=1.0)
    value = led.market_value_base({"BABA": 101.0, "9988.HK": 99.0}, {"USD": 7.8, "HKD": 1.0})
    assert value == pytest.approx(100 * 101 * 7.8 + 200 * 99)


def test_short_then_cover() -> None:
    led = Ledger(base_currency="USD", initial_cash_base=10_000.0)
    led.book(fill("sell", 10, 50.0), currency="USD", instant_utc=T0, costs=costs("0"), fx_to_base=1.0)
    assert led.quantity("BABA") == -10 and led.cash_base == 10_500.0
    led.book(fill("buy", 10, 45.0), currency="USD", instant_utc=T0, costs=costs("0"), fx_to_base=1.0)
    assert led.quantity("BABA") == 0 and led.cash_base == 10_050.0
