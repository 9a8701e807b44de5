"""The cross-sectional part of a study: which firms, on which clock, and the table rows.

:func:`run_cross_section` takes the study's data (prices, benchmarks, schedule, spec) plus
who issues what and the narratives, and returns a :class:`CrossSectionResult`: one row per
catalyst (that reaches two or more issuers) and per narrative x window, with the tests of
:mod:`.cross_section`, and the mean-AR / CAAR path of each with its placebo band.

Firms and clocks
----------------
* **A firm is an issuer.** Listings of one issuer (9988.HK and BABA: Alibaba) count once.
  The cross-section of a catalyst runs on one exchange clock, the calendar on which the
  most issuers it reaches have a listing (ties: the calendar of the first such listing in
  the study's order), so every firm has the same day 0 — the clustering the tests allow
  for. Each issuer is represented by its listing on that clock (the first in the study's
  order if it has several there); its other listings stay in ``event_study.csv`` and are
  named in the row's notes. An issuer with no listing on that clock is left out (noted).
  Chosen over averaging the listings: their returns live on different clocks (an
  average of a Hong Kong and a New York abnormal return has no session to sit on).
* **A narrative** is a named set of catalysts about a basket: its cross-section is the
  basket's issuers, and its statistic the mean over its catalysts (and firms) of their
  CARs, tested as one pattern (see :mod:`.cross_section`).

Nothing is read or written here; :mod:`.cross_section_outputs` writes the files.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd

from backtests.event_study.cross_section import FirmSeries, PatternPath, PatternResult, analyse_pattern
from backtests.event_study.listing import ScheduledEvent
from backtests.event_study.returns import Design, DesignError, build_design, session_returns
from backtests.event_study.spec import BAND_QUANTILES, EventStudySpec, window_label
from backtests.event_study.study import schedule_events
from data_loaders.calendars import sessions_between
from data_loaders.schema import DailyBars
from events.schedule import EventSchedule

CROSS_SECTION_COLUMNS: tuple[str, ...] = (
    "scope", "id", "catalysts", "window", "window_start", "window_end", "clock", "day0", "n_reached", "n_firms",
    "firms", "listings", "caar", "n_positive", "port_car", "port_se", "port_t", "port_df", "p_port_t", "p_port_placebo",
    "n_placebo_sessions", "rbar", "bmp_t", "bmp_kp_t", "p_bmp_kp", "grank_t", "p_grank", "n_est", "est_start",
    "est_end", "synthetic", "problem", "notes",
)
_BAND_NAMES = tuple(f"band_q{round(q * 1000):03d}" for q in BAND_QUANTILES)
CROSS_PATH_COLUMNS: tuple[str, ...] = ("scope", "id", "rel_day", "session", "mean_ar", "caar", *_BAND_NAMES)


@dataclass(frozen=True, kw_only=True, slots=True)
class Scope:
    """A set of catalysts tested together over some listings.

    Attributes
    ----------
    kind
        ``catalyst`` (one catalyst, the listings it reaches) or ``narrative``.
    id
        Catalyst or narrative id.
    catalysts
        The catalyst ids.
    listings
        Listings the cross-section may use (a narrative's basket); empty: all reached.
    """

    kind: Literal["catalyst", "narrative"]
    id: str
    catalysts: tuple[str, ...]
    listings: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class CrossSectionResult:
    """Rows (:data:`CROSS_SECTION_COLUMNS`), paths (:data:`CROSS_PATH_COLUMNS`), problems."""

    table: pd.DataFrame
    paths: pd.DataFrame
    problems: tuple[str, ...] = ()
    meta: dict = field(default_factory=dict)


@dataclass(kw_only=True)
class _Listing:
    symbol: str
    issuer: str
    design: Design
    events: list[ScheduledEvent]


def _designs(prices: Mapping[str, DailyBars], benchmarks: Mapping[str, DailyBars], events: list[ScheduledEvent],
             spec: EventStudySpec, issuer_of: Callable[[str], str], problems: list[str]) -> dict[str, _Listing]:
    by_listing: dict[str, list[ScheduledEvent]] = {}
    for e in events:
        by_listing.setdefault(e.listing, []).append(e)
    out: dict[str, _Listing] = {}
    for sym, bars in prices.items():
        if sym not in by_listing:
            continue
        bench = benchmarks.get(sym)
        try:
            design = build_design(session_returns(bars), session_returns(bench) if bench is not None else None,
                                  spec.model, spec.cross_clock)
        except DesignError as exc:
            problems.append(f"cross-section: {sym} left out: {exc}")
            continue
        if len(design.listing.sessions) < 2:
            continue
        out[sym] = _Listing(symbol=sym, issuer=issuer_of(sym), design=design, events=by_listing[sym])
    return out


def _column_keys(design: Design) -> tuple[str, ...]:
    return tuple(n if n == "alpha" else f"{design.benchmark}:{n}" for n in design.param_names)


def _pick_firms(scope: Scope, listings: dict[str, _Listing], order: list[str]) -> tuple[str, list[_Listing], list[str]]:
    """The clock, one listing per issuer on it, and notes on who was left out or merged."""
    reached = [listings[s] for s in order if s in listings
               and (not scope.listings or s in scope.listings)
               and any(e.catalyst_id in scope.catalysts for e in listings[s].events)]
    by_clock: dict[str, dict[str, _Listing]] = {}
    for lst in reached:
        by_clock.setdefault(lst.design.listing.calendar, {}).setdefault(lst.issuer, lst)
    if not by_clock:
        return "", [], []
    clock = max(by_clock, key=lambda c: len(by_clock[c]))       # max keeps the first of ties
    chosen = list(by_clock[clock].values())
    notes = []
    used = {c.symbol for c in chosen}
    for lst in reached:
        if lst.symbol in used:
            continue
        mine = by_clock[clock].get(lst.issuer)
        notes.append(f"{lst.symbol}: issuer {lst.issuer} counted once, through {mine.symbol}" if mine else
                     f"{lst.symbol}: on {lst.design.listing.calendar}, not on the {clock} clock; left out")
    return clock, chosen, notes


def _panel(chosen: list[_Listing], span: tuple[int, int]) -> tuple[pd.DatetimeIndex, list[FirmSeries], np.ndarray,
                                                                   dict[str, int]]:
    """Align the chosen listings on their common calendar; zones and day-0 positions."""
    clock = chosen[0].design.listing.calendar
    first = min(c.design.listing.sessions[0] for c in chosen)
    last = max(c.design.listing.sessions[-1] for c in chosen)
    sessions = sessions_between(clock, first, last)
    n = len(sessions)
    zone = np.zeros(n, dtype=np.int64)
    day0: dict[str, int] = {}
    firms = []
    for c in chosen:
        d = c.design
        loc = sessions.get_indexer(d.listing.sessions)
        y = np.full(n, np.nan)
        X = np.full((n, d.k), np.nan)
        valid = np.zeros(n, dtype=bool)
        y[loc], X[loc], valid[loc] = d.y, d.X, d.valid
        own = np.zeros(n, dtype=np.int64)
        for e in c.events:
            pos = int(sessions.get_indexer([e.day0])[0])
            if pos < 0:
                continue
            day0.setdefault(e.catalyst_id, pos)
            own[max(pos + span[0], 0):max(min(pos + span[1] + 1, n), 0)] += 1
        zone += own
        firms.append(FirmSeries(firm=c.issuer, listing=c.symbol, y=y, X=X, columns=_column_keys(d),
                                valid=valid & np.isfinite(y), zone=own))
    return sessions, firms, zone, day0


def catalyst_scopes(events: list[ScheduledEvent], issuer_of: Callable[[str], str]) -> list[Scope]:
    """One scope per catalyst that reaches two or more issuers, in order of first day 0."""
    issuers: dict[str, set[str]] = {}
    first: dict[str, pd.Timestamp] = {}
    for e in events:
        issuers.setdefault(e.catalyst_id, set()).add(issuer_of(e.listing))
        first[e.catalyst_id] = min(first.get(e.catalyst_id, e.day0), e.day0)
    ids = sorted((c for c in issuers if len(issuers[c]) >= 2), key=lambda c: (first[c], c))
    return [Scope(kind="catalyst", id=c, catalysts=(c,)) for c in ids]


def run_cross_section(prices: Mapping[str, DailyBars], benchmarks: Mapping[str, DailyBars],
                      schedule: EventSchedule | pd.DataFrame, spec: EventStudySpec, *,
                      issuer_of: Callable[[str], str], narratives: Sequence[Scope] = ()) -> CrossSectionResult:
    """Cross-sectional tests of every multi-issuer catalyst and every narrative.

    Parameters
    ----------
    prices, benchmarks, schedule, spec
        As for :func:`~backtests.event_study.study.run_event_study` (same designs).
    issuer_of
        Listing symbol -> issuer id (the registry's ``issuer_of``).
    narratives
        Narrative scopes (``kind="narrative"``), listings = the basket's.

    Returns
    -------
    CrossSectionResult
        Empty table when no catalyst reaches two issuers and there is no narrative.
    """
    events, problems = schedule_events(schedule)
    problems = [f"cross-section: {p}" for p in problems]
    listings = _designs(prices, benchmarks, events, spec, issuer_of, problems)
    order = [s for s in prices if s in listings]
    synthetic = any(b.synthetic for b in (*prices.values(), *benchmarks.values()))
    rows: list[dict] = []
    path_rows: list[dict] = []
    for scope in [*catalyst_scopes(events, issuer_of), *narratives]:
        clock, chosen, notes = _pick_firms(scope, listings, order)
        base = {"scope": scope.kind, "id": scope.id, "catalysts": ";".join(scope.catalysts), "clock": clock,
                "synthetic": synthetic, "problem": "", "notes": ""}
        if not chosen:
            problems.append(f"cross-section {scope.kind} {scope.id}: no listing with prices reached")
            rows += [dict(base, window=window_label(w), window_start=w[0], window_end=w[1], n_firms=0,
                          n_reached=0, problem="no listing with prices reached") for w in spec.windows]
            continue
        sessions, firms, zone, day0 = _panel(chosen, spec.span)
        mine = [c for c in scope.catalysts if c in day0]
        missing = [c for c in scope.catalysts if c not in day0]
        if missing:
            notes.append(f"not on the {clock} clock in the data: {', '.join(missing)}")
        if not mine:
            rows += [dict(base, window=window_label(w), window_start=w[0], window_end=w[1], n_firms=0,
                          n_reached=len(chosen), problem="no day 0 inside the data", notes="; ".join(notes))
                     for w in spec.windows]
            continue
        positions = sorted(day0[c] for c in mine)
        results, path = analyse_pattern(firms, zone, positions, spec, BAND_QUANTILES)
        base["day0"] = ";".join(f"{sessions[p]:%Y-%m-%d}" for p in positions)
        for w in spec.windows:
            r = results[w]
            rows.append(_row(base, w, r, notes, sessions, chosen))
            if r.notes:
                problems += [f"cross-section {scope.kind} {scope.id} {window_label(w)}: {n}" for n in r.notes]
        if path is not None:
            caar = np.nancumsum(path.mean_ar)
            for j, rel in enumerate(path.rel_days):
                p = positions[0] + int(rel)
                path_rows.append({"scope": scope.kind, "id": scope.id, "rel_day": int(rel),
                                  "session": f"{sessions[p]:%Y-%m-%d}" if 0 <= p < len(sessions) else "",
                                  "mean_ar": float(path.mean_ar[j]), "caar": float(caar[j]),
                                  **{n: float(path.bands[q, j]) for q, n in enumerate(_BAND_NAMES)}})
    table = pd.DataFrame(rows, columns=list(CROSS_SECTION_COLUMNS))
    paths = pd.DataFrame(path_rows, columns=list(CROSS_PATH_COLUMNS))
    meta = {"synthetic": synthetic, "issuers": {s: lst.issuer for s, lst in listings.items()},
            "n_rows": int(len(table))}
    return CrossSectionResult(table=table, paths=paths, problems=tuple(dict.fromkeys(problems)), meta=meta)


def _row(base: dict, w: tuple[int, int], r: PatternResult, notes: list[str], sessions: pd.DatetimeIndex,
         chosen: list[_Listing]) -> dict:
    by_firm = {c.issuer: c.symbol for c in chosen}
    row = dict(base, window=window_label(w), window_start=w[0], window_end=w[1], n_reached=len(chosen),
               n_firms=r.n_firms,
               firms=";".join(r.firms), listings=";".join(by_firm[f] for f in r.firms), caar=r.caar,
               n_positive=r.n_positive, port_car=r.port_car, port_se=r.port_se, port_t=r.port_t,
               port_df=r.port_df, p_port_t=r.p_port_t, p_port_placebo=r.p_port_placebo,
               n_placebo_sessions=r.n_placebo_sessions, rbar=r.rbar, bmp_t=r.bmp_t, bmp_kp_t=r.bmp_kp_t,
               p_bmp_kp=r.p_bmp_kp, grank_t=r.grank_t, p_grank=r.p_grank, n_est=r.n_est,
               est_start=f"{sessions[r.est_first]:%Y-%m-%d}" if r.est_first >= 0 else "",
               est_end=f"{sessions[r.est_last]:%Y-%m-%d}" if r.est_last >= 0 else "",
               notes="; ".join([*notes, *r.notes]))
    if r.n_firms < 2:
        row["problem"] = f"{r.n_firms} firm(s) with a CAR; cross-sectional tests need at least 2"
    return row
