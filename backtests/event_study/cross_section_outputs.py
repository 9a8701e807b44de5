"""Writing and printing a :class:`~backtests.event_study.cross_section_study.CrossSectionResult`.

``cross_section.csv`` holds the table (one row per catalyst / narrative x window);
``cross_section.json`` the table, the mean-AR / CAAR paths with their placebo bands, meta
and problems. Atomic, byte-deterministic writes (like ``event_study.*``).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np

from backtests.event_study.cross_section_study import CrossSectionResult
from backtests.event_study.outputs import _plain, _records
from backtests.results import atomic_write_text

CSV_NAME = "cross_section.csv"
JSON_NAME = "cross_section.json"


def write_cross_section(result: CrossSectionResult, out_dir: str | Path) -> tuple[Path, Path]:
    """Write ``cross_section.csv`` and ``cross_section.json`` into ``out_dir``; returns both paths."""
    out = Path(out_dir)
    csv_path, json_path = out / CSV_NAME, out / JSON_NAME
    atomic_write_text(csv_path, result.table.to_csv(index=False, lineterminator="\n"))
    doc = {"meta": _plain(result.meta), "table": _records(result.table), "paths": _records(result.paths),
           "problems": list(result.problems)}
    atomic_write_text(json_path, json.dumps(doc, indent=1, allow_nan=False) + "\n")
    return csv_path, json_path


def _p(v: float) -> str:
    return "" if not np.isfinite(v) else (f"{v:.4f}" if v >= 1e-4 else f"{v:.1e}")


def format_cross_section(result: CrossSectionResult) -> str:
    """A fixed-width table: firms, CAAR and the clustering-aware p-values per row."""
    t = result.table
    label = " [SYNTHETIC DATA]" if result.meta.get("synthetic") else ""
    lines = [f"cross-section (firms sharing an event day; one listing per issuer): {len(t)} rows{label}",
             "firms: with a CAR / reached (a firm without a return on some day of the window is left out); "
             "CAAR in %; p_port: calendar-time portfolio t / placebo, p_bmp_kp: BMP with Kolari-Pynnonen "
             "correlation adjustment (rbar), p_grank: GRANK-T"]
    head = (f"{'scope':<9} {'id':<26} {'window':<8} {'firms':>5} {'CAAR':>8} {'p_port':>7} {'p_plac':>7} "
            f"{'rbar':>5} {'p_bmp_kp':>8} {'p_grank':>7}")
    lines += [head, "-" * len(head)]
    for r in t.itertuples(index=False):
        if r.problem:
            lines.append(f"{r.scope:<9} {r.id:<26} {r.window:<8} {r.n_firms:>2}/{r.n_reached:<2} -- {r.problem}")
            continue
        lines.append(f"{r.scope:<9} {r.id:<26} {r.window:<8} {r.n_firms:>2}/{r.n_reached:<2} {100 * r.caar:>+7.2f}% "
                     f"{_p(r.p_port_t):>7} {_p(r.p_port_placebo):>7} {r.rbar:>5.2f} {_p(r.p_bmp_kp):>8} "
                     f"{_p(r.p_grank):>7}")
    return "\n".join(lines)
