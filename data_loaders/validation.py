"""Normalise and validate raw price tables into :class:`DailyBars`.

Fatal problems (the prices cannot be trusted) raise :class:`DataValidationError` listing
every bad row with its value; recoverable findings (missing sessions, rows on days the
exchange was closed, unsorted input) are reported as :class:`DataIssue` and loading goes
on. Missing sessions are never filled.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pandas as pd

from data_loaders.calendars import exchange_calendar, session_closes_utc, sessions_between
from data_loaders.errors import DataValidationError, UnknownSymbolError
from data_loaders.file_cache import Memo, content_key, date_key
from data_loaders.markets import Listing, get_listing
from data_loaders.schema import PRICE_COLUMNS, Adjustment, DailyBars, DataIssue

RAW_COLUMNS: tuple[str, ...] = ("date", "open", "high", "low", "close")
_MAX_LISTED = 12


def _dates(sessions: pd.DatetimeIndex) -> tuple[str, ...]:
    return tuple(pd.DatetimeIndex(sessions).strftime("%Y-%m-%d"))


def _listed(dates: tuple[str, ...]) -> str:
    shown = ", ".join(dates[:_MAX_LISTED])
    return shown + (f" (+{len(dates) - _MAX_LISTED} more)" if len(dates) > _MAX_LISTED else "")


def normalise_bars(
    raw: pd.DataFrame,
    *,
    listing: Listing,
    adjustment: Adjustment,
    source: str,
    origin: str,
    row_label: Callable[[int], str] = lambda i: f"row {i}",
    synthetic: bool = False,
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
) -> DailyBars:
    """Turn a raw ``date, open, high, low, close[, adj_close][, volume]`` table into bars.

    Parameters
    ----------
    raw
        One row per session; ``date`` parseable as a date (exchange-local session label).
    listing
        The instrument; its market's calendar validates the sessions.
    adjustment
        ``"raw"`` keeps traded prices; ``"adjusted"`` scales OHLC by ``adj_close/close``
        and requires an ``adj_close`` column.
    source
        Recorded on the result ("csv:/data/prices").
    origin
        Named in every message (a file path, or ``akshare:9988.HK``).
    row_label
        Maps a 0-based position in ``raw`` to how the user sees it (CSV line number).
    start, end
        Keep sessions in ``[start, end]``; calendar findings are reported for that span only.
        Fatal problems anywhere in ``raw`` still raise: a file with a broken row is broken.

    Raises
    ------
    DataValidationError
        Missing columns, unparseable dates, NaN / non-positive / non-numeric prices,
        high < low, negative volume, or the same session twice with different values.
    """
    problems: list[str] = []
    missing_cols = [c for c in RAW_COLUMNS if c not in raw.columns]
    if adjustment == "adjusted" and "adj_close" not in raw.columns:
        missing_cols.append("adj_close")
    if missing_cols:
        raise DataValidationError(origin, [
            f"missing column(s) {missing_cols}; found {list(raw.columns)}. Expected a header "
            f"'date,open,high,low,close,adj_close,volume'"
            + (" (or load with adjustment='raw')" if "adj_close" in missing_cols else "")
        ])

    raw = raw.reset_index(drop=True)
    dates, date_issue, date_problem = _parse_dates(raw["date"], row_label)
    if date_problem:
        raise DataValidationError(origin, [date_problem])
    issues: list[DataIssue] = [date_issue] if date_issue is not None else []
    for i in np.flatnonzero(dates.isna().to_numpy()):
        problems.append(f"{row_label(i)}: date {raw['date'].iloc[i]!r} is not a date (use YYYY-MM-DD)")
    if getattr(dates.dt, "tz", None) is not None:
        dates = dates.dt.tz_localize(None)
    dates = dates.dt.normalize()

    value_cols = [*PRICE_COLUMNS, *(["adj_close"] if "adj_close" in raw.columns else [])]
    columns: dict[str, pd.Series] = {"date": dates}
    for col in value_cols:
        num = pd.to_numeric(raw[col], errors="coerce")
        for i in np.flatnonzero(_not_positive(num)):
            if pd.isna(dates.iloc[i]):
                continue
            infinite = " (not finite)" if np.isinf(num.iloc[i]) else ""
            problems.append(
                f"{row_label(i)} ({dates.iloc[i]:%Y-%m-%d}): {col} = {raw[col].iloc[i]!r} "
                f"is not a positive price{infinite}; correct or delete the row (gaps are reported, not filled)"
            )
        columns[col] = num.astype(float)
    volume = pd.to_numeric(raw["volume"], errors="coerce") if "volume" in raw.columns else \
        pd.Series(np.nan, index=raw.index)
    if "volume" in raw.columns:  # an empty cell is "unknown"; text such as "lots" is an error, not NaN
        given = raw["volume"].notna() & (raw["volume"].astype(str).str.strip() != "")
        for i in np.flatnonzero((given & (volume.isna() | ~np.isfinite(volume))).to_numpy()):
            problems.append(f"{row_label(i)}: volume = {raw['volume'].iloc[i]!r} is not a finite number; "
                            f"write the traded quantity (e.g. 1250000) or leave the cell empty")
    for i in np.flatnonzero((volume < 0).to_numpy()):
        problems.append(f"{row_label(i)}: volume = {volume.iloc[i]} is negative")
    columns["volume"] = volume.astype(float)

    bad_hl = np.flatnonzero(columns["high"].to_numpy() < columns["low"].to_numpy())
    for i in bad_hl:
        problems.append(
            f"{row_label(i)} ({dates.iloc[i]:%Y-%m-%d}): high {columns['high'].iloc[i]} < "
            f"low {columns['low'].iloc[i]}; the columns may be swapped"
        )

    dup_mask = dates.duplicated(keep=False) & dates.notna()
    if dup_mask.any():
        df = pd.DataFrame(columns)
        same = df[dup_mask].groupby("date")[value_cols].nunique(dropna=False).max(axis=1) <= 1
        for d, identical in same.items():
            rows = [row_label(i) for i in np.flatnonzero((df["date"] == d).to_numpy())]
            if not identical:
                problems.append(
                    f"session {d:%Y-%m-%d} appears {len(rows)} times with different values "
                    f"({', '.join(rows)}); keep exactly one row per session"
                )
        dropped = _dates(pd.DatetimeIndex([d for d, ok in same.items() if ok]))
        if dropped:
            issues.append(DataIssue(kind="duplicate_rows_dropped", sessions=dropped,
                                    message=f"identical duplicate rows dropped for {_listed(dropped)}"))
    if problems:
        raise DataValidationError(origin, problems)

    # rows kept, in the order kept: the first of each session, sorted by date (stable)
    order = np.flatnonzero(~dates.duplicated(keep="first").to_numpy()) if dup_mask.any() else np.arange(len(dates))
    day = dates.to_numpy()[order]
    if not pd.Index(day).is_monotonic_increasing:
        issues.append(DataIssue(kind="unsorted", message="rows were not in date order; sorted them"))
        by_date = np.argsort(day, kind="stable")
        order, day = order[by_date], day[by_date]

    sessions = pd.DatetimeIndex(day, name="session")
    keep = np.ones(len(order), dtype=bool)
    if start is not None:
        keep &= sessions >= pd.Timestamp(start)
    if end is not None:
        keep &= sessions <= pd.Timestamp(end)
    rows_kept = order[keep]
    prices = {c: columns[c].to_numpy()[rows_kept] for c in (*PRICE_COLUMNS, "volume")}
    if adjustment == "adjusted":
        factor = columns["adj_close"].to_numpy()[rows_kept] / prices["close"]
        for col in PRICE_COLUMNS:
            prices[col] = prices[col] * factor
    frame = pd.DataFrame(prices, index=sessions[keep])

    o, h, lo, c = (prices[k] for k in PRICE_COLUMNS)
    outside = (o > h) | (o < lo) | (c > h) | (c < lo)
    if outside.any():
        d = _dates(frame.index[outside])
        issues.append(DataIssue(kind="ohlc_inconsistent", sessions=d,
                                message=f"open or close outside [low, high] on {_listed(d)}; kept as given"))

    cal_code = listing.market.calendar_code
    if cal_code is None:
        issues.append(DataIssue(kind="no_calendar",
                                message=f"{listing.symbol} trades around the clock; sessions are not checked "
                                        f"against an exchange calendar"))
        # FX: stamp at 23:00 UTC of the label date (end of the London/New York trading day
        # that vendors label with that date). Conversions sample it as-of.
        close_utc = (frame.index + pd.Timedelta(hours=23)).tz_localize("UTC")
    else:
        frame = _drop_outside_calendar(frame, cal_code, issues)
        if len(frame):
            expected = sessions_between(cal_code, frame.index[0], frame.index[-1])
            extra = frame.index[~frame.index.isin(expected)]
            if len(extra):
                d = _dates(extra)
                issues.append(DataIssue(
                    kind="non_sessions_dropped", sessions=d,
                    message=f"{len(d)} row(s) on days {cal_code} has no session were dropped: {_listed(d)}"))
                frame = frame.drop(index=extra)
            gaps = expected[~expected.isin(frame.index)]
            if len(gaps):
                d = _dates(gaps)
                issues.append(DataIssue(
                    kind="missing_sessions", sessions=d,
                    message=f"{len(d)} {cal_code} session(s) have no row (not filled): {_listed(d)}"))
        if listing.kind != "index" and len(frame):
            o, h, lo, c, v = (frame[k].to_numpy() for k in (*PRICE_COLUMNS, "volume"))
            flat = (o == h) & (h == lo) & (lo == c) & (v == 0)
            if flat.any():
                d = _dates(frame.index[flat])
                issues.append(DataIssue(
                    kind="placeholder_rows", sessions=d,
                    message=f"flat zero-volume rows (vendor placeholders?) on {_listed(d)}; kept"))
        close_utc = session_closes_utc(cal_code, pd.DatetimeIndex(frame.index))
    frame = frame.assign(close_utc=pd.DatetimeIndex(close_utc).tz_convert("UTC").array)
    return DailyBars(symbol=listing.symbol, currency=listing.currency, adjustment=adjustment,
                     source=source, frame=frame, issues=tuple(issues), synthetic=synthetic)


_SLASHED = r"^\s*(\d{1,2})[/.](\d{1,2})[/.](\d{4})\s*$"


def _not_positive(num: pd.Series) -> np.ndarray:
    """Rows of a ``to_numeric`` column that are not a finite number > 0 (NaN included)."""
    if num.dtype.kind in "fiu":
        values = num.to_numpy(dtype=float)
        return ~(values > 0) | ~np.isfinite(values)
    return (num.isna() | ~(num > 0) | ~np.isfinite(num)).to_numpy()


def _parse_dates(raw: pd.Series, row_label: Callable[[int], str]
                 ) -> tuple[pd.Series, DataIssue | None, str | None]:
    """Parse the ``date`` column; detect and name a day-first or month-first format.

    ``YYYY-MM-DD`` (and anything pandas reads unambiguously) is parsed as is. Dates written
    ``NN/NN/YYYY`` are read day-first when some first field exceeds 12 (DD/MM/YYYY),
    month-first when some second field does (MM/DD/YYYY), and refused when every one of them
    could be either (the message names the format and a row). Returns the dates, an issue
    naming the format used, and a problem (refusal) or None.
    """
    text = raw.astype(str)
    joined = "".join(t for t in text.tolist() if isinstance(t, str))  # missing dates stay NaN under pandas 3
    if "/" not in joined and "." not in joined:  # no date can match _SLASHED
        return pd.to_datetime(raw, errors="coerce", format="mixed"), None, None
    parts = text.str.extract(_SLASHED)
    slashed = parts[0].notna()
    if not slashed.any():
        return pd.to_datetime(raw, errors="coerce", format="mixed"), None, None
    first, second = parts[0].astype(float), parts[1].astype(float)
    day_first, month_first = bool((first > 12).any()), bool((second > 12).any())
    i = int(np.flatnonzero(slashed.to_numpy())[0])
    if day_first and month_first:
        return raw, None, (f"dates mix DD/MM/YYYY and MM/DD/YYYY (e.g. {row_label(i)}: {text.iloc[i]!r}); "
                           f"write every date as YYYY-MM-DD")
    if not day_first and not month_first:
        return raw, None, (f"dates such as {text.iloc[i]!r} ({row_label(i)}) could be DD/MM/YYYY or MM/DD/YYYY "
                           f"(no day above 12 tells them apart); write every date as YYYY-MM-DD")
    fmt = "DD/MM/YYYY" if day_first else "MM/DD/YYYY"
    j = int(np.flatnonzero(((first > 12) if day_first else (second > 12)).to_numpy())[0])
    dates = pd.to_datetime(raw, errors="coerce", dayfirst=day_first, format="mixed")
    return dates, DataIssue(kind="date_format", message=(
        f"dates are written {fmt} (detected from {text.iloc[j]!r}, {row_label(j)}) and were read so; "
        f"YYYY-MM-DD avoids the guess")), None


def _drop_outside_calendar(frame: pd.DataFrame, cal_code: str, issues: list[DataIssue]) -> pd.DataFrame:
    """Drop rows outside the exchange calendar's coverage, named as such (not as closed days)."""
    cal = exchange_calendar(cal_code)
    first, last = pd.Timestamp(cal.first_session).tz_localize(None), pd.Timestamp(cal.last_session).tz_localize(None)
    for mask, where, edge in ((frame.index < first, "before", first), (frame.index > last, "after", last)):
        if mask.any():
            d = _dates(frame.index[mask])
            issues.append(DataIssue(kind="outside_calendar", sessions=d, message=(
                f"{len(d)} row(s) {where} the {cal_code} calendar's {'first' if where == 'before' else 'last'} "
                f"session {edge:%Y-%m-%d} (the calendars cover {first:%Y}-{last:%Y}) were dropped: they cannot be "
                f"checked against sessions or timed; {d[0]}..{d[-1]}")))
    keep = (frame.index >= first) & (frame.index <= last)
    return frame if keep.all() else frame[keep]


