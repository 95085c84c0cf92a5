"""The questionnaire is generated from the tree: one question per fact, plain words, skip
logic that hides only what can no longer change the result."""

from __future__ import annotations

from trialscreen.criteria import CriteriaSet
from trialscreen.criteria.nodes import Attestation, Consent, ManualReview
from trialscreen.questionnaire import Questionnaire, build_questionnaire
from trialscreen.questionnaire.answers import enabled, parse_answers

from .seed_answers import qualifying


def _shown(q: Questionnaire, raw: dict) -> set[str]:
    return {x.link_id for x in enabled(q, parse_answers(q, raw))}


def test_every_answerable_criterion_is_asked_and_the_rest_are_site_checks(seed_criteria: CriteriaSet, seed_q: Questionnaire) -> None:
    asked = {cid for question in seed_q.questions for cid in question.criteria}
    leaves = [c for c in seed_criteria.walk() if not c.parts]
    for c in leaves:
        site_only = isinstance(c.rule, Consent | ManualReview) or (
            isinstance(c.rule, Attestation) and c.rule.who == "investigator"
        )
        assert (c.id in seed_q.site_checks) == site_only, c.id
        assert (c.id in asked) != site_only, c.id


def test_questions_are_unique_and_depend_only_on_earlier_ones(seed_q: Questionnaire) -> None:
    links = [q.link_id for q in seed_q.questions]
    assert len(links) == len(set(links))
    for i, question in enumerate(seed_q.questions):
        for cond in question.enable.conditions:
            assert cond.question in links[:i], (question.link_id, cond.question)


def test_sections_keep_the_asking_order(seed_q: Questionnaire) -> None:
    """The page shows sections in order; a question must not come before what it depends on."""
    in_sections = [x.link_id for _, qs in seed_q.sections() for x in qs]
    assert in_sections == [x.link_id for x in seed_q.questions]


def test_every_choice_offers_i_dont_know(seed_q: Questionnaire) -> None:
    for question in seed_q.questions:
        if question.type == "choice":
            assert "unknown" in question.option_codes, question.link_id
            assert any("don't know" in o.display for o in question.options)


def test_units_people_know(seed_q: Questionnaire) -> None:
    units = {q.link_id: [u.code for u in q.units] for q in seed_q.questions}
    assert {"g/dL", "g/L"} <= set(units["test.hemoglobin"])
    assert "umol/L" in units["test.creatinine"] and "mg/dL" in units["test.creatinine"]
    assert "10*3/uL" in units["test.wbc"]


def test_no_pregnancy_questions_for_a_man(seed_q: Questionnaire) -> None:
    pregnancy = {q.link_id for q in seed_q.questions if q.section == "pregnancy"}
    assert pregnancy, "the seed trial asks about pregnancy"
    assert not pregnancy & _shown(seed_q, qualifying(seed_q, sex="male"))
    woman = _shown(seed_q, qualifying(seed_q, sex="female", age="30"))
    assert pregnancy <= woman
    older = _shown(seed_q, qualifying(seed_q, sex="female", age="60"))
    assert not pregnancy & older


def test_no_renal_question_once_creatinine_is_within_limits(seed_q: Questionnaire) -> None:
    within = _shown(seed_q, qualifying(seed_q, **{"test.creatinine": {"value": "0.9", "unit": "mg/dL"}}))
    assert "test.creatinine_clearance" not in within
    high = _shown(seed_q, qualifying(seed_q, **{"test.creatinine": {"value": "250", "unit": "umol/L"}}))
    assert "test.creatinine_clearance" in high
    unknown = _shown(seed_q, qualifying(seed_q, **{"test.creatinine": None}))
    assert "test.creatinine_clearance" in unknown


def test_a_follow_up_is_asked_only_after_yes(seed_q: Questionnaire) -> None:
    no = _shown(seed_q, qualifying(seed_q))
    assert "test.nyha" not in no and "medication.antimicrobial.reason" not in no
    yes = _shown(seed_q, qualifying(seed_q, **{"condition.heart_failure.active_or_within": "yes",
                                               "medication.antimicrobial": "yes"}))
    assert "test.nyha" in yes and "medication.antimicrobial.reason" in yes


def test_generation_is_generic() -> None:
    """A made-up trial with other value sets and analytes gets its own questions."""
    criteria = CriteriaSet.model_validate({
        "trial": "NCT00000001",
        "criteria": [
            {"id": "inc-1", "kind": "inclusion", "text": "Age 12 or more", "rule": {"kind": "age", "min": 12}},
            {"id": "inc-2", "kind": "inclusion", "text": "Haemoglobin at least 9 g/dL",
             "rule": {"kind": "measurement", "analyte": "hemoglobin", "op": ">=", "value": 90, "unit": "g/L"}},
            {"id": "exc-1", "kind": "exclusion", "text": "Hepatitis C",
             "rule": {"kind": "condition", "valueset": "hcv_infection", "timing": "active"}},
            {"id": "exc-2", "kind": "exclusion", "text": "Site judgement",
             "rule": {"kind": "attestation", "question": "Unsuitable."}},
        ],
    })
    q = build_questionnaire(criteria)
    assert [x.link_id for x in q.questions] == ["age", "test.hemoglobin", "condition.hcv_infection"]
    assert q.site_checks == ["exc-2"]
    assert all(x.text.endswith("?") for x in q.questions)


def test_patient_statements_are_in_second_person(seed_q: Questionnaire) -> None:
    for question in seed_q.questions:
        assert "The patient" not in question.text
    statement = next(x for x in seed_q.questions if x.attest and x.section == "agreements")
    assert "You agree" in statement.text


def test_criterion_ids_are_real(seed_criteria: CriteriaSet, seed_q: Questionnaire) -> None:
    ids = set(seed_criteria.by_id())
    for question in seed_q.questions:
        assert set(question.criteria) <= ids
        assert question.criteria


