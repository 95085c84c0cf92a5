"""`trialscreen serve` reports bad options in one line, without a traceback."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from trialscreen.cli.app import app

from .conftest import free_port

runner = CliRunner()


def test_unreachable_database(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--db", f"postgresql://nobody@127.0.0.1:{free_port()}/nothing"])
    assert result.exit_code == 1
    assert "cannot open the database" in result.output and "Traceback" not in result.output


def test_unreadable_trials(tmp_path: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{not json", encoding="utf-8")
    result = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--trials", str(bad)])
    assert result.exit_code == 1
    assert "broken.json" in result.output and "Traceback" not in result.output


def test_bad_as_of(tmp_path: Path) -> None:
    result = runner.invoke(app, ["serve", "--db", f"sqlite:///{tmp_path / 'x.db'}", "--as-of", "yesterday"])
    assert result.exit_code == 2 and "YYYY-MM-DD" in result.output
