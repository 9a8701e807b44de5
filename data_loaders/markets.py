"""Markets and listings as data, not ``if market == "HK"`` branches.

A :class:`Market` names its exchange calendar, time zone and currency; a
:class:`Listing` is one tradable (or reference) instrument on a market with its board
lot and the symbols upstream sources use for it. Cost schedules live with the engine
(``backtests.costs``) keyed by ``Market.code``.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Literal

from data_loaders.errors import UnknownSymbolError

InstrumentKind = Literal["stock", "adr", "index", "etf", "fx"]


@dataclass(frozen=True, kw_only=True, slots=True)
class Market:
    """A venue whose sessions come from one exchange calendar.

    Attributes
    ----------
    code
        Our short name ("HK", "US", "FX").
    calendar_code
        exchange_calendars code ("XHKG", "XNYS"); ``None`` for FX, which trades 24/5
        and is sampled as-of, never validated against an exchange calendar.
    tz
        IANA zone of the exchange's local time.
    currency
        ISO code of prices quoted on this market.
    moc_cutoff_minutes
        How long before the close a market-on-close order must be in. NYSE stops
        accepting MOC orders at 15:50 ET (10 minutes); HKEX's closing auction takes
        at-auction orders from the close (16:00) onward, so 0.
    """

    code: str
    calendar_code: str | None
    tz: str
    currency: str
    moc_cutoff_minutes: int = 0


HK = Market(code="HK", calendar_code="XHKG", tz="Asia/Hong_Kong", currency="HKD")
US = Market(code="US", calendar_code="XNYS", tz="America/New_York", currency="USD",
            moc_cutoff_minutes=10)
FX = Market(code="FX", calendar_code=None, tz="UTC", currency="HKD")

MARKETS: dict[str, Market] = {m.code: m for m in (HK, US, FX)}


@dataclass(frozen=True, kw_only=True, slots=True)
class Listing:
    """One instrument: what it is, where it trades, how it is ordered.

    Attributes
    ----------
    symbol
        catalyst-bt's canonical symbol ("9988.HK", "BABA", "HSTECH", "USDHKD").
    market
        The :class:`Market` it trades on.
    kind
        stock, adr, index, etf or fx.
    lot_size_shares
        Board lot: orders are whole multiples of it (1 on US markets).
    shares_per_unit
        Ordinary shares one unit represents (8 for the BABA ADS, else 1).
    underlying
        For an ADR, the ordinary listing it represents.
    name
        Human-readable name.
    """

    symbol: str
    market: Market
    kind: InstrumentKind
    lot_size_shares: int = 1
    shares_per_unit: int = 1
    underlying: str | None = None
    name: str = ""

    @property
    def currency(self) -> str:
        return self.market.currency

    @property
    def tradable(self) -> bool:
        return self.kind in ("stock", "adr", "etf")


def _hk(symbol: str, lot: int, name: str) -> Listing:
    return Listing(symbol=symbol, market=HK, kind="stock", lot_size_shares=lot, name=name)


def _us(symbol: str, kind: InstrumentKind, name: str) -> Listing:
    return Listing(symbol=symbol, market=US, kind=kind, name=name)


LISTINGS: dict[str, Listing] = {
    listing.symbol: listing
    for listing in (
        _hk("9988.HK", 100, "Alibaba Group (HK ordinary shares)"),
        _hk("0700.HK", 100, "Tencent"),
        _hk("1810.HK", 200, "Xiaomi"),
        _hk("1024.HK", 100, "Kuaishou"),
        _hk("3690.HK", 100, "Meituan"),
        _hk("9618.HK", 50, "JD.com"),
        _hk("9888.HK", 50, "Baidu"),
        Listing(symbol="HSTECH", market=HK, kind="index", name="Hang Seng TECH Index"),
        Listing(symbol="HSI", market=HK, kind="index", name="Hang Seng Index"),
        Listing(
            symbol="BABA", market=US, kind="adr", shares_per_unit=8, underlying="9988.HK",
            name="Alibaba Group ADS (1 ADS = 8 shares)",
        ),
        _us("AAPL", "stock", "Apple"),
        _us("IXIC", "index", "Nasdaq Composite"),
        _us("QQQ", "etf", "Invesco QQQ Trust"),
        _us("KWEB", "etf", "KraneShares CSI China Internet ETF"),
        Listing(symbol="USDHKD", market=FX, kind="fx", name="HKD per USD"),
    )
}


def get_listing(symbol: str) -> Listing:
    """Return the :class:`Listing` for ``symbol``.

    Raises
    ------
    UnknownSymbolError
        With the closest known symbols as suggestions.
    """
    try:
        return LISTINGS[symbol]
    except KeyError:
        near = difflib.get_close_matches(symbol.upper(), list(LISTINGS), n=3)
        hint = f" Did you mean {', '.join(near)}?" if near else ""
        raise UnknownSymbolError(
            f"unknown symbol {symbol!r}.{hint} Known symbols: {', '.join(sorted(LISTINGS))}."
        ) from None
