"""The workspace's JSON shapes (they document the API in /openapi.json)."""

from __future__ import annotations

import datetime as dt
from datetime import date, datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

Role = Literal["admin", "coordinator", "investigator"]
DecisionName = Literal["enrolled", "screen_failure", "withdrawn"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class LoginIn(Strict):
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1000)


class UserOut(BaseModel):
    id: int
    username: str
    role: Role
    trials: list[str]
    active: bool = True


class LoginOut(BaseModel):
    token: str = Field(description="Send as `Authorization: Bearer <token>`.")
    user: UserOut


class ApplicationOut(BaseModel):
    id: str
    trial: str
    name: str
    email: str | None
    phone: str | None
    prescreen_result: str | None
    applied_at: datetime
    age_days: int
    status: str
    latest_verdict: str | None
    candidate_id: str | None


class CandidateIn(Strict):
    trial: str = Field(pattern=r"^NCT\d{8}$")
    label: str = Field(min_length=1, max_length=200, description="A name or the site's reference.")


class CandidateRef(BaseModel):
    candidate_id: str


class RecordIn(Strict):
    """One patient's FHIR R4 record: a Bundle, or NDJSON text (one resource a line)."""

    bundle: dict[str, Any] | None = None
    ndjson: str | None = Field(default=None, max_length=20 * 1024 * 1024)
    filename: str = Field(default="upload", max_length=100)


class ScreeningOut(BaseModel):
    id: int
    as_of: date
    verdict: str
    eligible_from: date | None
    rescreen_on: date | None = Field(description="Set when the only failures lapse with time.")
    report: dict[str, Any] = Field(description="As `trialscreen screen --format json` writes it.")
    flags: list[dict[str, str]] = Field(description="Procedures and Observations dated before the consent.")
    created_at: datetime


class DecisionIn(Strict):
    decision: DecisionName
    note: str | None = Field(default=None, max_length=500)


class DecisionOut(BaseModel):
    id: int
    decision: DecisionName
    reasons: list[str]
    note: str | None
    screening_id: int | None
    created_at: datetime


class ConsentIn(Strict):
    date: dt.date = Field(description="The day the patient signed; on or before today.")


class AttestationsIn(Strict):
    answers: dict[Literal["inc-4", "inc-5.survival", "exc-16"], bool] = Field(
        description="true: the statement holds (for exc-16: the patient is unsuitable)."
    )


class CandidateOut(BaseModel):
    id: str
    trial: str
    label: str
    application_id: str | None
    patient_id: str | None
    status: str
    has_consent: bool
    attested: dict[str, bool]
    latest: ScreeningOut | None
    screenings: list[int] = Field(description="Ids of every report, newest first.")
    decisions: list[DecisionOut]


class CandidateSummary(BaseModel):
    id: str
    trial: str
    label: str
    status: str
    verdict: str | None
    eligible_from: date | None
    rescreen_due: bool | None = None


class UserIn(Strict):
    username: str = Field(min_length=2, max_length=64)
    password: str = Field(min_length=10, max_length=1000)
    role: Role
    trials: list[str] = []


class UserPatch(Strict):
    role: Role | None = None
    trials: list[str] | None = None
    active: bool | None = None
    password: str | None = Field(default=None, min_length=10, max_length=1000)


class AuditOut(BaseModel):
    id: int
    at: datetime
    username: str
    action: str
    trial: str | None
    candidate_id: str | None
    application_id: str | None
    detail: str | None


class Problem(BaseModel):
    detail: str
