"""The questionnaire as a FHIR R4 `Questionnaire` resource, skip logic as `enableWhen`."""

from __future__ import annotations

from typing import Any

from trialscreen.questionnaire.model import (
    AnswerValue,
    EnableWhen,
    Quantity,
    Question,
    Questionnaire,
)

UCUM = "http://unitsofmeasure.org"
ANSWER_SYSTEM = "urn:trialscreen:prescreen-answer"
"""Code system of the questionnaire's own answer codes (yes, no, unknown, relapsed, ...)."""
UNIT_OPTION = "http://hl7.org/fhir/StructureDefinition/questionnaire-unitOption"
ITEM_CONTROL = "http://hl7.org/fhir/StructureDefinition/questionnaire-itemControl"


def canonical_url(base: str, trial: str) -> str:
    return f"{base.rstrip('/')}/trials/{trial}/Questionnaire"


def _answer(value: AnswerValue, question: Question | None) -> dict[str, Any]:
    if isinstance(value, bool):
        return {"answerBoolean": value}
    if isinstance(value, Quantity):
        return {
            "answerQuantity": {
                "value": value.value,
                "unit": value.unit,
                "system": UCUM,
                "code": value.unit,
            }
        }
    if isinstance(value, int) and (question is None or question.type == "integer"):
        return {"answerInteger": value}
    if isinstance(value, float):
        return {"answerDecimal": value}
    display = {o.code: o.display for o in question.options}.get(str(value)) if question else None
    coding: dict[str, Any] = {"system": ANSWER_SYSTEM, "code": str(value)}
    if display:
        coding["display"] = display
    return {"answerCoding": coding}


def _enable_when(cond: EnableWhen, questions: dict[str, Question]) -> dict[str, Any]:
    return {
        "question": cond.question,
        "operator": cond.operator,
        **_answer(cond.answer, questions.get(cond.question)),
    }


def _item(q: Question, questions: dict[str, Question]) -> dict[str, Any]:
    item: dict[str, Any] = {"linkId": q.link_id, "text": q.text, "type": q.type, "required": False}
    if q.criteria:
        item["code"] = [{"system": ANSWER_SYSTEM + ":criterion", "code": c} for c in q.criteria]
    if q.options:
        item["answerOption"] = [
            {"valueCoding": {"system": ANSWER_SYSTEM, "code": o.code, "display": o.display}}
            for o in q.options
        ]
    extensions: list[dict[str, Any]] = [
        {"url": UNIT_OPTION, "valueCoding": {"system": UCUM, "code": u.code, "display": u.display}}
        for u in q.units
    ]
    if q.options:
        extensions.append(
            {
                "url": ITEM_CONTROL,
                "valueCodeableConcept": {
                    "coding": [
                        {
                            "system": "http://hl7.org/fhir/questionnaire-item-control",
                            "code": "radio-button",
                        }
                    ]
                },
            }
        )
    if extensions:
        item["extension"] = extensions
    if q.help:
        item["item"] = [
            {
                "linkId": f"{q.link_id}.help",
                "text": q.help,
                "type": "display",
                "extension": [
                    {
                        "url": ITEM_CONTROL,
                        "valueCodeableConcept": {
                            "coding": [
                                {
                                    "system": "http://hl7.org/fhir/questionnaire-item-control",
                                    "code": "help",
                                }
                            ]
                        },
                    }
                ],
            }
        ]
    if not q.enable.always:
        item["enableWhen"] = [_enable_when(c, questions) for c in q.enable.conditions]
        item["enableBehavior"] = q.enable.behavior
    return item


def to_fhir(questionnaire: Questionnaire, base_url: str = "http://localhost") -> dict[str, Any]:
    """A FHIR R4 Questionnaire (status active) whose items carry the skip logic."""
    questions = questionnaire.by_id()
    return {
        "resourceType": "Questionnaire",
        "id": f"prescreen-{questionnaire.trial}",
        "url": canonical_url(base_url, questionnaire.trial),
        "version": questionnaire.version,
        "name": f"Prescreen{questionnaire.trial}",
        "title": f"Pre-screening questions: {questionnaire.title}",
        "status": "active",
        "subjectType": ["Patient"],
        "description": "Generated from the trial's computable eligibility criteria. "
        'Every question may be left as "I don\'t know". '
        "Criteria checked only by the trial site: " + ", ".join(questionnaire.site_checks),
        "item": [_item(q, questions) for q in questionnaire.questions],
    }
