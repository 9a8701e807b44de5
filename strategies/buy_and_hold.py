"""``BuyAndHold``: the reference rows — hold the stock(s), or the benchmark index, throughout.

Buys at the open of each instrument's second session in the run (the first close is the
first price to size from) and holds to the end, where the position is marked at the
last close. ``instrument = "benchmark"`` holds the benchmark index through the index
proxy (futures-like costs, see ``backtests.costs.IndexProxyCosts``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from strategies.base import CatalystStrategy
from strategies.params import check_choice


@dataclass(frozen=True, kw_only=True, slots=True)
class BuyAndHoldParams:
    """Parameters.

    Attributes
    ----------
    instrument
        ``listings`` (the traded listings, equal shares of the budget) or ``benchmark``.
    fraction_of_cash
        Budget as a fraction of the initial cash (0 < f <= 1; whole board lots, so a
        little stays in cash).
    """

    instrument: Literal["listings", "benchmark"] = "listings"
    fraction_of_cash: float = 0.95

    def __post_init__(self) -> None:
        check_choice("instrument", self.instrument, ("listings", "benchmark"))
        if isinstance(self.fraction_of_cash, bool) or not isinstance(self.fraction_of_cash, (int, float)) \
                or not 0 < self.fraction_of_cash <= 1:
            raise ValueError(f"fraction_of_cash must be in (0, 1], got {self.fraction_of_cash!r}; e.g. 0.95")


class BuyAndHold(CatalystStrategy):
    """Hold the listings (or the benchmark) from the second session to the end."""

    uses_catalysts = False

    def on_session_open(self, listing: str, session: pd.Timestamp) -> None:
        cfg: BuyAndHoldParams = self.config
        targets = self.traded_listings if cfg.instrument == "listings" else (self.benchmark_symbol,)
        if listing not in targets or self.current_session_index(listing) != 1:
            return
        budget = self.initial_cash_base * cfg.fraction_of_cash / len(targets)
        self.enter(listing, notional_base=budget, key=f"buy_and_hold@{listing}",
                   reason=f"buy and hold {listing}")
