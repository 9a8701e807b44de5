"""TOML run configurations, validated with messages that name the key and the fix.

Sections shared by every command: ``[run]``, ``[data]``, ``[events]``; the backtest adds
``[portfolio]``, ``[strategy]`` (+ ``[strategy.params]``) and ``[costs.HK]`` / ``[costs.US]``.
Other commands (``study``, ``sweep``) read their own section from ``RunConfig.raw`` with
:func:`check_keys`. Every problem in a file is reported at once, one line each.

Example (``configs/alibaba_2025.toml``)::

    [run]
    start = "2024-10-01"
    end = "2025-10-31"
    [data]
    source = "csv"                 # csv | akshare | synthetic
    dir = "../shared/data/prices"  # csv only; relative to this file; --data-dir overrides
    [events]
    calendar = "alibaba_2025"      # a shipped calendar name or a path
    [strategy]
    name = "post_event_drift"
    listings = ["9988.HK", "BABA"]
    [strategy.params]
    hold_sessions = 5
"""

from __future__ import annotations

import dataclasses
import difflib
import tomllib
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pandas as pd

from backtests import config_values as V
from backtests.costs import CostBook, HKCosts, IndexProxyCosts, USCosts
from backtests.engine import BORROW_ACTIONS, PortfolioSpec
from data_loaders.errors import UserError
from data_loaders.plausibility import ACTIONS as PLAUSIBILITY_ACTIONS
from data_loaders.plausibility import Plausibility
from data_loaders.registry import Registry, default_registry
from data_loaders.registry_file import REGISTRY_TABLES, RegistryError, extend_registry, load_registry_file
from events.schedule import FILL_POLICIES
from strategies.cross_listing_lead_lag import lead_lag_listing_problems
from strategies.registry import STRATEGIES, ParamsError, build_params

SOURCES = ("csv", "akshare", "synthetic")
# Strategies that trade parity and so need declared cross-listed pairs.
PAIR_STRATEGIES = ("cross_listing_lead_lag",)
PORTFOLIO_KEYS = ("base_currency", "initial_cash", "slippage_bps", "allow_short", "max_borrow_base",
                  "on_borrow_limit")
MAX_CASH = 1e12          # base currency; more is a typo, not an account
MAX_SLIPPAGE_BPS = 1_000  # 10% of the price on every fill


