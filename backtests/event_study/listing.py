"""One listing's part of the event study: design, per-catalyst fits and the placebo.

:func:`analyse_listing` builds the regression of one listing on its benchmark, fits every
catalyst's estimation window (masking the *other* catalysts' spans and missing data),
computes abnormal returns on the span around each day 0, and runs the same estimator with
every session as day 0 (masking *all* catalysts' spans) for the placebo distribution.

Diagnostics computed alongside: a post-event fit (the same model on the ``estimation_sessions``
after the span, other catalysts masked) for the beta-stability check, and, when
``spec.ewma_lambda > 0``, the EWMA volatility of the prediction errors up to the start of
the span for the conditional-volatility standardisation of day-0 abnormal returns.
"""

from __future__ import annotations

import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from backtests.event_study.models import Fits, Paths, WindowStats, event_paths, fit_windows, gather, window_stats
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
    placebo_t: dict[Window, np.ndarray] = field(default_factory=dict)   # (N,) t_adj at every day 0
    placebo_car: dict[Window, np.ndarray] = field(default_factory=dict)  # (N,) CAR / sqrt(scale)
    eligible: np.ndarray | None = None                # (N,) placebo day 0 allowed
    placebo_std_path: np.ndarray | None = None        # (N, R) cum AR / sigma
    scale: np.ndarray | None = None                   # (N,) closure variance scale per session
    zone: np.ndarray | None = None                    # (N,) how many catalysts' spans cover a session
    weights: np.ndarray | None = None                 # (n_events, N) estimation sessions of each catalyst
    placebo_fits: Fits | None = None                  # fits with every session as day 0
    post_fits: Fits | None = None                     # (n_events) fits on the sessions after the span
    post_stats: dict[Window, WindowStats] = field(default_factory=dict)
    ewma_sigma: np.ndarray | None = None              # (n_events,) EWMA sigma before the span
    placebo_ewma_z: np.ndarray | None = None          # (N,) day-0 AR / EWMA sigma at every day 0

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


def closure_scale(closes_ns: np.ndarray, firm_closes_ns: np.ndarray | None) -> np.ndarray:
    """Variance scale of each session: the firm's sessions it spans over a normal session's.

    ``firm_closes_ns`` are the close instants of every listing of the firm (the union of
    their clocks). A session's count is the number of those closes in ``(previous close,
    close]``; the scale is ``max(1, count / median count)``: 9988.HK on 2025-02-03, after
    Lunar New Year while BABA traded four sessions, spans 5 closes against a normal 2, so
    2.5. Never below 1 (a session is not made quieter). Without other listings: all 1.
    """
    n = len(closes_ns)
    if firm_closes_ns is None or n < 2:
        return np.ones(n)
    firm = np.unique(np.asarray(firm_closes_ns, dtype=np.int64))
    counts = np.searchsorted(firm, closes_ns[1:], side="right") - np.searchsorted(firm, closes_ns[:-1], side="right")
    typical = float(np.median(counts)) if len(counts) else 1.0
    return np.r_[1.0, np.maximum(1.0, counts / max(typical, 1.0))]


def ewma_sigma(design: Design, weights: np.ndarray, fits: Fits, day0: np.ndarray, spec: EventStudySpec) -> np.ndarray:
    """EWMA sigma of the prediction errors of each fit on ``[d0 - gap - L, d0 + span[0] - 1]``
    (the estimation window and the gap up to the span; age 0 = the last of them), weights
    ``lambda^age`` normalised over the usable sessions (``weights``: shared or per fit)."""
    lam = spec.ewma_lambda
    length = spec.gap_sessions + spec.estimation_sessions + spec.span[0]
    starts = np.asarray(day0, dtype=np.int64) - spec.gap_sessions - spec.estimation_sessions
    yb, ok = gather(design.y, starts, length, design.valid)
    Xb, _ = gather(design.X, starts, length, design.valid)
    idx = np.clip(starts[:, None] + np.arange(length), 0, max(len(design.y) - 1, 0))
    w = weights.astype(bool)
    ok &= w[idx] if w.ndim == 1 else np.take_along_axis(w, idx, axis=1)
    resid = yb - np.einsum("mlk,mk->ml", Xb, np.nan_to_num(fits.theta))
    decay = lam ** np.arange(length - 1, -1, -1, dtype=float)
    wt = np.where(ok, decay, 0.0)
    with np.errstate(invalid="ignore", divide="ignore"):
        var = (wt * np.where(ok, resid, 0.0) ** 2).sum(axis=1) / wt.sum(axis=1)
    return np.where(fits.ok & (ok.sum(axis=1) >= spec.min_estimation_sessions), np.sqrt(var), np.nan)


def analyse_listing(symbol: str, bars: DailyBars | None, bench: DailyBars | None,
                    events: list[ScheduledEvent], spec: EventStudySpec,
                    firm_closes_ns: np.ndarray | None = None) -> ListingRun:
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
    firm_closes_ns
        Close instants (UTC ns) of all the firm's listings in the study, for the closure
        variance scale (:func:`closure_scale`); ``None``: no scaling.

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
    scale = closure_scale(listing.closes_ns, firm_closes_ns)
    run.scale, run.zone = scale, zone
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
        paths = event_paths(design.y, design.X, valid, day0, span, fits, scale)
        run.fits, run.ar, run.weights = fits, paths.ar, weights
        run.stats = {w: window_stats(paths, fits, span, w) for w in (*spec.windows, (0, spec.leadlag_horizon))}
        post = fit_windows(design.y, design.X, weights, day0 + span[1] + 1 + est_len, est_len,
                           spec.min_estimation_sessions)
        post_paths = event_paths(design.y, design.X, valid, day0, span, post, scale)
        run.post_fits = post
        run.post_stats = {w: window_stats(post_paths, post, span, w) for w in spec.windows}
        if spec.ewma_lambda > 0:
            run.ewma_sigma = ewma_sigma(design, weights, fits, day0, spec)
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
    ppaths = event_paths(design.y, design.X, valid, every, span, pfits, scale)
    run.placebo_fits = pfits
    run.eligible = placebo_eligible(run, ppaths, pfits, span)
    for w in spec.windows:
        ws = window_stats(ppaths, pfits, span, w)
        run.placebo_t[w] = ws.t_adj
        run.placebo_car[w] = ws.car / np.sqrt(ws.scale)
    with np.errstate(invalid="ignore"):
        run.placebo_std_path = np.cumsum(ppaths.ar, axis=1) / np.sqrt(pfits.sigma2)[:, None]
        if spec.ewma_lambda > 0:
            run.placebo_ewma_z = ppaths.ar[:, -span[0]] / (ewma_sigma(design, free, pfits, every, spec)
                                                           * np.sqrt(scale))
    return run


def placebo_eligible(run: ListingRun, ppaths: Paths, pfits: Fits, span: Window) -> np.ndarray:
    """Sessions that may serve as a placebo day 0 for windows inside ``span``: complete
    data over the span, a usable fit, and no catalyst's span touching it."""
    assert run.zone is not None
    span_len = span[1] - span[0] + 1
    clear, _ = gather((run.zone == 0).astype(float), np.arange(len(run.zone)) + span[0], span_len)
    return ppaths.ok.all(axis=1) & pfits.ok & (clear.sum(axis=1) == span_len)


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
