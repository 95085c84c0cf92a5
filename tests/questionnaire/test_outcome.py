"""The result of the answers: three kinds, and never more certain than the answers."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialscreen.criteria import CriteriaSet
from trialscreen.evaluate import Screener
from trialscreen.questionnaire import Questionnaire
from trialscreen.questionnaire.answers import parse_answers
from trialscreen.questionnaire.outcome import assess

from .conftest import AS_OF
from .seed_answers import qualifying


def _assess(criteria: CriteriaSet, q: Questionnaire, raw: dict[str, Any], screener: Screener | None = None):
    return assess(criteria, q, parse_answers(q, raw), AS_OF, screener=screener)


def test_may_qualify_leaves_only_site_checks(seed_criteria: CriteriaSet, seed_q: Questionnaire) -> None:
    out = _assess(seed_criteria, seed_q, qualifying(seed_q))
    assert out.result == "may_qualify"
    assert not out.failed and not out.to_check
    assert sorted(i.id for i in out.site_checks) == sorted(seed_q.site_checks)


def test_not_qualify_quotes_the_criterion(seed_criteria: CriteriaSet, seed_q: Questionnaire) -> None:
    out = _assess(seed_criteria, seed_q, qualifying(seed_q, **{"test.hemoglobin": {"value": "5.5", "unit": "g/dL"}}))
    assert out.result == "not_qualify"
    assert [i.id for i in out.failed] == ["inc-6.hemoglobin"]
    assert out.failed[0].text == seed_criteria.by_id()["inc-6.hemoglobin"].text


def test_same_haemoglobin_in_any_unit_gives_the_same_result(seed_criteria: CriteriaSet, seed_q: Questionnaire) -> None:
    for value, unit in (("6.5", "g/dL"), ("65", "g/L")):
        out = _assess(seed_criteria, seed_q, qualifying(seed_q, **{"test.hemoglobin": {"value": value, "unit": unit}}))
        assert out.result == "may_qualify", unit
    for value, unit in (("5.9", "g/dL"), ("59", "g/L")):
        out = _assess(seed_criteria, seed_q, qualifying(seed_q, **{"test.hemoglobin": {"value": value, "unit": unit}}))
        assert out.result == "not_qualify", unit


def test_dont_know_means_the_site_checks(seed_criteria: CriteriaSet, seed_q: Questionnaire) -> None:
    out = _assess(seed_criteria, seed_q, qualifying(seed_q, **{"history.cns_disorder": "unknown"}))
    assert out.result == "site_check"
    assert [i.id for i in out.to_check] == ["exc-2"]
    assert "did not know" in out.to_check[0].reason


def test_a_missing_test_result_means_the_site_checks(seed_criteria: CriteriaSet, seed_q: Questionnaire) -> None:
    out = _assess(seed_criteria, seed_q, qualifying(seed_q, **{"test.lvef": None}))
    assert out.result == "site_check"
    assert [i.id for i in out.to_check] == ["inc-6.lvef"]


def test_a_woman_needs_a_pregnancy_test(seed_criteria: CriteriaSet, seed_q: Questionnaire) -> None:
    no_test = _assess(seed_criteria, seed_q, qualifying(seed_q, sex="female", age="30", **{"test.hcg": "unknown"}))
    assert "inc-7" in [i.id for i in no_test.to_check]
    negative = _assess(seed_criteria, seed_q, qualifying(seed_q, sex="female", age="30"))
    assert negative.result == "may_qualify"
    positive = _assess(seed_criteria, seed_q, qualifying(seed_q, sex="female", age="30", **{"test.hcg": "positive"}))
    assert [i.id for i in positive.failed] == ["inc-7"]


@pytest.fixture(scope="module")
def screener(seed_criteria: CriteriaSet) -> Screener:
    return Screener(seed_criteria)


YES_NO_LINKS = ["history.cns_disorder", "history.apl", "condition.infection", "medication.immunosuppressant",
                "procedure.autologous_sct", "immunization.live_vaccine", "allergy.severe"]


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(choices=st.lists(st.sampled_from(["yes", "no", "unknown"]), min_size=len(YES_NO_LINKS), max_size=len(YES_NO_LINKS)))
def test_never_more_certain_than_the_answers(
    seed_criteria: CriteriaSet, seed_q: Questionnaire, screener: Screener, choices: list[str]
) -> None:
    """Whatever is true behind an "I don't know", a criterion the result calls pass or fail
    is pass or fail for every way the unknown answers could have been answered."""
    base = dict(zip(YES_NO_LINKS, choices, strict=True))
    out = _assess(seed_criteria, seed_q, qualifying(seed_q, **base), screener)
    certain = {i.id: i.status for i in out.failed + out.passed}
    unknown = [k for k, v in base.items() if v == "unknown"]
    for fill in ("yes", "no"):
        resolved = _assess(seed_criteria, seed_q, qualifying(seed_q, **{**base, **dict.fromkeys(unknown, fill)}), screener)
        statuses = {i.id: i.status for i in resolved.failed + resolved.passed + resolved.to_check + resolved.site_checks}
        for cid, status in certain.items():
            assert statuses[cid] == status, (cid, fill)


@pytest.mark.parametrize(
    ("aml", "status"),
    [("relapsed", "pass"), ("refractory", "pass"), ("remission", "fail"), ("no", "fail"), ("unknown", "unknown")],
)
def test_diagnosis_and_its_phase(seed_criteria: CriteriaSet, seed_q: Questionnaire, screener: Screener, aml: str,
                                 status: str) -> None:
    out = _assess(seed_criteria, seed_q, qualifying(seed_q, **{"condition.aml": aml}), screener)
    statuses = {i.id: i.status for i in out.failed + out.passed + out.to_check + out.site_checks}
    assert statuses["inc-3"] == status
