"""Markets and listings as data, not ``if market == "HK"`` branches.

A :class:`Market` names its exchange calendar, time zone and currency; a
:class:`Listing` is one tradable (or reference) instrument on a market with its board
lot, its issuer and the symbols upstream sources use for it. Which markets and listings
exist is data: ``data_loaders/data/listings.toml`` plus what a config declares, read by
:mod:`data_loaders.registry`. Cost schedules live with the engine (``backtests.costs``)
keyed by ``Market.code``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Literal

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
        Ordinary shares one unit represents (8 for the BABA ADS, else 1); set from the
        registry's declared ``[[pair]]``, never guessed.
    underlying
        For an ADR in a declared pair, the ordinary listing it represents.
    name
        Human-readable name.
    issuer
        Id of the issuer (``"alibaba"``): listings of one issuer are one firm. ``None``
        for indices, ETFs and FX.
    aliases
        Other names people write for this listing (used to read articles).
    benchmark
        Default event-study benchmark (``None``: the run's ``[data] benchmark``).
    upstream
        Symbols upstream sources use when the documented rule does not fit, as
        ``(("eastmoney", "106.BABA"), ...)``.
    """

    symbol: str
    market: Market
    kind: InstrumentKind
    lot_size_shares: int = 1
    shares_per_unit: float = 1
    underlying: str | None = None
    name: str = ""
    issuer: str | None = None
    aliases: tuple[str, ...] = ()
    benchmark: str | None = None
    upstream: tuple[tuple[str, str], ...] = ()

    @property
    def currency(self) -> str:
        return self.market.currency

    @property
    def tradable(self) -> bool:
        return self.kind in ("stock", "adr", "etf")

    def upstream_symbol(self, source: str) -> str | None:
        """The symbol ``source`` ("eastmoney", "sina") uses, when declared."""
        return dict(self.upstream).get(source)


class _ActiveListings(Mapping[str, Listing]):
    """``LISTINGS``: a read-only view of the active registry's listings (see
    :mod:`data_loaders.registry`), so user-declared listings are seen everywhere."""

    def _listings(self) -> Mapping[str, Listing]:
        from data_loaders.registry import active_registry

        return active_registry().listings

    def __getitem__(self, symbol: str) -> Listing:
        return self._listings()[symbol]

    def __iter__(self) -> Iterator[str]:
        return iter(self._listings())

    def __len__(self) -> int:
        return len(self._listings())


LISTINGS: Mapping[str, Listing] = _ActiveListings()


def get_listing(symbol: str) -> Listing:
    """Return the :class:`Listing` for ``symbol`` from the active registry.

    Raises
    ------
    UnknownSymbolError
        With the closest known symbols and the ``[[listing]]`` table that declares it.
    """
    from data_loaders.registry import active_registry

    return active_registry().listing(symbol)


def __getattr__(name: str) -> Market:
    """``HK``, ``US`` and ``FX``: the shipped markets (declared in ``data/listings.toml``)."""
    if name in ("HK", "US", "FX"):
        from data_loaders.registry import default_registry

        return default_registry().markets[name]
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
