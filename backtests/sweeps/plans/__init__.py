"""Each library strategy's fast path: its parameters turned into candidate round trips.

A planner maps the parameter objects of ``C`` combinations (same traded listings and
portfolio) to :class:`~backtests.sweeps.legs.Legs` and :class:`~backtests.sweeps.legs.Orders`,
replaying the strategy's decisions from the same prices, FX and schedule it would see —
with the strategy's own helpers where it has them (``day0_abnormal_return``,
``parity_gap``, ``rolling_beta``), so every decision takes the same bits. The engine stays
the reference: ``tests/test_fast_paths_parity.py`` compares trade lists and equity on real
data for every planner.

:data:`PLANNERS` is keyed by strategy class; a strategy without an entry (a user's own)
runs on backtrader.
"""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from backtests.sweeps.inputs import RunPlan, SweepInputs
from backtests.sweeps.kernel_data import KernelData
from backtests.sweeps.legs import Legs, Orders

# max_borrow_base / on_borrow_limit only flag a finished run (backtests.runner.run_flags): trades do not change
KNOWN_PORTFOLIO: frozenset[str] = frozenset({"base_currency", "initial_cash_base", "slippage_bps", "allow_short",
                                             "max_borrow_base", "on_borrow_limit"})


@dataclass(frozen=True, kw_only=True)
class Planned:
    """A block's candidates and decisions, and the text of a hold exit."""

    legs: Legs
    orders: Orders
    hold_reason: Callable[[Any, int], str]


@dataclass(frozen=True, kw_only=True)
class Planner:
    """A strategy's fast path.

    Attributes
    ----------
    known
        Parameter fields it models (a parameter class with others falls back).
    plan
        ``(kd, inputs, params, plans, listings) -> Planned`` for combinations whose
        ``group`` value is equal.
    group
        What, beyond listings and portfolio, must be equal within a block (e.g. the clock).
    """

    known: frozenset[str]
    plan: Callable[[KernelData, SweepInputs, Sequence[Any], Sequence[RunPlan], tuple[int, ...]], Planned]
    group: Callable[[Any], Any] = lambda params: None
    check: Callable[[Any], str | None] = lambda params: None


def unknown_fields(params: Any, known: frozenset[str]) -> str | None:
    """Why the fields of ``params`` are not all ``known`` to a planner (None: they are)."""
    unknown = unknown_names(params, known)
    return f"parameter(s) {', '.join(unknown)} not modelled by the fast path" if unknown else None


def unknown_names(obj: Any, known: frozenset[str]) -> tuple[str, ...]:
    """Fields of the dataclass ``obj`` not in ``known``, sorted (per class: a sweep asks per combination)."""
    return _unknown_names(type(obj), known)


@functools.lru_cache(maxsize=128)
def _unknown_names(cls: type, known: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted({f.name for f in dataclasses.fields(cls)} - set(known)))


def column(params: Sequence[Any], name: str, dtype: Any = float) -> np.ndarray:
    """One parameter of every combination (None -> NaN for floats)."""
    values = [getattr(p, name) for p in params]
    if dtype is float:
        return np.array([np.nan if v is None else float(v) for v in values], dtype=float)
    return np.array(values, dtype=dtype)


def event_mask(params: Sequence[Any], plans: Sequence[RunPlan], catalysts: np.ndarray, kinds: np.ndarray,
               use_kinds: bool = True) -> np.ndarray:
    """``C x R``: the candidate's catalyst is in the combination's ``events.only`` (all when
    empty) and, with ``use_kinds``, of one of its ``kinds`` (all when empty)."""
    out = np.ones((len(params), len(catalysts)), dtype=bool)
    cache: dict[tuple[Any, Any], np.ndarray] = {}
    for i, (p, plan) in enumerate(zip(params, plans)):
        want = tuple(getattr(p, "kinds", ()) or ()) if use_kinds else ()
        key = (tuple(plan.only), want)
        mask = cache.get(key)
        if mask is None:
            mask = np.ones(len(catalysts), dtype=bool)
            if plan.only:
                mask &= np.isin(catalysts, list(plan.only))
            if want:
                mask &= np.isin(kinds, list(want))
            cache[key] = mask
        out[i] = mask
    return out


def rules(params: Sequence[Any]) -> dict[str, np.ndarray]:
    """Protective exit levels (NaN = off) of every combination."""
    return {key: column(params, name) if hasattr(params[0], name) else np.full(len(params), np.nan)
            for key, name in (("sl", "stop_loss_pct"), ("tp", "take_profit_pct"), ("ts", "trailing_stop_pct"))}


def allow_short(plans: Sequence[RunPlan]) -> np.ndarray:
    return np.array([getattr(p.portfolio, "allow_short", True) for p in plans], dtype=bool)


def held_text(params: Any, hold: int) -> str:
    """The engine's exit reason of a hold exit."""
    return f"held {hold} sessions"


def _registry() -> dict[type, Planner]:
    from backtests.sweeps.plans import buy_and_hold, cross_listing_lead_lag, event_fade, narrative_basket, \
        post_event_drift, pre_event_run_up

    return {m.STRATEGY: m.PLANNER for m in (post_event_drift, event_fade, pre_event_run_up, cross_listing_lead_lag,
                                            buy_and_hold, narrative_basket)}


PLANNERS: dict[type, Planner] = {}


def planner_for(strategy: type) -> Planner | None:
    if not PLANNERS:
        PLANNERS.update(_registry())
    return PLANNERS.get(strategy)
