"""The pre-specified primary family, overlap flags and episodes.

Primary family
    ``spec.primary_test`` on ``spec.primary_window``, one test per catalyst x firm (or per
    catalyst x listing for ``primary_test = "placebo"``); Holm (family-wise) and
    Benjamini-Hochberg adjust over this family only. Everything else the study prints is
    exploratory and uncorrected.

Firm-level test (``joint_placebo``)
    The mean over the firm's listings of the closure-adjusted t statistics
    (:mod:`.models`), against the same mean at every *matched* placebo instant (a draw is
    an instant just after some session close; each listing's placebo day 0 is its first
    session closing after it, the schedule's rule), enumerated over the distinct eligible
    instants: ``p = (1 + #{|t*| >= |t|}) / (1 + n)``, never below ``1 / (1 + n)``.

Confidence intervals of the CAR (95 %)
    ``placebo``: ``CAR - q * se`` with ``q`` the 2.5 % / 97.5 % quantiles of the placebo t
    (studentised placebo interval, no normality); ``t``: ``CAR -/+ t_{df, 0.975} se``
    (parametric). For the firm the CAR is the mean over listings; its placebo interval uses
    the matched placebo errors ``mean_s t*_s se_s`` and its parametric one the normal
    quantile with ``se = sqrt(se' R se) / n`` (``R`` the placebo t correlation).

Overlap and episodes
    A window that contains another catalyst's day 0 (on the same listing) is flagged in
    ``overlaps``: its CAR carries the neighbour's move. With ``spec.episodes`` catalysts
    whose primary windows overlap on some listing are merged into one episode, tested once
    on ``[first day 0 + start, last day 0 + end]`` of each listing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from backtests.event_study import inference
from backtests.event_study.listing import ListingRun, placebo_eligible
from backtests.event_study.models import event_paths, take_fit, window_stats
from backtests.event_study.spec import EventStudySpec, Window, window_label

PRIMARY_COLUMNS: tuple[str, ...] = (
    "catalyst_id", "members", "listings", "window", "test", "statistic", "car", "car_ci_lo_placebo",
    "car_ci_hi_placebo", "car_ci_lo_t", "car_ci_hi_t", "p", "p_floor", "n_placebo_sessions", "p_holm", "p_bh",
    "overlaps", "variance_scale", "problem",
)
CI_LEVEL = 0.95


def overlapping(runs: Mapping[str, ListingRun], symbol: str, cid: str, lo: int, hi: int,
                members: tuple[str, ...] = ()) -> list[str]:
    """Catalysts other than ``cid``/``members`` whose day 0 on ``symbol`` is in positions ``[lo, hi]``."""
    skip = {cid, *members}
    return [c for c, calc in runs[symbol].events.items()
            if c not in skip and not calc.problem and lo <= calc.pos <= hi]


def episodes(runs: Mapping[str, ListingRun], order: list[str], window: Window) -> list[tuple[str, ...]]:
    """Catalysts (in ``order``) grouped into episodes: linked when their ``window``s overlap
    on some listing (day 0s at most ``end - start`` sessions apart)."""
    parent = {c: c for c in order}

    def root(c: str) -> str:
        while parent[c] != c:
            c = parent[c]
        return c

    width = window[1] - window[0]
    for run in runs.values():
        live = sorted((calc.pos, c) for c, calc in run.events.items() if not calc.problem and c in parent)
        for (p1, c1), (p2, c2) in zip(live, live[1:]):
            if p2 - p1 <= width:
                a, b = root(c1), root(c2)
                if a != b:
                    parent[max(a, b, key=order.index)] = min(a, b, key=order.index)
    groups: dict[str, list[str]] = {}
    for c in order:
        groups.setdefault(root(c), []).append(c)
    return [tuple(g) for g in groups.values()]


@dataclass(frozen=True, kw_only=True)
class _Leg:
    """One listing's part of a primary test."""

    t: float
    car: float
    se: float
    df: float
    scale: float
    null_t: np.ndarray      # (N,) placebo t_adj of the listing at every day 0
    eligible: np.ndarray    # (N,) placebo day 0 allowed
    overlaps: list[str]


