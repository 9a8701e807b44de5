"""``CrossListingLeadLag``: trade the listing that has not yet reacted, toward parity.

Hong Kong and New York never trade at the same time, and holidays differ: when news
lands while one market is closed (Qwen2.5-Max came out during Hong Kong's Lunar New Year
break, while BABA traded for three sessions), one listing reacts and the other has not
had a session yet. At the lagging listing's first-trade point this strategy compares its
last close with the price the leader implies through ADR parity
(``BABA_usd = 8 × 9988.HK_hkd / USDHKD``, FX known now), and trades the gap.

Parity only exists between two listings of one company whose ratio is declared: the
strategy trades declared ``[[pair]]`` s of the listing registry (BABA/9988.HK 8, JD/9618.HK 2,
BIDU/9888.HK 8 ... or a pair the user declares) and nothing else; a config that names a
listing without its declared partner is refused before any work
(:func:`lead_lag_listing_problems`).

A listing counts as having reacted when its day-0 session has closed before now; the
lagging one has not yet closed a session since the news. The parity premium of
ordinary times (median about -0.1% in 2023–2025, MARKETS.md) is not subtracted.
"""

from __future__ import annotations

from dataclasses import dataclass

from collections.abc import Sequence

import pandas as pd

from data_loaders.calendars import previous_session
from data_loaders.registry import Pair, Registry, active_registry
from events.schedule import ScheduleRow
from strategies.base import CatalystStrategy, ExitRules, Signal
from strategies.params import check_fraction, check_kinds, check_positive, check_positive_int


@dataclass(frozen=True, kw_only=True, slots=True)
class CrossListingLeadLagParams:
    """Parameters.

    Attributes
    ----------
    min_gap
        Smallest parity gap to trade (fraction; 0.01 = 1%).
    notional_per_gap_base
        Base-currency notional per 1.00 of gap (i.e. 100% gap): a 3% gap with 5,000,000
        trades 150,000; rounded down to board lots.
    max_notional_base
        Cap on one trade's notional.
    hold_sessions
        Sessions of the lagging listing to hold (>= 1), exit at the open.
    kinds
        Only catalysts of these kinds (empty: all).
    stop_loss_pct
        Optional protective stop (fraction; checked at closes, exits next open).
    """

    min_gap: float = 0.01
    notional_per_gap_base: float = 5_000_000.0
    max_notional_base: float = 400_000.0
    hold_sessions: int = 3
    kinds: tuple[str, ...] = ()
    stop_loss_pct: float | None = None

    def __post_init__(self) -> None:
        check_positive("min_gap", self.min_gap, example="0.01")
        check_fraction("min_gap", self.min_gap, example="0.01")
        check_positive("notional_per_gap_base", self.notional_per_gap_base, example="5000000")
        check_positive("max_notional_base", self.max_notional_base, example="400000")
        check_positive_int("hold_sessions", self.hold_sessions, example=3)
        check_kinds(self)
        ExitRules(stop_loss_pct=self.stop_loss_pct)


def parity_gap(*, pair: Pair, lagger: str, lagger_close: float, leader_close: float,
               hkd_per_usd: float) -> float:
    """Leader-implied price of the lagging listing over its last close, minus one.

    Prices in each listing's own currency (ADR in USD, ordinary in HKD); ``hkd_per_usd``
    converts between them and the ratio is the declared ``pair.shares_per_adr``.
    """
    if lagger == pair.adr:      # ADR implied by the ordinary shares
        implied = pair.shares_per_adr * leader_close / hkd_per_usd
    elif lagger == pair.ordinary:  # ordinary implied by the ADR
        implied = leader_close / pair.shares_per_adr * hkd_per_usd
    else:
        raise ValueError(f"{lagger} is not a listing of the pair {pair.label()}")
    return implied / lagger_close - 1.0


