"""Size of the cross-sectional tests at 5 % on simulated cross-correlated firms (no effect).

Each seed draws a market return ``m_t`` and, for ``N`` firms, ``r_it = beta_i m_t +
sigma_i (sqrt(rho) f_t + sqrt(1 - rho) u_it)``: the common shock ``f_t`` hits every firm
on every session, so on the shared event day it is a common event-day shock of the same
size as any other day's (no effect on the mean or the variance). A catalyst has one day 0
for all firms; a narrative has four day-0s with overlapping windows (like the DeepSeek /
Qwen sessions on the Hong Kong clock: +0, +6, +7, +8). The tests of
:mod:`backtests.event_study.cross_section` should reject 5 % of the time; two naive tests
that treat the firms as independent (plain BMP, and the Stouffer sum of the firms' t) and
GRANK-T with the paper's cross-sectional rescaling of the event SCARs are printed for
contrast.

    PYTHONPATH=. python benchmarks/cross_section_size.py [--seeds 2000] [--rho 0.3] [--firms 7]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from scipy import stats

from backtests.event_study.cross_section import FirmSeries, _residuals, analyse_pattern, grank
from backtests.event_study.models import fit_windows
from backtests.event_study.spec import EventStudySpec

SPEC = EventStudySpec(windows=((0, 0), (0, 1), (-1, 1), (0, 5)), placebo_draws=1000)
SESSIONS = 420
EVENT = 320
PATTERNS = {"catalyst": (EVENT,), "narrative": (EVENT, EVENT + 6, EVENT + 7, EVENT + 8)}
TESTS = ("p_port_t", "p_port_placebo", "p_bmp_kp", "p_grank")
CONTRAST = ("naive_bmp", "naive_stouffer", "grank_rescaled")


def simulate(seed: int, *, n_firms: int = 7, rho: float = 0.3, tails_df: float | None = None
             ) -> dict[str, dict[str, np.ndarray]]:
    """p-values of every test for both patterns and every window of one simulated market."""
    rng = np.random.default_rng(seed)

    def noise(shape: tuple[int, ...]) -> np.ndarray:
        if tails_df is None:
            return rng.standard_normal(shape)
        return rng.standard_t(tails_df, shape) / np.sqrt(tails_df / (tails_df - 2))

    m = 0.015 * noise((SESSIONS,))
    f = noise((SESSIONS,))
    out: dict[str, dict[str, np.ndarray]] = {}
    betas = rng.uniform(0.6, 1.4, n_firms)
    sigmas = rng.uniform(0.015, 0.03, n_firms)
    y = betas[:, None] * m + sigmas[:, None] * (np.sqrt(rho) * f + np.sqrt(1 - rho) * noise((n_firms, SESSIONS)))
    X = np.column_stack([np.ones(SESSIONS), m])
    for name, day0 in PATTERNS.items():
        zone = np.zeros(SESSIONS, dtype=np.int64)
        for d in day0:
            zone[d + SPEC.span[0]:d + SPEC.span[1] + 1] += 1
        firms = [FirmSeries(firm=f"f{i}", listing=f"F{i}", y=y[i], X=X, columns=("alpha", "M:beta"),
                            valid=np.ones(SESSIONS, bool), zone=zone) for i in range(n_firms)]
        results, _ = analyse_pattern(firms, zone, day0, SPEC)
        resid = []
        for fs in firms:
            fits = fit_windows(fs.y, fs.X, fs.zone == 0, np.array([day0[0] - SPEC.gap_sessions]),
                               SPEC.estimation_sessions, SPEC.min_estimation_sessions)
            resid.append((_residuals(fs, fits), float(np.sqrt(fits.sigma2[0]))))
        table: dict[str, list[float]] = {k: [] for k in (*TESTS, *CONTRAST)}
        for w in SPEC.windows:
            r = results[w]
            for k in TESTS:
                table[k].append(getattr(r, k))
            scar = np.array(r.firm_t)
            table["naive_bmp"].append(float(2 * stats.t.sf(abs(r.bmp_t), n_firms - 1)))
            table["naive_stouffer"].append(float(2 * stats.norm.sf(abs(scar.sum() / np.sqrt(n_firms)))))
            table["grank_rescaled"].append(grank(scar / np.std(scar, ddof=1), [e for e, _ in resid],
                                                 np.array([s for _, s in resid]))[1])
        out[name] = {k: np.array(v) for k, v in table.items()}
    return out


def sizes(seeds: int, *, first_seed: int = 0, **kw: float) -> dict[str, dict[str, np.ndarray]]:
    """Rejection rates at 5 % per pattern x test x window over ``seeds`` simulations."""
    runs = [simulate(first_seed + s, **kw) for s in range(seeds)]
    return {name: {k: np.mean([r[name][k] < 0.05 for r in runs], axis=0) for k in runs[0][name]}
            for name in PATTERNS}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=2000)
    parser.add_argument("--rho", type=float, default=0.3)
    parser.add_argument("--firms", type=int, default=7)
    parser.add_argument("--tails-df", type=float, default=None, help="Student-t innovations with this df")
    args = parser.parse_args()
    t0 = time.perf_counter()
    table = sizes(args.seeds, n_firms=args.firms, rho=args.rho, tails_df=args.tails_df)
    elapsed = time.perf_counter() - t0
    se = np.sqrt(0.05 * 0.95 / args.seeds)
    windows = " ".join(f"{f'[{a:+d},{b:+d}]':>9}" for a, b in SPEC.windows)
    print(f"size at 5 %: {args.seeds} seeds, {args.firms} firms, residual correlation {args.rho}, "
          f"{'normal' if args.tails_df is None else f't({args.tails_df:g})'} innovations, "
          f"{SESSIONS} sessions; binomial se {100 * se:.2f} pp; target [3.5 %, 6.5 %]")
    for name, rows in table.items():
        print(f"\n{name} (day 0 at {', '.join(f'+{d - EVENT}' for d in PATTERNS[name])})")
        print(f"{'test':<18} {windows}  in band")
        for k, v in rows.items():
            ok = "yes" if np.all((v >= 0.035) & (v <= 0.065)) else "no"
            tag = "" if k in TESTS else "   (contrast: not clustering-robust)"
            print(f"{k:<18} " + " ".join(f"{100 * x:8.2f}%" for x in v) + f"  {ok if k in TESTS else '-'}{tag}")
    print(f"\n{elapsed:.1f} s")


if __name__ == "__main__":
    main()
