"""A person's answers: validated, skip logic applied, turned into FHIR resources.

The answers become what a record would hold (Patient.birthDate and gender, Conditions,
Procedures, MedicationStatements, Immunizations, AllergyIntolerances, Observations with LOINC
codes and UCUM units) plus a `QuestionnaireResponse` carrying every answer and, for
statements the patient attests, an item whose linkId is the criterion id. The evaluator reads
them through the same code path as any record.

"I don't know" on a question about a diagnosis, procedure or medicine cannot be read as "no"
(records are read closed-world), so the answers are turned into resources twice: once with
every such unknown as absent, once as present (`hypothesis`). `outcome.py` keeps only what
both agree on.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

from trialscreen.criteria import (
    Allergy,
    Condition,
    Immunization,
    Measurement,
    Medication,
    Procedure,
)
from trialscreen.knowledge import Knowledge, knowledge
from trialscreen.questionnaire.fhir import ANSWER_SYSTEM, UCUM
from trialscreen.questionnaire.model import (
    NO,
    UNKNOWN,
    YES,
    AnswerValue,
    EnableWhen,
    Quantity,
    Question,
    Questionnaire,
)

Answers = dict[str, AnswerValue]
"""Answers by link id. "I don't know" is the code `unknown` on a choice question and no entry
on a number or quantity question (FHIR has no "unknown" value for those)."""
Hypothesis = Literal["absent", "present"]
CLOSED_WORLD = (Condition, Procedure, Medication, Immunization, Allergy)
MAX_AGE = 130
LOINC = "http://loinc.org"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


class AnswerError(ValueError):
    """An answer that does not fit its question; `problems` maps link id to a message."""

    def __init__(self, problems: dict[str, str]) -> None:
        super().__init__("; ".join(f"{k}: {v}" for k, v in problems.items()))
        self.problems = problems


def parse_answers(questionnaire: Questionnaire, raw: Mapping[str, Any]) -> Answers:
    """Check raw answers (form fields or JSON) against the questions.

    Choice: an option code. Integer: a whole number. Quantity: `{"value": v, "unit": u}`
    with a unit offered by the question. Empty, null and "unknown" mean "I don't know".
    Unknown link ids are an error, so a typo is not silently ignored.
    """
    questions = questionnaire.by_id()
    problems: dict[str, str] = {}
    out: Answers = {}
    for link, value in raw.items():
        q = questions.get(link)
        if q is None:
            problems[link] = "no such question in this questionnaire"
            continue
        if value is None or value == "" or value == UNKNOWN and q.type != "choice":
            continue
        try:
            parsed = _parse_one(q, value)
        except ValueError as exc:
            problems[link] = str(exc)
            continue
        if parsed is not None:
            out[link] = parsed
    if problems:
        raise AnswerError(problems)
    return out


def answers_from_response(questionnaire: Questionnaire, response: Mapping[str, Any]) -> dict[str, Any]:
    """Raw answers from a FHIR QuestionnaireResponse to this questionnaire (for `parse_answers`).

    Items are matched by linkId at any depth; attestation items (criterion ids) and items of
    other questionnaires are left to the evaluator, which reads the response itself.
    """
    if not isinstance(response, Mapping) or response.get("resourceType") != "QuestionnaireResponse":
        raise AnswerError({"questionnaire_response": "expected a FHIR QuestionnaireResponse"})
    questions = questionnaire.by_id()
    raw: dict[str, Any] = {}

    def visit(items: Any) -> None:
        for item in items if isinstance(items, list) else []:
            if not isinstance(item, Mapping):
                continue
            link = item.get("linkId")
            answers = item.get("answer")
            if isinstance(link, str) and link in questions and isinstance(answers, list) and answers:
                value = answers[0] if isinstance(answers[0], Mapping) else {}
                if isinstance(value.get("valueCoding"), Mapping):
                    raw[link] = value["valueCoding"].get("code")
                elif "valueInteger" in value:
                    raw[link] = value["valueInteger"]
                elif isinstance(value.get("valueQuantity"), Mapping):
                    quantity = value["valueQuantity"]
                    raw[link] = {"value": quantity.get("value"), "unit": quantity.get("code") or quantity.get("unit")}
                else:
                    raw[link] = next(iter(value.values()), None)
            visit(item.get("item"))

    visit(response.get("item"))
    return raw


def _parse_one(q: Question, value: Any) -> AnswerValue | None:
    if q.type == "choice":
        if not isinstance(value, str) or value not in q.option_codes:
            raise ValueError("choose one of the answers offered")
        return value  # "unknown" is kept: `!=` skip logic treats it as an answer, as FHIR does
    if q.type == "integer":
        if isinstance(value, bool):
            raise ValueError("enter a whole number")
        try:
            number = int(str(value).strip())
        except ValueError:
            raise ValueError("enter a whole number") from None
        if not 0 <= number <= MAX_AGE:
            raise ValueError(f"enter a number from 0 to {MAX_AGE}")
        return number
    if not isinstance(value, Mapping):
        raise ValueError("give a value and a unit")
    raw_value, unit = value.get("value"), value.get("unit")
    if raw_value is None or raw_value == "":
        return None
    try:
        number_f = float(str(raw_value).strip().replace(",", "."))
    except ValueError:
        raise ValueError("enter a number, such as 10.5") from None
    if not math.isfinite(number_f) or number_f < 0 or number_f > 1e7:
        raise ValueError("enter a number that is 0 or more")
    units = {u.code for u in q.units}
    if unit not in units:
        raise ValueError("choose the unit printed on your report")
    return Quantity(number_f, str(unit))


def _holds(cond: EnableWhen, answer: AnswerValue | None) -> bool:
    """FHIR enableWhen: a question with no answer matches only `exists = false`."""
    if cond.operator == "exists":
        return (answer is not None) == bool(cond.answer)
    if answer is None:
        return False
    if isinstance(cond.answer, Quantity) or isinstance(answer, Quantity):
        if not (isinstance(cond.answer, Quantity) and isinstance(answer, Quantity)):
            return False
        if cond.answer.unit != answer.unit:
            return False
        a: Any = answer.value
        b: Any = cond.answer.value
    else:
        a, b = answer, cond.answer
    if cond.operator == "=":
        return bool(a == b)
    if cond.operator == "!=":
        return bool(a != b)
    if isinstance(a, str) or isinstance(b, str):
        return False
    return bool({"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[cond.operator])


def enabled(questionnaire: Questionnaire, answers: Answers) -> list[Question]:
    """Questions shown for these answers, in order; answers to hidden questions do not count."""
    shown: list[Question] = []
    visible: dict[str, AnswerValue] = {}
    for q in questionnaire.questions:
        join = all if q.enable.behavior == "all" else any
        if q.enable.always or join(_holds(c, visible.get(c.question)) for c in q.enable.conditions):
            shown.append(q)
            if q.link_id in answers:
                visible[q.link_id] = answers[q.link_id]
    return shown


def _representative(kb: Knowledge, valueset: str) -> dict[str, Any]:
    """A coding the value set holds: its first code (or range start), in the set's system."""
    vs = kb.valueset(valueset)
    for inc in vs.include:
        for code in (*inc.codes, *(low for low, _ in inc.ranges)):
            uri = max(kb.uris(inc.system), key=len)
            if vs.contains(uri, code):
                return {"system": uri, "code": code}
    raise ValueError(f"value set {valueset} holds no code to stand for a yes answer")


