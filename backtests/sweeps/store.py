"""The resumable result store: a folder of Parquet parts, one per finished chunk.

Each part holds complete rows (store key, engine, metrics, the benchmark-clock return
series) and is written to a temporary file then moved into place with ``os.replace``, so a
part either exists whole or not at all: killing a sweep at any instant loses at most the
chunks in flight. On a rerun the keys already present are skipped. A part's name is the
hash of the keys it holds, so the same chunk computed twice overwrites itself.
"""

from __future__ import annotations

import hashlib
import os
from collections import OrderedDict
from concurrent.futures import Future, ThreadPoolExecutor
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from backtests.sweeps.chunks import ChunkResult
from data_loaders.errors import StoredDataError
from backtests.sweeps.rowmetrics import ROW_METRICS

PART_GLOB = "part-*.parquet"


class StoreCorruptError(StoredDataError):
    """A part of the result store cannot be read back (truncated, zero-filled blocks)."""


def part_table(result: ChunkResult) -> pa.Table:
    """A finished chunk as an Arrow table (``returns`` as a fixed-size list column; ``params``
    the canonical JSON of each row's combination, so the store can be read on its own)."""
    assert result.returns is not None
    n, t = result.returns.shape
    flat = pa.array(np.ascontiguousarray(result.returns, dtype=np.float64).reshape(-1), type=pa.float64())
    columns: dict[str, pa.Array] = {
        "key": pa.array(result.keys, type=pa.string()),
        "engine": pa.array(result.engine, type=pa.string()),
        "fallback_reason": pa.array(result.fallback_reason, type=pa.string()),
        "params": pa.array(list(result.params), type=pa.string()),
        **{k: pa.array(np.asarray(result.metrics[k], dtype=np.float64), type=pa.float64()) for k in ROW_METRICS},
        "returns": pa.FixedSizeListArray.from_arrays(flat, t) if n else pa.array([], pa.list_(pa.float64(), t)),
    }
    return pa.table(columns)


def part_name(keys: Sequence[str]) -> str:
    """File name of the part holding ``keys`` (a hash of them: the same chunk, the same file)."""
    digest = hashlib.sha256("\n".join(keys).encode()).hexdigest()[:24]
    return f"part-{digest}.parquet"


def write_part(root: str | Path, result: ChunkResult) -> Path:
    """Write ``result`` as ``root/part-<hash of its keys>.parquet``: a temporary file first,
    then ``os.replace`` (a part exists whole or not at all)."""
    root = Path(root)
    name = part_name(result.keys)
    path = root / name
    tmp = root / f".{name.removesuffix('.parquet')}.{os.getpid()}.tmp"
    try:
        # no dictionary pages: return series and hashes rarely repeat (half the time, smaller file)
        pq.write_table(part_table(result), tmp, compression="zstd", use_dictionary=False)
        with open(tmp, "rb") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return path


