"""exc-7 (systemic immunosuppressants) and exc-11 (infection, antimicrobials); exc-10 (emergencies)."""

from __future__ import annotations

from typing import Any

import pytest
from evaluate_support import RECENT, patient, result, screen, status

from trialscreen.fhir.builder import ATC, RXNORM, SNOMED, concept

TOPICAL, INHALED, INHALED_UK, OPHTHALMIC, ORAL, IV = "6064005", "447694001", "18679011000001101", "54485002", "26643006", "47625008"
PROPHYLAXIS = "169443000"


def exc7(**kw: Any) -> str:
    p = patient()
    kind = kw.pop("kind", "request")
    if kind == "request":
        p.medication_request(authored=kw.pop("authored", "2026-11-01"), **kw)
    else:
        p.medication_statement(start=kw.pop("start", "2026-11-01"), **kw)
    return status(screen(p), "exc-7")


@pytest.mark.parametrize("code", ["42316", "3008", "68149", "35302", "1256", "8640", "8638", "6902", "3264", "5492"])
def test_rxnorm_ingredients(code: str) -> None:
    assert exc7(code=code) == "fail"


@pytest.mark.parametrize(("code", "expected"), [
    ("L04AD02", "fail"), ("L04AA06", "fail"), ("L04A", "fail"), ("H02AB06", "fail"), ("H02AB02", "fail"),
    ("l04ad02", "fail"), ("H02AA02", "pass"), ("L01XC", "pass"), ("L03AB", "pass"),
])
def test_atc_classes(code: str, expected: str) -> None:
    assert exc7(code=code, system=ATC) == expected


@pytest.mark.parametrize(("text", "expected"), [
    ("Tacrolimus 1 MG Oral Capsule", "fail"), ("CICLOSPORIN", "fail"), ("cyclosporine", "fail"),
    ("Mycophenolic acid 360 mg", "fail"), ("mycophenolate sodium", "fail"), ("Sirolimus", "fail"),
    ("azathioprine", "fail"), ("prednisone 5 mg", "fail"), ("Prednisolone", "fail"), ("methylprednisolone", "fail"),
    ("Dexamethasone 4 MG", "fail"), ("hydrocortisone", "fail"), ("paracetamol", "pass"), ("allopurinol", "pass"),
])
def test_ingredient_names_in_text(text: str, expected: str) -> None:
    assert exc7(text=text) == expected


def test_ingredient_name_in_a_coding_display() -> None:
    p = patient()
    res = p.medication_request(code="312617", authored="2026-11-01")  # an RxNorm product, not the ingredient
    assert status(screen(p), "exc-7") == "pass"
    res["medicationCodeableConcept"]["coding"][0]["display"] = "predniSONE 5 MG Oral Tablet"
    assert status(screen(p), "exc-7") == "fail"


def test_rxnorm_ingredient_code_under_another_system_does_not_count() -> None:
    assert exc7(code="42316", system="http://example.org/drugs") == "pass"


@pytest.mark.parametrize(("route", "route_text", "expected"), [
    (TOPICAL, None, "pass"), (INHALED, None, "pass"), (INHALED_UK, None, "pass"), (OPHTHALMIC, None, "pass"),
    (ORAL, None, "fail"), (IV, None, "fail"), (None, None, "fail"),
    (None, "Topical", "pass"), (None, "cutaneous use", "pass"), (None, "Inhalation", "pass"),
    (None, "Ophthalmic route", "pass"), (None, "oral", "fail"), (None, "intravenous", "fail"),
])
@pytest.mark.parametrize("kind", ["request", "statement"])
def test_routes(route: str | None, route_text: str | None, expected: str, kind: str) -> None:
    assert exc7(kind=kind, code="5492", route=route, route_text=route_text) == expected


def test_route_display_naming_topical() -> None:
    p = patient()
    res = p.medication_request(code="5492", authored="2026-11-01", route="359540000")
    res["dosageInstruction"][0]["route"]["coding"][0]["display"] = "Topical route"
    assert status(screen(p), "exc-7") == "pass"


