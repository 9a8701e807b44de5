"""Read a results folder into typed, optional parts (no computation, no figures).

A folder may hold any subset of what ``catalyst-bt run`` (``summary.json``, ``returns.csv``,
``equity.csv``, ``trades.csv``, ``costs.csv``, ``positions.csv``, ``schedule.csv``,
``provenance.json``, ``notes.txt``), ``catalyst-bt study`` (``event_study.json`` /
``event_study.csv``) and ``catalyst-bt sweep`` (``sweep_summary.json`` + heatmap CSVs)
write. Every part is ``None`` when its file is absent. A file that is present but cannot
be used (bad JSON, missing columns) is skipped and described in
:attr:`ResultsFolder.problems`, so one broken file costs one panel, not the report.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from data_loaders.errors import UserError

SUMMARY_JSON = "summary.json"
RETURNS_CSV = "returns.csv"
EQUITY_CSV = "equity.csv"
TRADES_CSV = "trades.csv"
COSTS_CSV = "costs.csv"
POSITIONS_CSV = "positions.csv"
SCHEDULE_CSV = "schedule.csv"
PROVENANCE_JSON = "provenance.json"
NOTES_TXT = "notes.txt"
EVENT_STUDY_JSON = "event_study.json"
EVENT_STUDY_CSV = "event_study.csv"
SWEEP_JSON = "sweep_summary.json"
CLAIMS_CSV = "claims.csv"

#: File -> the command that writes it (for the "nothing to report" message).
EXPECTED_FILES: dict[str, str] = {
    SUMMARY_JSON: "catalyst-bt run", RETURNS_CSV: "catalyst-bt run", EQUITY_CSV: "catalyst-bt run",
    TRADES_CSV: "catalyst-bt run", COSTS_CSV: "catalyst-bt run", POSITIONS_CSV: "catalyst-bt run",
    SCHEDULE_CSV: "catalyst-bt run", PROVENANCE_JSON: "catalyst-bt run", NOTES_TXT: "catalyst-bt run",
    EVENT_STUDY_JSON: "catalyst-bt study", EVENT_STUDY_CSV: "catalyst-bt study",
    SWEEP_JSON: "catalyst-bt sweep",
    CLAIMS_CSV: "catalyst-bt claims",
}

#: Columns a CSV must have for its panel (others are optional).
REQUIRED_COLUMNS: dict[str, tuple[str, ...]] = {
    RETURNS_CSV: ("session", "equity_base", "strategy_return", "benchmark_return"),
    EQUITY_CSV: ("instant_utc", "equity_base"),
    TRADES_CSV: ("trade_id", "catalyst_id", "listing"),
    COSTS_CSV: ("trade_id",),
    POSITIONS_CSV: ("session", "listing", "market_value_base"),
    SCHEDULE_CSV: ("catalyst_id", "listing", "first_trade_session"),
    EVENT_STUDY_CSV: ("catalyst_id", "listing", "window", "car"),
}


class ReportInputError(UserError):
    """The folder cannot be reported on (missing, or holds none of the expected files)."""


@dataclass(frozen=True, kw_only=True)
class EventStudyParts:
    """What ``catalyst-bt study`` wrote (see :mod:`backtests.event_study.outputs`).

    Attributes
    ----------
    table
        One row per catalyst x listing x window (CARs as fractions, p-values, adjusted p).
    paths
        AR/CAR per relative day with placebo band columns ``band_qNNN`` (``None`` when only
        the CSV exists).
    joint, lead_lag
        The two-listing results (``None`` when absent).
    meta
        Spec, seed, benchmarks, synthetic flag.
    problems
        The study's own problem lines.
    """

    table: pd.DataFrame
    paths: pd.DataFrame | None = None
    joint: pd.DataFrame | None = None
    lead_lag: pd.DataFrame | None = None
    meta: dict[str, Any] = field(default_factory=dict)
    problems: tuple[str, ...] = ()

    @property
    def synthetic(self) -> bool:
        return bool(self.meta.get("synthetic", False)) or (
            "synthetic" in self.table.columns and self.table["synthetic"].astype(str).str.lower().eq("true").any())


@dataclass(frozen=True, kw_only=True)
class SweepHeatmap:
    """One metric over two parameters: ``frame`` is indexed by ``y`` values, columns are ``x`` values."""

    x: str
    y: str
    metric: str
    file: str
    frame: pd.DataFrame


@dataclass(frozen=True, kw_only=True)
class SweepParts:
    """``sweep_summary.json``: metric optimised, trials, best rows, DSR and PBO, heatmaps."""

    metric: str
    trials: int | None
    best: tuple[dict[str, Any], ...]
    deflated_sharpe: dict[str, Any] | None
    pbo: dict[str, Any] | None
    heatmaps: tuple[SweepHeatmap, ...]
    raw: dict[str, Any]


@dataclass(frozen=True, kw_only=True)
class ResultsFolder:
    """Everything found in one results folder; absent files are ``None`` (or empty)."""

    path: Path
    summary: dict[str, Any] | None = None
    returns: pd.DataFrame | None = None
    equity: pd.DataFrame | None = None
    trades: pd.DataFrame | None = None
    costs: pd.DataFrame | None = None
    positions: pd.DataFrame | None = None
    schedule: pd.DataFrame | None = None
    provenance: dict[str, Any] | None = None
    notes: tuple[str, ...] = ()
    event_study: EventStudyParts | None = None
    sweep: SweepParts | None = None
    problems: tuple[str, ...] = ()

    @property
    def has_backtest(self) -> bool:
        return any(p is not None for p in (self.summary, self.returns, self.equity, self.trades))

    @property
    def synthetic(self) -> bool:
        """True when any part says its data are synthetic."""
        flags = [bool(self.summary.get("synthetic_data")) if self.summary else False,
                 self.event_study.synthetic if self.event_study else False,
                 bool(self.sweep.raw.get("synthetic_data")) if self.sweep else False]
        if self.provenance:
            flags += [bool(s.get("synthetic")) for s in self.provenance.get("series", {}).values()
                      if isinstance(s, dict)]
        return any(flags)


def _read_json(path: Path, problems: list[str]) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as exc:
        problems.append(f"{path.name}: not valid JSON (line {exc.lineno}, column {exc.colno}: {exc.msg}); "
                        f"panel skipped — re-run the command that wrote it")
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(f"{path.name}: cannot be read ({exc}); panel skipped")
    return None


def _read_csv(path: Path, problems: list[str], **kwargs: Any) -> pd.DataFrame | None:
    try:
        frame = pd.read_csv(path, **kwargs)
    except (OSError, UnicodeDecodeError, pd.errors.ParserError, pd.errors.EmptyDataError) as exc:
        problems.append(f"{path.name}: cannot be read as CSV ({exc}); panel skipped")
        return None
    need = REQUIRED_COLUMNS.get(path.name, ())
    missing = [c for c in need if c not in frame.columns]
    if missing:
        problems.append(f"{path.name}: lacks column(s) {missing} (found {list(frame.columns)}); panel skipped — "
                        f"re-run the command that wrote it with this version of catalyst-bt")
        return None
    return frame


def _dates(frame: pd.DataFrame, *cols: str, utc: bool = False) -> pd.DataFrame:
    out = frame.copy()
    for col in cols:
        if col in out.columns:
            out[col] = pd.to_datetime(out[col], errors="coerce", utc=utc, format="ISO8601")
    return out


def _bools(series: pd.Series) -> pd.Series:
    return series.astype(str).str.strip().str.lower().isin(("true", "1", "yes", "★"))


def _frame(records: Any) -> pd.DataFrame | None:
    if not isinstance(records, list) or not records:
        return None
    return pd.DataFrame.from_records(records)


def _event_study(folder: Path, problems: list[str]) -> EventStudyParts | None:
    json_path, csv_path = folder / EVENT_STUDY_JSON, folder / EVENT_STUDY_CSV
    if json_path.is_file():
        doc = _read_json(json_path, problems)
        if isinstance(doc, dict) and isinstance(doc.get("table"), list):
            table = pd.DataFrame.from_records(doc["table"])
            if all(c in table.columns for c in REQUIRED_COLUMNS[EVENT_STUDY_CSV]):
                return EventStudyParts(table=table, paths=_frame(doc.get("paths")), joint=_frame(doc.get("joint")),
                                       lead_lag=_frame(doc.get("lead_lag")), meta=dict(doc.get("meta") or {}),
                                       problems=tuple(str(p) for p in doc.get("problems", ())))
        if doc is not None:
            problems.append(f"{EVENT_STUDY_JSON}: no usable \"table\" list of rows with "
                            f"{list(REQUIRED_COLUMNS[EVENT_STUDY_CSV])}; panel skipped")
    if csv_path.is_file():
        table = _read_csv(csv_path, problems)
        if table is not None:
            return EventStudyParts(table=table)
    return None


def _sweep(folder: Path, problems: list[str]) -> SweepParts | None:
    path = folder / SWEEP_JSON
    if not path.is_file():
        return None
    doc = _read_json(path, problems)
    if doc is None:
        return None
    if not isinstance(doc, dict):
        problems.append(f"{SWEEP_JSON}: expected an object with metric/trials/best/heatmaps; panel skipped")
        return None
    heatmaps: list[SweepHeatmap] = []
    for i, spec in enumerate(doc.get("heatmaps") or ()):
        if not isinstance(spec, dict) or not all(isinstance(spec.get(k), str) for k in ("x", "y", "file")):
            problems.append(f"{SWEEP_JSON}: heatmaps[{i}] needs string keys x, y, file; skipped")
            continue
        file = folder / spec["file"]
        if file.resolve().parent != folder.resolve() or not file.is_file():
            problems.append(f"{SWEEP_JSON}: heatmaps[{i}] file {spec['file']!r} not found beside it; skipped")
            continue
        pivot = _read_csv(file, problems)
        if pivot is None or pivot.shape[1] < 2:
            if pivot is not None:
                problems.append(f"{spec['file']}: a heatmap needs the y column plus at least one x column; skipped")
            continue
        pivot = pivot.set_index(pivot.columns[0])
        heatmaps.append(SweepHeatmap(x=spec["x"], y=spec["y"], metric=str(spec.get("metric", doc.get("metric", ""))),
                                     file=spec["file"], frame=pivot.apply(pd.to_numeric, errors="coerce")))
    trials = doc.get("trials")
    best = doc.get("best") or []
    return SweepParts(
        metric=str(doc.get("metric", "")),
        trials=int(trials) if isinstance(trials, (int, float)) and not isinstance(trials, bool) else None,
        best=tuple(b for b in best if isinstance(b, dict)) if isinstance(best, list) else (),
        deflated_sharpe=doc.get("deflated_sharpe") if isinstance(doc.get("deflated_sharpe"), dict) else None,
        pbo=doc.get("pbo") if isinstance(doc.get("pbo"), dict) else None,
        heatmaps=tuple(heatmaps), raw=doc)


def load_results(out_dir: str | Path) -> ResultsFolder:
    """Read every known file of ``out_dir``.

    Parameters
    ----------
    out_dir
        A folder written by ``catalyst-bt run``, ``study`` and/or ``sweep``.

    Returns
    -------
    ResultsFolder
        Dates parsed: ``session``-like columns as naive dates, ``*_utc`` columns as UTC.

    Raises
    ------
    ReportInputError
        ``out_dir`` is not a folder, or holds none of :data:`EXPECTED_FILES` (the message
        lists them and which command writes each).
    """
    folder = Path(out_dir)
    if not folder.is_dir():
        raise ReportInputError(f"{folder}: not a folder; pass the --out folder of catalyst-bt run, study or sweep")
    problems: list[str] = []
    parts: dict[str, Any] = {}

    if (folder / SUMMARY_JSON).is_file():
        summary = _read_json(folder / SUMMARY_JSON, problems)
        if summary is not None and not isinstance(summary, dict):
            problems.append(f"{SUMMARY_JSON}: expected a JSON object, found {type(summary).__name__}; skipped")
            summary = None
        parts["summary"] = summary
    csvs = {RETURNS_CSV: ("returns", ("session",), ("close_utc",)),
            EQUITY_CSV: ("equity", ("session",), ("instant_utc",)),
            TRADES_CSV: ("trades", ("entry_session", "exit_session"), ("entry_utc", "exit_utc")),
            COSTS_CSV: ("costs", ("session",), ("instant_utc",)),
            POSITIONS_CSV: ("positions", ("session",), ("instant_utc",)),
            SCHEDULE_CSV: ("schedule", ("reaction_session", "first_trade_session"), ("first_trade_utc",))}
    for name, (key, naive_cols, utc_cols) in csvs.items():
        if (folder / name).is_file():
            frame = _read_csv(folder / name, problems)
            if frame is not None and key == "returns" and not len(frame):
                problems.append(f"{RETURNS_CSV}: no rows; the curves come from {EQUITY_CSV} (no benchmark curve, "
                                f"no rolling beta/alpha) — re-run the backtest to fill it")
                frame = None
            if frame is not None:
                frame = _dates(_dates(frame, *naive_cols), *utc_cols, utc=True)
                if key == "schedule":
                    frame["starred"] = _bools(frame["starred"]) if "starred" in frame.columns else False
                parts[key] = frame
    if (folder / PROVENANCE_JSON).is_file():
        prov = _read_json(folder / PROVENANCE_JSON, problems)
        if prov is not None and not (isinstance(prov, dict) and isinstance(prov.get("series", {}), dict)):
            problems.append(f"{PROVENANCE_JSON}: expected {{\"series\": {{SYMBOL: {{...}}}}}}; skipped")
            prov = None
        parts["provenance"] = prov
    if (folder / NOTES_TXT).is_file():
        text = (folder / NOTES_TXT).read_text(encoding="utf-8", errors="replace")
        parts["notes"] = tuple(line for line in text.splitlines() if line.strip())
    parts["event_study"] = _event_study(folder, problems)
    parts["sweep"] = _sweep(folder, problems)

    found = [name for name in EXPECTED_FILES if (folder / name).is_file()]
    if not found:
        by_cmd: dict[str, list[str]] = {}
        for name, cmd in EXPECTED_FILES.items():
            by_cmd.setdefault(cmd, []).append(name)
        expected = "; ".join(f"{cmd} writes {', '.join(names)}" for cmd, names in by_cmd.items())
        raise ReportInputError(
            f"{folder}: no results to report. Expected at least one of these files ({expected}). "
            f"Run e.g. `catalyst-bt run CONFIG --out {folder}` or `catalyst-bt study CONFIG --out {folder}` first")
    return ResultsFolder(path=folder, problems=tuple(problems), **parts)
