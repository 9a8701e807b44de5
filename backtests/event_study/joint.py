"""Results across listings (the firm) and across catalysts (pooled sign test).

See :mod:`backtests.event_study.inference` for why the two listings are combined through
matched placebo instants rather than as independent evidence. Every window is here
(exploratory, uncorrected); the pre-specified primary family, with Holm and BH over it, is
:mod:`backtests.event_study.primary`. The joint placebo p-value enumerates the distinct
eligible matched instants (``n_placebo_instants``); ``p_joint_placebo_holm``/``_bh`` are
filled only on the rows that are the primary family.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from backtests.event_study import inference
from backtests.event_study.listing import ListingRun
from backtests.event_study.models import estimation_residuals
from backtests.event_study.primary import distinct_matched
from backtests.event_study.spec import EventStudySpec, window_label

JOINT_COLUMNS: tuple[str, ...] = (
    "catalyst_id", "listings", "window", "t_mean", "car_mean", "same_sign", "p_joint_placebo",
    "z_stouffer_corr", "p_stouffer_corr", "rho", "n_placebo_draws", "n_placebo_instants",
    "p_joint_placebo_holm", "p_joint_placebo_bh", "problem", "p_joint_placebo_floor", "family", "overlaps",
)
POOLED_COLUMNS: tuple[str, ...] = (
    "listing", "window", "n_catalysts", "n_positive", "p_positive_est", "p_sign", "note",
)


def joint_table(runs: dict[str, ListingRun], rows: Mapping[tuple[str, str, str], dict], spec: EventStudySpec,
                order: list[str]) -> pd.DataFrame:
    """One row per catalyst on two or more listings x window (:data:`JOINT_COLUMNS`).

    ``rows`` maps ``(catalyst_id, listing, window label)`` to that listing's table row; the
    statistic is the mean of the listings' closure-adjusted ``t_adj``.
    """
    out: list[dict] = []
    matched: dict = {}
    for cid in order:
        members = [s for s, r in runs.items() if cid in r.events]
        if len(members) < 2:
            continue
        usable = [s for s in members if runs[s].design is not None and runs[s].eligible is not None]
        taus = distinct_matched(runs, usable, {s: runs[s].eligible for s in usable}, matched) \
            if len(usable) == len(members) \
            else {s: np.empty(0, dtype=np.int64) for s in members}
        n = len(taus[members[0]])
        enough = n >= spec.min_placebo_sessions
        for w in spec.windows:
            label = window_label(w)
            row = {"catalyst_id": cid, "listings": ",".join(members), "window": label,
                   **dict.fromkeys(("t_mean", "car_mean", "p_joint_placebo", "z_stouffer_corr",
                                    "p_stouffer_corr", "rho", "p_joint_placebo_holm", "p_joint_placebo_bh"), np.nan),
                   "same_sign": False, "n_placebo_draws": 0, "n_placebo_instants": int(n),
                   "p_joint_placebo_floor": 1.0 / (1 + n), "family": "exploratory", "problem": "",
                   "overlaps": ",".join(sorted({o for s in members for o in rows[(cid, s, label)]["overlaps"].split(",")
                                                if o}))}
            mine = [rows[(cid, s, label)] for s in members]
            failed = [f"{r['listing']}: {r['problem']}" for r in mine if r["problem"]]
            if failed:
                row["problem"] = "needs every listing's row; " + " | ".join(failed)
                out.append(row)
                continue
            t = np.array([r["t_adj"] for r in mine], dtype=float)
            row.update({"t_mean": float(t.mean()), "car_mean": float(np.mean([r["car"] for r in mine])),
                        "same_sign": bool(np.all(np.sign(t) == np.sign(t[0])))})
            if enough:
                null = np.column_stack([runs[s].placebo_t[w][taus[s]] for s in members])
                row["p_joint_placebo"] = inference.placebo_pvalue(float(t.mean()), null.mean(axis=1))
                row["n_placebo_draws"] = n
                rho = np.corrcoef(null, rowvar=False)
                row["rho"] = float(np.mean(rho[np.triu_indices(len(members), 1)]))
                row["z_stouffer_corr"], row["p_stouffer_corr"] = inference.correlated_stouffer(t, rho)
            else:
                row["problem"] = (f"only {n} distinct matched placebo instant(s) (< min_placebo_sessions = "
                                  f"{spec.min_placebo_sessions}); no joint p-value")
            out.append(row)
    return pd.DataFrame(out, columns=list(JOINT_COLUMNS))


def pooled_sign_tests(runs: dict[str, ListingRun], rows: Mapping[tuple[str, str, str], dict],
                      spec: EventStudySpec, order: list[str]) -> pd.DataFrame:
    """Generalized sign test per listing x window over the catalysts with a CAR
    (:data:`POOLED_COLUMNS`); not reported when their windows overlap."""
    out: list[dict] = []
    for symbol, run in runs.items():
        if run.design is None or run.fits is None:
            continue
        resid: dict[str, np.ndarray] = {}
        for w in spec.windows:
            label = window_label(w)
            mine = [(cid, rows[(cid, symbol, label)]) for cid in order if (cid, symbol, label) in rows]
            mine = [(cid, r) for cid, r in mine if np.isfinite(r["car"])]
            cars = np.array([r["car"] for _, r in mine], dtype=float)
            length = w[1] - w[0] + 1
            positives, total = 0, 0
            for cid, _ in mine:
                if cid not in resid:
                    resid[cid] = estimation_residuals(run.design.y, run.design.X, run.fits, run.events[cid].fit_index)
                sums = inference.rolling_sums(resid[cid], length)
                positives += int(np.count_nonzero(sums > 0))
                total += len(sums)
            p_hat = positives / total if total else np.nan
            positions = sorted(run.events[cid].pos for cid, _ in mine)
            overlap = [(a, b) for a, b in zip(positions, positions[1:]) if b - a <= w[1] - w[0]]
            note, p = "", np.nan
            if not mine:
                note = "no catalyst with a CAR"
            elif overlap:
                a, b = overlap[0]
                note = (f"windows overlap (e.g. day 0 {run.sessions[a]:%Y-%m-%d} and {run.sessions[b]:%Y-%m-%d}): "
                        f"catalysts are not independent trials, sign test not reported")
            else:
                p = inference.sign_test(cars, p_hat)
            out.append({"listing": symbol, "window": label, "n_catalysts": len(mine),
                        "n_positive": int(np.count_nonzero(cars > 0)), "p_positive_est": p_hat, "p_sign": p,
                        "note": note})
    return pd.DataFrame(out, columns=list(POOLED_COLUMNS))
