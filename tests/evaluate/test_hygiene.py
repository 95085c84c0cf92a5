"""Record hygiene, events after the as-of date, latest-result selection, and code matching."""

from __future__ import annotations

import copy
from datetime import UTC, date, datetime, timedelta, timezone
from typing import Any

import orjson
import pytest
from evaluate_support import AS_OF, RECENT, SCREENER, patient, result, screen, status
from hypothesis import given, settings
from hypothesis import strategies as st

from trialscreen.fhir.builder import ATC, CPT, ICD10CM, LOINC, SNOMED, concept
from trialscreen.fhir.read import PatientRecord

HB, AST, CREA, WEIGHT, CRCL, HBSAG = "718-7", "1920-8", "2160-0", "29463-7", "2164-2", "5196-1"
RACE = "urn:oid:2.16.840.1.113883.6.238"


# --- ignored resources ----------------------------------------------------------------------------


@pytest.mark.parametrize("verification", ["refuted", "entered-in-error"])
def test_refuted_conditions_are_ignored(verification: str) -> None:
    p = patient()
    p.condition("G35", onset="2020-01-01", verification=verification)
    p.condition("C92.41", onset="2020-01-01", verification=verification)
    r = screen(p)
    assert status(r, "exc-2") == "pass" and status(r, "exc-1") == "pass"


@pytest.mark.parametrize("verification", ["unconfirmed", "provisional", "differential", "confirmed"])
def test_other_verification_statuses_count(verification: str) -> None:
    p = patient()
    p.condition("G35", onset="2020-01-01", verification=verification)
    assert status(screen(p), "exc-2") == "fail"


def test_entered_in_error_resources_are_ignored() -> None:
    p = patient()
    p.observation(HB, value=50, unit="g/L", when=RECENT, status="entered-in-error")
    p.procedure(CPT, "38241", when="2026-11-01", status="entered-in-error")
    p.medication_request(code="42316", authored="2026-11-01", status="entered-in-error")
    p.immunization("21", when="2026-11-20", status="entered-in-error")
    p.consent(when="2026-11-20", status="entered-in-error")
    p.attestation({"inc-4": True}, authored=RECENT, status="entered-in-error")
    p.allergy("91936005", criticality="high", verification="entered-in-error")
    r = screen(p)
    for cid, expected in [("inc-6.hemoglobin", "unknown"), ("exc-8", "pass"), ("exc-7", "pass"), ("exc-12", "pass"),
                          ("inc-1", "unknown"), ("inc-4", "unknown"), ("exc-4", "pass")]:
        assert status(r, cid) == expected, cid


@pytest.mark.parametrize(("obs_status", "counts"), [
    ("final", True), ("amended", True), ("corrected", True), (None, True),
    ("preliminary", False), ("registered", False), ("cancelled", False), ("entered-in-error", False), ("unknown", False),
])
def test_result_statuses(obs_status: str | None, counts: bool) -> None:
    p = patient()
    p.observation(HB, value=50, unit="g/L", when=RECENT, status=obs_status)
    assert status(screen(p), "inc-6.hemoglobin") == ("fail" if counts else "unknown")


def test_not_done_procedure_ignored() -> None:
    p = patient(gender="female", birth_date="1990-01-01")
    p.procedure(SNOMED, "236886002", when="2020-01-01", status="not-done")
    p.procedure(CPT, "47135", when="2020-01-01", status="not-done")
    r = screen(p)
    assert status(r, "inc-7") == "unknown"
    assert status(r, "exc-6") == "pass"


# --- events after the as-of date -------------------------------------------------------------------


def test_everything_after_as_of_is_ignored() -> None:
    later = "2026-11-26"
    p = patient(gender="male")
    p.consent(when=later)
    p.condition("C92.02", onset=later)
    p.condition("G35", onset=later)
    p.condition("F20.9", recorded=later)
    p.observation(HB, value=50, unit="g/L", when=later)
    p.observation(HBSAG, value_code="10828004", when=later)
    p.procedure(CPT, "38241", when=later)
    p.procedure(CPT, "47135", when=later)
    p.medication_request(code="42316", authored=later)
    p.immunization("21", when=later)
    p.attestation({"inc-4": True, "exc-16": True}, authored=later)
    r = screen(p)
    expected = {"inc-1": "unknown", "inc-3": "fail", "exc-2": "pass", "exc-13": "pass", "inc-6.hemoglobin": "unknown",
                "exc-3.hbv": "unknown", "exc-8": "pass", "exc-6": "pass", "exc-7": "pass", "exc-12": "pass",
                "inc-4": "unknown", "exc-16": "unknown"}
    assert {k: status(r, k) for k in expected} == expected


