"""What :mod:`backtests.api` returns: tidy, timestamp-indexed frames, ``.stats()``,
``.report(path)`` and a notebook view (``_repr_html_``).

Timestamps are tz-aware UTC instants (``instant_utc``, ``close_utc``, ``entry_utc``);
money columns end in their currency (``_base`` = the portfolio's base currency).
"""

from __future__ import annotations

import html
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from backtests.config import RunConfig
from backtests.results import BacktestResult, write_outputs
from backtests.runner import LoadedInputs, write_run_context
from backtests.summary_table import summary_caption, summary_rows, summary_title

_FLOAT_SUMMARY = ("trade_count", "closed_trade_count", "final_equity_base", "costs_base", "initial_cash_base")


def tidy_equity(equity: pd.DataFrame) -> pd.DataFrame:
    """One row per mark instant: ``cash_base``, ``positions_base``, ``equity_base`` and
    ``marked`` (the listings whose close it is, joined by ``+``), indexed by ``instant_utc``.

    The engine marks once per listing closing at an instant; marks at a shared close
    (9988.HK and HSTECH at 08:00 UTC) use every series' close, so they agree and the last
    is kept.
    """
    grouped = equity.groupby("instant_utc", sort=True)
    out = grouped[["cash_base", "positions_base", "equity_base"]].last()
    out["marked"] = grouped["listing"].agg("+".join)
    return out


def positions_wide(positions: pd.DataFrame, index: pd.Index, listings: tuple[str, ...],
                   value: str) -> pd.DataFrame:
    """``value`` (``quantity`` or ``market_value_base``) per listing (one column each, 0 when
    flat) at every mark instant of ``index``; shorts are negative."""
    wide = positions.pivot_table(index="instant_utc", columns="listing", values=value, aggfunc="sum")
    columns = list(dict.fromkeys([*listings, *wide.columns]))
    wide = wide.reindex(index=index, columns=columns).fillna(0)
    wide.columns.name = "listing"
    return wide.astype("int64") if value == "quantity" else wide


