"""The workspace's pages (server-rendered; each action also has a JSON twin in `api.py`).

Every page needs a session (else a redirect to /site/login) and every form POST a valid
CSRF token (double submit, the public side's mechanism).
"""

from __future__ import annotations

from datetime import date
from pathlib import Path as FilePath
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Path, Request
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from trialscreen.web.security import CSRF_FIELD, csrf_ok, csrf_token_for, set_csrf_cookie
from trialscreen.web.site import audit, exports, records
from trialscreen.web.site.accounts import AccountError, Staff, add_user, list_users, login, logout, set_user
from trialscreen.web.site.guard import (
    SESSION_COOKIE,
    clear_session_cookie,
    current_staff,
    limit_logins,
    require_admin,
    secure,
    set_session_cookie,
    workspace,
)
from trialscreen.web.site.models import DECISIONS, ROLES
from trialscreen.web.site.workspace import STATUSES, WorkspaceError

router = APIRouter(prefix="/site", include_in_schema=False)
StaffDep = Annotated[Staff, Depends(current_staff)]
CSS = FilePath(__file__).parent / "workspace.css"
MAX_UPLOAD = records.MAX_UPLOAD


def render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> HTMLResponse:
    token = csrf_token_for(request)
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, f"site/{template}",
        {**context, "csrf_token": token, "csrf_field": CSRF_FIELD, "staff": getattr(request.state, "staff", None)},
        status_code=status_code,
    )
    set_csrf_cookie(response, token, secure(request))
    response.headers["Cache-Control"] = "no-store"
    return response


def error_page(request: Request, status: int, message: str) -> HTMLResponse:
    return render(request, "error.html", {"status": status, "message": message}, status_code=status)


async def form_of(request: Request) -> FormData:
    """The submitted form, after its CSRF token is checked."""
    form = await request.form(max_part_size=MAX_UPLOAD)
    token = form.get(CSRF_FIELD)
    if not csrf_ok(request, token if isinstance(token, str) else None):
        raise WorkspaceError(403, "The form expired or came from elsewhere. Reload the page and try again.")
    return form


def text(form: FormData, name: str, limit: int = 200) -> str:
    value = form.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def see(url: str) -> RedirectResponse:
    return RedirectResponse(url, status_code=303)


@router.get("/workspace.css")
def stylesheet() -> FileResponse:
    return FileResponse(CSS, media_type="text/css")


@router.get("/login", response_class=HTMLResponse)
def login_page(request: Request) -> HTMLResponse:
    return render(request, "login.html", {"error": None, "username": ""})


@router.post("/login", response_class=HTMLResponse)
async def login_submit(request: Request) -> Response:
    form = await form_of(request)
    limit_logins(request)
    username, password = text(form, "username", 64), form.get("password")
    ws = workspace(request)
    found = login(ws.engine, username, password if isinstance(password, str) else "")
    with Session(ws.engine) as session, session.begin():
        audit.record(session, found[1] if found else None, "login" if found else "login_failed",
                     username=username[:64], detail="page")
    if found is None:
        return render(request, "login.html", {"error": "Wrong username or password.", "username": username},
                      status_code=401)
    response = see("/site/")
    set_session_cookie(request, response, found[0])
    return response


@router.post("/logout")
async def logout_submit(request: Request, staff: StaffDep) -> Response:
    await form_of(request)
    logout(workspace(request).engine, request.cookies.get(SESSION_COOKIE))
    response = see("/site/login")
    clear_session_cookie(response)
    return response


@router.get("/")
def home(staff: StaffDep) -> Response:
    return see("/site/admin/users" if staff.is_admin else "/site/applications")


def _filters(request: Request) -> dict[str, Any]:
    q = request.query_params
    trial = (q.get("trial") or "")[:16] or None
    status = (q.get("status") or "")[:20] or None
    prescreen = (q.get("prescreen") or "")[:20] or None
    raw_age = (q.get("min_age_days") or "")[:6]
    min_age = int(raw_age) if raw_age.isdigit() else None
    return {"trial": trial, "status": status, "prescreen": prescreen, "min_age_days": min_age}


