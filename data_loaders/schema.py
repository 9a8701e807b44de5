"""The one canonical daily-bar schema every source is normalised to.

A daily bar is a *session*, not a midnight: each row is labelled with its session date
(naive, exchange-local) and carries ``close_utc``, the tz-aware instant the session closed
(half days and US early closes included), so bars of Hong Kong and New York interleave in
true time order.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

import numpy as np
import pandas as pd

Adjustment = Literal["raw", "adjusted"]
ADJUSTMENTS: tuple[Adjustment, ...] = ("raw", "adjusted")

PRICE_COLUMNS: tuple[str, ...] = ("open", "high", "low", "close")
BAR_COLUMNS: tuple[str, ...] = (*PRICE_COLUMNS, "volume", "close_utc")

IssueKind = Literal[
    "missing_sessions", "non_sessions_dropped", "unsorted", "duplicate_rows_dropped",
    "placeholder_rows", "ohlc_inconsistent", "no_calendar", "incomplete_session_dropped",
]


@dataclass(frozen=True, kw_only=True, slots=True)
class DataIssue:
    """Something a loader found and reported but could safely go on past.

    Attributes
    ----------
    kind
        Machine-readable category.
    message
        One line a person can act on.
    sessions
        ISO dates concerned (may be empty).
    """

    kind: IssueKind
    message: str
    sessions: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class DailyBars:
    """Validated daily bars of one symbol in the canonical schema.

    Attributes
    ----------
    symbol
        Canonical symbol ("9988.HK").
    currency
        ISO currency of every price column.
    adjustment
        ``"raw"`` (traded prices) or ``"adjusted"`` (dividend-adjusted OHLC, scaled by
        ``adj_close / close``). Never mixed within one object.
    source
        Where the bars came from ("csv:/path", "akshare", "synthetic(seed=7)").
    frame
        Index ``session`` (naive ``datetime64`` dates, ascending, unique); columns
        ``open, high, low, close`` (float, > 0), ``volume`` (float, may be NaN for
        indices and FX) and ``close_utc`` (tz-aware UTC).
    issues
        What validation found and reported (missing sessions, dropped rows ...).
    synthetic
        True for the embedded synthetic market: every number derived from it must
        carry a "synthetic" label.
    """

    symbol: str
    currency: str
    adjustment: Adjustment
    source: str
    frame: pd.DataFrame = field(repr=False)
    issues: tuple[DataIssue, ...] = ()
    synthetic: bool = False

    def __post_init__(self) -> None:
        missing = [c for c in BAR_COLUMNS if c not in self.frame.columns]
        if missing:
            raise ValueError(f"DailyBars({self.symbol}) frame lacks columns {missing}")
        if self.adjustment not in ADJUSTMENTS:
            raise ValueError(f"adjustment must be one of {ADJUSTMENTS}, got {self.adjustment!r}")

    @property
    def sessions(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(self.frame.index)

    def between(self, start: pd.Timestamp | str | None, end: pd.Timestamp | str | None) -> "DailyBars":
        """Bars with ``start <= session <= end`` (either bound may be None)."""
        idx = self.frame.index
        mask = pd.Series(True, index=idx)
        if start is not None:
            mask &= idx >= pd.Timestamp(start)
        if end is not None:
            mask &= idx <= pd.Timestamp(end)
        return replace(self, frame=self.frame.loc[mask.to_numpy()])

    def __len__(self) -> int:
        return len(self.frame)


def frame_bytes(frame: pd.DataFrame) -> bytes:
    """The content of ``frame`` as bytes, for digests: for the index and each column its name,
    dtype and raw values (NaN written one way; pandas' row hashes for anything that is not a
    number or an instant). Equal frames give equal bytes; any changed value changes them."""
    return b"".join(_column_bytes(v) for v in (frame.index, *(frame[c] for c in frame.columns)))


def _column_bytes(values: pd.Index | pd.Series) -> bytes:
    array = values.array
    if isinstance(array, pd.arrays.DatetimeArray):
        numbers = array.asi8
    elif isinstance(array, pd.arrays.NumpyExtensionArray) and array.dtype.kind in "fiub":
        numbers = array.to_numpy()
        if numbers.dtype.kind == "f":
            numbers = np.where(np.isnan(numbers), np.nan, numbers)
    else:
        numbers = pd.util.hash_pandas_object(values, index=False).to_numpy()
    return f"{values.name}:{values.dtype}:".encode() + np.ascontiguousarray(numbers).tobytes()


class PriceSource(Protocol):
    """The one-method seam every price source implements (CSV folder, akshare, cache, synthetic)."""

    def daily_bars(
        self,
        symbol: str,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
        adjustment: Adjustment = "raw",
    ) -> DailyBars:
        """Validated bars of ``symbol`` with ``start <= session <= end`` (bounds optional).

        Raises
        ------
        UnknownSymbolError
            ``symbol`` has no listing record.
        SourceUnavailableError
            The source cannot deliver ``symbol`` (message says what to do instead).
        DataValidationError
            The delivered prices are unusable (message names the rows).
        """
        ...
