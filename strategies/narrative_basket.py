"""``NarrativeBasket``: trade a narrative's basket at each of its catalysts, held N sessions.

For each catalyst (all of the run's, or the ones listed), every traded listing it reaches
is bought (or sold short) at *that listing's own* first-trade point from the schedule:
Hong Kong names at the Hong Kong open after the news, a US listing at the US open, and a
listing whose market is shut (Lunar New Year) at its first open after it reopens. The
basket notional of a catalyst is split over the traded listings it reaches, equally or by
the given weights (renormalised over those listings), rounded down to each listing's
board lot (from the listing registry), and each position is held ``hold_sessions``
sessions of its listing. With ``hedge = true`` each position is hedged with the benchmark
index by its rolling beta, the mechanism ``benchmark_hedged`` uses
(:class:`strategies.base.HedgeSpec`).

Run a narrative's basket with ``[events] narrative = "<id>"`` in the config: its catalysts
then reach every listing of its basket (see :mod:`events.narrative`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from events.schedule import ScheduleRow
from strategies.base import CatalystStrategy, HedgeSpec
from strategies.params import DIRECTIONS, Direction, check_choice, check_positive, check_positive_int, sign_of


@dataclass(frozen=True, kw_only=True, slots=True)
class NarrativeBasketParams:
    """Parameters.

    Attributes
    ----------
    hold_sessions
        Sessions of each listing between its entry and exit (>= 1).
    notional_per_catalyst_base
        The basket's size per catalyst in base currency (> 0), split over the listings.
    direction
        ``long``, ``short`` or ``expected`` (the catalyst's ``expected_sign``; catalysts
        without one are skipped and noted).
    weights
        Listing -> weight (> 0). Empty: equal weights. A catalyst's notional is split
        over the traded listings it reaches that have a weight, in proportion.
    catalysts
        Trade only these catalyst ids (empty: every catalyst of the run).
    hedge
        Hedge each position with the benchmark index by rolling beta.
    beta_window_sessions, min_beta_sessions
        The hedge's rolling beta window and the fewest aligned returns to trust it.
    """

    hold_sessions: int = 5
    notional_per_catalyst_base: float = 1_000_000.0
    direction: Direction = "long"
    weights: Mapping[str, float] = field(default_factory=dict)
    catalysts: tuple[str, ...] = ()
    hedge: bool = False
    beta_window_sessions: int = 60
    min_beta_sessions: int = 20

    def __post_init__(self) -> None:
        check_positive_int("hold_sessions", self.hold_sessions)
        check_positive("notional_per_catalyst_base", self.notional_per_catalyst_base, example="1000000")
        check_choice("direction", self.direction, DIRECTIONS)
        if not isinstance(self.weights, Mapping):
            raise ValueError(f"weights must be a table of listing = weight, got {self.weights!r}; "
                             f"e.g. [strategy.params.weights] \"0700.HK\" = 2")
        for sym, w in self.weights.items():
            if isinstance(w, bool) or not isinstance(w, (int, float)) or not w > 0:
                raise ValueError(f"weights: {sym} = {w!r} must be a number > 0 (leave a listing out to skip it)")
        catalysts = self.catalysts
        if isinstance(catalysts, list):
            object.__setattr__(self, "catalysts", tuple(catalysts))
        elif isinstance(catalysts, str) or not isinstance(catalysts, tuple):
            raise ValueError(f"catalysts must be a list of catalyst ids, got {catalysts!r}; e.g. catalysts = "
                             f"[\"deepseek_r1\", \"qwen25max\"]")
        if not isinstance(self.hedge, bool):
            raise ValueError(f"hedge must be true or false, got {self.hedge!r}")
        self.hedge_spec  # validates the beta window

    def notional_for(self, listing: str, listings: tuple[str, ...]) -> float:
        """The notional ``listing`` gets when a catalyst reaches all of ``listings`` (0: no weight)."""
        weights = ({s: float(self.weights.get(s, 0.0)) for s in listings} if self.weights
                   else dict.fromkeys(listings, 1.0))
        total = sum(weights.values())
        return self.notional_per_catalyst_base * weights.get(listing, 0.0) / total if total else 0.0

    @property
    def hedge_spec(self) -> HedgeSpec | None:
        """The benchmark hedge (None when ``hedge`` is false)."""
        spec = HedgeSpec(beta_window_sessions=self.beta_window_sessions, min_beta_sessions=self.min_beta_sessions)
        return spec if self.hedge else None


class NarrativeBasket(CatalystStrategy):
    """Buy (or short) the basket a catalyst reaches, each listing at its own first-trade point."""

    def on_catalyst(self, event: ScheduleRow, listing: str) -> None:
        cfg: NarrativeBasketParams = self.config
        cid = event.catalyst_id
        if cfg.catalysts and cid not in cfg.catalysts:
            return
        sign = sign_of(cfg.direction, self.catalyst(event).expected_sign)
        if sign is None:
            self.note(f"{cid}@{listing}: no expected_sign in the calendar; not traded")
            return
        reached = tuple(r.listing for r in self.schedule_rows(cid))
        notional = cfg.notional_for(listing, reached)
        if notional <= 0:
            self.note(f"{cid}@{listing}: no weight for {listing}; not traded")
            return
        self.enter(listing, direction=sign, notional_base=notional, hold_sessions=cfg.hold_sessions,
                   catalyst_id=cid, reason=f"{cid} basket ({notional / cfg.notional_per_catalyst_base:.1%} of "
                                           f"{cfg.notional_per_catalyst_base:,.0f}), first trade on {listing} "
                                           f"({event.fill_policy})")
