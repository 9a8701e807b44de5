"""The parameter space of a sweep: grid or seeded random search, constraints, canonical order.

A *dimension* is a name and the values it takes:

* a strategy parameter, by its field name (``hold_sessions``, ``notional_per_trade_base`` ...);
* ``events.only``: catalyst subsets (lists of catalyst ids; ``[]`` = every catalyst);
* ``strategy.listings``: listing subsets (lists of symbols);
* ``portfolio.slippage_bps``: adverse slippage in basis points.

A *combination* maps every dimension to one value. Combinations come out in a canonical,
seed-determined order (grid: the first dimension varies slowest, as written; random search:
draw ``i`` of a ``numpy`` PCG64 stream seeded with ``seed``), lazily, so a grid of any size
costs no memory to enumerate. A constraint (a small expression over the names, or a Python
callable in the API) drops combinations before anything runs.
"""

from __future__ import annotations

import ast
import dataclasses
import difflib
import itertools
import json
import math
import operator
import typing
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from data_loaders.errors import UserError

SPECIAL_DIMENSIONS: tuple[str, ...] = ("events.only", "strategy.listings", "portfolio.slippage_bps")
"""Dimensions that are not strategy parameters."""

Combo = dict[str, Any]
Constraint = Callable[[Mapping[str, Any]], bool]


class SweepSpaceError(UserError):
    """A grid, a random-search range or a constraint that cannot be used (message says how to fix it)."""


# --------------------------------------------------------------------------------------- values


def freeze(value: Any) -> Any:
    """TOML/JSON lists -> tuples (recursively), so values are hashable and params accept them."""
    if isinstance(value, (list, tuple)):
        return tuple(freeze(v) for v in value)
    return value


def jsonable(value: Any) -> Any:
    """Tuples -> lists (recursively) for canonical JSON."""
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, np.generic):
        return value.item()
    return value


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return repr(value)


def canonical_json(mapping: Mapping[str, Any]) -> str:
    """Sorted-key, compact JSON (tuples as lists): the identity of a combination."""
    return json.dumps(mapping, sort_keys=True, separators=(",", ":"), default=_json_default)


def label(value: Any) -> str:
    """Short human label of a value (heatmap axes, tables): lists joined by ``+``, None ``off``."""
    if value is None:
        return "off"
    if isinstance(value, (list, tuple)):
        return "+".join(str(v) for v in value) if value else "all"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value)) if abs(value) >= 1 else repr(value)
    return str(value)


def _hint_kind(hint: Any) -> str | None:
    """``float`` when a field's type hint is float (optionally | None): ints are coerced."""
    args = typing.get_args(hint)
    if hint is float or (args and float in args and int not in args):
        return "float"
    return None


def field_kinds(params_cls: type) -> dict[str, str | None]:
    """Field name -> "float" for float-typed fields of a parameter dataclass (else None)."""
    try:
        hints = typing.get_type_hints(params_cls)
    except Exception:  # pragma: no cover - unresolvable annotations: no coercion
        hints = {}
    return {f.name: _hint_kind(hints.get(f.name)) for f in dataclasses.fields(params_cls)}


def normalise_value(name: str, value: Any, kinds: Mapping[str, str | None]) -> Any:
    """Freeze lists; ints for float fields become floats (so 200000 and 200000.0 are one value)."""
    value = freeze(value)
    if name == "portfolio.slippage_bps" or kinds.get(name) == "float":
        if isinstance(value, int) and not isinstance(value, bool):
            return float(value)
    if name in ("events.only", "strategy.listings"):
        if not isinstance(value, tuple) or not all(isinstance(v, str) for v in value):
            raise SweepSpaceError(f"{name}: each value must be a list of strings, got {value!r}; "
                                  f"e.g. {name} = [[\"qwen25max\"], []]")
        return tuple(sorted(dict.fromkeys(value)))
    return value


# --------------------------------------------------------------------------------------- spaces


