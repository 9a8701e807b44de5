"""What every combination of a sweep shares: the loaded data, its snapshot hash, the code
version, and how one combination becomes a concrete run (:class:`RunPlan`).

The result store keys each row by ``sha256(data snapshot hash | code version | effective
combination)``: change a price, a catalyst, a cost rate or the engine's code and every key
changes, so a resumed sweep never mixes results of different inputs.
"""

from __future__ import annotations

import dataclasses
import difflib
import hashlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import Any


from backtests.config import PAIR_STRATEGIES, RunConfig, check_listings
from backtests.engine import PortfolioSpec, require_tradable_bars
from backtests.runner import load_inputs
from backtests.sweeps.rowmetrics import BenchClock
from backtests.sweeps.space import (SPECIAL_DIMENSIONS, Combo, SweepSpaceError, canonical_json, field_kinds,
                                   normalise_value)
from data_loaders.schema import DailyBars, frame_bytes
from events.calendar_file import CatalystCalendar
from events.schedule import EventSchedule
from strategies.cross_listing_lead_lag import lead_lag_listing_problems
from strategies.registry import STRATEGIES, StrategyEntry, resolve

REPO_ROOT = Path(__file__).resolve().parents[2]

#: Source files whose behaviour a stored result depends on (relative to the repository).
CODE_FILES: tuple[str, ...] = (
    "strategies/*.py", "backtests/engine.py", "backtests/costs.py", "backtests/ledger.py", "backtests/fx.py",
    "backtests/metrics.py", "backtests/results.py", "backtests/runner.py",
    "backtests/sweeps/kernel.py", "backtests/sweeps/kernel_data.py", "backtests/sweeps/evaluate.py",
    "backtests/sweeps/legs.py", "backtests/sweeps/hedges.py", "backtests/sweeps/plans/*.py",
    "backtests/sweeps/rowmetrics.py", "backtests/sweeps/inputs.py",
)


@dataclass(frozen=True, kw_only=True)
class RunPlan:
    """One combination made concrete: what a single backtest would be given."""

    params: Any
    listings: tuple[str, ...]
    only: tuple[str, ...]
    portfolio: PortfolioSpec

    def effective(self, strategy: str) -> dict[str, Any]:
        """Everything that distinguishes this run from another on the same inputs (parameter
        values as a sweep normalises them: whole numbers of float fields as floats)."""
        kinds = field_kinds(type(self.params))
        params = {f.name: normalise_value(f.name, getattr(self.params, f.name), kinds)
                  for f in dataclasses.fields(self.params) if f.init}
        return {"strategy": strategy, "params": params, "listings": list(self.listings),
                "only": list(self.only), "portfolio": dataclasses.asdict(self.portfolio)}


