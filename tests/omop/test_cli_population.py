"""`trialscreen population` through its command line: good runs and every kind of bad input.

Each bad input must give one clear line naming what is wrong, exit 1 (data) or 2 (usage),
no traceback, and no output directory (or the previous one, untouched).
"""

from __future__ import annotations

import errno
import json
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pyarrow.parquet as pq
import pytest
import typer
from typer.testing import CliRunner

from trialscreen.cli.population import register
from trialscreen.omop import outputs

from .conftest import GIBLEED_53, SYNTHEA_54

AS_OF = "2026-11-25"


def _app() -> typer.Typer:
    app = typer.Typer()
    register(app)

    @app.callback()
    def _root() -> None:
        """trialscreen (test harness)"""

    return app


def _run(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(_app(), ["population", *args])
    text = result.output + (result.stderr if result.stderr_bytes is not None else "")
    return result.exit_code, text


def _assert_clean_failure(code: int, text: str, expected_code: int, *needles: str) -> None:
    assert code == expected_code, text
    assert "Traceback" not in text
    for needle in needles:
        assert needle in " ".join(text.split()), text


def _compiler_ready() -> bool:
    try:
        from trialscreen.omop.compiler import compile_screen  # noqa: F401
    except ImportError:
        return False
    return True


needs_compiler = pytest.mark.skipif(
    not _compiler_ready(), reason="trialscreen.omop.compiler.compile_screen not available yet"
)


def _parquet_copy(target: Path, drop: str | None = None) -> Path:
    con = duckdb.connect()
    for path in SYNTHEA_54.iterdir():
        name = path.name.split(".")[0].lower()
        if name != drop:
            con.execute(f"COPY (SELECT * FROM read_csv('{path}', header=true)) TO '{target}/{name}.parquet'")
    con.close()
    return target


def test_unknown_trial_is_a_usage_error(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = _run("--trial", "NCT00000000", "--omop", str(SYNTHEA_54), "--out", str(out))
    _assert_clean_failure(code, text, 2, "--trial NCT00000000", "NCT06125652")
    assert not out.exists()


@pytest.mark.parametrize(
    ("args", "needle"),
    [
        (["--as-of", "25/11/2026"], "--as-of '25/11/2026'"),
        (["--engine", "oracle"], "--engine oracle"),
        (["--what-if", "lvef at least 40"], "--what-if 'lvef at least 40'"),
        (["--what-if", "inc-42>=1"], "no criterion 'inc-42'"),
    ],
)
def test_bad_options_are_usage_errors(tmp_path: Path, args: list[str], needle: str) -> None:
    out = tmp_path / "out"
    code, text = _run("--trial", "NCT06125652", "--omop", str(SYNTHEA_54), "--out", str(out), *args)
    _assert_clean_failure(code, text, 2, needle)
    assert not out.exists()


def test_missing_source_is_named(tmp_path: Path) -> None:
    out = tmp_path / "out"
    code, text = _run("--trial", "NCT06125652", "--omop", str(tmp_path / "nowhere"), "--out", str(out))
    _assert_clean_failure(code, text, 1, "nowhere: no such file or directory")
    assert not out.exists()


def test_missing_table_is_named(tmp_path: Path) -> None:
    source = tmp_path / "cdm"
    source.mkdir()
    _parquet_copy(source, drop="measurement")
    out = tmp_path / "out"
    code, text = _run("--trial", "NCT06125652", "--omop", str(source), "--out", str(out))
    _assert_clean_failure(code, text, 1, "missing OMOP table measurement")
    assert not out.exists()


def test_missing_column_is_named(tmp_path: Path) -> None:
    source = tmp_path / "cdm"
    source.mkdir()
    _parquet_copy(source)
    person = source / "person.parquet"
    duckdb.execute(f"COPY (SELECT * EXCLUDE (gender_concept_id) FROM '{person}') TO '{source}/p.parquet'")
    (source / "p.parquet").replace(person)
    out = tmp_path / "out"
    code, text = _run("--trial", "NCT06125652", "--omop", str(source), "--out", str(out))
    _assert_clean_failure(code, text, 1, "table person has no column gender_concept_id")
    assert not out.exists()


def test_unreadable_cdm_version_is_named(tmp_path: Path) -> None:
    source = tmp_path / "cdm"
    source.mkdir()
    _parquet_copy(source)
    cdm = source / "cdm_source.parquet"
    duckdb.execute(f"COPY (SELECT * REPLACE ('5.2' AS cdm_version) FROM '{cdm}') TO '{source}/c.parquet'")
    (source / "c.parquet").replace(cdm)
    out = tmp_path / "out"
    code, text = _run("--trial", "NCT06125652", "--omop", str(source), "--out", str(out))
    _assert_clean_failure(code, text, 1, "version '5.2' cannot be read")
    assert not out.exists()


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_unreachable_database_is_named(tmp_path: Path) -> None:
    out = tmp_path / "out"
    url = f"postgresql://nobody:hunter2@127.0.0.1:{_closed_port()}/cdmdb?schema=cdm"
    code, text = _run("--trial", "NCT06125652", "--omop", url, "--engine", "postgres", "--out", str(out))
    _assert_clean_failure(code, text, 1, "cannot connect", "127.0.0.1")
    assert "hunter2" not in text
    assert not out.exists()


def test_postgres_url_without_schema_is_a_usage_error(tmp_path: Path) -> None:
    code, text = _run(
        "--trial", "NCT06125652", "--omop", "postgresql://u@127.0.0.1:1/db", "--engine", "postgres",
        "--out", str(tmp_path / "out"),
    )
    _assert_clean_failure(code, text, 2, "--schema")


def test_out_dir_with_other_files_is_refused_before_any_work(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("mine")
    code, text = _run("--trial", "NCT06125652", "--omop", str(SYNTHEA_54), "--out", str(tmp_path))
    _assert_clean_failure(code, text, 2, "not a population output")
    assert [p.name for p in tmp_path.iterdir()] == ["notes.txt"]


@needs_compiler
@pytest.mark.parametrize(
    ("source", "what_ifs"),
    [(SYNTHEA_54, ["inc-6.lvef>=40", "inc-2<=80"]), (GIBLEED_53, [])],
    ids=["synthea27nj-5.4", "gibleed-5.3"],
)
def test_real_samples_screen_end_to_end(tmp_path: Path, source: Path, what_ifs: list[str]) -> None:
    out = tmp_path / "out"
    options = [part for w in what_ifs for part in ("--what-if", w)]
    code, text = _run(
        "--trial", "NCT06125652", "--omop", str(source), "--as-of", AS_OF, "--out", str(out), *options
    )
    assert code == 0, text
    persons = pq.read_table(out / "persons.parquet")
    assert persons.column_names[:3] == ["person_id", "verdict", "eligible_from"]
    assert {"inc-6.lvef", "exc-3.cmv", "exc-16"} <= set(persons.column_names)
    funnel = json.loads((out / "funnel.json").read_text())
    assert funnel["persons"] == persons.num_rows > 0
    assert sum(funnel["verdicts"].values()) == persons.num_rows
    assert [w["what_if"] for w in funnel["what_if"]] == what_ifs
    # relaxing a threshold never loses anyone
    assert all(w["gain_eligible_or_review"] >= 0 for w in funnel["what_if"])
    assert "exc-16" in text  # the terminal table


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path | None]:
    """A 64 KiB tmpfs (a disk that fills up for real), or None where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if made.returncode != 0:
        yield None
        return
    try:
        yield mount
    finally:
        subprocess.run(["umount", str(mount)], capture_output=True, check=False)


@needs_compiler
def test_full_disk_at_the_write_step_leaves_nothing(
    tmp_path: Path, tiny_disk: Path | None, monkeypatch: pytest.MonkeyPatch
) -> None:
    """On a real tiny tmpfs when the test may mount one, else by an OSError at the write step."""
    if tiny_disk is None:

        def no_space(directory: Path, *_: object) -> None:
            (directory / "funnel.png").write_bytes(b"partial")
            raise OSError(errno.ENOSPC, "No space left on device")

        monkeypatch.setattr(outputs, "WRITERS", (*outputs.WRITERS[:2], no_space))
    where = tiny_disk or tmp_path / "out-parent"
    where.mkdir(exist_ok=True)
    out = where / "out"
    code, text = _run("--trial", "NCT06125652", "--omop", str(SYNTHEA_54), "--as-of", AS_OF, "--out", str(out))
    _assert_clean_failure(code, text, 1, "No space left on device", str(out))
    assert list(where.iterdir()) == []
