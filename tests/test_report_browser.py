"""The tearsheet as a person sees it: opened in headless Chromium, nothing fetched, images shown.

Needs the Debian ``chromium`` package (``/usr/bin/chromium``; override with
``CATALYST_BT_CHROMIUM``) and the ``playwright`` Python package (test extra); the browser
Playwright would download is never used. Without them the test is skipped locally and
FAILS when the environment variable ``CI`` is set (``.ci/run`` installs chromium).
A full-page screenshot goes to the test's tmp dir and, when ``CATALYST_BT_ARTIFACTS`` is
set, into that folder too.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from backtests.report import render_report
from cli_runner import run_cli
from report_factory import STUDY_TOML, demo_run

CHROMIUM = Path(os.environ.get("CATALYST_BT_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


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


@pytest.fixture(scope="module")
def report_html(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A tearsheet of the synthetic demo run plus an event study in the same folder."""
    _require_browser()  # before the run: a skip should cost nothing
    base = tmp_path_factory.mktemp("browser")
    out = demo_run(base / "run")
    cfg = base / "study.toml"
    cfg.write_text(STUDY_TOML)
    assert run_cli(["study", str(cfg), "--out", str(out)]) == 0
    return render_report(out)


def test_tearsheet_opens_in_chromium_without_errors_or_requests(report_html: Path, tmp_path: Path) -> None:
    _require_browser()
    from playwright.sync_api import sync_playwright

    url = report_html.resolve().as_uri()
    console_errors: list[str] = []
    page_errors: list[str] = []
    failed: list[str] = []
    requests: list[str] = []
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            page.on("console", lambda m: console_errors.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: page_errors.append(str(e)))
            page.on("requestfailed", lambda r: failed.append(f"{r.url[:100]}: {r.failure}"))
            page.on("request", lambda r: requests.append(r.url))
            page.goto(url, wait_until="load")
            images = page.evaluate(
                "Array.from(document.images).map(i => ({alt: i.alt, complete: i.complete, w: i.naturalWidth,"
                " src: i.currentSrc.slice(0, 22)}))")
            banner = page.locator("#synthetic-banner")
            assert banner.is_visible() and "SYNTHETIC DATA" in banner.inner_text()
            for anchor in ("equity", "catalysts", "trades", "event-study", "provenance"):
                assert page.locator(f"#{anchor}").count() == 1, anchor
            shot = tmp_path / "tearsheet.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert console_errors == [] and page_errors == [], (console_errors, page_errors)
    assert failed == []
    assert all(u == url or u.startswith("data:") for u in requests), requests
    assert len(images) >= 5
    for img in images:
        assert img["complete"] and img["w"] > 0, img
        assert img["src"] == "data:image/png;base64,", img
    assert shot.stat().st_size > 10_000
    artifacts = os.environ.get("CATALYST_BT_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / "tearsheet.png")
