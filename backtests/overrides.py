"""Keyword overrides of a :class:`~backtests.config.RunConfig` (the Python API's ``**overrides``).

A bare name addresses a parameter of the config's strategy (``hold_sessions=3``) — or, for
a study, a key of ``[study]`` (``placebo_draws=1000``); a dotted name addresses any key of
the file (``"portfolio.slippage_bps"``, ``"run.start"``, ``"events.only"``,
``"strategy.listings"``, ``"costs.HK.brokerage_rate"``); ``__`` may stand for the dot in
Python keywords (``portfolio__slippage_bps=10``). The file's section is re-validated with
the overrides in it, by the same code that reads the file, so an override is refused
exactly as the same value written in the file would be; names nothing reads are refused
with a "did you mean".
"""

from __future__ import annotations

import copy
import dataclasses
import difflib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from backtests.config import ConfigError, RunConfig, parse_config
from strategies.registry import STRATEGIES, build_params

#: Dotted keys suggested when a bare name is not a parameter (validation is ``parse_config``'s).
DOTTED_HINTS: tuple[str, ...] = (
    "run.name", "run.start", "run.end", "data.source", "data.dir", "data.benchmark", "data.fx", "data.seed",
    "events.calendar", "events.fill_policy", "events.only", "portfolio.base_currency", "portfolio.initial_cash",
    "portfolio.slippage_bps", "portfolio.allow_short", "strategy.name", "strategy.listings",
)
_PATH_KEYS = ("data.dir", "events.calendar")
_TOP_FIELDS = {"run": ("name", "start", "end"), "data": ("data",), "events": ("events",),
               "portfolio": ("portfolio",), "costs": ("costs",)}


def _toml_like(value: Any) -> Any:
    """Python values as the TOML reader would give them (tuples -> lists, Paths and times -> str)."""
    if isinstance(value, (list, tuple)):
        return [_toml_like(v) for v in value]
    if isinstance(value, Mapping):
        return {str(k): _toml_like(v) for k, v in value.items()}
    if isinstance(value, (Path, pd.Timestamp)):
        return str(value)
    return value


def _param_table(params: Any) -> dict[str, Any]:
    return {f.name: getattr(params, f.name) for f in dataclasses.fields(params) if f.init}


def _set(doc: dict[str, Any], dotted: str, value: Any, problems: list[str]) -> None:
    *sections, key = dotted.split(".")
    node = doc
    for part in sections:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            problems.append(f"override {dotted!r}: {part!r} is a value, not a section")
            return
        node = child
    if value is None:
        node.pop(key, None)  # None = back to the default
    else:
        node[key] = value


def apply_overrides(cfg: RunConfig, overrides: Mapping[str, Any], *, bare: str = "strategy.params") -> RunConfig:
    """``cfg`` with ``overrides`` applied and re-validated (see the module docstring).

    Parameters
    ----------
    cfg
        The configuration to start from; sections no override touches are kept as they are
        (including ``--data-dir``-style changes not in ``cfg.raw``).
    overrides
        Name -> value. ``None`` resets a dotted key to its default; for a strategy
        parameter it is the value None (a stop that is off).
    bare
        Where bare names go: ``"strategy.params"`` (run, sweep) or ``"study"``.

    Raises
    ------
    ConfigError
        Every problem at once: unknown names (with "did you mean"), values the file's
        validation refuses.
    """
    if not overrides:
        return cfg
    problems: list[str] = []
    doc = copy.deepcopy(cfg.raw)
    touched: set[str] = set()
    params: dict[str, Any] = {}
    known = () if cfg.strategy is None else tuple(_param_table(cfg.strategy.params))
    switched = STRATEGIES.get(str(overrides.get("strategy.name", overrides.get("strategy__name", ""))))
    if switched is not None:  # bare names are the new strategy's parameters
        known = tuple(f.name for f in dataclasses.fields(switched.params) if f.init)
    for raw_name, value in overrides.items():
        name = raw_name.replace("__", ".")
        if name.startswith("strategy.params."):
            name = name.removeprefix("strategy.params.")
        if "." not in name and bare == "strategy.params":
            if name not in known:
                near = difflib.get_close_matches(name, [*known, *DOTTED_HINTS], n=1) or \
                    [h for h in DOTTED_HINTS if h.endswith(f".{name}")]
                hint = f" — did you mean '{near[0]}'?" if near else ""
                name_now = switched.name if switched else cfg.strategy.name if cfg.strategy else None
                what = f"{name_now} takes: {', '.join(known)}" if name_now else "the config has no [strategy]"
                problems.append(f"override {raw_name!r} is not a parameter{hint} ({what}; other keys are dotted, "
                                f"e.g. 'portfolio.slippage_bps')")
                continue
            params[name] = value
            continue
        dotted = name if "." in name else f"{bare}.{name}"
        if dotted in _PATH_KEYS and value is not None:
            text = str(value)
            value = str(Path(text).resolve()) if dotted == "data.dir" or text.endswith(".toml") else text
        _set(doc, dotted, _toml_like(value), problems)
        touched.add(dotted.split(".")[0])
    if params:
        touched.add("strategy")
    try:  # the rest is validated even after a bad name: every problem in one report
        new = parse_config(doc, cfg.path, need_strategy=cfg.strategy is not None or "strategy" in touched)
    except ConfigError as exc:
        problems += exc.problems
        new = None
    strategy = cfg.strategy
    spec = new.strategy if new is not None else cfg.strategy  # params are checked even when the file is not
    if "strategy" in touched and spec is not None:
        same = cfg.strategy is not None and spec.name == cfg.strategy.name
        table = {**(_param_table(cfg.strategy.params) if same and cfg.strategy else {}), **params}
        try:
            strategy = dataclasses.replace(spec, params=build_params(spec.name, table, where="overrides"))
        except ValueError as exc:
            problems.append(str(exc))
    if problems or new is None:
        raise ConfigError("overrides", problems)
    kept: dict[str, Any] = {"strategy": strategy, "raw": _with_params(doc, params)}
    for section, fields in _TOP_FIELDS.items():
        if section not in touched:
            kept.update({f: getattr(cfg, f) for f in fields})
    if "data" in touched:
        kept["data"] = dataclasses.replace(new.data, frames=cfg.data.frames, refresh=cfg.data.refresh)
    return dataclasses.replace(new, **kept)


def _with_params(doc: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    if params:
        table = doc.setdefault("strategy", {}).setdefault("params", {})
        table.update(_toml_like(params))
    return doc
