"""Tiny hand-made bar sets for tests a reader can check by hand."""

from __future__ import annotations

import pandas as pd

from data_loaders.calendars import sessions_between
from data_loaders.markets import get_listing
from data_loaders.schema import DailyBars
from data_loaders.validation import normalise_bars


def make_bars(symbol: str, start: str, end: str, open_: float = 100.0, step: float = 1.0,
              spread: float = 0.5) -> DailyBars:
    """Bars on every real session of ``symbol``'s calendar in [start, end]:
    session i opens at ``open_ + i*step`` and closes ``spread`` higher."""
    listing = get_listing(symbol)
    if listing.market.calendar_code is None:
        days = pd.bdate_range(start, end)
    else:
        days = sessions_between(listing.market.calendar_code, pd.Timestamp(start), pd.Timestamp(end))
    rows = []
    for i, day in enumerate(days):
        o = open_ + i * step
        c = o + spread
        rows.append({"date": day.strftime("%Y-%m-%d"), "open": o, "high": max(o, c) + 1,
                     "low": min(o, c) - 1, "close": c, "adj_close": c, "volume": 1000.0})
    return normalise_bars(pd.DataFrame(rows), listing=listing, adjustment="raw", source="test",
                          origin=f"test:{symbol}")


def constant_fx(start: str, end: str, rate: float = 7.8) -> DailyBars:
    return make_bars("USDHKD", start, end, open_=rate, step=0.0, spread=0.0)