@dataclass(frozen=True, kw_only=True)
class RandomSearch:
    """Seeded random search: ``n`` draws over ranges and choices.

    Attributes
    ----------
    n
        Number of draws (> 0); duplicates are dropped (the first draw wins).
    ranges
        Name -> ``(low, high)``: two ints draw a whole number in ``[low, high]``, otherwise a
        float uniform in ``[low, high)``.
    choices
        Name -> list of values drawn uniformly.
    """

    n: int
    ranges: Mapping[str, tuple[Any, Any]] = field(default_factory=dict)
    choices: Mapping[str, Sequence[Any]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if isinstance(self.n, bool) or not isinstance(self.n, int) or self.n < 1:
            raise SweepSpaceError(f"random search n = {self.n!r} must be a whole number >= 1")
        for name, bounds in self.ranges.items():
            if not isinstance(bounds, (list, tuple)) or len(bounds) != 2:
                raise SweepSpaceError(f"range {name} = {bounds!r}; write [low, high], e.g. {name} = [1, 20]")
            lo, hi = bounds
            if not all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in (lo, hi)) or lo > hi:
                raise SweepSpaceError(f"range {name} = {list(bounds)!r}: need two numbers with low <= high")
        for name, values in self.choices.items():
            if not isinstance(values, (list, tuple)) or not values:
                raise SweepSpaceError(f"choices {name} = {values!r}; give a non-empty list of values")
        both = set(self.ranges) & set(self.choices)
        if both:
            raise SweepSpaceError(f"{sorted(both)} appear in both ranges and choices; keep one")
        if not self.ranges and not self.choices:
            raise SweepSpaceError("random search has no ranges and no choices: nothing to vary")

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(sorted({*self.ranges, *self.choices}))


Space = Mapping[str, Sequence[Any]] | RandomSearch


def dimension_names(space: Space) -> tuple[str, ...]:
    """Dimensions in output order (grid: as written; random search: sorted)."""
    return space.names if isinstance(space, RandomSearch) else tuple(space)


def check_names(names: Sequence[str], allowed: Sequence[str], *, strategy: str) -> None:
    """Raise :class:`SweepSpaceError` for a name that is neither a strategy parameter nor a
    special dimension, with a "did you mean"."""
    problems = []
    for name in names:
        if name in allowed:
            continue
        near = difflib.get_close_matches(name, list(allowed), n=1)
        hint = f" — did you mean '{near[0]}'?" if near else ""
        problems.append(f"'{name}' is not a parameter of {strategy}{hint} "
                        f"Sweepable: {', '.join(allowed)}")
    if problems:
        raise SweepSpaceError("; ".join(problems))


def grid_size(space: Space) -> int:
    """Number of combinations before constraints (random search: ``n``)."""
    if isinstance(space, RandomSearch):
        return space.n
    return math.prod(len(v) for v in space.values())


def check_grid(space: Space) -> None:
    """Refuse an empty grid or a dimension without values."""
    if isinstance(space, RandomSearch):
        return
    if not space:
        raise SweepSpaceError("the grid is empty: give at least one dimension with values, e.g. "
                              "[sweep.grid] hold_sessions = [1, 3, 5]")
    empty = [name for name, values in space.items() if not isinstance(values, (list, tuple)) or not values]
    if empty:
        raise SweepSpaceError(f"grid dimension(s) {', '.join(empty)} have no values; give a non-empty list, "
                              f"e.g. {empty[0]} = [1, 2]")


def iter_space(space: Space, *, seed: int, kinds: Mapping[str, str | None]) -> Iterator[Combo]:
    """Every combination in canonical order (lazy; before constraints)."""
    if isinstance(space, RandomSearch):
        yield from _iter_random(space, seed=seed, kinds=kinds)
        return
    names = list(space)
    values = [[normalise_value(n, v, kinds) for v in space[n]] for n in names]
    for combo in itertools.product(*values):
        yield dict(zip(names, combo))


def _iter_random(search: RandomSearch, *, seed: int, kinds: Mapping[str, str | None]) -> Iterator[Combo]:
    rng = np.random.Generator(np.random.PCG64(seed))
    names = search.names
    choices = {n: [normalise_value(n, v, kinds) for v in vals] for n, vals in search.choices.items()}
    seen: set[str] = set()
    for _ in range(search.n):
        combo: Combo = {}
        for name in names:  # fixed order: the stream of draws depends only on the seed
            if name in choices:
                combo[name] = choices[name][int(rng.integers(len(choices[name])))]
            else:
                lo, hi = search.ranges[name]
                if isinstance(lo, int) and isinstance(hi, int) and kinds.get(name) != "float":
                    combo[name] = int(rng.integers(lo, hi, endpoint=True))
                else:
                    combo[name] = float(rng.uniform(float(lo), float(hi)))
        ident = canonical_json(combo)
        if ident in seen:
            continue
        seen.add(ident)
        yield combo


# --------------------------------------------------------------------------------------- constraints

MAX_RESULT_BITS = 4096  # an integer result of ** larger than this is refused (memory / time guard)
MAX_SEQUENCE_LEN = 10_000  # a sequence built by + in a constraint