def _concept(kb: Knowledge, valueset: str, text: str) -> dict[str, Any]:
    return {"coding": [_representative(kb, valueset)], "text": text}


@dataclass(frozen=True, slots=True)
class Built:
    resources: list[dict[str, Any]]
    unknown: list[str]
    """Link ids of shown closed-world questions answered "I don't know" or left blank."""


def to_resources(
    questionnaire: Questionnaire,
    answers: Answers,
    as_of: date,
    *,
    hypothesis: Hypothesis = "absent",
    patient_id: str = "prescreen",
    questionnaire_url: str | None = None,
    kb: Knowledge | None = None,
) -> Built:
    """The answers as FHIR resources of one patient, dated on the as-of date."""
    kb = kb or knowledge()
    subject = {"reference": f"Patient/{patient_id}"}
    day = as_of.isoformat()
    patient: dict[str, Any] = {"resourceType": "Patient", "id": patient_id}
    resources: list[dict[str, Any]] = [patient]
    qr_items: list[dict[str, Any]] = []
    attest_items: list[dict[str, Any]] = []
    unknowns: list[str] = []
    shown = enabled(questionnaire, answers)
    counter = 0

    def rid(kind: str) -> str:
        nonlocal counter
        counter += 1
        return f"{patient_id}-{kind.lower()}-{counter}"

    for q in shown:
        given = answers.get(q.link_id)
        node = q.node
        if given is not None:
            qr_items.append(_qr_item(q, given))
        answer = None if given == UNKNOWN else given
        if (
            q.attest
            and isinstance(answer, str)
            and answer in (YES, NO)
            and not isinstance(node, Condition)
        ):
            attest_items.append(
                {"linkId": q.attest, "text": q.text, "answer": [{"valueBoolean": answer == YES}]}
            )
        if q.link_id == "age" and isinstance(answer, int):
            patient["birthDate"] = _birth_date(as_of, answer).isoformat()
            continue
        if q.link_id == "sex":
            if answer in ("female", "male", "other"):
                patient["gender"] = answer
            continue
        if q.link_id.endswith(".reason"):
            continue  # read with its medicine
        if isinstance(node, CLOSED_WORLD):
            present = answer not in (None, NO)
            if answer is None:
                unknowns.append(q.link_id)
                present = hypothesis == "present"
            if isinstance(node, Condition) and node.phase and answer in ("remission", NO):
                present = answer == "remission"
            if present:
                resources.append(_event(q, node, answer, answers, kb, subject, day, rid))
                if (
                    isinstance(node, Condition)
                    and node.phase
                    and answer == "refractory"
                    and q.attest
                ):
                    attest_items.append(
                        {
                            "linkId": q.attest,
                            "text": "refractory disease",
                            "answer": [{"valueBoolean": True}],
                        }
                    )
            continue
        if (isinstance(node, Measurement) or q.link_id.startswith("test.")) and answer is not None:
            resources.append(_observation(q, answer, kb, subject, day, rid("Observation")))
    qr: dict[str, Any] = {
        "resourceType": "QuestionnaireResponse",
        "id": f"{patient_id}-answers",
        "status": "completed",
        "subject": subject,
        "authored": day,
        "item": qr_items + attest_items,
    }
    if questionnaire_url:
        qr["questionnaire"] = questionnaire_url
    resources.append(qr)
    return Built(resources, unknowns)


