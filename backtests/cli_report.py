"""``catalyst-bt report OUTDIR``: the tearsheet of a results folder."""

from __future__ import annotations

from pathlib import Path

import click


def register(group: click.Group) -> None:
    @group.command("report")
    @click.argument("out_dir", metavar="OUTDIR", type=click.Path(path_type=Path))
    def report_cmd(out_dir: Path) -> None:
        """Write OUTDIR/tearsheet.html (self-contained) and OUTDIR/figures/*.png from the
        files catalyst-bt run / study / sweep wrote into OUTDIR."""
        from backtests.report import render_report  # matplotlib is imported only when needed

        click.echo(f"wrote {render_report(out_dir)}")
