"""Tearsheet panels plug in without touching the core: placement, needs, flags, facts, failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

from backtests.reporting import build_report, load_results
from backtests.reporting.fragments import Column, chart, table
from backtests.reporting.panels import Fragment, Panel, discover, render_panels
from backtests.reporting.tables import Cell
from report_factory import demo_run
from report_html import parse_tearsheet


@pytest.fixture(scope="module")
def demo_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return demo_run(tmp_path_factory.mktemp("demo"))


@dataclass
class FakePanel:
    name: str = "fake"
    needs: tuple[str, ...] = ()
    order: int = 75
    fragment: Fragment | None = None
    error: Exception | None = None
    calls: list[str] = field(default_factory=list)

    def render(self, folder):  # noqa: ANN001, ANN201 - the protocol's signature
        self.calls.append(folder.path.name)
        if self.error is not None:
            raise self.error
        return self.fragment


def test_discovered_panels_follow_the_protocol() -> None:
    panels = discover()
    assert all(isinstance(p, Panel) for p in panels)
    assert [(p.order, p.name) for p in panels] == sorted((p.order, p.name) for p in panels)


def test_a_panel_lands_between_core_sections_with_nav_flags_and_facts(demo_dir: Path) -> None:
    frag = Fragment(anchor="claims", title="Claims", html="<p id='claims-body'>hello</p>",
                    flags=("borrowed beyond the limit on 2025-03-04",), facts=(("claims file", "claims.csv"),))
    html = build_report(load_results(demo_dir), panels=(FakePanel(fragment=frag),)).html
    ids = parse_tearsheet(html).ids
    assert ids.index("trades") < ids.index("claims") < ids.index("provenance")   # order 75: after trades (70)
    assert "equity" not in ids                   # panels=(...) replaces the discovered ones
    assert '<a href="#claims">Claims</a>' in html
    assert "borrowed beyond the limit on 2025-03-04" in html and 'id="headline-flags"' in html
    assert "claims file: <b>claims.csv</b>" in html


def test_needs_gate_the_panel_and_a_failing_panel_costs_only_itself(demo_dir: Path) -> None:
    absent = FakePanel(name="absent", needs=("cross_section.csv",), fragment=Fragment(anchor="x", title="X"))
    broken = FakePanel(name="broken", error=KeyError("column 'z'"))
    placed, problems = render_panels(load_results(demo_dir), (absent, broken))
    assert absent.calls == [] and placed == []
    assert len(problems) == 1 and "panel 'broken' failed (KeyError" in problems[0]
    html = build_report(load_results(demo_dir), panels=(absent, broken)).html
    assert "panel &#39;broken&#39; failed" in html and "metrics" in parse_tearsheet(html).ids


def test_tables_and_charts_bring_their_script_once(demo_dir: Path) -> None:
    body = table([Column(label="name"), Column(label="value", num=True)],
                 [["a", Cell(text="2.00", raw="2.0", css="num")], ["b", Cell(text="10.00", raw="10.0", css="num")]],
                 table_id="fake-table", filterable=True)
    body += chart("fake", {"data": [{"type": "scatter", "x": ["2025-01-02"], "y": [1.0]}], "layout": {"height": 200}},
                  caption="a </script> caption")
    html = build_report(load_results(demo_dir), panels=(FakePanel(fragment=Fragment(anchor="f", title="F",
                                                                                     html=body)),)).html
    assert html.count('id="plotly-gz"') == 1 and html.count("Plotly.newPlot") == 1
    assert 'class="sortable' in html and 'data-filter-for="fake-table"' in html
    assert "a &lt;/script&gt; caption" in html


def test_element_ids_are_checked() -> None:
    with pytest.raises(ValueError, match="element id"):
        table([], [], table_id="Bad Id")


def test_every_chart_spec_is_valid_plotly(demo_dir: Path, tmp_path: Path) -> None:
    """plotly.js ignores misspelt properties silently; plotly.py's validators do not."""
    import json
    import re
    import shutil

    import plotly.graph_objects as go

    from report_factory import real_sweep

    out = Path(shutil.copytree(demo_dir, tmp_path / "all"))
    real_sweep(tmp_path / "sweep")
    for name in ("sweep_summary.json", "sweep.parquet", "sweep_best_returns.csv"):
        shutil.copy(tmp_path / "sweep" / name, out / name)
    for csv in (tmp_path / "sweep").glob("heatmap_*.csv"):
        shutil.copy(csv, out / csv.name)
    html = build_report(load_results(out)).html
    visible = re.sub(r"<script.*?</script>", "", html, flags=re.S)
    for raw_key in ("sharpe_variance", "synthetic_data", "expected_max_sharpe", "synthetic data False"):
        assert raw_key not in visible, raw_key     # the sweep page speaks in words, not summary keys
    assert "Luck: the best of 96 tries" in visible and "Out of sample:" in visible
    specs = re.findall(r'<script type="application/json" id="(chart-[a-z0-9-]+)-data">(.*?)</script>', html)
    assert len(specs) >= 10
    for chart_id, text in specs:
        spec = json.loads(text)
        go.Figure(data=spec["data"], layout=spec["layout"])   # raises ValueError naming a bad property
        assert set(spec) <= {"data", "layout", "narrow"}, chart_id
