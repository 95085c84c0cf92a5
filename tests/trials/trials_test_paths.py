"""Paths to the shared data the trials tests read (read-only, may be absent)."""

from __future__ import annotations

from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED = REPO_ROOT / ".." / "shared"
CTGOV_DIR = SHARED / "data" / "ctgov"
SEED_LISTING = SHARED / "seed" / "trial-listing.txt"
SHIPPED_SEED = REPO_ROOT / "src" / "trialscreen" / "trials" / "data" / "NCT06125652.json"


def ctgov_files() -> list[Path]:
    """Every JSON file of the shared ClinicalTrials.gov data (empty when it is absent)."""
    return sorted(CTGOV_DIR.rglob("*.json")) if CTGOV_DIR.is_dir() else []
