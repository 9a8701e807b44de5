"""Event study of catalysts on one firm's listings against a market benchmark.

Entry points: :func:`run_event_study` (data in, :class:`EventStudyResult` out, no I/O),
:class:`EventStudySpec`, :func:`write_event_study`, :func:`format_table`.
"""

from backtests.event_study.outputs import format_table, result_to_json, write_event_study
from backtests.event_study.spec import DEFAULT_BENCHMARKS, DEFAULT_WINDOWS, EventStudySpec, EventStudySpecError
from backtests.event_study.study import EventStudyInputError, EventStudyResult, run_event_study

__all__ = [
    "DEFAULT_BENCHMARKS", "DEFAULT_WINDOWS", "EventStudyInputError", "EventStudyResult", "EventStudySpec",
    "EventStudySpecError", "format_table", "result_to_json", "run_event_study", "write_event_study",
]
