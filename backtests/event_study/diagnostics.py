"""Per catalyst x listing diagnostics beside the tests (exploratory, uncorrected).

* **Beta stability**: ``beta`` is estimated before the event, ``beta_post`` on the
  ``estimation_sessions`` after the span (other catalysts masked, same model);
  ``car_post_beta`` is the window's CAR under the post-event fit. A CAR that holds under
  both is not an artefact of a beta that changed around the news.
* **Conditional volatility** (``spec.ewma_lambda > 0``): ``ar_day0_ewma_z`` is the day-0
  abnormal return over the EWMA sigma of the prediction errors up to the start of the span
  (no look-ahead) times the square root of day 0's closure scale, ``p_ewma_placebo`` the
  same statistic's exact placebo p-value.
* **Closures**: a session in the span whose variance is scaled (the listing's market was
  closed while the firm traded elsewhere, see :func:`.listing.closure_scale`) is named in
  the row's notes with its scale.
"""

from __future__ import annotations

import numpy as np

from backtests.event_study import inference
from backtests.event_study.listing import ListingRun, listed_dates
from backtests.event_study.spec import EventStudySpec


def diagnostics(run: ListingRun, spec: EventStudySpec, i: int, draws: np.ndarray, notes: list[str]) -> dict:
    """Beta stability and EWMA columns of fit ``i`` (appends explanations to ``notes``)."""
    assert run.design is not None and run.post_fits is not None and run.scale is not None
    calc = next(c for c in run.events.values() if c.fit_index == i)
    out: dict = {"n_post": int(run.post_fits.n[i])}
    post = run.post_fits
    if post.ok[i]:
        names = run.design.param_names
        betas = [float(v) for n, v in zip(names, post.theta[i]) if n.startswith("beta")]
        out["beta_post"] = float(sum(betas)) if betas else np.nan
    else:
        notes.append(f"post-event beta: {int(post.n[i])} usable session(s) after the span (need "
                     f">= {spec.min_estimation_sessions}); no post-event fit")
    lo, hi = max(calc.pos + spec.span[0], 0), min(calc.pos + spec.span[1] + 1, len(run.scale))
    scaled = np.arange(lo, hi)[run.scale[lo:hi] > 1.0]
    if len(scaled):
        sessions = run.sessions
        notes.append("closure: " + ", ".join(
            f"{sessions[p]:%Y-%m-%d} (day {p - calc.pos:+d}) spans {run.scale[p]:.2g}x a normal session of the "
            f"firm's listings" for p in scaled[:4]) + (f" (+{len(scaled) - 4} more)" if len(scaled) > 4 else "")
            + "; its variance is scaled in t_adj and the placebo tests")
    if spec.ewma_lambda > 0 and run.ewma_sigma is not None and run.ar is not None:
        sigma = float(run.ewma_sigma[i])
        scale0 = float(run.scale[calc.pos])          # a day 0 after a closure spans several sessions
        z = float(run.ar[i, -spec.span[0]]) / (sigma * np.sqrt(scale0)) if np.isfinite(sigma) and sigma > 0 else np.nan
        out.update(ewma_sigma=sigma, ar_day0_ewma_z=z)
        if len(draws) and run.placebo_ewma_z is not None:
            null = run.placebo_ewma_z[draws]
            out["p_ewma_placebo"] = inference.placebo_pvalue(z, null[np.isfinite(null)])
        if not np.isfinite(sigma):
            notes.append(f"EWMA sigma: too few usable sessions before {listed_dates(run.sessions, np.array([calc.pos]))}")
    return out
