"""How a metric is shown, decided by its name (units live in names, see DESIGN.md).

* ``*_return``, ``*drawdown*``, ``volatility*``, ``hit_rate``, ``*_rate``, ``exposure``,
  ``tracking_error``, ``alpha``, ``cagr`` -> percent;
* ``*_base`` -> money in the run's base currency;
* ``*_sessions``, ``*_count``, ``trades`` -> whole numbers;
* ``periods_per_year`` -> sessions per year (one decimal) so readers see the annualisation;
* anything else numeric (Sharpe, Sortino, beta, information ratio ...) -> two decimals.
"""

from __future__ import annotations

import math
from numbers import Integral, Real
from typing import Literal

Kind = Literal["pct", "money", "count", "periods", "ratio", "text"]

_PCT_NAMES = frozenset({"hit_rate", "win_rate", "exposure", "tracking_error", "alpha", "cagr", "var_95", "cvar_95",
                        "expected_shortfall", "value_at_risk"})
_LABELS = {
    "cagr": "CAGR", "sharpe": "Sharpe ratio", "sharpe_ratio": "Sharpe ratio", "sortino": "Sortino ratio",
    "sortino_ratio": "Sortino ratio", "calmar_ratio": "Calmar ratio", "information_ratio": "information ratio",
    "periods_per_year": "periods per year (calendar)", "sessions": "sessions", "trade_count": "trades",
    "max_drawdown_duration_sessions": "deepest drawdown, peak to recovery (sessions)",
}


def metric_kind(key: str) -> Kind:
    """The display kind of metric ``key`` (see the module docstring)."""
    k = key.lower()
    if k == "periods_per_year":
        return "periods"
    if k.endswith("_base"):
        return "money"
    if "duration" in k:
        return "count"
    if (k.endswith("_return") or k == "return" or "drawdown" in k and not k.endswith(("_sessions", "_days"))
            or k.startswith(("volatility", "tracking_error")) or k.endswith("_volatility") or k in _PCT_NAMES
            or k.endswith("_rate")
            or k.endswith("_pct") or k.startswith("alpha")):
        return "pct"
    if k.endswith(("_sessions", "_count", "_days", "_periods")) or k in ("trades", "n_trades", "sessions"):
        return "count"
    return "ratio"


def metric_label(key: str, currency: str = "") -> str:
    """Readable label: ``final_equity_base`` -> ``final equity (HKD)``."""
    if key in _LABELS:
        return _LABELS[key]
    words = key[:-5] if key.endswith("_base") else key
    unit = ""
    for suffix, text in (("_annual", "annualised"), ("_sessions", "sessions"), ("_days", "days")):
        if words.endswith(suffix):
            words, unit = words[: -len(suffix)], text
    label = words.replace("_", " ").replace("pnl", "P&L")
    if key.endswith("_base") and currency:
        unit = currency
    return f"{label} ({unit})" if unit else label


def _number(value: object) -> float | None:
    if isinstance(value, bool) or type(value).__name__ == "bool_" or not isinstance(value, Real):
        return None
    f = float(value)
    return f if math.isfinite(f) else None


def format_metric(key: str, value: object, currency: str = "") -> str:
    """``value`` of metric ``key`` as text; ``"–"`` for missing / NaN, ``str(value)`` for text."""
    if value is None:
        return "–"
    f = _number(value)
    if f is None:
        return "–" if isinstance(value, Real) else str(value)
    kind = metric_kind(key)
    if kind == "pct":
        return f"{100 * f:.2f}%"
    if kind == "money":
        return f"{currency} {f:,.2f}".strip()
    if kind == "count":
        return f"{f:,.0f}" if f == int(f) else f"{f:,.1f}"
    if kind == "periods":
        return f"{f:.1f}"
    return f"{f:.2f}"


def format_pct(value: object, digits: int = 2, signed: bool = True) -> str:
    """A fraction as percent text (``+1.23%``); ``""`` for missing / NaN."""
    f = _number(value)
    if f is None:
        return ""
    return f"{100 * f:+.{digits}f}%" if signed else f"{100 * f:.{digits}f}%"


def format_p(value: object) -> str:
    """A p-value: four decimals, scientific below 1e-4; ``""`` for missing."""
    f = _number(value)
    if f is None:
        return ""
    return f"{f:.4f}" if f >= 1e-4 else f"{f:.1e}"


def format_money(value: object, digits: int = 2) -> str:
    """``1,234.56``; ``""`` for missing."""
    f = _number(value)
    return "" if f is None else f"{f:,.{digits}f}"


def raw_value(value: object) -> str:
    """The exact number for a ``data-value`` attribute (``repr`` round-trips floats); ``""`` for missing."""
    f = _number(value)
    if f is None:
        return ""
    return repr(int(value)) if isinstance(value, Integral) else repr(f)