def test_result_later_on_the_as_of_day_counts() -> None:
    p = patient()
    p.observation(HB, value=50, unit="g/L", when=datetime(2026, 11, 25, 23, 30, tzinfo=UTC))
    assert status(screen(p), "inc-6.hemoglobin") == "fail"


def test_condition_without_onset_dated_by_recorded_date() -> None:
    p = patient()
    p.condition("G35", recorded="2026-11-26")
    assert status(screen(p), "exc-2") == "pass"
    assert status(screen(p, date(2026, 11, 26)), "exc-2") == "fail"


# --- latest result --------------------------------------------------------------------------------


def test_latest_by_full_timestamp_within_a_day() -> None:
    p = patient()
    p.observation(HB, value=50, unit="g/L", when=datetime(2026, 11, 20, 16, 0, tzinfo=UTC))
    p.observation(HB, value=90, unit="g/L", when=datetime(2026, 11, 20, 8, 0, tzinfo=UTC))
    assert status(screen(p), "inc-6.hemoglobin") == "fail"


def test_latest_by_timestamp_across_time_zones() -> None:
    p = patient()
    # 23:00 at UTC-5 is 04:00 UTC the next day: later than 01:00 UTC that day
    p.observation(HB, value=50, unit="g/L", when=datetime(2026, 11, 19, 23, 0, tzinfo=timezone(timedelta(hours=-5))))
    p.observation(HB, value=90, unit="g/L", when=datetime(2026, 11, 20, 1, 0, tzinfo=UTC))
    assert status(screen(p), "inc-6.hemoglobin") == "fail"


@pytest.mark.parametrize("where", ["period", "issued"])
def test_effective_period_start_or_issued_dates_a_result(where: str) -> None:
    p = patient()
    if where == "period":
        p.observation(HB, value=50, unit="g/L", when="2026-11-24", period=True)
        p.observation(HB, value=90, unit="g/L", when="2026-11-23")
    else:
        res = p.observation(HB, value=50, unit="g/L", issued="2026-11-24T10:00:00Z")
        assert "effectiveDateTime" not in res
        p.observation(HB, value=90, unit="g/L", when="2026-11-23")
    assert status(screen(p), "inc-6.hemoglobin") == "fail"


def test_result_without_any_date_is_not_used_and_reported() -> None:
    p = patient()
    res = p.observation(HB, value=50, unit="g/L", when=RECENT)
    del res["effectiveDateTime"]
    r = screen(p)
    assert status(r, "inc-6.hemoglobin") == "unknown"
    assert any(res["id"] in w for w in r.warnings)


@pytest.mark.parametrize(("values", "part", "expected"), [
    ([(30, "U/L"), (200, "U/L")], "inc-6.ast", "fail"),
    ([(200, "U/L"), (30, "U/L")], "inc-6.ast", "fail"),
    ([(30, "U/L"), (1, "mg")], "inc-6.ast", "unknown"),
    ([(90, "g/L"), (5.0, "g/dL")], "inc-6.hemoglobin", "fail"),
])
def test_tie_takes_the_least_favourable(values: list[tuple[float, str]], part: str, expected: str) -> None:
    code = AST if part == "inc-6.ast" else HB
    p = patient()
    for value, unit in values:
        p.observation(code, value=value, unit=unit, when="2026-11-20T08:00:00Z")
    assert status(screen(p), part) == expected


@pytest.mark.parametrize("order", [("10828004", "260385009"), ("260385009", "10828004")])
def test_tie_on_an_exclusion_takes_the_positive(order: tuple[str, str]) -> None:
    p = patient()
    for code in order:
        p.observation(HBSAG, value_code=code, when="2026-11-20T08:00:00Z")
    assert status(screen(p), "exc-3.hbv") == "fail"


@pytest.mark.parametrize("order", [(100, 600), (600, 100)])
def test_tie_on_cmv_takes_the_higher_load(order: tuple[int, int]) -> None:
    p = patient()
    for value in order:
        p.observation("30247-1", value=value, unit="{copies}/mL", when="2026-11-20T08:00:00Z")
    assert status(screen(p), "exc-3.cmv") == "fail"


@pytest.mark.parametrize("order", [(1.4, 2.0), (2.0, 1.4)])
def test_tie_on_creatinine_feeds_the_least_favourable_value_to_cockcroft_gault(order: tuple[float, float]) -> None:
    # woman of 46, 90 kg: creatinine 1.4 gives 71 mL/min (pass), 2.0 gives 50 mL/min with
    # creatinine above 1.5 x ULN (fail). The tie must be read as the least favourable: fail.
    p = patient(gender="female", birth_date="1980-06-15")
    p.observation(WEIGHT, value=90, unit="kg", when=RECENT, category="vital-signs")
    for value in order:
        p.observation(CREA, value=value, unit="mg/dL", when="2026-11-20T08:00:00Z")
    assert status(screen(p), "inc-6.renal") == "fail"


