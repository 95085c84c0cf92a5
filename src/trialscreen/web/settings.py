"""How a site is run: database, extra trial records, limits, the screening day."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from pathlib import Path

DEFAULT_DB_URL = "sqlite:///trialscreen-web.db"


@dataclass(frozen=True, slots=True)
class Settings:
    db_url: str = DEFAULT_DB_URL
    trials: tuple[Path, ...] = ()
    """ClinicalTrials.gov JSON files or directories shown beside the built-in trials."""
    apply_per_minute: float = 5.0
    apply_burst: int = 5
    """Applications accepted per client address: `apply_burst` at once, then this many a minute."""
    as_of: date | None = None
    """The day answers are screened for; None means today."""
    secure_cookies: bool = False
    """Mark cookies Secure (set when served over HTTPS)."""
    base_url: str = "http://localhost"
    """Canonical base of the FHIR Questionnaire's `url`."""

    def screening_day(self) -> date:
        return self.as_of or date.today()
