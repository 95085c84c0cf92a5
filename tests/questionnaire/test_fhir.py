"""The FHIR R4 Questionnaire: valid shape, skip logic as enableWhen with typed answers."""

from __future__ import annotations

from trialscreen.questionnaire import Questionnaire
from trialscreen.questionnaire.fhir import to_fhir


def test_questionnaire_resource(seed_q: Questionnaire) -> None:
    res = to_fhir(seed_q, "https://example.org")
    assert res["resourceType"] == "Questionnaire" and res["status"] == "active"
    assert res["url"] == "https://example.org/trials/NCT06125652/Questionnaire"
    items = {i["linkId"]: i for i in res["item"]}
    assert len(items) == len(seed_q.questions)
    for item in res["item"]:
        assert item["type"] in ("choice", "integer", "quantity")
        if item["type"] == "choice":
            codes = [o["valueCoding"]["code"] for o in item["answerOption"]]
            assert "unknown" in codes
        for cond in item.get("enableWhen", []):
            target = items[cond["question"]]
            answer_keys = [k for k in cond if k.startswith("answer")]
            assert len(answer_keys) == 1
            expected = {"choice": "answerCoding", "integer": "answerInteger", "quantity": "answerQuantity"}[target["type"]]
            assert answer_keys[0] == ("answerBoolean" if cond["operator"] == "exists" else expected)
        if "enableWhen" in item:
            assert item["enableBehavior"] in ("all", "any")


def test_skip_logic_in_enable_when(seed_q: Questionnaire) -> None:
    items = {i["linkId"]: i for i in to_fhir(seed_q)["item"]}
    hcg = items["test.hcg"]["enableWhen"]
    assert {"question": "sex", "operator": "!=", "answerCoding": {"system": "urn:trialscreen:prescreen-answer", "code": "male", "display": "Male"}} in hcg
    renal = items["test.creatinine_clearance"]
    assert renal["enableBehavior"] == "any"
    assert {c["operator"] for c in renal["enableWhen"]} == {">", "exists"}
    units = {c["answerQuantity"]["code"] for c in renal["enableWhen"] if "answerQuantity" in c}
    assert units == {"mg/dL", "umol/L"}


def test_quantity_items_offer_units(seed_q: Questionnaire) -> None:
    items = {i["linkId"]: i for i in to_fhir(seed_q)["item"]}
    options = [e["valueCoding"]["code"] for e in items["test.hemoglobin"]["extension"] if e["url"].endswith("unitOption")]
    assert options[:2] == ["g/dL", "g/L"]


def test_valid_fhir_r4(seed_q: Questionnaire) -> None:
    """The Questionnaire, and the resources answers become, pass a FHIR R4(B) model."""
    from fhir.resources.R4B.bundle import Bundle
    from fhir.resources.R4B.questionnaire import Questionnaire as FhirQuestionnaire

    from trialscreen.questionnaire.answers import parse_answers, to_resources

    from .conftest import AS_OF
    from .seed_answers import qualifying

    FhirQuestionnaire.model_validate(to_fhir(seed_q))
    for overrides in ({}, {"sex": "female", "age": "30"}, {"history.cns_disorder": "yes", "medication.antimicrobial": "yes",
                                                           "medication.antimicrobial.reason": "yes", "allergy.severe": "yes",
                                                           "immunization.live_vaccine": "yes", "procedure.autologous_sct": "yes",
                                                           "procedure.surgical_procedure_category": "yes"}):
        built = to_resources(seed_q, parse_answers(seed_q, qualifying(seed_q, **overrides)), AS_OF)
        Bundle.model_validate({"resourceType": "Bundle", "type": "collection",
                               "entry": [{"resource": r} for r in built.resources]})
