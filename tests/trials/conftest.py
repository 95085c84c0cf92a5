"""Fixtures for the trials tests: skip, with the reason, when ../shared is absent."""

from __future__ import annotations

from pathlib import Path

import pytest
from trials_test_paths import CTGOV_DIR, SEED_LISTING


@pytest.fixture
def ctgov_dir() -> Path:
    if not CTGOV_DIR.is_dir():
        pytest.skip(f"shared ClinicalTrials.gov data not found at {CTGOV_DIR}")
    return CTGOV_DIR


@pytest.fixture
def seed_listing() -> str:
    if not SEED_LISTING.is_file():
        pytest.skip(f"seed trial listing not found at {SEED_LISTING}")
    return SEED_LISTING.read_text(encoding="utf-8")
