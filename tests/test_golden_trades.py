"""Golden trades (issue 4, item 5): every trade of a small real scenario recomputed by hand.

Scenario: the four starred catalysts of the shipped calendar ``alibaba_2025`` (qwen25max,
apple_report, earnings_fy25q3, capex_380b) on 9988.HK and BABA, real prices from
``../shared/data/prices`` (the ``prices_dir`` fixture), run through the public path
(:func:`backtests.config.parse_config` + :func:`backtests.runner.run_config`):
2024-12-01..2025-04-30, HKD base, HK$1,000,000, ``post_event_drift`` with
``hold_sessions = 5`` and ``notional_per_trade_base = 200000``, fill policy ``next_open``.

Nothing below calls the engine's cost, FX or sizing code. Each expected number comes from
first principles:

* sessions: entry at the open of the first session after the news (reasons per trade in
  :data:`HAND_TRADES`), exit at the open 5 sessions of that listing later; the dates are
  literals, checked here against the exchange calendars (XHKG, XNYS; not the engine,
  which counts bars) and the CSV rows;
* prices: the RAW ``open``/``close`` columns of the CSV (PROVENANCE.md: ``open..close`` are
  traded prices, ``adj_close`` is dividend-adjusted and is never traded), read as text into
  :class:`~decimal.Decimal`; with slippage a buy fills at open × (1 + bps/10⁴), a sell at
  open × (1 − bps/10⁴);
* quantity: floor(200,000 / (previous close × FX × lot)) × lot; lot 100 for 9988.HK, 1 ADS
  for BABA; FX = 1 for HKD, and for BABA the USDHKD close known at the decision instant
  (the entry open, 09:30 ET = 14:30 UTC on every date here, before the 2025-03-09 DST
  switch). ``backtests/fx.py`` samples USDHKD as-of: a USDHKD row dated D is stamped
  D 23:00 UTC (``data_loaders/validation.py``), so at 14:30 UTC on day E the rate known is
  the close of the last USDHKD row dated before E (e.g. the 2025-01-28 row at the
  2025-01-29 open). The same rate converts the fill to HKD;
* costs: ``../shared/docs/MARKETS.md`` (see :func:`hk_costs`, :func:`us_costs`);
* P&L: gross local = qty × (exit − entry); net local = gross − both fills' costs;
  net HKD = (−buy consideration − buy costs) × FX at entry + (sell consideration − sell
  costs) × FX at exit (each USD leg at its own fill's rate).

Everything is asserted to the cent (|engine − hand| < 0.005); prices to 1e-9.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, ROUND_HALF_UP, Decimal
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from backtests.config import parse_config
from backtests.results import BacktestResult
from backtests.runner import run_config
from data_loaders.calendars import exchange_calendar

D = Decimal
CENT = D("0.01")
MONEY_TOL = 0.005  # "to the cent"
PRICE_TOL = 1e-9
INITIAL_CASH_HKD = D(1_000_000)
NOTIONAL_HKD = D(200_000)
HOLD_SESSIONS = 5
STARRED = ("qwen25max", "apple_report", "earnings_fy25q3", "capex_380b")
LOT = {"9988.HK": 100, "BABA": 1}
CALENDAR = {"9988.HK": "XHKG", "BABA": "XNYS"}
HK_COMPONENTS = ("stamp_duty", "sfc_levy", "afrc_levy", "trading_fee", "settlement_fee", "brokerage")
US_COMPONENTS = ("sec_fee", "finra_taf", "commission")


# --------------------------------------------------------------------------- the costs, by hand
def _cents(x: Decimal) -> Decimal:
    return x.quantize(CENT, ROUND_HALF_UP)


def hk_costs(consideration: Decimal, session: str, *, brokerage_rate: Decimal,
             brokerage_min_hkd: Decimal) -> dict[str, Decimal]:
    """One HK side, from MARKETS.md: stamp duty 0.10% (0.13% before 2023-11-17) rounded UP
    to the whole HK$; SFC levy 0.0027%, AFRC levy 0.00015%, trading fee 0.00565%, each to the
    cent; settlement 0.002% to the cent, min HK$2 max HK$100; brokerage = rate, with a
    minimum (0 when neither is set)."""
    stamp_rate = D("0.0010") if session >= "2023-11-17" else D("0.0013")
    brokerage = D(0)
    if brokerage_rate or brokerage_min_hkd:
        brokerage = max(_cents(consideration * brokerage_rate), brokerage_min_hkd)
    return {
        "stamp_duty": (consideration * stamp_rate).quantize(D(1), ROUND_CEILING),
        "sfc_levy": _cents(consideration * D("0.000027")),
        "afrc_levy": _cents(consideration * D("0.0000015")),
        "trading_fee": _cents(consideration * D("0.0000565")),
        "settlement_fee": min(max(_cents(consideration * D("0.00002")), D(2)), D(100)),
        "brokerage": brokerage,
    }


def us_costs(side: str, quantity: int, consideration: Decimal, session: str, *,
             commission_per_share_usd: Decimal, commission_min_usd: Decimal) -> dict[str, Decimal]:
    """One US side. MARKETS.md: SEC Section 31 fee on sales only, $27.80 per million until
    2025-05-13 ($0 from 2025-05-14); FINRA TAF on sales, per share with a per-trade cap;
    commission per share or zero.

    MARKETS.md gives neither the TAF figures nor how the two fees are rounded. The TAF is
    FINRA's 2024- rate as in backtests/costs.py ($0.000166 per share, cap $8.30), and both
    fees are rounded UP to the cent, as costs.py does and brokers pass them on (half-up would
    give 0.74/0.04 instead of 0.75/0.05 on the first BABA sale below). The commission is
    rounded half-up to the cent, then the minimum applies.
    """
    sec = taf = D(0)
    if side == "sell":
        sec_rate = D("0.0000278") if session <= "2025-05-13" else D(0)
        sec = (consideration * sec_rate).quantize(CENT, ROUND_CEILING)
        taf = min(quantity * D("0.000166"), D("8.30")).quantize(CENT, ROUND_CEILING)
    commission = D(0)
    if commission_per_share_usd or commission_min_usd:
        commission = max(_cents(quantity * commission_per_share_usd), commission_min_usd)
    return {"sec_fee": sec, "finra_taf": taf, "commission": commission}


# --------------------------------------------------------------------------- the scenario
@dataclass(frozen=True, kw_only=True, slots=True)
class Variant:
    """Portfolio slippage and the negotiable costs ([costs.HK] / [costs.US])."""

    name: str
    slippage_bps: Decimal = D(0)
    brokerage_rate: Decimal = D(0)
    brokerage_min_hkd: Decimal = D(0)
    commission_per_share_usd: Decimal = D(0)
    commission_min_usd: Decimal = D(0)


VARIANTS = (
    # statutory costs only: prices alone (and stamp duty, levies, SEC/TAF) explain the P&L
    Variant(name="statutory"),
    # 5 bps adverse slippage, brokerage 0.03% min HK$50, US $0.005/share min $1. The US
    # minimum binds on the two 199-ADS capex fills (199 × 0.005 = 0.995 -> $1.00); HK$50
    # never binds (smallest HK consideration ≈ HK$175k -> HK$52.57).
    Variant(name="slippage_and_commissions", slippage_bps=D(5), brokerage_rate=D("0.0003"),
            brokerage_min_hkd=D(50), commission_per_share_usd=D("0.005"), commission_min_usd=D(1)),
    # same with a HK$55 minimum, which binds on the capex HK fills (HK$52.57 and HK$53.15)
    Variant(name="hk_minimum_binds", slippage_bps=D(5), brokerage_rate=D("0.0003"),
            brokerage_min_hkd=D(55), commission_per_share_usd=D("0.005"), commission_min_usd=D(1)),
)


@dataclass(frozen=True, kw_only=True, slots=True)
class HandTrade:
    """One trade's literals, each checked against the CSV / exchange calendar in the tests.

    ``prev_*`` is the last session before the entry (its close sizes the order); ``fx_*``
    the USDHKD row known at the entry / exit open (BABA only; HKD legs use 1).
    """

    catalyst_id: str
    listing: str
    entry_session: str
    exit_session: str
    entry_utc: str
    exit_utc: str
    prev_session: str
    prev_close: str
    entry_open: str
    exit_open: str
    quantity: int
    fx_entry_row: str | None = None
    fx_entry: str = "1"
    fx_exit_row: str | None = None
    fx_exit: str = "1"


HAND_TRADES = (
    # qwen25max on BABA. Published 2025-01-29 00:00-03:00 Beijing = 2025-01-28 11:00-14:00 ET,
    # inside the US session of 01-28; the first open strictly after it: 2025-01-29 09:30 ET.
    # Exit 5 XNYS sessions later: 01-30, 01-31, 02-03, 02-04, 02-05.
    # Size: 96.03 (close 01-28) × 7.78822 (USDHKD row 01-28) = HK$747.9028 per ADS
    #   -> floor(200,000 / 747.9128) = 267 ADS.
    # Buy 267 × 99.39 = US$26,537.13 (no cost on a buy); sell 267 × 100.165 = US$26,744.055:
    #   SEC 26,744.055 × 0.0000278 = 0.7435 -> 0.75; TAF 267 × 0.000166 = 0.0443 -> 0.05.
    # Gross +206.925, net +206.125 USD; HKD: -26,537.13 × 7.78822 + 26,743.255 × 7.79320 (row 02-04)
    #   = -206,677.01 + 208,415.53 = +1,738.53.
    HandTrade(catalyst_id="qwen25max", listing="BABA", entry_session="2025-01-29",
              exit_session="2025-02-05", entry_utc="2025-01-29 14:30", exit_utc="2025-02-05 14:30",
              prev_session="2025-01-28", prev_close="96.03", entry_open="99.39", exit_open="100.165",
              quantity=267, fx_entry_row="2025-01-28", fx_entry="7.78822",
              fx_exit_row="2025-02-04", fx_exit="7.7932"),
    # qwen25max on 9988.HK. Same news (2025-01-29 00:00-03:00 HKT): HK closed at noon on the
    # 01-28 Lunar New Year's Eve half day and stayed shut 01-29..31; it reopens 2025-02-03.
    # Exit 5 XHKG sessions later: 02-04, 02-05, 02-06, 02-07, 02-10.
    # Size: close 01-28 (the real half-day session, patched per PROVENANCE.md) 88.30 × 100
    #   = HK$8,830 per lot -> 22 lots = 2,200 shares.
    # Buy 2,200 × 92.55 = 203,610.00: stamp 203.61 -> 204, SFC 5.49747 -> 5.50,
    #   AFRC 0.305415 -> 0.31, trading 11.503965 -> 11.50, settlement 4.0722 -> 4.07 = 225.38.
    # Sell 2,200 × 103.00 = 226,600.00: stamp 226.6 -> 227, SFC 6.1182 -> 6.12,
    #   AFRC 0.3399 -> 0.34, trading 12.8029 -> 12.80, settlement 4.532 -> 4.53 = 250.79.
    # Gross +22,990.00, costs 476.17, net +22,513.83 HKD.
    HandTrade(catalyst_id="qwen25max", listing="9988.HK", entry_session="2025-02-03",
              exit_session="2025-02-10", entry_utc="2025-02-03 01:30", exit_utc="2025-02-10 01:30",
              prev_session="2025-01-28", prev_close="88.3", entry_open="92.55", exit_open="103.0",
              quantity=2200),
    # apple_report on 9988.HK. The US session of 2025-02-11 (09:30-16:00 ET = 22:30 HKT 02-11 ..
    # 05:00 HKT 02-12); the next HK open is 2025-02-12. Exit: 02-13, 02-14, 02-17, 02-18, 02-19.
    # Size: 104.90 × 100 = 10,490 per lot -> 19 lots = 1,900.
    # Buy 1,900 × 109.20 = 207,480.00: 208 + 5.60 + 0.31 + 11.72 + 4.15 = 229.78.
    # Sell 1,900 × 123.70 = 235,030.00: 236 + 6.35 + 0.35 + 13.28 + 4.70 = 260.68.
    # Gross +27,550.00, costs 490.46, net +27,059.54 HKD.
    HandTrade(catalyst_id="apple_report", listing="9988.HK", entry_session="2025-02-12",
              exit_session="2025-02-19", entry_utc="2025-02-12 01:30", exit_utc="2025-02-19 01:30",
              prev_session="2025-02-11", prev_close="104.9", entry_open="109.2", exit_open="123.7",
              quantity=1900),
    # apple_report on BABA. Strictly after the US close of 02-11: 2025-02-12 09:30 ET.
    # Exit 5 XNYS sessions later: 02-13, 02-14, (02-17 Presidents' Day closed) 02-18, 02-19, 02-20.
    # Size: 112.78 × 7.7891 (row 02-11) = 878.4547 -> 227 ADS.
    # Buy 227 × 115.82 = 26,291.14; sell 227 × 137.81 = 31,282.87: SEC 0.8697 -> 0.87,
    #   TAF 0.0377 -> 0.04. Gross +4,991.73, net +4,990.82 USD;
    # HKD: -26,291.14 × 7.7891 + 31,281.96 × 7.7744 (row 02-19)
    #   = -204,784.32 + 243,198.47 = +38,414.15.
    HandTrade(catalyst_id="apple_report", listing="BABA", entry_session="2025-02-12",
              exit_session="2025-02-20", entry_utc="2025-02-12 14:30", exit_utc="2025-02-20 14:30",
              prev_session="2025-02-11", prev_close="112.78", entry_open="115.82", exit_open="137.81",
              quantity=227, fx_entry_row="2025-02-11", fx_entry="7.7891",
              fx_exit_row="2025-02-19", fx_exit="7.7744"),
    # earnings_fy25q3 on BABA. Out 2025-02-20 16:00-20:30 HKT = 03:00-07:30 ET, before the US
    # open: same-day open 2025-02-20 09:30 ET (the same fill instant as the apple_report exit;
    # the trades are separate). Exit: 02-21, 02-24, 02-25, 02-26, 02-27.
    # Size: 125.79 × 7.7744 (row 02-19) = 977.9418 -> 204 ADS.
    # Buy 204 × 137.81 = 28,113.24; sell 204 × 138.675 = 28,289.70: SEC 0.7865 -> 0.79,
    #   TAF 0.0339 -> 0.04. Gross +176.46, net +175.63 USD;
    # HKD: -28,113.24 × 7.7744 + 28,288.87 × 7.77322 (row 02-26)
    #   = -218,563.57 + 219,895.61 = +1,332.04.
    HandTrade(catalyst_id="earnings_fy25q3", listing="BABA", entry_session="2025-02-20",
              exit_session="2025-02-27", entry_utc="2025-02-20 14:30", exit_utc="2025-02-27 14:30",
              prev_session="2025-02-19", prev_close="125.79", entry_open="137.81", exit_open="138.675",
              quantity=204, fx_entry_row="2025-02-19", fx_entry="7.7744",
              fx_exit_row="2025-02-26", fx_exit="7.77322"),
    # earnings_fy25q3 on 9988.HK. After the HK close of 02-20: 2025-02-21 open.
    # Exit: 02-24, 02-25, 02-26, 02-27, 02-28. Size: 120.90 × 100 -> 16 lots = 1,600.
    # Buy 1,600 × 133.00 = 212,800.00: 213 + 5.75 + 0.32 + 12.02 + 4.26 = 235.35.
    # Sell 1,600 × 133.60 = 213,760.00: 214 + 5.77 + 0.32 + 12.08 + 4.28 = 236.45.
    # Gross +960.00, costs 471.80, net +488.20 HKD.
    HandTrade(catalyst_id="earnings_fy25q3", listing="9988.HK", entry_session="2025-02-21",
              exit_session="2025-02-28", entry_utc="2025-02-21 01:30", exit_utc="2025-02-28 01:30",
              prev_session="2025-02-20", prev_close="120.9", entry_open="133.0", exit_open="133.6",
              quantity=1600),
    # capex_380b on 9988.HK. Day precision, Asia/Shanghai: the news is only certain once
    # 2025-02-24 (Beijing) is over, i.e. after HK's session of the 24th: 2025-02-25 open.
    # Exit: 02-26, 02-27, 02-28, 03-03, 03-04. Size: 135.70 × 100 -> 14 lots = 1,400.
    # Buy 1,400 × 125.10 = 175,140.00: 176 + 4.73 + 0.26 + 9.90 + 3.50 = 194.39.
    # Sell 1,400 × 126.60 = 177,240.00: 178 + 4.79 + 0.27 + 10.01 + 3.54 = 196.61.
    # Gross +2,100.00, costs 391.00, net +1,709.00 HKD.
    HandTrade(catalyst_id="capex_380b", listing="9988.HK", entry_session="2025-02-25",
              exit_session="2025-03-04", entry_utc="2025-02-25 01:30", exit_utc="2025-03-04 01:30",
              prev_session="2025-02-24", prev_close="135.7", entry_open="125.1", exit_open="126.6",
              quantity=1400),
    # capex_380b on BABA. The Beijing day ends 2025-02-24 11:00 ET, after that day's US open:
    # 2025-02-25 09:30 ET. Exit: 02-26, 02-27, 02-28, 03-03, 03-04.
    # Size: 129.04 × 7.76953 (row 02-24) = 1,002.5802 -> 199 ADS.
    # Buy 199 × 132.79 = 26,425.21; sell 199 × 129.60 = 25,790.40: SEC 0.7170 -> 0.72,
    #   TAF 0.0330 -> 0.04. Gross -634.81, net -635.57 USD;
    # HKD: -26,425.21 × 7.76953 + 25,789.64 × 7.77773 (row 03-03)
    #   = -205,311.46 + 200,584.86 = -4,726.61 (-4,726.6051).
    HandTrade(catalyst_id="capex_380b", listing="BABA", entry_session="2025-02-25",
              exit_session="2025-03-04", entry_utc="2025-02-25 14:30", exit_utc="2025-03-04 14:30",
              prev_session="2025-02-24", prev_close="129.04", entry_open="132.79", exit_open="129.6",
              quantity=199, fx_entry_row="2025-02-24", fx_entry="7.76953",
              fx_exit_row="2025-03-03", fx_exit="7.77773"),
)
TRADE_IDS = [f"{t.catalyst_id}@{t.listing}" for t in HAND_TRADES]
VARIANT_IDS = [v.name for v in VARIANTS]


@dataclass(frozen=True, kw_only=True, slots=True)
class Expected:
    """One trade recomputed by hand (listing currency unless ``_hkd``)."""

    quantity: int
    entry_price: Decimal
    exit_price: Decimal
    buy_costs: dict[str, Decimal]
    sell_costs: dict[str, Decimal]
    gross_pnl_local: Decimal
    costs_local: Decimal
    net_pnl_local: Decimal
    net_pnl_hkd: Decimal


def hand_trade(t: HandTrade, v: Variant) -> Expected:
    """Recompute ``t`` under ``v`` from its literals (which the tests tie to the CSV)."""
    lot = LOT[t.listing]
    fx_entry, fx_exit = D(t.fx_entry), D(t.fx_exit)
    lots = (NOTIONAL_HKD / (D(t.prev_close) * fx_entry * lot)).to_integral_value(ROUND_FLOOR)
    qty = int(lots) * lot
    slip = v.slippage_bps / D(10_000)
    entry = D(t.entry_open) * (1 + slip)   # buy: pays up
    exit_ = D(t.exit_open) * (1 - slip)    # sell: receives less
    bought, sold = qty * entry, qty * exit_
    if t.listing == "9988.HK":
        kw = {"brokerage_rate": v.brokerage_rate, "brokerage_min_hkd": v.brokerage_min_hkd}
        buy = hk_costs(bought, t.entry_session, **kw)
        sell = hk_costs(sold, t.exit_session, **kw)
    else:
        kw = {"commission_per_share_usd": v.commission_per_share_usd,
              "commission_min_usd": v.commission_min_usd}
        buy = us_costs("buy", qty, bought, t.entry_session, **kw)
        sell = us_costs("sell", qty, sold, t.exit_session, **kw)
    buy_total, sell_total = sum(buy.values(), D(0)), sum(sell.values(), D(0))
    gross = sold - bought
    return Expected(
        quantity=qty, entry_price=entry, exit_price=exit_, buy_costs=buy, sell_costs=sell,
        gross_pnl_local=gross, costs_local=buy_total + sell_total,
        net_pnl_local=gross - buy_total - sell_total,
        net_pnl_hkd=(-bought - buy_total) * fx_entry + (sold - sell_total) * fx_exit)


# --------------------------------------------------------------------------- fixtures
def _read_csv(path: Path) -> dict[str, dict[str, str]]:
    """CSV rows by date, values as the file's text (so Decimal(text) is exact)."""
    with path.open(newline="", encoding="utf-8") as fh:
        return {row["date"]: row for row in csv.DictReader(fh)}


