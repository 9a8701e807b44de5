"""Reading registry tables (``[[market]]``, ``[[listing]]``, ``[[issuer]]``, ``[[pair]]``,
``[[basket]]``) from the shipped file, a user's file or a config.

Every problem of a document is reported at once, one line each, naming the table, its
position, the key, the value and the fix (:class:`RegistryError`). Later declarations
override earlier ones with the same key (symbol, issuer id, ADR symbol, basket id), so a
config can correct a shipped lot size or ratio without copying the file.
"""

from __future__ import annotations

import dataclasses
import difflib
import re
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from data_loaders.errors import UserError
from data_loaders.markets import Listing, Market
from data_loaders.registry import Basket, Issuer, Pair, Registry, UnknownSymbolError

REGISTRY_TABLES: tuple[str, ...] = ("market", "listing", "issuer", "pair", "basket")
KINDS: tuple[str, ...] = ("stock", "adr", "etf", "index", "fx")
_KEYS: Mapping[str, tuple[str, ...]] = {
    "market": ("code", "calendar", "tz", "currency", "moc_cutoff_minutes"),
    "listing": ("symbol", "market", "kind", "lot_size_shares", "name", "issuer", "aliases", "benchmark",
                "upstream"),
    "issuer": ("id", "name", "aliases"),
    "pair": ("adr", "ordinary", "shares_per_adr", "fx", "source"),
    "basket": ("id", "name", "members"),
}
# Symbols become file names (SYMBOL.csv, cache keys): letters, digits and . ^ _ - only.
_SYMBOL = re.compile(r"^[A-Za-z0-9^][A-Za-z0-9._^-]{0,31}$")
_SLUG = re.compile(r"^[a-z0-9][a-z0-9_]{0,47}$")


class RegistryError(UserError, ValueError):
    """Registry declarations with problems; ``problems`` has one line per problem."""

    def __init__(self, origin: str, problems: list[str]) -> None:
        self.origin = origin
        self.problems = list(problems)
        super().__init__(f"{origin}: {len(problems)} problem(s) in listing declarations:\n"
                         + "\n".join(f"  - {p}" for p in problems))


