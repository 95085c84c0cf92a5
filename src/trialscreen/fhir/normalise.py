"""From FHIR R4 resource dicts to `Facts`: one function per resource type the criteria read.

Record hygiene happens here, once, for every engine: entered-in-error resources, refuted
diagnoses and not-done procedures never reach a criterion.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from datetime import datetime
from typing import Any

from trialscreen.fhir.facts import (
    _MIN_UTC,
    AllergyFact,
    AnswerFact,
    Coding,
    ConditionFact,
    ConsentFact,
    Facts,
    FieldError,
    ImmunizationFact,
    MedicationFact,
    ObservationFact,
    ProcedureFact,
    Quantity,
    codings,
    first_code,
    last_day,
    parse_date,
    parse_instant,
    parse_instant_and_date,
)

UCUM = "http://unitsofmeasure.org"
_RESULT_STATUSES = frozenset({"final", "amended", "corrected"})
_IGNORED_VERIFICATION = frozenset({"refuted", "entered-in-error"})
_COMPARATORS = frozenset({"<", "<=", ">=", ">"})

Resource = dict[str, Any]


def _quantity(q: Any, what: str) -> Quantity | None:
    if q is None:
        return None
    if not isinstance(q, dict):
        raise FieldError(f"{what} is not a Quantity")
    value = q.get("value")
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise FieldError(f"{what}.value is not a number: {value!r}")
    unit = q.get("code") if q.get("system") == UCUM and isinstance(q.get("code"), str) else None
    if unit is None:
        text = q.get("unit")
        unit = text if isinstance(text, str) else (q.get("code") if isinstance(q.get("code"), str) else None)
    comparator = q.get("comparator")
    if comparator is not None and comparator not in _COMPARATORS:
        raise FieldError(f"{what}.comparator {comparator!r} is not one of < <= >= >")
    return Quantity(float(value), unit, comparator)


def condition(res: Resource, facts: Facts) -> None:
    verification = first_code(res.get("verificationStatus"))
    if verification in _IGNORED_VERIFICATION:
        return
    rid = str(res.get("id", "?"))
    codes, text = codings(res.get("code"))
    try:
        onset = parse_date(res.get("onsetDateTime") or (res.get("onsetPeriod") or {}).get("start"), "onset")
        recorded = parse_date(res.get("recordedDate"), "recordedDate")
        abatement_raw = res.get("abatementDateTime") or (res.get("abatementPeriod") or {}).get("end") or (
            res.get("abatementPeriod") or {}
        ).get("start")
        abatement = parse_date(abatement_raw, "abatement")
    except FieldError as exc:
        facts.noted.append(f"Condition/{rid}: {exc}; its dates are not used")
        onset = recorded = abatement = None
    undated = abatement is None and (
        res.get("abatementBoolean") is True or isinstance(res.get("abatementString"), str)
        or isinstance(res.get("abatementAge"), dict)
    )
    facts.conditions.append(
        ConditionFact(rid, codes, text, first_code(res.get("clinicalStatus")), onset, recorded, abatement, undated)
    )


def observation(res: Resource, facts: Facts, wanted: Callable[[Coding], bool] | None) -> None:
    status = res.get("status")
    if status is not None and status not in _RESULT_STATUSES:
        return
    codes, _ = codings(res.get("code"))
    if wanted is not None and not any(wanted(c) for c in codes):
        return
    rid = str(res.get("id", "?"))
    problem: str | None = None
    try:
        raw_when = (
            res.get("effectiveDateTime") or (res.get("effectivePeriod") or {}).get("start")
            or res.get("effectiveInstant") or res.get("issued")
        )
        stamp = parse_instant_and_date(raw_when, "effective date")
    except FieldError as exc:
        facts.noted.append(f"Observation/{rid}: {exc}; the result is not used")
        return
    if stamp is None:
        facts.noted.append(f"Observation/{rid}: no effective date; the result is not used")
        return
    fact = ObservationFact(rid, codes, stamp[1], stamp[0])
    try:
        fact.quantity = _quantity(res.get("valueQuantity"), "valueQuantity")
        if "valueInteger" in res:
            value = res["valueInteger"]
            if isinstance(value, bool) or not isinstance(value, int):
                raise FieldError(f"valueInteger is not an integer: {value!r}")
            fact.integer = value
        if "valueCodeableConcept" in res:
            fact.concept, fact.concept_text = codings(res["valueCodeableConcept"])
        if "valueString" in res:
            if not isinstance(res["valueString"], str):
                raise FieldError("valueString is not a string")
            fact.string = res["valueString"]
        interp: list[Coding] = []
        for concept in res.get("interpretation") or ():
            for system, code in codings(concept)[0]:
                interp.append((system, code.upper()))
        fact.interpretation = tuple(interp)
        for rng in res.get("referenceRange") or ():
            if not isinstance(rng, dict):
                continue
            kind = first_code(rng.get("type"))
            if kind in (None, "normal"):
                fact.ref_high = _quantity(rng.get("high"), "referenceRange.high")
                break
        comps = []
        for comp in res.get("component") or ():
            if isinstance(comp, dict):
                comps.append((codings(comp.get("code"))[0], _quantity(comp.get("valueQuantity"), "component value")))
        fact.components = tuple(comps)
    except FieldError as exc:
        problem = str(exc)
    fact.problem = problem
    for coding in codes:
        facts._observations.setdefault(coding, []).append(fact)


def procedure(res: Resource, facts: Facts) -> None:
    if res.get("status") in ("not-done", "entered-in-error"):
        return
    rid = str(res.get("id", "?"))
    codes, text = codings(res.get("code"))
    try:
        when = parse_date(res.get("performedDateTime") or (res.get("performedPeriod") or {}).get("start"), "performed")
    except FieldError as exc:
        facts.noted.append(f"Procedure/{rid}: {exc}; its date is not used")
        when = None
    cats: list[Coding] = []
    category = res.get("category")
    for concept in category if isinstance(category, list) else [category]:
        cats.extend(codings(concept)[0])
    facts.procedures.append(ProcedureFact(rid, codes, text, when, tuple(cats)))


def medication(res: Resource, facts: Facts, contained: dict[str, Resource]) -> None:
    if res.get("status") == "entered-in-error":
        return
    rtype = str(res.get("resourceType"))
    rid = str(res.get("id", "?"))
    concept = res.get("medicationCodeableConcept")
    if concept is None:
        ref = (res.get("medicationReference") or {}).get("reference")
        if isinstance(ref, str):
            target = contained.get(ref) or contained.get(ref.split("/")[-1])
            for item in res.get("contained") or ():
                if isinstance(item, dict) and f"#{item.get('id')}" == ref:
                    target = item
            concept = (target or {}).get("code")
    codes, text = codings(concept)
    routes: list[Coding] = []
    route_words: list[str] = []
    has_route = False
    for dosage in (res.get("dosageInstruction") or []) + (res.get("dosage") or []):
        if isinstance(dosage, dict) and dosage.get("route"):
            has_route = True
            pairs, words = codings(dosage["route"])
            routes.extend(pairs)
            route_words.append(words)
    try:
        if rtype == "MedicationRequest":
            end = parse_date(((res.get("dispenseRequest") or {}).get("validityPeriod") or {}).get("end"), "validityPeriod.end")
            start = parse_date(res.get("authoredOn"), "authoredOn")
        else:
            end = parse_date((res.get("effectivePeriod") or {}).get("end"), "effectivePeriod.end")
            start = parse_date(res.get("effectiveDateTime") or (res.get("effectivePeriod") or {}).get("start"), "effective")
    except FieldError as exc:
        facts.noted.append(f"{rtype}/{rid}: {exc}; its dates are not used")
        start = end = None
    reasons: list[Coding] = []
    for rc in res.get("reasonCode") or ():
        reasons.extend(codings(rc)[0])
    facts.medications.append(
        MedicationFact(rid, rtype, res.get("status"), codes, text, tuple(routes), " | ".join(route_words), has_route, start, end, tuple(reasons))
    )


def immunization(res: Resource, facts: Facts) -> None:
    if res.get("status") != "completed":
        return
    rid = str(res.get("id", "?"))
    codes, text = codings(res.get("vaccineCode"))
    try:
        when = parse_date(res.get("occurrenceDateTime"), "occurrenceDateTime")
    except FieldError as exc:
        facts.noted.append(f"Immunization/{rid}: {exc}; its date is not used")
        when = None
    facts.immunizations.append(ImmunizationFact(rid, codes, text, when))


def allergy(res: Resource, facts: Facts) -> None:
    if first_code(res.get("verificationStatus")) in _IGNORED_VERIFICATION:
        return
    rid = str(res.get("id", "?"))
    codes, text = codings(res.get("code"))
    severities = tuple(
        str(r.get("severity")) for r in res.get("reaction") or () if isinstance(r, dict) and r.get("severity")
    )
    try:
        recorded = parse_date(res.get("recordedDate") or res.get("onsetDateTime"), "recordedDate")
    except FieldError:
        recorded = None
    crit = res.get("criticality")
    facts.allergies.append(AllergyFact(rid, codes, text, crit if isinstance(crit, str) else None, severities, recorded))


def consent(res: Resource, facts: Facts) -> None:
    if res.get("status") != "active":
        return
    rid = str(res.get("id", "?"))
    codes: list[Coding] = list(codings(res.get("scope"))[0])
    for cat in res.get("category") or ():
        codes.extend(codings(cat)[0])
    try:
        when = parse_date(res.get("dateTime"), "dateTime")
    except FieldError as exc:
        facts.noted.append(f"Consent/{rid}: {exc}; the consent is not used")
        return
    facts.consents.append(ConsentFact(rid, when, tuple(codes)))


def _answers(items: Iterable[Any], out: list[tuple[str, bool]]) -> None:
    for item in items:
        if not isinstance(item, dict):
            continue
        link = item.get("linkId")
        for answer in item.get("answer") or ():
            if isinstance(answer, dict):
                if isinstance(link, str) and isinstance(answer.get("valueBoolean"), bool):
                    out.append((link, answer["valueBoolean"]))
                _answers(answer.get("item") or (), out)
        _answers(item.get("item") or (), out)


def questionnaire_response(res: Resource, facts: Facts) -> None:
    if res.get("status") != "completed":
        return
    rid = str(res.get("id", "?"))
    try:
        authored = parse_instant(res.get("authored"), "authored")
    except FieldError as exc:
        facts.noted.append(f"QuestionnaireResponse/{rid}: {exc}; its answers are not used")
        return
    found: list[tuple[str, bool]] = []
    _answers(res.get("item") or (), found)
    author = (res.get("author") or {}).get("reference") if isinstance(res.get("author"), dict) else None
    for link, value in found:
        facts.answers.append(AnswerFact(rid, link, value, authored or _MIN_UTC, author))


def patient(res: Resource, facts: Facts) -> None:
    gender = res.get("gender")
    facts.gender = gender if isinstance(gender, str) else None
    try:
        facts.birth_date = parse_date(res.get("birthDate"), "birthDate")
        if facts.birth_date is not None:
            facts.birth_date_latest = last_day(res["birthDate"])
    except FieldError as exc:
        facts.birth_date_problem = str(exc)
        facts.noted.append(f"Patient/{facts.patient_id}: {exc}")


_READERS: dict[str, Callable[[Resource, Facts], None]] = {
    "Condition": condition,
    "Procedure": procedure,
    "Immunization": immunization,
    "AllergyIntolerance": allergy,
    "Consent": consent,
    "QuestionnaireResponse": questionnaire_response,
    "Patient": patient,
}


def add(res: Resource, facts: Facts, wanted: Callable[[Coding], bool] | None = None, contained: dict[str, Resource] | None = None) -> None:
    """Add one resource of the patient to `facts` (types the criteria do not read are skipped).

    A resource whose structure is not FHIR where the criteria read it (a string where an
    object belongs, ...) is left out with a note naming it, never a crash.
    """
    rtype = res.get("resourceType")
    if res.get("status") == "entered-in-error" and rtype != "Patient":
        return
    try:
        if rtype == "Observation":
            observation(res, facts, wanted)
        elif rtype in ("MedicationRequest", "MedicationStatement"):
            medication(res, facts, contained or {})
        elif isinstance(rtype, str) and rtype in _READERS:
            _READERS[rtype](res, facts)
    except (TypeError, AttributeError, ValueError) as exc:
        facts.noted.append(f"{rtype}/{res.get('id', '?')}: malformed ({exc}); the resource is not used")


def sort_key_latest(fact: ObservationFact) -> datetime:
    return fact.instant