def _html_table(rows: list[tuple[str, ...]], header: tuple[str, ...]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


@dataclass(frozen=True, kw_only=True, slots=True)
class RunResult:
    """A finished backtest (:func:`backtests.api.run`).

    Attributes
    ----------
    config
        The configuration that ran (overrides applied).
    equity
        :func:`tidy_equity`: one row per mark instant (``instant_utc``).
    positions
        Signed quantity per listing at every mark instant (0 when flat).
    position_values
        Signed market value per listing in the base currency at every mark instant.
    returns
        Portfolio and benchmark on the benchmark's session clock, indexed by ``close_utc``:
        the series every metric is computed from.
    trades
        One row per round trip, indexed by ``entry_utc`` (``exit_utc`` NaT while open).
    fills
        Every execution with its cost components, indexed by ``instant_utc``.
    summary
        The content of ``summary.json``.
    notes
        What the run skipped or assumed, and what data validation found.
    out_dir
        Where the files were written (None: nothing written).
    """

    config: RunConfig
    equity: pd.DataFrame
    positions: pd.DataFrame
    position_values: pd.DataFrame
    returns: pd.DataFrame
    trades: pd.DataFrame
    fills: pd.DataFrame
    summary: dict[str, Any]
    notes: tuple[str, ...]
    out_dir: Path | None = None
    raw: BacktestResult = field(repr=False)
    inputs: LoadedInputs = field(repr=False)

    @classmethod
    def of(cls, result: BacktestResult, inputs: LoadedInputs, config: RunConfig, out_dir: Path | None) -> "RunResult":
        """Tidy frames from the engine's result."""
        equity = tidy_equity(result.equity)
        listings = tuple(config.strategy.listings) if config.strategy else ()
        return cls(config=config, equity=equity,
                   positions=positions_wide(result.positions, equity.index, listings, "quantity"),
                   position_values=positions_wide(result.positions, equity.index, listings, "market_value_base"),
                   returns=result.returns.set_index("close_utc"), trades=result.trades.set_index("entry_utc"),
                   fills=result.fills.set_index("instant_utc"), summary=result.summary, notes=result.notes,
                   out_dir=out_dir, raw=result, inputs=inputs)

    def stats(self) -> pd.Series:
        """The summary metrics (calendar-annualised, on the benchmark's clock) plus trade count,
        final equity and costs, as a float Series named after the strategy."""
        values = {**self.summary.get("metrics", {}), **{k: self.summary[k] for k in _FLOAT_SUMMARY if k in self.summary}}
        return pd.Series(values, dtype="float64", name=self.summary.get("strategy", "strategy"))

    def benchmark_stats(self) -> pd.Series:
        """The same figures for the benchmark alone (where they are defined for one series)."""
        return pd.Series(self.summary.get("benchmark_metrics", {}), dtype="float64", name=self.summary["benchmark"])

    def write(self, out_dir: str | Path) -> Path:
        """Write the run's files (trades.csv, equity.csv, ..., summary.json) into ``out_dir``."""
        out = Path(out_dir)
        write_outputs(self.raw, out)
        write_run_context(self.inputs, out)
        return out

    def report(self, path: str | Path) -> Path:
        """Write the run's files into folder ``path`` and its tearsheet; returns the HTML path."""
        from backtests.api import report

        return report(self, path)

    def _repr_html_(self) -> str:
        s = self.summary
        rows = summary_rows(s)
        notes = f"<p>{len(self.notes)} note(s), e.g. {html.escape(self.notes[0])}</p>" if self.notes else ""
        return (f"<div><h4>{html.escape(summary_title(s))}</h4>"
                f"{_html_table(rows, ('figure', 'strategy', s['benchmark']))}"
                f"<p>{html.escape(summary_caption(s))}; listings {html.escape(', '.join(s.get('listings', [])))}; "
                f"prices from {html.escape(str(s.get('data_source')))}</p>{notes}</div>")


@dataclass(frozen=True, kw_only=True, slots=True)
class StudyResult:
    """A finished event study (:func:`backtests.api.study`).

    Attributes
    ----------
    config
        The configuration (``[study]`` read from it).
    table
        One row per catalyst x listing x window, indexed by ``day0_close_utc`` (the close of
        the reaction session); CARs and p-values as in ``event_study.csv``.
    joint, lead_lag, pooled, paths
        As :class:`backtests.event_study.EventStudyResult` holds them.
    cross_section
        Firms sharing an event day tested together (None when the study has no such part).
    problems
        Every problem and note.
    raw
        The :class:`~backtests.event_study.EventStudyResult` itself.
    """

    config: RunConfig
    table: pd.DataFrame
    joint: pd.DataFrame
    lead_lag: pd.DataFrame
    pooled: pd.DataFrame
    paths: pd.DataFrame
    problems: tuple[str, ...]
    cross_section: pd.DataFrame | None = None
    out_dir: Path | None = None
    raw: Any = field(repr=False)

    @classmethod
    def of(cls, result: Any, config: RunConfig, out_dir: Path | None) -> "StudyResult":
        table = result.table.copy()
        table["day0_close_utc"] = pd.to_datetime(table["day0_close_utc"], utc=True)
        cross = result.cross_section.table if result.cross_section is not None else None
        return cls(config=config, table=table.set_index("day0_close_utc").sort_index(kind="stable"),
                   joint=result.joint, lead_lag=result.lead_lag, pooled=result.pooled, paths=result.paths,
                   problems=result.problems, cross_section=cross, out_dir=out_dir, raw=result)

    def stats(self) -> pd.Series:
        """Counts a reader checks first: rows, failed rows, rows whose placebo p-value stays
        below 5% after Benjamini-Hochberg (and Holm) over all rows, joint rows likewise."""
        t, j = self.table, self.joint
        ok = t["problem"].isna() | (t["problem"].astype(str) == "")
        values = {"rows": len(t), "rows_failed": int((~ok).sum()),
                  "rows_p_placebo_bh_below_5pct": int((t["p_placebo_bh"] < 0.05).sum()),
                  "rows_p_placebo_holm_below_5pct": int((t["p_placebo_holm"] < 0.05).sum()),
                  "joint_rows": len(j), "seed": self.raw.seed, "placebo_draws": self.raw.spec.placebo_draws}
        if "p_joint_placebo_holm" in j:
            values["joint_p_placebo_holm_below_5pct"] = int((j["p_joint_placebo_holm"] < 0.05).sum())
        return pd.Series(values, dtype="int64", name="event study")

    def write(self, out_dir: str | Path) -> Path:
        """Write ``event_study.csv`` / ``.json`` (and the cross-firm files) into ``out_dir``."""
        from backtests.event_study.section import write_study_outputs

        write_study_outputs(self.raw, Path(out_dir))
        return Path(out_dir)

    def report(self, path: str | Path) -> Path:
        """Write the study's files into folder ``path`` and its tearsheet; returns the HTML path."""
        from backtests.api import report

        return report(self, path)

    def _repr_html_(self) -> str:
        label = " [SYNTHETIC DATA]" if self.raw.synthetic else ""
        stats = self.stats()
        rows = [(k.replace("_", " "), f"{v:,}") for k, v in stats.items()]
        return (f"<div><h4>event study: model {html.escape(self.raw.spec.model)}, seed {self.raw.seed}"
                f"{label}</h4>{_html_table(rows, ('figure', 'value'))}</div>")


@dataclass(frozen=True, kw_only=True, slots=True)
class SweepResult:
    """A finished parameter sweep (:func:`backtests.api.sweep`).

    Attributes
    ----------
    config
        The base configuration.
    table
        One row per combination (``sweep.parquet``), indexed by ``combo_id``.
    summary
        ``sweep_summary.json``: best rows, trials, deflated Sharpe, PBO, walk-forward.
    out_dir
        The folder holding the sweep's files (a temporary one when none was asked for; it
        lives as long as this object).
    """

    config: RunConfig
    table: pd.DataFrame
    summary: dict[str, Any]
    out_dir: Path
    store_dir: Path
    keep: Any = field(default=None, repr=False)  # the temporary folder, when out_dir is one

    def distinct(self, top: int | None = None) -> pd.DataFrame:
        """Combinations that gave the same result collapsed into one row, best first
        (:func:`backtests.sweeps.distinct.distinct_results`)."""
        from backtests.sweeps.distinct import distinct_results

        space = self.summary["space"]
        dims = tuple(space["grid"]) if space["search"] == "grid" else _random_dims(space)
        return distinct_results(self.table.reset_index(), metric=self.summary["metric"], dims=dims, top=top,
                                store_dir=self.store_dir)

    @property
    def best_params(self) -> dict[str, Any]:
        """The best combination's values (the keys :func:`backtests.api.run` takes as overrides)."""
        return dict(self.summary["best"][0]["params"])

    def stats(self) -> pd.Series:
        """Trials, distinct results, the best combination's figures, deflated Sharpe ratio,
        probability of backtest overfitting and walk-forward out-of-sample Sharpe (NaN when
        a diagnostic cannot speak)."""
        s = self.summary
        best = s["best"][0]["metrics"]
        wf = (s.get("walk_forward") or {}).get("oos", {})
        values = {"trials": s["trials"], "distinct_trials": s["distinct_trials"],
                  **{f"best_{k}": best[k] for k in ("sharpe", "total_return", "max_drawdown", "trade_count")},
                  "deflated_sharpe": s["deflated_sharpe"].get("value"), "pbo": s["pbo"].get("value"),
                  "walk_forward_oos_sharpe_annual": wf.get("sharpe_annual")}
        return pd.Series(values, dtype="float64", name=f"sweep of {s['strategy']}")

    def write(self, out_dir: str | Path) -> Path:
        """Copy the sweep's files (not the result store) into ``out_dir``."""
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        if out.resolve() != self.out_dir.resolve():
            for path in self.out_dir.iterdir():
                if path.is_file():
                    shutil.copy2(path, out / path.name)
        return out

    def report(self, path: str | Path) -> Path:
        """Write the sweep's files into folder ``path`` and its tearsheet; returns the HTML path."""
        from backtests.api import report

        return report(self, path)

    def _repr_html_(self) -> str:
        from backtests.sweeps.distinct import describe_parameters

        s = self.summary
        metric = s["metric"]
        rows = [(describe_parameters(r.same, r.varies), str(r.combos), f"{getattr(r, metric):.3g}",
                 f"{r.total_return:+.2%}", f"{r.trade_count:.0f}") for r in self.distinct(top=5).itertuples()]
        return (f"<div><h4>sweep of {html.escape(s['strategy'])}: {s['trials']:,} combinations, "
                f"{s['distinct_trials']:,} distinct results</h4>"
                f"{_html_table(rows, ('parameters', 'combinations', metric, 'total return', 'trades'))}</div>")


def _random_dims(space: dict[str, Any]) -> tuple[str, ...]:
    return (*space.get("ranges", {}), *space.get("choices", {}))
