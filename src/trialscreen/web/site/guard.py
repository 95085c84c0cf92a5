"""Who is asking: the session behind a request, role checks, and CSRF for the workspace.

Browsers carry the session in an HttpOnly, SameSite=Strict cookie scoped to /site (Secure
behind HTTPS); programs send `Authorization: Bearer <token>` from `POST /site/api/login`.
A cookie-carried JSON write must also send the CSRF token as `X-CSRF-Token` (double submit,
as the forms do), so another site cannot make a logged-in browser act.
"""

from __future__ import annotations

from fastapi import Request
from starlette.responses import Response

from trialscreen.web.security import CSRF_COOKIE, client_key, csrf_ok
from trialscreen.web.site.accounts import Staff, resume
from trialscreen.web.site.workspace import Workspace, WorkspaceError

SESSION_COOKIE = "trialscreen_site"
CSRF_HEADER = "x-csrf-token"
API_PREFIX = "/site/api/"


class LoginRequired(Exception):
    """No live session: 401 for the JSON API, a redirect to the login page for pages."""


def workspace(request: Request) -> Workspace:
    result: Workspace = request.app.state.workspace
    return result


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def session_token(request: Request) -> str | None:
    return bearer(request) or request.cookies.get(SESSION_COOKIE)


def current_staff(request: Request) -> Staff:
    """The logged-in user; LoginRequired when there is none. Cached on the request."""
    cached = getattr(request.state, "staff", None)
    if isinstance(cached, Staff):
        return cached
    staff = resume(workspace(request).engine, session_token(request))
    if staff is None:
        raise LoginRequired()
    request.state.staff = staff
    return staff


def api_staff(request: Request) -> Staff:
    """For JSON endpoints: the user, and for unsafe methods with a cookie session, the CSRF header."""
    staff = current_staff(request)
    unsafe = request.method not in ("GET", "HEAD", "OPTIONS")
    if unsafe and bearer(request) is None and not csrf_ok(request, request.headers.get(CSRF_HEADER)):
        raise WorkspaceError(403, "missing or wrong X-CSRF-Token header (or use a Bearer token)")
    return staff


def limit_logins(request: Request) -> None:
    """Refuse a login attempt beyond the per-address budget (429)."""
    if not request.app.state.login_limiter.allow(client_key(request)):
        raise WorkspaceError(429, "Too many login attempts from this address; wait a minute and try again.")


def require_admin(staff: Staff) -> None:
    if not staff.is_admin:
        raise WorkspaceError(403, "only an admin can do this")


def secure(request: Request) -> bool:
    return bool(request.app.state.settings.secure_cookies) or request.url.scheme == "https"


def set_session_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        SESSION_COOKIE, token, path="/site",  # no max_age: the server decides expiry
        httponly=True, samesite="strict", secure=secure(request),
    )


def clear_session_cookie(response: Response) -> None:
    response.delete_cookie(SESSION_COOKIE, path="/site")


def is_api(request: Request) -> bool:
    return request.url.path.startswith(API_PREFIX)


__all__ = ["CSRF_COOKIE", "LoginRequired", "Staff", "WorkspaceError"]
