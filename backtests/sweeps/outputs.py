"""Files a sweep writes besides the table: heatmap pivots and ``sweep_summary.json``.

Heatmap contract (the tearsheet renders exactly this): ``heatmap_<x>__<y>.csv`` is a pivot
table whose first column holds the ``y`` values (header: the ``y`` name) and whose other
columns are the ``x`` values; each cell is the best (maximum) ``metric`` over every other
dimension at that (x, y). Continuous dimensions with more than 20 distinct values (random
search) are cut into 10 equal-width bins labelled ``low..high``. The summary lists each as
``{"x", "y", "metric", "file"}``.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from backtests.results import atomic_write_text
from backtests.sweeps.space import label

MAX_LEVELS = 60
BINS = 10


def _axis(values: pd.Series) -> tuple[pd.Series, list[str]]:
    """Labels of one dimension's values and their display order (numbers ascending, "off" last;
    other values in order of first appearance)."""
    numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    missing = bool((codes < 0).any())
    if numeric and len(uniques) > MAX_LEVELS:
        x = values.to_numpy(dtype=float)
        edges = np.linspace(np.nanmin(x), np.nanmax(x), BINS + 1)
        names = np.array([f"{edges[i]:.4g}..{edges[i + 1]:.4g}" for i in range(BINS)] + ["off"], dtype=object)
        idx = np.clip(np.searchsorted(edges, x, side="right") - 1, 0, BINS - 1)
        labels = pd.Series(names[np.where(np.isnan(x), BINS, idx)], index=values.index)
        used = set(np.unique(idx[~np.isnan(x)]).tolist())
        return labels, [names[i] for i in range(BINS) if i in used] + (["off"] if missing else [])
    names = np.array([label(v) for v in uniques] + ["off"], dtype=object)  # code -1 (missing) -> "off"
    labels = pd.Series(names[codes], index=values.index)
    order_idx = np.argsort(np.asarray(uniques, dtype=float), kind="stable") if numeric else range(len(uniques))
    order = list(dict.fromkeys([names[i] for i in order_idx] + (["off"] if missing else [])))
    return labels, order


def heatmap_table(table: pd.DataFrame, x: str, y: str, metric: str) -> pd.DataFrame:
    """Pivot of ``metric`` (max over other dimensions) with ``y`` rows and ``x`` columns."""
    (xl, x_order), (yl, y_order) = _axis(table[x]), _axis(table[y])
    cells = _cells(xl, x_order, yl, y_order, table[metric].to_numpy(dtype=float))
    return pd.DataFrame(cells, index=pd.Index(y_order, name=y, dtype=object), columns=pd.Index(x_order, dtype=object))


def _cells(xl: pd.Series, x_order: list[str], yl: pd.Series, y_order: list[str], values: np.ndarray) -> np.ndarray:
    xi = pd.Index(x_order).get_indexer(xl.to_numpy())
    yi = pd.Index(y_order).get_indexer(yl.to_numpy())
    cells = np.full((len(y_order), len(x_order)), np.nan)
    np.fmax.at(cells, (yi, xi), values)  # NaN only where every value is NaN
    return cells


def heatmap_csv(y: str, x_order: list[str], y_order: list[str], cells: np.ndarray) -> str:
    """The CSV of a pivot (as pandas writes ``pivot.reset_index()`` with ``float_format="%.10g"``:
    minimal quoting, empty cells for NaN)."""
    buf = io.StringIO()
    out = csv.writer(buf, lineterminator="\n")
    out.writerow([y, *x_order])
    for name, row in zip(y_order, cells):
        out.writerow([name, *("" if v != v else "%.10g" % v for v in row.tolist())])
    return buf.getvalue()


def safe_name(name: str) -> str:
    """A dimension name usable in a file name (``events.only`` -> ``events.only``)."""
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def write_heatmaps(table: pd.DataFrame, pairs: Sequence[tuple[str, str]], metric: str, out_dir: Path
                   ) -> list[dict[str, str]]:
    """Write one CSV per (x, y) pair; returns the summary entries."""
    entries = []
    axes = {d: _axis(table[d]) for d in dict.fromkeys(d for pair in pairs for d in pair)}  # each once
    values = table[metric].to_numpy(dtype=float)
    for x, y in pairs:
        (xl, x_order), (yl, y_order) = axes[x], axes[y]
        name = f"heatmap_{safe_name(x)}__{safe_name(y)}.csv"
        atomic_write_text(out_dir / name, heatmap_csv(y, x_order, y_order, _cells(xl, x_order, yl, y_order, values)))
        entries.append({"x": x, "y": y, "metric": metric, "file": name})
    return entries


def default_pairs(table: pd.DataFrame, dims: Sequence[str], limit: int = 6) -> list[tuple[str, str]]:
    """Pairs of dimensions that take at least two values, in dimension order (at most ``limit``)."""
    varied = [d for d in dims if table[d].astype(str).nunique(dropna=False) >= 2]
    pairs = [(varied[i], varied[j]) for i in range(len(varied)) for j in range(i + 1, len(varied))]
    return pairs[:limit]


BEST_RETURNS_CSV = "sweep_best_returns.csv"


def write_best_returns(out_dir: Path, sessions: pd.DatetimeIndex, strategy_returns: np.ndarray,
                       benchmark_returns: np.ndarray) -> str:
    """Write the best combination's session returns beside the benchmark's (for the tearsheet's
    equity chart): ``session, strategy_return, benchmark_return`` on the benchmark's clock."""
    labels = pd.DatetimeIndex(sessions).strftime("%Y-%m-%d")
    strategy = np.asarray(strategy_returns, dtype=float).tolist()
    bench = np.asarray(benchmark_returns, dtype=float).tolist()
    lines = ["session,strategy_return,benchmark_return\n"]  # as pandas writes it: %.12g, NaN empty
    lines += [f"{d},{'' if a != a else '%.12g' % a},{'' if b != b else '%.12g' % b}\n"
              for d, a, b in zip(labels, strategy, bench)]
    atomic_write_text(out_dir / BEST_RETURNS_CSV, "".join(lines))
    return BEST_RETURNS_CSV
