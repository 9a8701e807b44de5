"""From a validated :class:`~backtests.config.RunConfig` to a finished, written backtest.

The only module that wires sources, calendars, the schedule and the engine together;
the CLI commands call it, tests call it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from backtests.config import RunConfig
from backtests.engine import BacktestSetupError, run_backtest
from backtests.results import BacktestResult, write_outputs
from data_loaders.schema import DailyBars, DataIssue
from data_loaders.sources import make_source
from events.calendar_file import CatalystCalendar, default_calendar_path, load_calendar
from events.schedule import EventSchedule, build_schedule
from strategies.registry import STRATEGIES

Progress = Callable[[str], None]


def load_catalyst_calendar(name_or_path: str) -> CatalystCalendar:
    """A shipped calendar by name ("alibaba_2025") or a TOML file by path."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        return load_calendar(path)
    shipped = default_calendar_path().parent / f"{name_or_path}.toml"
    if not shipped.is_file():
        names = sorted(p.stem for p in shipped.parent.glob("*.toml"))
        raise BacktestSetupError(
            f"calendar {name_or_path!r}: no such file and no shipped calendar of that "
            f"name; shipped: {', '.join(names)}")
    return load_calendar(shipped)


@dataclass(frozen=True, kw_only=True)
class LoadedInputs:
    """Everything a run reads, before any computation."""

    bars: dict[str, DailyBars]
    benchmark: DailyBars
    fx: DailyBars | None
    calendar: CatalystCalendar
    schedule: EventSchedule

    @property
    def data_issues(self) -> dict[str, tuple[DataIssue, ...]]:
        every = {**self.bars, self.benchmark.symbol: self.benchmark}
        if self.fx is not None:
            every[self.fx.symbol] = self.fx
        return {sym: b.issues for sym, b in every.items()}

    @property
    def synthetic(self) -> bool:
        return any(b.synthetic for b in (*self.bars.values(), self.benchmark))


def load_inputs(cfg: RunConfig, *, listings: tuple[str, ...], progress: Progress = lambda _: None,
                cache_dir: Path | None = None) -> LoadedInputs:
    """Load bars for ``listings``, the benchmark and FX, and schedule the calendar's catalysts."""
    source = make_source(cfg.data.source, data_dir=cfg.data.dir, cache_dir=cache_dir, seed=cfg.data.seed)
    bars = {}
    for sym in listings:
        progress(f"loading {sym}")
        bars[sym] = source.daily_bars(sym, cfg.start, cfg.end, "raw")
    progress(f"loading {cfg.data.benchmark}")
    benchmark = source.daily_bars(cfg.data.benchmark, cfg.start, cfg.end, "raw")
    fx = None
    if any(b.currency != cfg.portfolio.base_currency for b in bars.values()):
        progress(f"loading {cfg.data.fx}")
        # a month earlier so the first fill has a rate known before it
        fx = source.daily_bars(cfg.data.fx, cfg.start - pd.Timedelta(days=31), cfg.end, "raw")
    progress("scheduling catalysts")
    calendar = load_catalyst_calendar(cfg.events.calendar)
    catalysts = [c for c in calendar if not cfg.events.only or c.id in cfg.events.only]
    schedule = build_schedule(catalysts, listings=listings, fill_policy=cfg.events.fill_policy)
    return LoadedInputs(bars=bars, benchmark=benchmark, fx=fx, calendar=calendar, schedule=schedule)


def run_config(cfg: RunConfig, *, out_dir: Path | None, progress: Progress = lambda _: None,
               cache_dir: Path | None = None) -> tuple[BacktestResult, LoadedInputs]:
    """Run the config's backtest and (when ``out_dir``) write its files."""
    if cfg.strategy is None:
        raise BacktestSetupError(f"{cfg.path}: no [strategy] section to run")
    inputs = load_inputs(cfg, listings=cfg.strategy.listings, progress=progress, cache_dir=cache_dir)
    entry = STRATEGIES[cfg.strategy.name]
    progress(f"running {cfg.strategy.name}")
    result = run_backtest(strategy=entry.strategy, strategy_config=cfg.strategy.params, bars=inputs.bars,
                          schedule=inputs.schedule, benchmark=inputs.benchmark, fx=inputs.fx,
                          portfolio=cfg.portfolio, costs=cfg.costs)
    notes = [*inputs.schedule.problems, *result.notes]
    for sym, issues in inputs.data_issues.items():
        notes += [f"data {sym}: {i.message}" for i in issues]
    summary = {**result.summary, "config": str(cfg.path), "strategy": cfg.strategy.name,
               "listings": list(cfg.strategy.listings), "fill_policy": cfg.events.fill_policy,
               "data_source": cfg.data.source, "start": f"{cfg.start:%Y-%m-%d}", "end": f"{cfg.end:%Y-%m-%d}",
               "catalysts": [c.id for c in inputs.calendar if not cfg.events.only or c.id in cfg.events.only]}
    result = BacktestResult(trades=result.trades, fills=result.fills, equity=result.equity,
                            benchmark=result.benchmark, summary=summary, notes=tuple(notes))
    if out_dir is not None:
        write_outputs(result, out_dir)
    return result, inputs
