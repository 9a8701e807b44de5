"""One listing's part of the event study: design, per-catalyst fits and the placebo.

:func:`analyse_listing` builds the regression of one listing on its benchmark, fits every
catalyst's estimation window (masking the *other* catalysts' spans and missing data),
computes abnormal returns on the span around each day 0, and runs the same estimator with
every session as day 0 (masking *all* catalysts' spans) for the placebo distribution.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from backtests.event_study.models import Fits, WindowStats, event_paths, fit_windows, gather, window_stats
from backtests.event_study.returns import Design, DesignError, build_design, session_returns
from backtests.event_study.spec import EventStudySpec, Window, window_label
from data_loaders.calendars import exchange_calendar
from data_loaders.schema import DailyBars

PARAM_COLUMNS: tuple[str, ...] = ("alpha", "beta", "beta_lag", "beta_0", "beta_lead")


@dataclass(frozen=True, kw_only=True)
class ScheduledEvent:
    """Day 0 of one catalyst on one listing (from a schedule row)."""

    catalyst_id: str
    listing: str
    day0: pd.Timestamp


def placebo_rng(seed: int, *keys: str) -> np.random.Generator:
    """The placebo stream of ``seed`` for ``keys`` (catalyst id, listing or "joint").

    One stream per catalyst x listing, so a catalyst's draws do not depend on which other
    catalysts are in the file or in which order they come.
    """
    return np.random.default_rng([seed, *(zlib.crc32(k.encode()) for k in keys)])


def listed_dates(sessions: pd.DatetimeIndex, positions: np.ndarray) -> str:
    """``"2025-01-02, 2025-01-03 (+4 more)"`` for messages."""
    shown = [f"{sessions[p]:%Y-%m-%d}" for p in positions[:6]]
    return ", ".join(shown) + (f" (+{len(positions) - 6} more)" if len(positions) > 6 else "")


@dataclass(kw_only=True)
class EventCalc:
    """Working state of one catalyst on one listing: grid position, fit row, problems."""

    event: ScheduledEvent
    pos: int = -1
    problem: str = ""
    notes: list[str] = field(default_factory=list)
    fit_index: int = -1
    counts: dict[str, int] = field(default_factory=dict)


@dataclass(kw_only=True)
class ListingRun:
    """Intermediate results for one listing (used by the lead-lag and joint analyses)."""

    symbol: str
    design: Design | None
    problem: str
    notes: list[str]
    events: dict[str, EventCalc]
    fits: Fits | None = None
    ar: np.ndarray | None = None                      # (n_events, R) event abnormal returns
    stats: dict[Window, WindowStats] = field(default_factory=dict)
    placebo_t: dict[Window, np.ndarray] = field(default_factory=dict)   # (N,) t at every day 0
    eligible: np.ndarray | None = None                # (N,) placebo day 0 allowed
    placebo_std_path: np.ndarray | None = None        # (N, R) cum AR / sigma

    @property
    def sessions(self) -> pd.DatetimeIndex:
        assert self.design is not None
        return self.design.listing.sessions


def calendar_positions(code: str, origin: pd.Timestamp, days: Sequence[pd.Timestamp]) -> list[int | None]:
    """Session offsets of ``days`` from ``origin`` on calendar ``code`` (None: not a session)."""
    sessions = pd.DatetimeIndex(exchange_calendar(code).sessions).tz_localize(None)
    base = sessions.get_indexer([origin])[0]
    locs = sessions.get_indexer(pd.DatetimeIndex(list(days)))
    return [None if loc < 0 else int(loc - base) for loc in locs]


def analyse_listing(symbol: str, bars: DailyBars | None, bench: DailyBars | None,
                    events: list[ScheduledEvent], spec: EventStudySpec) -> ListingRun:
    """Fits, abnormal returns and placebo statistics of ``symbol`` (see module doc).

    Parameters
    ----------
    symbol
        The listing.
    bars, bench
        Its bars and its benchmark's (either may be ``None``: reported, not raised).
    events
        The catalysts scheduled on it.
    spec
        Windows, estimation design, model.

    Returns
    -------
    ListingRun
        ``problem`` set when nothing can be computed for the listing; per-catalyst
        problems in ``events[id].problem``.
    """
    calcs = {e.catalyst_id: EventCalc(event=e) for e in events}
    run = ListingRun(symbol=symbol, design=None, problem="", notes=[], events=calcs)
    if bars is None:
        run.problem = f"no prices for {symbol} were given; load its bars to study it"
        return run
    if bars.adjustment != "adjusted":
        run.notes.append(f"{symbol} prices are raw, not dividend-adjusted: ex-dividend drops count as "
                         f"abnormal returns; load with adjustment='adjusted'")
    listing = session_returns(bars)
    if len(listing.sessions) < 2:
        run.problem = f"{symbol} has fewer than two bars; nothing to study"
        return run
    try:
        design = build_design(listing, session_returns(bench) if bench is not None else None,
                              spec.model, spec.cross_clock)
    except DesignError as exc:
        run.problem = str(exc)
        return run
    run.design = design
    run.notes.extend(design.notes)
    sessions, n_sessions = listing.sessions, len(listing.sessions)
    span = spec.span
    span_len = span[1] - span[0] + 1
    gap, est_len = spec.gap_sessions, spec.estimation_sessions

    positions = calendar_positions(listing.calendar, sessions[0], [e.day0 for e in events])
    zone = np.zeros(n_sessions, dtype=np.int64)       # how many catalysts' spans cover a session
    for calc, pos in zip(calcs.values(), positions):
        if pos is None:
            calc.problem = (f"day 0 {calc.event.day0:%Y-%m-%d} is not a {listing.calendar} session; "
                            f"build the schedule with events.schedule.build_schedule")
            continue
        calc.pos = pos
        lo, hi = max(pos + span[0], 0), min(pos + span[1] + 1, n_sessions)
        if lo < hi:
            zone[lo:hi] += 1
        if not 0 <= pos < n_sessions:
            calc.problem = (f"day 0 {calc.event.day0:%Y-%m-%d} is outside the {symbol} data "
                            f"({sessions[0]:%Y-%m-%d} to {sessions[-1]:%Y-%m-%d}); load prices that cover it")

    valid = design.valid
    live = [c for c in calcs.values() if not c.problem]
    if live:
        own = np.zeros((len(live), n_sessions), dtype=np.int64)
        for i, c in enumerate(live):
            c.fit_index = i
            own[i, max(c.pos + span[0], 0):min(c.pos + span[1] + 1, n_sessions)] = 1
        others = (zone[None, :] - own) > 0           # sessions in *other* catalysts' spans
        weights = valid[None, :] & ~others
        day0 = np.array([c.pos for c in live])
        fits = fit_windows(design.y, design.X, weights, day0 - gap, est_len, spec.min_estimation_sessions)
        paths = event_paths(design.y, design.X, valid, day0, span, fits)
        run.fits, run.ar = fits, paths.ar
        run.stats = {w: window_stats(paths, fits, span, w) for w in (*spec.windows, (0, spec.leadlag_horizon))}
        for i, c in enumerate(live):
            est = np.arange(day0[i] - gap - est_len, day0[i] - gap)
            inside = (est >= 0) & (est < n_sessions)
            est_in = est[inside]
            masked = others[i, est_in]
            missing = ~masked & ~valid[est_in]
            c.counts = {"n_est_masked": int(masked.sum()), "n_est_missing": int(missing.sum()),
                        "n_est_outside": int((~inside).sum())}
            if missing.any():
                c.notes.append(f"estimation: {int(missing.sum())} session(s) without a usable return dropped "
                               f"(not filled): {listed_dates(sessions, est_in[missing])}")
            if not fits.ok[i]:
                if fits.n[i] < spec.min_estimation_sessions:
                    c.problem = (
                        f"estimation window too short or mostly masked: {int(fits.n[i])} usable session(s) of "
                        f"{est_len} ({c.counts['n_est_masked']} masked by other catalysts' windows, "
                        f"{c.counts['n_est_missing']} without data, {c.counts['n_est_outside']} before the "
                        f"data starts); need >= {spec.min_estimation_sessions}: load earlier data or lower "
                        f"min_estimation_sessions")
                else:
                    c.problem = ("estimation regression is singular (a flat or duplicated benchmark?); "
                                 "check the benchmark series")

    # Placebo: every session as day 0, masking all catalysts' spans, same estimator.
    every = np.arange(n_sessions)
    free = valid & (zone == 0)
    pfits = fit_windows(design.y, design.X, free, every - gap, est_len, spec.min_estimation_sessions)
    ppaths = event_paths(design.y, design.X, valid, every, span, pfits)
    clear, _ = gather((zone == 0).astype(float), every + span[0], span_len)
    run.eligible = ppaths.ok.all(axis=1) & pfits.ok & (clear.sum(axis=1) == span_len)
    for w in spec.windows:
        run.placebo_t[w] = window_stats(ppaths, pfits, span, w).t
    with np.errstate(invalid="ignore"):
        run.placebo_std_path = np.cumsum(ppaths.ar, axis=1) / np.sqrt(pfits.sigma2)[:, None]
    return run


def fit_params(run: ListingRun, i: int) -> dict[str, float]:
    """Model parameters of fit ``i`` by :data:`PARAM_COLUMNS` (beta = sum of Dimson betas)."""
    assert run.fits is not None and run.design is not None
    out = dict.fromkeys(PARAM_COLUMNS, np.nan)
    if run.fits.ok[i]:
        for name, value in zip(run.design.param_names, run.fits.theta[i]):
            out[name] = float(value)
        betas = [out[n] for n in ("beta_lag", "beta_0", "beta_lead") if n in run.design.param_names]
        if betas:
            out["beta"] = float(sum(betas))
    return out


def window_problem(run: ListingRun, calc: EventCalc, window: Window) -> str:
    """Why ``window`` around ``calc``'s day 0 has no CAR, naming sessions and days."""
    assert run.design is not None
    sessions, n = run.sessions, len(run.sessions)
    rel = np.arange(window[0], window[1] + 1)
    pos = calc.pos + rel
    outside = (pos < 0) | (pos >= n)
    if outside.any():
        return (f"window {window_label(window)} runs past the {run.symbol} data "
                f"({sessions[0]:%Y-%m-%d} to {sessions[-1]:%Y-%m-%d}); load prices that cover it")
    bad_listing = ~run.design.listing_ok[pos]
    bad_bench = run.design.listing_ok[pos] & ~run.design.benchmark_ok[pos]
    parts = []
    if bad_listing.any():
        parts.append(f"no {run.symbol} return on {listed_dates(sessions, pos[bad_listing])} "
                     f"(day {', '.join(f'{r:+d}' for r in rel[bad_listing])})")
    if bad_bench.any():
        parts.append(f"no {run.design.benchmark} return matched to {listed_dates(sessions, pos[bad_bench])} "
                     f"(day {', '.join(f'{r:+d}' for r in rel[bad_bench])})")
    return "; ".join(parts) + "; gaps are not filled" if parts else "incomplete window"
