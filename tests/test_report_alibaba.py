"""The issue's acceptance picture: the Alibaba 2025 run on the real prices, with its event study,
rendered and opened in headless Chromium — the equity curve carries the four ★ catalysts'
first-trade markers and the event-study panel is there. The screenshot is kept
(``CATALYST_BT_ARTIFACTS``) for a person to look at."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pandas as pd
import pytest

from cli_runner import run_cli
from test_report_browser import CHROMIUM, CHROMIUM_ARGS, _require_browser

REPO = Path(__file__).resolve().parents[1]
STARRED = {"qwen25max", "apple_report", "earnings_fy25q3", "capex_380b"}


@pytest.mark.realdata
def test_alibaba_2025_tearsheet_shows_starred_catalysts_and_event_study(prices_dir: Path, tmp_path: Path) -> None:
    _require_browser()
    from playwright.sync_api import sync_playwright

    out = tmp_path / "alibaba"
    assert run_cli(["run", str(REPO / "configs" / "alibaba_2025.toml"), "--data-dir", str(prices_dir),
                    "--out", str(out)]) == 0
    assert run_cli(["study", str(REPO / "configs" / "study_alibaba_2025.toml"), "--data-dir", str(prices_dir),
                    "--out", str(out), "--report"]) == 0
    html = out / "tearsheet.html"
    assert html.stat().st_size < 5_000_000

    # the markers drawn are the schedule's first-trade points; the four starred ones fall inside the curve
    schedule = pd.read_csv(out / "schedule.csv")
    returns = pd.read_csv(out / "returns.csv", parse_dates=["session"])
    starred = schedule[schedule["starred"]]
    assert set(starred["catalyst_id"]) == STARRED
    first = pd.to_datetime(starred["first_trade_session"])
    assert ((first >= returns["session"].min()) & (first <= returns["session"].max())).all()

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": 1300, "height": 900})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(html.resolve().as_uri(), wait_until="load")
            page.wait_for_selector("body[data-charts=ready]", timeout=30_000)
            # issue 16: interactive charts instead of images; the markers are hover texts of the equity chart
            markers = page.evaluate("document.getElementById('chart-equity').data"
                                    ".filter(t => t.name.startsWith('catalysts on')).flatMap(t => t.hovertext)"
                                    ".filter(h => h)")
            car_drawn = page.locator("#chart-event-car .main-svg").count()
            stars = page.locator("#catalysts .star").all_inner_texts()
            es_text = page.locator("#event-study").inner_text()
            shot = tmp_path / "tearsheet_alibaba_2025.png"
            page.screenshot(path=str(shot), full_page=True)
        finally:
            browser.close()
    assert errors == []
    assert {m.split(" · ")[0].removeprefix("★ ") for m in markers if m.startswith("★ ")} == STARRED
    assert car_drawn >= 1
    assert {s.replace("★", "").strip() for s in stars} == STARRED
    assert "qwen25max" in es_text and "9988.HK" in es_text and "BABA" in es_text
    artifacts = os.environ.get("CATALYST_BT_ARTIFACTS")
    if artifacts:
        Path(artifacts).mkdir(parents=True, exist_ok=True)
        shutil.copy(shot, Path(artifacts) / shot.name)
