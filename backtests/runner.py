"""From a validated :class:`~backtests.config.RunConfig` to a finished, written backtest.

The only module that wires sources, calendars, the schedule and the engine together;
the CLI commands call it, tests call it.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import pandas as pd

from backtests.config import DataSpec, RunConfig
from backtests.engine import BacktestSetupError, require_tradable_bars, run_backtest
from backtests.fx import FxRates
from backtests.outdir import check_out_dir, staged_output
from backtests.results import BacktestResult, atomic_write_text, frame_to_csv, write_json, write_outputs
from data_loaders.markets import get_listing
from data_loaders.plausibility import as_frame_issue, jump_issues, parity_issue, refuse_or_warn
from data_loaders.registry import active_registry, use_registry
from data_loaders.schema import DailyBars, DataIssue, PriceSource
from data_loaders.sources import make_source
from events.calendar_file import CatalystCalendar, default_calendar_path, load_calendar
from events.catalyst import Catalyst
from events.narrative import narrative_by_id, with_narrative_reach
from events.schedule import EventSchedule, build_schedule, explain_no_rows
from strategies.registry import resolve

Progress = Callable[[str], None]


def load_catalyst_calendar(name_or_path: str) -> CatalystCalendar:
    """A shipped calendar by name ("alibaba_2025") or a TOML file by path.

    A path is anything with a folder separator or a ``.toml`` suffix; a name is letters,
    digits, ``_`` and ``-`` only, so it cannot leave ``events/data/`` (``..`` is refused).
    Parsed and validated once per file version in a process (:func:`events.calendar_file.load_calendar`).
    """
    path = Path(name_or_path)
    if path.suffix == ".toml" or "/" in name_or_path or "\\" in name_or_path:
        if not path.is_file():
            raise BacktestSetupError(f"calendar file {name_or_path!r} does not exist (or is not a file); "
                                     f"pass the path of a calendar .toml or a shipped calendar name")
        return load_calendar(path)
    folder = default_calendar_path().parent
    if not re.fullmatch(r"[A-Za-z0-9_-]+", name_or_path):
        raise BacktestSetupError(
            f"calendar {name_or_path!r} is neither a shipped calendar name (letters, digits, _ and - only) nor a "
            f"path to a .toml file; shipped: {_shipped_names(folder)}")
    shipped = folder / f"{name_or_path}.toml"
    if not shipped.is_file():
        raise BacktestSetupError(
            f"calendar {name_or_path!r}: no such file and no shipped calendar of that "
            f"name; shipped: {_shipped_names(folder)}")
    return load_calendar(shipped)


def _shipped_names(folder: Path) -> str:
    return ", ".join(sorted(p.stem for p in folder.glob("*.toml")))


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


def price_source(data: DataSpec, *, cache_dir: Path | None = None) -> PriceSource:
    """The source a config's ``[data]`` names: the frames handed in from Python when there are
    any, else ``make_source`` (akshare cached under ``cache_dir``, re-fetched on ``refresh``)."""
    if data.frames is not None:
        return data.frames
    return make_source(data.source, data_dir=data.dir, cache_dir=cache_dir, seed=data.seed,  # type: ignore[arg-type]
                       refresh=data.refresh)


def load_inputs(cfg: RunConfig, *, listings: tuple[str, ...], progress: Progress = lambda _: None,
                cache_dir: Path | None = None) -> LoadedInputs:
    """Load bars for ``listings``, the benchmark and FX, and schedule the calendar's catalysts
    (with the config's listing registry active)."""
    with use_registry(cfg.registry):
        return _load_inputs(cfg, listings=listings, progress=progress, cache_dir=cache_dir)


def _load_inputs(cfg: RunConfig, *, listings: tuple[str, ...], progress: Progress,
                 cache_dir: Path | None) -> LoadedInputs:
    source = price_source(cfg.data, cache_dir=cache_dir)
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
    bars, benchmark, fx = check_plausibility(cfg, bars, benchmark, fx)
    progress("scheduling catalysts")
    calendar = load_catalyst_calendar(cfg.events.calendar)
    known = [c.id for c in calendar]
    for cid in cfg.events.only:
        if cid not in known:
            near = difflib.get_close_matches(cid, known, n=1)
            hint = f" — did you mean {near[0]!r}?" if near else ""
            raise BacktestSetupError(f"{cfg.path}: [events] only names {cid!r}, which is not in calendar "
                                     f"{cfg.events.calendar!r}{hint} Known: {', '.join(known)}")
    catalysts = tuple(narrative_catalysts(cfg, calendar, keep_all=False))
    args = (catalysts, tuple(listings), cfg.events.fill_policy, cfg.events.apply_to, active_registry().content_key)
    try:
        schedule = _schedule(*args)
    except TypeError:  # an unhashable catalyst built in Python: not memoised
        schedule = _schedule.__wrapped__(*args)
    return LoadedInputs(bars=bars, benchmark=benchmark, fx=fx, calendar=calendar, schedule=schedule)


@lru_cache(maxsize=32)
def _schedule(catalysts: tuple[Catalyst, ...], listings: tuple[str, ...], fill_policy: str, apply_to: str,
              registry_key: str) -> EventSchedule:
    """:func:`events.schedule.build_schedule`, memoised: a schedule is immutable and depends only
    on these arguments, the exchange calendars and the active registry (``registry_key``: its
    :attr:`~data_loaders.registry.Registry.content_key`)."""
    return build_schedule(catalysts, listings=listings, fill_policy=fill_policy, apply_to=apply_to)  # type: ignore[arg-type]


def narrative_catalysts(cfg: RunConfig, calendar: CatalystCalendar, *, keep_all: bool) -> list[Catalyst]:
    """The config's catalysts (``[events] only``), with ``[events] narrative``'s reach applied.

    With a narrative, its catalysts also reach every listing of its basket; a run
    (``keep_all=False``) keeps only the narrative's catalysts, a study (``keep_all=True``)
    keeps every catalyst so estimation windows still leave the others out.

    Raises
    ------
    BacktestSetupError
        A narrative id the calendar does not have (with the known ones).
    """
    catalysts = [c for c in calendar if not cfg.events.only or c.id in cfg.events.only]
    if cfg.events.narrative is None:
        return catalysts
    try:
        narrative = narrative_by_id(calendar.narratives, cfg.events.narrative, f"calendar {cfg.events.calendar!r}")
    except KeyError as exc:
        raise BacktestSetupError(f"{cfg.path}: [events] narrative: {str(exc).strip(chr(34))}") from None
    reached = list(with_narrative_reach(catalysts, [narrative]))
    return reached if keep_all else [c for c in reached if c.id in narrative.catalysts]
def check_plausibility(cfg: RunConfig, bars: dict[str, DailyBars], benchmark: DailyBars,
                       fx: DailyBars | None) -> tuple[dict[str, DailyBars], DailyBars, DailyBars | None]:
    """Implausible jumps in every series and parity mismatches of declared pairs among the
    listings (:mod:`data_loaders.plausibility`): refused, or added to the series' issues (so
    they reach the console, ``notes.txt`` and ``provenance.json``) under ``plausibility = "warn"``.

    Raises
    ------
    ImplausibleDataError
        Under ``[data] plausibility = "refuse"`` (the default), naming every finding.
    """
    spec = cfg.data.plausibility
    found: dict[str, tuple[DataIssue, ...]] = {}
    for b in (*bars.values(), benchmark, *([fx] if fx is not None else [])):
        found[b.symbol] = found.get(b.symbol, ()) + jump_issues(b, spec)
    if fx is not None:
        registry = cfg.registry
        for pair in registry.pairs:
            if pair.adr in bars and pair.ordinary in bars and pair.fx == fx.symbol:
                issue = parity_issue(adr=bars[pair.adr], ordinary=bars[pair.ordinary], fx=fx,
                                     shares_per_adr=pair.shares_per_adr, spec=spec)
                if issue is not None:
                    found[pair.adr] = (*found.get(pair.adr, ()), issue)
    found = {sym: issues for sym, issues in found.items() if issues}
    refuse_or_warn(found, spec)
    bars = {sym: as_frame_issue(b, found.get(sym, ())) for sym, b in bars.items()}
    benchmark = as_frame_issue(benchmark, found.get(benchmark.symbol, ()))
    fx = as_frame_issue(fx, found.get(fx.symbol, ())) if fx is not None else None
    return bars, benchmark, fx


def run_config(cfg: RunConfig, *, out_dir: Path | None, progress: Progress = lambda _: None,
               cache_dir: Path | None = None) -> tuple[BacktestResult, LoadedInputs]:
    """Run the config's backtest and (when ``out_dir``) write its files.

    Raises
    ------
    BacktestSetupError
        Among others, when the strategy trades on catalysts and none of the calendar's
        catalysts reaches the strategy's listings (the message says how to aim them).
    """
    if cfg.strategy is None:
        raise BacktestSetupError(f"{cfg.path}: no [strategy] section to run")
    if out_dir is not None:
        check_out_dir(Path(out_dir))  # before any work
    with use_registry(cfg.registry):
        return _run_config(cfg, out_dir=out_dir, progress=progress, cache_dir=cache_dir)


def _run_config(cfg: RunConfig, *, out_dir: Path | None, progress: Progress,
                cache_dir: Path | None) -> tuple[BacktestResult, LoadedInputs]:
    assert cfg.strategy is not None
    inputs = load_inputs(cfg, listings=cfg.strategy.listings, progress=progress, cache_dir=cache_dir)
    resolved = resolve(cfg.strategy.name, cfg.strategy.params)
    if resolved.strategy.uses_catalysts:
        require_catalysts(cfg, inputs)
    require_tradable_bars(inputs.bars)
    check_named_parts(resolved.config, inputs, where=f"{cfg.path}: [strategy.params]")
    check_board_lots(resolved.config, inputs, base_currency=cfg.portfolio.base_currency)
    progress(f"running {cfg.strategy.name}")
    result = run_backtest(strategy=resolved.strategy, strategy_config=resolved.config, bars=inputs.bars,
                          schedule=inputs.schedule, benchmark=inputs.benchmark, fx=inputs.fx,
                          portfolio=cfg.portfolio, costs=cfg.costs, hedge=resolved.hedge)
    flags = run_flags(result, cfg)
    notes = [*(f"FLAG {f['kind']}: {f['message']}" for f in flags), *inputs.schedule.problems, *result.notes]
    for sym, issues in inputs.data_issues.items():
        notes += [f"data {sym}: {i.message}" for i in issues]
    summary = {**result.summary, "flags": flags, "config": str(cfg.path), "strategy": cfg.strategy.name,
               "listings": list(cfg.strategy.listings), "fill_policy": cfg.events.fill_policy,
               "data_source": cfg.data.source, "start": f"{cfg.start:%Y-%m-%d}", "end": f"{cfg.end:%Y-%m-%d}",
               "catalysts": [c.id for c in inputs.schedule.catalysts]}
    result = dataclasses.replace(result, summary=summary, notes=tuple(notes))
    if out_dir is not None:
        with staged_output(Path(out_dir), command="run", owned=RUN_FILES) as stage:
            write_outputs(result, stage)
            write_run_context(inputs, stage)
    return result, inputs


def check_named_parts(params: object, inputs: LoadedInputs, *, where: str) -> None:
    """Refuse strategy parameters that name catalysts the run does not have (``catalysts``)
    or listings it does not trade (``weights``), with the known ones.

    Raises
    ------
    BacktestSetupError
        Naming the first unknown id, a near match and the choices.
    """
    named = {"catalysts": (tuple(getattr(params, "catalysts", ())), [c.id for c in inputs.schedule.catalysts]),
             "weights": (tuple(getattr(params, "weights", {}) or ()), list(inputs.bars))}
    for key, (given, known) in named.items():
        for name in given:
            if name not in known:
                near = difflib.get_close_matches(name, known, n=1)
                hint = f" — did you mean {near[0]!r}?" if near else ""
                raise BacktestSetupError(f"{where} {key}: {name!r} is not in this run{hint} Known: {', '.join(known)}")


# every file ``run`` may write: an older run's copy is removed even when its marker is gone
RUN_FILES = ("trades.csv", "costs.csv", "equity.csv", "positions.csv", "returns.csv", "summary.json",
             "notes.txt", "schedule.csv", "provenance.json")


def require_catalysts(cfg: RunConfig, inputs: LoadedInputs) -> None:
    """Refuse a catalyst strategy that could only make zero trades (which would look like a
    result): no catalyst reaches its listings, or all of them fall outside the run.

    Raises
    ------
    BacktestSetupError
        Naming the listings or the period, the calendar and how to aim or widen it.
    """
    assert cfg.strategy is not None
    rows = inputs.schedule.rows
    if not rows:
        raise BacktestSetupError(f"{cfg.path}: nothing to trade — " + explain_no_rows(
            inputs.schedule.catalysts, cfg.strategy.listings, calendar=cfg.events.calendar))
    if any(cfg.start <= r.first_trade_session <= cfg.end for r in rows):
        return
    first = min(r.reaction_session for r in rows)
    last = max(r.reaction_session for r in rows)
    raise BacktestSetupError(
        f"{cfg.path}: nothing to trade: [run] {cfg.start:%Y-%m-%d}..{cfg.end:%Y-%m-%d} holds no catalyst of "
        f"calendar {cfg.events.calendar!r} (its {len(rows)} scheduled catalyst row(s) fall on "
        f"{first:%Y-%m-%d}..{last:%Y-%m-%d}); widen [run] start/end, or check [events] only")


def run_flags(result: BacktestResult, cfg: RunConfig) -> list[dict[str, str]]:
    """Loud findings about a finished run, for the console headline, the notes and
    ``summary.json`` ``flags`` (the tearsheet can show them).

    ``borrow_limit``: cash fell below ``-max_borrow_base`` (the strategy spent money it did
    not have; the equity curve assumes free credit). With ``on_borrow_limit = "stop"`` this
    raises instead. ``no_trades``: the strategy made no trade at all (the notes say why).

    Raises
    ------
    BacktestRunError
        The borrow limit was crossed and ``[portfolio] on_borrow_limit = "stop"``.
    """
    flags = []
    port = cfg.portfolio
    equity = result.equity
    if len(equity) and float(equity["cash_base"].min()) < -port.max_borrow_base - 0.005:
        at = equity.loc[equity["cash_base"].idxmin()]
        first = equity.loc[(equity["cash_base"] < -port.max_borrow_base - 0.005).idxmax()]
        msg = (f"the portfolio borrowed beyond its limit: cash fell to {float(at['cash_base']):,.0f} "
               f"{port.base_currency} on {at['session']:%Y-%m-%d} (first below the limit on "
               f"{first['session']:%Y-%m-%d}; [portfolio] max_borrow_base = {port.max_borrow_base:,.0f}); the "
               f"returns assume that credit was free. Lower the notional, use when_holding = \"skip\", raise "
               f"initial_cash or max_borrow_base")
        if port.on_borrow_limit == "stop":
            raise BacktestRunError(f"{cfg.path}: {msg} (stopped: [portfolio] on_borrow_limit = \"stop\"; "
                                   f"nothing was written)")
        flags.append({"kind": "borrow_limit", "message": msg})
    if not len(result.trades):
        skipped = [n for n in result.notes if "skip" in n or "not traded" in n]
        why = f"; {len(skipped)} decision(s) skipped, first: {skipped[0]}" if skipped else \
            "; no catalyst met the strategy's conditions (see notes.txt)"
        flags.append({"kind": "no_trades", "message": f"the strategy made no trade{why}"})
    return flags


class BacktestRunError(BacktestSetupError):
    """A run that crossed a limit the config says must stop it."""


def check_board_lots(params: object, inputs: LoadedInputs, *, base_currency: str) -> None:
    """Refuse a per-trade notional that cannot buy one board lot of a traded listing.

    Measured at the listing's first close in the run, converted at the FX rate known at
    that close (a check of intent, not a fill).

    Raises
    ------
    BacktestSetupError
        Naming the listing, the lot, its value and the smallest notional that works.
    """
    notional = getattr(params, "notional_per_trade_base", None)
    per_listing = getattr(params, "notional_for", None)   # baskets split one notional over listings
    if notional is None and per_listing is None:
        return
    for sym, bars in inputs.bars.items():
        if per_listing is not None:
            notional = per_listing(sym, tuple(inputs.bars))
            if notional <= 0:
                continue
        lst = get_listing(sym)
        first_close = float(bars.frame["close"].iloc[0])
        rate = 1.0
        if lst.currency != base_currency and inputs.fx is not None and len(inputs.fx):
            rate = FxRates(usdhkd=inputs.fx).rate(lst.currency, base_currency, bars.frame["close_utc"].iloc[0])
        lot_value = lst.lot_size_shares * first_close * rate
        if notional < lot_value:
            raise BacktestSetupError(
                f"{'the basket share' if per_listing else 'notional_per_trade_base'} = {notional:,.0f} "
                f"{base_currency} cannot buy one board lot of {sym} "
                f"({lst.lot_size_shares} × {first_close:.2f} {lst.currency} = {lot_value:,.0f} {base_currency} "
                f"at its first close, {bars.frame.index[0]:%Y-%m-%d}); set it to at least "
                f"{math.ceil(lot_value * 1.5):,} so price moves do not round trades to zero lots")


def write_run_context(inputs: LoadedInputs, out_dir: Path) -> None:
    """``schedule.csv`` (catalysts placed on each listing) and ``provenance.json`` (where
    every series came from, its span and what validation found) beside the results."""
    by_id = {c.id: c for c in inputs.calendar}
    frame = inputs.schedule.to_frame()
    frame.insert(1, "headline", frame["catalyst_id"].map(lambda c: by_id[c].headline))
    frame.insert(2, "kind", frame["catalyst_id"].map(lambda c: by_id[c].kind))
    frame.insert(3, "starred", frame["catalyst_id"].map(lambda c: by_id[c].starred))
    atomic_write_text(out_dir / "schedule.csv", frame_to_csv(frame))
    every = {**inputs.bars, inputs.benchmark.symbol: inputs.benchmark}
    if inputs.fx is not None:
        every[inputs.fx.symbol] = inputs.fx
    series = {}
    for sym, b in every.items():
        idx = b.frame.index
        series[sym] = {
            "source": b.source, "adjustment": b.adjustment, "currency": b.currency, "synthetic": b.synthetic,
            "first_session": f"{idx[0]:%Y-%m-%d}" if len(idx) else None,
            "last_session": f"{idx[-1]:%Y-%m-%d}" if len(idx) else None,
            "sessions": int(len(idx)), "issues": [i.message for i in b.issues],
        }
    write_json(out_dir / "provenance.json", {"series": series})
