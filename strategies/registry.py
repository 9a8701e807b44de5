"""Strategy names users write in config files -> (strategy class, parameter class).

:func:`resolve` turns a name and its validated parameters into what the engine runs: a
strategy class, its parameter object and an optional hedge (``benchmark_hedged`` wraps
another strategy).
"""

from __future__ import annotations

import dataclasses
import difflib
from dataclasses import dataclass
from typing import Any

from strategies.base import CatalystStrategy, HedgeSpec
from strategies.benchmark_hedged import BenchmarkHedgedParams
from strategies.buy_and_hold import BuyAndHold, BuyAndHoldParams
from strategies.cross_listing_lead_lag import CrossListingLeadLag, CrossListingLeadLagParams
from strategies.event_fade import EventFade, EventFadeParams
from strategies.narrative_basket import NarrativeBasket, NarrativeBasketParams
from strategies.post_event_drift import PostEventDrift, PostEventDriftParams
from strategies.pre_event_run_up import PreEventRunUp, PreEventRunUpParams


@dataclass(frozen=True, kw_only=True, slots=True)
class StrategyEntry:
    """A registered strategy: its class (None for wrappers), its frozen parameter type and a
    one-line summary."""

    name: str
    strategy: type[CatalystStrategy] | None
    params: type
    summary: str


@dataclass(frozen=True, kw_only=True, slots=True)
class Resolved:
    """What the engine runs for a configured strategy."""

    strategy: type[CatalystStrategy]
    config: Any
    hedge: HedgeSpec | None = None


STRATEGIES: dict[str, StrategyEntry] = {
    e.name: e for e in (
        StrategyEntry(name="post_event_drift", strategy=PostEventDrift, params=PostEventDriftParams,
                      summary="enter at each catalyst's first-trade point, hold N sessions (stops optional)"),
        StrategyEntry(name="pre_event_run_up", strategy=PreEventRunUp, params=PreEventRunUpParams,
                      summary="enter k sessions before a scheduled catalyst, exit at or after day 0"),
        StrategyEntry(name="event_fade", strategy=EventFade, params=EventFadeParams,
                      summary="take the other side of a day-0 abnormal move beyond a threshold"),
        StrategyEntry(name="cross_listing_lead_lag", strategy=CrossListingLeadLag,
                      params=CrossListingLeadLagParams,
                      summary="trade the listing that has not reacted yet toward ADR parity"),
        StrategyEntry(name="narrative_basket", strategy=NarrativeBasket, params=NarrativeBasketParams,
                      summary="buy or short a catalyst's basket, each listing at its own first-trade point, "
                              "hold N sessions (hedge optional)"),
        StrategyEntry(name="benchmark_hedged", strategy=None, params=BenchmarkHedgedParams,
                      summary="any strategy above with each trade hedged by the benchmark (rolling beta)"),
        StrategyEntry(name="buy_and_hold", strategy=BuyAndHold, params=BuyAndHoldParams,
                      summary="hold the listings or the benchmark index throughout (reference rows)"),
    )
}


def _unknown(name: str) -> str:
    near = difflib.get_close_matches(str(name), list(STRATEGIES), n=1)
    hint = f" — did you mean '{near[0]}'?" if near else ""
    return f"strategy {name!r} is unknown{hint} Available: {', '.join(STRATEGIES)}"


def build_params(name: str, table: dict[str, Any], *, where: str = "params") -> Any:
    """Validated parameter object of strategy ``name`` from a config table.

    Lists become tuples. Raises :class:`ParamsError` (a ValueError) listing every unknown key
    (with a "did you mean") and every invalid value, each with how to fix it.
    """
    entry = STRATEGIES.get(name)
    if entry is None:
        raise ValueError(_unknown(name))
    names = tuple(f.name for f in dataclasses.fields(entry.params) if f.init)
    lines = []
    for key in (k for k in table if k not in names):
        near = difflib.get_close_matches(key, names, n=1)
        lines.append(f"[{where}] unknown key '{key}'" + (f" — did you mean '{near[0]}'?" if near else "")
                     + f" {name} takes: {', '.join(names)}")
    values = {k: tuple(v) if isinstance(v, list) else v for k, v in table.items() if k in names}
    if not lines:
        try:
            return entry.params(**values)
        except (TypeError, ValueError) as exc:
            first = _line(exc, where)
    else:
        first = None
    # find every bad value (not one per run): each key alone, then each failing key beside the
    # keys that passed alone (a rule between keys, e.g. min <= window, is judged with both)
    alone = {key: _error(entry.params, {key: value}, where) for key, value in values.items()}
    good = {k: values[k] for k, err in alone.items() if err is None}
    for key, err in alone.items():
        if err is not None and _error(entry.params, {**good, key: values[key]}, where) is not None:
            lines.append(err)
    if not lines and first is not None:
        lines.append(first)
    raise ParamsError(lines)


def _line(exc: Exception, where: str) -> str:
    msg = str(exc)
    return msg if msg.startswith("[") else f"[{where}] {msg}"


def _error(params_cls: type, values: dict[str, Any], where: str) -> str | None:
    try:
        params_cls(**values)
    except (TypeError, ValueError) as exc:
        return _line(exc, where)
    return None


class ParamsError(ValueError):
    """Every problem of a strategy's parameter table, one line each (``problems``)."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


def resolve(name: str, params: Any) -> Resolved:
    """The strategy class, parameter object and hedge the engine runs for ``name``."""
    entry = STRATEGIES.get(name)
    if entry is None:
        raise ValueError(_unknown(name))
    if isinstance(params, BenchmarkHedgedParams):
        inner = resolve(params.strategy, params.inner)
        return Resolved(strategy=inner.strategy, config=inner.config, hedge=params.spec)
    assert entry.strategy is not None
    return Resolved(strategy=entry.strategy, config=params, hedge=getattr(params, "hedge_spec", None))