@pytest.fixture(scope="module")
def rows(prices_dir: Path) -> dict[str, dict[str, dict[str, str]]]:
    return {sym: _read_csv(prices_dir / f"{sym}.csv") for sym in ("9988.HK", "BABA", "USDHKD")}


def _config_doc(prices_dir: Path, v: Variant) -> dict[str, Any]:
    costs: dict[str, dict[str, float]] = {"HK": {}, "US": {}}
    if v.brokerage_rate or v.brokerage_min_hkd:
        costs["HK"] = {"brokerage_rate": float(v.brokerage_rate), "brokerage_min_hkd": float(v.brokerage_min_hkd)}
    if v.commission_per_share_usd or v.commission_min_usd:
        costs["US"] = {"commission_per_share_usd": float(v.commission_per_share_usd),
                       "commission_min_usd": float(v.commission_min_usd)}
    return {
        "run": {"name": f"golden_{v.name}", "start": "2024-12-01", "end": "2025-04-30"},
        "data": {"source": "csv", "dir": str(prices_dir)},
        "events": {"calendar": "alibaba_2025", "fill_policy": "next_open", "only": list(STARRED)},
        "portfolio": {"base_currency": "HKD", "initial_cash": float(INITIAL_CASH_HKD),
                      "slippage_bps": float(v.slippage_bps)},
        "strategy": {"name": "post_event_drift", "listings": ["9988.HK", "BABA"],
                     "params": {"hold_sessions": HOLD_SESSIONS,
                                "notional_per_trade_base": float(NOTIONAL_HKD)}},
        "costs": costs,
    }


