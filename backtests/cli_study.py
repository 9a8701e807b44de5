"""``catalyst-bt study CONFIG``: the event study of a config's catalysts (no backtest)
(the ``[study]`` section and the study itself: :mod:`backtests.event_study.section`)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import click

from backtests.cli_options import config_data_options
from backtests.config import load_config
from backtests.event_study import format_table, write_event_study
from backtests.event_study.section import STUDY_KEYS, StudyConfig, parse_study_section, run_study_config

__all__ = ["STUDY_KEYS", "StudyConfig", "parse_study_section", "register", "run_study_config"]


def register(group: click.Group) -> None:
    @group.command("study")
    @config_data_options
    @click.option("--out", type=click.Path(path_type=Path),
                  help="Output folder (default: [study] out, else out/<run name>).")
    @click.option("--seed", type=int, help="Seed of the placebo draws, overriding [study] seed.")
    @click.option("--report", is_flag=True, help="Also write tearsheet.html (+ figures/) into the output folder.")
    def study_cmd(config: Path, data_dir: Path | None, source: str | None, out: Path | None,
                  seed: int | None, report: bool) -> None:
        """Event study of CONFIG's catalysts: ARs/CARs vs the benchmark, placebo and SQ tests."""
        cfg = load_config(config, need_strategy=False).with_overrides(source=source, data_dir=data_dir)
        study = parse_study_section(cfg)
        if seed is not None:
            if seed < 0:
                raise click.BadParameter(f"{seed} must be >= 0", param_hint="--seed")
            study = dataclasses.replace(study, seed=seed)
        result = run_study_config(cfg, study)
        click.echo(format_table(result))
        csv_path, json_path = write_event_study(result, out or study.out or Path("out") / cfg.name)
        click.echo(f"wrote {csv_path} and {json_path}")
        if report:
            from backtests.report import render_report  # matplotlib only when asked for

            click.echo(f"wrote {render_report(csv_path.parent)}")
