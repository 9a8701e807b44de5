"""Currency conversion sampled as-of the instant a price was struck (no look-ahead)."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from data_loaders.errors import DataError
from data_loaders.schema import DailyBars


@dataclass(frozen=True, kw_only=True)
class FxRates:
    """USDHKD closes (HKD per USD) looked up as-of an instant.

    The rate used at instant ``t`` is the close of the last FX bar stamped at or before
    ``t``; a rate from the future is never used.
    """

    usdhkd: DailyBars

    def __post_init__(self) -> None:
        if len(self.usdhkd) == 0:
            raise DataError("USDHKD has no rows in the run period; FX conversion needs it")

    def usdhkd_at(self, instant_utc: pd.Timestamp) -> float:
        """HKD per USD known at ``instant_utc``.

        Raises
        ------
        DataError
            When no FX bar is known by then (data starts later).
        """
        stamps = pd.DatetimeIndex(self.usdhkd.frame["close_utc"])
        pos = int(stamps.searchsorted(pd.Timestamp(instant_utc), side="right")) - 1
        if pos < 0:
            first = self.usdhkd.frame.index[0]
            raise DataError(
                f"no USDHKD rate known at {pd.Timestamp(instant_utc).isoformat()} (first FX row "
                f"{first:%Y-%m-%d}); extend the USDHKD data back or start the run later")
        return float(self.usdhkd.frame["close"].iloc[pos])

    def rate(self, from_ccy: str, to_ccy: str, instant_utc: pd.Timestamp) -> float:
        """Units of ``to_ccy`` per unit of ``from_ccy`` at ``instant_utc`` (HKD/USD only)."""
        if from_ccy == to_ccy:
            return 1.0
        pair = (from_ccy, to_ccy)
        if pair == ("USD", "HKD"):
            return self.usdhkd_at(instant_utc)
        if pair == ("HKD", "USD"):
            return 1.0 / self.usdhkd_at(instant_utc)
        raise DataError(f"no FX source for {from_ccy}->{to_ccy}; supported: HKD, USD")