@pytest.fixture(scope="module")
def results(prices_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> dict[str, BacktestResult]:
    """One engine run per variant, through parse_config + run_config (nothing written)."""
    where = tmp_path_factory.mktemp("golden") / "golden.toml"
    out = {}
    for v in VARIANTS:
        cfg = parse_config(_config_doc(prices_dir, v), where)
        out[v.name], _ = run_config(cfg, out_dir=None)
    return out


def _engine_trade(result: BacktestResult, t: HandTrade) -> pd.Series:
    tr = result.trades
    match = tr[(tr.catalyst_id == t.catalyst_id) & (tr.listing == t.listing)]
    assert len(match) == 1, f"{t.catalyst_id}@{t.listing}: {len(match)} engine trades"
    return match.iloc[0]


def _engine_fill(result: BacktestResult, trade_id: int, side: str) -> pd.Series:
    f = result.fills
    match = f[(f.trade_id == trade_id) & (f.side == side)]
    assert len(match) == 1, f"trade {trade_id}: {len(match)} {side} fills"
    return match.iloc[0]


def _money(actual: float, expected: Decimal, what: str) -> None:
    assert abs(float(actual) - float(expected)) < MONEY_TOL, f"{what}: engine {actual!r} vs hand {expected}"


# --------------------------------------------------------------------------- the literals
@pytest.mark.parametrize("t", HAND_TRADES, ids=TRADE_IDS)
def test_literals_agree_with_csv_and_exchange_calendar(t: HandTrade, rows: dict) -> None:
    px = rows[t.listing]
    assert D(px[t.prev_session]["close"]) == D(t.prev_close)
    assert D(px[t.entry_session]["open"]) == D(t.entry_open)
    assert D(px[t.exit_session]["open"]) == D(t.exit_open)
    # the exchange calendar (not the engine): prev -> entry are consecutive sessions and
    # the exit is HOLD_SESSIONS sessions after the entry, every one of them in the CSV
    cal = exchange_calendar(CALENDAR[t.listing])
    assert cal.previous_session(t.entry_session) == pd.Timestamp(t.prev_session)
    held = [f"{s:%Y-%m-%d}" for s in cal.sessions_in_range(t.entry_session, t.exit_session)]
    assert len(held) == HOLD_SESSIONS + 1 and held[0] == t.entry_session and held[-1] == t.exit_session
    assert all(s in px for s in held), f"{t.listing}: a session between entry and exit has no CSV row"
    # open instants: 09:30 HKT = 01:30 UTC; 09:30 ET = 14:30 UTC (EST until 2025-03-09)
    assert cal.session_open(t.entry_session) == pd.Timestamp(t.entry_utc, tz="UTC")
    assert cal.session_open(t.exit_session) == pd.Timestamp(t.exit_utc, tz="UTC")
    # FX: the last USDHKD row dated before the fill's date (row D is stamped D 23:00 UTC, so
    # it is known at the next day's 14:30 UTC open but not at the same day's)
    fx = rows["USDHKD"]
    if t.listing == "BABA":
        for row, value, session in ((t.fx_entry_row, t.fx_entry, t.entry_session),
                                    (t.fx_exit_row, t.fx_exit, t.exit_session)):
            assert row == max(d for d in fx if d < session)
            assert D(fx[row]["close"]) == D(value)
    else:
        assert t.fx_entry == t.fx_exit == "1"


@pytest.mark.parametrize("t", HAND_TRADES, ids=TRADE_IDS)
def test_hand_quantities_are_the_literals(t: HandTrade) -> None:
    assert hand_trade(t, VARIANTS[0]).quantity == t.quantity


# --------------------------------------------------------------------------- engine vs hand
@pytest.mark.parametrize("v", VARIANTS, ids=VARIANT_IDS)
@pytest.mark.parametrize("t", HAND_TRADES, ids=TRADE_IDS)
def test_trade_matches_hand(results: dict[str, BacktestResult], t: HandTrade, v: Variant) -> None:
    r = results[v.name]
    got = _engine_trade(r, t)
    exp = hand_trade(t, v)
    label = f"{v.name} {t.catalyst_id}@{t.listing}"

    assert got.status == "closed" and got.direction == 1
    assert (got.entry_session, got.exit_session) == (pd.Timestamp(t.entry_session), pd.Timestamp(t.exit_session))
    assert (got.entry_point, got.exit_point) == ("open", "open")
    assert pd.Timestamp(got.entry_utc) == pd.Timestamp(t.entry_utc, tz="UTC")
    assert pd.Timestamp(got.exit_utc) == pd.Timestamp(t.exit_utc, tz="UTC")
    assert got.holding_sessions == HOLD_SESSIONS
    assert got.quantity == exp.quantity == t.quantity
    assert abs(got.entry_price - float(exp.entry_price)) < PRICE_TOL, label
    assert abs(got.exit_price - float(exp.exit_price)) < PRICE_TOL, label

    components = HK_COMPONENTS if t.listing == "9988.HK" else US_COMPONENTS
    for side, expected_costs, fx in (("buy", exp.buy_costs, t.fx_entry), ("sell", exp.sell_costs, t.fx_exit)):
        fill = _engine_fill(r, int(got.trade_id), side)
        assert fill.quantity == t.quantity
        assert abs(fill.fx_to_base - float(D(fx))) < PRICE_TOL, f"{label} {side} FX"
        for name in components:
            _money(fill[name], expected_costs[name], f"{label} {side} {name}")
        _money(fill.cost_total_local, sum(expected_costs.values(), D(0)), f"{label} {side} total")

    _money(got.gross_pnl_local, exp.gross_pnl_local, f"{label} gross_pnl_local")
    _money(got.costs_local, exp.costs_local, f"{label} costs_local")
    _money(got.net_pnl_local, exp.net_pnl_local, f"{label} net_pnl_local")
    _money(got.net_pnl_base, exp.net_pnl_hkd, f"{label} net_pnl_base (HKD)")


@pytest.mark.parametrize("v", VARIANTS, ids=VARIANT_IDS)
def test_only_the_hand_trades_and_final_equity(results: dict[str, BacktestResult], v: Variant) -> None:
    r = results[v.name]
    assert len(r.trades) == len(HAND_TRADES) and len(r.fills) == 2 * len(HAND_TRADES)
    assert sorted(zip(r.trades.catalyst_id, r.trades.listing)) == sorted(
        (t.catalyst_id, t.listing) for t in HAND_TRADES)
    # every trade is closed by 2025-03-04, so the final equity is cash: start + the net HKD P&L
    final = INITIAL_CASH_HKD + sum((hand_trade(t, v).net_pnl_hkd for t in HAND_TRADES), D(0))
    _money(r.summary["final_equity_base"], final, f"{v.name} final equity")
    _money(r.equity["equity_base"].iloc[-1], final, f"{v.name} last equity row")
    assert r.equity["positions_base"].iloc[-1] == 0.0


def test_statutory_final_equity_literal(results: dict[str, BacktestResult]) -> None:
    # sum of the eight net HKD figures in the comments above:
    # 1,738.53 + 22,513.83 + 27,059.54 + 38,414.15 + 1,332.04 + 488.20 + 1,709.00 - 4,726.61
    #   = +88,528.68 -> HK$1,088,528.68
    _money(results["statutory"].summary["final_equity_base"], D("1088528.68"), "final equity literal")