@pytest.mark.parametrize("order", [(80, 40), (40, 80)])
def test_tie_on_measured_clearance_takes_the_lower(order: tuple[int, int]) -> None:
    p = patient(gender="female")
    p.observation(CREA, value=2.0, unit="mg/dL", when=RECENT)
    for value in order:
        p.observation(CRCL, value=value, unit="mL/min", when="2026-11-20T08:00:00Z")
    assert status(screen(p), "inc-6.renal") == "fail"


@pytest.mark.parametrize("order", [(60, 150), (150, 60)])
def test_tie_on_weight_takes_the_least_favourable(order: tuple[int, int]) -> None:
    # man of 68, creatinine 2.0 mg/dL: 150 kg gives 75 mL/min, 60 kg gives 30 mL/min
    p = patient(gender="male", birth_date="1958-06-15")
    p.observation(CREA, value=2.0, unit="mg/dL", when=RECENT)
    for value in order:
        p.observation(WEIGHT, value=value, unit="kg", when="2026-11-20T08:00:00Z", category="vital-signs")
    assert status(screen(p), "inc-6.renal") == "fail"


def test_unreadable_value_is_reported_and_unknown() -> None:
    p = patient()
    res = p.observation(HB, value=90, unit="g/L", when=RECENT)
    res["valueQuantity"]["value"] = "ninety"
    r = screen(p)
    assert status(r, "inc-6.hemoglobin") == "unknown"
    assert any(res["id"] in w for w in r.warnings)


def test_unreadable_older_result_does_not_matter() -> None:
    p = patient()
    p.observation(HB, value=90, unit="furlong", when="2026-11-10")
    p.observation(HB, value=90, unit="g/L", when=RECENT)
    r = screen(p)
    assert status(r, "inc-6.hemoglobin") == "pass"


def test_result_with_two_codings_of_one_analyte_counts_once() -> None:
    p = patient()
    res = p.observation("1975-2", value=1.0, unit="mg/dL", when="2026-11-20T08:00:00Z")
    res["code"]["coding"].append({"system": LOINC, "code": "42719-5"})
    r = screen(p)
    assert status(r, "inc-6.bilirubin") == "pass"
    assert len(result(r, "inc-6.bilirubin").evidence) == 1


# --- system and code together ------------------------------------------------------------------


def test_synthea_race_code_is_not_a_pregnancy_test() -> None:
    p = patient(gender="female", birth_date="1990-01-01")
    res = p.observation("2106-3", value_code="260385009", when="2026-11-24", category="social-history")
    res["code"] = concept(RACE, "2106-3", "White")
    r = screen(p)
    assert status(r, "inc-7") == "unknown"


def test_race_extension_in_patient_is_irrelevant() -> None:
    p = patient(gender="female", birth_date="1990-01-01")
    p.patient["extension"] = [{
        "url": "http://hl7.org/fhir/us/core/StructureDefinition/us-core-race",
        "extension": [{"url": "ombCategory", "valueCoding": {"system": RACE, "code": "2106-3", "display": "White"}}],
    }]
    assert status(screen(p), "inc-7") == "unknown"


@pytest.mark.parametrize(("kind", "system", "code", "criterion"), [
    ("condition", SNOMED, "G35", "exc-2"),
    ("condition", "http://example.org/icd", "C92.41", "exc-1"),
    ("procedure", SNOMED, "38241", "exc-8"),
    ("procedure", "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets", "47135", "exc-6"),
    ("medication", ATC.replace("atc", "atcx"), "L04AD02", "exc-7"),
    ("medication", SNOMED, "42316", "exc-7"),
])
def test_codes_match_only_under_their_system(kind: str, system: str, code: str, criterion: str) -> None:
    p = patient()
    if kind == "condition":
        p.condition(code, system=system, onset="2026-11-01")
    elif kind == "procedure":
        p.procedure(system, code, when="2026-11-01")
    else:
        p.medication_request(code=code, system=system, authored="2026-11-01")
    assert status(screen(p), criterion) == "pass"


def test_same_codes_under_their_own_system_do_count() -> None:
    p = patient()
    p.condition("G35", system=ICD10CM, onset="2026-11-01")
    p.procedure(CPT, "38241", when="2026-11-01")
    p.medication_request(code="L04AD02", system=ATC, authored="2026-11-01")
    r = screen(p)
    assert [status(r, c) for c in ("exc-2", "exc-8", "exc-7")] == ["fail"] * 3


