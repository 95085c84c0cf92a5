"""`trialscreen users`: the first admin from the command line, the password never in argv."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from trialscreen.cli.app import app
from trialscreen.web.db import make_engine
from trialscreen.web.site.accounts import list_users, login

from .site_support import PASSWORD, SEED

runner = CliRunner()


def test_add_the_first_admin_with_the_password_on_stdin(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'users.db'}"
    args = ["users", "add", "--username", "Boss", "--role", "admin", "--trial", SEED, "--db", db, "--password-stdin"]
    result = runner.invoke(app, args, input=PASSWORD + "\n")
    assert result.exit_code == 0, result.output
    assert "added user boss" in result.output and PASSWORD not in result.output
    engine = make_engine(db)
    assert [(u.username, u.role, t) for u, t in list_users(engine)] == [("boss", "admin", [SEED])]
    assert login(engine, "boss", PASSWORD) is not None
    again = runner.invoke(app, args, input=PASSWORD + "\n")
    assert again.exit_code == 1 and "already taken" in again.output
    listed = runner.invoke(app, ["users", "list", "--db", db])
    assert listed.exit_code == 0 and listed.output.strip() == f"boss\tadmin\t{SEED}"


def test_bad_input_is_named_without_a_traceback(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'users.db'}"
    cases = [
        (["--username", "x y", "--role", "admin"], "username:"),
        (["--username", "ann", "--role", "boss"], "role: one of"),
        (["--username", "ann", "--role", "coordinator", "--trial", "NCT1"], "is not an NCT number"),
    ]
    for extra, words in cases:
        result = runner.invoke(app, ["users", "add", *extra, "--db", db, "--password-stdin"], input=PASSWORD + "\n")
        assert result.exit_code == 1 and words in result.output and "Traceback" not in result.output
    short = runner.invoke(app, ["users", "add", "--username", "ann", "--role", "admin", "--db", db,
                                "--password-stdin"], input="short\n")
    assert short.exit_code == 1 and "at least 10 characters" in short.output
    # no --password option exists: a password cannot be passed in argv
    argv = runner.invoke(app, ["users", "add", "--username", "ann", "--role", "admin", "--db", db,
                               "--password", PASSWORD])
    assert argv.exit_code == 2
    bad_db = runner.invoke(app, ["users", "list", "--db", "postgresql://nobody@127.0.0.1:1/none"])
    assert bad_db.exit_code == 1 and "cannot open the database" in bad_db.output
