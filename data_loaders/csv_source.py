"""A folder of ``SYMBOL.csv`` files: ``date,open,high,low,close,adj_close,volume``.

This is the offline source (``--data-dir``); ``../shared/data/prices`` has this format.
"""

from __future__ import annotations

import io
from dataclasses import replace
from pathlib import Path

import pandas as pd

from data_loaders.errors import DataValidationError, SourceUnavailableError
from data_loaders.file_cache import FileMemo, date_key
from data_loaders.markets import Listing, get_listing
from data_loaders.schema import Adjustment, DailyBars
from data_loaders.validation import normalise_bars


def _own_copy(bars: DailyBars) -> DailyBars:
    return replace(bars, frame=bars.frame.copy())


#: Validated bars of every CSV file read in this process, by file version and load arguments
#: (:mod:`data_loaders.file_cache`); callers get their own copy of the frame.
CSV_BARS: FileMemo[DailyBars] = FileMemo("csv bars", handout=_own_copy)


class CsvFolderSource:
    """Read canonical bars from ``<root>/<SYMBOL>.csv``.

    Parameters
    ----------
    root
        The folder. Each file has a header row; line numbers in messages are the
        file's own (header = line 1).
    """

    name = "csv"

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)

    def path_for(self, symbol: str) -> Path:
        return self.root / f"{symbol}.csv"

    def daily_bars(
        self,
        symbol: str,
        start: pd.Timestamp | str | None = None,
        end: pd.Timestamp | str | None = None,
        adjustment: Adjustment = "raw",
    ) -> DailyBars:
        """Load, validate and slice ``symbol``'s bars (validated once per file version and
        arguments in a process: :data:`CSV_BARS`; a changed file is read again).

        Raises
        ------
        SourceUnavailableError
            The folder or the symbol's file does not exist (message lists what is there).
        DataValidationError
            The file cannot be parsed or holds unusable prices (message names the line).
        """
        listing = get_listing(symbol)
        path = self.path_for(symbol)
        if not self.root.is_dir():
            raise SourceUnavailableError(
                f"data folder {self.root} does not exist; pass --data-dir pointing at a folder of "
                f"SYMBOL.csv files, or use --source synthetic for the embedded default")
        if not path.is_file():
            have = sorted(p.stem for p in self.root.glob("*.csv"))
            raise SourceUnavailableError(
                f"no file {path} for {symbol}; the folder has: {', '.join(have) or 'no CSV files'}. "
                f"Add {path.name} with header date,open,high,low,close,adj_close,volume")
        args = (str(self.root), listing, adjustment, date_key(start), date_key(end))
        return CSV_BARS.load(path, args, lambda data: self._validate(data, path, listing, adjustment, start, end))

    def _validate(self, data: bytes, path: Path, listing: Listing, adjustment: Adjustment,
                  start: pd.Timestamp | str | None, end: pd.Timestamp | str | None) -> DailyBars:
        try:
            raw = pd.read_csv(io.BytesIO(data), dtype=str, keep_default_na=False, na_values=[""])
        except (pd.errors.ParserError, UnicodeDecodeError, pd.errors.EmptyDataError) as exc:
            raise DataValidationError(str(path), [f"cannot be read as CSV: {exc}"]) from exc
        return normalise_bars(
            raw, listing=listing, adjustment=adjustment, source=f"csv:{self.root}",
            origin=str(path), row_label=lambda i: f"line {i + 2}", start=start, end=end,
        )
