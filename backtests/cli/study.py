"""``catalyst-bt study CONFIG``: the event study of a config's catalysts (no backtest)
(the ``[study]`` section and the study itself: :mod:`backtests.event_study.section`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import json

import click
from rich.console import Console

from backtests.cli.options import config_data_options, output_options, print_json
from backtests.cli.tables import Col, fit_table
from backtests.config import load_config
from backtests.event_study import EventStudyResult, result_to_json
from backtests.event_study.outputs import _ci, _p, _pct
from backtests.event_study.spec import window_label
from backtests.event_study.section import STUDY_KEYS, StudyConfig, parse_study_section, run_study_config
from backtests.outdir import check_out_dir, write_study_folder

__all__ = ["STUDY_KEYS", "StudyConfig", "parse_study_section", "register", "run_study_config"]

PRIMARY_COLUMNS: tuple[Col, ...] = (
    Col(header="catalyst", wrap=True), Col(header="listings", priority=5, wrap=True),
    Col(header="stat", priority=4, justify="right"), Col(header="CAR", justify="right"),
    Col(header="95% CI placebo", priority=1, justify="right"), Col(header="95% CI t", priority=6, justify="right"),
    Col(header="p", justify="right"), Col(header="floor", priority=7, justify="right"),
    Col(header="holm", justify="right"), Col(header="BH", priority=3, justify="right"),
    Col(header="overlaps", priority=2, wrap=True),
)
ROW_COLUMNS: tuple[Col, ...] = (
    Col(header="catalyst", wrap=True), Col(header="listing"), Col(header="window"), Col(header="day 0", priority=2),
    Col(header="CAR", justify="right"), Col(header="t adj", priority=4, justify="right"),
    Col(header="p t", priority=6, justify="right"), Col(header="p plac", justify="right"),
    Col(header="p sq", priority=5, justify="right"), Col(header="floor", priority=7, justify="right"),
    Col(header="overlaps", priority=3, wrap=True), Col(header="n est", priority=8, justify="right"),
)
JOINT_COLUMNS: tuple[Col, ...] = (
    Col(header="catalyst", wrap=True), Col(header="window"), Col(header="t mean", priority=1, justify="right"),
    Col(header="p plac", justify="right"), Col(header="p stouffer", priority=2, justify="right"),
    Col(header="rho", priority=4, justify="right"), Col(header="holm", priority=3, justify="right"),
)
LEADLAG_COLUMNS: tuple[Col, ...] = (
    Col(header="catalyst", wrap=True), Col(header="leader -> lagger"), Col(header="lead h", priority=3, justify="right"),
    Col(header="leader CAR", priority=1, justify="right"), Col(header="lagger AR0", priority=2, justify="right"),
    Col(header="share", justify="right"), Col(header="open gap", priority=4, justify="right"),
)


def _print_study(console: Console, result: EventStudyResult) -> None:
    """The study's rows, joint and lead-lag results as tables that fit the console, then
    failed rows and problems as lines (see :mod:`backtests.cli.tables`)."""
    t = result.table
    label = " [SYNTHETIC DATA]" if result.synthetic else ""
    console.print(f"event study: {len(t)} rows, model {result.spec.model}, seed {result.seed}{label}", highlight=False)
    f, spec = result.primary, result.spec
    if len(f):
        good = f[f["p"].notna()]
        rows = [(r.catalyst_id, r.listings, f"{r.statistic:+.2f}", _pct(r.car), _ci(r.car_ci_lo_placebo, r.car_ci_hi_placebo),
                 _ci(r.car_ci_lo_t, r.car_ci_hi_t), _p(r.p), _p(r.p_floor), _p(r.p_holm), _p(r.p_bh), r.overlaps or "-")
                for r in good.itertuples(index=False)]
        console.print(fit_table(
            console, PRIMARY_COLUMNS, rows, dropped_hint="every column is in event_study.json (primary)",
            title=f"PRIMARY FAMILY (pre-specified): {spec.primary_test} on {window_label(spec.primary_window)}",
            caption=f"the headline: one test per catalyst x {'listing' if spec.primary_test == 'placebo' else 'firm'}"
                    f"{' (overlapping catalysts merged into episodes)' if spec.episodes else ''}; Holm and BH over "
                    f"these {len(good)} tests only; stat: mean closure-adjusted t; CAR (mean over listings) and 95 % "
                    f"CIs in %; p: exact placebo, never below floor = 1/(1 + n placebo sessions); overlaps: other "
                    f"catalysts' day 0 inside the window"))
        for r in f[f["p"].isna()].itertuples(index=False):
            console.print(f"{r.catalyst_id} {r.listings}: {r.problem}", highlight=False, markup=False)
    ok = t[~t["problem"].astype(bool)] if len(t) else t
    rows = [(r.catalyst_id, r.listing, r.window, str(r.day0), _pct(r.car), f"{r.t_adj:.2f}", _p(r.p_t),
             _p(r.p_placebo), _p(r.p_sq), _p(r.p_placebo_floor), r.overlaps or "-", str(r.n_est))
            for r in ok.itertuples(index=False)]
    console.print(fit_table(console, ROW_COLUMNS, rows, dropped_hint="every column is in event_study.csv",
                            title="EXPLORATORY (every window, uncorrected)",
                            caption="CAR in %; t adj: closure-adjusted t; p t: PARAMETRIC Student t; p plac: exact "
                                    "placebo; p sq: quantile of out-of-sample placebo CARs; floor: smallest "
                                    "attainable placebo p"))
    for r in t[t["problem"].astype(bool)].itertuples(index=False) if len(t) else ():
        console.print(f"{r.catalyst_id} {r.listing} {r.window} {r.day0}: {r.problem}", highlight=False, markup=False)
    if len(result.joint):
        j = result.joint
        good = j[~j["problem"].astype(bool)]
        rows = [(r.catalyst_id, r.window, f"{r.t_mean:+.2f}", _p(r.p_joint_placebo), _p(r.p_stouffer_corr),
                 f"{r.rho:.2f}", _p(r.p_joint_placebo_holm)) for r in good.itertuples(index=False)]
        console.print(fit_table(console, JOINT_COLUMNS, rows,
                                title="joint (both listings as one firm): every window, exploratory: mean "
                                      "t adj, exact matched placebo p, PARAMETRIC correlated Stouffer p; holm: "
                                      "primary rows only"))
        for r in j[j["problem"].astype(bool)].itertuples(index=False):
            console.print(f"{r.catalyst_id} {r.window}: {r.problem}", highlight=False, markup=False)
    if len(result.lead_lag):
        ll = result.lead_lag
        rows = [(r.catalyst_id, f"{r.leader} -> {r.lagger}", f"{r.lead_hours:+.1f}", _pct(r.leader_car),
                 _pct(r.lagger_ar_day0), f"{r.lagger_share_at_first_session:.2f}", _pct(r.lagger_open_gap))
                for r in ll[ll["leader"].astype(bool)].itertuples(index=False)]
        console.print(fit_table(console, LEADLAG_COLUMNS, rows,
                                title="lead-lag: share of the leader's CAR the lagger still made at its first session"))
        for r in ll[~ll["leader"].astype(bool)].itertuples(index=False):
            console.print(f"{r.catalyst_id}: {r.problem}", highlight=False, markup=False)
    if result.problems:
        console.print(f"problems and notes ({len(result.problems)}):", highlight=False)
        for p in result.problems:
            console.print(f"  - {p}", highlight=False, markup=False)


def register(group: click.Group) -> None:
    @group.command("study")
    @config_data_options
    @click.option("--out", type=click.Path(path_type=Path),
                  help="Output folder (default: [study] out, else out/<run name>).")
    @click.option("--seed", type=int, help="Seed of the placebo draws, overriding [study] seed.")
    @click.option("--report", is_flag=True, help="Also write tearsheet.html (+ figures/) into the output folder.")
    @output_options
    def study_cmd(config: Path, data_dir: Path | None, source: str | None, refresh: bool, out: Path | None,
                  seed: int | None, report: bool, as_json: bool, quiet: bool) -> None:
        """Event study of CONFIG's catalysts: ARs/CARs vs the benchmark, placebo and SQ tests."""
        cfg = load_config(config, need_strategy=False).with_overrides(source=source, data_dir=data_dir,
                                                                      refresh=refresh)
        study = parse_study_section(cfg)
        out_dir = check_out_dir(out or study.out or Path("out") / cfg.name)
        if seed is not None:
            if seed < 0:
                raise click.BadParameter(f"{seed} must be >= 0", param_hint="--seed")
            study = dataclasses.replace(study, seed=seed)
        result = run_study_config(cfg, study)
        written = write_study_folder(result, out_dir)  # staged, sealed by the study marker
        csv_path, json_path = written[0], written[1]
        cross = result.cross_section if result.cross_section is not None and len(result.cross_section.table) else None
        if report:
            from backtests.reporting import render_report  # matplotlib only when asked for

            written.append(render_report(csv_path.parent))
        if as_json:
            doc = json.loads(result_to_json(result))
            doc.pop("paths")  # the AR/CAR paths per day are in event_study.json
            if cross is not None:
                doc["cross_section"] = json.loads(cross.table.to_json(orient="records"))
            print_json({"command": "study", "out_dir": csv_path.parent, "written": written, **doc})
        elif quiet:
            if result.problems:
                click.echo(f"{len(result.problems)} problem(s) and note(s); see {json_path}", err=True)
        else:
            console = Console()
            _print_study(console, result)
            if cross is not None:
                from backtests.event_study.cross_section_outputs import format_cross_section

                console.print(format_cross_section(cross), highlight=False, markup=False, soft_wrap=True)
            console.print(f"wrote {', '.join(map(str, written))}", highlight=False, markup=False)
