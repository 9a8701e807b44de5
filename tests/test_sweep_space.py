"""The sweep's parameter space on its own: canonical order, seeded draws, safe constraints,
store keys."""

from __future__ import annotations

from pathlib import Path

import pytest

from backtests.sweeps.inputs import load_sweep_inputs
from backtests.sweeps.chunks import KeyMaker
from backtests.sweeps.space import (RandomSearch, SafeExpression, SweepSpaceError, canonical_json, check_grid,
                                   check_names, grid_size, iter_space, label)
from test_sweep_run import synthetic_config

KINDS = {"notional_per_trade_base": "float", "stop_loss_pct": "float"}


def test_grid_order_first_dimension_slowest_and_ints_become_floats_for_float_fields() -> None:
    combos = list(iter_space({"hold_sessions": [1, 2], "notional_per_trade_base": [100000, 2e5]}, seed=0, kinds=KINDS))
    assert combos == [{"hold_sessions": 1, "notional_per_trade_base": 100000.0},
                      {"hold_sessions": 1, "notional_per_trade_base": 200000.0},
                      {"hold_sessions": 2, "notional_per_trade_base": 100000.0},
                      {"hold_sessions": 2, "notional_per_trade_base": 200000.0}]
    assert isinstance(combos[0]["notional_per_trade_base"], float)
    assert grid_size({"a": [1, 2, 3], "b": [1, 2]}) == 6


def test_subsets_are_sets_sorted_and_deduplicated() -> None:
    combos = list(iter_space({"events.only": [["b", "a", "a"], []]}, seed=0, kinds={}))
    assert combos == [{"events.only": ("a", "b")}, {"events.only": ()}]
    assert label(("a", "b")) == "a+b" and label(()) == "all" and label(None) == "off" and label(5.0) == "5"


def test_random_search_same_seed_same_draws() -> None:
    space = RandomSearch(n=50, ranges={"hold_sessions": (1, 30), "stop_loss_pct": (0.01, 0.2)},
                         choices={"direction": ["long", "short", "expected"]})
    a = list(iter_space(space, seed=5, kinds=KINDS))
    assert a == list(iter_space(space, seed=5, kinds=KINDS))
    assert a != list(iter_space(space, seed=6, kinds=KINDS))
    assert all(1 <= c["hold_sessions"] <= 30 and isinstance(c["hold_sessions"], int) for c in a)
    assert all(0.01 <= c["stop_loss_pct"] < 0.2 for c in a)
    assert len({canonical_json(c) for c in a}) == len(a)  # no duplicate draws


def test_random_search_drops_duplicate_draws() -> None:
    space = RandomSearch(n=40, choices={"direction": ["long", "short"]})
    assert sorted(c["direction"] for c in iter_space(space, seed=0, kinds={})) == ["long", "short"]


@pytest.mark.parametrize("kwargs, message", [
    ({"n": 0, "ranges": {"a": (1, 2)}}, "n = 0"),
    ({"n": 5, "ranges": {"a": (3, 1)}}, "low <= high"),
    ({"n": 5, "ranges": {"a": (1,)}}, r"write \[low, high\]"),
    ({"n": 5}, "nothing to vary"),
    ({"n": 5, "ranges": {"a": (1, 2)}, "choices": {"a": [1]}}, "both ranges and choices"),
])
def test_random_search_refuses_bad_settings(kwargs: dict, message: str) -> None:
    with pytest.raises(SweepSpaceError, match=message):
        RandomSearch(**kwargs)


def test_safe_expression_evaluates_comparisons_and_dotted_names() -> None:
    expr = SafeExpression("(tp is None or sl is None or tp > sl) and len(events.only) != 1",
                          ["tp", "sl", "events.only"])
    assert expr({"tp": 0.1, "sl": 0.05, "events.only": ()})
    assert not expr({"tp": 0.02, "sl": 0.05, "events.only": ()})
    assert not expr({"tp": None, "sl": 0.05, "events.only": ("a",)})
    rule = SafeExpression("(h * 2 if d == 'long' else -h) > 5", ["h", "d"])
    assert rule({"h": 3, "d": "long"}) and not rule({"h": 2, "d": "long"}) and not rule({"h": 9, "d": "short"})


@pytest.mark.parametrize("source, message", [
    ("x.__class__", "unknown name 'x.__class__'"),
    ("open('f')", "only len, abs, min, max, round may be called"),
    ("[y for y in x]", "ListComp is not allowed"),
    ("x[0]", "Subscript is not allowed"),
    ("lambda: 1", "Lambda is not allowed"),
    ("x >", "not a valid expression"),
])
def test_safe_expression_refuses_anything_else(source: str, message: str) -> None:
    with pytest.raises(SweepSpaceError, match=message):
        SafeExpression(source, ["x"])


def test_unknown_names_and_empty_grids_are_refused_with_a_fix() -> None:
    with pytest.raises(SweepSpaceError, match="did you mean 'stop_loss_pct'"):
        check_names(["stop_los_pct"], ["hold_sessions", "stop_loss_pct"], strategy="post_event_drift")
    with pytest.raises(SweepSpaceError, match="grid is empty"):
        check_grid({})


def test_store_key_shortcut_equals_the_key_of_the_effective_run(tmp_path: Path) -> None:
    """The parent computes keys from the combination and the base config without building
    parameter objects; it must agree with the key of the run the worker builds."""
    cfg = synthetic_config(tmp_path)
    inputs = load_sweep_inputs(cfg, listings=("9988.HK", "BABA"))
    fast = KeyMaker(inputs)
    combos = [{}, {"hold_sessions": 5}, {"hold_sessions": 7, "direction": "short", "stop_loss_pct": 0.05},
              {"strategy.listings": ("BABA",), "events.only": ("qwen25max",), "portfolio.slippage_bps": 10.0},
              {"kinds": ("product", "capex"), "notional_per_trade_base": 123456.0},
              {"stop_loss_pct": None, "take_profit_pct": 0.1, "events.only": ()},
              {"hold_sessions": 7, "direction": "short", "stop_loss_pct": 0.05}]  # fragments reused
    keys = [fast(c) for c in combos]
    assert keys == [inputs.key(inputs.plan(c)) for c in combos]
    assert [fast.params(c) for c in combos] == [canonical_json(c) for c in combos]
    assert keys[0] == keys[1]      # hold 5 is the base value: the same run, the same key
    assert len(set(keys)) == 5 and keys[2] == keys[-1]
