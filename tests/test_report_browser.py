"""The tearsheet as a person sees it: each page kind (run, study, sweep, run+study) opened in
headless Chromium at 1400 and 390 px wide: no console errors, nothing fetched, charts drawn,
hover shows a value, a table sorts, nothing wider than the phone screen.

Needs the Debian ``chromium`` package (``/usr/bin/chromium``; override with
``CATALYST_BT_CHROMIUM``) and the ``playwright`` Python package (test extra); the browser
Playwright would download is never used. Without them the test is skipped locally and
FAILS when the environment variable ``CI`` is set (``.ci/run`` installs chromium).
Full-page screenshots go to the test's tmp dir and, when ``CATALYST_BT_ARTIFACTS`` is set,
into that folder too (``tearsheet-<kind>-<width>.png``).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from typing import Any, Iterator

import pytest

from backtests.reporting import render_report
from cli_runner import run_cli
from report_factory import STUDY_TOML, demo_run, real_sweep

CHROMIUM = Path(os.environ.get("CATALYST_BT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
WIDTHS = (1400, 390)
KINDS = ("run", "study", "sweep", "run+study")


def _require_browser() -> None:
    problem = None
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        problem = "the playwright Python package is not installed (pip install -e '.[test]')"
    if problem is None and not CHROMIUM.is_file():
        problem = f"{CHROMIUM} not found: install the Debian package `chromium` (apt-get install chromium)"
    if problem is None:
        return
    if os.environ.get("CI"):
        pytest.fail(f"browser test cannot run in CI: {problem}")
    pytest.skip(problem)


def _study(out: Path) -> Path:
    cfg = out.parent / f"{out.name}-study.toml"
    cfg.write_text(STUDY_TOML)
    assert run_cli(["study", str(cfg), "--out", str(out)]) == 0
    return out


@pytest.fixture(scope="module")
def pages(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """One tearsheet per page kind (synthetic market)."""
    _require_browser()  # before the runs: a skip should cost nothing
    base = tmp_path_factory.mktemp("browser")
    run = demo_run(base / "run")
    both = _study(Path(shutil.copytree(run, base / "both")))
    study = base / "study"
    study.mkdir()
    for name in ("event_study.json", "event_study.csv"):
        shutil.copy(both / name, study / name)
    return {"run": render_report(run), "study": render_report(study),
            "sweep": render_report(real_sweep(base / "sweep")), "run+study": render_report(both)}


@pytest.fixture(scope="module")
def browser(pages: dict[str, Path]) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            yield b
        finally:
            b.close()


def _hover_text(page: Any) -> str:
    """Move the mouse over the first chart's plot area; the text Plotly shows on hover."""
    area = page.locator(".chart .nsewdrag").first
    area.scroll_into_view_if_needed()
    box = area.bounding_box()
    assert box is not None
    page.mouse.move(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.5, steps=4)
    page.wait_for_function("document.querySelector('.chart .hoverlayer').textContent.trim().length > 0",
                           timeout=5000)
    return page.locator(".chart .hoverlayer").first.text_content() or ""


def _sorts(page: Any) -> tuple[list[float], list[float]]:
    """Click the first sortable numeric column twice; its values after each click."""
    col = page.evaluate("""() => {
        for (const t of document.querySelectorAll('table.sortable')) {
          if (!t.tBodies[0] || t.tBodies[0].rows.length < 2 || t.offsetParent === null) continue;
          const ths = t.tHead.rows[0].cells;
          for (let i = 0; i < ths.length; i++) {
            const vals = Array.from(t.tBodies[0].rows).map(r => r.cells[i] && r.cells[i].getAttribute('data-value'));
            if (vals.every(v => v !== null && v !== '' && !isNaN(Number(v))) && new Set(vals).size > 1) {
              return {table: t.id, index: i};
            }
          }
        }
        return null; }""")
    assert col is not None, "no visible sortable numeric column"
    header = page.locator(f"#{col['table']} thead tr").first.locator("th").nth(col["index"])
    read = (f"Array.from(document.getElementById('{col['table']}').tBodies[0].rows)"
            f".map(r => Number(r.cells[{col['index']}].getAttribute('data-value')))")
    header.scroll_into_view_if_needed()
    header.click()
    first = page.evaluate(read)
    header.click()
    return first, page.evaluate(read)


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("kind", KINDS)
def test_page_works_offline_in_chromium(pages: dict[str, Path], browser: Any, kind: str, width: int,
                                        tmp_path: Path) -> None:
    url = pages[kind].resolve().as_uri()
    errors: list[str] = []
    requests: list[str] = []
    page = browser.new_page(viewport={"width": width, "height": 900})
    page.on("console", lambda m: errors.append(m.text) if m.type in ("error", "warning") else None)
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.on("requestfailed", lambda r: errors.append(f"failed {r.url[:100]}: {r.failure}"))
    page.on("request", lambda r: requests.append(r.url))
    try:
        page.goto(url, wait_until="load")
        page.wait_for_selector("body[data-charts]", timeout=30_000)
        assert page.evaluate("document.body.dataset.charts") == "ready"
        drawn = page.evaluate("document.querySelectorAll('.chart .main-svg').length")
        assert drawn >= page.evaluate("document.querySelectorAll('[data-chart]').length") >= 1
        assert "SYNTHETIC DATA" in page.locator("#synthetic-banner").inner_text()
        assert page.locator("#context").count() == 1          # span / config / provenance per part
        text = _hover_text(page)
        assert any(ch.isdigit() for ch in text), text
        up, down = _sorts(page)
        assert up == sorted(up) and down == sorted(up, reverse=True) and up != down
        overflow = page.evaluate("document.documentElement.scrollWidth") - width
        assert overflow <= 1, f"page is {overflow}px wider than the {width}px screen"
        shot = tmp_path / f"tearsheet-{kind.replace('+', '-')}-{width}.png"
        page.screenshot(path=str(shot), full_page=True)
    finally:
        page.close()
    assert errors == []
    assert all(u == url or u.startswith("data:") for u in requests), requests
    assert shot.stat().st_size > 10_000
    artifacts = os.environ.get("CATALYST_BT_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / shot.name)
