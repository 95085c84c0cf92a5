"""The public side's safety: CSRF tokens, a rate limit, security headers, quiet logs.

- CSRF: double submit. A random token lives in a `SameSite=Strict`, HttpOnly cookie and in a
  hidden form field; a form POST is accepted only when both are present and equal.
- Rate limit: a token bucket per client address on the application endpoints.
- Headers: a strict Content-Security-Policy (scripts and styles from this site only, no
  inline code), no framing, no sniffing, no referrer.
- Logs: one line per request with the route's template (`/trials/{nct_id}`), status and
  time; never query strings, form fields or bodies, which may hold what a patient typed.
"""

from __future__ import annotations

import hmac
import logging
import secrets
import threading
import time

from starlette.datastructures import MutableHeaders
from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

CSRF_COOKIE = "trialscreen_csrf"
CSRF_FIELD = "csrf_token"
log = logging.getLogger("trialscreen.web")

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
        "form-action 'self'; frame-ancestors 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
}


def new_csrf_token() -> str:
    return secrets.token_urlsafe(32)


def csrf_token_for(request: Request) -> str:
    """The token of this browser (from its cookie), or a new one the response must set."""
    token = request.cookies.get(CSRF_COOKIE)
    if token and 20 <= len(token) <= 100:
        return token
    return new_csrf_token()


def set_csrf_cookie(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=secure, path="/")


def csrf_ok(request: Request, submitted: str | None) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE)
    if not cookie or not submitted:
        return False
    return hmac.compare_digest(cookie.encode(), submitted.encode())


class RateLimiter:
    """Token bucket per key: `burst` requests at once, refilled at `per_minute` a minute."""

    def __init__(self, per_minute: float, burst: int) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst)
        self._buckets: dict[str, tuple[float, float]] = {}
        self._lock = threading.Lock()

    def allow(self, key: str) -> bool:
        now = time.monotonic()
        with self._lock:
            tokens, last = self._buckets.get(key, (self.burst, now))
            tokens = min(self.burst, tokens + (now - last) * self.rate)
            if tokens < 1.0:
                self._buckets[key] = (tokens, now)
                return False
            self._buckets[key] = (tokens - 1.0, now)
            if len(self._buckets) > 100_000:  # forget idle clients rather than grow forever
                self._buckets = {k: v for k, v in self._buckets.items() if now - v[1] < 3600}
            return True


def client_key(request: Request) -> str:
    return request.client.host if request.client else "unknown"


def route_template(scope: Scope) -> str:
    """The matched route's path template (set by the router), never the concrete URL."""
    route = scope.get("route")
    path = getattr(route, "path", None)
    return str(path) if path else "(no route)"


class SecurityMiddleware:
    """Adds the security headers and writes the input-free access log line (pure ASGI)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 0

        async def send_with_headers(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                headers = MutableHeaders(scope=message)
                for name, value in SECURITY_HEADERS.items():
                    if name not in headers:
                        headers.append(name, value)
            await send(message)

        await self.app(scope, receive, send_with_headers)
        if log.isEnabledFor(logging.INFO):
            log.info(
                "%s %s %d %.1fms",
                scope.get("method", "?"),
                route_template(scope),
                status,
                (time.perf_counter() - start) * 1000,
            )
