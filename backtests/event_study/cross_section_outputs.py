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
    """A table of at most 80 columns: firms, CAAR and the clustering-aware p-values per row
    (every column, incl. the residual correlation ``rbar``, is in ``cross_section.csv``)."""
    t = result.table
    label = " [SYNTHETIC DATA]" if result.meta.get("synthetic") else ""
    lines = [f"across firms (one listing per issuer, firms sharing an event day): {len(t)} rows{label}",
             "firms: with a CAR / reached; CAAR in %; p_port / p_plac: calendar-time",
             "portfolio t / placebo; p_bmp: BMP, Kolari-Pynnonen adjusted; p_grank: GRANK-T"]
    head = f"{'id':<24} {'window':<7} {'firms':>5} {'CAAR':>8} {'p_port':>7} {'p_plac':>7} {'p_bmp':>7} {'p_grank':>7}"
    for scope in ("catalyst", "narrative"):
        rows = t[t["scope"] == scope]
        if not len(rows):
            continue
        lines += ["", f"{scope}s", head, "-" * len(head)]
        for r in rows.itertuples(index=False):
            firms = f"{r.n_firms}/{r.n_reached}"
            if r.problem:
                lines.append(f"{r.id[:24]:<24} {r.window:<7} {firms:>5} -- {r.problem}")
                continue
            lines.append(f"{r.id[:24]:<24} {r.window:<7} {firms:>5} {100 * r.caar:>+7.2f}% {_p(r.p_port_t):>7} "
                         f"{_p(r.p_port_placebo):>7} {_p(r.p_bmp_kp):>7} {_p(r.p_grank):>7}")
    return "\n".join(lines)
