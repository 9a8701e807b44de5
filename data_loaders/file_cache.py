"""An in-process memo of what was read and validated from local files, keyed by each file's fingerprint.

A sweep, a report or a notebook reads the same price CSVs and catalyst calendar several
times in one process; parsing and validating them again costs tens of milliseconds each
time. A :class:`FileMemo` keeps the last ``maxsize`` results of one loader (least recently
used dropped first), keyed by

* the file's :class:`FileFingerprint`: resolved path, size, modification time (ns), inode,
  device and a BLAKE2b digest of its bytes. Any change to the file is a new key — a rewrite
  of the same size inside the file system's timestamp granularity included, which is why
  the bytes are digested too — so a changed file is read and validated again and stale data
  is never served;
* ``args``: everything else the loader's result depends on (date range, listing record,
  active registry ...), given by the caller.

The bytes that were fingerprinted are the bytes handed to the loader (one read), so a
cached result is always the validation of exactly the content its key names. A plain
:class:`Memo` takes the caller's key instead (for results derived from data already in
memory, keyed by its content: :func:`content_key`).

Contract
--------
* Errors are not cached: a loader that raises is run again on the next call, and raises
  the same error for the same file.
* Python warnings the loader emits are recorded with its result and emitted again, through
  the caller's warning filters, on every load served from the memo, as a fresh load would
  emit them (the memo keeps one "already shown" registry, as a module does, so the default
  filter shows a warning once per place). Recording uses ``warnings.catch_warnings``, which
  is process-wide: a warning another thread raises during a fresh load is recorded with it.
* A caller never receives the cached object itself when it can be mutated: the caller's
  ``handout`` (e.g. "copy the DataFrame") is applied to every result, fresh or cached.
* Memory is bounded: at most ``maxsize`` results (and the bytes they were built from).
"""

from __future__ import annotations

import hashlib
import os
import warnings
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, Generic, TypeVar

import pandas as pd

from data_loaders.schema import frame_bytes

T = TypeVar("T")

#: Default number of results one memo keeps.
DEFAULT_MAXSIZE = 32


@dataclass(frozen=True, kw_only=True, slots=True)
class FileFingerprint:
    """What identifies one version of a file: where it is, its stat fields and its content digest."""

    path: str
    size: int
    mtime_ns: int
    inode: int
    device: int
    digest: str


def read_fingerprinted(path: str | Path) -> tuple[FileFingerprint, bytes]:
    """Read ``path`` once: its fingerprint (stat of the open file + digest) and its bytes.

    Raises
    ------
    OSError
        As ``open`` raises it (``FileNotFoundError``, ``PermissionError``, ``IsADirectoryError`` ...).
    """
    with open(path, "rb") as fh:
        st = os.fstat(fh.fileno())
        data = fh.read()
    fp = FileFingerprint(path=str(Path(path).resolve()), size=st.st_size, mtime_ns=st.st_mtime_ns,
                         inode=st.st_ino, device=st.st_dev,
                         digest=hashlib.blake2b(data, digest_size=16).hexdigest())
    return fp, data


def date_key(value: object) -> tuple[str, object]:
    """A date bound as a key part, its type included ("2024-01-02" and a Timestamp differ)."""
    return type(value).__qualname__, value


def content_key(frame: pd.DataFrame) -> str:
    """A digest of ``frame``'s content (:func:`data_loaders.schema.frame_bytes`) as a key part."""
    return hashlib.blake2b(frame_bytes(frame), digest_size=16).hexdigest()


@dataclass(frozen=True, kw_only=True, slots=True)
class _Request:
    """A memo key, carrying (outside equality and hash) the function that builds its value."""

    key: Hashable
    build: Callable[[], Any] = field(compare=False, hash=False, repr=False)


@dataclass(frozen=True, kw_only=True, slots=True)
class _Entry:
    value: Any
    caught: tuple[warnings.WarningMessage, ...]


def _build(request: _Request) -> _Entry:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = request.build()
    return _Entry(value=value, caught=tuple(caught))


class Memo(Generic[T]):
    """The last ``maxsize`` results of one loader, by a key the caller makes (the module
    docstring's contract, except that the key is the caller's: it must hold everything the
    result depends on — :class:`FileMemo` adds the file's fingerprint).

    Parameters
    ----------
    name
        What it holds, for messages ("csv bars").
    handout
        Applied to every result before a caller gets it (a copy of what callers could mutate;
        the identity for immutable results).
    maxsize
        Results kept (least recently used dropped first).
    """

    def __init__(self, name: str, *, handout: Callable[[T], T], maxsize: int = DEFAULT_MAXSIZE) -> None:
        self.name = name
        self._handout = handout
        self._cached = lru_cache(maxsize=maxsize)(_build)
        self._shown: dict[Any, Any] = {}

    def get(self, key: Hashable, build: Callable[[], T]) -> T:
        """``build()``, from the memo when ``key`` was built before (an unhashable key skips the memo).

        Raises
        ------
        Exception
            Whatever ``build`` raises (never remembered).
        """
        request = _Request(key=key, build=build)
        try:
            hash(request)
        except TypeError:
            entry = _build(request)
        else:
            entry = self._cached(request)
        for w in entry.caught:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno, registry=self._shown,
                                   source=w.source)
        return self._handout(entry.value)

    def info(self) -> Any:
        """``functools`` cache statistics: hits, misses, maxsize, currsize."""
        return self._cached.cache_info()

    def clear(self) -> None:
        """Forget every result."""
        self._cached.cache_clear()


class FileMemo(Memo[T]):
    """A :class:`Memo` of results built from one file's bytes, keyed by the file's fingerprint."""

    def load(self, path: str | Path, args: Hashable, build: Callable[[bytes], T]) -> T:
        """``build(bytes of path)``, from the memo when this file version and ``args`` were built before.

        ``args`` must hold everything besides the file's bytes that ``build``'s result depends
        on. Unhashable ``args`` skip the memo (the file is read and built every time).

        Raises
        ------
        OSError
            The file cannot be opened or read.
        Exception
            Whatever ``build`` raises (never remembered).
        """
        fp, data = read_fingerprinted(path)
        return self.get((fp, args), lambda: build(data))


__all__ = ["DEFAULT_MAXSIZE", "FileFingerprint", "FileMemo", "Memo", "content_key", "date_key", "read_fingerprinted"]
