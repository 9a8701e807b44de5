"""Validation helpers shared by the strategies' parameter objects (fix-it messages)."""

from __future__ import annotations

import difflib
import math
from collections.abc import Iterable
from typing import Any, Literal

from events.catalyst import CATALYST_KINDS

Direction = Literal["long", "short", "expected"]
DIRECTIONS: tuple[str, ...] = ("long", "short", "expected")


def check_positive_int(name: str, value: Any, *, minimum: int = 1, example: int = 5) -> None:
    """Raise ValueError unless ``value`` is a whole number >= ``minimum``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise ValueError(f"{name} must be a whole number >= {minimum}, got {value!r}; e.g. {name} = {example}")


MAX_NOTIONAL = 1e12  # a per-trade notional beyond this is a typo, not a position


def check_positive(name: str, value: Any, *, example: str, maximum: float = MAX_NOTIONAL) -> None:
    """Raise ValueError unless ``value`` is a finite number in ``(0, maximum]`` (booleans are not numbers)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not value > 0:
        raise ValueError(f"{name} must be a number > 0, got {value!r}; e.g. {name} = {example}")
    if not math.isfinite(value) or value > maximum:
        raise ValueError(f"{name} = {value!r} is beyond {maximum:g}; write a finite amount, e.g. {name} = {example}")


def check_fraction(name: str, value: Any, *, example: str, below: float = 1.0) -> None:
    """Raise ValueError unless ``value`` is a fraction in ``(0, below]``; a percentage
    (``5`` for 5%) gets a "did you mean 0.05?"."""
    ok = not isinstance(value, bool) and isinstance(value, (int, float)) and math.isfinite(value)
    if ok and 0 < value <= below:
        return
    hint = f" — did you mean {value / 100:g}?" if ok and below < value <= 100 else ""
    raise ValueError(f"{name} must be a positive fraction ({example} = {float(example):.0%}) of at most {below:g}, "
                     f"got {value!r}{hint}; e.g. {name} = {example}")


def check_choice(name: str, value: Any, allowed: Iterable[str]) -> None:
    """Raise ValueError unless ``value`` is one of ``allowed`` (with a "did you mean")."""
    allowed = tuple(allowed)
    if value not in allowed:
        near = difflib.get_close_matches(str(value), allowed, n=1)
        hint = f" — did you mean {near[0]!r}?" if near else ""
        raise ValueError(f"{name} = {value!r} is not allowed{hint} Use one of: {', '.join(allowed)}")


def check_kinds(params: Any) -> None:
    """``params.kinds`` must be a list of catalyst kinds (empty = every kind); a list is
    stored as a tuple so the frozen parameter object stays hashable."""
    kinds = params.kinds
    if isinstance(kinds, list):
        kinds = tuple(kinds)
        object.__setattr__(params, "kinds", kinds)
    if isinstance(kinds, str) or not isinstance(kinds, tuple):
        raise ValueError(f"kinds must be a list of catalyst kinds, got {kinds!r}; e.g. kinds = [\"product\", \"earnings\"]")
    for kind in kinds:
        check_choice("kinds entry", kind, CATALYST_KINDS)


def sign_of(direction: str, expected_sign: int | None) -> int | None:
    """+1/-1 for a configured direction; the catalyst's prior for ``expected`` (None if it has none)."""
    if direction == "long":
        return 1
    if direction == "short":
        return -1
    return expected_sign