@pytest.mark.parametrize(("kind", "med_status", "expected"), [
    ("request", "active", "fail"), ("request", "completed", "pass"), ("request", "stopped", "pass"),
    ("request", "on-hold", "pass"), ("request", "draft", "pass"), ("request", "cancelled", "pass"),
    ("request", "entered-in-error", "pass"),
    ("statement", "active", "fail"), ("statement", "intended", "fail"), ("statement", "completed", "pass"),
    ("statement", "not-taken", "pass"), ("statement", "stopped", "pass"), ("statement", "entered-in-error", "pass"),
])
def test_active_statuses(kind: str, med_status: str, expected: str) -> None:
    assert exc7(kind=kind, code="42316", status=med_status) == expected


@pytest.mark.parametrize(("end", "expected"), [("2026-11-24", "pass"), ("2026-11-25", "fail"), ("2027-01-01", "fail")])
@pytest.mark.parametrize("kind", ["request", "statement"])
def test_ended_before_as_of_is_not_active(end: str, expected: str, kind: str) -> None:
    assert exc7(kind=kind, code="42316", end=end) == expected


def test_medicine_ordered_after_as_of_is_ignored() -> None:
    assert exc7(code="42316", authored="2026-11-26") == "pass"
    assert exc7(kind="statement", code="42316", start="2026-11-26") == "pass"


def test_medication_reference_to_a_medication_resource() -> None:
    p = patient()
    res = p.medication_request(code="999", authored="2026-11-01")
    del res["medicationCodeableConcept"]
    res["medicationReference"] = {"reference": "Medication/med1"}
    p._resources.append({"resourceType": "Medication", "id": "med1", "code": concept(RXNORM, "42316")})
    assert status(screen(p), "exc-7") == "fail"


def test_contained_medication() -> None:
    p = patient()
    res = p.medication_request(code="999", authored="2026-11-01")
    del res["medicationCodeableConcept"]
    res["contained"] = [{"resourceType": "Medication", "id": "m", "code": concept(ATC, "L04AD01")}]
    res["medicationReference"] = {"reference": "#m"}
    assert status(screen(p), "exc-7") == "fail"


def test_no_medicines_pass_closed_world() -> None:
    r = screen(patient())
    assert status(r, "exc-7") == "pass"
    assert "no record" in result(r, "exc-7").reason


# --- exc-11 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", [
    "A41.9", "A04.72", "B37.0", "B25.9", "B44.1", "B17.2", "B18.8", "B19.0", "B89", "J15.9", "J18.9", "J12.82",
    "J69.0", "L03.115", "N10", "N39.0", "R65.20", "R65.21", "A00.0",
])
def test_active_infections_fail(code: str) -> None:
    p = patient()
    p.condition(code, onset="2026-11-01")
    assert status(screen(p), "exc-11") == "fail"
    q = patient()
    q.condition(code, onset="2026-11-01", clinical_status="resolved", abatement="2026-11-10")
    assert status(screen(q), "exc-11") == "pass"


@pytest.mark.parametrize("code", [
    "A50.9", "A51.0", "A52.3", "A53.9", "B16.9", "B17.0", "B17.10", "B18.0", "B18.1", "B18.2", "B19.10", "B19.20", "B20",
    "B90.9", "B99.9", "J11.1", "J20.9", "J69.1", "L02.91", "N30.00", "R65.10", "Z21",
])
def test_codes_exc3_covers_and_non_listed_codes_do_not_count(code: str) -> None:
    p = patient()
    p.condition(code, onset="2026-11-01")
    assert status(screen(p), "exc-11") == "pass"


@pytest.mark.parametrize("code", ["J01CA04", "J01DD04", "J02AC01", "J05AB01", "J05AX"])
def test_antimicrobial_without_reason_is_unknown(code: str) -> None:
    p = patient()
    p.medication_request(code=code, system=ATC, authored="2026-11-01")
    r = screen(p)
    assert status(r, "exc-11") == "unknown"
    assert "confirm prophylaxis or treatment" in result(r, "exc-11").reason
    assert result(r, "exc-11").eligible_from is None


