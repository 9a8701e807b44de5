"""Typed backtest results and their files (``trades.csv``, ``equity.csv``, ``costs.csv``,
``summary.json``), written atomically."""

from __future__ import annotations

import json
import math
import os
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

TRADE_COLUMNS: tuple[str, ...] = (
    "trade_id", "catalyst_id", "role", "listing", "currency", "direction", "quantity", "status",
    "entry_session", "entry_point", "entry_utc", "entry_price",
    "exit_session", "exit_point", "exit_utc", "exit_price", "exit_reason", "holding_sessions",
    "gross_pnl_local", "costs_local", "net_pnl_local", "net_pnl_base",
    "entry_reason", "signal", "signal_value", "signal_threshold",
)
FILL_COLUMNS: tuple[str, ...] = (
    "trade_id", "listing", "currency", "side", "quantity", "session", "point", "instant_utc",
    "price", "fx_to_base", "cost_total_local", "cash_flow_base",
)
EQUITY_COLUMNS: tuple[str, ...] = (
    "instant_utc", "listing", "session", "cash_base", "positions_base", "equity_base",
)
POSITION_COLUMNS: tuple[str, ...] = (
    "instant_utc", "session", "listing", "quantity", "price_local", "currency", "fx_to_base",
    "market_value_base",
)
RETURN_COLUMNS: tuple[str, ...] = (
    "session", "close_utc", "equity_base", "strategy_return", "benchmark_close", "benchmark_return",
    "positions_base",
)


@dataclass(frozen=True, kw_only=True)
class BacktestResult:
    """Everything a run produced.

    Attributes
    ----------
    trades
        One row per round trip (``TRADE_COLUMNS`` + ``<component>_local`` cost columns);
        ``status`` open/closed; ``role`` trade or hedge.
    fills
        One row per execution with its cost components (``FILL_COLUMNS`` + one column
        per cost component, listing currency).
    equity
        Marked after every session close of a traded listing (``EQUITY_COLUMNS``).
    benchmark
        Benchmark closes on its own sessions over the run (session-indexed).
    positions
        Open positions after every mark (``POSITION_COLUMNS``), base and local currency.
    returns
        Portfolio and benchmark on the benchmark's session clock (``RETURN_COLUMNS``);
        the series the metrics are computed from.
    summary
        Headline figures (see :func:`backtests.engine.summarise`).
    notes
        What the run skipped or assumed, in order.
    """

    trades: pd.DataFrame
    fills: pd.DataFrame
    equity: pd.DataFrame
    benchmark: pd.DataFrame
    summary: dict[str, Any]
    positions: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(POSITION_COLUMNS)))
    returns: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(RETURN_COLUMNS)))
    notes: tuple[str, ...] = field(default=())


def atomic_write_text(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` via a temporary file in the same folder + ``os.replace``."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            fh.write(text)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp makes 0600; results are ordinary files
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def frame_to_csv(frame: pd.DataFrame) -> str:
    """CSV text: tz-aware instants in ISO 8601, session dates as YYYY-MM-DD, 10 significant digits."""
    out = frame.copy()
    for col in out.columns:
        if isinstance(out[col].dtype, pd.DatetimeTZDtype):
            out[col] = out[col].map(lambda t: t.isoformat() if pd.notna(t) else "")
        elif pd.api.types.is_datetime64_any_dtype(out[col]):
            out[col] = out[col].dt.strftime("%Y-%m-%d")
    return out.to_csv(index=False, float_format="%.10g", lineterminator="\n")


def json_safe(value: Any) -> Any:
    """``value`` with NaN/inf floats replaced by None (JSON has no NaN), recursively."""
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if isinstance(value, dict):
        return {k: json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    return value


def write_json(path: Path, payload: Any) -> None:
    """Atomically write ``payload`` as sorted, indented, strict JSON (NaN -> null)."""
    atomic_write_text(path, json.dumps(json_safe(payload), indent=2, sort_keys=True, default=str,
                                       allow_nan=False) + "\n")


def write_outputs(result: BacktestResult, out_dir: Path) -> list[Path]:
    """Write the result files into ``out_dir``; returns the paths written."""
    out_dir = Path(out_dir)
    written = []
    for name, frame in (("trades.csv", result.trades), ("costs.csv", result.fills),
                        ("equity.csv", result.equity), ("positions.csv", result.positions),
                        ("returns.csv", result.returns)):
        atomic_write_text(out_dir / name, frame_to_csv(frame))
        written.append(out_dir / name)
    write_json(out_dir / "summary.json", result.summary)
    written.append(out_dir / "summary.json")
    if result.notes:
        atomic_write_text(out_dir / "notes.txt", "\n".join(result.notes) + "\n")
        written.append(out_dir / "notes.txt")
    return written
