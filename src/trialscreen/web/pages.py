"""Server-rendered pages: search, trial listing, pre-screening, applying, confirmation.

Each form POST checks the CSRF token; each page action has a JSON twin in `api.py`.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import ValidationError
from starlette.datastructures import FormData

from trialscreen.questionnaire import Quantity, Question, Questionnaire
from trialscreen.questionnaire.answers import AnswerError
from trialscreen.questionnaire.outcome import HEADLINES
from trialscreen.web import present, services
from trialscreen.web.catalog import STATUSES
from trialscreen.web.catalog import Query as SearchQuery
from trialscreen.web.db import as_utc
from trialscreen.web.schemas import ApplicationIn
from trialscreen.web.security import CSRF_FIELD, client_key, csrf_ok, csrf_token_for, set_csrf_cookie

router = APIRouter(include_in_schema=False)
MAX_FIELD = 200


def render(
    request: Request, template: str, context: dict[str, Any], status_code: int = 200, csrf: bool = False
) -> HTMLResponse:
    token = csrf_token_for(request) if csrf else None
    response: HTMLResponse = request.app.state.templates.TemplateResponse(
        request, template, {**context, "csrf_token": token, "csrf_field": CSRF_FIELD}, status_code=status_code
    )
    if token is not None:
        set_csrf_cookie(response, token, services.settings(request).secure_cookies)
        response.headers["Cache-Control"] = "no-store"  # forms and results may hold health answers
    return response


def _field(form: FormData, name: str) -> str | None:
    value = form.get(name)
    if not isinstance(value, str):
        return None
    return value.strip()[:MAX_FIELD] or None


@router.get("/", response_class=HTMLResponse)
def search_page(request: Request) -> HTMLResponse:
    params = request.query_params
    errors: dict[str, str] = {}
    age: int | None = None
    raw_age = (params.get("age") or "").strip()
    if raw_age:
        if raw_age.isdigit() and 0 <= int(raw_age) <= 130:
            age = int(raw_age)
        else:
            errors["age"] = "Enter an age in whole years, from 0 to 130."
    sex = (params.get("sex") or "").lower() or None
    if sex not in (None, "female", "male"):
        errors["sex"] = "Choose female, male or any."
        sex = None
    values = {k: (params.get(k) or "")[:MAX_FIELD] for k in ("condition", "keyword", "status", "location")}
    query = SearchQuery(
        values["condition"] or None,
        values["keyword"] or None,
        values["status"] or None,
        age,
        sex,
        values["location"] or None,
    )
    cat = services.catalog(request)
    hits = cat.search(query)
    searched = any(params.get(k) for k in ("condition", "keyword", "status", "age", "sex", "location"))
    return render(
        request,
        "search.html",
        {
            "hits": [present.summary(e) for e in hits],
            "values": {**values, "age": raw_age[:4], "sex": sex or ""},
            "errors": errors,
            "statuses": [s for s in STATUSES if s in cat.statuses()] or cat.statuses(),
            "status_words": present.status_words,
            "searched": searched,
            "total": len(cat.entries),
        },
        status_code=422 if errors else 200,
    )


@router.get("/trials/{nct_id}", response_class=HTMLResponse)
async def trial_page(request: Request, nct_id: str) -> Response:
    """The listing. Rendered once per (trial, number applied) and kept: it is the busiest page."""
    entry = services.entry_or_404(request, nct_id)
    if entry.nct_id != nct_id:
        return RedirectResponse(f"/trials/{entry.nct_id}", status_code=308)
    applied = services.store(request).count(entry.nct_id)
    cache: dict[tuple[str, int], bytes] = request.app.state.page_cache
    body = cache.get((entry.nct_id, applied))
    if body is None:
        info = present.detail(entry, applied)
        html = request.app.state.templates.get_template("trial.html").render(
            request=request,
            t=info,
            status_words=present.status_words,
            lines=present.criteria_lines(info.eligibility_criteria),
            not_reported=present.NOT_REPORTED,
        )
        body = html.encode("utf-8")
        if len(cache) > 4096:
            cache.clear()
        cache[(entry.nct_id, applied)] = body
    return Response(body, media_type="text/html; charset=utf-8")


def _enable_json(question: Question) -> str:
    """The question's skip logic for the page's script (same semantics as `answers.enabled`)."""
    conds = [
        {
            "q": c.question,
            "op": c.operator,
            "v": {"value": c.answer.value, "unit": c.answer.unit} if isinstance(c.answer, Quantity) else c.answer,
        }
        for c in question.enable.conditions
    ]
    return json.dumps(conds, ensure_ascii=False)


def _questionnaire_context(entry_q: Questionnaire, raw: dict[str, Any], problems: dict[str, str]) -> dict[str, Any]:
    return {
        "q": entry_q,
        "sections": entry_q.sections(),
        "raw": raw,
        "problems": problems,
        "enable_json": {q.link_id: _enable_json(q) for q in entry_q.questions},
    }


@router.get("/trials/{nct_id}/prescreen", response_class=HTMLResponse)
def prescreen_page(request: Request, nct_id: str) -> HTMLResponse:
    entry = services.questionnaire_entry(request, nct_id)
    assert entry.questionnaire is not None
    return render(
        request,
        "prescreen.html",
        {"t": present.summary(entry), **_questionnaire_context(entry.questionnaire, {}, {})},
        csrf=True,
    )


def _raw_answers(q: Questionnaire, form: FormData) -> dict[str, Any]:
    """Form fields to the API's answer shape; a ticked "I don't know" wins over a typed value."""
    raw: dict[str, Any] = {}
    for question in q.questions:
        link = question.link_id
        if question.type == "choice":
            value = _field(form, link)
            if value is not None:
                raw[link] = value
        elif _field(form, f"{link}:unknown"):
            continue
        elif question.type == "integer":
            value = _field(form, link)
            if value is not None:
                raw[link] = value
        else:
            value = _field(form, link)
            if value is not None:
                raw[link] = {"value": value, "unit": _field(form, f"{link}:unit")}
    return raw


