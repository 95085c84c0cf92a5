"""What both the pages and the JSON API do: search, screen answers, store an application."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from fastapi import HTTPException, Request

from trialscreen.questionnaire.answers import parse_answers
from trialscreen.questionnaire.fhir import canonical_url
from trialscreen.questionnaire.outcome import Outcome, assess
from trialscreen.web.catalog import Catalog, Entry
from trialscreen.web.db import Store
from trialscreen.web.security import RateLimiter
from trialscreen.web.settings import Settings


def catalog(request: Request) -> Catalog:
    result: Catalog = request.app.state.catalog
    return result


def store(request: Request) -> Store:
    result: Store = request.app.state.store
    return result


def settings(request: Request) -> Settings:
    result: Settings = request.app.state.settings
    return result


def limiter(request: Request) -> RateLimiter:
    result: RateLimiter = request.app.state.limiter
    return result


def entry_or_404(request: Request, nct_id: str) -> Entry:
    entry = catalog(request).get(nct_id)
    if entry is None:
        raise HTTPException(404, f"no trial {nct_id[:20]!r} is known here")
    return entry


def questionnaire_entry(request: Request, nct_id: str) -> Entry:
    entry = entry_or_404(request, nct_id)
    if entry.questionnaire is None:
        raise HTTPException(404, f"trial {entry.nct_id} has no computable criteria, so no pre-screening questions")
    return entry


def screen_answers(request: Request, entry: Entry, raw: Mapping[str, Any]) -> Outcome:
    """Parse and screen; raises AnswerError naming each answer that does not fit."""
    assert entry.questionnaire is not None and entry.criteria is not None
    answers = parse_answers(entry.questionnaire, raw)
    conf = settings(request)
    return assess(
        entry.criteria,
        entry.questionnaire,
        answers,
        conf.screening_day(),
        screener=entry.screener,
        questionnaire_url=canonical_url(conf.base_url, entry.nct_id),
    )