@router.get("/applications", response_class=HTMLResponse)
def applications_page(request: Request, staff: StaffDep) -> HTMLResponse:
    filters = _filters(request)
    rows = workspace(request).applications(staff, **filters)
    return render(request, "applications.html", {
        "rows": rows, "filters": filters, "statuses": STATUSES, "query": request.url.query,
        "prescreens": ("eligible", "needs_review", "ineligible"),
    })


@router.get("/applications.csv")
def applications_export(request: Request, staff: StaffDep) -> Response:
    rows = workspace(request).applications(staff, **_filters(request))
    return Response(exports.applications_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": 'attachment; filename="applications.csv"'})


@router.get("/applications/{application_id}")
def open_application(request: Request, staff: StaffDep, application_id: str) -> Response:
    return see(f"/site/candidates/{workspace(request).open_application(staff, application_id)}")


@router.get("/candidates", response_class=HTMLResponse)
def candidates_page(request: Request, staff: StaffDep) -> HTMLResponse:
    rows = workspace(request).candidates(staff)
    return render(request, "candidates.html", {"rows": rows, "trials": sorted(staff.trials)})


@router.post("/candidates")
async def new_candidate(request: Request, staff: StaffDep) -> Response:
    form = await form_of(request)
    cid = workspace(request).new_candidate(staff, text(form, "trial", 16), text(form, "label"))
    return see(f"/site/candidates/{cid}")


@router.get("/candidates/{candidate_id}", response_class=HTMLResponse)
def candidate_page(request: Request, staff: StaffDep, candidate_id: str) -> HTMLResponse:
    view = workspace(request).view(staff, candidate_id)
    shown = view.latest
    wanted = request.query_params.get("report")
    if wanted and wanted.isdigit():
        shown = next((s for s in view.screenings if s.id == int(wanted)), shown)
    report = orjson.loads(shown.report) if shown else None
    return render(request, "candidate.html", {
        "view": view, "shown": shown, "report": report, "flags": orjson.loads(shown.flags) if shown else [],
        "decisions": DECISIONS, "items": records.INVESTIGATOR_ITEMS, "today": workspace(request).today(),
        "failed": [c for c in report["criteria"] if c["status"] == "fail"] if report else [],
        "message": request.query_params.get("done", "")[:40],
    })


@router.post("/candidates/{candidate_id}/record")
async def upload_record(request: Request, staff: StaffDep, candidate_id: str) -> Response:
    form = await form_of(request)
    upload = form.get("record")
    if not isinstance(upload, UploadFile):
        raise WorkspaceError(422, "record: choose a FHIR Bundle (.json) or NDJSON (.ndjson) file")
    data = await upload.read(MAX_UPLOAD + 1)
    name = upload.filename or "upload"
    workspace(request).upload(staff, candidate_id, name, data)
    return see(f"/site/candidates/{candidate_id}?done=screened")


@router.post("/candidates/{candidate_id}/screen")
async def rescreen(request: Request, staff: StaffDep, candidate_id: str) -> Response:
    await form_of(request)
    workspace(request).rescreen(staff, candidate_id)
    return see(f"/site/candidates/{candidate_id}?done=screened")


@router.post("/candidates/{candidate_id}/consent")
async def consent(request: Request, staff: StaffDep, candidate_id: str) -> Response:
    form = await form_of(request)
    try:
        signed = date.fromisoformat(text(form, "date", 10))
    except ValueError:
        raise WorkspaceError(422, "date: give the day the patient signed, as YYYY-MM-DD") from None
    workspace(request).record_consent(staff, candidate_id, signed)
    return see(f"/site/candidates/{candidate_id}?done=consent")


@router.post("/candidates/{candidate_id}/attestations")
async def attestations(request: Request, staff: StaffDep, candidate_id: str) -> Response:
    form = await form_of(request)
    answers: dict[str, bool] = {}
    for cid in records.INVESTIGATOR_ITEMS:
        value = text(form, cid, 5)
        if value in ("yes", "no"):
            answers[cid] = value == "yes"
        elif value:
            raise WorkspaceError(422, f"{cid}: answer yes or no")
    workspace(request).record_attestations(staff, candidate_id, answers)
    return see(f"/site/candidates/{candidate_id}?done=attested")


@router.post("/candidates/{candidate_id}/decision")
async def decide(request: Request, staff: StaffDep, candidate_id: str) -> Response:
    form = await form_of(request)
    workspace(request).decide(staff, candidate_id, text(form, "decision", 20), text(form, "note", 500))
    return see(f"/site/candidates/{candidate_id}?done=decided")


@router.get("/rescreen", response_class=HTMLResponse)
def rescreen_page(request: Request, staff: StaffDep) -> HTMLResponse:
    return render(request, "rescreen.html", {"rows": workspace(request).rescreen_list(staff),
                                             "today": workspace(request).today()})


@router.get("/trials/{nct_id}/log", response_class=HTMLResponse)
def log_page(request: Request, staff: StaffDep, nct_id: str) -> HTMLResponse:
    rows = workspace(request).screening_log(staff, nct_id)
    return render(request, "log.html", {"trial": nct_id, "rows": rows, "flow": exports.flow(rows)})


@router.get("/trials/{nct_id}/log.csv")
def log_csv(request: Request, staff: StaffDep, nct_id: str) -> Response:
    rows = workspace(request).screening_log(staff, nct_id, "export_log")
    return Response(exports.log_csv(rows), media_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{nct_id}-screening-log.csv"'})


@router.get("/trials/{nct_id}/flow.svg")
def flow_svg(request: Request, staff: StaffDep, nct_id: str) -> Response:
    rows = workspace(request).screening_log(staff, nct_id, "view_flow")
    return Response(exports.consort_svg(nct_id, exports.flow(rows)), media_type="image/svg+xml")


@router.get("/admin/users", response_class=HTMLResponse)
def users_page(request: Request, staff: StaffDep) -> HTMLResponse:
    require_admin(staff)
    return render(request, "users.html", {"users": list_users(workspace(request).engine), "roles": ROLES,
                                          "error": request.query_params.get("error", "")[:200]})


@router.post("/admin/users")
async def users_submit(request: Request, staff: StaffDep) -> Response:
    require_admin(staff)
    form = await form_of(request)
    engine = workspace(request).engine
    password = form.get("password")
    trials = [t for t in text(form, "trials", 400).replace(",", " ").split() if t]
    try:
        new_id = add_user(engine, text(form, "username", 64), password if isinstance(password, str) else "",
                          text(form, "role", 20), trials)
    except AccountError as exc:
        return render(request, "users.html", {"users": list_users(engine), "roles": ROLES, "error": str(exc)},
                      status_code=422)
    with Session(engine) as session, session.begin():
        audit.record(session, staff, "add_user", detail=f"user {new_id}")
    return see("/site/admin/users")


@router.post("/admin/users/{user_id}")
async def user_change(request: Request, staff: StaffDep, user_id: Annotated[int, Path(ge=1, le=2**31 - 1)]) -> Response:
    require_admin(staff)
    form = await form_of(request)
    engine = workspace(request).engine
    role = text(form, "role", 20) or None
    active = {"yes": True, "no": False}.get(text(form, "active", 3))
    if user_id == staff.id and (active is False or (role and role != "admin")):
        raise WorkspaceError(409, "You cannot deactivate or demote yourself.")
    trials_raw = form.get("trials")
    trials = text(form, "trials", 400).replace(",", " ").split() if isinstance(trials_raw, str) else None
    try:
        set_user(engine, user_id, role=role, trials=trials, active=active)
    except AccountError as exc:
        raise WorkspaceError(422, str(exc)) from None
    with Session(engine) as session, session.begin():
        audit.record(session, staff, "change_user", detail=f"user {user_id}")
    return see("/site/admin/users")


@router.get("/admin/audit", response_class=HTMLResponse)
def audit_page(request: Request, staff: StaffDep) -> HTMLResponse:
    require_admin(staff)
    with Session(workspace(request).engine) as session:
        events = audit.read(session, (request.query_params.get("candidate") or "")[:36] or None)
    return render(request, "audit.html", {"events": events})
