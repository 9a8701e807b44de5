"""The portfolio's books in one base currency, with per-currency detail.

Backtrader matches orders against bars; the ledger is where money lives. Each fill is
booked in its listing's currency and converted to the base currency with the FX rate
known at the fill instant, so cash is held in base currency and P&L in base includes the
currency effect. Kept free of backtrader so it can be tested by hand.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd

from backtests.costs import CostBreakdown, Fill


@dataclass(kw_only=True, slots=True)
class Position:
    """Units held of one listing; negative for a short."""

    listing: str
    currency: str
    quantity: int = 0
    cost_basis_local: float = 0.0  # signed: sum of quantity × price of the open units


@dataclass(frozen=True, kw_only=True, slots=True)
class BookedFill:
    """A fill as booked: the execution plus its costs and the FX rate used."""

    fill: Fill
    instant_utc: pd.Timestamp
    costs: CostBreakdown
    fx_to_base: float
    cash_flow_base: float  # signed: negative for a buy (cash out)


@dataclass(kw_only=True)
class Ledger:
    """Cash (base currency) and positions.

    Parameters
    ----------
    base_currency
        "HKD" or "USD".
    initial_cash_base
        Starting cash.
    """

    base_currency: str
    initial_cash_base: float
    cash_base: float = field(init=False)
    positions: dict[str, Position] = field(default_factory=dict, init=False)
    booked: list[BookedFill] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        self.cash_base = float(self.initial_cash_base)

    def book(self, fill: Fill, *, currency: str, instant_utc: pd.Timestamp, costs: CostBreakdown,
             fx_to_base: float) -> BookedFill:
        """Apply a fill: move cash (consideration ± costs, converted) and the position."""
        signed_qty = fill.quantity if fill.side == "buy" else -fill.quantity
        consideration_local = fill.quantity * fill.price
        costs_local = float(costs.total)
        flow_local = (-consideration_local if fill.side == "buy" else consideration_local) - costs_local
        flow_base = flow_local * fx_to_base
        self.cash_base += flow_base
        pos = self.positions.setdefault(fill.listing, Position(listing=fill.listing, currency=currency))
        if pos.quantity == 0 or (pos.quantity > 0) == (signed_qty > 0):
            pos.cost_basis_local += signed_qty * fill.price
        else:  # reducing (or flipping): release basis pro rata
            closing = min(abs(signed_qty), abs(pos.quantity))
            avg = pos.cost_basis_local / pos.quantity
            pos.cost_basis_local -= avg * closing * (1 if pos.quantity > 0 else -1)
            remainder = abs(signed_qty) - closing
            if remainder:
                pos.cost_basis_local = (remainder if signed_qty > 0 else -remainder) * fill.price
        pos.quantity += signed_qty
        if pos.quantity == 0:
            pos.cost_basis_local = 0.0
        booked = BookedFill(fill=fill, instant_utc=instant_utc, costs=costs, fx_to_base=fx_to_base,
                            cash_flow_base=flow_base)
        self.booked.append(booked)
        return booked

    def quantity(self, listing: str) -> int:
        pos = self.positions.get(listing)
        return pos.quantity if pos else 0

    def market_value_base(self, marks_local: dict[str, float], fx_to_base: dict[str, float]) -> float:
        """Value of open positions at ``marks_local`` prices, converted per currency."""
        total = 0.0
        for sym, pos in self.positions.items():
            if pos.quantity:
                total += pos.quantity * marks_local[sym] * fx_to_base[pos.currency]
        return total
