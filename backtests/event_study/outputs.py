"""Writing and printing an :class:`~backtests.event_study.study.EventStudyResult`.

``event_study.csv`` holds :attr:`EventStudyResult.table` (one row per catalyst x listing x
window); ``event_study.json`` holds everything (meta incl. spec, seed and what each p-value
is, the primary family, table, joint, pooled sign tests, lead-lag, AR/CAR paths with
placebo bands, problems). Writes are
atomic (temporary file + ``os.replace``) and byte-deterministic: same result, same bytes.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from backtests.event_study.spec import window_label
from backtests.event_study.study import EventStudyResult
from backtests.results import atomic_write_text

CSV_NAME = "event_study.csv"
JSON_NAME = "event_study.json"


def _plain(value: Any) -> Any:
    """JSON-safe scalar: NaN/inf -> None, numpy -> Python."""
    if isinstance(value, (np.bool_, bool)):
        return bool(value)
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (float, np.floating)):
        f = float(value)
        return f if math.isfinite(f) else None
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    return [{c: _plain(v) for c, v in zip(frame.columns, row)} for row in frame.itertuples(index=False)]


def result_to_json(result: EventStudyResult) -> str:
    """The whole result as JSON text (NaN written as null)."""
    doc = {
        "meta": _plain(result.meta),
        "primary": _records(result.primary),
        "table": _records(result.table),
        "joint": _records(result.joint),
        "pooled_sign_tests": _records(result.pooled),
        "lead_lag": _records(result.lead_lag),
        "paths": _records(result.paths),
        "problems": list(result.problems),
    }
    return json.dumps(doc, indent=1, allow_nan=False) + "\n"


def write_event_study(result: EventStudyResult, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``event_study.csv`` and ``event_study.json`` into ``out_dir`` (created if needed).

    Returns
    -------
    (csv_path, json_path)
    """
    out = Path(out_dir)
    csv_path, json_path = out / CSV_NAME, out / JSON_NAME
    atomic_write_text(csv_path, result.table.to_csv(index=False, lineterminator="\n"))
    atomic_write_text(json_path, result_to_json(result))
    return csv_path, json_path


def _pct(v: float) -> str:
    return "" if not np.isfinite(v) else f"{100 * v:+.2f}%"


def _p(v: float) -> str:
    return "" if not np.isfinite(v) else (f"{v:.4f}" if v >= 1e-4 else f"{v:.1e}")


def _ci(lo: float, hi: float) -> str:
    return "" if not (np.isfinite(lo) and np.isfinite(hi)) else f"[{100 * lo:+.1f},{100 * hi:+.1f}]"


def format_primary(result: EventStudyResult) -> list[str]:
    """The headline: the pre-specified primary family with Holm/BH, CIs and overlap flags."""
    f = result.primary
    spec = result.spec
    lines = [f"PRIMARY FAMILY (pre-specified): {spec.primary_test} on {window_label(spec.primary_window)}, "
             f"one test per catalyst x {'listing' if spec.primary_test == 'placebo' else 'firm'}"
             f"{', overlapping catalysts merged into episodes' if spec.episodes else ''}; Holm and BH over these "
             f"{int(f['p'].notna().sum()) if len(f) else 0} tests only",
             "stat: mean closure-adjusted t over listings; CAR (mean over listings) and 95 % CIs in %; p: exact "
             "placebo, never below floor = 1/(1+n sessions); overlaps: other catalysts' day 0 inside the window"]
    head = (f"{'catalyst':<26} {'listings':<13} {'stat':>6} {'CAR':>7} {'CI placebo':>13} {'CI t':>13} "
            f"{'p':>7} {'floor':>7} {'holm':>7} {'BH':>7}  overlaps")
    lines += [head, "-" * len(head)]
    for r in f.itertuples(index=False):
        name = r.catalyst_id if len(r.catalyst_id) <= 26 else r.catalyst_id[:23] + "..."
        if r.problem and not np.isfinite(r.p):
            lines.append(f"{name:<26} {r.listings:<13} -- {r.problem}")
            continue
        lines.append(
            f"{name:<26} {r.listings:<13} {r.statistic:>+6.2f} {_pct(r.car):>7} "
            f"{_ci(r.car_ci_lo_placebo, r.car_ci_hi_placebo):>13} {_ci(r.car_ci_lo_t, r.car_ci_hi_t):>13} "
            f"{_p(r.p):>7} {_p(r.p_floor):>7} {_p(r.p_holm):>7} {_p(r.p_bh):>7}  {r.overlaps or '-'}"
            + (f"  [closure-scaled x{r.variance_scale:.2g}]" if r.variance_scale > 1 else ""))
    if spec.episodes and len(f):
        lines += [f"  episode {r.catalyst_id}: {r.members}" for r in f.itertuples(index=False) if "," in r.members]
    return lines


