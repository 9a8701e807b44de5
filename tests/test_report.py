"""The tearsheet: partial folders, numbers equal to summary.json, self-containment, determinism."""

from __future__ import annotations

import base64
import gzip
import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import plotly
import pytest

from backtests.reporting import ReportInputError, build_report, load_results, render_report
from backtests.reporting.equity_chart import _catalyst_cluster, _Label, _lanes
from backtests.reporting.formatting import format_metric, metric_kind
from backtests.reporting.series import Curves, monthly_returns, rolling_beta_alpha, underwater
from cli_runner import run_cli
from report_factory import REPO, STUDY_TOML, demo_run, write_sweep_fixture
from report_html import parse_tearsheet

@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The synthetic demo run, with every file of the output contract."""
    return demo_run(tmp_path_factory.mktemp("demo"))


@pytest.fixture(scope="module")
def study_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """``catalyst-bt study`` on the synthetic market (event_study.csv/json only)."""
    base = tmp_path_factory.mktemp("study")
    cfg = base / "study.toml"
    cfg.write_text(STUDY_TOML)
    out = base / "out"
    assert run_cli(["study", str(cfg), "--out", str(out)]) == 0
    return out


def copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst, dirs_exist_ok=True)
    return dst


def section_ids(html: str) -> set[str]:
    return set(parse_tearsheet(html).ids)


# ---------------------------------------------------------------- what a folder must hold


def test_empty_folder_is_a_user_error_naming_the_expected_files(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError) as err:
        render_report(tmp_path)
    msg = str(err.value)
    for name in ("summary.json", "returns.csv", "trades.csv", "event_study.json", "sweep_summary.json"):
        assert name in msg
    assert "catalyst-bt run" in msg and "catalyst-bt study" in msg
    assert not (tmp_path / "tearsheet.html").exists()


def test_missing_folder_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(ReportInputError, match="not a folder"):
        render_report(tmp_path / "nope")


def test_cli_report_on_an_empty_folder_exits_2_with_the_message(tmp_path: Path,
                                                               capsys: pytest.CaptureFixture) -> None:
    assert run_cli(["report", str(tmp_path)]) == 2
    assert "summary.json" in capsys.readouterr().err


# ---------------------------------------------------------------- partial folders


def test_only_summary_json(tmp_path: Path, demo_dir: Path) -> None:
    shutil.copy(demo_dir / "summary.json", tmp_path / "summary.json")
    html = render_report(tmp_path).read_text()
    ids = section_ids(html)
    assert "metrics" in ids
    assert not {"equity", "drawdown", "trades", "event-study", "sweep"} & ids
    assert "<img" not in html


def test_run_folder_without_event_study(tmp_path: Path, demo_dir: Path) -> None:
    out = copy(demo_dir, tmp_path / "run")
    html = render_report(out).read_text()
    ids = section_ids(html)
    assert {"context", "metrics", "equity", "catalysts", "drawdown", "risk", "monthly", "rolling", "trades",
            "provenance"} <= ids
    assert "event-study" not in ids and "sweep" not in ids
    assert "★ qwen25max" in html and "★ capex_380b" in html
    charts = {i for i in ids if i.startswith("chart-") and not i.endswith("-data")}
    assert {"chart-equity", "chart-drawdown", "chart-distribution", "chart-monthly", "chart-rolling-sharpe",
            "chart-rolling-beta"} <= charts
    assert not (out / "figures").exists()          # PNG files only on request (issue 16: interactive charts)
    render_report(out, png=True)
    names = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert names == ["drawdown.png", "equity.png", "monthly_returns.png", "rolling_beta_alpha.png"]


def test_run_folder_with_only_the_original_files_falls_back_to_equity_csv(tmp_path: Path, demo_dir: Path) -> None:
    out = tmp_path / "old"
    out.mkdir()
    for name in ("summary.json", "trades.csv", "equity.csv", "costs.csv"):
        shutil.copy(demo_dir / name, out / name)
    html = render_report(out).read_text()
    ids = section_ids(html)
    assert {"equity", "drawdown", "monthly", "trades"} <= ids
    assert "rolling" not in ids            # needs the benchmark returns of returns.csv
    assert "benchmark curve not available" in html


def test_event_study_only_folder(tmp_path: Path, study_dir: Path) -> None:
    out = copy(study_dir, tmp_path / "es")
    html = render_report(out).read_text()
    ids = section_ids(html)
    assert "event-study" in ids
    assert not {"equity", "trades", "metrics"} & ids
    assert "chart-event-car" in ids
    # a study-only page still says what it covers, from which config and data (issue 16)
    assert "context" in ids and "study.toml" in html and "placebo seed" in html and "day 0s" in html
    doc = json.loads((out / "event_study.json").read_text())
    first = doc["table"][0]
    assert first["catalyst_id"] in html
    assert "lead–lag" in html
    # synthetic prices: the study says so, and so does the report
    assert doc["meta"]["synthetic"] is True and 'id="synthetic-banner"' in html


def test_event_study_csv_alone_gives_the_table_without_paths(tmp_path: Path, study_dir: Path) -> None:
    shutil.copy(study_dir / "event_study.csv", tmp_path / "event_study.csv")
    html = render_report(tmp_path).read_text()
    assert "event-study" in section_ids(html)
    assert "<img" not in html


def test_sweep_only_folder(tmp_path: Path) -> None:
    out = write_sweep_fixture(tmp_path / "sweep")
    html = render_report(out).read_text()
    ids = section_ids(html)
    assert "sweep" in ids and "equity" not in ids
    cells = {c.key: c for c in parse_tearsheet(html).cells}
    assert int(cells["trials"].value) == 12
    assert float(cells["deflated_sharpe"].value) == 0.4321 and cells["deflated_sharpe"].text == "0.432"
    assert float(cells["pbo"].value) == 0.375
    assert {"chart-heatmap-0", "chart-heatmap-1"} <= set(ids)
    assert "sweep.parquet: not found" in html      # the fixture has no table: said, not hidden
    render_report(out, png=True)
    figs = sorted(p.name for p in (out / "figures").glob("*.png"))
    assert figs == ["sweep_heatmap_hold_sessions__notional.png", "sweep_heatmap_hold_sessions__stop_loss.png"]


def test_a_broken_file_costs_its_panel_not_the_report(tmp_path: Path, demo_dir: Path) -> None:
    out = copy(demo_dir, tmp_path / "run")
    (out / "returns.csv").write_text("session,foo\n2025-01-02,1\n")
    (out / "provenance.json").write_text("{not json")
    html = render_report(out).read_text()
    ids = section_ids(html)
    assert "report-problems" in ids
    assert "returns.csv: lacks column(s)" in html and "provenance.json: not valid JSON" in html
    assert "equity" in ids                   # equity.csv still draws the curve


def test_files_with_headers_only_and_nan_metrics(tmp_path: Path, demo_dir: Path) -> None:
    for name in ("trades.csv", "costs.csv", "equity.csv", "schedule.csv", "returns.csv"):
        header = (demo_dir / name).read_text().splitlines()[0]
        (tmp_path / name).write_text(header + "\n")
    (tmp_path / "summary.json").write_text('{"metrics": {"sharpe": NaN, "total_return": 0.0}, '
                                           '"benchmark_metrics": {}, "synthetic_data": false}')
    html = render_report(tmp_path).read_text()
    ids = section_ids(html)
    assert "No trades in this run" in html and "catalysts" not in ids and "equity" not in ids
    assert "returns.csv: no rows" in html
    cells = {(c.side, c.key): c for c in parse_tearsheet(html).cells}
    assert cells[("strategy", "sharpe")].text == "–" and cells[("strategy", "total_return")].text == "0.00%"


def test_everything_together(tmp_path: Path, demo_dir: Path, study_dir: Path) -> None:
    out = copy(demo_dir, tmp_path / "all")
    copy(study_dir, out)
    write_sweep_fixture(out)
    html = render_report(out).read_text()
    assert {"metrics", "equity", "catalysts", "trades", "event-study", "sweep", "provenance"} <= section_ids(html)


# ---------------------------------------------------------------- numbers equal summary.json


def _close(key: str, text: str, value: float) -> bool:
    """Does the visible text show ``value`` as :func:`format_metric` promises?"""
    number = float(text.replace(",", "").replace("%", "").split()[-1])
    kind = metric_kind(key)
    if kind == "pct":
        return abs(number / 100 - value) <= 0.5e-4 + 1e-12
    if kind in ("money", "ratio"):
        return abs(number - value) <= 0.005 + 1e-9
    if kind == "periods":
        return abs(number - value) <= 0.05 + 1e-9
    return abs(number - value) <= 0.5


def test_metric_values_in_the_html_equal_summary_json(tmp_path: Path, demo_dir: Path) -> None:
    out = copy(demo_dir, tmp_path / "run")
    summary = json.loads((out / "summary.json").read_text())
    assert summary["metrics"] and summary["benchmark_metrics"]
    cells = parse_tearsheet(render_report(out).read_text()).cells
    by = {(c.side, c.key): c for c in cells}
    checked = 0
    for side, block in (("strategy", summary["metrics"]), ("benchmark", summary["benchmark_metrics"])):
        for key, value in block.items():
            cell = by[(side, key)]
            if value is None or (isinstance(value, float) and math.isnan(value)):
                assert cell.value == "" and cell.text == "–", (side, key, cell)
                continue
            assert float(cell.value) == value, (side, key, cell.value, value)
            assert _close(key, cell.text, value), (side, key, cell.text, value)
            checked += 1
    cards = [c for c in cells if c.side == "card"]
    assert {c.key for c in cards} >= {"total_return", "max_drawdown", "final_equity_base", "costs_base", "trade_count"}
    for card in cards:
        value = (summary if card.source == "summary" else summary[card.source])[card.key]
        assert float(card.value) == value and _close(card.key, card.text, value), card
    assert checked >= len(summary["metrics"])
    # periods_per_year is on show: the calendar's, not 252
    assert 240 < float(by[("strategy", "periods_per_year")].value) < 250


def test_summary_without_metrics_block_shows_its_own_figures(tmp_path: Path, demo_dir: Path) -> None:
    summary = json.loads((demo_dir / "summary.json").read_text())
    old = {k: v for k, v in summary.items() if k not in ("metrics", "benchmark_metrics")}
    (tmp_path / "summary.json").write_text(json.dumps(old))
    html = render_report(tmp_path).read_text()
    cards = [c for c in parse_tearsheet(html).cells if c.side == "card"]
    assert {c.source for c in cards} == {"summary"}
    for card in cards:
        assert float(card.value) == old[card.key] and _close(card.key, card.text, old[card.key])
    assert [c for c in cards if c.key == "benchmark_return"], "the benchmark's return over the same span"
    assert 'no "metrics" block' in html


def test_trade_rows_match_trades_csv_and_costs_sum_per_trade(tmp_path: Path, demo_dir: Path) -> None:
    out = copy(demo_dir, tmp_path / "run")
    cells = parse_tearsheet(render_report(out).read_text()).cells
    trades = pd.read_csv(out / "trades.csv")
    costs = pd.read_csv(out / "costs.csv")
    net = [float(c.value) for c in cells if c.key == "net_pnl_base"]
    assert net == pytest.approx(trades.sort_values("trade_id")["net_pnl_base"].tolist(), rel=0, abs=0)
    stamp = [c for c in cells if c.key == "stamp_duty"]
    expected = costs.groupby("trade_id")["stamp_duty"].sum(min_count=1).reindex(sorted(trades["trade_id"]))
    assert len(stamp) == len(trades)
    for cell, exp in zip(stamp, expected):
        assert (cell.value == "" and pd.isna(exp)) or float(cell.value) == pytest.approx(exp, abs=1e-9)


# ---------------------------------------------------------------- self-contained, deterministic, headless


def test_html_is_self_contained_with_plotly_inlined_once(tmp_path: Path, demo_dir: Path, study_dir: Path) -> None:
    # issue 16 changed this: interactive charts (inline scripts) instead of embedded PNGs
    out = copy(demo_dir, tmp_path / "all")
    copy(study_dir, out)
    html = render_report(out).read_text()
    parsed = parse_tearsheet(html)
    assert not parsed.srcs and not parsed.images              # no <script src>, no <img>
    assert "@import" not in html and "url(" not in html and "http://" not in html and "https://" not in html
    assert all(h.startswith(("#", "data:")) for h in parsed.hrefs)
    assert html.count('id="plotly-gz"') == 1
    packed = html.split('id="plotly-gz">', 1)[1].split("<", 1)[0]
    bundle = gzip.decompress(base64.b64decode(packed))
    assert bundle == (Path(plotly.__file__).parent / "package_data" / "plotly.min.js").read_bytes()
    assert (out / "tearsheet.html").stat().st_size < 5_000_000


def test_same_folder_same_bytes(tmp_path: Path, demo_dir: Path) -> None:
    a = copy(demo_dir, tmp_path / "a")
    b = copy(demo_dir, tmp_path / "b")
    assert render_report(a).read_bytes() == render_report(b).read_bytes()
    assert render_report(a, png=True).read_bytes() == render_report(b, png=True).read_bytes()
    assert list((a / "figures").glob("*.png"))
    for png in (a / "figures").glob("*.png"):
        assert png.read_bytes() == (b / "figures" / png.name).read_bytes()


def test_rendering_never_imports_pyplot_or_backtrader_plot(demo_dir: Path, tmp_path: Path) -> None:
    out = copy(demo_dir, tmp_path / "run")
    code = (
        "import sys\n"
        "from backtests.reporting import render_report\n"
        f"render_report({str(out)!r})\n"
        "bad = sorted(m for m in sys.modules if m in ('matplotlib.pyplot', 'backtrader.plot', 'tkinter'))\n"
        "print(','.join(bad))\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=REPO, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == ""


def test_synthetic_banner_only_for_synthetic_data(tmp_path: Path, demo_dir: Path) -> None:
    synthetic = json.loads((demo_dir / "summary.json").read_text())
    assert synthetic["synthetic_data"] is True
    (tmp_path / "syn").mkdir()
    (tmp_path / "syn" / "summary.json").write_text(json.dumps(synthetic))
    assert 'id="synthetic-banner"' in render_report(tmp_path / "syn").read_text()
    real = dict(synthetic, synthetic_data=False)
    (tmp_path / "real").mkdir()
    (tmp_path / "real" / "summary.json").write_text(json.dumps(real))
    assert 'id="synthetic-banner"' not in render_report(tmp_path / "real").read_text()


def test_user_text_is_escaped(tmp_path: Path) -> None:
    (tmp_path / "summary.json").write_text(json.dumps({"strategy": "<b>x</b>", "total_return": 0.1}))
    (tmp_path / "notes.txt").write_text("<script>alert(1)</script>\n")
    html = render_report(tmp_path).read_text()
    assert "<script>" not in html and "&lt;script&gt;" in html and "&lt;b&gt;x&lt;/b&gt;" in html


def test_cli_report_and_run_report_flag(tmp_path: Path, capsys: pytest.CaptureFixture) -> None:
    out = tmp_path / "run"
    assert run_cli(["run", str(REPO / "backtests" / "data" / "demo.toml"), "--out", str(out), "--report"]) == 0
    assert (out / "tearsheet.html").is_file()
    (out / "tearsheet.html").unlink()
    assert run_cli(["report", str(out), "--png"]) == 0
    assert (out / "tearsheet.html").is_file() and (out / "figures" / "equity.png").is_file()
    assert "tearsheet.html" in capsys.readouterr().out


def test_study_report_flag(tmp_path: Path) -> None:
    cfg = tmp_path / "study.toml"
    cfg.write_text(STUDY_TOML)
    assert run_cli(["study", str(cfg), "--out", str(tmp_path / "es"), "--report"]) == 0
    assert (tmp_path / "es" / "tearsheet.html").is_file()
    assert 'id="chart-event-car"' in (tmp_path / "es" / "tearsheet.html").read_text()


# ---------------------------------------------------------------- the arithmetic, by hand


def test_formatting_by_metric_name() -> None:
    assert format_metric("total_return", 0.28826) == "28.83%"
    assert format_metric("max_drawdown", -0.0331) == "-3.31%"
    assert format_metric("volatility_annual", 0.0926) == "9.26%"
    assert format_metric("tracking_error_annual", 0.3688) == "36.88%"
    assert format_metric("hit_rate", 0.95) == "95.00%" and format_metric("exposure", 0.146) == "14.60%"
    assert format_metric("sharpe", 2.5674) == "2.57" and format_metric("beta", 0.0645) == "0.06"
    assert format_metric("average_trade_pnl_base", 14412.6152, "HKD") == "HKD 14,412.62"
    assert format_metric("periods_per_year", 246.0) == "246.0"
    assert format_metric("max_drawdown_duration_sessions", 3.0) == "3"
    assert format_metric("trade_count", 20) == "20"
    assert format_metric("sharpe", float("nan")) == "–" and format_metric("sharpe", None) == "–"


def test_monthly_table_compounds_returns_by_hand() -> None:
    idx = pd.to_datetime(["2025-01-02", "2025-01-03", "2025-02-03", "2026-03-02"])
    r = pd.Series([0.10, -0.05, 0.02, 0.01], index=idx)
    curves = Curves(strategy_equity_base=(1 + r).cumprod(), benchmark_equity_base=None, strategy_return=r,
                    benchmark_return=None, start_value_base=1.0, clock="test")
    table = monthly_returns(curves)
    assert table.loc[2025, 1] == pytest.approx(1.10 * 0.95 - 1)
    assert table.loc[2025, 2] == pytest.approx(0.02)
    assert np.isnan(table.loc[2025, 3]) and table.loc[2026, 3] == pytest.approx(0.01)
    assert table.loc[2025, "year"] == pytest.approx(1.10 * 0.95 * 1.02 - 1)


def test_rolling_beta_and_alpha_recover_a_known_line() -> None:
    rng = np.random.default_rng(0)
    idx = pd.bdate_range("2025-01-01", periods=100)
    rb = pd.Series(rng.normal(0, 0.01, 100), index=idx)
    rs = 0.001 + 2.0 * rb
    out = rolling_beta_alpha(rs, rb, window_sessions=20, periods_per_year=246.0)
    assert out["beta"].iloc[:19].isna().all()
    assert out["beta"].iloc[19:].to_numpy() == pytest.approx(2.0)
    assert out["alpha"].iloc[19:].to_numpy() == pytest.approx(0.001 * 246.0)
    # no look-ahead: changing the future leaves earlier values alone
    rs2 = rs.copy()
    rs2.iloc[60:] += 0.05
    again = rolling_beta_alpha(rs2, rb, window_sessions=20, periods_per_year=246.0)
    pd.testing.assert_frame_equal(out.iloc[:60], again.iloc[:60])


def test_underwater_counts_the_starting_capital_as_a_peak() -> None:
    eq = pd.Series([90.0, 100.0, 120.0, 60.0])
    assert underwater(eq, 100.0).tolist() == pytest.approx([-0.1, 0.0, 0.0, -0.5])


def test_catalyst_labels_never_overlap_in_a_lane() -> None:
    labels = [_Label(catalyst_id=f"c{i}", x=pd.Timestamp("2025-01-01"), starred=False, width_in=1.0, text=f"c{i}")
              for i in range(5)]
    x_in = {"c0": 0.0, "c1": 0.1, "c2": 0.5, "c3": 1.2, "c4": 3.0}
    placed = _lanes(labels, x_in, pad_in=0.1)
    lanes = {lb.catalyst_id: lb.lane for lb in placed}
    assert lanes == {"c0": 0, "c1": 1, "c2": 2, "c3": 0, "c4": 0}
    for a in placed:
        for b in placed:
            if a is not b and a.lane == b.lane:
                lo, hi = sorted((a, b), key=lambda lb: x_in[lb.catalyst_id])
                assert x_in[lo.catalyst_id] + lo.width_in + 0.1 <= x_in[hi.catalyst_id]


def test_zoom_only_for_a_tight_cluster_of_catalysts() -> None:
    lo, hi = pd.Timestamp("2024-10-01"), pd.Timestamp("2025-10-31")
    dense = [pd.Timestamp(d) for d in ("2025-01-21", "2025-01-28", "2025-02-03", "2025-02-12", "2025-09-25")]
    zoom = _catalyst_cluster(dense, lo, hi)
    assert zoom is not None and zoom[0] < pd.Timestamp("2025-01-21") and pd.Timestamp("2025-02-12") < zoom[1]
    assert zoom[1] < pd.Timestamp("2025-09-25")
    sparse = [pd.Timestamp(d) for d in ("2024-11-01", "2025-03-01", "2025-07-01")]
    assert _catalyst_cluster(sparse, lo, hi) is None


def test_build_report_in_memory_matches_files(tmp_path: Path, demo_dir: Path) -> None:
    out = copy(demo_dir, tmp_path / "run")
    report = build_report(load_results(out))
    assert render_report(out).read_text() == report.html
