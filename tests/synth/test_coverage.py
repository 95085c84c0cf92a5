"""Every code the seed trial reads occurs in a generated population of a few thousand persons.

The codes come from the project's knowledge (value sets and analytes), not from this test:
each listed code must cover some generated code of its system, each range must hold one,
and each text a value set matches on must occur in a text or display.
"""

from __future__ import annotations

from collections import defaultdict
from datetime import date, timedelta
from typing import Any

import pytest

from tests.synth.helpers import AS_OF
from trialscreen.knowledge import knowledge

Resources = dict[str, list[dict[str, Any]]]


def _concepts(fhir: Resources) -> list[dict[str, Any]]:
    """Every CodeableConcept the population holds, wherever it sits."""
    out: list[dict[str, Any]] = []

    def walk(node: Any) -> None:
        if isinstance(node, dict):
            if "coding" in node or ("text" in node and len(node) <= 2):
                out.append(node)
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)

    for resources in fhir.values():
        walk(resources)
    return out


@pytest.fixture(scope="module")
def codes(fhir: Resources) -> dict[str, set[str]]:
    by_system: dict[str, set[str]] = defaultdict(set)
    for cc in _concepts(fhir):
        for c in cc.get("coding", ()):
            by_system[c["system"]].add(c["code"])
    return by_system


@pytest.fixture(scope="module")
def texts(fhir: Resources) -> list[str]:
    out = []
    for cc in _concepts(fhir):
        if cc.get("text"):
            out.append(cc["text"].lower())
        out += [c["display"].lower() for c in cc.get("coding", ()) if c.get("display")]
    return out


VALUE_SETS = sorted(knowledge().valuesets)


@pytest.mark.parametrize("name", VALUE_SETS)
def test_every_value_set_member_occurs(name: str, codes: dict[str, set[str]], texts: list[str]) -> None:
    kb = knowledge()
    vs = kb.valueset(name)
    missing = []
    for inc in vs.include:
        system = kb.systems[inc.system]
        present = {system.normalise(c) for uri in system.uris for c in codes.get(uri, ())}
        for member in inc.codes:
            norm = system.normalise(member)
            if not any(system.covers(norm, c) for c in present):
                missing.append(f"{inc.system} {member}")
        for low, high in inc.ranges:
            if not any(system.in_range(c, low, high) for c in present):
                missing.append(f"{inc.system} {low}-{high}")
    for term in vs.text:
        if not any(term in t for t in texts):
            missing.append(f"text {term!r}")
    assert not missing, f"{name}: never generated: {missing}"


@pytest.mark.parametrize("name", sorted(knowledge().analytes))
def test_every_analyte_code_occurs(name: str, fhir: Resources) -> None:
    kb = knowledge()
    seen = {(c["system"], c["code"]) for o in fhir["Observation"] for c in o["code"]["coding"]}
    wanted = set(kb.analyte_codings(name))
    assert wanted <= seen, f"{name}: never generated: {sorted(wanted - seen)}"
    analyte = kb.analyte(name)
    for coding, _ in analyte.answers:
        assert any(
            o.get("valueCodeableConcept", {}).get("coding", [{}])[0].get("code") == coding.code
            for o in fhir["Observation"]
        ), f"{name}: answer {coding.code} never generated"
    for rule in analyte.set_aside_when_component:
        assert any(
            c["code"]["coding"][0]["code"] == rule.code for o in fhir["Observation"] for c in o.get("component", ())
        ), f"{name}: component {rule.code} never generated"


def test_every_qualitative_reading_occurs(fhir: Resources) -> None:
    q = knowledge().qualitative
    values = [o for o in fhir["Observation"] if "valueQuantity" not in o]
    coded = {(c["system"], c["code"]) for o in values for c in o.get("valueCodeableConcept", {}).get("coding", ())}
    assert q.positive_codes & coded and q.negative_codes & coded
    interpretations = {o["interpretation"][0]["coding"][0]["code"] for o in values if "interpretation" in o}
    assert q.positive_interpretation <= interpretations
    assert q.negative_interpretation <= interpretations
    strings = {o["valueString"].lower() for o in values if "valueString" in o}
    assert strings & q.positive_strings and strings & q.negative_strings
    assert strings - q.positive_strings - q.negative_strings, "no unreadable result"


def test_consent_and_attestation_forms_occur(fhir: Resources) -> None:
    scopes = {c["scope"]["coding"][0]["code"] for c in fhir["Consent"]}
    categories = {cc["coding"][0]["code"] for c in fhir["Consent"] for cc in c["category"]}
    assert {"research", "patient-privacy"} <= scopes and "RESEARCH" in categories

    def link_ids(items: list[dict[str, Any]]) -> set[str]:
        return {i["linkId"] for i in items} | {x for i in items for x in link_ids(i.get("item", []))}

    answered = set().union(*(link_ids(q.get("item", [])) for q in fhir["QuestionnaireResponse"]))
    assert {"inc-3", "inc-4", "inc-5.survival", "inc-8", "exc-16"} <= answered


@pytest.mark.parametrize("days", [0, 7, 8, 28, 29, 90, 91, 365])
def test_results_fall_on_window_edges(fhir: Resources, days: int) -> None:
    """Look-back windows (7/28/90 days, 12 months) are exercised on and beside their edges."""
    day = (AS_OF - timedelta(days=days)).isoformat()
    assert any(o.get("effectiveDateTime", "").startswith(day) for o in fhir["Observation"])


def test_some_events_lie_after_the_as_of_date_and_none_long_before(fhir: Resources) -> None:
    dates = [date.fromisoformat(o["effectiveDateTime"][:10]) for o in fhir["Observation"] if "effectiveDateTime" in o]
    assert any(d > AS_OF for d in dates)
    assert min(dates) >= AS_OF - timedelta(days=5 * 366)
    procs = [date.fromisoformat(p["performedDateTime"]) for p in fhir["Procedure"] if "performedDateTime" in p]
    assert any(AS_OF - timedelta(days=28) < d <= AS_OF for d in procs)