def load_registry_file(path: str | Path, *, base: Registry | None) -> Registry:
    """Read a registry TOML file on top of ``base`` (``None``: start empty; markets allowed).

    Raises
    ------
    RegistryError
        The file is missing, not UTF-8, not TOML, or has invalid declarations.
    """
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise RegistryError(str(path), ["file not found; [data] listings names a TOML file of "
                                        "[[listing]] / [[pair]] / [[issuer]] / [[basket]] tables"]) from None
    except UnicodeDecodeError as exc:
        raise RegistryError(str(path), [f"not UTF-8 text ({exc.reason} at byte {exc.start}); save it as UTF-8"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise RegistryError(str(path), [f"not valid TOML: {exc}"]) from None
    extra = [k for k in doc if k not in REGISTRY_TABLES]
    if extra:
        raise RegistryError(str(path), [f"unknown table {k!r}; a listings file holds only "
                                        f"{', '.join('[[' + t + ']]' for t in REGISTRY_TABLES[1:])}" for k in extra])
    empty = Registry(markets={}, listings={})
    return extend_registry(base or empty, doc, origin=str(path), allow_markets=base is None)


def declares_registry(doc: Mapping[str, Any]) -> bool:
    """Whether a parsed config declares registry tables."""
    return any(t in doc for t in REGISTRY_TABLES)


def extend_registry(base: Registry, doc: Mapping[str, Any], *, origin: str,
                    allow_markets: bool = False) -> Registry:
    """``base`` plus the registry tables of ``doc`` (other keys of ``doc`` are ignored).

    Raises
    ------
    RegistryError
        Every problem of the declarations at once.
    """
    b = _Builder(base, origin)
    if "market" in doc:
        if allow_markets:
            b.markets(doc["market"])
        else:
            b.problems.append("[[market]] tables are not accepted here: catalyst-bt has calendars and cost "
                              f"schedules for the markets {', '.join(base.markets)} only; declare listings on those")
    for table in ("issuer", "listing", "pair", "basket"):
        if table in doc:
            getattr(b, table)(doc[table])
    if not b.problems:
        b.apply_pairs()
    b.check_references()
    if b.problems:
        raise RegistryError(origin, b.problems)
    origins = (*base.origins, origin)
    return Registry(markets=b.market_map, listings=b.listing_map, issuers=b.issuer_map,
                    pairs=tuple(b.pair_map.values()), baskets=b.basket_map, origins=origins)


class _Builder:
    def __init__(self, base: Registry, origin: str) -> None:
        self.origin = origin
        self.problems: list[str] = []
        self.market_map: dict[str, Market] = dict(base.markets)
        self.listing_map: dict[str, Listing] = dict(base.listings)
        self.issuer_map: dict[str, Issuer] = dict(base.issuers)
        self.pair_map: dict[str, Pair] = {p.adr: p for p in base.pairs}
        self.basket_map: dict[str, Basket] = dict(base.baskets)

    # ------------------------------------------------------------------ helpers
    def _tables(self, kind: str, value: Any) -> list[tuple[str, dict[str, Any]]]:
        if not isinstance(value, list) or not all(isinstance(t, dict) for t in value):
            self.problems.append(f"'{kind}' must be written as [[{kind}]] tables, got {value!r}")
            return []
        out = []
        for i, table in enumerate(value, start=1):
            key = _KEYS[kind][0]
            where = f"[[{kind}]] #{i}" + (f" ({key} {table[key]!r})" if isinstance(table.get(key), str) else "")
            for k in table:
                if k not in _KEYS[kind]:
                    near = difflib.get_close_matches(k, _KEYS[kind], n=1)
                    hint = f" — did you mean '{near[0]}'?" if near else ""
                    self.problems.append(f"{where}: unknown key '{k}'{hint} Allowed: {', '.join(_KEYS[kind])}")
            out.append((where, table))
        return out

    def _str(self, where: str, table: dict, key: str, *, required: bool, pattern: re.Pattern | None = None,
             fix: str = "") -> str | None:
        value = table.get(key)
        if value is None:
            if required:
                fix = fix or f'add {key} = "..."'
                self.problems.append(f"{where}: missing {key}; {fix}")
            return None
        if not isinstance(value, str) or not value.strip():
            self.problems.append(f"{where}: {key} = {value!r} must be a non-empty string")
            return None
        if pattern is not None and not pattern.match(value):
            self.problems.append(f"{where}: {key} = {value!r} is not allowed; {fix}")
            return None
        return value

    def _str_list(self, where: str, table: dict, key: str) -> tuple[str, ...]:
        value = table.get(key, [])
        if not isinstance(value, list) or not all(isinstance(v, str) and v for v in value):
            self.problems.append(f"{where}: {key} = {value!r} must be a list of strings, e.g. {key} = [\"...\"]")
            return ()
        return tuple(value)

    def _number(self, where: str, table: dict, key: str, *, default: float | None, whole: bool) -> float | None:
        value = table.get(key, default)
        if value is None:
            return None
        ok = not isinstance(value, bool) and isinstance(value, (int, float)) and value == value and 0 < value < 1e9
        if ok and whole and value != int(value):
            ok = False
        if not ok:
            kind = "a whole number >= 1" if whole else "a number > 0"
            self.problems.append(f"{where}: {key} = {value!r} must be {kind}")
            return None
        return int(value) if whole or float(value).is_integer() else float(value)

    # ------------------------------------------------------------------ tables
    def markets(self, value: Any) -> None:
        for where, t in self._tables("market", value):
            code = self._str(where, t, "code", required=True)
            tz = self._str(where, t, "tz", required=True, fix='add tz = "Asia/Hong_Kong"')
            currency = self._str(where, t, "currency", required=True, fix='add currency = "HKD"')
            calendar = t.get("calendar", "")
            cutoff = t.get("moc_cutoff_minutes", 0)
            if not isinstance(calendar, str):
                self.problems.append(f"{where}: calendar = {calendar!r} must be an exchange_calendars code or \"\"")
                continue
            if isinstance(cutoff, bool) or not isinstance(cutoff, int) or cutoff < 0:
                self.problems.append(f"{where}: moc_cutoff_minutes = {cutoff!r} must be a whole number >= 0")
                continue
            if code and tz and currency:
                self.market_map[code] = Market(code=code, calendar_code=calendar or None, tz=tz, currency=currency,
                                               moc_cutoff_minutes=cutoff)

    def issuer(self, value: Any) -> None:
        for where, t in self._tables("issuer", value):
            iid = self._str(where, t, "id", required=True, pattern=_SLUG,
                            fix="use lower-case letters, digits and _ (e.g. id = \"netease\")")
            if iid:
                self.issuer_map[iid] = Issuer(id=iid, name=str(t.get("name", iid)),
                                              aliases=self._str_list(where, t, "aliases"))

    def listing(self, value: Any) -> None:
        for where, t in self._tables("listing", value):
            sym = self._str(where, t, "symbol", required=True, pattern=_SYMBOL,
                            fix="use letters, digits and . _ ^ - only (it names the SYMBOL.csv file)")
            mcode = self._str(where, t, "market", required=True, fix=f"add market = one of {', '.join(self.market_map)}")
            market = self.market_map.get(mcode) if mcode else None
            if mcode and market is None:
                self.problems.append(f"{where}: market = {mcode!r} is not one of {', '.join(self.market_map)}")
            kind = t.get("kind", "stock")
            if kind not in KINDS:
                near = difflib.get_close_matches(str(kind), KINDS, n=1)
                hint = f" — did you mean '{near[0]}'?" if near else ""
                self.problems.append(f"{where}: kind = {kind!r} is not one of {', '.join(KINDS)}{hint}")
                kind = None
            if market is not None and market.code == "HK" and kind in ("stock", "etf") and "lot_size_shares" not in t:
                self.problems.append(f"{where}: missing lot_size_shares; Hong Kong stocks trade in board lots "
                                     "that differ per stock (9988.HK 100, 1810.HK 200, 9618.HK 50): add "
                                     "lot_size_shares = <the HKEX board lot>")
                continue
            lot = self._number(where, t, "lot_size_shares", default=1, whole=True)
            issuer = self._str(where, t, "issuer", required=False, pattern=_SLUG,
                               fix="use lower-case letters, digits and _ (e.g. issuer = \"netease\")")
            upstream = t.get("upstream", {})
            if not isinstance(upstream, dict) or not all(isinstance(v, str) for v in upstream.values()):
                self.problems.append(f"{where}: upstream = {upstream!r} must be a table of strings, e.g. "
                                     "upstream = { eastmoney = \"105.NTES\" }")
                upstream = {}
            benchmark = self._str(where, t, "benchmark", required=False)
            aliases = self._str_list(where, t, "aliases")
            if sym and market is not None and kind and lot is not None:
                if issuer and issuer not in self.issuer_map:
                    self.issuer_map[issuer] = Issuer(id=issuer, name=str(t.get("name", issuer)))
                self.listing_map[sym] = Listing(
                    symbol=sym, market=market, kind=kind, lot_size_shares=int(lot), name=str(t.get("name", sym)),
                    issuer=issuer, aliases=aliases, benchmark=benchmark,
                    upstream=tuple(sorted((str(k), v) for k, v in upstream.items())))

    def pair(self, value: Any) -> None:
        for where, t in self._tables("pair", value):
            adr = self._str(where, t, "adr", required=True)
            ordinary = self._str(where, t, "ordinary", required=True)
            ratio = self._number(where, t, "shares_per_adr", default=None, whole=False)
            if ratio is None and "shares_per_adr" not in t:
                self.problems.append(f"{where}: missing shares_per_adr; give the ordinary shares one ADS "
                                     "represents, from the issuer's filing (BABA: 8)")
            fx = self._str(where, t, "fx", required=False) or "USDHKD"
            source = t.get("source", "")
            bad = False
            for key, sym, market in (("adr", adr, "US"), ("ordinary", ordinary, "HK")):
                lst = self.listing_map.get(sym) if sym else None
                if sym and lst is None:
                    self.problems.append(f"{where}: {key} = {sym!r} is not a declared listing; declare it with "
                                         "[[listing]] first")
                    bad = True
                elif lst is not None and lst.market.code != market:
                    self.problems.append(f"{where}: {key} = {sym!r} trades on {lst.market.code}; the {key} of a "
                                         f"pair must be a {market} listing")
                    bad = True
            fx_listing = self.listing_map.get(fx)
            if fx_listing is None or fx_listing.kind != "fx":
                self.problems.append(f"{where}: fx = {fx!r} is not a declared FX series (USDHKD)")
                bad = True
            if bad or not (adr and ordinary and ratio):
                continue
            a, o = self.listing_map[adr], self.listing_map[ordinary]
            if a.issuer and o.issuer and a.issuer != o.issuer:
                self.problems.append(f"{where}: {adr} (issuer {a.issuer}) and {ordinary} (issuer {o.issuer}) are "
                                     "different issuers; a pair is two listings of one company")
                continue
            self.pair_map[adr] = Pair(adr=adr, ordinary=ordinary, shares_per_adr=ratio, fx=fx, source=str(source))

    def apply_pairs(self) -> None:
        """Each pair's ratio onto its ADR listing (also after a listing is re-declared)."""
        for pair in self.pair_map.values():
            a, o = self.listing_map[pair.adr], self.listing_map[pair.ordinary]
            issuer = a.issuer or o.issuer
            self.listing_map[pair.adr] = dataclasses.replace(a, shares_per_unit=pair.shares_per_adr,
                                                             underlying=pair.ordinary, issuer=issuer)
            self.listing_map[pair.ordinary] = dataclasses.replace(o, issuer=issuer)
            if issuer and issuer not in self.issuer_map:
                self.issuer_map[issuer] = Issuer(id=issuer, name=issuer)

    def basket(self, value: Any) -> None:
        for where, t in self._tables("basket", value):
            bid = self._str(where, t, "id", required=True, pattern=_SLUG,
                            fix="use lower-case letters, digits and _ (e.g. id = \"china_ev\")")
            members = self._str_list(where, t, "members")
            if bid and not members:
                self.problems.append(f"{where}: members is empty; list symbols or \"@issuer\" targets")
            if bid and members:
                self.basket_map[bid] = Basket(id=bid, name=str(t.get("name", bid)), members=members)

    # ------------------------------------------------------------------ cross-references
    def check_references(self) -> None:
        draft = Registry(markets=self.market_map, listings=self.listing_map, issuers=self.issuer_map,
                         pairs=tuple(self.pair_map.values()), baskets={})
        for bid, basket in list(self.basket_map.items()):
            if bid in self.issuer_map:
                self.problems.append(f"[[basket]] {bid!r}: the id is also an issuer's; '@{bid}' must name one thing")
            expanded: list[str] = []
            for member in basket.members:
                try:
                    expanded.extend(draft.expand(member))
                except UnknownSymbolError as exc:
                    first = str(exc).splitlines()[0]
                    self.problems.append(f"[[basket]] {bid!r}: member {member!r}: {first}")
            self.basket_map[bid] = dataclasses.replace(basket, members=tuple(dict.fromkeys(expanded)))
        for sym, lst in self.listing_map.items():
            if lst.benchmark is not None:
                bench = self.listing_map.get(lst.benchmark)
                if bench is None or bench.kind == "fx":
                    self.problems.append(f"[[listing]] {sym!r}: benchmark = {lst.benchmark!r} is not a declared "
                                         "index, ETF or stock")