def _check_csrf(request: Request, form: FormData) -> None:
    token = form.get(CSRF_FIELD)
    if not csrf_ok(request, token if isinstance(token, str) else None):
        raise HTTPException(
            403, "This form has expired or was not sent from this site. Please reload the page and try again."
        )


@router.post("/trials/{nct_id}/prescreen", response_class=HTMLResponse)
async def prescreen_submit(request: Request, nct_id: str) -> HTMLResponse:
    entry = services.questionnaire_entry(request, nct_id)
    assert entry.questionnaire is not None
    form = await request.form()
    _check_csrf(request, form)
    raw = _raw_answers(entry.questionnaire, form)
    try:
        outcome = services.screen_answers(request, entry, raw)
    except AnswerError as exc:
        return render(
            request,
            "prescreen.html",
            {"t": present.summary(entry), **_questionnaire_context(entry.questionnaire, raw, exc.problems)},
            status_code=422,
            csrf=True,
        )
    return render(
        request, "result.html", {"t": present.summary(entry), "o": outcome, "headlines": HEADLINES}, csrf=True
    )


@router.get("/trials/{nct_id}/apply", response_class=HTMLResponse)
def apply_page(request: Request, nct_id: str) -> HTMLResponse:
    entry = services.entry_or_404(request, nct_id)
    result = request.query_params.get("result")
    values = {"prescreen_result": result if result in HEADLINES else ""}
    return render(request, "apply.html", {"t": present.summary(entry), "values": values, "errors": {}}, csrf=True)


def _application_errors(exc: ValidationError) -> dict[str, str]:
    errors: dict[str, str] = {}
    for err in exc.errors():
        where = str(err["loc"][0]) if err["loc"] else "form"
        if where == "form" and "agree to be contacted" in str(err["msg"]):
            where = "consent"
        elif where == "form" and "e-mail address or a phone" in str(err["msg"]):
            where = "email"
        message = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] == "missing" or err["type"] == "string_too_short":
            message = "This is required."
        errors.setdefault(where, message[0].upper() + message[1:])
    return errors


@router.post("/trials/{nct_id}/apply", response_class=HTMLResponse)
async def apply_submit(request: Request, nct_id: str) -> Response:
    entry = services.entry_or_404(request, nct_id)
    form = await request.form()
    _check_csrf(request, form)
    values = {k: _field(form, k) or "" for k in ("name", "email", "phone", "prescreen_result")}
    values["consent"] = "yes" if _field(form, "consent") == "yes" else ""
    if not services.limiter(request).allow(client_key(request)):
        errors = {"form": "Too many applications were sent from your connection. Please wait a minute and try again."}
        return render(
            request,
            "apply.html",
            {"t": present.summary(entry), "values": values, "errors": errors},
            status_code=429,
            csrf=True,
        )
    try:
        body = ApplicationIn.model_validate(
            {
                "name": values["name"],
                "email": values["email"] or None,
                "phone": values["phone"] or None,
                "consent": values["consent"] == "yes",
                "prescreen_result": values["prescreen_result"] or None,
            }
        )
    except ValidationError as exc:
        return render(
            request,
            "apply.html",
            {"t": present.summary(entry), "values": values, "errors": _application_errors(exc)},
            status_code=422,
            csrf=True,
        )
    stored = services.store(request).add(
        entry.nct_id, body.name, body.email, body.phone, body.consent, body.prescreen_result
    )
    query = urlencode({"duplicate": "1"}) if stored.duplicate else ""
    return RedirectResponse(
        f"/trials/{entry.nct_id}/applications/{stored.id}" + (f"?{query}" if query else ""), status_code=303
    )


@router.get("/trials/{nct_id}/applications/{application_id}", response_class=HTMLResponse)
def applied_page(request: Request, nct_id: str, application_id: str) -> HTMLResponse:
    entry = services.entry_or_404(request, nct_id)
    row = services.store(request).get(application_id[:36])
    if row is None or row.trial != entry.nct_id:
        raise HTTPException(404, "No application with this reference is known for this trial.")
    return render(
        request,
        "applied.html",
        {
            "t": present.summary(entry),
            "reference": row.id,
            "created": as_utc(row.created_at),
            "duplicate": request.query_params.get("duplicate") == "1",
            "count": services.store(request).count(entry.nct_id),
        },
    )
