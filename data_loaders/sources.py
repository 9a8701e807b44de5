"""Build the price source a command asked for: akshare (cached), a CSV folder or the synthetic market."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Literal

from data_loaders.cache import CachedSource, ParquetCache, default_cache_dir
from data_loaders.csv_source import CsvFolderSource
from data_loaders.errors import DataError
from data_loaders.schema import PriceSource
from data_loaders.synthetic import DEFAULT_SEED, SyntheticMarket

if TYPE_CHECKING:  # akshare's module (and requests) load only for an akshare source
    from data_loaders.akshare_source import Fetcher

SourceKind = Literal["akshare", "csv", "synthetic"]
SOURCE_KINDS: tuple[SourceKind, ...] = ("akshare", "csv", "synthetic")

__all__ = ["SOURCE_KINDS", "PriceSource", "SourceConfigError", "SourceKind", "make_source"]


class SourceConfigError(DataError):
    """The source options do not fit together (e.g. ``--source csv`` without ``--data-dir``)."""


def make_source(
    kind: SourceKind,
    *,
    data_dir: str | Path | None = None,
    cache_dir: str | Path | None = None,
    seed: int = DEFAULT_SEED,
    refresh: bool = False,
    fetcher: Fetcher | None = None,
) -> PriceSource:
    """Return the :class:`PriceSource` for ``kind``.

    Parameters
    ----------
    kind
        ``"akshare"``: network, wrapped in the parquet cache (the only cached kind: CSV
        files are local already and the synthetic market is rebuilt from its seed).
        ``"csv"``: ``data_dir`` of ``SYMBOL.csv`` files. ``"synthetic"``: the seeded market.
    data_dir
        Required for ``"csv"``.
    cache_dir
        Cache root for ``"akshare"`` (default :func:`~data_loaders.cache.default_cache_dir`).
    seed
        Seed of the synthetic market.
    refresh
        Fetch akshare data again instead of reading the cache.
    fetcher
        akshare's network seam (tests pass recorded frames).

    Raises
    ------
    SourceConfigError
        Unknown ``kind``, or ``"csv"`` without ``data_dir``.
    """
    if kind == "akshare":
        from data_loaders.akshare_source import AkshareSource

        inner = AkshareSource() if fetcher is None else AkshareSource(fetcher=fetcher)
        root = Path(cache_dir) if cache_dir is not None else default_cache_dir()
        return CachedSource(inner=inner, cache=ParquetCache(root=root), source_key="akshare", refresh=refresh)
    if kind == "csv":
        if data_dir is None:
            raise SourceConfigError("--source csv needs --data-dir DIR (a folder of SYMBOL.csv files)")
        return CsvFolderSource(data_dir)
    if kind == "synthetic":
        return SyntheticMarket(seed=seed)
    raise SourceConfigError(f"unknown source {kind!r}; use one of {', '.join(SOURCE_KINDS)}")
