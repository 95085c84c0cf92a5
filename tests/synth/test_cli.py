"""`trialscreen synth`: writes both formats; bad input is one clear line and exit code 2."""

from __future__ import annotations

from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from trialscreen.cli.synth import register


@pytest.fixture()
def app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.command("noop")
    def noop() -> None:  # a second command keeps `synth` a named subcommand
        """Nothing."""

    return app


def test_writes_both_formats(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        app,
        ["synth", "--persons", "50", "--seed", "3", "--out", str(tmp_path), "--as-of", "2026-11-25"],
    )
    assert result.exit_code == 0, result.output
    assert "50 persons" in result.output
    assert (tmp_path / "omop" / "person.parquet").exists()
    lines = (tmp_path / "fhir" / "Patient.ndjson").read_bytes().splitlines()
    assert len(lines) == 50


def test_one_format(app: typer.Typer, tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["synth", "--persons", "5", "--out", str(tmp_path), "--format", "fhir", "--quiet"])
    assert result.exit_code == 0, result.output
    assert result.output == ""
    assert not (tmp_path / "omop").exists()


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--persons", "0"], "--persons must be at least 1"),
        (["--seed", "-1"], "--seed must not be negative"),
        (["--as-of", "25/11/2026"], "--as-of '25/11/2026': expected a date"),
        (["--format", "csv"], "--format 'csv'"),
    ],
)
def test_bad_input(app: typer.Typer, tmp_path: Path, args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, ["synth", "--out", str(tmp_path / "x"), *args])
    assert result.exit_code == 2
    assert message in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "x").exists()


def test_out_is_a_file(app: typer.Typer, tmp_path: Path) -> None:
    target = tmp_path / "file"
    target.write_text("x")
    result = CliRunner().invoke(app, ["synth", "--out", str(target)])
    assert result.exit_code == 2
    assert "is not a directory" in result.output


def test_registered_in_the_trialscreen_command() -> None:
    from trialscreen.cli.app import app as main_app

    result = CliRunner().invoke(main_app, ["synth", "--help"])
    assert result.exit_code == 0
    assert "--persons" in result.output and "--as-of" in result.output
