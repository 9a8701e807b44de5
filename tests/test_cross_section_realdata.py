"""The shipped narrative on the seven Hong Kong names (real prices; skipped without them)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from backtests.reporting.panels.cross_firm import heat_table, stars
from cli_runner import run_cli

REPO = Path(__file__).resolve().parents[1]
HK_SEVEN = {"9988.HK", "0700.HK", "1810.HK", "1024.HK", "3690.HK", "9618.HK", "9888.HK"}
NARRATIVE = ("deepseek_r1", "deepseek_selloff", "qwen25max", "arena_rank")


@pytest.mark.realdata
def test_the_china_tech_narrative_across_seven_firms(prices_dir: Path, tmp_path: Path) -> None:
    config = REPO / "configs" / "study_china_tech_2025.toml"
    assert run_cli(["study", str(config), "--data-dir", str(prices_dir), "--out", str(tmp_path)]) == 0
    cross = pd.read_csv(tmp_path / "cross_section.csv", keep_default_na=False, na_values=[""])
    # every catalyst of the narrative reaches the seven firms (Alibaba once, through 9988.HK) ...
    catalysts = cross[cross["scope"] == "catalyst"]
    assert set(NARRATIVE) <= set(catalysts["id"])
    assert (cross.loc[cross["id"].isin(NARRATIVE), "n_reached"] == 7).all()
    assert (cross["clock"] == "XHKG").all()
    for firms, listings in zip(cross["firms"].dropna(), cross["listings"].dropna()):
        assert len(firms.split(";")) == len(set(firms.split(";"))) and set(listings.split(";")) <= HK_SEVEN
    assert catalysts["notes"].str.contains("BABA: issuer alibaba counted once, through 9988.HK").all()
    # ... and has a CAR on all seven where the data have every session of the window; 0700.HK,
    # 9618.HK and 9888.HK have no bar for the 2025-01-28 half day, so windows touching it have 4
    full = cross.set_index(["id", "window"])
    assert full.loc[("deepseek_r1", "[0,0]"), "n_firms"] == 7 and full.loc[("arena_rank", "[0,+1]"), "n_firms"] == 7
    assert full.loc[("qwen25max", "[0,0]"), "n_firms"] == 4
    assert (cross["n_firms"] >= 4).all()
    for col in ("p_port_t", "p_port_placebo", "p_bmp_kp", "p_grank"):
        assert cross[col].between(0, 1, inclusive="right").all(), col
    assert (cross["n_placebo_sessions"] > 300).all() and cross["rbar"].between(-0.5, 0.9).all()
    narrative = cross[cross["scope"] == "narrative"]
    assert list(narrative["id"].unique()) == ["china_tech_rerating_2025"] and len(narrative) == 4
    assert narrative["day0"].iloc[0] == "2025-01-20;2025-01-28;2025-02-03;2025-02-04"
    # per-firm rows stay in event_study.csv; "one firm" rows only for the two Alibaba listings
    study = json.loads((tmp_path / "event_study.json").read_text())
    assert {r["listing"] for r in study["table"]} == HK_SEVEN | {"BABA"}
    assert {r["listings"] for r in study["joint"]} == {"9988.HK,BABA"}
    assert {frozenset((r["leader"], r["lagger"])) for r in study["lead_lag"] if r["leader"]} == {
        frozenset(("9988.HK", "BABA"))}
    paths = json.loads((tmp_path / "cross_section.json").read_text())["paths"]
    assert {p["id"] for p in paths} >= {"china_tech_rerating_2025", *NARRATIVE}


@pytest.mark.realdata
def test_the_cross_firm_panel_on_a_study_and_a_basket_run(prices_dir: Path, tmp_path: Path) -> None:
    from backtests.reporting import render_report

    basket = REPO / "configs" / "strategies" / "narrative_basket.toml"
    study = REPO / "configs" / "study_china_tech_2025.toml"
    assert run_cli(["run", str(basket), "--data-dir", str(prices_dir), "--out", str(tmp_path)]) == 0
    assert run_cli(["study", str(study), "--data-dir", str(prices_dir), "--out", str(tmp_path)]) == 0
    html = render_report(tmp_path).read_text()
    for part in ('id="cross-firm"', "chart-cross-firm-heat", "chart-cross-firm-caar", "chart-cross-firm-basket",
                 'id="cross-firm-cars"'):
        assert part in html, part
    # 9988.HK's CAR [0,+1] on qwen25max (event_study.csv) with its placebo stars, in the heat table
    rows = pd.read_csv(tmp_path / "event_study.csv")
    row = rows[(rows["catalyst_id"] == "qwen25max") & (rows["listing"] == "9988.HK") & (rows["window"] == "[0,+1]")]
    car, p = float(row["car"].iloc[0]), float(row["p_placebo"].iloc[0])
    assert f"{100 * car:+.2f}%{stars(p)}" in html


def test_heat_table_and_marks_by_hand() -> None:
    study = pd.DataFrame({"catalyst_id": ["a", "a", "b", "b", "a"], "listing": ["X", "Y", "X", "Y", "X"],
                          "window": ["[0,0]"] * 4 + ["[0,+1]"], "car": [0.01, -0.02, 0.03, float("nan"), 0.5],
                          "p_placebo": [0.2, 0.04, float("nan"), 0.5, 0.001], "p_t": [0.3, 0.5, 0.005, 0.5, 0.1]})
    cross = pd.DataFrame({"window": ["[0,0]", "[0,0]"], "listings": ["X;Y", "X;Y"], "catalysts": ["a", "b"]})
    listings, catalysts, car, marks = heat_table(study, cross, "[0,0]")
    assert (listings, catalysts) == (["X", "Y"], ["a", "b"])
    assert car[0].tolist() == [0.01, 0.03] and car[1][0] == -0.02 and np.isnan(car[1][1])
    # placebo p where there is one, else the residual t p: X/b has no placebo p -> p_t 0.005
    assert marks == [["", "***"], ["**", ""]]
    assert [stars(p) for p in (0.2, 0.09, 0.049, 0.0099, float("nan"))] == ["", "*", "**", "***", ""]
