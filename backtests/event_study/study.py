"""The event study: per catalyst x listing x window abnormal returns, CARs and tests.

:func:`run_event_study` takes prices, benchmarks and the schedule as data (no I/O) and
returns an :class:`EventStudyResult`. Day 0 is each schedule row's ``reaction_session``
on that listing's own calendar; windows, estimation design and models are set by
:class:`~backtests.event_study.spec.EventStudySpec`; returns and benchmark matching are
described in :mod:`backtests.event_study.returns`, the mathematics in
:mod:`backtests.event_study.models` and the tests in :mod:`backtests.event_study.inference`.

Bad input is reported per row (``problem`` column) and the rest of the study goes on: a
catalyst outside the data, an estimation window too short or mostly masked, a benchmark
or listing gap inside a window, a listing without prices or benchmark.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Optional

import numpy as np
import pandas as pd
from scipy import stats

from backtests.event_study import inference
from backtests.event_study.diagnostics import diagnostics
from backtests.event_study.joint import JOINT_COLUMNS, joint_table, pooled_sign_tests
from backtests.event_study.leadlag import LEAD_LAG_COLUMNS, lead_lag_table
from backtests.event_study.listing import PARAM_COLUMNS, ListingRun, ScheduledEvent, analyse_listing, fit_params, \
    window_problem
from backtests.event_study.models import estimation_residuals
from backtests.event_study.primary import PRIMARY_COLUMNS, overlapping, primary_table
from backtests.event_study.returns import session_returns
from backtests.event_study.spec import BAND_QUANTILES, EventStudySpec, window_label
from data_loaders.errors import UserError
from data_loaders.registry import active_registry
from data_loaders.schema import DailyBars
from events.schedule import EventSchedule

if TYPE_CHECKING:
    from backtests.event_study.cross_section_study import CrossSectionResult

TABLE_COLUMNS: tuple[str, ...] = (
    "catalyst_id", "listing", "window", "window_start", "window_end", "day0", "day0_close_utc",
    "model", "benchmark", "n_window", "ar_day0", "car", "car_se", "t_stat", "df",
    "p_t", "p_placebo", "p_sq", "p_rank", "p_t_holm", "p_t_bh", "p_placebo_holm", "p_placebo_bh",
    "n_placebo_draws", "n_placebo_sessions", "n_est", "n_est_masked", "n_est_missing", "n_est_outside",
    "est_start", "est_end", "alpha", "beta", "beta_lag", "beta_0", "beta_lead", "sigma",
    "synthetic", "problem", "notes",
    # added by the inference review (issue 13); older columns keep their names and meaning
    # except p_sq (now out-of-sample) and the *_holm/*_bh columns (primary family only)
    "t_adj", "variance_scale", "p_placebo_floor", "family", "overlaps",
    "car_ci_lo_placebo", "car_ci_hi_placebo", "car_ci_lo_t", "car_ci_hi_t",
    "beta_post", "car_post_beta", "n_post", "ewma_sigma", "ar_day0_ewma_z", "p_ewma_placebo",
)
#: What each p-value column is (also in the JSON meta).
P_LABELS: dict[str, str] = {
    "p_placebo": "placebo: exact permutation over distinct eligible sessions of t_adj; exploratory unless primary",
    "p_sq": "sample quantile of out-of-sample placebo CARs (each from a model estimated without it); exploratory",
    "p_rank": "rank test of window ARs vs in-sample residuals (only with rank_test = true); not size-checked",
    "p_t": "parametric (Student t, normal iid errors assumed); exploratory, never the headline",
    "p_ewma_placebo": "day-0 AR / EWMA sigma against the same at every placebo session; exploratory",
    "p_stouffer_corr": "parametric (correlated Stouffer, normal); exploratory, never the headline",
    "p_joint_placebo": "firm-level matched placebo (exact over distinct instants); primary on the primary window",
}
_BAND_NAMES = tuple(f"band_q{round(q * 1000):03d}" for q in BAND_QUANTILES)
PATH_COLUMNS: tuple[str, ...] = ("catalyst_id", "listing", "rel_day", "session", "ar", "car", *_BAND_NAMES)


class EventStudyInputError(UserError, ValueError):
    """Inputs the study cannot start from (a schedule frame without the needed columns ...)."""


@dataclass(frozen=True, kw_only=True)
class EventStudyResult:
    """Everything an event study produced.

    Attributes
    ----------
    table
        One row per catalyst x listing x window, columns :data:`TABLE_COLUMNS`. Returns,
        ARs, CARs, ``car_se`` and ``sigma`` are fractions (0.01 = 1 %); ``day0`` and
        ``est_*`` are session labels; a failed row has NaN statistics and a ``problem``.
    primary
        The pre-specified primary family (:data:`.primary.PRIMARY_COLUMNS`): one test per
        catalyst x firm on ``spec.primary_window``, with Holm and BH over it — the headline.
    joint
        One row per catalyst x window for catalysts on two or more listings
        (:data:`.joint.JOINT_COLUMNS`): the firm-level result (see :mod:`.inference`).
    pooled
        Generalized sign test across catalysts per listing x window (:data:`.joint.POOLED_COLUMNS`).
    lead_lag
        One row per catalyst x lagging listing (:mod:`.leadlag`).
    paths
        AR and CAR (cumulated from the first day of ``spec.span``) for every day of the
        span per catalyst x listing, with placebo quantile bands of the CAR path scaled to
        that event's residual sigma (:data:`PATH_COLUMNS`).
    problems
        Every problem and note, one line each (rows carry their own as well).
    spec, seed
        The settings used.
    meta
        Sources, benchmarks, synthetic flag, counts (for the JSON output).
    cross_section
        Firms sharing an event day tested together (``cross_section.csv``), when the
        study computed it (see :mod:`.cross_section_study`).
    """

    table: pd.DataFrame
    joint: pd.DataFrame
    pooled: pd.DataFrame
    lead_lag: pd.DataFrame
    paths: pd.DataFrame
    problems: tuple[str, ...]
    spec: EventStudySpec
    seed: int
    meta: dict = field(default_factory=dict)
    cross_section: Optional["CrossSectionResult"] = None
    primary: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(columns=list(PRIMARY_COLUMNS)))

    @property
    def synthetic(self) -> bool:
        return bool(self.meta.get("synthetic", False))


def schedule_events(schedule: EventSchedule | pd.DataFrame) -> tuple[list[ScheduledEvent], list[str]]:
    """Day-0 rows from an :class:`EventSchedule` or a frame with ``catalyst_id, listing, reaction_session``.

    Raises
    ------
    EventStudyInputError
        A frame without those columns or with a day 0 that is not a date.
    """
    if isinstance(schedule, EventSchedule):
        rows = [ScheduledEvent(catalyst_id=r.catalyst_id, listing=r.listing,
                               day0=pd.Timestamp(r.reaction_session).normalize()) for r in schedule.rows]
        return rows, list(schedule.problems)
    need = ("catalyst_id", "listing", "reaction_session")
    missing = [c for c in need if c not in schedule.columns]
    if missing:
        raise EventStudyInputError(
            f"schedule frame lacks column(s) {missing}; found {list(schedule.columns)}. Pass "
            f"events.schedule.build_schedule(...) or a frame with {', '.join(need)}")
    day0 = pd.to_datetime(schedule["reaction_session"], errors="coerce")
    bad = np.flatnonzero(day0.isna().to_numpy())
    if len(bad):
        i = int(bad[0])
        raise EventStudyInputError(
            f"schedule row {i}: reaction_session {schedule['reaction_session'].iloc[i]!r} is not a date; "
            f"write it as YYYY-MM-DD")
    if getattr(day0.dt, "tz", None) is not None:
        day0 = day0.dt.tz_localize(None)
    rows = [ScheduledEvent(catalyst_id=str(c), listing=str(s), day0=pd.Timestamp(d).normalize())
            for c, s, d in zip(schedule["catalyst_id"], schedule["listing"], day0)]
    return rows, []


def _table_rows(run: ListingRun, spec: EventStudySpec, synthetic: bool,
                order: list[str]) -> tuple[list[dict], list[dict], list[str]]:
    """Table rows, path rows and problem lines of one listing, catalysts in ``order``."""
    rows: list[dict] = []
    path_rows: list[dict] = []
    problem_lines: list[str] = []
    span = spec.span
    rel_days = np.arange(span[0], span[1] + 1)
    design = run.design
    model = spec.model
    bench_desc = design.benchmark_desc if design is not None else ""
    eligible_idx = np.flatnonzero(run.eligible) if run.eligible is not None else np.empty(0, int)
    # the placebo pool is the listing's, the same for every catalyst: its quantiles once
    null_q, null_bands = {}, np.empty(0)
    if len(eligible_idx) >= spec.min_placebo_sessions and run.placebo_std_path is not None:
        null_q = {w: np.quantile(run.placebo_t[w][eligible_idx], [0.025, 0.975]) for w in spec.windows}
        null_bands = np.quantile(run.placebo_std_path[eligible_idx], BAND_QUANTILES, axis=0)
    for cid in order:
        calc = run.events.get(cid)
        if calc is None:
            continue
        problem = run.problem or calc.problem
        notes = list(run.notes) + calc.notes
        if calc.problem and not run.problem:
            problem_lines.append(f"{cid} / {run.symbol}: {calc.problem}")
        problem_lines += [f"{cid} / {run.symbol}: {n}" for n in calc.notes]
        i = calc.fit_index
        base = {
            "catalyst_id": cid, "listing": run.symbol, "day0": calc.event.day0.strftime("%Y-%m-%d"),
            "day0_close_utc": "", "model": model, "benchmark": bench_desc, "synthetic": synthetic,
            **dict.fromkeys(("n_est", "n_est_masked", "n_est_missing", "n_est_outside", "df"), 0),
            "est_start": "", "est_end": "", **dict.fromkeys(PARAM_COLUMNS, np.nan), "sigma": np.nan,
            "n_placebo_draws": 0, "n_placebo_sessions": int(len(eligible_idx)),
            "p_placebo_floor": 1.0 / (1 + len(eligible_idx)), "family": "exploratory",
            **dict.fromkeys(("beta_post", "ewma_sigma", "ar_day0_ewma_z", "p_ewma_placebo"), np.nan), "n_post": 0,
        }
        base.update(calc.counts)           # also on failed rows: says why the window was short
        draws = np.empty(0, dtype=np.int64)
        if not problem:
            assert run.fits is not None and design is not None and run.ar is not None
            fits = run.fits
            base.update(fit_params(run, i))
            first, last = int(fits.first[i]), int(fits.last[i])
            base.update({
                "day0_close_utc": pd.Timestamp(int(design.listing.closes_ns[calc.pos]), tz="UTC").isoformat(),
                "n_est": int(fits.n[i]), "df": int(fits.df[i]), "sigma": float(np.sqrt(fits.sigma2[i])),
                "est_start": f"{run.sessions[first]:%Y-%m-%d}", "est_end": f"{run.sessions[last]:%Y-%m-%d}",
            })
            if len(eligible_idx) >= spec.min_placebo_sessions:
                draws = eligible_idx                 # every distinct eligible session, once
                base["n_placebo_draws"] = int(len(draws))
            else:
                notes.append(f"only {len(eligible_idx)} eligible placebo session(s) (< min_placebo_sessions = "
                             f"{spec.min_placebo_sessions}); no placebo p-value")
            resid = estimation_residuals(design.y, design.X, fits, i)
            base.update(diagnostics(run, spec, i, draws, notes))
            t_crit = float(stats.t.ppf(0.975, max(int(fits.df[i]), 1)))
        for w in spec.windows:
            row = dict(base, window=window_label(w), window_start=w[0], window_end=w[1],
                       n_window=w[1] - w[0] + 1, problem=problem, notes="; ".join(notes),
                       overlaps="" if calc.pos < 0 else ",".join(overlapping({run.symbol: run}, run.symbol, cid,
                                                                            calc.pos + w[0], calc.pos + w[1])))
            stat_cols = ("ar_day0", "car", "car_se", "t_stat", "p_t", "p_placebo", "p_sq", "p_rank", "t_adj",
                         "variance_scale", "car_ci_lo_placebo", "car_ci_hi_placebo", "car_ci_lo_t", "car_ci_hi_t",
                         "car_post_beta")
            row.update(dict.fromkeys(stat_cols, np.nan))
            if not problem:
                ws = run.stats[w]
                lo = w[0] - span[0]
                row["ar_day0"] = float(run.ar[i, -span[0]])
                if not ws.complete[i]:
                    row["problem"] = window_problem(run, calc, w)
                    problem_lines.append(f"{cid} / {run.symbol} {row['window']}: {row['problem']}")
                else:
                    t = float(ws.t[i])
                    t_adj, se_adj, car = float(ws.t_adj[i]), float(ws.se_adj[i]), float(ws.car[i])
                    half = t_crit * se_adj
                    row.update({
                        "car": car, "car_se": float(ws.se[i]), "t_stat": t, "t_adj": t_adj,
                        "variance_scale": float(ws.scale[i]), "car_ci_lo_t": car - half, "car_ci_hi_t": car + half,
                        "p_t": float(2.0 * stats.t.sf(abs(t), max(int(fits.df[i]), 1))),
                        "p_rank": inference.rank_pvalue(run.ar[i, lo:lo + w[1] - w[0] + 1], resid)
                        if spec.rank_test else np.nan,
                        "car_post_beta": float(run.post_stats[w].car[i]),
                    })
                    if len(draws):
                        q_lo, q_hi = null_q[w]
                        row.update({
                            "p_placebo": inference.placebo_pvalue(t_adj, run.placebo_t[w][draws]),
                            "p_sq": inference.quantile_pvalue(car / np.sqrt(ws.scale[i]), run.placebo_car[w][draws]),
                            "car_ci_lo_placebo": car - q_hi * se_adj, "car_ci_hi_placebo": car - q_lo * se_adj,
                        })
            rows.append(row)
        if not problem:
            ar = run.ar[i]
            car = np.cumsum(ar)
            bands = np.full((len(BAND_QUANTILES), len(rel_days)), np.nan)
            if len(draws):
                bands = null_bands * base["sigma"]
            for j, rel in enumerate(rel_days):
                p = calc.pos + rel
                path_rows.append({
                    "catalyst_id": cid, "listing": run.symbol, "rel_day": int(rel),
                    "session": f"{run.sessions[p]:%Y-%m-%d}" if 0 <= p < len(run.sessions) else "",
                    "ar": float(ar[j]), "car": float(car[j]),
                    **{name: float(bands[q, j]) for q, name in enumerate(_BAND_NAMES)},
                })
    return rows, path_rows, problem_lines


def _issuer_groups(runs: Mapping[str, ListingRun]) -> list[dict[str, ListingRun]]:
    """Listings of one issuer (two or more): the only sets a "one firm" result may span."""
    groups = active_registry().group_by_issuer(runs)
    return [{s: runs[s] for s in g} for g in groups.values() if len(g) >= 2]


def _pair_groups(runs: Mapping[str, ListingRun]) -> list[dict[str, ListingRun]]:
    """Declared cross-listed pairs among the studied listings: lead-lag is read within a pair."""
    return [{s: runs[s] for s in p.symbols} for p in active_registry().pairs if all(s in runs for s in p.symbols)]


def _concat(frames: list[pd.DataFrame], columns: tuple[str, ...]) -> pd.DataFrame:
    frames = [f for f in frames if len(f)]
    return pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=list(columns))


def run_event_study(prices: Mapping[str, DailyBars], benchmarks: Mapping[str, DailyBars],
                    schedule: EventSchedule | pd.DataFrame, spec: EventStudySpec | None = None, *,
                    seed: int = 0) -> EventStudyResult:
    """Abnormal returns, CARs and tests of every scheduled catalyst on every listing.

    Parameters
    ----------
    prices
        Listing symbol -> its daily bars (``adjustment="adjusted"``; raw bars are used but
        flagged in every row's notes). Listings of schedule rows not in ``prices`` are
        reported per row.
    benchmarks
        Listing symbol -> the benchmark bars for that listing (e.g. ``{"9988.HK": hstech,
        "BABA": kweb}``). Not needed for ``model="constant_mean"``.
    schedule
        :class:`~events.schedule.EventSchedule` or a frame with ``catalyst_id``, ``listing``
        and ``reaction_session`` (day 0).
    spec
        Windows, estimation design, model and inference sizes (defaults if omitted).
    seed
        Seeds the placebo draws; same inputs and seed give identical results.

    Returns
    -------
    EventStudyResult
        See its attributes. Nothing is read or written here.

    Raises
    ------
    EventStudyInputError
        Only for a schedule frame that cannot be read; every other problem is reported.
    """
    spec = spec or EventStudySpec()
    events, problems = schedule_events(schedule)
    by_listing: dict[str, list[ScheduledEvent]] = {}
    for e in events:
        by_listing.setdefault(e.listing, []).append(e)
    first_day0: dict[str, pd.Timestamp] = {}
    for e in events:
        first_day0[e.catalyst_id] = min(first_day0.get(e.catalyst_id, e.day0), e.day0)
    order = sorted(first_day0, key=lambda c: (first_day0[c], c))
    symbols = [s for s in prices if s in by_listing] + sorted(s for s in by_listing if s not in prices)
    synthetic = any(b.synthetic for b in (*prices.values(), *benchmarks.values()))

    closes = {s: session_returns(prices[s]).closes_ns for s in symbols if s in prices and len(prices[s].frame)}
    firm_closes: dict[str, np.ndarray] = {}          # the clocks of each listing's issuer (closure scale)
    for group in active_registry().group_by_issuer(symbols).values():
        mine = [closes[g] for g in group if g in closes]
        for g in group:
            firm_closes[g] = np.concatenate(mine) if mine else np.empty(0, dtype=np.int64)
    runs = {s: analyse_listing(s, prices.get(s), benchmarks.get(s), by_listing[s], spec, firm_closes.get(s))
            for s in symbols}
    rows: list[dict] = []
    path_rows: list[dict] = []
    for s in symbols:
        run = runs[s]
        if run.problem:
            problems.append(f"{s}: {run.problem}")
        problems += [f"{s}: {n}" for n in run.notes]
        r, p, lines = _table_rows(run, spec, synthetic, order)
        rows += r
        path_rows += p
        problems += lines
    rank = {c: i for i, c in enumerate(order)}
    rows.sort(key=lambda r: rank[r["catalyst_id"]])        # stable: listings, then windows, kept
    by_key = {(r["catalyst_id"], r["listing"], r["window"]): r for r in rows}
    firms = _issuer_groups(runs)
    primary = primary_table(runs, order, spec, firms)
    joint = _concat([joint_table(group, by_key, spec, order) for group in firms], JOINT_COLUMNS)
    mark_primary(primary, rows, joint, spec)
    table = pd.DataFrame(rows, columns=list(TABLE_COLUMNS))
    paths = pd.DataFrame(path_rows, columns=list(PATH_COLUMNS))
    lead_lag = _concat([lead_lag_table(group, prices, order, spec) for group in _pair_groups(runs)],
                       LEAD_LAG_COLUMNS)
    pooled = pooled_sign_tests(runs, by_key, spec, order)

    meta = {
        "synthetic": synthetic,
        "sources": {s: b.source for s, b in prices.items()},
        "benchmarks": {s: (runs[s].design.benchmark_desc if s in runs and runs[s].design else
                           (benchmarks[s].symbol if s in benchmarks else None)) for s in prices},
        "benchmark_sources": {s: b.source for s, b in benchmarks.items()},
        "n_rows": int(len(table)), "n_tests": int(table["p_t"].notna().sum()) if len(table) else 0,
        "primary": {"window": window_label(spec.primary_window), "test": spec.primary_test,
                    "episodes": spec.episodes, "n_tests": int(primary["p"].notna().sum()) if len(primary) else 0,
                    "correction": "Holm (family-wise) and Benjamini-Hochberg over the primary family only"},
        "p_labels": P_LABELS,
        "spec": {k: (list(map(list, v)) if k == "windows" else v) for k, v in asdict(spec).items()},
        "seed": seed,
    }
    return EventStudyResult(table=table, joint=joint, pooled=pooled, lead_lag=lead_lag, paths=paths,
                            problems=tuple(dict.fromkeys(problems)), spec=spec, seed=seed, meta=meta, primary=primary)


def mark_primary(primary: pd.DataFrame, rows: list[dict], joint: pd.DataFrame, spec: EventStudySpec) -> None:
    """Label the table and joint rows that are the primary family and copy its Holm/BH
    p-values onto them (nothing else is adjusted; with episodes no row is a family member)."""
    for r in rows:
        r.update(dict.fromkeys(("p_t_holm", "p_t_bh", "p_placebo_holm", "p_placebo_bh"), np.nan))
    if spec.episodes or not len(primary):
        return
    label = window_label(spec.primary_window)
    single = {(f.catalyst_id, f.listings): (f.p_holm, f.p_bh) for f in primary.itertuples(index=False)
              if f.test == "placebo"}
    for r in rows:
        hit = single.get((r["catalyst_id"], r["listing"])) if r["window"] == label else None
        if hit is not None:
            r.update(family="primary", p_placebo_holm=hit[0], p_placebo_bh=hit[1])
    firm = primary[primary["test"] == "joint_placebo"].set_index("catalyst_id")
    if len(joint) and len(firm):
        hit = (joint["window"] == label) & joint["catalyst_id"].isin(firm.index)
        ids = joint.loc[hit, "catalyst_id"]
        joint.loc[hit, "family"] = "primary"
        joint.loc[hit, "p_joint_placebo_holm"] = firm.loc[ids, "p_holm"].to_numpy()
        joint.loc[hit, "p_joint_placebo_bh"] = firm.loc[ids, "p_bh"].to_numpy()
