"""The workspace's JSON API under /site/api/: every page action, in the OpenAPI schema.

Authentication: `POST /site/api/login` gives a Bearer token (a server-side session); a
browser's session cookie works too, with the CSRF token in `X-CSRF-Token` for writes.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from trialscreen.web.db import as_utc
from trialscreen.web.site import audit, exports
from trialscreen.web.site.accounts import AccountError, Staff, add_user, list_users, login, logout, set_user
from trialscreen.web.site.guard import api_staff, bearer, limit_logins, require_admin, workspace
from trialscreen.web.site.models import Decision, Screening
from trialscreen.web.site.schemas import (
    ApplicationOut,
    AttestationsIn,
    AuditOut,
    CandidateIn,
    CandidateOut,
    CandidateRef,
    CandidateSummary,
    ConsentIn,
    DecisionIn,
    DecisionOut,
    LoginIn,
    LoginOut,
    Problem,
    RecordIn,
    ScreeningOut,
    UserIn,
    UserOut,
    UserPatch,
)
from trialscreen.web.site.workspace import ApplicationRow, WorkspaceError

StaffDep = Annotated[Staff, Depends(api_staff)]
UserId = Annotated[int, Path(ge=1, le=2**31 - 1)]
ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": Problem, "description": "The body is not valid JSON"},
    401: {"model": Problem, "description": "No live session (log in first)"},
    403: {"model": Problem, "description": "Not allowed for this user's role or trials"},
    404: {"model": Problem, "description": "Not found among the user's trials"},
}
WRITE_ERRORS: dict[int | str, dict[str, Any]] = {
    **ERRORS,
    409: {"model": Problem, "description": "Not possible in the candidate's present state"},
    422: {"model": Problem, "description": "The input cannot be used (the message names it)"},
}
router = APIRouter(prefix="/site/api", tags=["site workspace"], responses={
    **ERRORS, 422: {"model": Problem, "description": "The input cannot be used (the message names it)"}})
CSV: dict[int | str, dict[str, Any]] = {200: {"content": {"text/csv": {}}, "description": "CSV, one row per item"}}


def screening_out(row: Screening) -> ScreeningOut:
    report = orjson.loads(row.report)
    failed = [c for c in report["criteria"] if c["status"] == "fail"]
    return ScreeningOut(
        id=row.id, as_of=row.as_of, verdict=row.verdict, eligible_from=row.eligible_from,
        rescreen_on=row.eligible_from if failed and row.eligible_from else None,
        report=report, flags=orjson.loads(row.flags), created_at=row.created_at,
    )


def decision_out(row: Decision) -> DecisionOut:
    return DecisionOut(
        id=row.id, decision=row.decision,  # type: ignore[arg-type]
        reasons=orjson.loads(row.reasons), note=row.note, screening_id=row.screening_id, created_at=row.created_at,
    )


def application_out(r: ApplicationRow) -> ApplicationOut:
    return ApplicationOut(
        id=r.id, trial=r.trial, name=r.name, email=r.email, phone=r.phone, prescreen_result=r.prescreen_result,
        applied_at=r.created_at, age_days=r.age_days, status=r.status, latest_verdict=r.verdict,
        candidate_id=r.candidate_id,
    )


def user_out(staff: Staff) -> UserOut:
    return UserOut(id=staff.id, username=staff.username, role=staff.role,  # type: ignore[arg-type]
                   trials=sorted(staff.trials))


@router.post("/login", response_model=LoginOut, summary="Log in: a Bearer token for the API",
             responses={401: {"model": Problem, "description": "Wrong username or password"},
                        429: {"model": Problem, "description": "Too many login attempts from this address"}})
def api_login(request: Request, body: LoginIn) -> LoginOut:
    limit_logins(request)
    ws = workspace(request)
    found = login(ws.engine, body.username, body.password)
    with Session(ws.engine) as session, session.begin():
        audit.record(session, found[1] if found else None, "login" if found else "login_failed",
                     username=body.username[:64], detail="api")
    if found is None:
        raise WorkspaceError(401, "wrong username or password")
    token, staff = found
    return LoginOut(token=token, user=user_out(staff))


@router.post("/logout", status_code=204, summary="End this session", responses=ERRORS)
def api_logout(request: Request, staff: StaffDep) -> Response:
    logout(workspace(request).engine, bearer(request) or request.cookies.get("trialscreen_site"))
    return Response(status_code=204)


@router.get("/me", response_model=UserOut, summary="Who is logged in", responses=ERRORS)
def me(staff: StaffDep) -> UserOut:
    return user_out(staff)


@router.get("/applications", response_model=list[ApplicationOut], summary="Applications to my trials",
            responses=ERRORS)
def applications(
    request: Request,
    staff: StaffDep,
    trial: Annotated[str | None, Query(pattern=r"^NCT\d{8}$")] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    prescreen: Annotated[str | None, Query(max_length=20)] = None,
    min_age_days: Annotated[int | None, Query(ge=0, le=100000)] = None,
) -> list[ApplicationOut]:
    rows = workspace(request).applications(staff, trial, status, prescreen, min_age_days)
    return [application_out(r) for r in rows]


@router.get("/applications/export", summary="Applications to my trials as CSV", responses={**CSV, **ERRORS},
            response_class=Response)
def applications_csv(
    request: Request,
    staff: StaffDep,
    trial: Annotated[str | None, Query(pattern=r"^NCT\d{8}$")] = None,
    status: Annotated[str | None, Query(max_length=20)] = None,
    prescreen: Annotated[str | None, Query(max_length=20)] = None,
    min_age_days: Annotated[int | None, Query(ge=0, le=100000)] = None,
) -> Response:
    rows = workspace(request).applications(staff, trial, status, prescreen, min_age_days)
    return Response(exports.applications_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="applications.csv"'})


@router.post("/applications/{application_id}/candidate", response_model=CandidateRef,
             summary="Open an application: its candidate (made on first opening)", responses=WRITE_ERRORS)
def open_application(request: Request, staff: StaffDep, application_id: str) -> CandidateRef:
    return CandidateRef(candidate_id=workspace(request).open_application(staff, application_id))


@router.post("/candidates", response_model=CandidateRef, status_code=201, summary="A new candidate (no application)",
             responses=WRITE_ERRORS)
def new_candidate(request: Request, staff: StaffDep, body: CandidateIn) -> CandidateRef:
    return CandidateRef(candidate_id=workspace(request).new_candidate(staff, body.trial, body.label))


@router.get("/candidates", response_model=list[CandidateSummary], summary="Candidates of my trials", responses=ERRORS)
def candidates(
    request: Request, staff: StaffDep, trial: Annotated[str | None, Query(pattern=r"^NCT\d{8}$")] = None
) -> list[CandidateSummary]:
    return [
        CandidateSummary(id=c.id, trial=c.trial, label=c.label, status=c.status, verdict=s.verdict if s else None,
                         eligible_from=s.eligible_from if s else None)
        for c, s in workspace(request).candidates(staff, trial)
    ]


@router.get("/candidates/{candidate_id}", response_model=CandidateOut, summary="A candidate, the latest report",
            responses=ERRORS)
def candidate(request: Request, staff: StaffDep, candidate_id: str) -> CandidateOut:
    view = workspace(request).view(staff, candidate_id)
    c = view.candidate
    return CandidateOut(
        id=c.id, trial=c.trial, label=c.label, application_id=c.application_id, patient_id=c.patient_id,
        status=c.status, has_consent=view.has_consent, attested=view.attested,
        latest=screening_out(view.latest) if view.latest else None,
        screenings=[s.id for s in view.screenings], decisions=[decision_out(d) for d in view.decisions],
    )


@router.get("/candidates/{candidate_id}/screenings", response_model=list[ScreeningOut],
            summary="Every report of a candidate, newest first", responses=ERRORS)
def screenings(request: Request, staff: StaffDep, candidate_id: str) -> list[ScreeningOut]:
    return [screening_out(s) for s in workspace(request).view(staff, candidate_id).screenings]


@router.post("/candidates/{candidate_id}/record", response_model=ScreeningOut, status_code=201,
             summary="Attach a FHIR R4 record (Bundle or NDJSON) and screen it", responses=WRITE_ERRORS)
def upload_record(request: Request, staff: StaffDep, candidate_id: str, body: RecordIn) -> ScreeningOut:
    if (body.bundle is None) == (body.ndjson is None):
        raise WorkspaceError(422, "give exactly one of bundle or ndjson")
    try:
        data = orjson.dumps(body.bundle) if body.bundle is not None else (body.ndjson or "").encode()
    except TypeError:  # e.g. an integer beyond 64 bits: no FHIR value is
        raise WorkspaceError(422, "bundle: holds a number out of range for FHIR") from None
    return screening_out(workspace(request).upload(staff, candidate_id, body.filename, data))


@router.post("/candidates/{candidate_id}/screen", response_model=ScreeningOut, status_code=201,
             summary="Screen again (today, with everything stored)", responses=WRITE_ERRORS)
def rescreen(request: Request, staff: StaffDep, candidate_id: str) -> ScreeningOut:
    return screening_out(workspace(request).rescreen(staff, candidate_id))


@router.post("/candidates/{candidate_id}/consent", response_model=ScreeningOut, status_code=201,
             summary="Record informed consent (a FHIR Consent; decides inc-1)", responses=WRITE_ERRORS)
def consent(request: Request, staff: StaffDep, candidate_id: str, body: ConsentIn) -> ScreeningOut:
    return screening_out(workspace(request).record_consent(staff, candidate_id, body.date))


@router.post("/candidates/{candidate_id}/attestations", response_model=ScreeningOut, status_code=201,
             summary="The investigator's signed attestations (inc-4, inc-5.survival, exc-16)",
             responses=WRITE_ERRORS)
def attestations(request: Request, staff: StaffDep, candidate_id: str, body: AttestationsIn) -> ScreeningOut:
    answers = {str(k): v for k, v in body.answers.items()}
    return screening_out(workspace(request).record_attestations(staff, candidate_id, answers))


@router.post("/candidates/{candidate_id}/decision", response_model=DecisionOut, status_code=201,
             summary="Enrolled, screen failure (reasons from the report) or withdrawn", responses=WRITE_ERRORS)
def decide(request: Request, staff: StaffDep, candidate_id: str, body: DecisionIn) -> DecisionOut:
    return decision_out(workspace(request).decide(staff, candidate_id, body.decision, body.note))


@router.get("/rescreen", response_model=list[CandidateSummary],
            summary="Candidates whose only failures lapse with time, by re-screening day", responses=ERRORS)
def rescreen_list(request: Request, staff: StaffDep) -> list[CandidateSummary]:
    return [
        CandidateSummary(id=c.id, trial=c.trial, label=c.label, status=c.status, verdict=s.verdict,
                         eligible_from=s.eligible_from, rescreen_due=due)
        for c, s, due in workspace(request).rescreen_list(staff)
    ]


@router.get("/trials/{nct_id}/screening-log", summary="The screening log as CSV", responses={**CSV, **ERRORS},
            response_class=Response)
def screening_log(request: Request, staff: StaffDep, nct_id: str) -> Response:
    rows = workspace(request).screening_log(staff, nct_id, "export_log")
    return Response(exports.log_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{nct_id}-screening-log.csv"'})


@router.get("/trials/{nct_id}/flow.svg", summary="CONSORT-style flow diagram (SVG)", response_class=Response,
            responses={200: {"content": {"image/svg+xml": {}}, "description": "SVG"}, **ERRORS})
def flow_svg(request: Request, staff: StaffDep, nct_id: str) -> Response:
    rows = workspace(request).screening_log(staff, nct_id, "view_flow")
    return Response(exports.consort_svg(nct_id, exports.flow(rows)), media_type="image/svg+xml")


@router.get("/audit", response_model=list[AuditOut], summary="The audit log (admins)", responses=ERRORS)
def audit_log(
    request: Request, staff: StaffDep, candidate_id: Annotated[str | None, Query(max_length=36)] = None
) -> list[AuditOut]:
    require_admin(staff)
    with Session(workspace(request).engine) as session:
        events = audit.read(session, candidate_id)
        return [
            AuditOut.model_validate(e, from_attributes=True).model_copy(update={"at": as_utc(e.at)}) for e in events
        ]


@router.get("/users", response_model=list[UserOut], summary="Users (admins)", responses=ERRORS)
def users(request: Request, staff: StaffDep) -> list[UserOut]:
    require_admin(staff)
    return [
        UserOut(id=u.id, username=u.username, role=u.role, trials=t, active=u.active)  # type: ignore[arg-type]
        for u, t in list_users(workspace(request).engine)
    ]


@router.post("/users", response_model=UserOut, status_code=201, summary="Add a user (admins)",
             responses=WRITE_ERRORS)
def create_user(request: Request, staff: StaffDep, body: UserIn) -> UserOut:
    require_admin(staff)
    engine = workspace(request).engine
    try:
        new_id = add_user(engine, body.username, body.password, body.role, body.trials)
    except AccountError as exc:
        raise WorkspaceError(422, str(exc)) from None
    with Session(engine) as session, session.begin():
        audit.record(session, staff, "add_user", detail=f"user {new_id} as {body.role}")
    return next(
        UserOut(id=u.id, username=u.username, role=u.role, trials=t, active=u.active)  # type: ignore[arg-type]
        for u, t in list_users(engine) if u.id == new_id
    )


@router.patch("/users/{user_id}", response_model=UserOut, summary="Change a user (admins)", responses=WRITE_ERRORS)
def change_user(request: Request, staff: StaffDep, user_id: UserId, body: UserPatch) -> UserOut:
    require_admin(staff)
    if user_id == staff.id and (body.active is False or (body.role and body.role != "admin")):
        raise WorkspaceError(409, "you cannot deactivate or demote yourself")
    engine = workspace(request).engine
    try:
        set_user(engine, user_id, role=body.role, trials=body.trials, active=body.active, password=body.password)
    except AccountError as exc:
        raise WorkspaceError(404 if exc.args[0].startswith("user:") else 422, str(exc)) from None
    with Session(engine) as session, session.begin():
        audit.record(session, staff, "change_user", detail=f"user {user_id}")
    return next(
        UserOut(id=u.id, username=u.username, role=u.role, trials=t, active=u.active)  # type: ignore[arg-type]
        for u, t in list_users(engine) if u.id == user_id
    )
