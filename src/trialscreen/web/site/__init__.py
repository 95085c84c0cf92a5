"""The trial site's screening workspace under /site/: applications, screening records,
consent and attestations, decisions, the screening log, users and the audit log.

`install(app)` wires it into the public application (routers, the login redirect, errors).
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, RedirectResponse, Response

from trialscreen.web.security import RateLimiter
from trialscreen.web.site import api, models, pages
from trialscreen.web.site.guard import LoginRequired, is_api
from trialscreen.web.site.workspace import Workspace, WorkspaceError

__all__ = ["install", "models"]
LOGINS_PER_MINUTE = 10.0
LOGIN_BURST = 10
"""Login attempts per client address: 10 at once, then 10 a minute (slows password guessing)."""


def install(app: FastAPI) -> None:
    """Add the workspace to an app made by `create_app` (its engine and settings are set)."""
    app.state.workspace = Workspace(app.state.engine, app.state.settings.as_of)
    app.state.login_limiter = RateLimiter(LOGINS_PER_MINUTE, LOGIN_BURST)
    app.include_router(api.router)
    app.include_router(pages.router)

    async def login_required(request: Request, exc: Exception) -> Response:
        if is_api(request):
            return JSONResponse({"detail": "log in first"}, status_code=401, headers={"WWW-Authenticate": "Bearer"})
        return RedirectResponse("/site/login", status_code=303)

    async def refused(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, WorkspaceError)
        if is_api(request):
            return JSONResponse({"detail": exc.message}, status_code=exc.status)
        return pages.error_page(request, exc.status, exc.message)

    app.add_exception_handler(LoginRequired, login_required)
    app.add_exception_handler(WorkspaceError, refused)
