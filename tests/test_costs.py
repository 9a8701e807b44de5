"""Cost schedules checked by hand against MARKETS.md."""

from decimal import Decimal

import pandas as pd
import pytest

from backtests.costs import CostBook, Fill, HKCosts, USCosts


def hk_fill(qty: int, price: float, day: str, side: str = "buy") -> Fill:
    return Fill(listing="9988.HK", market="HK", side=side, quantity=qty, price=price, session=pd.Timestamp(day))


def test_hk_buy_by_hand() -> None:
    # 2,200 shares at 92.55 = HK$203,610.00 on 2025-02-03
    c = HKCosts().cost(hk_fill(2200, 92.55, "2025-02-03")).as_dict()
    assert c["stamp_duty"] == 204.0          # 203.61 rounded UP to the whole dollar
    assert c["sfc_levy"] == 5.50             # 0.0027% = 5.49747 -> 5.50
    assert c["afrc_levy"] == 0.31            # 0.00015% = 0.305415 -> 0.31
    assert c["trading_fee"] == 11.50         # 0.00565% = 11.503965 -> 11.50
    assert c["settlement_fee"] == 4.07       # 0.002% = 4.0722 -> 4.07 (within 2..100)
    assert c["brokerage"] == 0.0
    assert float(HKCosts().cost(hk_fill(2200, 92.55, "2025-02-03")).total) == pytest.approx(225.38)


def test_hk_stamp_duty_rate_changed_on_2023_11_17() -> None:
    before = HKCosts().cost(hk_fill(1000, 80.0, "2023-11-16")).as_dict()["stamp_duty"]
    after = HKCosts().cost(hk_fill(1000, 80.0, "2023-11-17")).as_dict()["stamp_duty"]
    assert (before, after) == (104.0, 80.0)  # 0.13% vs 0.10% of 80,000


def test_hk_stamp_duty_rounds_up_even_a_cent() -> None:
    # 100 x 100.01 = 10,001.00 -> 0.1% = 10.001 -> HK$11
    assert HKCosts().cost(hk_fill(100, 100.01, "2025-03-03")).as_dict()["stamp_duty"] == 11.0


def test_hk_settlement_fee_floor_and_cap() -> None:
    small = HKCosts().cost(hk_fill(100, 10.0, "2025-03-03")).as_dict()["settlement_fee"]
    big = HKCosts().cost(hk_fill(100_000, 100.0, "2025-03-03")).as_dict()["settlement_fee"]
    assert (small, big) == (2.0, 100.0)


def test_hk_brokerage_minimum() -> None:
    model = HKCosts(brokerage_rate=Decimal("0.0003"), brokerage_min_hkd=Decimal("50"))
    assert model.cost(hk_fill(100, 100.0, "2025-03-03")).as_dict()["brokerage"] == 50.0   # 3.00 < 50
    assert model.cost(hk_fill(10_000, 100.0, "2025-03-03")).as_dict()["brokerage"] == 300.0


def us_fill(qty: int, price: float, day: str, side: str) -> Fill:
    return Fill(listing="BABA", market="US", side=side, quantity=qty, price=price, session=pd.Timestamp(day))


def test_us_buy_pays_no_regulatory_fees() -> None:
    assert float(USCosts().cost(us_fill(268, 99.39, "2025-01-29", "buy")).total) == 0.0


def test_us_sec_fee_by_date() -> None:
    # sale of 268 x 100.165 = 26,844.22 -> SEC 27.80/million = 0.7463 -> 0.75 (rounded up)
    c = USCosts().cost(us_fill(268, 100.165, "2025-02-05", "sell")).as_dict()
    assert c["sec_fee"] == 0.75
    assert c["finra_taf"] == 0.05            # 268 x 0.000166 = 0.0445 -> 0.05
    assert USCosts().cost(us_fill(268, 100.165, "2025-05-14", "sell")).as_dict()["sec_fee"] == 0.0


def test_us_taf_is_capped() -> None:
    assert USCosts().cost(us_fill(100_000, 10.0, "2025-06-02", "sell")).as_dict()["finra_taf"] == 8.30


def test_costbook_unknown_market_names_it() -> None:
    with pytest.raises(KeyError, match="no cost model for market 'JP'"):
        CostBook().cost(Fill(listing="X", market="JP", side="buy", quantity=1, price=1.0,
                             session=pd.Timestamp("2025-01-02")))