@dataclass(frozen=True, kw_only=True)
class SweepInputs:
    """Data and settings shared by every combination (picklable: shipped once per worker).

    Attributes
    ----------
    cfg
        The base configuration (its ``[strategy]`` gives the defaults of every parameter).
    strategy
        Registered strategy name.
    bars
        Raw bars of every listing any combination trades.
    benchmark, fx, calendar, schedule
        As :func:`backtests.runner.load_inputs` loads them (schedule: every catalyst).
    data_hash
        sha256 of the bars, benchmark, FX, catalysts, schedule and the fixed settings.
    code_version
        Package version + sha256 of the engine/strategy/kernel sources.
    bench_clock
        The benchmark's session clock, returns and sessions per year (computed once: the
        calendar's sessions per year is slow to build in every worker).
    """

    cfg: RunConfig
    strategy: str
    bars: dict[str, DailyBars]
    benchmark: DailyBars
    fx: DailyBars | None
    calendar: CatalystCalendar
    schedule: EventSchedule
    data_hash: str
    code_version: str
    bench_clock: BenchClock

    @property
    def entry(self) -> StrategyEntry:
        return STRATEGIES[self.strategy]

    def resolve(self, plan: "RunPlan") -> Any:
        """What the engine runs for ``plan``: ``strategies.registry.resolve`` (strategy class,
        parameter object, optional hedge)."""
        return resolve(self.strategy, plan.params)

    @property
    def kinds(self) -> dict[str, str | None]:
        return field_kinds(self.entry.params)

    def plan(self, combo: Combo) -> RunPlan:
        """The run for ``combo`` (base config values where the combination is silent).

        Raises
        ------
        SweepSpaceError
            When the strategy's parameter class refuses the values (its message included).
        """
        assert self.cfg.strategy is not None
        strategy_values = {k: v for k, v in combo.items() if k not in SPECIAL_DIMENSIONS}
        try:
            params = _replace(self.cfg.strategy.params, strategy_values)
        except (ValueError, TypeError) as exc:
            raise SweepSpaceError(f"{self.strategy} refuses {canonical_json(combo)}: {exc}") from exc
        listings = tuple(combo.get("strategy.listings", self.cfg.strategy.listings))
        only = tuple(combo.get("events.only", self.cfg.events.only))
        portfolio = self.cfg.portfolio
        if "portfolio.slippage_bps" in combo:
            try:
                portfolio = dataclasses.replace(portfolio, slippage_bps=float(combo["portfolio.slippage_bps"]))
            except Exception as exc:
                raise SweepSpaceError(f"portfolio.slippage_bps = {combo['portfolio.slippage_bps']!r}: {exc}") from exc
        return RunPlan(params=params, listings=listings, only=only, portfolio=portfolio)

    def key(self, plan: RunPlan) -> str:
        """The store key of a run: sha256 of data hash, code version and the effective run."""
        text = f"{self.data_hash}|{self.code_version}|{canonical_json(plan.effective(self.strategy))}"
        return hashlib.sha256(text.encode()).hexdigest()

    def constraint_env(self, combo: Combo) -> dict[str, Any]:
        """Names a constraint can use: every strategy parameter (base values where the
        combination is silent) and the special dimensions."""
        assert self.cfg.strategy is not None
        env = {f.name: getattr(self.cfg.strategy.params, f.name)
               for f in dataclasses.fields(self.cfg.strategy.params) if f.init}
        env["events.only"] = tuple(self.cfg.events.only)
        env["strategy.listings"] = tuple(self.cfg.strategy.listings)
        env["portfolio.slippage_bps"] = self.cfg.portfolio.slippage_bps
        env.update(combo)
        return env

    def schedule_for(self, only: tuple[str, ...]) -> EventSchedule:
        """The schedule restricted to ``only`` (all catalysts when empty), as ``load_inputs``
        would have built it for a config with ``[events] only``."""
        if not only:
            return self.schedule
        keep = set(only)
        changes: dict[str, Any] = {"rows": tuple(r for r in self.schedule.rows if r.catalyst_id in keep)}
        if hasattr(self.schedule, "catalysts"):
            changes["catalysts"] = tuple(c for c in self.schedule.catalysts if c.id in keep)
        return dataclasses.replace(self.schedule, **changes)


def sweepable_names(strategy: str) -> tuple[str, ...]:
    """Strategy parameter names plus the special dimensions."""
    return (*(f.name for f in dataclasses.fields(STRATEGIES[strategy].params) if f.init), *SPECIAL_DIMENSIONS)


def check_values(cfg: RunConfig, names_values: Mapping[str, list[Any]], catalyst_ids: set[str]) -> None:
    """Check each dimension's values on their own (so a bad value is named before anything runs).

    Raises
    ------
    SweepSpaceError
        A value the strategy refuses, an unknown listing or catalyst id.
    """
    assert cfg.strategy is not None
    entry = STRATEGIES[cfg.strategy.name]
    kinds = field_kinds(entry.params)
    problems: list[str] = []
    for name, values in names_values.items():
        for raw in values:
            try:
                value = normalise_value(name, raw, kinds)
            except SweepSpaceError as exc:
                problems.append(str(exc))
                continue
            if name == "strategy.listings":
                mine: list[str] = []
                symbols = check_listings("sweep", list(value), cfg.registry, mine)
                if not mine and any(str(t).startswith("@") for t in value):
                    mine.append(f"write symbols, not @targets, in a sweep dimension (here {list(symbols)})")
                if not mine and cfg.strategy.name in PAIR_STRATEGIES:
                    mine += lead_lag_listing_problems(symbols, cfg.registry)
                problems += [f"strategy.listings value {list(value)!r}: {p}" for p in mine]
            elif name == "events.only":
                bad = [c for c in value if c not in catalyst_ids]
                if bad:
                    near = difflib.get_close_matches(bad[0], sorted(catalyst_ids), n=1)
                    hint = f" — did you mean '{near[0]}'?" if near else ""
                    problems.append(f"events.only value {list(value)!r}: unknown catalyst id(s) {bad}{hint}")
            elif name == "portfolio.slippage_bps":
                if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
                    problems.append(f"portfolio.slippage_bps = {value!r} must be a number >= 0")
            else:
                try:
                    dataclasses.replace(cfg.strategy.params, **{name: value})
                except (ValueError, TypeError) as exc:
                    problems.append(f"{name} = {value!r}: {exc}")
    if problems:
        raise SweepSpaceError("; ".join(dict.fromkeys(problems)))


