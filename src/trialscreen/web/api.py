"""The JSON API: every action of the pages, documented in the OpenAPI schema."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Query, Request, Response
from fastapi.responses import JSONResponse

from trialscreen.questionnaire.answers import AnswerError, answers_from_response
from trialscreen.questionnaire.fhir import to_fhir
from trialscreen.web import present, services
from trialscreen.web.catalog import Query as SearchQuery
from trialscreen.web.schemas import (
    ApplicationIn,
    ApplicationOut,
    PrescreenIn,
    PrescreenOut,
    Problem,
    TrialDetail,
    TrialsPage,
)
from trialscreen.web.security import client_key

router = APIRouter()
NOT_FOUND: dict[int | str, dict[str, Any]] = {404: {"model": Problem, "description": "No such trial"}}
BAD_BODY: dict[int | str, dict[str, Any]] = {400: {"model": Problem, "description": "The body is not valid JSON"}}
Text = Annotated[str | None, Query(max_length=200)]


@router.get("/healthz", tags=["service"], summary="Liveness (also the benchmark's baseline)")
async def healthz() -> dict[str, str]:
    return {"status": "ok"}


@router.get("/api/trials", response_model=TrialsPage, tags=["trials"], summary="Search the trials")
def search_trials(
    request: Request,
    condition: Text = None,
    keyword: Text = None,
    status: Text = None,
    age: Annotated[int | None, Query(ge=0, le=130)] = None,
    sex: Annotated[str | None, Query(pattern="^(female|male|all|FEMALE|MALE|ALL)$")] = None,
    location: Text = None,
) -> TrialsPage:
    query = SearchQuery(condition or None, keyword or None, status or None, age, sex, location or None)
    hits = services.catalog(request).search(query)
    return TrialsPage(count=len(hits), trials=[present.summary(e) for e in hits])


@router.get(
    "/api/trials/{nct_id}",
    response_model=TrialDetail,
    responses=NOT_FOUND,
    tags=["trials"],
    summary="A trial's listing, with the number of patients who applied",
)
def trial_detail(request: Request, nct_id: str) -> TrialDetail:
    entry = services.entry_or_404(request, nct_id)
    return present.detail(entry, services.store(request).count(entry.nct_id))


@router.get(
    "/trials/{nct_id}/Questionnaire",
    responses={**NOT_FOUND, 200: {"content": {"application/fhir+json": {}}}},
    tags=["prescreen"],
    summary="The pre-screening questionnaire as a FHIR R4 Questionnaire",
)
def fhir_questionnaire(request: Request, nct_id: str) -> Response:
    entry = services.questionnaire_entry(request, nct_id)
    assert entry.questionnaire is not None
    body = to_fhir(entry.questionnaire, services.settings(request).base_url)
    return JSONResponse(body, media_type="application/fhir+json")


@router.post(
    "/api/trials/{nct_id}/prescreen",
    response_model=PrescreenOut,
    responses={**NOT_FOUND, **BAD_BODY, 422: {"model": Problem, "description": "An answer does not fit its question"}},
    tags=["prescreen"],
    summary="Screen answers to the questionnaire",
)
def prescreen(request: Request, nct_id: str, body: PrescreenIn) -> Any:
    entry = services.questionnaire_entry(request, nct_id)
    try:
        raw: dict[str, Any] = dict(body.answers)
        if body.questionnaire_response is not None:
            assert entry.questionnaire is not None
            raw = answers_from_response(entry.questionnaire, body.questionnaire_response)
        outcome = services.screen_answers(request, entry, raw)
    except AnswerError as exc:
        return JSONResponse(
            {"detail": "some answers do not fit their questions", "problems": exc.problems}, status_code=422
        )
    return outcome.to_json()


@router.post(
    "/api/trials/{nct_id}/applications",
    response_model=ApplicationOut,
    status_code=201,
    responses={
        **NOT_FOUND,
        **BAD_BODY,
        200: {"model": ApplicationOut, "description": "Already applied: nothing new stored"},
        429: {"model": Problem, "description": "Too many applications from this address"},
    },
    tags=["apply"],
    summary="Apply: ask to be contacted by the trial site",
)
def apply(request: Request, nct_id: str, body: ApplicationIn) -> Any:
    entry = services.entry_or_404(request, nct_id)
    if not services.limiter(request).allow(client_key(request)):
        raise HTTPException(429, "too many applications from this address; try again in a minute")
    stored = services.store(request).add(
        entry.nct_id, body.name, body.email, body.phone, body.consent, body.prescreen_result
    )
    out = ApplicationOut(id=stored.id, trial=stored.trial, created_at=stored.created_at, duplicate=stored.duplicate)
    return JSONResponse(out.model_dump(mode="json"), status_code=200 if stored.duplicate else 201)
