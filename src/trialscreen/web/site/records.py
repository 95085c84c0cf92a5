"""A candidate's FHIR R4 record: reading an upload, writing Consent and attestations.

An upload is one patient's record as a Bundle (JSON) or as NDJSON (one resource a line,
as bulk exports write them). Consent and the investigator's attestations are written here
as FHIR resources and stored beside the uploaded ones, so the evaluator decides inc-1,
inc-4, inc-5.survival and exc-16 from the record exactly as it does on the command line.
"""

from __future__ import annotations

import base64
import hashlib
import uuid
from collections.abc import Iterable
from datetime import date, datetime
from typing import Any

import orjson

from trialscreen.fhir.builder import CONSENT_SCOPE, LOINC, V3_ACT_CODE, concept, fhir_date
from trialscreen.fhir.read import PatientRecord, RecordError

Resource = dict[str, Any]
MAX_UPLOAD = 20 * 1024 * 1024
INVESTIGATOR_ITEMS = {
    "inc-4": "Recovered from the toxicity of previous treatment",
    "inc-5.survival": "Expected survival of at least 3 months",
    "exc-16": "Judged unsuitable for the trial by the investigators",
}
"""The statements only an investigator attests (criterion id -> question)."""
SIGNATURE_EXTENSION = "http://hl7.org/fhir/StructureDefinition/questionnaireresponse-signature"
AUTHOR_SIGNATURE = "1.2.840.10065.1.12.1.1"  # ASTM E1762 "Author's Signature"


def read_upload(name: str, data: bytes) -> list[Resource]:
    """The resources of one patient from a Bundle or NDJSON upload; RecordError names the problem."""
    if not data.strip():
        raise RecordError(f"{name}: the file is empty")
    if len(data) > MAX_UPLOAD:
        raise RecordError(f"{name}: larger than {MAX_UPLOAD // (1024 * 1024)} MB")
    text = data.lstrip()
    resources: list[Any]
    try:
        whole = orjson.loads(text)
    except orjson.JSONDecodeError:
        whole = None
    if isinstance(whole, dict):
        if whole.get("resourceType") == "Bundle":
            entries = whole.get("entry") or []
            if not isinstance(entries, list):
                raise RecordError(f"{name}: Bundle.entry is not a list")
            resources = [e.get("resource") if isinstance(e, dict) else None for e in entries]
        else:
            resources = [whole]
    else:
        resources = []
        for number, line in enumerate(text.splitlines(), start=1):
            if not line.strip():
                continue
            try:
                resources.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                raise RecordError(f"{name}: line {number} is not JSON (expected a Bundle or NDJSON)") from None
    for index, res in enumerate(resources):
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            raise RecordError(f"{name}: item {index + 1} is not a FHIR resource")
        if not isinstance(res.get("id"), str) or not res["id"]:
            res["id"] = str(uuid.uuid4())
    record = PatientRecord.from_resources(resources, source=name)  # one Patient, readable
    del record
    return resources


def patient_id(resources: Iterable[Resource]) -> str:
    for res in resources:
        if res.get("resourceType") == "Patient":
            return str(res.get("id"))
    raise RecordError("the record holds no Patient")


def latest_resources(rows: Iterable[Resource]) -> list[Resource]:
    """Every resource once: a later upload of the same type and id replaces the earlier one."""
    chosen: dict[tuple[str, str], Resource] = {}
    for res in rows:
        chosen[(str(res.get("resourceType")), str(res.get("id")))] = res
    return list(chosen.values())


def consent(patient: str, signed: date, recorded_by: str) -> Resource:
    """An active research Consent of the patient, signed on `signed` (it decides inc-1)."""
    return {
        "resourceType": "Consent",
        "id": str(uuid.uuid4()),
        "status": "active",
        "scope": concept(CONSENT_SCOPE, "research"),
        "category": [concept(LOINC, "59284-0", "Patient Consent"), concept(V3_ACT_CODE, "RESEARCH")],
        "patient": {"reference": f"Patient/{patient}"},
        "dateTime": fhir_date(signed),
        "policyRule": concept(V3_ACT_CODE, "OPTIN"),
        "performer": [{"reference": f"Patient/{patient}"}],
        "organization": [{"display": f"recorded by {recorded_by}"}],
    }


def attestation(patient: str, answers: dict[str, bool], author_id: int, author: str, when: datetime) -> Resource:
    """The investigator's completed QuestionnaireResponse, signed: author, authored, signature."""
    items = [
        {"linkId": cid, "text": INVESTIGATOR_ITEMS[cid], "answer": [{"valueBoolean": value}]}
        for cid, value in answers.items()
    ]
    who = {"reference": f"Practitioner/site-user-{author_id}", "display": author}
    response: Resource = {
        "resourceType": "QuestionnaireResponse",
        "id": str(uuid.uuid4()),
        "status": "completed",
        "subject": {"reference": f"Patient/{patient}"},
        "authored": fhir_date(when),
        "author": who,
        "item": items,
    }
    digest = hashlib.sha256(orjson.dumps(response, option=orjson.OPT_SORT_KEYS)).digest()
    response["extension"] = [
        {
            "url": SIGNATURE_EXTENSION,
            "valueSignature": {
                "type": [{"system": "urn:iso-astm:E1762-95:2013", "code": AUTHOR_SIGNATURE}],
                "when": fhir_date(when),
                "who": who,
                "sigFormat": "application/octet-stream",
                "data": base64.b64encode(digest).decode("ascii"),
            },
        }
    ]
    return response


def _resource_date(res: Resource) -> date | None:
    if res.get("resourceType") == "Procedure":
        raw = res.get("performedDateTime") or (res.get("performedPeriod") or {}).get("start")
    else:
        raw = res.get("effectiveDateTime") or (res.get("effectivePeriod") or {}).get("start") or res.get("issued")
    if not isinstance(raw, str) or len(raw) < 10:
        return None
    try:
        return date.fromisoformat(raw[:10])
    except ValueError:
        return None


def before_consent(resources: Iterable[Resource], consented: date) -> list[dict[str, str]]:
    """Procedures and Observations dated before the consent: study procedures done too early?"""
    flags = []
    for res in resources:
        if res.get("resourceType") not in ("Procedure", "Observation"):
            continue
        if res.get("status") in ("entered-in-error", "not-done"):
            continue
        when = _resource_date(res)
        if when is not None and when < consented:
            flags.append(
                {"resource": f"{res['resourceType']}/{res.get('id')}", "date": when.isoformat(),
                 "consent": consented.isoformat()}
            )
    return flags
