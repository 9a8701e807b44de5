"""Article claims checked against prices: one :class:`ClaimRow` per statement, with a verdict and why.

For each claim of :func:`events.claims.find_claims`: the subject is resolved to a listing
(:mod:`events.claims_subjects`), the period to sessions of that listing's exchange
(:mod:`events.claims_period`), and the number is compared with the closes the price
source holds. Returns are *price* returns from raw closes (dividends excluded; when a
dividend went ex inside the period the total return is given too). Verdicts:

``supported``
    Holds as worded: an exact number to its last written digit (46 % covers 45.5-46.5),
    an approximate one (近 / 约 / nearly / about) within the stated tolerance, a bound
    (超过 / more than) that holds.
``approximately``
    Not as worded, but within the tolerance: an exact number off by more than its
    rounding, or a bound missed by less than the tolerance.
``contradicted``
    Outside the tolerance; the computed value is given.
``unresolved``
    The subject, period or price could not be fixed; the reason is given, never a guess.

Tolerance for approximate wording: ``max(approx_pp, approx_rel × |claimed|)`` percentage
points for returns, ``approx_price_rel × claimed`` for prices (defaults 1 pp, 5 %, 1 %).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from data_loaders.errors import UserError
from data_loaders.schema import DailyBars, PriceSource
from events.claims import ArticleClaims, Claim
from events.claims_period import PeriodRule, SessionPeriod, period_rule, sessions_for
from events.claims_subjects import RegistryLike, resolve_subject

Verdict = Literal["supported", "approximately", "contradicted", "unresolved"]
VERDICTS: tuple[Verdict, ...] = ("supported", "approximately", "contradicted", "unresolved")
CSV_COLUMNS: tuple[str, ...] = ("article", "span", "subject", "listing", "quantity", "period_start", "period_end",
                                "claimed", "computed", "verdict", "why", "wording", "claimed_value",
                                "computed_value", "resolution", "evidence")


@dataclass(frozen=True, kw_only=True, slots=True)
class Tolerances:
    """How far an approximate number may be from the data (see the module docstring)."""

    approx_pp: float = 1.0
    approx_rel: float = 0.05
    approx_price_rel: float = 0.01

    def __post_init__(self) -> None:
        for name in ("approx_pp", "approx_rel", "approx_price_rel"):
            value = getattr(self, name)
            if not (value >= 0 and value == value and value != float("inf")):
                raise ClaimsInputError(f"tolerance {name} must be a finite number >= 0, got {value!r}")

    def band(self, quantity: str, claimed: float) -> float:
        if quantity == "close":
            return self.approx_price_rel * abs(claimed)
        return max(self.approx_pp, self.approx_rel * abs(claimed))


class ClaimsInputError(UserError, ValueError):
    """A claims option or input that cannot be used (message names it and the fix)."""


@dataclass(frozen=True, kw_only=True, slots=True)
class ClaimRow:
    """One line of ``claims.csv`` (columns :data:`CSV_COLUMNS`).

    ``span`` is ``"start:end"`` character offsets of the evidence in the article;
    ``claimed`` / ``computed`` are formatted for reading, ``claimed_value`` /
    ``computed_value`` are numbers (percent for returns, price for closes; "" when none).
    """

    article: str
    span: str
    subject: str
    listing: str
    quantity: str
    period_start: str
    period_end: str
    claimed: str
    computed: str
    verdict: Verdict
    why: str
    wording: str
    claimed_value: str
    computed_value: str
    resolution: str
    evidence: str

    def as_dict(self) -> dict[str, str]:
        return {c: getattr(self, c) for c in CSV_COLUMNS}


@dataclass(frozen=True, kw_only=True, slots=True)
class _Checked:
    claim: Claim
    listing: str | None
    period: SessionPeriod | None
    computed: float | None
    row: ClaimRow


def _fmt(value: float, decimals: int, quantity: str, sign: bool = True) -> str:
    if quantity == "close" or quantity == "quote":
        return f"{value:.{decimals}f}"
    return f"{value:+.{decimals}f}%" if sign else f"{value:.{decimals}f}%"


def claimed_text(c: Claim) -> str:
    """The claim as a reader would restate it: "≥ +40%", "≈ -10%", "+64.81%", "113.80 HKD"."""
    prefix = {"exact": "", "approx": "≈ ", "at_least": "≥ ", "at_most": "≤ ", "range": ""}[c.wording]
    if c.quantity in ("close", "quote"):
        return f"{prefix}{c.number_text} {c.unit}".strip()
    if c.wording == "range" and c.value_high is not None:
        return f"{_fmt(c.value, c.decimals, 'return')} to {_fmt(c.value_high, c.decimals, 'return')}"
    if c.wording == "at_least" and c.value < 0:
        prefix = "≤ "  # a fall of more than 10 %: at most -10 %
    if c.wording == "at_most" and c.value < 0:
        prefix = "≥ "
    return prefix + _fmt(c.value, c.decimals, c.quantity)


def judge(c: Claim, computed: float, tol: Tolerances) -> tuple[Verdict, str]:
    """Verdict of ``computed`` (percent for returns, price for closes) against claim ``c``."""
    half = 0.5 * 10.0 ** -c.decimals
    band = tol.band(c.quantity, c.value)
    unit = "" if c.quantity == "close" else " pp"
    shown = _fmt(computed, max(2, c.decimals + 1), c.quantity)
    word = f"'{c.wording_word}'" if c.wording_word else ""
    if c.wording == "exact":
        diff = computed - c.value
        if abs(diff) <= half + 1e-9:
            return "supported", f"computed {shown} rounds to the claimed {claimed_text(c)} (±{half:g}{unit})"
        if abs(diff) <= band:
            return "approximately", (f"computed {shown}: off by {diff:+.2f}{unit}, more than the rounding of "
                                     f"{claimed_text(c)} (±{half:g}{unit}) but within ±{band:.2f}{unit}")
        return "contradicted", f"computed {shown}: off by {diff:+.2f}{unit} (tolerance ±{band:.2f}{unit})"
    if c.wording == "approx":
        diff = computed - c.value
        if abs(diff) <= band:
            return "supported", f"computed {shown} is within ±{band:.2f}{unit} of {c.value:g} ({word} = about)"
        return "contradicted", f"computed {shown}: off by {diff:+.2f}{unit}, beyond {word}'s ±{band:.2f}{unit}"
    sign = -1.0 if c.value < 0 else 1.0
    moved = computed * sign  # the move in the claimed direction
    if c.wording == "range" and c.value_high is not None:
        lo, hi = sorted((abs(c.value), abs(c.value_high)))
        if lo <= moved <= hi:
            return "supported", f"computed {shown} lies in the claimed range"
        gap = lo - moved if moved < lo else moved - hi
        verdict: Verdict = "approximately" if gap <= band else "contradicted"
        return verdict, f"computed {shown}: {gap:.2f}{unit} outside the claimed range"
    bound = abs(c.value)
    if c.wording == "at_least":
        if moved >= bound:
            return "supported", f"computed {shown} is beyond the bound {claimed_text(c)} ({word})"
        verdict = "approximately" if bound - moved <= band else "contradicted"
        return verdict, (f"computed {shown} falls short of the bound {claimed_text(c)} ({word}) "
                         f"by {bound - moved:.2f}{unit}")
    if moved < 0:
        return "contradicted", f"computed {shown} moved the other way"
    if moved <= bound:
        return "supported", f"computed {shown} is within the bound {claimed_text(c)} ({word})"
    verdict = "approximately" if moved - bound <= band else "contradicted"
    return verdict, f"computed {shown} exceeds the bound {claimed_text(c)} ({word}) by {moved - bound:.2f}{unit}"


class ClaimChecker:
    """Checks the claims of articles against one price source and one registry.

    Parameters
    ----------
    registry
        Names, aliases, issuers and markets (``data_loaders.registry.active_registry()``).
    source
        Where closes come from (a CSV folder or akshare; never the synthetic market).
    tolerances
        Tolerance of approximate wording.
    """

    def __init__(self, *, registry: RegistryLike, source: PriceSource, tolerances: Tolerances = Tolerances()) -> None:
        self.registry, self.source, self.tol = registry, source, tolerances
        self._bars: dict[tuple[str, str], DailyBars | str] = {}

    def bars(self, symbol: str, adjustment: Literal["raw", "adjusted"] = "raw") -> DailyBars | str:
        """All bars of ``symbol`` (cached), or why they cannot be had."""
        key = (symbol, adjustment)
        if key not in self._bars:
            try:
                self._bars[key] = self.source.daily_bars(symbol, None, None, adjustment)
            except UserError as exc:
                self._bars[key] = str(exc).splitlines()[0]
        return self._bars[key]

    def check(self, result: ArticleClaims, text: str) -> list[ClaimRow]:
        """One row per claim of ``result`` (``text`` is the article, for the evidence column),
        then one per comparison."""
        rules: dict[int, PeriodRule | str] = {}
        checked: list[_Checked] = []
        for c in result.claims:
            rules[c.index] = period_rule(c, anchor=result.article_date, published=result.published, rules=rules)
            checked.append(self._one(c, rules[c.index], result, text))
        rows = [k.row for k in checked]
        for k in checked:
            if k.claim.comparison_word and k.claim.compared_with is not None:
                rows.append(self._comparison(checked[k.claim.compared_with], k, result, text))
        return rows

    def _one(self, c: Claim, rule: PeriodRule | str, result: ArticleClaims, text: str) -> _Checked:
        steps: list[str] = [f"subject: {c.subject_note}"]
        if c.subject is None:
            return self._unresolved(c, None, None, steps, result, text, "no subject: " + c.subject_note)
        res = resolve_subject(c.subject, self.registry, context_issuer=c.context_issuer,
                              sentence_markets=c.sentence_markets, currency_market=c.currency_market)
        steps += res.steps
        if res.listing is None:
            return self._unresolved(c, None, None, steps, result, text, f"subject: {res.problem}")
        listing = self.registry.listings[res.listing]
        market = listing.market
        calendar = getattr(market, "calendar_code", None)
        if isinstance(rule, str):
            return self._unresolved(c, res.listing, None, steps, result, text, f"period: {rule}")
        if not calendar:
            return self._unresolved(c, res.listing, None, steps, result, text,
                                    f"{res.listing} trades on no exchange calendar "
                                    f"(market {getattr(market, 'code', market)})")
        period = sessions_for(rule, calendar)
        if isinstance(period, str):
            return self._unresolved(c, res.listing, None, steps + list(rule.steps), result, text, f"period: {period}")
        steps += period.steps
        currency = getattr(market, "currency", "")
        if c.quantity == "close" and c.unit in ("HKD", "USD") and listing.kind != "index" and c.unit != currency:
            return self._unresolved(c, res.listing, period, steps, result, text,
                                    f"the price is in {c.unit} but {res.listing} trades in {currency}")
        bars = self.bars(res.listing)
        if isinstance(bars, str):
            return self._unresolved(c, res.listing, period, steps, result, text, f"prices: {bars}")
        closes = bars.frame["close"]
        missing = [s for s in (period.start, period.end) if s is not None and s not in closes.index]
        if missing:
            have = f"{bars.sessions[0]:%Y-%m-%d}..{bars.sessions[-1]:%Y-%m-%d}" if len(bars) else "no sessions"
            return self._unresolved(c, res.listing, period, steps, result, text, (
                f"prices: no close of {res.listing} for session {', '.join(f'{s:%Y-%m-%d}' for s in missing)} "
                f"in {bars.source} (it has {have}; a missing session is never filled from a neighbour)"))
        end_close = float(closes[period.end])
        if c.quantity == "close":
            computed = end_close
            how = f"close of {period.end:%Y-%m-%d} = {end_close:g} {currency}"
        else:
            start_close = float(closes[period.start])
            computed = (end_close / start_close - 1.0) * 100.0
            how = (f"{start_close:g} ({period.start:%Y-%m-%d}) -> {end_close:g} ({period.end:%Y-%m-%d}) "
                   f"= {computed:+.3f}% price return (raw closes)" + self._total_return_note(res.listing, period))
        verdict, why = judge(c, computed, self.tol)
        steps.append(how)
        digits = max(2, c.decimals + 1)
        return _Checked(claim=c, listing=res.listing, period=period, computed=computed, row=self._row(
            c, res.listing, period, _fmt(computed, digits, c.quantity), f"{computed:.6g}", verdict, why, steps,
            result, text))

    def _total_return_note(self, symbol: str, period: SessionPeriod) -> str:
        adjusted = self.bars(symbol, "adjusted")
        if isinstance(adjusted, str) or period.start is None:
            return ""
        closes = adjusted.frame["close"]
        if period.start not in closes.index or period.end not in closes.index:
            return ""
        raw = self.bars(symbol)
        assert not isinstance(raw, str)
        total = (float(closes[period.end]) / float(closes[period.start]) - 1.0) * 100.0
        price = (float(raw.frame["close"][period.end]) / float(raw.frame["close"][period.start]) - 1.0) * 100.0
        return f"; a dividend went ex in the period: total return {total:+.3f}%" if abs(total - price) > 0.005 else ""

    def _unresolved(self, c: Claim, listing: str | None, period: SessionPeriod | None, steps: list[str],
                    result: ArticleClaims, text: str, why: str) -> _Checked:
        if c.quantity == "quote" and listing is not None:
            why += self._quote_range(c, listing, result)
        return _Checked(claim=c, listing=listing, period=period, computed=None,
                        row=self._row(c, listing, period, "", "", "unresolved", why, steps, result, text))

    def _quote_range(self, c: Claim, listing: str, result: ArticleClaims) -> str:
        day = result.published.date() if result.published else result.article_date.day
        bars = self.bars(listing)
        if day is None or isinstance(bars, str):
            return ""
        frame = bars.frame.loc[:pd.Timestamp(day)]
        if not len(frame):
            return ""
        last = frame.iloc[-1]
        inside = "inside" if last["low"] <= c.value <= last["high"] else "outside"
        return (f" (for reference: {listing} traded {last['low']:g}-{last['high']:g} on {frame.index[-1]:%Y-%m-%d}, "
                f"the last session on or before the article date; {c.number_text} is {inside} that range)")

    def _row(self, c: Claim, listing: str | None, period: SessionPeriod | None, computed: str, computed_value: str,
             verdict: Verdict, why: str, steps: list[str], result: ArticleClaims, text: str) -> ClaimRow:
        if c.period_note and not any(c.period_note in s for s in steps):
            steps = [*steps, c.period_note]
        return ClaimRow(
            article=result.article, span=f"{c.span[0]}:{c.span[1]}", subject=c.subject.text if c.subject else "",
            listing=listing or "", quantity=c.quantity,
            period_start=f"{period.start:%Y-%m-%d}" if period and period.start is not None else "",
            period_end=f"{period.end:%Y-%m-%d}" if period else "", claimed=claimed_text(c), computed=computed,
            verdict=verdict, why=why, wording=c.wording + (f" ({c.wording_word})" if c.wording_word else ""),
            claimed_value=f"{c.value:g}", computed_value=computed_value, resolution=" | ".join(steps),
            evidence=" ".join(text[c.span[0]:c.span[1]].split()))

    def _comparison(self, a: _Checked, b: _Checked, result: ArticleClaims, text: str) -> ClaimRow:
        """``b`` says its subject did worse than ``a``'s ("A ... 超过了 B 同期 25%", "A rose 46%, ahead of B")."""
        lo, hi = min(a.claim.span[0], b.claim.span[0]), max(a.claim.span[1], b.claim.span[1])
        span = f"{lo}:{hi}"
        names = f"{a.listing or a.row.subject or '?'} vs {b.listing or b.row.subject or '?'}"
        steps = [f"{b.claim.comparison_word!r}: claim #{b.claim.index + 1} is compared with claim #{a.claim.index + 1}"]
        same = a.period is not None and b.period is not None and (a.period.start, a.period.end) == (
            b.period.start, b.period.end)
        if a.computed is None or b.computed is None:
            verdict: Verdict = "unresolved"
            why = "one side of the comparison is unresolved (see its own row)"
            computed = ""
        elif not same:
            verdict, computed = "unresolved", ""
            why = "the two returns cover different periods"
        else:
            computed = f"{a.computed:+.2f}% vs {b.computed:+.2f}%"
            verdict = "supported" if a.computed > b.computed else "contradicted"
            why = f"{a.listing} {'did' if verdict == 'supported' else 'did not do'} better than {b.listing} " \
                  f"({a.computed - b.computed:+.2f} pp)"
        return ClaimRow(
            article=result.article, span=span, subject=f"{a.row.subject} vs {b.row.subject}", listing=names,
            quantity="comparison", period_start=a.row.period_start, period_end=a.row.period_end,
            claimed=f"{a.listing or '?'} ahead of {b.listing or '?'}", computed=computed, verdict=verdict, why=why,
            wording=f"comparison ({b.claim.comparison_word})", claimed_value="", computed_value="",
            resolution=" | ".join(steps), evidence=" ".join(text[lo:hi].split()))
