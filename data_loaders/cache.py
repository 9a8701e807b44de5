"""A parquet cache of validated bars, keyed by source, symbol and adjustment.

One file per key: ``<root>/<source>/<adjustment>/<symbol>.parquet``. The file holds the
canonical frame (session index, OHLCV, tz-aware ``close_utc``) and, in the parquet schema
metadata under ``catalyst_bt``, everything else needed to rebuild the :class:`DailyBars`
exactly: source, symbol, currency, adjustment, synthetic flag, fetched-at instant, row
count and the :class:`DataIssue` list.

Writes are atomic: the table goes to a temporary file in the same folder, is flushed to
disk, then ``os.replace``-d over the old file, so a crash leaves either the old file or
the new one, never half a file.

The root is ``$CATALYST_BT_CACHE`` when set, else ``$XDG_CACHE_HOME/catalyst-bt``, else
``~/.cache/catalyst-bt``; every constructor takes an explicit root too.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from data_loaders.errors import StoredDataError
from data_loaders.file_cache import FileMemo
from data_loaders.markets import get_listing
from data_loaders.schema import ADJUSTMENTS, Adjustment, DailyBars, DataIssue, PriceSource
from data_loaders.validation import restrict_bars

CACHE_ENV = "CATALYST_BT_CACHE"
FORMAT_VERSION = 1
_META_KEY = b"catalyst_bt"
_SAFE = re.compile(r"^[A-Za-z0-9._-]+$")


class CacheError(StoredDataError):
    """A cache file exists but cannot be used (unreadable, or not written by catalyst-bt)."""


def default_cache_dir() -> Path:
    """``$CATALYST_BT_CACHE``, else ``$XDG_CACHE_HOME/catalyst-bt``, else ``~/.cache/catalyst-bt``."""
    if os.environ.get(CACHE_ENV):
        return Path(os.environ[CACHE_ENV]).expanduser()
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "catalyst-bt"


@dataclass(frozen=True, kw_only=True, slots=True)
class CacheKey:
    """What one cache file holds: ``source`` ("akshare"), ``symbol``, ``adjustment``."""

    source: str
    symbol: str
    adjustment: Adjustment

    def __post_init__(self) -> None:
        for name in ("source", "symbol"):
            value = getattr(self, name)
            if not _SAFE.match(value):
                raise ValueError(f"cache key {name} {value!r} may only use letters, digits, '.', '_' and '-'")
        if self.adjustment not in ADJUSTMENTS:
            raise ValueError(f"adjustment must be one of {ADJUSTMENTS}, got {self.adjustment!r}")


@dataclass(frozen=True, kw_only=True)
class CachedBars:
    """Bars read from (or just written to) the cache, with where and when they were fetched."""

    bars: DailyBars
    path: Path
    fetched_at_utc: pd.Timestamp
    from_cache: bool


def write_bars(path: Path, bars: DailyBars, *, fetched_at_utc: pd.Timestamp) -> None:
    """Write ``bars`` to ``path`` atomically (temp file in the same folder + ``os.replace``).

    Raises
    ------
    OSError
        The folder cannot be created or written; ``path`` is then left as it was.
    """
    meta = {
        "format_version": FORMAT_VERSION,
        "symbol": bars.symbol,
        "currency": bars.currency,
        "adjustment": bars.adjustment,
        "source": bars.source,
        "synthetic": bars.synthetic,
        "fetched_at_utc": pd.Timestamp(fetched_at_utc).tz_convert("UTC").isoformat(),
        "row_count": len(bars),
        "issues": [{"kind": i.kind, "message": i.message, "sessions": list(i.sessions)} for i in bars.issues],
    }
    table = pa.Table.from_pandas(bars.frame, preserve_index=True)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), _META_KEY: json.dumps(meta).encode()})
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    os.close(fd)
    try:
        pq.write_table(table, tmp_name)
        with open(tmp_name, "rb") as fh:  # flushed before the rename, so a power cut cannot publish it empty
            os.fsync(fh.fileno())
        os.replace(tmp_name, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp_name)
        raise


def read_bars(path: Path) -> tuple[DailyBars, pd.Timestamp]:
    """Rebuild the :class:`DailyBars` written by :func:`write_bars` and its fetched-at instant
    (decoded once per file version in a process: :data:`PARQUET_BARS`).

    Raises
    ------
    CacheError
        The file is unreadable, lacks catalyst-bt metadata, or has another format version.
    """
    try:
        return PARQUET_BARS.load(path, (), lambda data: _decode(path, data))
    except OSError as exc:
        raise CacheError(f"cache file {path} cannot be read ({exc}); delete {path} or fetch again with "
                         f"--refresh") from exc


def _own_copy(got: tuple[DailyBars, pd.Timestamp]) -> tuple[DailyBars, pd.Timestamp]:
    bars, fetched = got
    return replace(bars, frame=bars.frame.copy()), fetched


#: Cache files read in this process, by file version (:mod:`data_loaders.file_cache`); callers
#: get their own copy of the frame.
PARQUET_BARS: FileMemo[tuple[DailyBars, pd.Timestamp]] = FileMemo("parquet bars", handout=_own_copy)


def _decode(path: Path, data: bytes) -> tuple[DailyBars, pd.Timestamp]:
    fix = f"delete {path} or fetch again with --refresh"
    try:
        table = pq.read_table(pa.BufferReader(data))
    except (OSError, pa.ArrowException):
        try:  # read the file itself, so that the message names it as before
            table = pq.read_table(path)
        except (OSError, pa.ArrowException) as exc:
            raise CacheError(f"cache file {path} cannot be read ({exc}); {fix}") from exc
    raw_meta = (table.schema.metadata or {}).get(_META_KEY)
    if raw_meta is None:
        raise CacheError(f"cache file {path} was not written by catalyst-bt (no metadata); {fix}")
    try:
        meta = json.loads(raw_meta)
    except (ValueError, UnicodeDecodeError) as exc:
        raise CacheError(f"cache file {path} has metadata that is not JSON ({exc}); {fix}") from exc
    if not isinstance(meta, dict):
        raise CacheError(f"cache file {path} has metadata that is not a JSON object; {fix}")
    if meta.get("format_version") != FORMAT_VERSION:
        raise CacheError(f"cache file {path} has format version {meta.get('format_version')!r}, "
                         f"expected {FORMAT_VERSION}; {fix}")
    try:
        frame = table.to_pandas()
    except (OSError, pa.ArrowException) as exc:
        raise CacheError(f"cache file {path} cannot be decoded ({exc}); {fix}") from exc
    if len(frame) != meta.get("row_count"):
        raise CacheError(f"cache file {path} holds {len(frame)} rows, its metadata says "
                         f"{meta['row_count']}; {fix}")
    try:
        issues = tuple(DataIssue(kind=i["kind"], message=i["message"], sessions=tuple(i["sessions"]))
                       for i in meta["issues"])
        bars = DailyBars(symbol=meta["symbol"], currency=meta["currency"], adjustment=meta["adjustment"],
                         source=meta["source"], frame=frame, issues=issues, synthetic=meta["synthetic"])
        return bars, pd.Timestamp(meta["fetched_at_utc"]).tz_convert("UTC")
    except (KeyError, TypeError, ValueError) as exc:
        raise CacheError(f"cache file {path} has incomplete metadata ({exc!r}); {fix}") from exc


@dataclass(frozen=True, kw_only=True)
class ParquetCache:
    """The cache folder: maps a :class:`CacheKey` to its file."""

    root: Path = field(default_factory=default_cache_dir)

    def path_for(self, key: CacheKey) -> Path:
        return Path(self.root) / key.source / key.adjustment / f"{key.symbol}.parquet"

    def get(self, key: CacheKey) -> CachedBars | None:
        """The cached bars for ``key``, or ``None`` when there is no file. Raises :class:`CacheError`."""
        path = self.path_for(key)
        if not path.is_file():
            return None
        bars, fetched = read_bars(path)
        return CachedBars(bars=bars, path=path, fetched_at_utc=fetched, from_cache=True)

    def put(self, key: CacheKey, bars: DailyBars, *, fetched_at_utc: pd.Timestamp) -> CachedBars:
        """Store ``bars`` under ``key`` (atomically, replacing any older file)."""
        path = self.path_for(key)
        write_bars(path, bars, fetched_at_utc=fetched_at_utc)
        return CachedBars(bars=bars, path=path, fetched_at_utc=pd.Timestamp(fetched_at_utc), from_cache=False)


def _utc_now() -> pd.Timestamp:
    return pd.Timestamp.now(tz="UTC")


@dataclass(kw_only=True)
class CachedSource:
    """A :class:`PriceSource` that serves ``inner``'s bars from a :class:`ParquetCache`.

    The inner source is asked for the full history once per (symbol, adjustment); slices are
    cut from the cached copy with issues recomputed for the slice. The cache is fetched
    again when ``refresh`` is set (once per symbol and adjustment per instance) or when
    ``end`` lies after the day the cached copy was fetched (those sessions cannot be in it).

    Parameters
    ----------
    inner
        The source that does the fetching (akshare).
    cache
        Where files live.
    source_key
        The cache key's source part ("akshare").
    refresh
        Ignore existing files and fetch again.
    clock
        Current UTC instant, recorded as fetched-at.
    """

    inner: PriceSource
    cache: ParquetCache
    source_key: str
    refresh: bool = False
    clock: Callable[[], pd.Timestamp] = _utc_now
    _refreshed: set[CacheKey] = field(default_factory=set, init=False, repr=False)

    @property
    def name(self) -> str:
        return f"{self.source_key} (cached in {self.cache.root})"

    def load(
        self,
        symbol: str,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
        adjustment: Adjustment = "raw",
    ) -> CachedBars:
        """Like :meth:`daily_bars` but also says where the file is and whether it was a hit."""
        get_listing(symbol)  # an unknown symbol fails here with suggestions, not as a bad file name
        key = CacheKey(source=self.source_key, symbol=symbol, adjustment=adjustment)
        must_fetch = self.refresh and key not in self._refreshed
        entry = None if must_fetch else self.cache.get(key)
        if entry is not None and end is not None and \
                pd.Timestamp(end) > entry.fetched_at_utc.tz_localize(None).normalize():
            entry = None  # sessions after the fetch day cannot be in this copy
        if entry is None:
            fetched_at = self.clock()
            bars = self.inner.daily_bars(symbol, None, None, adjustment)
            entry = self.cache.put(key, bars, fetched_at_utc=fetched_at)
            self._refreshed.add(key)
        return CachedBars(bars=restrict_bars(entry.bars, start=start, end=end), path=entry.path,
                          fetched_at_utc=entry.fetched_at_utc, from_cache=entry.from_cache)

    def daily_bars(
        self,
        symbol: str,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
        adjustment: Adjustment = "raw",
    ) -> DailyBars:
        """Bars of ``symbol`` from the cache, fetched through ``inner`` on a miss.

        Raises
        ------
        CacheError
            An existing cache file is unusable (message says to delete it or use --refresh).
        SourceUnavailableError, DataValidationError, UnknownSymbolError
            From ``inner`` on a miss.
        """
        return self.load(symbol, start, end, adjustment).bars
