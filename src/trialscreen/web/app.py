"""The FastAPI application: pages, JSON API, storage, safety, all wired from `Settings`."""

from __future__ import annotations

import logging
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException as StarletteHTTPException

import trialscreen
from trialscreen.web import api, pages
from trialscreen.web.catalog import Catalog
from trialscreen.web.db import Store, make_engine, migrate
from trialscreen.web.security import RateLimiter, SecurityMiddleware, route_template
from trialscreen.web.settings import Settings

HERE = Path(__file__).parent
log = logging.getLogger("trialscreen.web")


def _wants_json(request: Request) -> bool:
    path = request.url.path
    return (
        path.startswith("/api/")
        or path.startswith("/site/api/")  # site workspace (issue 6): its JSON API answers in JSON
        or path.endswith("/Questionnaire")
        or path == "/healthz"
    )


def create_app(settings: Settings | None = None) -> FastAPI:
    """A ready application: migrations applied, trials loaded, questionnaires built lazily."""
    settings = settings or Settings()
    app = FastAPI(
        title="trialscreen public trial pages",
        version=getattr(trialscreen, "__version__", "0"),
        description="Search trials, read a trial's listing, answer its pre-screening questionnaire "
        "and apply. Every page action is also available here as JSON.",
        docs_url=None,
        redoc_url=None,
    )
    engine = make_engine(settings.db_url)
    migrate(engine)
    app.state.settings = settings
    app.state.engine = engine
    app.state.store = Store(engine)
    app.state.catalog = Catalog(settings.trials)
    app.state.limiter = RateLimiter(settings.apply_per_minute, settings.apply_burst)
    templates = Jinja2Templates(directory=str(HERE / "templates"))
    templates.env.globals["static_version"] = app.version
    app.state.templates = templates
    app.state.page_cache = {}
    app.add_middleware(SecurityMiddleware)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    from trialscreen.web import site  # site workspace (issue 6): routers, login redirect, errors

    site.install(app)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        headers = getattr(exc, "headers", None)
        if _wants_json(request):
            return JSONResponse({"detail": exc.detail}, status_code=exc.status_code, headers=headers)
        return templates.TemplateResponse(
            request, "error.html", {"status": exc.status_code, "message": exc.detail}, status_code=exc.status_code
        )

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        problems = {
            ".".join(str(p) for p in err.get("loc", ()) if p != "body") or "request": str(err.get("msg", "invalid"))
            for err in exc.errors()
        }  # the input itself is never echoed: it may be what a patient typed
        if _wants_json(request):
            return JSONResponse({"detail": "the request does not fit the API", "problems": problems}, status_code=422)
        return HTMLResponse(
            templates.get_template("error.html").render(
                request=request,
                status=422,
                message="Some of what was sent could not be read: "
                + "; ".join(f"{k}: {v}" for k, v in problems.items()),
            ),
            status_code=422,
        )

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> Response:
        log.error("unexpected %s on %s %s", type(exc).__name__, request.method, route_template(request.scope))
        message = "Something went wrong on our side. Nothing you sent was stored; please try again."
        if _wants_json(request):
            return JSONResponse({"detail": message}, status_code=500)
        return HTMLResponse(
            templates.get_template("error.html").render(request=request, status=500, message=message), status_code=500
        )

    return app
