"""Write chunks of the synthetic population as FHIR R4 bulk NDJSON, one file per type.

``Patient.id`` is the OMOP person_id; every other resource points at ``Patient/<id>`` and
carries its OMOP row id with a type letter (``c`` condition, ``m`` measurement, ``o``
observation, ``p`` procedure, ``d`` drug order, ``i`` immunization, ``a`` allergy, ``k``
consent, ``q`` questionnaire response). FHIR holds everything, including what OMOP drops.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import IO, Any

import numpy as np
import orjson

from trialscreen.fhir import builder as fb
from trialscreen.synth import population as P
from trialscreen.synth.context import Context, Ids

RESOURCE_TYPES = (
    "Patient",
    "Condition",
    "Observation",
    "Procedure",
    "MedicationRequest",
    "Immunization",
    "AllergyIntolerance",
    "Consent",
    "QuestionnaireResponse",
)
SYSTEMS = {"icd10cm": fb.ICD10CM, "icd10": fb.ICD10, "cpt": fb.CPT, "snomed": fb.SNOMED, "loinc": fb.LOINC}
SURGICAL = fb.concept(fb.SNOMED, "387713003", "Surgical procedure")
DATA_ABSENT = "http://terminology.hl7.org/CodeSystem/data-absent-reason"
RESEARCH_CATEGORY = fb.concept(fb.V3_ACT_CODE, "RESEARCH", "research")
CONSENT_CATEGORY = fb.concept(fb.LOINC, "59284-0", "Patient Consent")
POLICY = fb.concept(fb.V3_ACT_CODE, "OPTIN")
ANAPHYLAXIS = [fb.concept(fb.SNOMED, "39579001", "Anaphylaxis")]
RASH = [fb.concept(fb.SNOMED, "271807003", "Eruption of skin")]
_DUMP = orjson.OPT_APPEND_NEWLINE


def _dates(ctx: Context, offsets: np.ndarray) -> list[str]:
    return list(np.datetime_as_string(ctx.days(offsets), unit="D"))


def _moments(ctx: Context, offsets: np.ndarray, seconds: np.ndarray) -> list[str]:
    text = np.datetime_as_string(ctx.moments(offsets, seconds), unit="s")
    return [t + "Z" for t in text]


def _number(value: float) -> float | int:
    """A value as written by a lab: whole numbers without a trailing .0."""
    return int(value) if float(value).is_integer() else float(value)


class _Lines:
    """Resources written as NDJSON lines a few thousand at a time, so a chunk's resources
    never all sit in memory as objects."""

    BATCH = 4096

    def __init__(self, file: IO[bytes]) -> None:
        self.file = file
        self.lines: list[bytes] = []

    def append(self, resource: dict[str, Any]) -> None:
        self.lines.append(orjson.dumps(resource, option=_DUMP))
        if len(self.lines) >= self.BATCH:
            self.flush()

    def flush(self) -> None:
        if self.lines:
            self.file.write(b"".join(self.lines))
            self.lines.clear()


class FhirWriter:
    """Streams chunks into DIR/fhir/<ResourceType>.ndjson."""

    def __init__(self, out: Path, ctx: Context) -> None:
        self.dir = out / "fhir"
        self.dir.mkdir(parents=True, exist_ok=True)
        self.ctx = ctx
        self.files: dict[str, IO[bytes]] = {}
        for t in RESOURCE_TYPES:
            self.files[t] = open(self.dir / f"{t}.ndjson", "wb")  # noqa: SIM115 (closed in close())
        cat = ctx.cat
        self.cond_code = [fb.concept(SYSTEMS[e.system], e.code, e.display, e.text) for e in ctx.conditions]
        self.analyte_code = [[fb.concept(fb.LOINC, c) for c in a.codes] for a in cat.analytes]
        self.analyte_category = [[fb.concept(fb.OBSERVATION_CATEGORY, a.category)] for a in cat.analytes]
        self.o2_code = [fb.concept(fb.LOINC, o.code) for o in cat.oxygen]
        self.proc_code = [fb.concept(SYSTEMS[p.system], p.code, p.display) for p in cat.procedures]
        self.med_concept = [self._medication(m) for m in cat.medicines]
        self.vaccine_code = [fb.concept(fb.CVX, v.cvx, v.display) for v in cat.vaccines]
        self.allergen_code = [fb.concept(fb.SNOMED, a.code, a.display) for a in cat.allergens]
        self.value_concepts: list[dict[str, Any] | None] = []
        for s in ctx.strings:
            system, sep, code = s.partition("|")
            self.value_concepts.append(fb.concept(SYSTEMS[system], code) if sep else None)

    @staticmethod
    def _medication(m: Any) -> dict[str, Any]:
        codings = []
        if m.coding in ("rxnorm", "both") and m.rxnorm:
            codings.append(fb.coding(fb.RXNORM, m.rxnorm))
        if m.coding in ("atc", "both") and m.atc:
            codings.append(fb.coding(fb.ATC, m.atc))
        out: dict[str, Any] = {"text": m.name}
        if codings:
            out["coding"] = codings
        return out

    def _route(self, route: str) -> dict[str, Any] | None:
        if route == "none":
            return None
        if route.startswith("text:"):
            return {"text": route[5:]}
        return fb.concept(fb.SNOMED, route, self.ctx.cat.routes.get(route))

    def write(self, chunk: P.Chunk, ids: Ids) -> None:
        refs = [{"reference": f"Patient/{pid}"} for pid in chunk.persons.person_id]
        self._patients(chunk.persons)
        self._conditions(chunk, ids, refs)
        self._observations(chunk, ids, refs)
        self._procedures(chunk, ids, refs)
        self._medications(chunk, ids, refs)
        self._immunizations(chunk, ids, refs)
        self._allergies(chunk, ids, refs)
        self._consents(chunk, ids, refs)
        self._responses(chunk, ids, refs)

    def _sink(self, rtype: str) -> _Lines:
        return _Lines(self.files[rtype])

    def _emit(self, rtype: str, resources: Iterable[dict[str, Any]]) -> None:
        out = self._sink(rtype)
        for res in resources:
            out.append(res)
        out.flush()

    def _patients(self, ps: P.Persons) -> None:
        births = list(np.datetime_as_string(ps.birth, unit="D"))
        self._emit(
            "Patient",
            [
                {"resourceType": "Patient", "id": str(pid), "active": True, "gender": P.GENDERS[g], "birthDate": b}
                for pid, g, b in zip(ps.person_id.tolist(), ps.gender.tolist(), births, strict=True)
            ],
        )

    def _conditions(self, chunk: P.Chunk, ids: Ids, refs: list[dict[str, str]]) -> None:
        c = chunk.conditions
        onset, recorded, abate = (_dates(self.ctx, x) for x in (c.onset, c.recorded, c.abatement))
        out = self._sink("Condition")
        for i in range(len(c.person)):
            res: dict[str, Any] = {"resourceType": "Condition", "id": f"c{ids.condition[i]}"}
            ver = P.VERIFICATION[c.verification[i]]
            status = P.CLINICAL[c.clinical[i]]
            if status and ver != "entered-in-error":
                res["clinicalStatus"] = fb.concept(fb.CONDITION_CLINICAL, status)
            if ver:
                res["verificationStatus"] = fb.concept(fb.CONDITION_VERIFICATION, ver)
            res["code"] = self.cond_code[c.entry[i]]
            res["subject"] = refs[c.person[i]]
            if c.has_onset[i]:
                res["onsetDateTime"] = onset[i]
            if c.has_abatement[i] and res.get("clinicalStatus"):
                res["abatementDateTime"] = abate[i]
            if c.has_recorded[i]:
                res["recordedDate"] = recorded[i]
            out.append(res)
        out.flush()

    def _observations(self, chunk: P.Chunk, ids: Ids, refs: list[dict[str, str]]) -> None:
        r = chunk.results
        cat = self.ctx.cat
        when = _moments(self.ctx, r.day, r.second)
        in_obs = [a.domain == "Observation" for a in cat.analytes]
        strings = self.ctx.strings
        out = self._sink("Observation")
        for i in range(len(r.person)):
            a = int(r.analyte[i])
            an = cat.analytes[a]
            prefix = "o" if in_obs[a] else "m"
            res: dict[str, Any] = {
                "resourceType": "Observation",
                "id": f"{prefix}{ids.result[i]}",
                "status": P.OBS_STATUS[r.status[i]],
                "category": self.analyte_category[a],
                "code": self.analyte_code[a][r.code[i]],
                "subject": refs[r.person[i]],
            }
            eff = r.effective[i]
            if eff == 0:
                res["effectiveDateTime"] = when[i]
            elif eff == 1:
                res["effectivePeriod"] = {"start": when[i]}
            else:
                res["issued"] = when[i]
            kind = r.kind[i]
            if kind == P.V_QUANTITY:
                u = an.units[r.unit[i]]
                res["valueQuantity"] = fb.quantity(_number(r.value[i]), u.unit, u.ucum)
                if not np.isnan(r.ref[i]):
                    res["referenceRange"] = [{"high": fb.quantity(_number(r.ref[i]), u.unit, u.ucum)}]
            elif kind == P.V_INTEGER:
                res["valueInteger"] = int(r.integer[i])
            elif kind == P.V_CODE:
                res["valueCodeableConcept"] = self.value_concepts[r.text[i]]
            elif kind == P.V_STRING:
                res["valueString"] = strings[r.text[i]]
            elif kind == P.V_INTERP:
                code = "POS" if r.polarity[i] == P.P_POS else "NEG"
                res["interpretation"] = [fb.concept(fb.OBSERVATION_INTERPRETATION, code)]
            else:
                res["dataAbsentReason"] = fb.concept(DATA_ABSENT, "error")
            k = r.o2_kind[i]
            if k >= 0:
                o = cat.oxygen[k]
                res["component"] = [
                    {
                        "code": self.o2_code[k],
                        "valueQuantity": fb.quantity(_number(r.o2_value[i]), o.unit),
                    }
                ]
            out.append(res)
        out.flush()

    def _procedures(self, chunk: P.Chunk, ids: Ids, refs: list[dict[str, str]]) -> None:
        p = chunk.procedures
        day = _dates(self.ctx, p.day)
        cat = self.ctx.cat
        out = self._sink("Procedure")
        for i in range(len(p.person)):
            e = int(p.entry[i])
            res: dict[str, Any] = {
                "resourceType": "Procedure",
                "id": f"p{ids.procedure[i]}",
                "status": P.PROC_STATUS[p.status[i]],
                "code": self.proc_code[e],
                "subject": refs[p.person[i]],
            }
            if cat.procedures[e].surgical:
                res["category"] = SURGICAL
            if p.period[i]:
                res["performedPeriod"] = {"start": day[i], "end": day[i]}
            else:
                res["performedDateTime"] = day[i]
            out.append(res)
        out.flush()

    def _medications(self, chunk: P.Chunk, ids: Ids, refs: list[dict[str, str]]) -> None:
        d = chunk.medicines
        cat = self.ctx.cat
        start, end = _dates(self.ctx, d.start), _dates(self.ctx, d.end)
        out = self._sink("MedicationRequest")
        for i in range(len(d.person)):
            med = cat.medicines[d.entry[i]]
            res: dict[str, Any] = {
                "resourceType": "MedicationRequest",
                "id": f"d{ids.medicine[i]}",
                "status": P.MED_STATUS[d.status[i]],
                "intent": "order",
                "medicationCodeableConcept": self.med_concept[d.entry[i]],
                "subject": refs[d.person[i]],
                "authoredOn": start[i],
            }
            route = self._route(med.routes[d.route[i]])
            if route is not None:
                res["dosageInstruction"] = [{"route": route}]
            res["dispenseRequest"] = {"validityPeriod": {"start": start[i], "end": end[i]}}
            if d.reason[i] >= 0:
                res["reasonCode"] = [fb.concept(fb.SNOMED, cat.antimicrobial_reasons[d.reason[i]])]
            out.append(res)
        out.flush()

    def _immunizations(self, chunk: P.Chunk, ids: Ids, refs: list[dict[str, str]]) -> None:
        v = chunk.vaccinations
        day = _dates(self.ctx, v.day)
        self._emit(
            "Immunization",
            [
                {
                    "resourceType": "Immunization",
                    "id": f"i{ids.vaccination[i]}",
                    "status": P.IMM_STATUS[v.status[i]],
                    "vaccineCode": self.vaccine_code[v.entry[i]],
                    "patient": refs[v.person[i]],
                    "occurrenceDateTime": day[i],
                }
                for i in range(len(v.person))
            ],
        )

    def _allergies(self, chunk: P.Chunk, ids: Ids, refs: list[dict[str, str]]) -> None:
        al = chunk.allergies
        day = _dates(self.ctx, al.day)
        out = self._sink("AllergyIntolerance")
        for i in range(len(al.person)):
            ver = P.ALLERGY_VERIFICATION[al.verification[i]]
            res: dict[str, Any] = {"resourceType": "AllergyIntolerance", "id": f"a{ids.allergy[i]}"}
            if ver != "entered-in-error":
                res["clinicalStatus"] = fb.concept(fb.ALLERGY_CLINICAL, P.ALLERGY_CLINICAL[al.clinical[i]])
            res["verificationStatus"] = fb.concept(fb.ALLERGY_VERIFICATION, ver)
            crit = P.CRITICALITY[al.criticality[i]]
            if crit:
                res["criticality"] = crit
            res["code"] = self.allergen_code[al.entry[i]]
            res["patient"] = refs[al.person[i]]
            res["recordedDate"] = day[i]
            sev = P.SEVERITY[al.severity[i]]
            if sev:
                res["reaction"] = [{"manifestation": ANAPHYLAXIS if sev == "severe" else RASH, "severity": sev}]
            out.append(res)
        out.flush()

    def _consents(self, chunk: P.Chunk, ids: Ids, refs: list[dict[str, str]]) -> None:
        k = chunk.consents
        day = _dates(self.ctx, k.day)
        out = self._sink("Consent")
        for i in range(len(k.person)):
            form = P.CONSENT_FORM[k.form[i]]
            scope = {"research": "research", "treatment": "treatment"}.get(form, "patient-privacy")
            category = [CONSENT_CATEGORY]
            if form.endswith("research-category"):
                category = [CONSENT_CATEGORY, RESEARCH_CATEGORY]
            out.append(
                {
                    "resourceType": "Consent",
                    "id": f"k{ids.consent[i]}",
                    "status": P.CONSENT_STATUS[k.status[i]],
                    "scope": fb.concept(fb.CONSENT_SCOPE, scope),
                    "category": category,
                    "patient": refs[k.person[i]],
                    "dateTime": day[i],
                    "policyRule": POLICY,
                }
            )
        out.flush()

    def _responses(self, chunk: P.Chunk, ids: Ids, refs: list[dict[str, str]]) -> None:
        q = chunk.responses
        when = _moments(self.ctx, q.day, q.second)
        att = self.ctx.cat.attest_ids
        out = self._sink("QuestionnaireResponse")
        for i in range(len(q.person)):
            items = [
                {"linkId": att[j], "answer": [{"valueBoolean": bool(q.answers[i, j] == 1)}]}
                for j in range(len(att))
                if q.answers[i, j]
            ]
            if q.nested[i] and items:
                items = [{"linkId": "criteria", "item": items}]
            res: dict[str, Any] = {
                "resourceType": "QuestionnaireResponse",
                "id": f"q{ids.response[i]}",
                "status": P.QR_STATUS[q.status[i]],
                "subject": refs[q.person[i]],
                "authored": when[i],
            }
            if items:
                res["item"] = items
            out.append(res)
        out.flush()

    def close(self) -> None:
        for f in self.files.values():
            f.close()
