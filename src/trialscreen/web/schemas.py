"""The JSON API's request and response bodies, as published in the OpenAPI schema."""

from __future__ import annotations

import re
from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator, model_validator

_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
PHONE = re.compile(r"^\+?[0-9 ()./-]{6,40}$")

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class TrialSummary(BaseModel):
    nct_id: str
    title: str
    status: str | None
    sponsor: str | None
    conditions: list[str]
    sex: str | None
    minimum_age: str | None
    maximum_age: str | None
    places: list[str]
    has_questionnaire: bool
    url: str


class TrialsPage(BaseModel):
    count: int
    trials: list[TrialSummary]


class CriterionOut(BaseModel):
    id: str
    kind: Literal["inclusion", "exclusion"]
    text: str
    parts: list[CriterionOut] = []


class TrialDetail(TrialSummary):
    current_as_of: str | None
    keywords: list[str]
    summary: str | None
    eligibility_criteria: str | None
    criteria: list[CriterionOut]
    about_sponsor: str | None
    contacts: list[dict[str, str | None]]
    locations: list[dict[str, str | None]]
    officials: list[dict[str, str | None]]
    timeline: dict[str, str | None]
    patients_applied: int


class PrescreenIn(BaseModel):
    """Answers by question link id (see the trial's FHIR Questionnaire).

    Choice: an answer code ("unknown" is "I don't know"); age: a whole number; a test
    result: {"value": 9.5, "unit": "g/dL"} with a unit the question offers. Leave a question
    out when the answer is not known.
    """

    model_config = ConfigDict(extra="forbid")
    answers: dict[str, str | int | float | dict[str, Any] | None] = Field(default_factory=dict)
    questionnaire_response: dict[str, Any] | None = None
    """Instead of `answers`: a FHIR QuestionnaireResponse to the trial's Questionnaire."""

    @model_validator(mode="after")
    def _one_source(self) -> PrescreenIn:
        if self.answers and self.questionnaire_response is not None:
            raise ValueError("give either answers or a questionnaire_response, not both")
        return self


class ResultItem(BaseModel):
    id: str
    kind: str
    text: str
    status: Literal["pass", "fail", "unknown"]
    reason: str
    questions: list[str]


class PrescreenOut(BaseModel):
    trial: str
    as_of: str
    result: Literal["may_qualify", "not_qualify", "site_check"]
    headline: str
    failed: list[ResultItem]
    to_check: list[ResultItem]
    site_checks: list[ResultItem]
    passed: list[ResultItem]
    questionnaire_response: dict[str, Any] | None
    resources: list[dict[str, Any]]


class ApplicationIn(BaseModel):
    """A request to be contacted by the trial site: a name, an e-mail or phone, and consent."""

    model_config = ConfigDict(extra="forbid")
    name: Name
    email: Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)] | None = None
    phone: Annotated[str, StringConstraints(strip_whitespace=True, max_length=40)] | None = None
    consent: bool
    prescreen_result: Literal["may_qualify", "not_qualify", "site_check"] | None = None

    @field_validator("name")
    @classmethod
    def _printable(cls, value: str) -> str:
        if _CONTROL.search(value):
            raise ValueError("the name holds characters that cannot be printed")
        return value

    @field_validator("email")
    @classmethod
    def _email(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not EMAIL.match(value) or _CONTROL.search(value):
            raise ValueError("this does not look like an e-mail address (name@example.org)")
        return value

    @field_validator("phone")
    @classmethod
    def _phone(cls, value: str | None) -> str | None:
        if not value:
            return None
        if not PHONE.match(value) or sum(ch.isdigit() for ch in value) < 6:
            raise ValueError("enter a phone number of digits, with an optional leading +")
        return value

    @model_validator(mode="after")
    def _contact_and_consent(self) -> ApplicationIn:
        if not self.email and not self.phone:
            raise ValueError("give an e-mail address or a phone number so the site can contact you")
        if not self.consent:
            raise ValueError("the site can only contact you if you agree to be contacted")
        return self


class ApplicationOut(BaseModel):
    id: str
    trial: str
    created_at: datetime
    duplicate: bool
    """True when the same person had already applied to this trial: nothing new was stored."""


class Problem(BaseModel):
    detail: str
    problems: dict[str, str] = {}