# Issues normalise_bars derives from the validated frame itself; restrict_bars recomputes
# them for a sub-span. Every other kind describes the upstream input (rows dropped,
# unsorted input ...) and cannot be recomputed from the frame, so it is carried over.
_FRAME_DERIVED_KINDS = frozenset({"missing_sessions", "ohlc_inconsistent", "placeholder_rows", "no_calendar"})


def restrict_bars(
    bars: DailyBars,
    *,
    start: pd.Timestamp | str | None = None,
    end: pd.Timestamp | str | None = None,
) -> DailyBars:
    """``bars`` with ``start <= session <= end``, issues reported for that span only.

    Equivalent to having passed ``start``/``end`` to :func:`normalise_bars` in the first
    place: gaps, placeholders and OHLC findings are recomputed on the slice; findings about
    the upstream input are kept when they name a session inside the span or no session.
    Used by sources that validate a full history once and serve slices (cache, synthetic); a
    slice of the same content and bounds is cut once per process (:data:`SLICES`).
    """
    if start is None and end is None:
        return bars
    try:
        listing = get_listing(bars.symbol)
    except UnknownSymbolError:  # raised below only when the slice is not empty
        return _restrict(bars, start, end)
    key = (content_key(bars.frame), bars.symbol, bars.currency, bars.adjustment, bars.source, bars.issues,
           bars.synthetic, listing, date_key(start), date_key(end))
    return SLICES.get(key, lambda: _restrict(bars, start, end))


