"""Tearsheets: one self-contained HTML report (plus PNG figures) of a results folder.

``render_report(out_dir)`` reads whatever ``catalyst-bt run``, ``study`` and ``sweep``
wrote into ``out_dir`` (:mod:`.load`), derives the curves (:mod:`.series`), draws the
figures with matplotlib's Agg canvas (:mod:`.figures`), builds the tables
(:mod:`.tables`) and renders ``templates/tearsheet.html.j2`` (:mod:`.render`).
"""

from backtests.reporting.load import EXPECTED_FILES, ReportInputError, ResultsFolder, load_results
from backtests.reporting.render import HTML_NAME, Report, build_report, render_report

__all__ = [
    "EXPECTED_FILES", "HTML_NAME", "Report", "ReportInputError", "ResultsFolder", "build_report", "load_results",
    "render_report",
]
