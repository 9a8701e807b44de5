"""Who a price statement is about: names and aliases from the listing registry.

An :class:`AliasIndex` is built once from the registry (every listing's symbol, name and
aliases; every issuer's name and aliases; tickers as articles write them, ``09988.HK`` or
``BABA.US``) and finds :class:`SubjectHit` s in an article, longest alias first. Market
words (``港股`` / ``H股`` / ``美股`` / "Hong Kong shares" / "ADRs") are hits of their own:
right after an issuer's name they pick that issuer's listing on the market; alone they
stand for "the listing on that market of the issuer named before" (:func:`resolve_subject`).
Nothing is guessed: an issuer with several listings and no market word is unresolved.
Users add aliases in the registry file, not here.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from events.claims_words import Vocabulary
from events.mentions import drop_overlaps

HitKind = Literal["listing", "issuer", "market", "others"]
_TICKER = re.compile(r"(?<![\w.])(?:0?(?P<hk>\d{4})\.HK|(?P<us>[A-Z]{1,5})\.US)(?![\w])")
_JOIN = 3  # at most this many characters between an issuer's name and its market word ("Alibaba's Hong Kong")


class ListingLike(Protocol):
    """What the resolver reads of a registry listing."""

    symbol: str
    market: str
    kind: str
    name: str
    issuer: str | None
    aliases: tuple[str, ...]


class IssuerLike(Protocol):
    """What the resolver reads of a registry issuer."""

    id: str
    name: str
    aliases: tuple[str, ...]


class RegistryLike(Protocol):
    """The listing registry as the claims checker uses it (``data_loaders.registry``)."""

    @property
    def listings(self) -> Mapping[str, ListingLike]: ...

    @property
    def issuers(self) -> Mapping[str, IssuerLike]: ...

    def listings_of(self, issuer_id: str) -> tuple[str, ...]: ...


@dataclass(frozen=True, kw_only=True, slots=True)
class SubjectHit:
    """A name found in the article.

    Attributes
    ----------
    span, text
        ``[start, end)`` offsets and the text (an issuer's name and its market word together).
    kind
        ``listing`` (a listing's alias or ticker), ``issuer``, ``market`` (a market word
        alone) or ``others`` ("其余" / "the rest": unnamed members of a group).
    target
        Listing symbol, issuer id, or market code (``HK`` / ``US``); "" for ``others``.
    market, market_text
        For an issuer followed by a market word: the market code and the word.
    alias
        The registry alias that matched (or the ticker).
    """

    span: tuple[int, int]
    text: str
    kind: HitKind
    target: str
    alias: str
    market: str | None = None
    market_text: str = ""


@dataclass(frozen=True, kw_only=True, slots=True)
class SubjectResolution:
    """A hit resolved to one listing, or the reason it could not be."""

    listing: str | None
    steps: tuple[str, ...]
    problem: str | None = None


class AliasIndex:
    """Every name of every listing and issuer of a registry, ready to search text with.

    Parameters
    ----------
    registry
        The merged listing registry (``data_loaders.registry.active_registry()``).

    Notes
    -----
    Aliases match case-insensitively, ASCII ones as whole words. An alias claimed by two
    listings is kept and reported as ambiguous when an article uses it; a listing's own
    alias wins over an issuer's.
    """

    def __init__(self, registry: RegistryLike) -> None:
        self.registry = registry
        targets: dict[str, set[tuple[HitKind, str]]] = {}
        for symbol, listing in registry.listings.items():
            for alias in (symbol, listing.name, *listing.aliases):
                if alias:
                    targets.setdefault(alias.casefold(), set()).add(("listing", symbol))
        for issuer_id, issuer in registry.issuers.items():
            for alias in (issuer.name, *issuer.aliases):
                if alias:
                    targets.setdefault(alias.casefold(), set()).add(("issuer", issuer_id))
        self._targets = targets
        ascii_aliases = sorted((a for a in targets if a.isascii()), key=len, reverse=True)
        other_aliases = sorted((a for a in targets if not a.isascii()), key=len, reverse=True)
        parts = [rf"(?<![\w]){re.escape(a)}(?![\w])" for a in ascii_aliases] + [re.escape(a) for a in other_aliases]
        self._pattern = re.compile("|".join(parts), re.IGNORECASE) if parts else None

    def _listing_for_ticker(self, match: re.Match[str]) -> str | None:
        wanted = f"{match['hk']}.HK" if match["hk"] else match["us"]
        return wanted if wanted in self.registry.listings else None

    def find(self, text: str, vocab: Vocabulary, start: int = 0) -> list[SubjectHit]:
        """Names, tickers, market words and "the rest" words in ``text[start:]``, in order."""
        found: list[SubjectHit] = []
        for m in _TICKER.finditer(text, start):
            symbol = self._listing_for_ticker(m)
            if symbol is not None:
                found.append(SubjectHit(span=m.span(), text=m.group(), kind="listing", target=symbol, alias=m.group()))
        if self._pattern is not None:
            for m in self._pattern.finditer(text, start):
                found.append(self._alias_hit(m))
        for code, rx in (("HK", vocab.hk_market), ("US", vocab.us_market)):
            for m in rx.finditer(text, start):
                found.append(SubjectHit(span=m.span(), text=m.group(), kind="market", target=code, alias=m.group()))
        for m in vocab.others.finditer(text, start):
            found.append(SubjectHit(span=m.span(), text=m.group(), kind="others", target="", alias=m.group()))
        return _join_markets(text, drop_overlaps(found))

    def _alias_hit(self, m: re.Match[str]) -> SubjectHit:
        options = sorted(self._targets[m.group().casefold()])
        listings = [t for kind, t in options if kind == "listing"]
        if len(listings) == 1:  # a listing's own alias beats an issuer's
            return SubjectHit(span=m.span(), text=m.group(), kind="listing", target=listings[0], alias=m.group())
        if len(listings) > 1:
            return SubjectHit(span=m.span(), text=m.group(), kind="listing", target="|".join(listings),
                              alias=m.group())
        kind, target = options[0]
        return SubjectHit(span=m.span(), text=m.group(), kind=kind, target=target, alias=m.group())


def _join_markets(text: str, hits: list[SubjectHit]) -> list[SubjectHit]:
    """An issuer's name followed closely by a market word becomes one hit on that market."""
    out: list[SubjectHit] = []
    for h in hits:
        prev = out[-1] if out else None
        if (h.kind == "market" and prev is not None and prev.kind == "issuer" and prev.market is None
                and h.span[0] - prev.span[1] <= _JOIN and "," not in text[prev.span[1]:h.span[0]]):
            out[-1] = SubjectHit(span=(prev.span[0], h.span[1]), text=text[prev.span[0]:h.span[1]], kind="issuer",
                                 target=prev.target, alias=prev.alias, market=h.target, market_text=h.text)
            continue
        out.append(h)
    return out


def resolve_subject(hit: SubjectHit, registry: RegistryLike, *, context_issuer: SubjectHit | None,
                    sentence_markets: Sequence[tuple[str, str]], currency_market: tuple[str, str] | None
                    ) -> SubjectResolution:
    """The listing a hit stands for, each step written down.

    Parameters
    ----------
    hit
        The subject as found.
    registry
        Where names and listings come from.
    context_issuer
        The last issuer named before a bare market word in the same sentence.
    sentence_markets
        ``(code, word)`` of every market word in the sentence, used when an issuer with
        several listings is named without one right after it.
    currency_market
        ``(code, word)`` from the currency of a quoted price ("港元" -> HK), if any.
    """
    if hit.kind == "others":
        return SubjectResolution(listing=None, steps=(), problem=f"{hit.text!r} stands for unnamed members of a group, "
                                                                 f"not one listing")
    if hit.kind == "listing":
        if "|" in hit.target:
            return SubjectResolution(listing=None, steps=(), problem=(
                f"{hit.text!r} is an alias of several listings ({hit.target.replace('|', ', ')}) in the registry; "
                f"make it unique in the listings file"))
        how = "ticker" if hit.alias == hit.text and _TICKER.fullmatch(hit.text) else "name or alias"
        return SubjectResolution(listing=hit.target,
                                 steps=(f"{hit.text!r} is a {how} of {hit.target} in the registry",))
    if hit.kind == "market":
        if context_issuer is None:
            return SubjectResolution(listing=None, steps=(), problem=(
                f"market word {hit.text!r} with no company named before it in the sentence: the market as a whole "
                f"is not a listing"))
        steps = (f"{hit.text!r} = the {hit.target} listing of the company named before it "
                 f"({context_issuer.text!r})",)
        return _on_market(context_issuer.target, hit.target, registry, steps)
    steps = [f"{hit.alias!r} names the issuer {hit.target!r} in the registry"]
    listings = registry.listings_of(hit.target)
    if len(listings) == 1:
        steps.append(f"its only listing is {listings[0]}")
        return SubjectResolution(listing=listings[0], steps=tuple(steps))
    if hit.market is not None:
        steps.append(f"{hit.market_text!r} after the name picks its {hit.market} listing")
        return _on_market(hit.target, hit.market, registry, tuple(steps))
    if currency_market is not None:
        steps.append(f"the price is in {currency_market[1]!r}: its {currency_market[0]} listing")
        return _on_market(hit.target, currency_market[0], registry, tuple(steps))
    codes = sorted({code for code, _ in sentence_markets})
    if len(codes) == 1:
        word = next(w for c, w in sentence_markets if c == codes[0])
        steps.append(f"the sentence names one market ({word!r}): its {codes[0]} listing")
        return _on_market(hit.target, codes[0], registry, tuple(steps))
    why = "names both markets" if codes else "names no market (港股 / 美股, Hong Kong / U.S. shares)"
    return SubjectResolution(listing=None, steps=tuple(steps), problem=(
        f"{hit.text!r} has several listings ({', '.join(listings)}) and the sentence {why}"))


def _on_market(issuer_id: str, market: str, registry: RegistryLike, steps: tuple[str, ...]) -> SubjectResolution:
    listings = registry.listings_of(issuer_id)
    on = [s for s in listings if getattr(registry.listings[s].market, "code", registry.listings[s].market) == market]
    if len(on) == 1:
        return SubjectResolution(listing=on[0], steps=(*steps, f"-> {on[0]}"))
    if not on:
        return SubjectResolution(listing=None, steps=steps, problem=(
            f"issuer {issuer_id!r} has no {market} listing in the registry (it has {', '.join(listings) or 'none'})"))
    return SubjectResolution(listing=None, steps=steps, problem=(
        f"issuer {issuer_id!r} has several {market} listings ({', '.join(on)}); name the ticker"))
