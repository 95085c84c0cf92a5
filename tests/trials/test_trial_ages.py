"""Age limits as ClinicalTrials.gov writes them, parsed to exact years."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialscreen.trials import age_in_years
from trialscreen.trials.ages import DAYS_PER_YEAR


@pytest.mark.parametrize(
    ("text", "years"),
    [
        ("18 Years", Fraction(18)),
        ("1 Year", Fraction(1)),
        ("6 Months", Fraction(1, 2)),
        ("1 Month", Fraction(1, 12)),
        ("2 Weeks", 14 / DAYS_PER_YEAR),
        ("28 Days", 28 / DAYS_PER_YEAR),
        ("24 Hours", 1 / DAYS_PER_YEAR),
        (" 70 years ", Fraction(70)),
    ],
)
def test_units(text: str, years: Fraction) -> None:
    assert age_in_years(text) == years


@pytest.mark.parametrize("text", ["N/A", "n/a", "", "  "])
def test_no_limit(text: str) -> None:
    assert age_in_years(text) is None


@pytest.mark.parametrize("text", ["eighteen", "18", "Years", "18 Fortnights", "-3 Years"])
def test_rejects_text_that_is_not_an_age(text: str) -> None:
    with pytest.raises(ValueError, match="age"):
        age_in_years(text)


@given(st.integers(min_value=0, max_value=150))
def test_twelve_months_are_a_year_and_days_order_like_weeks(n: int) -> None:
    assert age_in_years(f"{12 * n} Months") == age_in_years(f"{n} Years") == n
    assert age_in_years(f"{7 * n} Days") == age_in_years(f"{n} Weeks")


@given(st.integers(min_value=0, max_value=10_000), st.integers(min_value=0, max_value=10_000))
def test_more_units_mean_more_years(a: int, b: int) -> None:
    for unit in ("Years", "Months", "Weeks", "Days"):
        left, right = age_in_years(f"{a} {unit}"), age_in_years(f"{b} {unit}")
        assert left is not None and right is not None
        assert (left < right) == (a < b)
