"""`trialscreen serve`: the public trial pages and their JSON API."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from trialscreen.cli.common import error, parse_as_of


def serve_command(
    host: Annotated[str, typer.Option(help="Address to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
    db: Annotated[
        str,
        typer.Option("--db", help="Database URL: sqlite:///file.db (default) or postgresql://user@host:port/name."),
    ] = "sqlite:///trialscreen-web.db",
    trials: Annotated[
        list[Path] | None,
        typer.Option("--trials", help="Extra ClinicalTrials.gov JSON files or directories to list."),
    ] = None,
    as_of: Annotated[
        str | None, typer.Option("--as-of", help="Screen answers for this day (YYYY-MM-DD); default today.")
    ] = None,
    apply_per_minute: Annotated[
        float, typer.Option(min=0.1, help="Applications accepted per client address and minute.")
    ] = 5.0,
    secure_cookies: Annotated[bool, typer.Option(help="Mark cookies Secure (behind HTTPS).")] = False,
    base_url: Annotated[str, typer.Option(help="Public base URL (the FHIR Questionnaire's canonical url).")] = "",
) -> None:
    """Serve the trial pages: search, listing, pre-screening questionnaire, applying."""
    import uvicorn
    from sqlalchemy.exc import SQLAlchemyError

    from trialscreen.trials import TrialRecordError
    from trialscreen.web import Settings, create_app

    settings = Settings(
        db_url=db,
        trials=tuple(trials or ()),
        apply_per_minute=apply_per_minute,
        as_of=parse_as_of(as_of) if as_of else None,
        secure_cookies=secure_cookies,
        base_url=base_url or f"http://{host}:{port}",
    )
    try:
        app = create_app(settings)
    except TrialRecordError as exc:
        error(str(exc))
        raise typer.Exit(1) from None
    except (SQLAlchemyError, ValueError) as exc:
        error(f"--db {db.split('@')[-1]}: cannot open the database ({type(exc).__name__}: {str(exc).splitlines()[0]})")
        raise typer.Exit(1) from None
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    # uvicorn's own access log prints query strings, which may hold what a patient typed;
    # the app logs one input-free line per request instead.
    uvicorn.run(app, host=host, port=port, access_log=False, log_level="info", server_header=False)


def register(app: typer.Typer) -> None:
    app.command("serve")(serve_command)
