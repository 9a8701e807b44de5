"""Build event-study inputs from numbers (no files): bars from closes, one-line catalysts."""

from __future__ import annotations

import numpy as np
import pandas as pd

from data_loaders.calendars import sessions_between
from data_loaders.markets import get_listing
from data_loaders.schema import DailyBars
from data_loaders.validation import normalise_bars
from events.catalyst import Catalyst


def sessions(symbol: str, start: str, end: str) -> pd.DatetimeIndex:
    """``symbol``'s calendar sessions in [start, end]."""
    code = get_listing(symbol).market.calendar_code
    assert code is not None
    return sessions_between(code, pd.Timestamp(start), pd.Timestamp(end))


def bars_from_returns(symbol: str, days: pd.DatetimeIndex, returns: np.ndarray, *, start_price: float = 100.0,
                      drop: tuple[str, ...] = (), adjustment: str = "adjusted", synthetic: bool = False) -> DailyBars:
    """Bars whose close follows ``start_price * cumprod(1 + returns)`` (``returns[0]`` ignored);
    open = previous close; sessions in ``drop`` are left out (gaps)."""
    close = start_price * np.cumprod(1.0 + np.r_[0.0, np.asarray(returns, dtype=float)[1:]])
    open_ = np.r_[start_price, close[:-1]]
    frame = pd.DataFrame({"date": days.strftime("%Y-%m-%d"), "open": open_, "high": np.maximum(open_, close),
                          "low": np.minimum(open_, close), "close": close, "adj_close": close, "volume": 1e6})
    frame = frame[~frame["date"].isin(drop)]
    return normalise_bars(frame, listing=get_listing(symbol), adjustment=adjustment,  # type: ignore[arg-type]
                          source="test", origin=f"test:{symbol}", synthetic=synthetic)


def catalyst(cid: str, instant_utc: pd.Timestamp | str, listings: tuple[str, ...] = ("9988.HK", "BABA")) -> Catalyst:
    """A minute-precision catalyst at ``instant_utc``."""
    ts = pd.Timestamp(instant_utc)
    ts = ts.tz_localize("UTC") if ts.tzinfo is None else ts
    return Catalyst(id=cid, headline=cid, published_at=ts.floor("min"), precision="minute", listings=listings)
