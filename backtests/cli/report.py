"""``catalyst-bt report OUTDIR``: the tearsheet of a results folder."""

from __future__ import annotations

from pathlib import Path

import click


def register(group: click.Group) -> None:
    @group.command("report")
    @click.argument("out_dir", metavar="OUTDIR", type=click.Path(path_type=Path))
    @click.option("--png", is_flag=True, help="Also write the figures as PNG files to OUTDIR/figures/ (matplotlib).")
    def report_cmd(out_dir: Path, png: bool) -> None:
        """Write OUTDIR/tearsheet.html (one self-contained file with interactive charts, no network
        needed) from the files catalyst-bt run / study / sweep wrote into OUTDIR."""
        from backtests.outdir import UnfinishedResultsError, require_complete
        from backtests.reporting import render_report  # plotly/matplotlib only when needed
        from backtests.reporting.load import load_results

        require_complete(out_dir)  # an interrupted run's folder is refused, not rendered
        broken = load_results(out_dir).problems  # a sealed folder whose files no longer read
        if broken:
            raise UnfinishedResultsError(f"{out_dir}: {len(broken)} result file problem(s), no tearsheet written:\n"
                                         + "\n".join(f"  - {p}" for p in broken)
                                         + "\nrerun the command that wrote the folder, then report again")
        click.echo(f"wrote {render_report(out_dir, png=png)}")
