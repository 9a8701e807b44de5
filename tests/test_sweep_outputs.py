"""Heatmap CSVs: written without pandas' CSV machinery, byte for byte what pandas writes."""

from __future__ import annotations

import io

import numpy as np
import pandas as pd

from backtests.sweeps import outputs


def test_heatmap_csv_is_what_pandas_writes_for_the_pivot() -> None:
    """Labels with a comma or a quote are quoted, NaN cells are empty, floats take 10 digits."""
    table = pd.DataFrame({"hold": [1, 1, 2, 2, 3], "tag": ["a,b", 'q"t', "a,b", "x", "x"],
                          "sharpe": [0.5, np.nan, 1.0 / 3.0, -2.5e-12, 123456789012.5]})
    pivot = outputs.heatmap_table(table, "hold", "tag", "sharpe")
    expected = io.StringIO()
    pivot.reset_index().to_csv(expected, index=False, float_format="%.10g", lineterminator="\n")
    (xl, x_order), (yl, y_order) = outputs._axis(table["hold"]), outputs._axis(table["tag"])
    got = outputs.heatmap_csv("tag", x_order, y_order,
                              outputs._cells(xl, x_order, yl, y_order, table["sharpe"].to_numpy()))
    assert got == expected.getvalue()
    assert got.splitlines()[:2] == ["tag,1,2,3", '"a,b",0.5,0.3333333333,']


def test_best_returns_csv_is_what_pandas_writes(tmp_path) -> None:
    sessions = pd.DatetimeIndex(["2025-01-02", "2025-01-03", "2025-01-06"])
    strategy, bench = np.array([0.0, np.nan, 1.0 / 3.0]), np.array([-0.0125, 2.5e-13, 0.1])
    outputs.write_best_returns(tmp_path, sessions, strategy, bench)
    expected = io.StringIO()
    pd.DataFrame({"session": ["2025-01-02", "2025-01-03", "2025-01-06"], "strategy_return": strategy,
                  "benchmark_return": bench}).to_csv(expected, index=False, float_format="%.12g", lineterminator="\n")
    assert (tmp_path / outputs.BEST_RETURNS_CSV).read_text() == expected.getvalue()