def test_unused_resource_types_and_fields_are_tolerated() -> None:
    p = patient()
    extra: list[dict[str, Any]] = [
        {"resourceType": "Encounter", "id": "e1", "status": "finished", "subject": {"reference": "Patient/p"}},
        {"resourceType": "Claim", "id": "c1", "patient": {"reference": "Patient/p"}, "weird": [1, {"x": None}]},
        {"resourceType": "Observation", "id": "o9", "status": "final", "code": {"text": "free text only"}, "effectiveDateTime": RECENT},
    ]
    p._resources.extend(extra)
    r = screen(p)
    assert status(r, "inc-6.hemoglobin") == "unknown"
    assert r.verdict == "ineligible"


# --- malformed resources: reported, never a crash ---------------------------------------------------


def _rich_record() -> list[dict[str, Any]]:
    from evaluate_support import eligible_patient

    p = eligible_patient(gender="female")
    p.condition("I50.9", onset="2020-01-01", abatement="2026-01-01", clinical_status="resolved")
    p.procedure(CPT, "38241", when="2026-10-01", period=True)
    p.medication_request(code="J01CA04", system=ATC, authored="2026-11-01", route="26643006", end="2026-12-01", reason="169443000")
    p.medication_statement(code="42316", start="2026-11-01", end="2026-12-01", route_text="oral")
    p.immunization("21", when="2026-11-20")
    p.allergy("91936005", criticality="high", severity="severe", recorded="2020-01-01")
    p.observation("59408-5", value=95, unit="%", when=RECENT, components=[("3151-8", 2.0, "L/min")], ref_high=100)
    p.observation("88020-3", value_string="Class II", when=RECENT)
    return p.resources()


def _paths(obj: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out: list[tuple[Any, ...]] = []
    items = obj.items() if isinstance(obj, dict) else enumerate(obj) if isinstance(obj, list) else []
    for key, value in items:
        if key != "resourceType":
            out.append(prefix + (key,))
            out.extend(_paths(value, prefix + (key,)))
    return out


RICH = _rich_record()
FIELDS = [(i, path) for i, res in enumerate(RICH) for path in _paths(res)]
WRONG = ["x", 5, 3.5, True, None, [], {}, [1], {"a": 1}, [None], ["x"], [{"x": 1}]]


@settings(max_examples=300, deadline=None)
@given(st.sampled_from(FIELDS), st.sampled_from(WRONG))
def test_a_malformed_field_never_crashes_screening(field: tuple[int, tuple[Any, ...]], wrong: Any) -> None:
    index, path = field
    resources = copy.deepcopy(RICH)
    target: Any = resources[index]
    for key in path[:-1]:
        target = target[key]
    target[path[-1]] = wrong
    report = SCREENER.screen(PatientRecord.from_resources(resources), AS_OF)
    assert orjson.loads(orjson.dumps(report.to_json()))["verdict"] == report.verdict


def test_a_malformed_resource_is_named_in_the_warnings() -> None:
    p = patient()
    res = p.medication_request(code="42316", authored="2026-11-01")
    res["dosageInstruction"] = "twice a day"
    r = screen(p)
    assert any(res["id"] in w and "malformed" in w for w in r.warnings)


@pytest.mark.parametrize(("code", "readings", "criterion", "expected"), [
    ("2118-8", [{"value_code": "260385009"}, {"value_code": "10828004"}], "inc-7", "fail"),
    ("89247-1", [{"value_integer": 1}, {"value_integer": 3}], "inc-5.ecog", "fail"),
    ("89247-1", [{"value_integer": 3}, {"value_integer": 1}], "inc-5.ecog", "fail"),
])
def test_more_ties_take_the_least_favourable(code: str, readings: list[dict[str, Any]], criterion: str, expected: str) -> None:
    p = patient(gender="female", birth_date="1990-01-01")
    for reading in readings:
        p.observation(code, when="2026-11-24T08:00:00Z", **reading)
    assert status(screen(p), criterion) == expected


@pytest.mark.parametrize("order", [("Class I", "Class III"), ("Class III", "Class I")])
def test_nyha_tie_takes_the_higher_class(order: tuple[str, str]) -> None:
    p = patient()
    p.condition("I50.9", onset="2020-01-01")
    for text in order:
        p.observation("88020-3", value_string=text, when="2026-11-24T08:00:00Z")
    assert status(screen(p), "exc-5") == "fail"
