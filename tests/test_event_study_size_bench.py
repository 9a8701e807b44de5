"""Fast variant of ``benchmarks/event_study_size.py``: ~100 simulated markets on the real
calendars and the shipped catalyst days (32 per null: normal, t(4), GARCH-t(4)), two windows.

Loose bounds (the benchmark, 1,000 markets per null, holds the tight ones): with 32 markets
x 20 rows per window a correctly sized 5 % test rejects well inside [1 %, 11 %] even with
the rows' clustering; the primary family (10 tests per market, Holm) rejects anything in at
most a few of 32 markets.
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pandas as pd
import pytest

from backtests.event_study import EventStudySpec

_PATH = Path(__file__).resolve().parents[1] / "benchmarks" / "event_study_size.py"
_spec = importlib.util.spec_from_file_location("event_study_size", _PATH)
assert _spec is not None and _spec.loader is not None
bench = importlib.util.module_from_spec(_spec)
sys.modules.setdefault("event_study_size", bench)
_spec.loader.exec_module(bench)

SEEDS = 32
SPEC = EventStudySpec(windows=((0, 0), (0, 1)), ewma_lambda=0.94)


@pytest.fixture(scope="module")
def world():
    return bench.build_world()


@pytest.mark.parametrize("null", bench.NULLS)
def test_size_of_every_reported_test_and_primary_fwer(world, null: str) -> None:
    table, joint, primary = bench.simulate(world, null, SEEDS, spec=SPEC)
    rates = bench.rejection_rates(table, joint)
    fam = bench.family_rates(primary)
    print(f"\n{null}: {SEEDS} markets\n{rates.to_string(float_format='{:.3f}'.format)}\nprimary {fam}")
    reported = [t for t in rates.index if t not in bench.PARAMETRIC]
    assert set(reported) == {"p_placebo", "p_sq", "p_ewma_placebo", "p_joint_placebo"}
    values = rates.loc[reported].drop(columns="worst").stack().dropna()
    assert ((values >= 0.01) & (values <= 0.11)).all(), values
    assert fam["tests_per_market"] == 10 and fam["fwer_holm"] <= 4 / SEEDS
    # never below the floor
    assert (table["p_placebo"] >= table["p_placebo_floor"] - 1e-15).all()
    assert (primary["p"] >= primary["p_floor"] - 1e-15).all()


def test_power_at_three_sigma(world) -> None:
    table, joint, primary = bench.simulate(world, "normal", 8, 3.0, spec=SPEC)
    fam = bench.family_rates(primary)
    day0 = table[table["window"] == "[0,0]"]
    assert (day0["p_placebo"] <= 0.05).mean() > 0.6 and fam["per_test_raw"] > 0.6
    assert isinstance(primary, pd.DataFrame) and set(primary["test"]) == {"joint_placebo"}
