"""Prices a caller already holds, as pandas DataFrames keyed by symbol (notebooks, tests).

Each frame goes through the same :func:`~data_loaders.validation.normalise_bars` as a CSV
file, so it meets the same canonical schema and the same refusals (NaN or non-positive
prices, high < low, conflicting duplicate sessions) and reports the same findings
(missing sessions, rows on closed days).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from data_loaders.errors import DataValidationError, SourceUnavailableError
from data_loaders.markets import get_listing
from data_loaders.schema import Adjustment, DailyBars
from data_loaders.validation import normalise_bars


def _column_name(name: object) -> str:
    """``"Adj Close"`` / ``"adj-close"`` / ``"ADJ_CLOSE"`` -> ``"adj_close"``."""
    return re.sub(r"[\s\-]+", "_", str(name).strip().lower())


class FrameSource:
    """Serve ``frames[symbol]`` through the :class:`~data_loaders.schema.PriceSource` seam.

    Parameters
    ----------
    frames
        Symbol -> one row per session: a ``date`` column, or a date-like index, and columns
        ``open, high, low, close`` (+ ``adj_close`` for adjusted prices, + ``volume``).
        Column names are matched case-insensitively, spaces and dashes read as ``_``
        (``"Adj Close"`` works). Dates are exchange-local session labels.
    name
        Recorded as the bars' source.

    Raises
    ------
    TypeError
        At construction, when ``frames`` is not a mapping of symbol -> DataFrame.
    """

    def __init__(self, frames: Mapping[str, pd.DataFrame], *, name: str = "frames") -> None:
        if not isinstance(frames, Mapping):
            raise TypeError(f"prices must be a mapping of symbol -> DataFrame, got {type(frames).__name__}")
        bad = [str(k) for k, v in frames.items() if not isinstance(v, pd.DataFrame)]
        if bad:
            raise TypeError(f"prices[{bad[0]!r}] is not a pandas DataFrame; pass one row per session with "
                            f"date, open, high, low, close[, adj_close][, volume]")
        self.frames = dict(frames)
        self.name = name

    def _raw(self, symbol: str) -> pd.DataFrame:
        frame = self.frames[symbol]
        raw = frame.rename(columns=_column_name)
        if "date" not in raw.columns:
            index = raw.index
            if not (isinstance(index, pd.DatetimeIndex) or index.dtype == object):
                raise DataValidationError(f"{self.name}[{symbol!r}]", [
                    f"no 'date' column and the index is {index.dtype}; give a DatetimeIndex of session dates "
                    f"or a 'date' column"])
            raw = raw.reset_index(names="date")
        # Python scalars, so messages quote values as a CSV row would (-1.0, not np.float64(-1.0))
        return raw.reset_index(drop=True).astype({c: object for c in raw.columns if c != "date"})

    def daily_bars(
        self,
        symbol: str,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
        adjustment: Adjustment = "raw",
    ) -> DailyBars:
        """Validated bars of ``symbol`` with ``start <= session <= end``.

        Raises
        ------
        UnknownSymbolError
            ``symbol`` has no listing record.
        SourceUnavailableError
            No frame was given for ``symbol`` (the message lists the symbols given).
        DataValidationError
            The frame's prices are unusable (the message names the row and its date).
        """
        listing = get_listing(symbol)
        if symbol not in self.frames:
            have = ", ".join(sorted(map(str, self.frames))) or "none"
            raise SourceUnavailableError(
                f"no prices for {symbol} among the DataFrames given ({have}); add prices[{symbol!r}] = a "
                f"DataFrame with date, open, high, low, close[, adj_close][, volume]")
        raw = self._raw(symbol)
        return normalise_bars(raw, listing=listing, adjustment=adjustment, source=self.name,
                              origin=f"{self.name}[{symbol!r}]", row_label=lambda i: f"row {i}",
                              start=start, end=end)
