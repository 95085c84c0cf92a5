"""Shared helpers for the evaluator tests: screen a built patient, read a criterion's status.

Kept in a uniquely named module (imported by `conftest.py` and the test modules) because
several test directories have a `conftest.py` and pytest does not keep them importable by name.
"""

from __future__ import annotations

from datetime import date

from trialscreen.criteria.builtin import builtin_criteria
from trialscreen.evaluate import Screener
from trialscreen.fhir.builder import PatientBuilder
from trialscreen.fhir.read import PatientRecord
from trialscreen.report.model import CriterionResult, PatientReport, Status

AS_OF = date(2026, 11, 25)
RECENT = "2026-11-20"
"""A day well inside every look-back window on AS_OF (the 7-day hCG window included)."""

_criteria = builtin_criteria("NCT06125652")
assert _criteria is not None, "the seed trial's criteria must ship with the package"
SEED = _criteria
SCREENER = Screener(SEED)


def record(builder: PatientBuilder) -> PatientRecord:
    return PatientRecord.from_resources(builder.resources(), source=builder.patient_id)


def screen(builder: PatientBuilder, as_of: date = AS_OF) -> PatientReport:
    """Screen the builder's patient against NCT06125652 on `as_of`.

    Every case also holds the two paths of the evaluator to each other (see `same_both_ways`).
    """
    rec = record(builder)
    report = SCREENER.screen(rec, as_of)
    same_both_ways(SCREENER, rec, as_of, report)
    return report


def same_both_ways(screener: Screener, rec: PatientRecord, as_of: date, lazy: PatientReport | None = None) -> None:
    """The deciders agree with the explaining checks on every criterion and part, and a report
    explained on first read equals one explained at once, field by field."""
    lazy = lazy or screener.screen(rec, as_of)
    assert not lazy.explained, "screening must not build explanations before they are read"
    decided = lazy.statuses()
    assert not lazy.explained, "statuses are decided without explanations"
    eager = screener.screen(rec, as_of, explain=True)
    assert decided == eager.statuses()
    assert eager.explained
    explained = {r.id: (r.status, r.eligible_from) for c in eager.criteria for r in c.walk()}
    assert screener.decisions(rec, as_of) == explained
    assert (lazy.verdict, lazy.eligible_from) == (eager.verdict, eager.eligible_from)
    assert lazy.to_json() == eager.to_json()
    assert lazy.to_json_line() == eager.to_json_line()


def result(report: PatientReport, criterion_id: str) -> CriterionResult:
    for top in report.criteria:
        for item in top.walk():
            if item.id == criterion_id:
                return item
    raise KeyError(f"no criterion {criterion_id} in the report")


def status(report: PatientReport, criterion_id: str) -> Status:
    return result(report, criterion_id).status


def patient(
    pid: str = "p", birth_date: str | None = "1980-06-15", gender: str | None = "female"
) -> PatientBuilder:
    """A bare patient (46 years old on AS_OF, female unless told)."""
    return PatientBuilder(pid, birth_date=birth_date, gender=gender)


def eligible_patient(pid: str = "ok", gender: str = "male") -> PatientBuilder:
    """A patient who passes every criterion on AS_OF (by the spec), for verdict tests."""
    p = PatientBuilder(pid, birth_date="1980-06-15", gender=gender)
    p.consent(when="2026-11-01")
    p.condition("C92.02", onset="2025-06-01")
    answers = {"inc-4": True, "inc-5.survival": True, "inc-8": True, "exc-16": False}
    p.attestation(answers, authored="2026-11-19")
    p.observation("89247-1", value_integer=1, when=RECENT, category="survey")
    p.observation("1920-8", value=30, unit="U/L", when=RECENT)
    p.observation("1742-6", value=30, unit="U/L", when=RECENT)
    p.observation("1975-2", value=0.8, unit="mg/dL", when=RECENT)
    p.observation("2160-0", value=0.8, unit="mg/dL", when=RECENT)
    p.observation("718-7", value=100, unit="g/L", when=RECENT)
    p.observation("59408-5", value=97, unit="%", when=RECENT, category="vital-signs")
    p.observation("10230-1", value=60, unit="%", when=RECENT, category="imaging")
    p.observation("5196-1", value_code="260385009", when=RECENT)
    p.observation("16128-1", value_code="260385009", when=RECENT)
    p.observation("7917-8", value_code="260385009", when=RECENT)
    p.observation("20507-0", value_code="260385009", when=RECENT)
    p.observation("30247-1", value_string="not detected", when=RECENT)
    if gender == "female":
        p.observation("2118-8", value_code="260385009", when="2026-11-23")
    return p
