"""The listing registry: which markets, listings, issuers, pairs and baskets exist.

The registry is data. The shipped file ``data_loaders/data/listings.toml`` declares the
markets, the listings in ``shared/data/prices``, the Chinese internet ADR pairs (each ratio
cited to a public filing) and a few baskets; a config adds or overrides entries with the
same tables (``[[listing]]``, ``[[pair]]``, ``[[issuer]]``, ``[[basket]]``) or names a file
with ``[data] listings = "FILE.toml"`` (parsed by :mod:`data_loaders.registry_file`).

Which registry is in force is explicit at the entry points: ``run``, ``study`` and
``sweep`` wrap their work in :func:`use_registry` with the config's registry (sweep
workers receive it with each chunk), and everything below asks :func:`active_registry`.
Outside any ``use_registry`` block the shipped registry is active.

Targets
-------
A catalyst, a study or a basket names what it concerns with *targets*: a symbol
(``"0700.HK"``), an issuer (``"@alibaba"`` = all of its listings) or a basket
(``"@china_internet"``). :meth:`Registry.expand` turns a target into symbols.
"""

from __future__ import annotations

import contextlib
import contextvars
import difflib
import hashlib
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import cached_property, lru_cache
from pathlib import Path

from data_loaders.errors import UnknownSymbolError
from data_loaders.markets import Listing, Market

SHIPPED_REGISTRY_PATH = Path(__file__).resolve().parent / "data" / "listings.toml"


class UnknownTargetError(UnknownSymbolError):
    """An ``@issuer`` / ``@basket`` target the registry does not declare."""


@dataclass(frozen=True, kw_only=True, slots=True)
class Issuer:
    """A company; its listings are one firm (9988.HK and BABA are both ``alibaba``)."""

    id: str
    name: str = ""
    aliases: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True, slots=True)
class Pair:
    """A declared cross-listing: ``shares_per_adr`` ordinary shares per ADS.

    Parity: ``adr_price_usd = shares_per_adr * ordinary_price_hkd / fx`` with ``fx`` the
    HKD-per-USD series named by ``fx`` ("USDHKD").
    """

    adr: str
    ordinary: str
    shares_per_adr: float
    fx: str = "USDHKD"
    source: str = ""

    @property
    def symbols(self) -> tuple[str, str]:
        return (self.ordinary, self.adr)

    def label(self) -> str:
        ratio = f"{self.shares_per_adr:g}"
        return f"{self.adr}/{self.ordinary} (1 ADS = {ratio} share{'' if ratio == '1' else 's'})"