def lead_lag_listing_problems(listings: Sequence[str], registry: Registry) -> list[str]:
    """Why ``listings`` cannot be traded by this strategy (empty: they can).

    Every listing needs its declared pair partner among ``listings``.
    """
    unpaired = [s for s in listings
                if not any(set(p.symbols) <= set(listings) for p in registry.pairs_of(s))]
    if not unpaired:
        return []
    return [f"[strategy] listings: cross_listing_lead_lag trades declared cross-listed pairs only; "
            f"{', '.join(repr(s) for s in unpaired)} {'has' if len(unpaired) == 1 else 'have'} no declared "
            f"partner among {list(listings)}. Declared pairs: {registry.describe_pairs()}. Name both listings "
            f"of a pair, or declare the pair with [[pair]] adr = \"...\", ordinary = \"...\", "
            f"shares_per_adr = N (from the issuer's filing)"]


class CrossListingLeadLag(CatalystStrategy):
    """When one listing has reacted and the other has not, trade the laggard toward parity."""

    def on_catalyst(self, event: ScheduleRow, listing: str) -> None:
        cfg: CrossListingLeadLagParams = self.config
        if cfg.kinds and self.catalyst(event).kind not in cfg.kinds:
            return
        if event.reaction_close_utc <= self.now_utc:
            return  # this listing has already closed a session since the news: not lagging
        registry = active_registry()
        leaders = [(r, registry.pair_of(listing, r.listing)) for r in self.schedule_rows(event.catalyst_id)
                   if r.listing != listing and r.reaction_close_utc < self.now_utc]
        leaders = [(r, p) for r, p in leaders if p is not None]  # parity exists within a declared pair only
        if not leaders:
            return  # this listing leads (or both react together), or has no declared partner
        leader, pair = leaders[0][0].listing, leaders[0][1]
        lag_closes, lead_closes = self.closes(listing), self.closes(leader)
        if len(lag_closes) == 0 or len(lead_closes) == 0:
            self.note(f"{event.catalyst_id}@{listing}: no closes to compare with {leader}; not traded")
            return
        stale = self._stale_close(listing, lag_closes)
        if stale:
            self.note(f"{event.catalyst_id}@{listing}: {stale}; the parity gap would mix sessions, not traded")
            return
        hkd_per_usd = self.fx_to_base("USD") / self.fx_to_base("HKD")
        gap = parity_gap(pair=pair, lagger=listing, lagger_close=float(lag_closes.iloc[-1]),
                         leader_close=float(lead_closes.iloc[-1]), hkd_per_usd=hkd_per_usd)
        if abs(gap) < cfg.min_gap:
            self.note(f"{event.catalyst_id}@{listing}: parity gap {gap:+.2%} vs {leader} below {cfg.min_gap:.2%}")
            return
        notional = min(cfg.max_notional_base, cfg.notional_per_gap_base * abs(gap))
        self.enter(listing, direction=1 if gap > 0 else -1, notional_base=notional,
                   hold_sessions=cfg.hold_sessions, catalyst_id=event.catalyst_id,
                   rules=ExitRules(stop_loss_pct=cfg.stop_loss_pct),
                   signal=Signal(name="parity_gap", value=gap, threshold=cfg.min_gap),
                   reason=f"{leader} reacted first; parity gap {gap:+.2%} ({leader} close "
                          f"{lead_closes.index[-1]:%Y-%m-%d}, {listing} close {lag_closes.index[-1]:%Y-%m-%d}; "
                          f"min_gap {cfg.min_gap:.2%})")

    def _stale_close(self, listing: str, closes: pd.Series) -> str:
        idx = self.current_session_index(listing)
        if idx is None:
            return ""
        return stale_close(listing, pd.Timestamp(closes.index[-1]), pd.Timestamp(self.sessions(listing)[idx]))


def stale_close(listing: str, last_close: pd.Timestamp, session: pd.Timestamp) -> str:
    """Why ``last_close`` is not the calendar session before ``session`` ("" when it is, or
    ``session`` itself has closed): a parity gap must use the lagger's latest session."""
    code = active_registry().listing(listing).market.calendar_code
    expected = previous_session(code, session) if code is not None else None
    if expected is None or last_close >= expected:
        return ""
    return f"its last close is {last_close:%Y-%m-%d}, not its previous {code} session {expected:%Y-%m-%d} (row missing)"