def _bounded_pow(base: Any, exponent: Any) -> Any:
    """``base ** exponent`` with a size guard (``x ** 10 ** 10`` would exhaust memory)."""
    if isinstance(base, (int, float)) and isinstance(exponent, (int, float)):
        if isinstance(base, int) and isinstance(exponent, int) and abs(base) > 1:
            if exponent * math.log2(abs(base)) > MAX_RESULT_BITS:
                raise ValueError(f"{base} ** {exponent} is too large to compute (more than {MAX_RESULT_BITS} bits); "
                                 f"keep exponents small")
        elif abs(exponent) > 1_000:
            raise ValueError(f"exponent {exponent} is too large; keep exponents small")
    return operator.pow(base, exponent)


def _bounded_mul(left: Any, right: Any) -> Any:
    """``left * right`` for numbers only: sequence repetition (``'a' * 10 ** 10``) is refused."""
    if isinstance(left, (str, bytes, tuple, list)) or isinstance(right, (str, bytes, tuple, list)):
        raise ValueError("repeating a sequence with * is not allowed in a constraint")
    if isinstance(left, int) and isinstance(right, int) and left.bit_length() + right.bit_length() > MAX_RESULT_BITS:
        raise ValueError(f"a product of more than {MAX_RESULT_BITS} bits is too large to compute")
    return operator.mul(left, right)


def _bounded_add(left: Any, right: Any) -> Any:
    result = operator.add(left, right)
    if isinstance(result, (str, tuple)) and len(result) > MAX_SEQUENCE_LEN:
        raise ValueError(f"a sequence longer than {MAX_SEQUENCE_LEN:,} is not allowed in a constraint")
    return result


_BINOPS: dict[type, Callable[[Any, Any], Any]] = {
    ast.Add: _bounded_add, ast.Sub: operator.sub, ast.Mult: _bounded_mul, ast.Div: operator.truediv,
    ast.FloorDiv: operator.floordiv, ast.Mod: operator.mod, ast.Pow: _bounded_pow,
}
_CMPOPS: dict[type, Callable[[Any, Any], bool]] = {
    ast.Eq: operator.eq, ast.NotEq: operator.ne, ast.Lt: operator.lt, ast.LtE: operator.le,
    ast.Gt: operator.gt, ast.GtE: operator.ge, ast.Is: operator.is_, ast.IsNot: operator.is_not,
    ast.In: lambda a, b: a in b, ast.NotIn: lambda a, b: a not in b,
}
_FUNCS: dict[str, Callable[..., Any]] = {"len": len, "abs": abs, "min": min, "max": max, "round": round}


def _dotted(node: ast.AST) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        base = _dotted(node.value)
        return f"{base}.{node.attr}" if base else None
    return None