@dataclass(frozen=True, kw_only=True, slots=True)
class Basket:
    """A named set of listings (``@china_internet``)."""

    id: str
    name: str = ""
    members: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class Registry:
    """Markets, listings, issuers, pairs and baskets, with the files they came from.

    Build it with :func:`default_registry` and
    :func:`data_loaders.registry_file.extend_registry`; the mappings are not to be
    mutated (a new registry is built instead).
    """

    markets: Mapping[str, Market]
    listings: Mapping[str, Listing]
    issuers: Mapping[str, Issuer] = field(default_factory=dict)
    pairs: tuple[Pair, ...] = ()
    baskets: Mapping[str, Basket] = field(default_factory=dict)
    origins: tuple[str, ...] = ()

    @cached_property
    def content_key(self) -> str:
        """sha256 of everything the registry declares, in order (computed once per registry;
        registries are not mutated). Loaders whose validation consults the registry key their
        in-process memo on it (:mod:`data_loaders.file_cache`)."""
        content = (tuple(self.markets.items()), tuple(self.listings.items()), tuple(self.issuers.items()),
                   self.pairs, tuple(self.baskets.items()))
        return hashlib.sha256(repr(content).encode()).hexdigest()

    # ------------------------------------------------------------------ listings
    def listing(self, symbol: str) -> Listing:
        """The listing ``symbol``.

        Raises
        ------
        UnknownSymbolError
            With near matches and the ``[[listing]]`` table that would declare it.
        """
        try:
            return self.listings[symbol]
        except (KeyError, TypeError):
            raise UnknownSymbolError(self.unknown_symbol_message(symbol)) from None

    def unknown_symbol_message(self, symbol: object) -> str:
        """"unknown symbol ..." with suggestions and a ``[[listing]]`` snippet to declare it."""
        text = str(symbol)
        near = difflib.get_close_matches(text.upper(), list(self.listings), n=3)
        hint = f" Did you mean {', '.join(near)}?" if near else ""
        return (f"unknown symbol {text!r}.{hint} To use it, declare it in your config (or in a "
                f"file named by [data] listings = \"FILE.toml\", or --listings FILE for `data` commands):\n{listing_snippet(text)}")

    def tradable_symbols(self) -> tuple[str, ...]:
        return tuple(sorted(s for s, lst in self.listings.items() if lst.tradable))

    # ------------------------------------------------------------------ issuers
    def issuer_of(self, symbol: str) -> str:
        """The issuer id of ``symbol``; the symbol itself when it has none (an index)."""
        lst = self.listings.get(symbol)
        return lst.issuer if lst is not None and lst.issuer else symbol

    def listings_of(self, issuer_id: str) -> tuple[str, ...]:
        """Every declared listing of ``issuer_id``, in registry order."""
        return tuple(s for s, lst in self.listings.items() if lst.issuer == issuer_id)

    def group_by_issuer(self, symbols: Iterable[str]) -> dict[str, tuple[str, ...]]:
        """``symbols`` grouped by issuer id (order kept)."""
        groups: dict[str, list[str]] = {}
        for sym in symbols:
            groups.setdefault(self.issuer_of(sym), []).append(sym)
        return {k: tuple(v) for k, v in groups.items()}

    # ------------------------------------------------------------------ pairs
    def pair_of(self, a: str, b: str) -> Pair | None:
        """The declared pair made of ``a`` and ``b`` (either order), else ``None``."""
        for pair in self.pairs:
            if {a, b} == {pair.adr, pair.ordinary}:
                return pair
        return None

    def pairs_of(self, symbol: str) -> tuple[Pair, ...]:
        return tuple(p for p in self.pairs if symbol in (p.adr, p.ordinary))

    def describe_pairs(self) -> str:
        return ", ".join(p.label() for p in self.pairs) or "none"

    # ------------------------------------------------------------------ targets
    def expand(self, target: str) -> tuple[str, ...]:
        """Symbols a target stands for: ``"0700.HK"``, ``"@alibaba"``, ``"@china_internet"``.

        Raises
        ------
        UnknownSymbolError
            An undeclared symbol, issuer or basket (with suggestions).
        """
        if not isinstance(target, str) or not target:
            raise UnknownSymbolError(f"target {target!r} must be a symbol or '@issuer' / '@basket'")
        if not target.startswith("@"):
            return (self.listing(target).symbol,)
        name = target[1:]
        if name in self.baskets:
            return self.baskets[name].members
        if name in self.issuers:
            members = self.listings_of(name)
            if not members:
                raise UnknownTargetError(f"issuer '@{name}' has no declared listing; add a [[listing]] "
                                         f"with issuer = \"{name}\"")
            return members
        choices = [f"@{k}" for k in (*self.baskets, *self.issuers)]
        near = difflib.get_close_matches(target, choices, n=3)
        hint = f" Did you mean {', '.join(near)}?" if near else ""
        raise UnknownTargetError(
            f"unknown target {target!r}: not a declared issuer or basket.{hint} Baskets: "
            f"{', '.join('@' + b for b in self.baskets) or 'none'}; declare one with [[basket]] id = "
            f"\"{name}\", members = [\"SYMBOL\", ...]")

    def expand_all(self, targets: Iterable[str]) -> tuple[str, ...]:
        """Union of :meth:`expand` over ``targets``, first appearance first."""
        return tuple(dict.fromkeys(s for t in targets for s in self.expand(t)))


def listing_snippet(symbol: str) -> str:
    """A ``[[listing]]`` table for ``symbol`` to paste into a config."""
    hk = symbol.upper().endswith(".HK")
    market = "HK" if hk else "US"
    lot = "100    # the HKEX board lot of this stock" if hk else "1      # US markets trade single shares"
    return ("  [[listing]]\n"
            f"  symbol = \"{symbol}\"\n"
            f"  market = \"{market}\"          # HK or US\n"
            "  kind = \"stock\"         # stock, adr, etf or index\n"
            f"  lot_size_shares = {lot}\n"
            "  name = \"...\"\n"
            "  issuer = \"...\"         # optional: listings of one issuer are one firm")


@lru_cache(maxsize=1)
def default_registry() -> Registry:
    """The shipped registry (``data_loaders/data/listings.toml``), read once."""
    from data_loaders.registry_file import load_registry_file

    return load_registry_file(SHIPPED_REGISTRY_PATH, base=None)


_ACTIVE: contextvars.ContextVar[Registry | None] = contextvars.ContextVar("catalyst_bt_registry", default=None)


def active_registry() -> Registry:
    """The registry in force: the innermost :func:`use_registry`, else the shipped one."""
    reg = _ACTIVE.get()
    return reg if reg is not None else default_registry()


@contextlib.contextmanager
def use_registry(registry: Registry | None) -> Iterator[Registry]:
    """Make ``registry`` the active one inside the block (``None``: keep the current one)."""
    if registry is None:
        yield active_registry()
        return
    token = _ACTIVE.set(registry)
    try:
        yield registry
    finally:
        _ACTIVE.reset(token)