def _leg(run: ListingRun, members: tuple[str, ...], window: Window, spec: EventStudySpec,
         cache: dict) -> _Leg | str:
    """The test of ``members`` (an episode, or one catalyst) on one listing, or a problem."""
    calcs = [run.events[c] for c in members if c in run.events]
    if not calcs:
        return f"{run.symbol}: not scheduled"
    if run.problem or any(c.problem for c in calcs):
        return f"{run.symbol}: {run.problem or next(c.problem for c in calcs if c.problem)}"
    assert run.design is not None and run.fits is not None and run.placebo_fits is not None
    first = min(calcs, key=lambda c: c.pos)
    extra = max(c.pos for c in calcs) - first.pos
    win = (window[0], window[1] + extra)
    span = (min(spec.span[0], win[0]), max(spec.span[1], win[1]))
    d = run.design
    fit = take_fit(run.fits, np.array([first.fit_index]))
    ws = window_stats(event_paths(d.y, d.X, d.valid, np.array([first.pos]), span, fit, run.scale), fit, span, win)
    if not ws.complete[0]:
        return f"{run.symbol}: window {window_label(win)} from {first.event.catalyst_id}'s day 0 is incomplete"
    if (span, win) not in cache:
        if win in run.placebo_t and span == spec.span:
            cache[(span, win)] = (run.placebo_t[win], run.eligible)
        else:
            every = np.arange(len(d.y))
            ppaths = event_paths(d.y, d.X, d.valid, every, span, run.placebo_fits, run.scale)
            cache[(span, win)] = (window_stats(ppaths, run.placebo_fits, span, win).t_adj,
                                  placebo_eligible(run, ppaths, run.placebo_fits, span))
    null_t, eligible = cache[(span, win)]
    return _Leg(t=float(ws.t_adj[0]), car=float(ws.car[0]), se=float(ws.se_adj[0]),
                df=float(run.fits.df[first.fit_index]), scale=float(ws.scale[0]), null_t=null_t, eligible=eligible,
                overlaps=overlapping({run.symbol: run}, run.symbol, first.event.catalyst_id,
                                     first.pos + win[0], first.pos + win[1], members))


def matched_instants(runs: Mapping[str, ListingRun], members: list[str]) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Placebo news instants (just after every session close of the listings ``members``)
    and each listing's day 0 for them: the first session closing strictly after the
    instant — the schedule's reaction-session rule."""
    if not members:
        return np.empty(0, dtype=np.int64), {}
    closes = {s: runs[s].design.listing.closes_ns for s in members}  # type: ignore[union-attr]
    instants = np.unique(np.concatenate(list(closes.values())))
    taus: dict[str, np.ndarray] = {}
    keep = np.ones(len(instants), dtype=bool)
    for s, listing_closes in closes.items():
        tau = np.searchsorted(listing_closes, instants, side="right")
        keep &= tau < len(listing_closes)
        taus[s] = tau
    return instants[keep], {s: tau[keep] for s, tau in taus.items()}


def distinct_matched(runs: Mapping[str, ListingRun], symbols: list[str],
                     eligible: Mapping[str, np.ndarray], cache: dict | None = None) -> dict[str, np.ndarray]:
    """Each listing's placebo day 0 at every *distinct* eligible matched instant (instants
    mapping to the same tuple of day 0s are one placebo, counted once). ``cache`` keeps the
    matched instants of a set of listings between calls."""
    key = tuple(symbols)
    if cache is not None and key in cache:
        taus = cache[key]
    else:
        taus = matched_instants(runs, symbols)[1]
        if cache is not None:
            cache[key] = taus
    if not taus:
        return {s: np.empty(0, dtype=np.int64) for s in symbols}
    ok = np.ones(len(taus[symbols[0]]), dtype=bool)
    code = np.zeros(len(ok), dtype=np.int64)
    for s in symbols:
        ok &= eligible[s][taus[s]]
        code = code * (len(eligible[s]) + 1) + taus[s]
    _, first = np.unique(code[ok], return_index=True)
    return {s: taus[s][ok][first] for s in symbols}


