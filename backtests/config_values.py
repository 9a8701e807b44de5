"""Typed reads of config values: each appends one problem line naming ``[section] key``, the
value found and the fix, and returns None, so a file's problems are all reported at once.

Booleans are not numbers (TOML ``true`` is refused where a number is expected), numbers are
finite (``inf`` / ``nan`` are refused), bounds are explicit, and fractions are fractions (a
``5`` where ``0.05`` was meant gets a "did you mean 0.05?").
"""

from __future__ import annotations

import math
from typing import Any

def table(section: str, doc: dict[str, Any], key: str, problems: list[str]) -> dict[str, Any]:
    """``doc[key]`` when it is a TOML table (``{}`` when absent); a problem when it is not."""
    value = doc.get(key, {})
    if isinstance(value, dict):
        return value
    problems.append(f"[{section}] {key} = {value!r} must be a table: write it as a [{key}] section")
    return {}


def number(section: str, key: str, value: Any, problems: list[str], *, example: str, low: float | None = None,
           high: float | None = None, low_open: bool = False, unit: str = "") -> float | None:
    """A finite int/float within ``[low, high]`` (``(low, high]`` when ``low_open``)."""
    where = f"[{section}] {key}"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        kind = "true/false" if isinstance(value, bool) else type(value).__name__
        problems.append(f"{where} = {value!r} is {kind}, not a number; write e.g. {key} = {example}")
        return None
    if not math.isfinite(value):
        problems.append(f"{where} = {value!r} is not a finite number; write e.g. {key} = {example}")
        return None
    below = low is not None and (value <= low if low_open else value < low)
    if below or (high is not None and value > high):
        lo = "" if low is None else f"{'>' if low_open else '>='} {low:g}"
        hi = "" if high is None else f"<= {high:g}"
        bounds = " and ".join(b for b in (lo, hi) if b)
        problems.append(f"{where} = {value!r} must be {bounds}{unit}; e.g. {key} = {example}")
        return None
    return float(value)


def integer(section: str, key: str, value: Any, problems: list[str], *, example: int, low: int = 0,
            high: int | None = None) -> int | None:
    """A whole number (not a bool, not 3.0) within ``[low, high]``."""
    where = f"[{section}] {key}"
    if isinstance(value, bool) or not isinstance(value, int):
        problems.append(f"{where} = {value!r} must be a whole number; e.g. {key} = {example}")
        return None
    if value < low or (high is not None and value > high):
        bounds = f">= {low}" + ("" if high is None else f" and <= {high:,}")
        problems.append(f"{where} = {value!r} must be {bounds}; e.g. {key} = {example}")
        return None
    return value


def boolean(section: str, key: str, value: Any, problems: list[str]) -> bool | None:
    """``true`` or ``false`` (not 1/0, not "yes")."""
    if isinstance(value, bool):
        return value
    problems.append(f"[{section}] {key} = {value!r} must be true or false (no quotes)")
    return None


def string_list(section: str, key: str, value: Any, problems: list[str], *, example: str,
                non_empty: bool = False) -> tuple[str, ...] | None:
    """A list of strings (optionally at least one)."""
    where = f"[{section}] {key}"
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        problems.append(f"{where} = {value!r} must be a list of strings; e.g. {key} = {example}")
        return None
    if non_empty and not value:
        problems.append(f"{where} is empty, so there is nothing to run; name at least one, e.g. {key} = {example}")
        return None
    return tuple(value)


def text(section: str, key: str, value: Any, problems: list[str], *, example: str) -> str | None:
    """A string."""
    if isinstance(value, str):
        return value
    problems.append(f"[{section}] {key} = {value!r} must be a string in quotes; e.g. {key} = \"{example}\"")
    return None
