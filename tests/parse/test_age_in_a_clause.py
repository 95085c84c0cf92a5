"""An age written beside other terms is read or left to a person, never dropped.

Every word of "Male and/or female patients from 30-80 years of age with a diagnosis of type 2
diabetes" but the diagnosis is filler to the clause reader, so the age vanished without a
trace. An inclusion now holds only for that age (all of the age and the rest); an age at some
event ("onset before the age of 50") or in an exclusion goes to a person.
"""

from __future__ import annotations

from typing import Any

import pytest

from trialscreen.criteria import Age, AllOf, Uncertain
from trialscreen.parse import parse_text


def _rule(line: str, heading: str) -> Any:
    parsed = parse_text(f"{heading}\n- {line}")
    (criterion,) = parsed.criteria.criteria
    return criterion.rule


def _ages(node: Any) -> list[Age]:
    found = [node] if isinstance(node, Age) else []
    for child in [*(getattr(node, "items", None) or ()), getattr(node, "item", None)]:
        if child is not None:
            found += _ages(child)
    return found


@pytest.mark.parametrize(
    ("line", "low", "high"),
    [
        ("Male and/or female patients from 30-80 years of age with a diagnosis of type 2 diabetes", 30, 80),
        ("Patients aged 18 years or older with relapsed acute myeloid leukemia", 18, None),
        ("Men and women 18 to 65 years old with a BMI of 35 kg/m2 or greater", 18, 65),
    ],
)
def test_an_inclusion_holds_only_for_the_age(line: str, low: int, high: int | None) -> None:
    rule = _rule(line, "Inclusion Criteria:")
    assert isinstance(rule, AllOf), rule
    (age,) = _ages(rule)
    assert (age.min, age.max) == (low, high)
    text = line.lower()
    assert age.source is not None and str(low) in text[age.source[0] : age.source[1]]


@pytest.mark.parametrize(
    "line",
    [
        "Diagnosis of type 2 diabetes before the age of 60 years",
        "Onset of migraine at less than 50 years of age",
    ],
)
def test_an_age_at_an_event_is_left_to_a_person(line: str) -> None:
    rule = _rule(line, "Inclusion Criteria:")
    assert not _ages(rule), rule
    assert isinstance(rule, Uncertain) or "manual" in repr(rule), rule


def test_an_exclusion_asks_a_person_about_the_age() -> None:
    rule = _rule("Patients older than 75 years with heart failure", "Exclusion Criteria:")
    assert not _ages(rule), rule
    assert isinstance(rule, Uncertain) and "75" in rule.reason, rule
