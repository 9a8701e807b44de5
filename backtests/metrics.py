"""Performance metrics as pure functions of return or equity series.

Annualisation always takes ``periods_per_year`` from the exchange calendar
(``data_loaders.calendars.sessions_per_year``): about 246 for Hong Kong, never 252 by default.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


def total_return(equity: pd.Series, initial: float | None = None) -> float:
    """``last / first - 1`` (``first`` = ``initial`` when given)."""
    if len(equity) == 0:
        return 0.0
    start = float(initial) if initial is not None else float(equity.iloc[0])
    return float(equity.iloc[-1]) / start - 1.0


@dataclass(frozen=True, kw_only=True, slots=True)
class Drawdown:
    """Deepest peak-to-trough fall (a negative fraction) and where it was."""

    max_drawdown: float
    peak_at: object
    trough_at: object
    longest_underwater_periods: int


def drawdown(equity: pd.Series, initial: float | None = None) -> Drawdown:
    """Maximum drawdown of an equity curve and the longest spell below a previous peak.

    ``initial`` (starting capital) counts as the first peak when given.
    """
    values = equity.to_numpy(dtype=float)
    if initial is not None:
        values = np.concatenate([[float(initial)], values])
    if len(values) == 0:
        return Drawdown(max_drawdown=0.0, peak_at=None, trough_at=None, longest_underwater_periods=0)
    peaks = np.maximum.accumulate(values)
    dd = values / peaks - 1.0
    trough = int(np.argmin(dd))
    peak = int(np.argmax(values[: trough + 1]))
    underwater = dd < 0
    longest = run = 0
    for flag in underwater:
        run = run + 1 if flag else 0
        longest = max(longest, run)
    offset = 1 if initial is not None else 0
    labels = list(equity.index)

    def label(i: int) -> object:
        return labels[i - offset] if i - offset >= 0 else "start"

    return Drawdown(max_drawdown=float(dd[trough]), peak_at=label(peak), trough_at=label(trough),
                    longest_underwater_periods=longest)
