"""Properties the spec implies, checked on generated patients with hypothesis."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, timedelta
from typing import Any

import orjson
from dateutil.relativedelta import relativedelta
from evaluate_support import AS_OF, SCREENER, SEED, patient, result, screen, status
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialscreen.fhir.builder import ATC, CPT, PatientBuilder
from trialscreen.fhir.read import PatientRecord

FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# (part, LOINC, unit compared in, [(another unit, how many compared units one of it is)]) from
# the spec's unit table; a value v in the compared unit is v / factor in the other unit.
UNITS: list[tuple[str, str, str, list[tuple[str, float]]]] = [
    ("inc-6.ast", "1920-8", "U/L", [("[IU]/L", 1.0), ("ukat/L", 60.0)]),
    ("inc-6.alt", "1742-6", "U/L", [("[IU]/L", 1.0), ("ukat/L", 60.0)]),
    ("inc-6.bilirubin", "1975-2", "mg/dL", [("umol/L", 1 / 17.1)]),
    ("inc-6.renal", "2160-0", "mg/dL", [("umol/L", 1 / 88.4)]),
    ("inc-6.renal", "2164-2", "mL/min", [("mL/s", 60.0)]),
    ("inc-6.hemoglobin", "718-7", "g/L", [("g/dL", 10.0), ("mmol/L", 16.11)]),
    ("inc-6.spo2", "59408-5", "%", [("1", 100.0)]),
    ("inc-6.lvef", "10230-1", "%", [("1", 100.0)]),
    ("exc-3.cmv", "30247-1", "{copies}/mL", [("copies/mL", 1.0)]),
    ("exc-10", "6690-2", "10*9/L", [("10*3/uL", 1.0), ("/uL", 0.001), ("10*3/mm3", 1.0)]),
]


@st.composite
def expressed(draw: st.DrawFn) -> tuple[str, str, str, float, str, float, float | None]:
    part, code, unit, others = draw(st.sampled_from(UNITS))
    other, factor = draw(st.sampled_from(others))
    value = draw(st.integers(min_value=0, max_value=200_000)) / 100
    ref = draw(st.one_of(st.none(), st.integers(min_value=1, max_value=20_000).map(lambda n: n / 100)))
    return part, code, unit, value, other, factor, ref


@FAST
@given(expressed(), st.sampled_from(["male", "female"]))
def test_another_unit_never_changes_a_status(case: tuple[str, str, str, float, str, float, float | None], gender: str) -> None:
    part, code, unit, value, other, factor, ref = case
    a, b = patient(gender=gender), patient(gender=gender)
    a.observation(code, value=value, unit=unit, when="2026-11-20", ref_high=ref)
    b.observation(code, value=value / factor, unit=other, when="2026-11-20", ref_high=None if ref is None else ref / factor)
    ra, rb = screen(a), screen(b)
    assert status(ra, part) == status(rb, part), (result(ra, part).reason, result(rb, part).reason)


# --- eligible_from -------------------------------------------------------------------------------

Event = Callable[[PatientBuilder, date], None]
EVENTS: list[tuple[str, str, relativedelta, Event]] = [
    ("auto-SCT", "exc-8", relativedelta(months=3), lambda p, d: p.procedure(CPT, "38241", when=d) and None),
    ("live vaccine", "exc-12", relativedelta(days=28), lambda p, d: p.immunization("21", when=d) and None),
    ("surgery", "exc-14", relativedelta(days=28), lambda p, d: p.procedure(CPT, "44140", when=d, category="387713003") and None),
    ("MI", "exc-5", relativedelta(months=12), lambda p, d: p.condition("I21.4", onset=d) and None),
    ("stent", "exc-5", relativedelta(months=12), lambda p, d: p.procedure(CPT, "92928", when=d) and None),
    ("AF resolved", "exc-5", relativedelta(months=12),
     lambda p, d: p.condition("I48.0", onset="2010-01-01", clinical_status="resolved", abatement=d) and None),
]


@FAST
@given(
    st.sampled_from(EVENTS),
    st.lists(st.dates(min_value=date(2024, 1, 1), max_value=date(2027, 12, 31)), min_size=1, max_size=3),
    st.integers(min_value=0, max_value=420),
)
def test_screening_on_eligible_from_passes_and_the_day_before_fails(
    event: tuple[str, str, relativedelta, Event], days: list[date], after: int
) -> None:
    _, criterion, window, add = event
    p = patient()
    for day in days:
        add(p, day)
    as_of = max(days) + timedelta(days=after)
    report = screen(p, as_of)
    res = result(report, criterion)
    # the spec: inside the window when D + W > as-of; eligible from D + W of the latest such D
    lapses = [d + window for d in days if d + window > as_of]
    if lapses:
        assert res.status == "fail"
        assert res.eligible_from == max(lapses)
        assert status(screen(p, max(lapses)), criterion) == "pass"
        assert status(screen(p, max(lapses) - timedelta(days=1)), criterion) == "fail"
    else:
        assert res.status == "pass" and res.eligible_from is None


# --- reports as JSON, and resources that change nothing --------------------------------------------

Action = Callable[[PatientBuilder], object]
ACTIONS: list[Action] = [
    lambda p: p.condition("C92.02", onset="2025-06-01"),
    lambda p: p.condition("C92.00", onset="2025-06-01"),
    lambda p: p.condition("I50.9", onset="2020-01-01"),
    lambda p: p.condition("G35", onset="2020-01-01", clinical_status="resolved"),
    lambda p: p.condition("J18.9", onset="2026-11-10"),
    lambda p: p.observation("718-7", value=55, unit="g/L", when="2026-11-20"),
    lambda p: p.observation("718-7", value=9.5, unit="g/dL", when="2026-11-21"),
    lambda p: p.observation("1920-8", value=130, unit="U/L", when="2026-11-20", ref_high=50),
    lambda p: p.observation("2160-0", value=180, unit="umol/L", when="2026-11-20"),
    lambda p: p.observation("29463-7", value=80, unit="kg", when="2026-11-20"),
    lambda p: p.observation("89247-1", value_integer=3, when="2026-11-20"),
    lambda p: p.observation("88020-3", value_string="Class II", when="2026-11-20"),
    lambda p: p.observation("5196-1", value_string="reactive", when="2026-11-20"),
    lambda p: p.observation("30247-1", value=100, unit="[IU]/mL", when="2026-11-20"),
    lambda p: p.observation("2118-8", value_code="260385009", when="2026-11-24"),
    lambda p: p.procedure(CPT, "38241", when="2026-10-01"),
    lambda p: p.immunization("21", when="2026-11-15"),
    lambda p: p.medication_request(code="J01CA04", system=ATC, authored="2026-11-01"),
    lambda p: p.medication_request(code="42316", authored="2026-11-01", route="6064005"),
    lambda p: p.consent(when="2026-11-01"),
    lambda p: p.attestation({"inc-4": True, "exc-16": False, "inc-8": True}, authored="2026-11-20"),
    # results and answers at the same instant: ties the order of resources must not decide
    lambda p: p.observation("1742-6", value=30, unit="U/L", when="2026-11-22T08:00:00Z"),
    lambda p: p.observation("1742-6", value=300, unit="U/L", when="2026-11-22T08:00:00Z"),
    lambda p: p.attestation({"inc-4": False, "exc-16": True}, authored="2026-11-20"),
    lambda p: p.observation("29463-7", value=50, unit="kg", when="2026-11-20"),
    lambda p: p.observation("2164-2", value=70, unit="mL/min", when="2026-11-20"),
]

UNRELATED: list[Action] = [
    lambda p: p.observation("8302-2", value=170, unit="cm", when="2026-11-24", category="vital-signs"),
    lambda p: p.observation("2093-3", value=190, unit="mg/dL", when="2026-11-24"),
    lambda p: p.condition("E11.9", onset="2015-01-01"),
    lambda p: p.condition("J30.1", onset="2015-01-01"),
    lambda p: p.procedure(CPT, "99213", when="2026-11-24"),
    lambda p: p.medication_request(code="6809", authored="2026-11-01"),
    lambda p: p.immunization("141", when="2026-11-20"),
    lambda p: p.allergy("300913006", criticality="low", severity="mild"),
    lambda p: p.attestation({"some-other-question": True}, authored="2026-11-20"),
    lambda p: p.patient.setdefault("extension", []).append(
        {"url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
         "extension": [{"url": "ombCategory", "valueCoding": {"system": "urn:oid:2.16.840.1.113883.6.238", "code": "2106-3"}}]}
    ),
]


def build(gender: str, birth: str, actions: list[int]) -> PatientBuilder:
    p = patient(gender=gender, birth_date=birth)
    for index in actions:
        ACTIONS[index](p)
    return p


people = st.tuples(
    st.sampled_from(["male", "female", "other"]),
    st.sampled_from(["1950-02-28", "1980-06-15", "1995-12-31", "2010-01-01"]),
    st.lists(st.integers(min_value=0, max_value=len(ACTIONS) - 1), max_size=8),
)


@FAST
@given(people)
def test_report_json_round_trip(person: tuple[str, str, list[int]]) -> None:
    report = screen(build(*person))
    data = report.to_json()
    text = orjson.dumps(data)
    again = orjson.loads(text)
    assert again == data and orjson.dumps(again) == text
    assert again["as_of"] == AS_OF.isoformat() and again["trial"] == SEED.trial
    assert again["verdict"] == report.verdict
    flat = {}
    stack = list(again["criteria"])
    while stack:
        item = stack.pop()
        flat[item["id"]] = item["status"]
        stack.extend(item["parts"])
        assert item["kind"] in ("inclusion", "exclusion") and item["reason"]
        if item["status"] == "unknown" and not item["parts"]:
            assert item["missing"], item  # an unknown says what is missing
        assert item["eligible_from"] is None or date.fromisoformat(item["eligible_from"])
    assert flat == report.statuses()
    assert [c["id"] for c in again["criteria"]] == [c.id for c in SEED.criteria]


@FAST
@given(people, st.integers(min_value=0, max_value=len(UNRELATED) - 1))
def test_an_unrelated_resource_never_changes_a_status(person: tuple[str, str, list[int]], extra: int) -> None:
    before = screen(build(*person))
    p = build(*person)
    UNRELATED[extra](p)
    after = screen(p)
    assert after.statuses() == before.statuses()
    assert after.verdict == before.verdict and after.eligible_from == before.eligible_from


@FAST
@given(people, st.randoms(use_true_random=False))
def test_the_order_of_resources_never_changes_a_status(person: tuple[str, str, list[int]], rnd: Any) -> None:
    p = build(*person)
    before = screen(p)
    resources = p.resources()
    rnd.shuffle(resources)
    after = SCREENER.screen(PatientRecord.from_resources(resources), AS_OF)
    assert after.statuses() == before.statuses()
    assert (after.verdict, after.eligible_from) == (before.verdict, before.eligible_from)