def format_table(result: EventStudyResult) -> str:
    """The primary family (headline), then the exploratory table, joint results and problems."""
    t = result.table
    label = " [SYNTHETIC DATA]" if result.synthetic else ""
    lines = [f"event study: {len(t)} rows, model {result.spec.model}, seed {result.seed}{label}", ""]
    lines += format_primary(result)
    head = f"{'catalyst':<20} {'listing':<8} {'window':<8} {'day0':<10} {'CAR':>8} {'t_adj':>7} " \
           f"{'p_t':>7} {'p_plac':>7} {'p_sq':>7} {'floor':>7} {'n_est':>5}  overlaps"
    lines += ["", "EXPLORATORY (every window, uncorrected): CAR in %; t_adj: closure-adjusted t; p_t: PARAMETRIC "
              "Student t; p_plac: exact placebo; p_sq: quantile of out-of-sample placebo CARs",
              head, "-" * len(head)]
    for r in t.itertuples(index=False):
        if r.problem:
            lines.append(f"{r.catalyst_id:<20} {r.listing:<8} {r.window:<8} {r.day0:<10} -- {r.problem}")
            continue
        lines.append(
            f"{r.catalyst_id:<20} {r.listing:<8} {r.window:<8} {r.day0:<10} {_pct(r.car):>8} {r.t_adj:>7.2f} "
            f"{_p(r.p_t):>7} {_p(r.p_placebo):>7} {_p(r.p_sq):>7} {_p(r.p_placebo_floor):>7} "
            f"{r.n_est:>5}  {r.overlaps or '-'}")
    if len(result.joint):
        lines += ["", "joint (both listings as one firm): every window, exploratory: mean t_adj, exact matched "
                  "placebo p, PARAMETRIC correlated Stouffer p"]
        for r in result.joint.itertuples(index=False):
            body = r.problem if r.problem else (
                f"t_mean {r.t_mean:+.2f}  p_placebo {_p(r.p_joint_placebo)}  p_stouffer {_p(r.p_stouffer_corr)}"
                f"  rho {r.rho:.2f}  floor {_p(r.p_joint_placebo_floor)}"
                + (f"  PRIMARY holm {_p(r.p_joint_placebo_holm)}" if r.family == "primary" else ""))
            lines.append(f"{r.catalyst_id:<20} {r.window:<8} {body}")
    if len(result.lead_lag):
        lines += ["", "lead-lag: leader, lagger, share of the leader's CAR the lagger still made at its first session"]
        for r in result.lead_lag.itertuples(index=False):
            body = r.problem if not r.leader else (
                f"{r.leader} -> {r.lagger} ({r.lead_hours:+.1f} h): leader CAR {_pct(r.leader_car)}, "
                f"lagger AR0 {_pct(r.lagger_ar_day0)}, share {r.lagger_share_at_first_session:.2f}, "
                f"open gap {_pct(r.lagger_open_gap)}")
            lines.append(f"{r.catalyst_id:<20} {body}")
    if result.problems:
        lines += ["", f"problems and notes ({len(result.problems)}):"] + [f"  - {p}" for p in result.problems]
    return "\n".join(lines)
