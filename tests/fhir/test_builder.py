"""The test-data builder must produce valid FHIR R4 with the spec's systems and references."""

from __future__ import annotations

import importlib.util
import json
import sys
from datetime import date, datetime
from pathlib import Path
from types import ModuleType

import pytest
from fhir.resources.R4B.bundle import Bundle
from hypothesis import given
from hypothesis import strategies as st

from trialscreen.fhir import builder as b
from trialscreen.fhir.builder import PatientBuilder


def rich_patient() -> PatientBuilder:
    p = PatientBuilder("p1", birth_date=date(1980, 5, 17), gender="male")
    p.condition("C92.02", onset="2026-01-10", clinical_status="relapse", recorded="2026-01-11")
    p.condition("B18.2", onset="2020-01-01", clinical_status="resolved", abatement="2021-01-01")
    p.condition("C92.0", system=b.ICD10, onset="2025-01-01", verification="refuted", text="AML")
    p.observation("1920-8", value=35.0, unit="U/L", when="2026-11-20", ref_high=40)
    p.observation("2160-0", value=120.0, unit="umol/L", when=datetime(2026, 11, 20, 8, 30), ref_high=110)
    p.observation("718-7", value=9.1, unit="g/dL", when="2026-11-20", period=True)
    p.observation(
        "59408-5",
        value=95,
        unit="%",
        when="2026-11-20",
        category="vital-signs",
        components=[("3151-8", 2.0, "L/min"), ("3150-0", 0.4, "1")],
    )
    p.observation("5196-1", value_code="260385009", when="2026-11-20")
    p.observation("16128-1", value_string="non-reactive", when="2026-11-20")
    p.observation("7917-8", interpretation="NEG", when="2026-11-20")
    p.observation("89247-1", value_integer=1, when="2026-11-20", category="survey")
    p.observation("89247-1", value_code="LA9623-5", value_system=b.LOINC, when="2026-11-21")
    p.observation("29463-7", value=154.0, unit="[lb_av]", when="2026-11-20", status="amended")
    p.observation("6690-2", value=5.2, unit="10*3/uL", issued="2026-11-20", when=None)
    p.procedure(b.CPT, "38241", "2026-10-10", category="387713003")
    p.procedure(b.SNOMED, "236886002", "2010-10-10", status="not-done", period=True)
    p.medication_request("42316", route="26643006", end="2027-01-01", authored="2026-11-01")
    p.medication_request(
        "J01CA04",
        system=b.ATC,
        text="amoxicillin",
        reason="169443000",
        authored="2026-11-01",
        route_text="oral",
    )
    p.medication_statement(
        "3264",
        text="dexamethasone cream",
        route="6064005",
        start="2026-09-01",
        end="2026-12-31",
        status="intended",
    )
    p.immunization("21", "2026-11-10")
    p.allergy("91936005", criticality="high", severity="severe", recorded="2019-01-01")
    p.allergy(text="latex", criticality="low", clinical_status=None, verification="refuted")
    p.consent("2026-11-01", category=(b.V3_ACT_CODE, "RESEARCH"))
    p.attestation({"inc-4": True, "exc-16": False}, authored="2026-11-24")
    p.attestation({"inc-3": True}, authored="2026-11-24T10:00:00+00:00", nested=True)
    return p


@pytest.mark.parametrize("kind", ["collection", "transaction"])
def test_rich_bundle_is_valid_fhir(kind: str) -> None:
    bundle = rich_patient().bundle(type=kind)
    parsed = Bundle.model_validate(bundle)
    entries = parsed.entry or []
    assert len(entries) == len(rich_patient().resources())
    if kind == "transaction":
        assert all(e.request is not None and e.request.method == "PUT" for e in entries)


def test_every_resource_points_at_the_patient() -> None:
    resources = rich_patient().resources()
    assert resources[0]["resourceType"] == "Patient"
    for res in resources[1:]:
        ref = res.get("subject") or res.get("patient")
        assert ref == {"reference": "Patient/p1"}, res["resourceType"]


def test_ids_are_deterministic_and_unique() -> None:
    first = [r["id"] for r in rich_patient().resources()]
    second = [r["id"] for r in rich_patient().resources()]
    assert first == second
    assert len(set(first)) == len(first)
    assert all(i == "p1" or i.startswith("p1-") for i in first)


def test_quantities_use_ucum_and_reference_range_carries_unit() -> None:
    creat = next(
        r for r in rich_patient().resources() if r.get("code", {}).get("coding", [{}])[0].get("code") == "2160-0"
    )
    assert creat["valueQuantity"] == {
        "value": 120.0,
        "unit": "umol/L",
        "system": b.UCUM,
        "code": "umol/L",
    }
    assert creat["referenceRange"][0]["high"]["code"] == "umol/L"
    assert creat["effectiveDateTime"] == "2026-11-20T08:30:00+00:00"