class SafeExpression:
    """A constraint such as ``"take_profit_pct is None or take_profit_pct > stop_loss_pct"``.

    Only literals, names (dotted names such as ``events.only`` included), arithmetic,
    comparisons, ``and``/``or``/``not``, ``x if c else y`` and ``len``/``abs``/``min``/``max``/
    ``round`` are allowed; anything else (attribute access on values, subscripts, other calls,
    lambdas ...) is refused when the expression is parsed.

    Raises
    ------
    SweepSpaceError
        Syntax errors, forbidden constructs or names that are not parameters (with a "did you mean").
    """

    def __init__(self, source: str, names: Sequence[str]) -> None:
        self.source = source
        try:
            self._tree = ast.parse(source, mode="eval")
        except SyntaxError as exc:
            raise SweepSpaceError(f"constraint {source!r} is not a valid expression: {exc.msg} "
                                  f"(column {exc.offset})") from None
        self._names = tuple(names)
        self._check(self._tree.body)

    def _check(self, node: ast.AST) -> None:
        dotted = _dotted(node)
        if dotted is not None:
            if dotted in ("None", "True", "False") or dotted in self._names:
                return
            near = difflib.get_close_matches(dotted, list(self._names), n=1)
            hint = f" — did you mean '{near[0]}'?" if near else ""
            raise SweepSpaceError(f"constraint {self.source!r}: unknown name '{dotted}'{hint} "
                                  f"Names: {', '.join(self._names)}")
        allowed = (ast.BoolOp, ast.BinOp, ast.UnaryOp, ast.Compare, ast.Constant, ast.IfExp, ast.Tuple,
                   ast.List, ast.Call, ast.And, ast.Or, ast.Not, ast.USub, ast.UAdd, ast.Load,
                   *_BINOPS, *_CMPOPS)
        if not isinstance(node, allowed):
            raise SweepSpaceError(f"constraint {self.source!r}: {type(node).__name__} is not allowed; use "
                                  f"comparisons, arithmetic, and/or/not and len/abs/min/max/round")
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name) or node.func.id not in _FUNCS or node.keywords:
                raise SweepSpaceError(f"constraint {self.source!r}: only {', '.join(_FUNCS)} may be called")
            for arg in node.args:
                self._check(arg)
            return
        if isinstance(node, ast.BinOp) and isinstance(node.op, (ast.Pow, ast.Mult)):
            self._check_constant_size(node)
        for child in ast.iter_child_nodes(node):
            self._check(child)

    def _check_constant_size(self, node: ast.BinOp) -> None:
        """Refuse at parse time what the guards would refuse for every combination."""
        right = node.right
        if isinstance(node.op, ast.Pow) and not (isinstance(right, ast.Constant) and isinstance(right.value, (int, float))
                                                 and not isinstance(right.value, bool) and abs(right.value) <= 64):
            raise SweepSpaceError(f"constraint {self.source!r}: the exponent of ** must be a number literal "
                                  f"between -64 and 64 (e.g. x ** 2)")
        if isinstance(node.op, ast.Mult):
            for side in (node.left, right):
                if isinstance(side, (ast.List, ast.Tuple)) or (isinstance(side, ast.Constant)
                                                                and isinstance(side.value, (str, bytes))):
                    raise SweepSpaceError(f"constraint {self.source!r}: repeating a sequence with * is not "
                                          f"allowed; compare numbers instead")

    def __call__(self, values: Mapping[str, Any]) -> bool:
        return bool(self._eval(self._tree.body, values))

    def _eval(self, node: ast.AST, env: Mapping[str, Any]) -> Any:
        dotted = _dotted(node)
        if dotted is not None:
            consts = {"None": None, "True": True, "False": False}
            return consts[dotted] if dotted in consts else env[dotted]
        if isinstance(node, ast.Constant):
            return node.value
        if isinstance(node, ast.BoolOp):
            if isinstance(node.op, ast.And):
                return all(self._eval(v, env) for v in node.values)
            return any(self._eval(v, env) for v in node.values)
        if isinstance(node, ast.UnaryOp):
            operand = self._eval(node.operand, env)
            return {ast.Not: operator.not_, ast.USub: operator.neg, ast.UAdd: operator.pos}[type(node.op)](operand)
        if isinstance(node, ast.BinOp):
            return _BINOPS[type(node.op)](self._eval(node.left, env), self._eval(node.right, env))
        if isinstance(node, ast.Compare):
            left = self._eval(node.left, env)
            for op, comp in zip(node.ops, node.comparators):
                right = self._eval(comp, env)
                if not _CMPOPS[type(op)](left, right):
                    return False
                left = right
            return True
        if isinstance(node, ast.IfExp):
            return self._eval(node.body, env) if self._eval(node.test, env) else self._eval(node.orelse, env)
        if isinstance(node, (ast.Tuple, ast.List)):
            return tuple(self._eval(e, env) for e in node.elts)
        if isinstance(node, ast.Call):
            return _FUNCS[node.func.id](*(self._eval(a, env) for a in node.args))  # type: ignore[attr-defined]
        raise SweepSpaceError(f"constraint {self.source!r}: cannot evaluate {type(node).__name__}")  # pragma: no cover


def make_constraint(constraint: str | Constraint | None, names: Sequence[str]) -> Constraint | None:
    """A callable from an expression string (checked now) or a callable (used as is)."""
    if constraint is None or constraint == "":
        return None
    if isinstance(constraint, str):
        return SafeExpression(constraint, names)
    if not callable(constraint):
        raise SweepSpaceError(f"constraint must be an expression string or a callable, got {constraint!r}")
    return constraint


def apply_constraint(constraint: Constraint | None, env: Mapping[str, Any], combo: Combo) -> bool:
    """Whether a combination passes; an error inside the constraint names the combination."""
    if constraint is None:
        return True
    try:
        return bool(constraint(env))
    except SweepSpaceError:
        raise
    except Exception as exc:
        raise SweepSpaceError(f"the constraint failed on {canonical_json(combo)}: {type(exc).__name__}: {exc}; "
                              f"guard it, e.g. 'x is None or x > 0'") from exc