class ConfigError(UserError):
    """A config file with problems; ``problems`` has one line per problem."""

    def __init__(self, path: str, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: {len(problems)} problem(s):\n" + "\n".join(f"  - {p}" for p in problems))


def check_keys(section: str, table: dict[str, Any], allowed: tuple[str, ...], problems: list[str]) -> None:
    """Append one problem per key of ``table`` not in ``allowed``, with a "did you mean"."""
    for key in table:
        if key not in allowed:
            near = difflib.get_close_matches(key, allowed, n=1)
            hint = f" — did you mean '{near[0]}'?" if near else ""
            problems.append(f"[{section}] unknown key '{key}'{hint} Allowed: {', '.join(allowed)}")


def _date(section: str, key: str, value: Any, problems: list[str]) -> pd.Timestamp | None:
    try:
        return pd.Timestamp(str(value)).normalize()
    except (ValueError, TypeError):
        problems.append(f"[{section}] {key} = {value!r} is not a date; write e.g. {key} = \"2025-01-31\"")
        return None


@dataclass(frozen=True, kw_only=True)
class DataSpec:
    """Where prices come from. ``dir`` is resolved against the config file's folder.

    ``refresh`` (``--refresh``) fetches akshare data again instead of reading the cache;
    ``frames`` is a price source handed in from Python (``backtests.api``'s ``prices=``),
    used instead of ``source``.
    """

    source: str = "csv"
    dir: Path | None = None
    benchmark: str = "HSTECH"
    fx: str = "USDHKD"
    seed: int = 7
    listings: Path | None = None
    refresh: bool = False
    frames: Any = field(default=None, repr=False, compare=False)
    plausibility: Plausibility = field(default_factory=Plausibility)


APPLY_TO = ("named", "all")


@dataclass(frozen=True, kw_only=True)
class EventsSpec:
    """Which catalysts, scheduled how.

    ``apply_to``: ``"named"`` — a catalyst reaches the listings its calendar entry names
    (symbols, ``@issuer`` or ``@basket`` targets); ``"all"`` — every catalyst reaches every
    listing of the run or study (spill-over: "did Alibaba's news move Tencent?").
    """

    calendar: str = "alibaba_2025"
    fill_policy: str = "next_open"
    only: tuple[str, ...] = ()
    apply_to: str = "named"
    narrative: str | None = None   # a [[narrative]] of the calendar: its catalysts reach its basket


@dataclass(frozen=True, kw_only=True)
class StrategySpec:
    """Which strategy on which listings with which parameters."""

    name: str
    listings: tuple[str, ...]
    params: Any


@dataclass(frozen=True, kw_only=True)
class RunConfig:
    """A validated configuration. ``raw`` keeps the parsed TOML for other commands' sections."""

    path: Path
    name: str
    start: pd.Timestamp
    end: pd.Timestamp
    data: DataSpec
    events: EventsSpec
    portfolio: PortfolioSpec
    strategy: StrategySpec | None
    costs: CostBook
    raw: dict[str, Any] = field(repr=False)
    registry: Registry = field(default_factory=default_registry, repr=False)

    def with_overrides(self, *, source: str | None = None, data_dir: Path | None = None,
                       refresh: bool = False) -> "RunConfig":
        """Command-line overrides (``--source``, ``--data-dir``, ``--refresh``) applied on top of the file.

        Raises
        ------
        ConfigError
            An unknown source, or ``refresh`` with a source that has no cache (only akshare has).
        """
        data = self.data
        if data_dir is not None:
            data = dataclasses.replace(data, dir=Path(data_dir), source=source or "csv")
        if source is not None:
            if source not in SOURCES:
                raise ConfigError(str(self.path), [f"--source {source!r} is not one of {', '.join(SOURCES)}"])
            data = dataclasses.replace(data, source=source)
        if refresh:
            if data.source != "akshare":
                raise ConfigError(str(self.path), [
                    f"--refresh re-fetches akshare downloads into the cache, but the prices come from "
                    f"source {data.source!r}, which has no cache; add --source akshare or drop --refresh"])
            data = dataclasses.replace(data, refresh=True)
        return dataclasses.replace(self, data=data)


_TOP = ("run", "data", "events", "portfolio", "strategy", "costs", "study", "sweep", "report", *REGISTRY_TABLES[1:])


def config_registry(doc: dict[str, Any], path: Path, listings_file: Path | None, problems: list[str]) -> Registry:
    """The shipped registry, plus ``[data] listings`` (a file), plus the config's own
    ``[[listing]]`` / ``[[pair]]`` / ``[[issuer]]`` / ``[[basket]]`` tables (later wins)."""
    registry = default_registry()
    try:
        if listings_file is not None:
            registry = load_registry_file(listings_file, base=registry)
        if any(t in doc for t in REGISTRY_TABLES):
            registry = extend_registry(registry, doc, origin=str(path))
    except RegistryError as exc:
        problems.extend(f"{exc.origin}: {p}" if exc.origin != str(path) else p for p in exc.problems)
    return registry


def check_listings(section: str, symbols: Any, registry: Registry, problems: list[str]) -> tuple[str, ...]:
    """``symbols`` as a tuple of tradable declared listings (``@`` targets expanded); one
    problem per bad entry, with the ``[[listing]]`` snippet for an undeclared symbol."""
    if isinstance(symbols, str) or not isinstance(symbols, (list, tuple)):
        problems.append(f"[{section}] listings = {symbols!r} must be a list, e.g. listings = [\"9988.HK\", \"BABA\"]")
        return ()
    if not symbols:
        problems.append(f"[{section}] listings is empty; name at least one listing, e.g. listings = [\"9988.HK\"]")
        return ()
    out: list[str] = []
    for target in symbols:
        if isinstance(target, str) and target.startswith("@"):
            try:
                out.extend(registry.expand(target))
            except UserError as exc:
                problems.append(f"[{section}] listings: {exc}")
            continue
        if not isinstance(target, str) or target not in registry.listings:
            problems.append(f"[{section}] listings: {registry.unknown_symbol_message(target)}")
        elif not registry.listings[target].tradable:
            problems.append(f"[{section}] listings: {target!r} is not a tradable listing (it is an "
                            f"{registry.listings[target].kind} series); use some of "
                            f"{', '.join(registry.tradable_symbols())}")
        else:
            out.append(target)
    return tuple(dict.fromkeys(out))


PLAUSIBILITY_KEYS = ("plausibility", "max_jump_factor", "max_jump_sigma", "max_parity_gap")


def _plausibility(d: dict[str, Any], problems: list[str]) -> Plausibility:
    """``[data] plausibility`` (refuse | warn) and its thresholds."""
    default = Plausibility()
    action = d.get("plausibility", default.action)
    if action not in PLAUSIBILITY_ACTIONS:
        problems.append(f"[data] plausibility = {action!r}; allowed: {', '.join(PLAUSIBILITY_ACTIONS)}")
        action = default.action
    factor = V.number("data", "max_jump_factor", d.get("max_jump_factor", default.jump_factor), problems,
                      example="2", low=1, low_open=True, high=1e6)
    sigma = V.number("data", "max_jump_sigma", d.get("max_jump_sigma", default.jump_sigma), problems,
                     example="25", low=0, low_open=True, high=1e6)
    gap = V.number("data", "max_parity_gap", d.get("max_parity_gap", default.parity_tolerance), problems,
                   example="0.25", low=0, low_open=True, high=100)
    return Plausibility(action=action, jump_factor=factor or default.jump_factor,
                        jump_sigma=sigma or default.jump_sigma, parity_tolerance=gap or default.parity_tolerance)


def parse_config(doc: dict[str, Any], path: Path, *, need_strategy: bool = True) -> RunConfig:
    """Validate a parsed TOML document; raise :class:`ConfigError` listing every problem."""
    problems: list[str] = []
    check_keys("top level", doc, _TOP, problems)
    base = path.parent

    run = V.table("run", doc, "run", problems)
    check_keys("run", run, ("name", "start", "end"), problems)
    start = _date("run", "start", run.get("start", "2024-10-01"), problems)
    end = _date("run", "end", run.get("end", "2025-10-31"), problems)
    if start is not None and end is not None and start >= end:
        problems.append(f"[run] start {start:%Y-%m-%d} is not before end {end:%Y-%m-%d}")

    d = V.table("data", doc, "data", problems)
    check_keys("data", d, ("source", "dir", "benchmark", "fx", "seed", "listings", *PLAUSIBILITY_KEYS), problems)
    source = d.get("source", "csv")
    if source not in SOURCES:
        problems.append(f"[data] source = {source!r}; allowed: {', '.join(SOURCES)}")
    listings_file = None
    if "listings" in d:
        if isinstance(d["listings"], str) and d["listings"]:
            listings_file = (base / d["listings"]).resolve()
        else:
            problems.append(f"[data] listings = {d['listings']!r} must be the path of a TOML file of "
                            "[[listing]] tables, e.g. listings = \"my_listings.toml\"")
    registry = config_registry(doc, path, listings_file, problems)
    for key in ("benchmark", "fx"):
        if key in d and (not isinstance(d[key], str) or d[key] not in registry.listings):
            problems.append(f"[data] {key} = {d[key]!r}: {registry.unknown_symbol_message(d[key])}")
    data_dir = V.text("data", "dir", d["dir"], problems, example="../data/prices") if "dir" in d else None
    seed = V.integer("data", "seed", d.get("seed", 7), problems, example=7, high=2**32 - 1)
    data = DataSpec(source=source, dir=(base / data_dir).resolve() if data_dir is not None else None,
                    benchmark=d.get("benchmark", "HSTECH"), fx=d.get("fx", "USDHKD"),
                    seed=seed or 0, listings=listings_file, plausibility=_plausibility(d, problems))

    e = V.table("events", doc, "events", problems)
    check_keys("events", e, ("calendar", "fill_policy", "only", "apply_to", "narrative"), problems)
    policy = e.get("fill_policy", "next_open")
    if policy not in FILL_POLICIES:
        problems.append(f"[events] fill_policy = {policy!r}; allowed: {', '.join(FILL_POLICIES)}")
    apply_to = e.get("apply_to", "named")
    if apply_to not in APPLY_TO:
        problems.append(f"[events] apply_to = {apply_to!r}; allowed: named (each catalyst reaches the listings it "
                        "names) or all (every catalyst reaches every listing of the run: spill-over)")
    calendar = V.text("events", "calendar", e.get("calendar", "alibaba_2025"), problems,
                      example="alibaba_2025") or "alibaba_2025"
    if (calendar.endswith(".toml") or "/" in calendar or "\\" in calendar) and not Path(calendar).is_absolute():
        calendar = str((base / calendar).resolve())  # a path is a path (relative to this file), never a name
    narrative = e.get("narrative")
    if narrative is not None and (not isinstance(narrative, str) or not narrative):
        problems.append(f"[events] narrative = {narrative!r} must be the id of a [[narrative]] in the calendar, "
                        f"e.g. narrative = \"china_tech_rerating_2025\"")
        narrative = None
    only = V.string_list("events", "only", e.get("only", []), problems, example='["qwen25max"]') or ()
    events = EventsSpec(calendar=calendar, fill_policy=policy, only=only, narrative=narrative, apply_to=apply_to)

    p = V.table("portfolio", doc, "portfolio", problems)
    check_keys("portfolio", p, PORTFOLIO_KEYS, problems)
    portfolio = PortfolioSpec()
    cash = V.number("portfolio", "initial_cash", p.get("initial_cash", 1_000_000), problems, example="1000000",
                    low=0, low_open=True, high=MAX_CASH)
    slippage = V.number("portfolio", "slippage_bps", p.get("slippage_bps", 0.0), problems, example="5", low=0,
                        high=MAX_SLIPPAGE_BPS, unit=" basis points (1 bp = 0.01% of the price)")
    short = V.boolean("portfolio", "allow_short", p.get("allow_short", True), problems)
    borrow = V.number("portfolio", "max_borrow_base", p.get("max_borrow_base", 0.0), problems, example="0", low=0,
                      high=MAX_CASH)
    on_borrow = p.get("on_borrow_limit", "flag")
    if on_borrow not in BORROW_ACTIONS:
        problems.append(f"[portfolio] on_borrow_limit = {on_borrow!r}; allowed: {', '.join(BORROW_ACTIONS)}")
    if None not in (cash, slippage, short, borrow) and on_borrow in BORROW_ACTIONS:
        try:
            portfolio = PortfolioSpec(base_currency=p.get("base_currency", "HKD"), initial_cash_base=cash,
                                      slippage_bps=slippage, allow_short=short, max_borrow_base=borrow,
                                      on_borrow_limit=on_borrow)
        except (UserError, ValueError, TypeError) as exc:
            problems.append(f"[portfolio] {exc}")

    c = V.table("costs", doc, "costs", problems)
    check_keys("costs", c, ("HK", "US", "index"), problems)
    hk, us, index = (V.table(f"costs.{m}", c, m, problems) for m in ("HK", "US", "index"))
    hk_keys, us_keys = ("brokerage_rate", "brokerage_min_hkd"), ("commission_per_share_usd", "commission_min_usd")
    check_keys("costs.HK", hk, (*hk_keys, "borrow_rate_annual"), problems)
    check_keys("costs.US", us, (*us_keys, "borrow_rate_annual"), problems)
    check_keys("costs.index", index, ("rate_bps",), problems)
    for section, table in (("costs.HK", hk), ("costs.US", us), ("costs.index", index)):
        for key, value in table.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 <= value < 1e9:
                problems.append(f"[{section}] {key} = {value!r} must be a finite number >= 0")
    if any(p.startswith("[costs") for p in problems):
        hk, us, index = {}, {}, {}
    costs = CostBook(
        by_market={
            "HK": HKCosts(**{k: Decimal(str(v)) for k, v in hk.items() if k in hk_keys}),
            "US": USCosts(**{k: Decimal(str(v)) for k, v in us.items() if k in us_keys}),
        },
        index_proxy=IndexProxyCosts(**{k: Decimal(str(v)) for k, v in index.items() if k == "rate_bps"}),
        borrow_rate_annual={m: Decimal(str(t.get("borrow_rate_annual", "0.01"))) for m, t in (("HK", hk), ("US", us))},
    )

    strategy = None
    s = doc.get("strategy")
    if s is not None and not isinstance(s, dict):
        problems.append(f"[strategy] must be a table, got strategy = {s!r}; write a [strategy] section")
        s = {}
    if s is None and need_strategy:
        problems.append("missing [strategy] section; add e.g. [strategy] name = \"post_event_drift\"")
    elif s is not None:
        check_keys("strategy", s, ("name", "listings", "params"), problems)
        name = s.get("name", "")
        entry = STRATEGIES.get(name)
        if entry is None:
            near = difflib.get_close_matches(str(name), list(STRATEGIES), n=1)
            hint = f" — did you mean '{near[0]}'?" if near else ""
            problems.append(f"[strategy] name = {name!r} is unknown{hint} Available: {', '.join(STRATEGIES)}")
        params = None
        if entry is not None:
            try:
                params = build_params(name, V.table("strategy", s, "params", problems), where="strategy.params")
            except ParamsError as exc:
                problems += exc.problems
            except ValueError as exc:
                msg = str(exc)
                problems.append(msg if msg.startswith("[") else f"[strategy.params] {msg}")
        listings = check_listings("strategy", s.get("listings", ["9988.HK", "BABA"]), registry, problems)
        traded = getattr(params, "strategy", name) if name == "benchmark_hedged" else name
        if traded in PAIR_STRATEGIES and listings:
            problems.extend(lead_lag_listing_problems(listings, registry))
        strategy = StrategySpec(name=name, listings=listings, params=params)

    if problems:
        raise ConfigError(str(path), problems)
    assert start is not None and end is not None
    return RunConfig(path=path, name=str(run.get("name", path.stem)), start=start, end=end, data=data,
                     events=events, portfolio=portfolio, strategy=strategy, costs=costs, raw=doc,
                     registry=registry)


def load_config(path: str | Path, *, need_strategy: bool = True) -> RunConfig:
    """Read and validate a TOML config file.

    Raises
    ------
    ConfigError
        The file is missing, is not TOML (with line and column), or has invalid keys/values.
    """
    path = Path(path)
    if not path.is_file():
        raise ConfigError(str(path), ["file not found; pass the path of a .toml config "
                                      "(see configs/ in the repository)"])
    try:
        text = path.read_bytes().decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(str(path), [f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at offset {exc.start}); "
                                      f"save the file as UTF-8"]) from None
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(str(path), [f"not valid TOML: {exc}"]) from None
    return parse_config(doc, path.resolve(), need_strategy=need_strategy)