class ResultStore:
    """Parts in ``root`` and an index of the keys they hold.

    Parameters
    ----------
    root
        Folder of parts (created when missing).
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.root.mkdir(parents=True, exist_ok=True)
        for stale in self.root.glob(".part-*.tmp"):  # left by a killed writer
            stale.unlink(missing_ok=True)
        self._where: dict[str, tuple[str, int]] = {}
        for path in sorted(self.root.glob(PART_GLOB)):
            self._index_part(path)
        self._cache: OrderedDict[str, pa.Table] = OrderedDict()
        self._fresh: list[str] = []  # parts written during this sweep (keys not indexed)
        self._writer: ThreadPoolExecutor | None = None
        self._writing: list[Future] = []

    def _index_part(self, path: Path) -> None:
        try:
            keys = pq.read_table(path, columns=["key"]).column("key").to_pylist()
        except (pa.ArrowInvalid, OSError):  # not a complete Parquet file: ignore, it will be redone
            return
        for row, key in enumerate(keys):
            self._where.setdefault(key, (path.name, row))  # first part (by name) wins

    def __contains__(self, key: str) -> bool:
        return key in self._where

    def __len__(self) -> int:
        return len(self._where)

    def write(self, result: ChunkResult) -> Path:
        """Write one finished chunk atomically and index its keys."""
        path = write_part(self.root, result)
        self.register(path.name, result.keys)
        return path

    def write_behind(self, result: ChunkResult) -> None:
        """Write one finished chunk on a background thread (Parquet encoding releases the GIL,
        so the sweep goes on meanwhile); :meth:`flush` waits for every such write and re-raises
        its error. Reads of the store flush first."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sweep-store")
        self._writing.append(self._writer.submit(write_part, self.root, result))
        self.register(part_name(result.keys), result.keys)

    def flush(self) -> None:
        """Wait for the writes in flight (:meth:`write_behind`); re-raise the first error."""
        pending, self._writing = self._writing, []
        errors = [exc for exc in (f.exception() for f in pending) if exc is not None]
        if errors:
            raise errors[0]

    def close(self) -> None:
        """Wait for the writes in flight and stop the writer thread (errors are re-raised)."""
        try:
            self.flush()
        finally:
            if self._writer is not None:
                self._writer.shutdown(wait=True)
                self._writer = None

    def register(self, name: str, keys: Sequence[str]) -> None:
        """Note a part written during this sweep (by a worker or :meth:`write`).

        Its keys are not indexed in memory (that would grow with every combination): the
        sweep emits its rows from the results in hand, and the few lookups made afterwards
        (the summary's best rows) scan the parts of this sweep on demand.
        """
        del keys
        self._fresh.append(name)

    def _locate(self, missing: Sequence[str]) -> None:
        """Index ``missing`` keys found in parts written during this sweep."""
        wanted = set(missing)
        for name in self._fresh:
            if not wanted:
                return
            try:
                keys = pq.read_table(self.root / name, columns=["key"]).column("key").to_pylist()
            except (pa.ArrowException, OSError) as exc:
                raise StoreCorruptError(f"sweep store part {self.root / name} is corrupt ({exc}); delete it "
                                        f"and rerun the sweep") from exc
            for row, key in enumerate(keys):
                if key in wanted:
                    self._where.setdefault(key, (name, row))
                    wanted.discard(key)

    def _part(self, name: str) -> pa.Table:
        table = self._cache.get(name)
        if table is None:
            try:
                table = pq.read_table(self.root / name)
                table.validate(full=True)
            except (pa.ArrowException, OSError) as exc:
                raise StoreCorruptError(
                    f"sweep store part {self.root / name} is corrupt ({exc}); delete it and rerun the sweep "
                    f"(its rows are recomputed, the other parts are reused)") from exc
            self._cache[name] = table
            while len(self._cache) > 4:  # a few parts in memory at a time
                self._cache.popitem(last=False)
        else:
            self._cache.move_to_end(name)
        return table

    def returns(self, keys: Sequence[str]) -> np.ndarray:
        """The stored return series of ``keys``, in that order (``len(keys) x T``)."""
        flat = self.rows(keys, columns=["returns"]).column("returns").combine_chunks().flatten().to_numpy()
        return flat.reshape(len(keys), -1) if len(keys) else np.empty((0, 0))

    def rows(self, keys: Sequence[str], columns: Iterable[str] | None = None) -> pa.Table:
        """The stored rows of ``keys``, in that order.

        Raises
        ------
        KeyError
            A key that no part holds.
        """
        self.flush()
        missing = [k for k in keys if k not in self._where]
        if missing:
            self._locate(missing)
            missing = [k for k in keys if k not in self._where]
        if missing:
            raise KeyError(f"{len(missing)} key(s) not in the store {self.root}, first {missing[0]}")
        pieces = []
        i = 0
        while i < len(keys):  # consecutive keys from one part are taken together
            name = self._where[keys[i]][0]
            j = i
            while j < len(keys) and self._where[keys[j]][0] == name:
                j += 1
            table = self._part(name)
            if columns is not None:
                table = table.select(list(columns))
            pieces.append(table.take(pa.array([self._where[k][1] for k in keys[i:j]], type=pa.int64())))
            i = j
        return pa.concat_tables(pieces) if pieces else pa.table({})
