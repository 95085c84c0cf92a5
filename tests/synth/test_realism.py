"""The population looks like a hospital with an AML service: mix, ranges, units, size."""

from __future__ import annotations

from collections import Counter
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from tests.synth.helpers import PERSONS

Resources = dict[str, list[dict[str, Any]]]
AML = ("C92.0", "C92.3", "C92.5", "C92.6", "C92.A", "C93.0", "C94.0", "C94.2", "C92.4")


def test_aml_sub_population_of_every_phase(fhir: Resources) -> None:
    aml_people = {
        c["subject"]["reference"] for c in fhir["Condition"] if c["code"]["coding"][0]["code"].startswith(AML)
    }
    assert 0.05 * PERSONS <= len(aml_people) <= 0.10 * PERSONS
    codes = {c["code"]["coding"][0]["code"] for c in fhir["Condition"]}
    assert {"C92.02", "C92.01", "C92.00", "C92.41"} <= codes


def test_about_forty_resources_per_person(fhir: Resources) -> None:
    total = sum(len(v) for v in fhir.values())
    assert 30 <= total / PERSONS <= 60


def test_ages_sexes_and_labs_are_plausible(fhir: Resources) -> None:
    genders = Counter(p["gender"] for p in fhir["Patient"])
    assert 0.4 < genders["female"] / PERSONS < 0.6
    hb = [
        o["valueQuantity"]
        for o in fhir["Observation"]
        if o["code"]["coding"][0]["code"] == "718-7" and "valueQuantity" in o
    ]
    grams_per_litre = [q["value"] * {"g/dL": 10, "g/L": 1, "mmol/L": 16.11}[q["code"]] for q in hb]
    low = sum(v < 100 for v in grams_per_litre) / len(grams_per_litre)
    assert 0.03 < low < 0.5, "some but not most haemoglobins are low"
    assert len({q["code"] for q in hb}) == 3


def test_units_are_varied(fhir: Resources) -> None:
    units: dict[str, set[str]] = {}
    for o in fhir["Observation"]:
        q = o.get("valueQuantity")
        if q:
            units.setdefault(o["code"]["coding"][0]["code"], set()).add(q["unit"])
    assert {"mg/dL", "umol/L"} <= units["2160-0"]
    assert {"mg/dL", "umol/L"} <= units["1975-2"]
    assert {"U/L", "[IU]/L", "ukat/L"} <= units["1920-8"]
    assert {"kg", "[lb_av]", "g"} <= units["29463-7"]
    assert {"10*3/uL", "10*9/L", "/uL", "10*3/mm3"} <= units["6690-2"]


def test_a_sample_of_every_type_is_valid_fhir_r4(fhir: Resources) -> None:
    for rtype, resources in fhir.items():
        model = get_fhir_model_class(rtype)
        step = max(1, len(resources) // 300)
        for res in resources[::step]:
            model.model_validate(res)


def test_bulk_files_are_in_person_order_with_unique_ids(fhir: Resources) -> None:
    """Each NDJSON file lists persons in order, so a reader can stream one person at a time."""
    for rtype, resources in fhir.items():
        ids = [r["id"] for r in resources]
        assert len(set(ids)) == len(ids), rtype
        if rtype == "Patient":
            persons = [int(r["id"]) for r in resources]
        else:
            persons = [int((r.get("subject") or r["patient"])["reference"].split("/")[1]) for r in resources]
        assert persons == sorted(persons), rtype
