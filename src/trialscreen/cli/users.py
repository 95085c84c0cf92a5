"""`trialscreen users`: the site workspace's accounts from the command line (the first admin).

The password is never taken from the command line (it would sit in the shell history and
in `ps`): it is asked for twice at a prompt, or read as the first line of stdin with
`--password-stdin`.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

if TYPE_CHECKING:
    from sqlalchemy import Engine

from trialscreen.cli.common import error

users_app = typer.Typer(help="Manage the site workspace's users.", no_args_is_help=True)
DbOption = Annotated[
    str, typer.Option("--db", help="Database URL: sqlite:///file.db (default) or postgresql://user@host:port/name.")
]


def _engine(db: str) -> Engine:
    from sqlalchemy.exc import SQLAlchemyError

    from trialscreen.web.db import make_engine, migrate

    try:
        engine = make_engine(db)
        migrate(engine)
    except (SQLAlchemyError, ValueError) as exc:
        error(f"--db {db.split('@')[-1]}: cannot open the database ({type(exc).__name__}: {str(exc).splitlines()[0]})")
        raise typer.Exit(1) from None
    return engine


def _password(from_stdin: bool) -> str:
    if from_stdin:
        line = sys.stdin.readline()
        return line.rstrip("\r\n")
    if not sys.stdin.isatty():
        error("no terminal to ask the password on: use --password-stdin")
        raise typer.Exit(2)
    first = typer.prompt("Password", hide_input=True)
    if typer.prompt("Again", hide_input=True) != first:
        error("the two passwords differ")
        raise typer.Exit(1)
    return str(first)


@users_app.command("add")
def add_command(
    username: Annotated[str, typer.Option("--username", help="Login name (lower-case letters, digits, . _ -).")],
    role: Annotated[str, typer.Option("--role", help="admin, coordinator or investigator.")],
    trial: Annotated[
        list[str] | None, typer.Option("--trial", help="A trial the user works on (repeatable), e.g. NCT06125652.")
    ] = None,
    db: DbOption = "sqlite:///trialscreen-web.db",
    password_stdin: Annotated[
        bool, typer.Option("--password-stdin", help="Read the password from the first line of stdin.")
    ] = False,
) -> None:
    """Add a user (the first admin starts the workspace; admins add the others there)."""
    from trialscreen.web.site.accounts import AccountError, add_user, check_new_user

    try:
        check_new_user(username, role, list(trial or ()), "x" * 100)
    except AccountError as exc:
        error(str(exc))
        raise typer.Exit(1) from None
    password = _password(password_stdin)
    engine = _engine(db)
    try:
        user_id = add_user(engine, username, password, role, list(trial or ()))
    except AccountError as exc:
        error(str(exc))
        raise typer.Exit(1) from None
    typer.echo(f"added user {username.strip().lower()} (id {user_id}, {role})")


@users_app.command("list")
def list_command(db: DbOption = "sqlite:///trialscreen-web.db") -> None:
    """The users, their roles and trials."""
    from trialscreen.web.site.accounts import list_users

    for user, trials in list_users(_engine(db)):
        state = "" if user.active else "  (inactive)"
        typer.echo(f"{user.username}\t{user.role}\t{' '.join(trials) or '-'}{state}")


def register(app: typer.Typer) -> None:
    app.add_typer(users_app, name="users")