@pytest.mark.parametrize(("reason", "expected"), [(PROPHYLAXIS, "pass"), ("233604007", "unknown")])
def test_antimicrobial_reason(reason: str, expected: str) -> None:
    p = patient()
    p.medication_request(code="J02AC04", system=ATC, authored="2026-11-01", reason=reason)
    assert status(screen(p), "exc-11") == expected
    q = patient()
    q.medication_statement(code="J05AB11", system=ATC, start="2026-11-01", reason=reason)
    assert status(screen(q), "exc-11") == expected


@pytest.mark.parametrize(("kw", "expected"), [
    ({"code": "J04AB02", "system": ATC}, "pass"),  # antimycobacterial: not in the default set
    ({"code": "723", "system": RXNORM}, "pass"),  # amoxicillin, RxNorm only: not recognised
    ({"text": "amoxicillin"}, "pass"),
    ({"code": "J01CA04", "system": ATC, "route": TOPICAL}, "pass"),
    ({"code": "J01CA04", "system": ATC, "status": "completed"}, "pass"),
    ({"code": "J01CA04", "system": ATC, "end": "2026-11-20"}, "pass"),
    ({"code": "J01CA04", "system": ATC, "route": IV}, "unknown"),
])
def test_antimicrobials_that_do_not_count(kw: dict[str, Any], expected: str) -> None:
    p = patient()
    p.medication_request(authored="2026-11-01", **kw)
    assert status(screen(p), "exc-11") == expected


def test_infection_and_antimicrobial_fails() -> None:
    p = patient()
    p.condition("J18.9", onset="2026-11-01")
    p.medication_request(code="J01CA04", system=ATC, authored="2026-11-01")
    assert status(screen(p), "exc-11") == "fail"


def test_attestation_settles_antimicrobial_question() -> None:
    p = patient()
    p.medication_request(code="J01CA04", system=ATC, authored="2026-11-01")
    p.attestation({"exc-11": False}, authored=RECENT)
    assert status(screen(p), "exc-11") == "pass"


# --- exc-10 -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("kw", "expected"), [
    ({"clinical_status": "active"}, "fail"), ({"clinical_status": "resolved"}, "pass"), ({"clinical_status": None}, "fail"),
])
def test_tumour_lysis(kw: dict[str, Any], expected: str) -> None:
    p = patient()
    p.condition("E88.3", onset="2026-11-20", **kw)
    assert status(screen(p), "exc-10") == expected


def test_leukostasis_by_text() -> None:
    p = patient()
    p.condition("R68.89", onset="2026-11-20", text="Leukostasis")
    r = screen(p)
    assert status(r, "exc-10") == "fail"
    assert result(r, "exc-10").eligible_from is None
    q = patient()
    q.condition("123", system=SNOMED, onset="2026-11-20", display="Symptomatic LEUKOSTASIS", clinical_status="resolved")
    assert status(screen(q), "exc-10") == "pass"


@pytest.mark.parametrize(("value", "unit", "expected"), [
    (100, "10*9/L", "fail"), (99.9, "10*9/L", "pass"), (100, "10*3/uL", "fail"), (99.99, "10*3/uL", "pass"),
    (100000, "/uL", "fail"), (99999, "/uL", "pass"), (100, "10*3/mm3", "fail"), (150, "10*3/mm3", "fail"),
    (1e11, "/L", "fail"),
])
def test_hyperleukocytosis(value: float, unit: str, expected: str) -> None:
    p = patient()
    p.observation("6690-2", value=value, unit=unit, when="2026-11-24")
    r = screen(p)
    assert status(r, "exc-10") == expected
    assert result(r, "exc-10").eligible_from is None


@pytest.mark.parametrize(("when", "expected"), [("2026-11-18", "fail"), ("2026-11-17", "pass")])
def test_wbc_window_7_days(when: str, expected: str) -> None:
    p = patient()
    p.observation("6690-2", value=150, unit="10*9/L", when=when)
    assert status(screen(p), "exc-10") == expected


def test_no_wbc_passes_closed_world() -> None:
    assert status(screen(patient()), "exc-10") == "pass"


def test_wbc_in_unconvertible_unit_is_unknown() -> None:
    p = patient()
    p.observation("6690-2", value=150, unit="g/L", when="2026-11-24")
    r = screen(p)
    assert status(r, "exc-10") == "unknown"
    assert "g/L" in result(r, "exc-10").reason
