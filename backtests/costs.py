"""Dated transaction-cost schedules per market (facts: ``shared/docs/MARKETS.md``).

A :class:`CostModel` prices one fill: ``cost(fill) -> CostBreakdown``. Rates change over
time, so each component is a list of (effective-from date, rate) steps; the rate in force
on the fill's session applies. Money is computed with :class:`decimal.Decimal` so that
rounding (stamp duty up to the whole HK$, levies to the cent) is exact.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal
from typing import Literal, Protocol

import pandas as pd

from data_loaders.markets import LISTINGS

Side = Literal["buy", "sell"]
CENT = Decimal("0.01")
DOLLAR = Decimal("1")


@dataclass(frozen=True, kw_only=True, slots=True)
class Fill:
    """One execution, in the listing's own currency.

    Attributes
    ----------
    listing, market
        Symbol and market code ("HK", "US").
    side
        ``buy`` or ``sell``.
    quantity
        Units traded (shares, or ADS for BABA), > 0.
    price
        Execution price per unit, listing currency.
    session
        Session label (naive date) the fill belongs to; selects the dated rates.
    """

    listing: str
    market: str
    side: Side
    quantity: int
    price: float
    session: pd.Timestamp

    @property
    def consideration(self) -> Decimal:
        """quantity × price, listing currency, exact to the cent of the inputs."""
        return Decimal(str(self.price)) * self.quantity


@dataclass(frozen=True, kw_only=True, slots=True)
class CostBreakdown:
    """Costs of one fill by component, listing currency (all >= 0)."""

    currency: str
    components: tuple[tuple[str, Decimal], ...]

    @property
    def total(self) -> Decimal:
        return sum((amount for _, amount in self.components), Decimal(0))

    def as_dict(self) -> dict[str, float]:
        return {name: float(amount) for name, amount in self.components}


class CostModel(Protocol):
    """Prices one fill."""

    def cost(self, fill: Fill) -> CostBreakdown:  # pragma: no cover - protocol
        ...


@dataclass(frozen=True, kw_only=True, slots=True)
class DatedRate:
    """A rate that applies from ``effective_from`` (inclusive) until the next step."""

    effective_from: str
    value: Decimal


def rate_on(steps: tuple[DatedRate, ...], session: pd.Timestamp) -> Decimal:
    """The step in force on ``session``; zero before the first step."""
    in_force = Decimal(0)
    day = pd.Timestamp(session).normalize()
    for step in steps:
        if day >= pd.Timestamp(step.effective_from):
            in_force = step.value
    return in_force


def _d(x: str | float) -> Decimal:
    return Decimal(str(x))


# Hong Kong, per side, on the consideration (MARKETS.md).
HK_STAMP_DUTY = (DatedRate(effective_from="2021-08-01", value=_d("0.0013")),
                 DatedRate(effective_from="2023-11-17", value=_d("0.0010")))
HK_SFC_LEVY = (DatedRate(effective_from="2000-01-01", value=_d("0.000027")),)
HK_AFRC_LEVY = (DatedRate(effective_from="2022-01-01", value=_d("0.0000015")),)
HK_TRADING_FEE = (DatedRate(effective_from="2023-01-01", value=_d("0.0000565")),)
HK_SETTLEMENT_RATE = _d("0.00002")
HK_SETTLEMENT_MIN, HK_SETTLEMENT_MAX = _d("2"), _d("100")

# United States: SEC Section 31 fee on sales, per dollar of consideration.
US_SEC_FEE = (DatedRate(effective_from="2022-05-22", value=_d("0.0000229")),
              DatedRate(effective_from="2023-05-22", value=_d("0.0000080")),
              DatedRate(effective_from="2024-05-22", value=_d("0.0000278")),
              DatedRate(effective_from="2025-05-14", value=_d("0")))
# FINRA Trading Activity Fee on sales: per share, capped per trade.
US_TAF_PER_SHARE = (DatedRate(effective_from="2023-01-01", value=_d("0.000145")),
                    DatedRate(effective_from="2024-01-01", value=_d("0.000166")))
US_TAF_CAP = (DatedRate(effective_from="2023-01-01", value=_d("7.27")),
              DatedRate(effective_from="2024-01-01", value=_d("8.30")))


@dataclass(frozen=True, kw_only=True, slots=True)
class HKCosts:
    """HKEX costs: stamp duty (rounded up to the whole HK$), SFC and AFRC levies and the
    trading fee (each rounded to the cent), settlement fee (min/max) and brokerage.

    Parameters
    ----------
    brokerage_rate
        Fraction of consideration (negotiable; 0 by default so the statutory costs
        stand alone — set it in ``[costs.HK]``).
    brokerage_min_hkd
        Minimum brokerage per fill.
    """

    brokerage_rate: Decimal = Decimal(0)
    brokerage_min_hkd: Decimal = Decimal(0)
    currency: str = "HKD"

    def cost(self, fill: Fill) -> CostBreakdown:
        c = fill.consideration
        day = fill.session
        settlement = min(max((c * HK_SETTLEMENT_RATE).quantize(CENT, ROUND_HALF_UP),
                             HK_SETTLEMENT_MIN), HK_SETTLEMENT_MAX)
        brokerage = Decimal(0)
        if self.brokerage_rate > 0 or self.brokerage_min_hkd > 0:
            brokerage = max((c * self.brokerage_rate).quantize(CENT, ROUND_HALF_UP),
                            self.brokerage_min_hkd)
        return CostBreakdown(currency=self.currency, components=(
            ("stamp_duty", (c * rate_on(HK_STAMP_DUTY, day)).quantize(DOLLAR, ROUND_CEILING)),
            ("sfc_levy", (c * rate_on(HK_SFC_LEVY, day)).quantize(CENT, ROUND_HALF_UP)),
            ("afrc_levy", (c * rate_on(HK_AFRC_LEVY, day)).quantize(CENT, ROUND_HALF_UP)),
            ("trading_fee", (c * rate_on(HK_TRADING_FEE, day)).quantize(CENT, ROUND_HALF_UP)),
            ("settlement_fee", settlement),
            ("brokerage", brokerage),
        ))


@dataclass(frozen=True, kw_only=True, slots=True)
class USCosts:
    """US costs: SEC Section 31 fee and FINRA TAF on sales (each rounded up to the cent, as
    brokers pass them on), and a per-share commission with a minimum.

    Parameters
    ----------
    commission_per_share_usd, commission_min_usd
        0 by default (zero-commission brokers); set in ``[costs.US]``.
    """

    commission_per_share_usd: Decimal = Decimal(0)
    commission_min_usd: Decimal = Decimal(0)
    currency: str = "USD"

    def cost(self, fill: Fill) -> CostBreakdown:
        day = fill.session
        sec = taf = Decimal(0)
        if fill.side == "sell":
            sec = (fill.consideration * rate_on(US_SEC_FEE, day)).quantize(CENT, ROUND_CEILING)
            taf = min(fill.quantity * rate_on(US_TAF_PER_SHARE, day), rate_on(US_TAF_CAP, day))
            taf = taf.quantize(CENT, ROUND_CEILING)
        commission = Decimal(0)
        if self.commission_per_share_usd > 0 or self.commission_min_usd > 0:
            commission = max((fill.quantity * self.commission_per_share_usd).quantize(CENT, ROUND_HALF_UP),
                             self.commission_min_usd)
        return CostBreakdown(currency=self.currency, components=(
            ("sec_fee", sec), ("finra_taf", taf), ("commission", commission)))


@dataclass(frozen=True, kw_only=True, slots=True)
class IndexProxyCosts:
    """Costs of trading an index (the HSTECH hedge or reference holding) through a proxy.

    An index cannot be bought itself; the engine books it as index points (1 unit = 1
    point in the index currency, no board lot), the way an index future or a tracking ETF
    would carry the exposure. Index futures pay no stamp duty; their fees are modelled as
    one rate per side on the notional (1 bp by default, ``[costs.index] rate_bps``).
    """

    rate_bps: Decimal = Decimal(1)
    currency: str = "HKD"

    def cost(self, fill: Fill) -> CostBreakdown:
        fee = (fill.consideration * self.rate_bps / Decimal(10_000)).quantize(CENT, ROUND_HALF_UP)
        return CostBreakdown(currency=self.currency, components=(("index_proxy_fee", fee),))


def _is_index(listing: str) -> bool:
    known = LISTINGS.get(listing)
    return known is not None and known.kind == "index"


DAYS_PER_YEAR_BORROW = Decimal(365)  # stock-borrow fees accrue per calendar day on an ACT/365 basis


@dataclass(frozen=True, kw_only=True, slots=True)
class CostBook:
    """The cost model of each market, looked up by ``Market.code``; index listings use
    ``index_proxy`` whatever their market.

    Attributes
    ----------
    borrow_rate_annual
        Stock-borrow fee per market for short positions, a yearly fraction of the entry
        value (1% — general-collateral level for a large, liquid stock — unless
        ``[costs.HK] borrow_rate_annual`` / ``[costs.US] ...`` say otherwise).
    """

    by_market: dict[str, CostModel] = field(default_factory=lambda: {"HK": HKCosts(), "US": USCosts()})
    index_proxy: CostModel = field(default_factory=IndexProxyCosts)
    borrow_rate_annual: dict[str, Decimal] = field(
        default_factory=lambda: {"HK": Decimal("0.01"), "US": Decimal("0.01")})

    def cost(self, fill: Fill) -> CostBreakdown:
        if _is_index(fill.listing):
            return self.index_proxy.cost(fill)
        try:
            model = self.by_market[fill.market]
        except KeyError:
            raise KeyError(f"no cost model for market {fill.market!r}; have {sorted(self.by_market)}") from None
        return model.cost(fill)

    def borrow_fee(self, *, listing: str, market: str, quantity: int, entry_price: float,
                   entry_session: pd.Timestamp, exit_session: pd.Timestamp) -> Decimal:
        """Stock-borrow fee for a short held from ``entry_session`` to ``exit_session``.

        ``quantity × entry_price × rate × calendar days / 365``, listing currency, rounded
        to the cent. Index proxies (futures-like) pay none.
        """
        if _is_index(listing):
            return Decimal(0)
        days = (pd.Timestamp(exit_session) - pd.Timestamp(entry_session)).days
        rate = self.borrow_rate_annual.get(market, Decimal(0))
        fee = Decimal(str(entry_price)) * quantity * rate * days / DAYS_PER_YEAR_BORROW
        return fee.quantize(CENT, ROUND_HALF_UP)