def _own_copy(bars: DailyBars) -> DailyBars:
    return replace(bars, frame=bars.frame.copy())


#: Slices cut by :func:`restrict_bars` in this process, by the bars' content, the bounds and the
#: listing record (:mod:`data_loaders.file_cache`); callers get their own copy of the frame.
SLICES: Memo[DailyBars] = Memo("bar slices", handout=_own_copy)


def _restrict(bars: DailyBars, start: pd.Timestamp | str | None, end: pd.Timestamp | str | None) -> DailyBars:
    sub = bars.between(start, end)
    lo = pd.Timestamp(start) if start is not None else pd.Timestamp.min
    hi = pd.Timestamp(end) if end is not None else pd.Timestamp.max
    carried = tuple(
        issue for issue in bars.issues
        if issue.kind not in _FRAME_DERIVED_KINDS
        and (not issue.sessions or any(lo <= pd.Timestamp(s) <= hi for s in issue.sessions))
    )
    if not len(sub):
        return replace(sub, issues=carried)
    raw = sub.frame.drop(columns="close_utc").rename_axis("date").reset_index()
    redone = normalise_bars(raw, listing=get_listing(bars.symbol), adjustment="raw", source=bars.source,
                            origin=f"{bars.source}:{bars.symbol}", synthetic=bars.synthetic)
    return replace(sub, issues=carried + redone.issues)