def test_condition_systems_and_statuses() -> None:
    conds = [r for r in rich_patient().resources() if r["resourceType"] == "Condition"]
    assert conds[0]["code"]["coding"][0] == {"system": b.ICD10CM, "code": "C92.02"}
    assert conds[0]["clinicalStatus"]["coding"][0]["system"] == b.CONDITION_CLINICAL
    assert conds[0]["clinicalStatus"]["coding"][0]["code"] == "relapse"
    assert conds[1]["abatementDateTime"] == "2021-01-01"
    assert conds[2]["verificationStatus"]["coding"][0] == {
        "system": b.CONDITION_VERIFICATION,
        "code": "refuted",
    }


def test_attestation_items_nest_and_hold_booleans() -> None:
    qrs = [r for r in rich_patient().resources() if r["resourceType"] == "QuestionnaireResponse"]
    flat, nested = qrs
    assert {i["linkId"]: i["answer"][0]["valueBoolean"] for i in flat["item"]} == {
        "inc-4": True,
        "exc-16": False,
    }
    assert nested["item"][0]["item"][0] == {"linkId": "inc-3", "answer": [{"valueBoolean": True}]}


def test_missing_date_is_a_clear_error() -> None:
    p = PatientBuilder("p2")
    with pytest.raises(ValueError, match="procedure 38241"):
        p.procedure(b.CPT, "38241")
    with pytest.raises(ValueError, match="medication"):
        p.medication_request(authored="2026-01-01")


def test_default_date_fills_in() -> None:
    p = PatientBuilder("p3", default_date="2026-11-01")
    proc = p.procedure(b.CPT, "38221")
    assert proc["performedDateTime"] == "2026-11-01"
    assert p.observation("718-7", value=100, unit="g/L")["effectiveDateTime"] == "2026-11-01"


@given(
    value=st.floats(min_value=0, max_value=1e6, allow_nan=False),
    day=st.dates(min_value=date(1900, 1, 1), max_value=date(2100, 1, 1)),
    unit=st.sampled_from(["mg/dL", "umol/L", "g/L", "10*9/L", "%", "{copies}/mL"]),
)
def test_any_quantity_observation_validates(value: float, day: date, unit: str) -> None:
    p = PatientBuilder("px", birth_date=None, gender=None)
    p.observation("2160-0", value=value, unit=unit, when=day, ref_high=1.2)
    Bundle.model_validate(p.bundle())


def _load_examples() -> ModuleType:
    path = Path(__file__).resolve().parents[2] / "examples" / "make_examples.py"
    spec = importlib.util.spec_from_file_location("make_examples", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["make_examples"] = module
    spec.loader.exec_module(module)
    return module


def test_committed_examples_are_current_and_valid() -> None:
    examples = _load_examples()
    expected = json.loads(examples.EXPECTED.read_text())
    assert len(examples.CASES) >= 10
    for case in examples.CASES:
        bundle = case.build(case.name).bundle()
        committed = json.loads((examples.OUT / f"{case.name}.json").read_text())
        assert committed == bundle, f"{case.name}: rerun examples/make_examples.py"
        Bundle.model_validate(committed)
        assert expected[f"{case.name}.json"]["verdict"] == case.verdict
        assert case.verdict in {"eligible", "ineligible", "needs_review"}
        # an eligible_from only makes sense on a patient held back by a failure
        assert case.eligible_from is None or case.verdict == "ineligible"


def test_examples_screen_as_the_spec_says() -> None:
    """The evaluator gives each example the verdict, eligible_from and statuses reasoned
    from the spec (examples/expected-verdicts.json)."""
    from trialscreen.criteria.builtin import builtin_criteria
    from trialscreen.evaluate import Screener
    from trialscreen.fhir.read import read_bundle

    examples = _load_examples()
    criteria = builtin_criteria("NCT06125652")
    assert criteria is not None
    screener = Screener(criteria)
    expected = json.loads(examples.EXPECTED.read_text())
    for name, want in expected.items():
        (record,) = read_bundle(examples.OUT / name)
        report = screener.screen(record, date.fromisoformat(want["as_of"]))
        statuses = {}
        stack = list(report.criteria)
        while stack:
            c = stack.pop()
            statuses[c.id] = c.status
            stack.extend(c.parts)
        assert report.verdict == want["verdict"], name
        got_from = report.eligible_from.isoformat() if report.eligible_from else None
        assert got_from == want["eligible_from"], name
        for cid, status in want["criteria"].items():
            assert statuses[cid] == status, f"{name}: {cid}"


def test_observation_without_status_or_ucum() -> None:
    """A result with no status (read as final by the spec) and a unit given as text only."""
    p = PatientBuilder("p4")
    obs = p.observation("30247-1", value=800, unit="copies/mL", ucum=False, when="2026-11-20", status=None)
    assert "status" not in obs
    assert obs["valueQuantity"] == {"value": 800, "unit": "copies/mL"}
    assert p.observation("718-7", value=7.1, when="2026-11-20")["valueQuantity"] == {"value": 7.1}
