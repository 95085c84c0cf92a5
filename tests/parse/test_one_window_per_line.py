"""A line that states two different time windows is not read with one of them for every item.

The clause reader finds one window and gives it to every term of the line, so "anticoagulants
within 7 days or antiplatelets within 21 days" read the antiplatelets with 7 days. Until each
term gets its own window, such a line goes to a person; one window, or the same one twice,
is still read.
"""

from __future__ import annotations

from typing import Any

import pytest

from trialscreen.criteria import ManualReview
from trialscreen.parse import parse_text
from trialscreen.parse.quantities import find_window, find_windows


def _rule(line: str, heading: str = "Exclusion Criteria:") -> Any:
    parsed = parse_text(f"{heading}\n- {line}")
    (criterion,) = parsed.criteria.criteria
    return criterion.rule


def _windows(node: Any) -> set[str]:
    found: set[str] = set()
    if getattr(node, "window", None):
        found.add(node.window)
    for child in [*(getattr(node, "items", None) or ()), getattr(node, "item", None)]:
        if child is not None:
            found |= _windows(child)
    return found


@pytest.mark.parametrize(
    "line",
    [
        "Use of anticoagulants within 7 days or antiplatelet agents within 21 days before the first dose",
        "Chemotherapy within 4 weeks or radiotherapy within 2 weeks prior to enrolment",
        "Treatment with strong CYP3A4 inducers within 12 days or strong CYP3A4 inhibitors within 7 days prior to the first dose",
    ],
)
def test_two_windows_go_to_a_person(line: str) -> None:
    rule = _rule(line)
    assert isinstance(rule, ManualReview), rule
    assert "window" in (rule.label or "")


@pytest.mark.parametrize(
    "line",
    [
        "Chemotherapy within 4 weeks prior to enrolment",
        "Chemotherapy or radiotherapy within 4 weeks prior to enrolment",
        "Chemotherapy within 4 weeks, or radiotherapy within 4 weeks, prior to enrolment",
    ],
)
def test_one_window_is_still_read(line: str) -> None:
    rule = _rule(line)
    assert not isinstance(rule, ManualReview), rule
    assert _windows(rule) == {"P4W"}


def test_find_windows_lists_every_window_in_order() -> None:
    text = "anticoagulants within 7 days or antiplatelet agents within 21 days"
    found = find_windows(text)
    assert [w.duration for w in found] == ["P7D", "P21D"]
    first = find_window(text)
    assert first is not None and first.duration == found[0].duration
    assert all(text[w.span[0] : w.span[1]].strip() for w in found)


def test_an_age_is_not_a_window() -> None:
    text = "Any allogeneic stem cell transplant recipient ≥ 14 years of age and ≤ 60 years of age"
    assert find_windows(text) == []
    assert find_window(text) is None


def test_years_old_is_an_age_not_a_window() -> None:
    assert find_windows("for women less than 60 years old by a positive urine pregnancy test") == []