def _frame_digest(bars: DailyBars) -> bytes:
    frame = bars.frame
    head = f"{bars.symbol}|{bars.currency}|{bars.adjustment}|{list(frame.columns)}|{len(frame)}".encode()
    return head + frame_bytes(frame)


@lru_cache(maxsize=8)
def _events_bytes(calendar: CatalystCalendar, schedule: EventSchedule) -> bytes:
    """What the data hash reads of the catalysts and the schedule (both immutable, and the same
    objects on a repeated load: :func:`events.calendar_file.load_calendar` and
    :func:`backtests.runner.load_inputs` memoise them)."""
    return b"".join([*(repr(cat).encode() for cat in calendar), *(repr(row).encode() for row in schedule.rows)])


def data_snapshot_hash(*, cfg: RunConfig, bars: Mapping[str, DailyBars], benchmark: DailyBars,
                       fx: DailyBars | None, calendar: CatalystCalendar, schedule: EventSchedule) -> str:
    """sha256 of every input a run reads besides its parameters (see the module docstring)."""
    h = hashlib.sha256()
    for sym in sorted(bars):
        h.update(_frame_digest(bars[sym]))
    h.update(_frame_digest(benchmark))
    if fx is not None:
        h.update(_frame_digest(fx))
    try:
        h.update(_events_bytes(calendar, schedule))
    except TypeError:  # an unhashable catalyst built in Python: not memoised
        h.update(_events_bytes.__wrapped__(calendar, schedule))
    fixed = (cfg.start, cfg.end, cfg.events.fill_policy, cfg.data.benchmark, cfg.data.fx, repr(cfg.costs),
             repr(cfg.portfolio))
    h.update(repr(fixed).encode())
    return h.hexdigest()


def _replace(obj: Any, changes: dict[str, Any]) -> Any:
    """``dataclasses.replace(obj, **changes)`` (the class validates the values as usual),
    without reading ``obj``'s fields again for every combination of a sweep."""
    try:
        base = _init_values(obj)
    except TypeError:  # an unhashable parameter object
        return dataclasses.replace(obj, **changes)
    return type(obj)(**{**base, **changes})


@lru_cache(maxsize=32)
def _init_values(obj: Any) -> dict[str, Any]:
    return {f.name: getattr(obj, f.name) for f in dataclasses.fields(obj) if f.init}


@lru_cache(maxsize=1)
def code_version() -> str:
    """``catalyst-bt <version>+<sha256 of CODE_FILES, 12 hex>``."""
    try:
        version = metadata.version("catalyst-bt")
    except metadata.PackageNotFoundError:  # pragma: no cover - running from a bare checkout
        version = "0+unknown"
    h = hashlib.sha256()
    for pattern in CODE_FILES:
        for path in sorted(REPO_ROOT.glob(pattern)):
            h.update(str(path.relative_to(REPO_ROOT)).encode())
            h.update(path.read_bytes())
    return f"catalyst-bt {version}+{h.hexdigest()[:12]}"


def load_sweep_inputs(cfg: RunConfig, *, listings: tuple[str, ...], progress: Callable[[str], None] = lambda _: None,
                      cache_dir: Path | None = None) -> SweepInputs:
    """Load the bars of ``listings`` (the union over the sweep), benchmark, FX and every
    catalyst's schedule once."""
    assert cfg.strategy is not None
    every = dataclasses.replace(cfg, events=dataclasses.replace(cfg.events, only=()))
    loaded = load_inputs(every, listings=listings, progress=progress, cache_dir=cache_dir)
    require_tradable_bars(loaded.bars)
    data_hash = data_snapshot_hash(cfg=cfg, bars=loaded.bars, benchmark=loaded.benchmark, fx=loaded.fx,
                                   calendar=loaded.calendar, schedule=loaded.schedule)
    return SweepInputs(cfg=cfg, strategy=cfg.strategy.name, bars=dict(loaded.bars), benchmark=loaded.benchmark,
                       fx=loaded.fx, calendar=loaded.calendar, schedule=loaded.schedule, data_hash=data_hash,
                       code_version=code_version(), bench_clock=BenchClock.of(loaded.benchmark))
