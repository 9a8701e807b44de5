"""Where the summary reads a finished sweep's rows back from: memory or disk.

The diagnostics need a few whole rows after the sweep (the best combinations, the
walk-forward picks, one return series per distinct result). A sweep small enough that all
its return series and table rows fit in :data:`HOLD_BYTES` keeps them in memory as they
are emitted (:class:`HeldRows`), so nothing is read back; a larger one reads them from
``sweep.parquet`` and the result store (:class:`StoredRows`), which keeps memory flat
however large the grid. Both give the same numbers: the held series are the very arrays
written to the store.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from backtests.sweeps.store import ResultStore

#: Memory a sweep may use to hold its rows for the diagnostics (return series + table rows).
HOLD_BYTES = 64_000_000
ROW_TABLE_BYTES = 600  # a sweep.parquet row in memory (metrics, key, params, dimensions), roughly


def fits_in_memory(combinations: int, sessions: int) -> bool:
    """Whether a sweep of ``combinations`` rows of ``sessions`` returns is held in memory."""
    return combinations * (8 * sessions + ROW_TABLE_BYTES) <= HOLD_BYTES


class HeldRows:
    """Every emitted row of a small sweep, in ``combo_id`` order (row ``i`` is combo ``i``).

    Parameters
    ----------
    capacity
        Rows at most (the grid's size: a constraint keeps fewer).
    sessions
        Length of each return series.
    """

    def __init__(self, capacity: int, sessions: int) -> None:
        self._returns = np.empty((capacity, sessions))
        self._tables: list[pa.Table] = []
        self._table: pa.Table | None = None
        self._n = 0

    def add(self, table: pa.Table, returns: np.ndarray) -> None:
        """Append a chunk's table rows and their return series (same order)."""
        k = table.num_rows
        self._returns[self._n:self._n + k] = returns
        self._tables.append(table)
        self._n += k
        self._table = None

    @property
    def table(self) -> pa.Table:
        """Every row, as written to ``sweep.parquet``."""
        if self._table is None:
            self._table = pa.concat_tables(self._tables).combine_chunks() if self._tables else pa.table({})
            self._tables = [self._table]
        return self._table

    def series(self, combo_ids: Sequence[int]) -> np.ndarray:
        """``K x T`` return series of ``combo_ids``, in that order (read-only)."""
        ids = np.asarray(combo_ids, dtype=np.int64)
        if len(ids) and ids[0] == 0 and np.array_equal(ids, np.arange(len(ids))):  # every row, in order
            out = self._returns[:len(ids)].view()
        else:
            out = self._returns[ids]
        out.flags.writeable = False
        return out

    def rows(self, columns: Sequence[str], combo_ids: Sequence[int] | None = None) -> pa.Table:
        """``columns`` of every row, or of ``combo_ids`` in that order."""
        table = self.table.select(list(columns))
        return table if combo_ids is None else table.take(pa.array(combo_ids, type=pa.int64()))


class StoredRows:
    """The rows of a sweep read back from ``sweep.parquet`` and the result store."""

    def __init__(self, table_path: Path, store: ResultStore) -> None:
        self.table_path = Path(table_path)
        self.store = store

    def rows(self, columns: Sequence[str], combo_ids: Sequence[int] | None = None) -> pa.Table:
        """``columns`` of every row, or of ``combo_ids`` in that order."""
        if combo_ids is None:
            return pq.read_table(self.table_path, columns=list(columns))
        ids = [int(i) for i in combo_ids]
        cols = list(dict.fromkeys(["combo_id", *columns]))
        table = pq.read_table(self.table_path, columns=cols, filters=[("combo_id", "in", ids)])
        order = pc.index_in(pa.array(ids, type=pa.int64()), value_set=table.column("combo_id"))
        return table.take(order).select(list(columns))

    def series(self, combo_ids: Sequence[int]) -> np.ndarray:
        """``K x T`` return series of ``combo_ids``, in that order."""
        # one store lookup for all of them (one by one, each lookup rescans the sweep's parts)
        return self.store.returns(self.rows(["key"], combo_ids).column("key").to_pylist())
