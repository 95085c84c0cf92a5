from __future__ import annotations

from datetime import date

import pytest

from trialscreen.criteria import CriteriaSet
from trialscreen.criteria.builtin import builtin_criteria
from trialscreen.questionnaire import Questionnaire, build_questionnaire

AS_OF = date(2026, 11, 25)


@pytest.fixture(scope="session")
def seed_criteria() -> CriteriaSet:
    criteria = builtin_criteria("NCT06125652")
    assert criteria is not None
    return criteria


@pytest.fixture(scope="session")
def seed_q(seed_criteria: CriteriaSet) -> Questionnaire:
    return build_questionnaire(seed_criteria)
