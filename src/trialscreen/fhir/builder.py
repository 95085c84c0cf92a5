"""Build small FHIR R4 patient records for tests and examples, one call per resource.

Each method adds one resource with sensible clinical defaults and returns it, so a test case
reads as a few lines (``p.condition("C92.02", onset="2026-01-10")``). Resource ids are the
patient id plus a counter, so the same calls always give the same record.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, date, datetime
from typing import Any

Resource = dict[str, Any]
When = date | datetime | str

LOINC = "http://loinc.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
ICD10 = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
ATC = "http://www.whocc.no/atc"
CVX = "http://hl7.org/fhir/sid/cvx"
CPT = "http://www.ama-assn.org/go/cpt"
UCUM = "http://unitsofmeasure.org"
CONSENT_SCOPE = "http://terminology.hl7.org/CodeSystem/consentscope"
CONSENT_CATEGORY = "http://terminology.hl7.org/CodeSystem/consentcategorycodes"
V3_ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
CONDITION_CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
CONDITION_VERIFICATION = "http://terminology.hl7.org/CodeSystem/condition-ver-status"
ALLERGY_CLINICAL = "http://terminology.hl7.org/CodeSystem/allergyintolerance-clinical"
ALLERGY_VERIFICATION = "http://terminology.hl7.org/CodeSystem/allergyintolerance-verification"
OBSERVATION_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
OBSERVATION_INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"

Component = tuple[str, float, str] | Mapping[str, Any]


def fhir_date(value: When) -> str:
    """A FHIR date or dateTime string; strings are taken as already formatted.

    FHIR wants a zone on any time, so a naive datetime is taken as UTC.
    """
    if isinstance(value, datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=UTC)
        return value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    return value


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    """One Coding, with a display only when given."""
    out = {"system": system, "code": code}
    if display is not None:
        out["display"] = display
    return out


def concept(system: str, code: str, display: str | None = None, text: str | None = None) -> dict[str, Any]:
    """A CodeableConcept with one coding."""
    out: dict[str, Any] = {"coding": [coding(system, code, display)]}
    if text is not None:
        out["text"] = text
    return out


def quantity(value: float, unit: str, ucum: bool = True) -> dict[str, Any]:
    """A Quantity; with ``ucum`` the unit is also its UCUM code, else free text only."""
    if ucum:
        return {"value": value, "unit": unit, "system": UCUM, "code": unit}
    return {"value": value, "unit": unit}


def _component(item: Component) -> dict[str, Any]:
    if isinstance(item, Mapping):
        return dict(item)
    code, value, unit = item
    return {"code": concept(LOINC, code), "valueQuantity": quantity(value, unit)}


class PatientBuilder:
    """Collects the resources of one patient; ``bundle()`` or ``resources()`` hands them out."""

    def __init__(
        self,
        patient_id: str,
        birth_date: When | None = "1970-01-01",
        gender: str | None = "female",
        default_date: When | None = None,
    ) -> None:
        self.patient_id = patient_id
        self.default_date = default_date
        self._counter = 0
        patient: Resource = {"resourceType": "Patient", "id": patient_id, "active": True}
        if gender is not None:
            patient["gender"] = gender
        if birth_date is not None:
            patient["birthDate"] = fhir_date(birth_date)
        self.patient = patient
        self._resources: list[Resource] = [patient]

    # -- plumbing ---------------------------------------------------------------------------

    @property
    def subject(self) -> dict[str, str]:
        return {"reference": f"Patient/{self.patient_id}"}

    def _add(self, resource: Resource) -> Resource:
        self._counter += 1
        resource["id"] = f"{self.patient_id}-{self._counter}"
        self._resources.append(resource)
        return resource

    def _when(self, when: When | None, what: str) -> str:
        chosen = when if when is not None else self.default_date
        if chosen is None:
            raise ValueError(f"{what}: give a date (or a default_date to the builder)")
        return fhir_date(chosen)

    # -- resources --------------------------------------------------------------------------

    def condition(
        self,
        code: str,
        onset: When | None = None,
        clinical_status: str | None = "active",
        abatement: When | None = None,
        recorded: When | None = None,
        system: str = ICD10CM,
        verification: str | None = None,
        text: str | None = None,
        display: str | None = None,
    ) -> Resource:
        """A diagnosis; onset defaults to the builder's default date, if any."""
        res: Resource = {
            "resourceType": "Condition",
            "category": [concept(CONDITION_CATEGORY, "problem-list-item")],
            "code": concept(system, code, display, text),
            "subject": self.subject,
        }
        if clinical_status is not None:
            res["clinicalStatus"] = concept(CONDITION_CLINICAL, clinical_status)
        if verification is not None:
            res["verificationStatus"] = concept(CONDITION_VERIFICATION, verification)
        onset_value = onset if onset is not None else self.default_date
        if onset_value is not None:
            res["onsetDateTime"] = fhir_date(onset_value)
        if abatement is not None:
            res["abatementDateTime"] = fhir_date(abatement)
        if recorded is not None:
            res["recordedDate"] = fhir_date(recorded)
        return self._add(res)

    def observation(
        self,
        loinc: str,
        value: float | None = None,
        unit: str | None = None,
        when: When | None = None,
        status: str | None = "final",
        ref_high: float | None = None,
        ref_unit: str | None = None,
        components: Iterable[Component] = (),
        value_code: str | None = None,
        value_system: str = SNOMED,
        value_string: str | None = None,
        value_integer: int | None = None,
        interpretation: str | None = None,
        ucum: bool = True,
        category: str = "laboratory",
        text: str | None = None,
        period: bool = False,
        issued: When | None = None,
    ) -> Resource:
        """A result: a quantity (``value`` + UCUM ``unit``), a coded, string or integer value.

        ``ref_high`` becomes the first (normal) reference range, in ``ref_unit`` or the
        result's unit. ``period`` puts the date in ``effectivePeriod.start`` instead of
        ``effectiveDateTime``; ``when=None`` with no default date leaves only ``issued``.
        """
        res: Resource = {
            "resourceType": "Observation",
            "category": [concept(OBSERVATION_CATEGORY, category)],
            "code": concept(LOINC, loinc, None, text),
            "subject": self.subject,
        }
        if status is not None:  # None leaves it out: not valid R4, but seen in the wild
            res["status"] = status
        start = when if when is not None else self.default_date
        if start is not None:
            if period:
                res["effectivePeriod"] = {"start": fhir_date(start)}
            else:
                res["effectiveDateTime"] = fhir_date(start)
        if issued is not None:
            res["issued"] = _instant(issued)
        if start is None and issued is None:
            raise ValueError(f"observation {loinc}: give when= or issued=")
        if value is not None:
            if unit is None:
                res["valueQuantity"] = {"value": value}
            else:
                res["valueQuantity"] = quantity(value, unit, ucum)
        elif value_code is not None:
            res["valueCodeableConcept"] = concept(value_system, value_code)
        elif value_string is not None:
            res["valueString"] = value_string
        elif value_integer is not None:
            res["valueInteger"] = value_integer
        if interpretation is not None:
            res["interpretation"] = [concept(OBSERVATION_INTERPRETATION, interpretation)]
        if ref_high is not None:
            high_unit = ref_unit or unit
            high = quantity(ref_high, high_unit, ucum) if high_unit else {"value": ref_high}
            res["referenceRange"] = [{"high": high}]
        parts = [_component(c) for c in components]
        if parts:
            res["component"] = parts
        return self._add(res)

    def procedure(
        self,
        system: str,
        code: str,
        when: When | None = None,
        status: str = "completed",
        category: str | None = None,
        display: str | None = None,
        period: bool = False,
    ) -> Resource:
        """A procedure; ``category`` is a SNOMED code (387713003 is "surgical procedure")."""
        res: Resource = {
            "resourceType": "Procedure",
            "status": status,
            "code": concept(system, code, display),
            "subject": self.subject,
        }
        if category is not None:
            res["category"] = concept(SNOMED, category)
        performed = self._when(when, f"procedure {code}")
        if period:
            res["performedPeriod"] = {"start": performed}
        else:
            res["performedDateTime"] = performed
        return self._add(res)

    def _medication(
        self,
        code: str | None,
        system: str,
        text: str | None,
        extra_codings: Sequence[tuple[str, str]],
    ) -> dict[str, Any]:
        codings = [coding(system, code)] if code is not None else []
        codings += [coding(s, c) for s, c in extra_codings]
        med: dict[str, Any] = {}
        if codings:
            med["coding"] = codings
        if text is not None:
            med["text"] = text
        if not med:
            raise ValueError("medication: give a code or a text")
        return med

    @staticmethod
    def _route(route: str | None, route_text: str | None) -> dict[str, Any] | None:
        if route is None and route_text is None:
            return None
        out: dict[str, Any] = {}
        if route is not None:
            out["coding"] = [coding(SNOMED, route)]
        if route_text is not None:
            out["text"] = route_text
        return out

    def medication_request(
        self,
        code: str | None = None,
        system: str = RXNORM,
        text: str | None = None,
        route: str | None = None,
        route_text: str | None = None,
        status: str = "active",
        authored: When | None = None,
        end: When | None = None,
        reason: str | None = None,
        extra_codings: Sequence[tuple[str, str]] = (),
    ) -> Resource:
        """An order; ``route`` is a SNOMED route code, ``end`` the validity period end,
        ``reason`` a SNOMED reasonCode (169443000 is prophylaxis)."""
        res: Resource = {
            "resourceType": "MedicationRequest",
            "status": status,
            "intent": "order",
            "medicationCodeableConcept": self._medication(code, system, text, extra_codings),
            "subject": self.subject,
            "authoredOn": self._when(authored, "medication_request"),
        }
        route_cc = self._route(route, route_text)
        if route_cc is not None:
            res["dosageInstruction"] = [{"route": route_cc}]
        if end is not None:
            res["dispenseRequest"] = {"validityPeriod": {"start": res["authoredOn"], "end": fhir_date(end)}}
        if reason is not None:
            res["reasonCode"] = [concept(SNOMED, reason)]
        return self._add(res)

    def medication_statement(
        self,
        code: str | None = None,
        system: str = RXNORM,
        text: str | None = None,
        route: str | None = None,
        route_text: str | None = None,
        status: str = "active",
        start: When | None = None,
        end: When | None = None,
        reason: str | None = None,
        extra_codings: Sequence[tuple[str, str]] = (),
    ) -> Resource:
        """What the patient takes; ``start``/``end`` become ``effectivePeriod``."""
        res: Resource = {
            "resourceType": "MedicationStatement",
            "status": status,
            "medicationCodeableConcept": self._medication(code, system, text, extra_codings),
            "subject": self.subject,
        }
        begin = start if start is not None else self.default_date
        if begin is not None or end is not None:
            eff: dict[str, str] = {}
            if begin is not None:
                eff["start"] = fhir_date(begin)
            if end is not None:
                eff["end"] = fhir_date(end)
            res["effectivePeriod"] = eff
        route_cc = self._route(route, route_text)
        if route_cc is not None:
            res["dosage"] = [{"route": route_cc}]
        if reason is not None:
            res["reasonCode"] = [concept(SNOMED, reason)]
        return self._add(res)

    def immunization(self, cvx: str, when: When | None = None, status: str = "completed") -> Resource:
        """A vaccine given (or, with status not-done, not given)."""
        return self._add(
            {
                "resourceType": "Immunization",
                "status": status,
                "vaccineCode": concept(CVX, cvx),
                "patient": self.subject,
                "occurrenceDateTime": self._when(when, f"immunization {cvx}"),
            }
        )

    def allergy(
        self,
        code: str | None = None,
        system: str = SNOMED,
        criticality: str | None = None,
        severity: str | None = None,
        clinical_status: str | None = "active",
        verification: str | None = None,
        text: str | None = None,
        recorded: When | None = None,
    ) -> Resource:
        """An allergy; ``severity`` (mild/moderate/severe) goes on one reaction."""
        res: Resource = {"resourceType": "AllergyIntolerance", "patient": self.subject}
        if code is not None or text is not None:
            res["code"] = concept(system, code, None, text) if code is not None else {"text": text}
        if clinical_status is not None:
            res["clinicalStatus"] = concept(ALLERGY_CLINICAL, clinical_status)
        if verification is not None:
            res["verificationStatus"] = concept(ALLERGY_VERIFICATION, verification)
        if criticality is not None:
            res["criticality"] = criticality
        if severity is not None:
            res["reaction"] = [
                {
                    "manifestation": [concept(SNOMED, "39579001", "Anaphylaxis")]
                    if severity == "severe"
                    else [concept(SNOMED, "271807003", "Eruption of skin")],
                    "severity": severity,
                }
            ]
        if recorded is not None:
            res["recordedDate"] = fhir_date(recorded)
        return self._add(res)

    def consent(
        self,
        when: When | None = None,
        status: str = "active",
        scope: str = "research",
        category: tuple[str, str] | None = None,
    ) -> Resource:
        """A signed consent; ``scope`` is an HL7 consentscope code, ``category`` an extra
        (system, code) category such as (V3_ACT_CODE, "RESEARCH")."""
        categories = [concept(LOINC, "59284-0", "Patient Consent")]
        if category is not None:
            categories.append(concept(*category))
        return self._add(
            {
                "resourceType": "Consent",
                "status": status,
                "scope": concept(CONSENT_SCOPE, scope),
                "category": categories,
                "patient": self.subject,
                "dateTime": self._when(when, "consent"),
                "policyRule": concept(V3_ACT_CODE, "OPTIN"),
            }
        )

    def attestation(
        self,
        answers: Mapping[str, bool],
        authored: When | None = None,
        status: str = "completed",
        nested: bool = False,
    ) -> Resource:
        """A QuestionnaireResponse answering criterion ids with true/false.

        With ``nested`` the answers sit inside one group item, to exercise "at any depth".
        """
        items = [{"linkId": k, "answer": [{"valueBoolean": v}]} for k, v in answers.items()]
        if nested:
            items = [{"linkId": "criteria", "item": items}]
        return self._add(
            {
                "resourceType": "QuestionnaireResponse",
                "status": status,
                "subject": self.subject,
                "authored": self._when(authored, "attestation"),
                "item": items,
            }
        )

    # -- output -----------------------------------------------------------------------------

    def resources(self) -> list[Resource]:
        """Every resource, the Patient first (one NDJSON line each)."""
        return list(self._resources)

    def bundle(self, type: str = "collection") -> Resource:
        """A FHIR R4 Bundle of the record; a transaction bundle gets PUT requests."""
        entries: list[dict[str, Any]] = []
        for res in self._resources:
            entry: dict[str, Any] = {"resource": res}
            if type in ("transaction", "batch"):
                entry["request"] = {"method": "PUT", "url": f"{res['resourceType']}/{res['id']}"}
            entries.append(entry)
        return {
            "resourceType": "Bundle",
            "id": f"{self.patient_id}-bundle",
            "type": type,
            "entry": entries,
        }


def _instant(value: When) -> str:
    """An instant needs a time and zone; a bare date becomes midnight UTC."""
    text = fhir_date(value)
    if len(text) == 10:
        return f"{text}T00:00:00Z"
    return text
