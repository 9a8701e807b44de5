"""Shared fixtures: the real price folder (skipped with a reason when absent)."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
PRICES_DIR = SHARED_DIR / "data" / "prices"
SEEDS_DIR = SHARED_DIR / "seeds"


@pytest.fixture(scope="session")
def prices_dir() -> Path:
    """``../shared/data/prices`` beside the repository; skip when it is not there."""
    if not (PRICES_DIR / "9988.HK.csv").is_file():
        pytest.skip(f"real price data not found at {PRICES_DIR} (CI provides ../shared beside the clone)")
    return PRICES_DIR


@pytest.fixture(scope="session")
def seeds_dir() -> Path:
    """``../shared/seeds`` (source articles); skip when it is not there."""
    if not any(SEEDS_DIR.glob("*.txt")):
        pytest.skip(f"seed articles not found at {SEEDS_DIR} (CI provides ../shared beside the clone)")
    return SEEDS_DIR
