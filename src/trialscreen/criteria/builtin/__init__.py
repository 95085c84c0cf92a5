"""Curated computable criteria shipped with the project, one file per trial."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

from trialscreen.criteria.criterion import CriteriaSet
from trialscreen.criteria.files import load

BUILTIN_DIR = Path(__file__).parent


def builtin_ids() -> list[str]:
    return sorted(p.stem for p in BUILTIN_DIR.glob("NCT*.yaml"))


@lru_cache(maxsize=16)
def builtin_criteria(nct_id: str) -> CriteriaSet | None:
    """The curated criteria of a trial, or None when the project has none."""
    path = BUILTIN_DIR / f"{nct_id.strip().upper()}.yaml"
    return load(path) if path.exists() else None
