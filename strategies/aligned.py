"""Returns a strategy may decide on: each spans exactly one session of its listing's calendar.

A close-to-close return across a missing row (a vendor gap) spans two or more sessions; set
beside a benchmark's one-session return it makes an abnormal return out of nothing. These
helpers return the one-session return or ``None`` with the reason, so the caller skips the
decision and says why in the notes.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from data_loaders.calendars import previous_session, sessions_between
from data_loaders.markets import get_listing


@dataclass(frozen=True, kw_only=True, slots=True)
class SessionReturn:
    """``value`` = close(session) / close(previous session) - 1, or None with ``reason``."""

    symbol: str
    session: pd.Timestamp
    value: float | None
    reason: str = ""


def one_session_return(symbol: str, closes: pd.Series, session: pd.Timestamp) -> SessionReturn:
    """The return of ``session`` over exactly one session of ``symbol``'s calendar.

    Parameters
    ----------
    closes
        Completed closes of ``symbol`` (session-indexed, ascending).
    session
        The session whose return is wanted.

    Returns
    -------
    SessionReturn
        ``value`` None when ``session`` has no close, no earlier close exists, or the
        previous close is not the calendar's previous session (a missing row), with the reason.
    """
    session = pd.Timestamp(session)
    if session not in closes.index:
        return SessionReturn(symbol=symbol, session=session, value=None, reason=f"{symbol} has no close on {session:%Y-%m-%d}")
    i = int(closes.index.get_loc(session))
    if i == 0:
        return SessionReturn(symbol=symbol, session=session, value=None,
                             reason=f"{symbol} has no close before {session:%Y-%m-%d}")
    prev = pd.Timestamp(closes.index[i - 1])
    code = get_listing(symbol).market.calendar_code
    if code is not None:
        expected = previous_session(code, session)
        if expected is not None and prev != expected:
            spanned = len(sessions_between(code, prev, session)) - 1
            return SessionReturn(
                symbol=symbol, session=session, value=None,
                reason=(f"{symbol}'s previous close is {prev:%Y-%m-%d}, not its previous {code} session "
                        f"{expected:%Y-%m-%d} (row missing): the return would span {spanned} sessions"))
    return SessionReturn(symbol=symbol, session=session, value=float(closes.iloc[i] / closes.iloc[i - 1] - 1.0))


def one_session_returns(symbol: str, closes: pd.Series) -> pd.Series:
    """Close-to-close returns of ``closes`` with NaN where the previous row is not the
    previous session of ``symbol``'s calendar (a missing row)."""
    returns = closes.pct_change()
    code = get_listing(symbol).market.calendar_code
    if code is None or len(closes) < 2:
        return returns
    idx = pd.DatetimeIndex(closes.index)
    expected = sessions_between(code, idx[0], idx[-1])
    # the previous row must be the calendar's previous session
    pos = expected.get_indexer(idx)
    ok = (pos > 0) & (pd.Series(pos).diff().to_numpy() == 1)
    return returns.where(ok)
