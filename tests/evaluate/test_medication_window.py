"""Past medicine use: `medication` with `timing: ever` or a `window` (any use inside it).

A use counts while its last day (end, else start of a finished record) plus the window is
after the as-of date; an active record without an end is still in use. Each test screens a
one-criterion exclusion so the status reads directly as the node's truth.
"""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from evaluate_support import AS_OF, patient, result
from hypothesis import given, settings
from hypothesis import strategies as st

from trialscreen.criteria import CriteriaSet
from trialscreen.criteria.criterion import Criterion
from trialscreen.criteria.nodes import Medication
from trialscreen.evaluate import Screener
from trialscreen.fhir.builder import ATC, PatientBuilder
from trialscreen.fhir.read import PatientRecord
from trialscreen.report.model import CriterionResult

TACROLIMUS = "42316"


def _screener(node: Medication) -> Screener:
    crit = Criterion(id="exc-x", kind="exclusion", text="immunosuppressant use", rule=node)
    return Screener(CriteriaSet(trial="NCT00000000", criteria=(crit,)))


WITHIN_4W = _screener(Medication(valueset="immunosuppressant", window="P4W"))
EVER = _screener(Medication(valueset="immunosuppressant", timing="ever"))
CURRENT = _screener(Medication(valueset="immunosuppressant"))


def _run(screener: Screener, p: PatientBuilder, as_of: date = AS_OF) -> CriterionResult:
    record = PatientRecord.from_resources(p.resources(), source=p.patient_id)
    return result(screener.screen(record, as_of), "exc-x")


def test_a_window_alone_means_within_and_the_timing_must_match() -> None:
    assert Medication(valueset="immunosuppressant", window="P4W").timing == "within"
    with pytest.raises(ValueError, match="needs a window"):
        Medication(valueset="immunosuppressant", timing="within")
    with pytest.raises(ValueError, match="needs a window"):
        Medication(valueset="immunosuppressant", timing="ever", window="P4W")


def test_a_finished_course_counts_until_its_end_leaves_the_window() -> None:
    p = patient()
    p.medication_statement(TACROLIMUS, status="completed", start="2026-09-01", end="2026-11-10")
    res = _run(WITHIN_4W, p)
    assert res.status == "fail"
    assert res.eligible_from == date(2026, 12, 8)  # 2026-11-10 + 4 weeks
    assert _run(WITHIN_4W, p, date(2026, 12, 8)).status == "pass"
    assert _run(WITHIN_4W, p, date(2026, 12, 7)).status == "fail"
    assert _run(CURRENT, p).status == "pass"  # ended: not current use
    assert _run(EVER, p).status == "fail"


def test_a_finished_record_without_an_end_is_a_use_on_its_start_date() -> None:
    p = patient()
    p.medication_request(TACROLIMUS, status="completed", authored="2026-11-01")
    assert _run(WITHIN_4W, p).status == "fail"
    old = patient("old")
    old.medication_request(TACROLIMUS, status="stopped", authored="2026-06-01")
    res = _run(WITHIN_4W, old)
    assert res.status == "pass"
    assert "2026-06-01" in res.reason


def test_an_ongoing_active_record_counts_for_any_window_and_never_lapses() -> None:
    p = patient()
    p.medication_statement(TACROLIMUS, status="active", start="2020-01-01")
    res = _run(WITHIN_4W, p)
    assert res.status == "fail"
    assert res.eligible_from is None


@pytest.mark.parametrize("status", ["cancelled", "entered-in-error", "not-taken", "draft"])
def test_records_that_are_not_a_use_do_not_count(status: str) -> None:
    p = patient()
    p.medication_statement(TACROLIMUS, status=status, start="2026-11-20")
    assert _run(WITHIN_4W, p).status == "pass"
    assert _run(EVER, p).status == "pass"


def test_an_undated_record_is_unknown_for_a_window_but_a_use_ever() -> None:
    p = patient()
    p.medication_statement(TACROLIMUS, status="completed")
    res = _run(WITHIN_4W, p)
    assert res.status == "unknown"
    assert any("date of" in m for m in res.missing)
    assert _run(EVER, p).status == "fail"


def test_a_use_that_starts_after_the_as_of_date_does_not_count() -> None:
    p = patient()
    p.medication_statement(TACROLIMUS, status="completed", start=AS_OF + timedelta(days=1), end=AS_OF + timedelta(days=5))
    assert _run(WITHIN_4W, p).status == "pass"
    assert _run(EVER, p).status == "pass"


def test_route_and_value_set_still_apply_to_past_use() -> None:
    topical = patient("topical")
    topical.medication_statement(TACROLIMUS, status="completed", start="2026-11-10", route="6064005")
    assert _run(WITHIN_4W, topical).status == "pass"
    other = patient("other")
    other.medication_statement("L01XC", system=ATC, status="completed", start="2026-11-10")
    assert _run(WITHIN_4W, other).status == "pass"


@settings(max_examples=40, deadline=None)
@given(days_ago=st.integers(min_value=0, max_value=200), length=st.integers(min_value=0, max_value=60))
def test_within_is_true_exactly_while_the_last_day_is_inside_the_window(days_ago: int, length: int) -> None:
    end = AS_OF - timedelta(days=days_ago)
    p = patient()
    p.medication_statement(TACROLIMUS, status="completed", start=end - timedelta(days=length), end=end)
    res = _run(WITHIN_4W, p)
    inside = end + timedelta(weeks=4) > AS_OF
    assert res.status == ("fail" if inside else "pass")
    assert res.eligible_from == (end + timedelta(weeks=4) if inside else None)
    assert _run(EVER, p).status == "fail"
