"""Parse ClinicalTrials.gov age limits ("18 Years", "6 Months", "N/A") into years."""

from __future__ import annotations

import re
from fractions import Fraction

DAYS_PER_YEAR = Fraction(36525, 100)

#: How many years one of each unit is; ClinicalTrials.gov allows these units for age limits.
UNIT_YEARS: dict[str, Fraction] = {
    "year": Fraction(1),
    "month": Fraction(1, 12),
    "week": 7 / DAYS_PER_YEAR,
    "day": 1 / DAYS_PER_YEAR,
    "hour": 1 / (24 * DAYS_PER_YEAR),
    "minute": 1 / (24 * 60 * DAYS_PER_YEAR),
}

#: Texts that mean "no limit" (the legacy format wrote N/A; API v2 usually omits the field).
NO_LIMIT_TEXTS = frozenset({"n/a", "na", "none", "no limit", ""})

_AGE_RE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+?)s?\s*$")


def age_in_years(text: str) -> Fraction | None:
    """Return the age limit `text` in years, or None when it states no limit ("N/A").

    Kept exact (a Fraction) so "6 Months" is exactly 1/2 and comparisons at the boundary
    do not suffer from rounding; raise ValueError for text that is not an age.
    """
    if text.strip().lower() in NO_LIMIT_TEXTS:
        return None
    match = _AGE_RE.match(text)
    if match is None:
        raise ValueError(f"not an age limit: {text!r} (expected e.g. '18 Years' or 'N/A')")
    amount, unit = match.groups()
    per_unit = UNIT_YEARS.get(unit.lower())
    if per_unit is None:
        known = ", ".join(u.capitalize() + "s" for u in UNIT_YEARS)
        raise ValueError(f"unknown age unit {unit!r} in {text!r} (known: {known})")
    return Fraction(amount) * per_unit