def _birth_date(as_of: date, age: int) -> date:
    """A birth date making `age` the completed years on `as_of` (the birthday is that day)."""
    try:
        return as_of.replace(year=as_of.year - age)
    except ValueError:  # 29 February
        return as_of.replace(year=as_of.year - age, day=28)


def _qr_item(q: Question, answer: AnswerValue) -> dict[str, Any]:
    if isinstance(answer, Quantity):
        value: dict[str, Any] = {
            "valueQuantity": {
                "value": answer.value,
                "unit": answer.unit,
                "system": UCUM,
                "code": answer.unit,
            }
        }
    elif isinstance(answer, int) and not isinstance(answer, bool):
        value = {"valueInteger": answer}
    else:
        display = {o.code: o.display for o in q.options}.get(str(answer), str(answer))
        value = {"valueCoding": {"system": ANSWER_SYSTEM, "code": str(answer), "display": display}}
    return {"linkId": q.link_id, "text": q.text, "answer": [value]}


def _event(
    q: Question,
    node: Any,
    answer: AnswerValue | None,
    answers: Answers,
    kb: Knowledge,
    subject: dict[str, str],
    day: str,
    rid: Any,
) -> dict[str, Any]:
    text = f"{q.text} (answered on the pre-screening questionnaire)"
    if isinstance(node, Condition):
        status = {"relapsed": "relapse", "remission": "remission"}.get(str(answer), "active")
        return {
            "resourceType": "Condition",
            "id": rid("Condition"),
            "subject": subject,
            "clinicalStatus": {"coding": [{"system": CLINICAL, "code": status}]},
            "code": _concept(kb, node.valueset, text),
            "onsetDateTime": day,
            "recordedDate": day,
        }
    if isinstance(node, Procedure):
        out: dict[str, Any] = {
            "resourceType": "Procedure",
            "id": rid("Procedure"),
            "status": "completed",
            "subject": subject,
            "performedDateTime": day,
            "code": _concept(kb, node.valueset, text) if node.valueset else {"text": text},
        }
        if node.category:
            out["category"] = _concept(kb, node.category, "surgical procedure")
        return out
    if isinstance(node, Medication):
        med: dict[str, Any] = {
            "resourceType": "MedicationStatement",
            "id": rid("MedicationStatement"),
            "status": "active" if node.timing == "current" else "completed",
            "subject": subject,
            "effectivePeriod": {"start": day},
            "medicationCodeableConcept": _concept(kb, node.valueset, text),
        }
        if node.unless_reason and answers.get(f"{q.link_id}.reason") == YES:
            med["reasonCode"] = [_concept(kb, node.unless_reason, "prophylaxis")]
        return med
    if isinstance(node, Immunization):
        return {
            "resourceType": "Immunization",
            "id": rid("Immunization"),
            "status": "completed",
            "patient": subject,
            "occurrenceDateTime": day,
            "vaccineCode": _concept(kb, node.valueset, text),
        }
    assert isinstance(node, Allergy)
    allergy: dict[str, Any] = {
        "resourceType": "AllergyIntolerance",
        "id": rid("AllergyIntolerance"),
        "patient": subject,
        "code": {"text": text},
        "recordedDate": day,
    }
    if node.criticality:
        allergy["criticality"] = node.criticality[0]
    if node.severity:
        allergy["reaction"] = [
            {"severity": node.severity[0], "manifestation": [{"text": "severe allergic reaction"}]}
        ]
    return allergy


def _observation(
    q: Question, answer: AnswerValue, kb: Knowledge, subject: dict[str, str], day: str, ident: str
) -> dict[str, Any]:
    name = q.link_id.removeprefix("test.")
    analyte = kb.analyte(name)
    code = [{"system": uri, "code": code} for uri, code in kb.analyte_codings(name)[:1]]
    obs: dict[str, Any] = {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": {"coding": code, "text": analyte.label},
        "subject": subject,
        "effectiveDateTime": day,
    }
    if isinstance(answer, Quantity):
        obs["valueQuantity"] = {
            "value": answer.value,
            "unit": answer.unit,
            "system": UCUM,
            "code": answer.unit,
        }
    elif analyte.value == "ordinal":
        obs["valueInteger"] = int(str(answer))
    elif answer in ("positive", "negative"):
        codes = (
            kb.qualitative.positive_codes if answer == "positive" else kb.qualitative.negative_codes
        )
        uri, value = sorted(codes)[0]
        obs["valueCodeableConcept"] = {
            "coding": [{"system": uri, "code": value}],
            "text": str(answer),
        }
    return obs