def _firm_row(legs: dict[str, _Leg], runs: Mapping[str, ListingRun], spec: EventStudySpec, cache: dict) -> dict:
    """Statistic, p-value, CIs of one catalyst x firm from its listings' legs."""
    symbols = list(legs)
    taus = distinct_matched(runs, symbols, {s: legs[s].eligible for s in symbols}, cache)
    n = len(taus[symbols[0]])
    t = np.array([legs[s].t for s in symbols])
    se = np.array([legs[s].se for s in symbols])
    car = float(np.mean([legs[s].car for s in symbols]))
    row = {"statistic": float(t.mean()), "car": car, "n_placebo_sessions": n, "p_floor": 1.0 / (1 + n),
           "variance_scale": max(legs[s].scale for s in symbols), "problem": "",
           "overlaps": ",".join(sorted({o for s in symbols for o in legs[s].overlaps})),
           **dict.fromkeys(("p", "car_ci_lo_placebo", "car_ci_hi_placebo", "car_ci_lo_t", "car_ci_hi_t"), np.nan)}
    if n < spec.min_placebo_sessions:
        row["problem"] = (f"only {n} distinct eligible placebo session(s) (< min_placebo_sessions = "
                          f"{spec.min_placebo_sessions}); no placebo p-value")
        return row
    null = np.column_stack([legs[s].null_t[taus[s]] for s in symbols])
    row["p"] = inference.placebo_pvalue(float(t.mean()), null.mean(axis=1))
    err = (null * se).mean(axis=1)
    q_lo, q_hi = np.quantile(err, [(1 - CI_LEVEL) / 2, (1 + CI_LEVEL) / 2])
    row["car_ci_lo_placebo"], row["car_ci_hi_placebo"] = car - q_hi, car - q_lo
    if len(symbols) == 1:
        half = stats.t.ppf((1 + CI_LEVEL) / 2, max(legs[symbols[0]].df, 1)) * se[0]
    else:
        rho = np.corrcoef(null, rowvar=False)
        half = stats.norm.ppf((1 + CI_LEVEL) / 2) * float(np.sqrt(se @ rho @ se)) / len(symbols)
    row["car_ci_lo_t"], row["car_ci_hi_t"] = car - half, car + half
    return row


def primary_table(runs: Mapping[str, ListingRun], order: list[str], spec: EventStudySpec,
                  firms: list[Mapping[str, ListingRun]] | None = None) -> pd.DataFrame:
    """The primary family (:data:`PRIMARY_COLUMNS`), Holm and BH over its rows only.

    ``firms`` are the sets of listings of one issuer (two or more, from the registry) that a
    ``joint_placebo`` test may span; any other listing is tested alone. ``None``: all of
    ``runs`` are one firm.
    """
    window = spec.primary_window
    groups_of = [list(f) for f in firms] if firms is not None else [list(runs)]
    alone = [s for s in runs if not any(s in g for g in groups_of)]
    groups = episodes(runs, order, window) if spec.episodes else [(c,) for c in order]
    cache: dict[str, dict] = {s: {} for s in runs}
    matched: dict = {}
    out: list[dict] = []
    for members in groups:
        on = [s for s, r in runs.items() if any(c in r.events for c in members)]
        if spec.primary_test == "joint_placebo":
            units = [[s for s in g if s in on] for g in groups_of] + [[s] for s in alone if s in on]
        else:
            units = [[s] for s in on]
        for symbols in (u for u in units if u):
            legs = {s: _leg(runs[s], members, window, spec, cache[s]) for s in symbols}
            base = {"catalyst_id": "+".join(members), "members": ",".join(members), "listings": ",".join(symbols),
                    "window": window_label(window),
                    "test": "joint_placebo" if len(symbols) > 1 else "placebo"}
            failed = [v for v in legs.values() if isinstance(v, str)]
            if failed:
                out.append({**base, "problem": "needs every listing's window; " + " | ".join(failed)})
                continue
            out.append({**base, **_firm_row(legs, runs, spec, matched)})  # type: ignore[arg-type]
    table = pd.DataFrame(out, columns=list(PRIMARY_COLUMNS))
    if len(table):
        p = table["p"].to_numpy(float)
        table["p_holm"] = inference.adjust_pvalues(p, "holm")
        table["p_bh"] = inference.adjust_pvalues(p, "fdr_bh")
        table["problem"] = table["problem"].fillna("")
    return table
