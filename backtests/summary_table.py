"""The headline figures of a run as rows of text (figure, strategy, benchmark).

One source for every place a person reads a run's summary: the terminal table of
``catalyst-bt run`` and the notebook view of ``backtests.api.RunResult``.
"""

from __future__ import annotations

from typing import Any

PERCENT_KEYS: tuple[str, ...] = (
    "total_return", "annualised_return", "volatility_annual", "max_drawdown", "alpha_annual",
    "tracking_error_annual", "hit_rate", "exposure",
)
#: (summary metric key, label), in display order.
METRIC_ROWS: tuple[tuple[str, str], ...] = (
    ("total_return", "total return"), ("annualised_return", "annualised return"),
    ("volatility_annual", "volatility (annual)"), ("sharpe", "Sharpe"), ("sortino", "Sortino"),
    ("max_drawdown", "max drawdown"), ("max_drawdown_duration_sessions", "drawdown length (sessions)"),
    ("beta", "beta"), ("alpha_annual", "alpha (annual)"), ("information_ratio", "information ratio"),
    ("tracking_error_annual", "tracking error (annual)"), ("hit_rate", "hit rate"),
    ("exposure", "exposure (share of sessions)"),
)


def format_figure(key: str, value: float | None) -> str:
    """``value`` of metric ``key`` as printed: signed % for returns and alpha, % for other
    fractions, whole sessions, else two decimals; ``n/a`` when undefined (None or NaN)."""
    if value is None or value != value:  # NaN: undefined (see backtests.metrics)
        return "n/a"
    if key in PERCENT_KEYS:
        return f"{value:+.2%}" if key.endswith("return") or key == "alpha_annual" else f"{value:.2%}"
    if key.endswith("_sessions"):
        return f"{value:.0f}"
    return f"{value:.2f}"


def summary_rows(summary: dict[str, Any]) -> list[tuple[str, str, str]]:
    """``(label, strategy, benchmark)`` rows of a run's ``summary.json`` content."""
    metrics, bench = summary.get("metrics", {}), summary.get("benchmark_metrics", {})
    rows = [(label, format_figure(key, metrics[key]), format_figure(key, bench[key]) if key in bench else "")
            for key, label in METRIC_ROWS if key in metrics]
    ccy = summary["base_currency"]
    rows += [
        ("trades (closed)", f"{summary['trade_count']} ({summary['closed_trade_count']})", ""),
        (f"average trade ({ccy})", format_figure("average", metrics.get("average_trade_pnl_base")), ""),
        (f"final equity ({ccy})", f"{summary['final_equity_base']:,.2f}", ""),
        (f"costs ({ccy})", f"{summary['costs_base']:,.2f}", ""),
    ]
    return rows


def summary_title(summary: dict[str, Any]) -> str:
    """``post_event_drift 2024-10-01..2025-10-31 (backtest)``, or labelled SYNTHETIC DATA."""
    kind = "SYNTHETIC DATA — not market prices" if summary["synthetic_data"] else "backtest"
    return f"{summary.get('strategy', '')} {summary.get('start', '')}..{summary.get('end', '')} ({kind})"


def summary_caption(summary: dict[str, Any]) -> str:
    """How the figures were annualised."""
    ann = summary.get("annualisation", {})
    return (f"on {summary['benchmark']}'s sessions; annualised with {ann.get('periods_per_year', 0):.0f} "
            f"sessions a year ({ann.get('calendar', '')})")
