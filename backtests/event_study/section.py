"""The ``[study]`` section of a config, and running the event study it describes.

The entry point behind ``catalyst-bt study`` and ``backtests.api.study``. The config's
``[data]`` and ``[events]`` sections are read by :mod:`backtests.config`; this module adds
the ``[study]`` section (every key optional)::

    [study]
    listings = ["9988.HK", "BABA"]  # symbols, "@issuer" or "@basket" targets
    windows = [[0, 0], [0, 1], [-1, 1], [0, 5], [-5, 10]]
    estimation_sessions = 120
    gap_sessions = 10
    min_estimation_sessions = 60
    model = "market"              # market | market_adjusted | constant_mean
    cross_clock = "dimson"        # dimson | last_close | next_close (benchmark on another clock)
    min_placebo_sessions = 50
    leadlag_horizon = 1
    primary_window = [0, 1]       # the pre-specified primary family: one window ...
    primary_test = "joint_placebo"  # ... one test per catalyst x firm (or "placebo": per listing)
    episodes = false              # true: overlapping catalysts merged into one primary test
    ewma_lambda = 0.0             # > 0 (e.g. 0.94): EWMA-standardised day-0 AR
    rank_test = false             # true: also the (not size-checked) rank test p_rank
    placebo_draws = 10000         # accepted, unused: placebo p-values are exact
    seed = 0                      # recorded; the exact placebo needs no draws; --seed overrides
    start = "2023-01-03"          # data span loaded (default: all the source has)
    end = "2025-12-31"
    out = "out/study"             # relative to the working directory; --out overrides

    [study.benchmarks]            # per listing; default: [data] benchmark for listings on its
    BABA = "KWEB"                 # calendar, else KWEB for BABA (a benchmark on the US clock)
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd

from backtests.config import ConfigError, RunConfig, check_keys, check_listings
from backtests.engine import BacktestSetupError
from backtests.event_study.cross_section_config import study_cross_section
from backtests.event_study.spec import EventStudySpec, EventStudySpecError
from backtests.event_study.study import EventStudyResult, run_event_study
from backtests.runner import load_catalyst_calendar, narrative_catalysts, price_source
from data_loaders.errors import DataError
from data_loaders.registry import Registry, use_registry
from data_loaders.schema import DailyBars
from events.schedule import build_schedule, explain_no_rows

SPEC_KEYS: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(EventStudySpec))
STUDY_KEYS: tuple[str, ...] = (*SPEC_KEYS, "listings", "benchmarks", "seed", "start", "end", "out")


@dataclass(frozen=True, kw_only=True)
class StudyConfig:
    """The validated ``[study]`` section.

    Attributes
    ----------
    spec
        The event-study settings.
    listings
        Listings studied.
    benchmarks
        Listing -> benchmark symbol.
    seed
        Placebo seed.
    start, end
        Span of prices loaded (``None``: all the source has).
    out
        Output folder from the file (``None``: ``out/<run name>``).
    """

    spec: EventStudySpec
    listings: tuple[str, ...]
    benchmarks: dict[str, str]
    seed: int = 0
    start: pd.Timestamp | None = None
    end: pd.Timestamp | None = None
    out: Path | None = None


def _default_benchmark(listing: str, data_benchmark: str, registry: Registry) -> str:
    """``[data] benchmark`` when it trades on the listing's calendar, else the listing's
    declared benchmark (BABA: KWEB), else ``[data] benchmark`` on its own clock."""
    lst, bench = registry.listings.get(listing), registry.listings.get(data_benchmark)
    if lst is None or (bench is not None and bench.market.calendar_code == lst.market.calendar_code):
        return data_benchmark
    return lst.benchmark or data_benchmark


def parse_study_section(cfg: RunConfig) -> StudyConfig:
    """Validate ``cfg.raw["study"]``.

    Raises
    ------
    ConfigError
        Every problem at once: unknown keys (with "did you mean"), unknown listings or
        benchmarks, inconsistent spec values, bad dates.
    """
    table: dict[str, Any] = dict(cfg.raw.get("study", {}))
    problems: list[str] = []
    check_keys("study", table, STUDY_KEYS, problems)

    registry = cfg.registry
    listings = check_listings("study", table.get("listings", ["9988.HK", "BABA"]), registry, problems)
    bench_table = table.get("benchmarks", {})
    if not isinstance(bench_table, dict):
        problems.append("[study] benchmarks must be a table, e.g. [study.benchmarks] BABA = \"KWEB\"")
        bench_table = {}
    benchmarks = {s: _default_benchmark(s, cfg.data.benchmark, registry) for s in listings}
    for sym, bench in bench_table.items():
        if sym not in listings:
            problems.append(f"[study.benchmarks] {sym!r} is not in [study] listings {list(listings)}; remove it "
                            f"or add the listing")
        elif bench not in registry.listings or registry.listings[bench].market.calendar_code is None:
            problems.append(f"[study.benchmarks] {sym} = {bench!r} is not an index, ETF or stock symbol; known: "
                            f"{', '.join(sorted(s for s, lst in registry.listings.items() if lst.kind != 'fx'))}")
        else:
            benchmarks[sym] = bench

    spec = EventStudySpec()
    spec_args = {k: table[k] for k in SPEC_KEYS if k in table}
    if "windows" in spec_args:
        w = spec_args["windows"]
        if not isinstance(w, list) or not all(isinstance(x, list) and len(x) == 2 for x in w):
            problems.append(f"[study] windows = {w!r}; write a list of [start, end] pairs, e.g. [[0, 0], [-1, 1]]")
            spec_args.pop("windows")
        else:
            spec_args["windows"] = tuple(tuple(x) for x in w)
    try:
        spec = EventStudySpec(**spec_args)
    except EventStudySpecError as exc:
        problems.append(f"[study] {exc}")
    except TypeError as exc:  # pragma: no cover - unknown keys are caught above
        problems.append(f"[study] {exc}")

    seed = table.get("seed", 0)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        problems.append(f"[study] seed = {seed!r} must be a whole number >= 0")
        seed = 0
    dates: dict[str, pd.Timestamp | None] = {}
    for key in ("start", "end"):
        dates[key] = None
        if key in table:
            try:
                dates[key] = pd.Timestamp(str(table[key])).normalize()
            except (ValueError, TypeError):
                problems.append(f"[study] {key} = {table[key]!r} is not a date; write e.g. {key} = \"2023-01-03\"")
    if dates["start"] is not None and dates["end"] is not None and dates["start"] >= dates["end"]:
        problems.append(f"[study] start {dates['start']:%Y-%m-%d} is not before end {dates['end']:%Y-%m-%d}")
    if problems:
        raise ConfigError(str(cfg.path), problems)
    return StudyConfig(spec=spec, listings=listings, benchmarks=benchmarks, seed=seed, start=dates["start"],
                       end=dates["end"], out=Path(table["out"]) if "out" in table else None)


def run_study_config(cfg: RunConfig, study: StudyConfig, *, cache_dir: Path | None = None) -> EventStudyResult:
    """Load prices and catalysts as ``cfg`` says and run the study (a symbol that cannot be
    loaded is reported and its listing's rows fail; the rest goes on).

    Raises
    ------
    BacktestSetupError
        No catalyst reaches any studied listing (the message says how to aim them).
    """
    with use_registry(cfg.registry):
        return _run_study_config(cfg, study, cache_dir)


def _run_study_config(cfg: RunConfig, study: StudyConfig, cache_dir: Path | None) -> EventStudyResult:
    source = price_source(cfg.data, cache_dir=cache_dir)
    loaded: dict[str, DailyBars] = {}
    load_problems: list[str] = []
    for sym in dict.fromkeys([*study.listings, *study.benchmarks.values()]):
        try:
            loaded[sym] = source.daily_bars(sym, study.start, study.end, "adjusted")
        except DataError as exc:
            load_problems.append(f"cannot load {sym}: {exc}")
    calendar = load_catalyst_calendar(cfg.events.calendar)
    catalysts = narrative_catalysts(cfg, calendar, keep_all=True)
    schedule = build_schedule(catalysts, listings=study.listings, fill_policy=cfg.events.fill_policy,
                              apply_to=cfg.events.apply_to)
    if not schedule.rows:
        raise BacktestSetupError(f"{cfg.path}: event study: nothing to study — " + explain_no_rows(
            catalysts, study.listings, calendar=cfg.events.calendar))
    prices = {s: loaded[s] for s in study.listings if s in loaded}
    benchmarks = {s: loaded[b] for s, b in study.benchmarks.items() if b in loaded}
    result = run_event_study(prices, benchmarks, schedule, study.spec, seed=study.seed)
    result = dataclasses.replace(result, cross_section=study_cross_section(
        cfg, calendar, study.listings, study.spec, prices, benchmarks, schedule))
    data_notes = [f"data {s}: {i.message}" for s, b in loaded.items() for i in b.issues]
    meta = {**result.meta, "config": str(cfg.path), "data_source": cfg.data.source,
            "calendar": cfg.events.calendar}
    return dataclasses.replace(result, problems=(*load_problems, *result.problems, *data_notes), meta=meta)


def write_study_outputs(result: EventStudyResult, out_dir: Path) -> list[Path]:
    """``event_study.csv`` / ``.json`` and, when the study has a cross-firm part,
    ``cross_section.csv`` / ``.json`` in ``out_dir``; returns the paths written."""
    from backtests.event_study.outputs import write_event_study

    written = list(write_event_study(result, out_dir))
    if result.cross_section is not None and len(result.cross_section.table):
        from backtests.event_study.cross_section_outputs import write_cross_section

        written += write_cross_section(result.cross_section, out_dir)
    return written
