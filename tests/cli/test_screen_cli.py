"""The `screen`, `trials` and `show` commands as a coordinator uses them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest
from typer.testing import CliRunner

from trialscreen.cli.app import app
from trialscreen.fhir.builder import PatientBuilder

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "patients"
SYNTHEA = REPO / ".." / "shared" / "data" / "fhir" / "synthea"
runner = CliRunner()


def _bundle(tmp_path: Path, pid: str = "p1", **kw: object) -> Path:
    b = PatientBuilder(pid, birth_date="1980-05-01", gender="male")
    b.condition("C92.02", onset="2026-01-10")
    path = tmp_path / f"{pid}.json"
    path.write_bytes(orjson.dumps(b.bundle()))
    return path


def _json_lines(output: str) -> list[dict]:
    return [orjson.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_json_output_has_the_documented_shape(tmp_path: Path) -> None:
    path = _bundle(tmp_path)
    result = runner.invoke(app, ["screen", "--trial", "NCT06125652", "--as-of", "2026-11-25", "--format", "json", str(path)])
    assert result.exit_code == 0, result.output
    (line,) = _json_lines(result.stdout)
    assert line["patient"] == "p1" and line["trial"] == "NCT06125652" and line["as_of"] == "2026-11-25"
    assert line["verdict"] in ("eligible", "ineligible", "needs_review")
    ids = [c["id"] for c in line["criteria"]]
    assert ids == [f"inc-{i}" for i in range(1, 9)] + [f"exc-{i}" for i in range(1, 17)]
    inc6 = next(c for c in line["criteria"] if c["id"] == "inc-6")
    assert [p["id"] for p in inc6["parts"]] == [
        "inc-6.ast", "inc-6.alt", "inc-6.bilirubin", "inc-6.renal", "inc-6.hemoglobin", "inc-6.spo2", "inc-6.lvef",
    ]
    for c in line["criteria"]:
        assert set(c) >= {"id", "kind", "text", "status", "reason", "evidence", "eligible_from", "parts"}
        assert c["status"] in ("pass", "fail", "unknown") and c["reason"]
    # no labs at all: required tests are unknown, never assumed
    assert next(p for p in inc6["parts"] if p["id"] == "inc-6.ast")["status"] == "unknown"
    assert line["verdict"] == "needs_review"


def test_text_report_puts_the_verdict_first_then_failures(tmp_path: Path) -> None:
    result = runner.invoke(app, ["screen", "-t", "NCT06125652", "--as-of", "2026-11-25", str(EXAMPLES / "07-lapsing-auto-sct.json")])
    assert result.exit_code == 0
    out = result.stdout
    assert out.index("NOT ELIGIBLE") < out.index("Stands in the way") < out.index("Met (")
    assert "exc-8" in out and "eligible from 2027-01-14" in out


def test_unreadable_file_is_named_and_others_still_screened(tmp_path: Path) -> None:
    good = _bundle(tmp_path, "good")
    bad = tmp_path / "broken.json"
    bad.write_text("{ not json")
    nopatient = tmp_path / "nopatient.json"
    nopatient.write_bytes(orjson.dumps({"resourceType": "Bundle", "type": "collection", "entry": []}))
    result = runner.invoke(app, ["screen", "-t", "NCT06125652", "--as-of", "2026-11-25", "-f", "json", str(bad), str(good), str(nopatient)])
    assert result.exit_code == 1
    assert [line["patient"] for line in _json_lines(result.stdout)] == ["good"]
    assert "broken.json" in result.stderr and "not valid JSON" in result.stderr
    assert "nopatient.json" in result.stderr and "no Patient" in result.stderr
    assert "Traceback" not in result.output


@pytest.mark.parametrize(
    "args",
    [
        ["screen", "--trial", "NCT06125652", "--as-of", "25/11/2026", "x.json"],
        ["screen", "--trial", "NCT00000000", "x.json"],
        ["screen", "x.json"],
        ["screen", "--trial", "NCT06125652", "--format", "xml", "x.json"],
        ["screen", "--trial", "NCT06125652"],
    ],
)
def test_usage_errors_exit_2(args: list[str]) -> None:
    result = runner.invoke(app, args)
    assert result.exit_code == 2, result.output
    assert "Traceback" not in result.output


def test_criteria_file_must_be_readable(tmp_path: Path) -> None:
    bad = tmp_path / "c.yaml"
    bad.write_text("trial: NCT06125652\ncriteria:\n  - id: inc-1\n    kind: inclusion\n")
    result = runner.invoke(app, ["screen", "--criteria", str(bad), str(_bundle(tmp_path))])
    assert result.exit_code == 2
    assert "c.yaml" in result.output


def test_missing_file_is_reported(tmp_path: Path) -> None:
    result = runner.invoke(app, ["screen", "-t", "NCT06125652", str(tmp_path / "nope.json")])
    assert result.exit_code == 1
    assert "nope.json" in result.stderr and "no such file" in result.stderr


def test_ndjson_directory_with_many_patients(tmp_path: Path) -> None:
    files: dict[str, list[bytes]] = {}
    for pid in ("a", "b", "c"):
        b = PatientBuilder(pid, birth_date="1960-01-01", gender="female")
        b.condition("C92.4" if pid == "b" else "C92.02", onset="2026-01-10")
        for res in b.resources():
            files.setdefault(res["resourceType"], []).append(orjson.dumps(res))
    for rtype, lines in files.items():
        (tmp_path / f"{rtype}.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    result = runner.invoke(app, ["screen", "-t", "NCT06125652", "--as-of", "2026-11-25", "-f", "json", str(tmp_path)])
    assert result.exit_code == 0, result.output
    reports = {line["patient"]: line for line in _json_lines(result.stdout)}
    assert set(reports) == {"a", "b", "c"}
    exc1 = {pid: next(c for c in line["criteria"] if c["id"] == "exc-1")["status"] for pid, line in reports.items()}
    assert exc1 == {"a": "pass", "b": "fail", "c": "pass"}


def test_trials_and_show() -> None:
    listed = runner.invoke(app, ["trials"])
    assert listed.exit_code == 0 and "NCT06125652" in listed.stdout
    shown = runner.invoke(app, ["show", "nct06125652"])
    assert shown.exit_code == 0
    assert "XUZHOU MEDICAL UNIVERSITY" in shown.stdout.upper()
    assert "inc-6.lvef" in shown.stdout
    unknown = runner.invoke(app, ["show", "NCT99999999"])
    assert unknown.exit_code == 1 and "NCT99999999" in unknown.stderr


def test_the_installed_command_never_shows_a_traceback(tmp_path: Path) -> None:
    """Through a real process, as a user runs it."""
    bad = tmp_path / "weird.json"
    bad.write_bytes(orjson.dumps({"resourceType": "Bundle", "entry": [{"resource": {"resourceType": "Patient", "id": "x", "birthDate": 12}}]}))
    proc = subprocess.run(
        [sys.executable, "-m", "trialscreen.cli.app", "screen", "-t", "NCT06125652", "--as-of", "2026-11-25", str(bad)],
        capture_output=True, text=True, check=False,
    )
    assert "Traceback" not in proc.stderr + proc.stdout
    assert proc.returncode == 0
    assert "birthDate" in proc.stdout  # the unreadable birth date is named in the report


@pytest.mark.skipif(not SYNTHEA.exists(), reason=f"{SYNTHEA} is not there")
def test_synthea_folder_screens_and_empty_files_are_reported() -> None:
    result = runner.invoke(app, ["screen", "-t", "NCT06125652", "--as-of", "2026-11-25", "-f", "json", str(SYNTHEA)])
    lines = _json_lines(result.stdout)
    assert len(lines) == 22
    assert result.stderr.count("empty file") == 2
    assert result.exit_code == 1
    for line in lines:
        inc3 = next(c for c in line["criteria"] if c["id"] == "inc-3")
        assert inc3["status"] == "fail"  # none of them has AML


def _deciding_status(verdict: str) -> str | None:
    return {"ineligible": "fail", "needs_review": "unknown"}.get(verdict)


def test_verdict_lines_agree_with_the_full_reports(tmp_path: Path) -> None:
    """`--format verdict` on bulk data: the verdict and eligible_from of `--format json`, and
    the criteria it names are ones whose status decided that verdict."""
    from datetime import date

    from trialscreen.synth import generate

    generate(persons=80, seed=21, out=tmp_path, as_of=date(2026, 11, 25), formats=("fhir",))
    folder = tmp_path / "fhir"
    args = ["screen", "-t", "NCT06125652", "--as-of", "2026-11-25", str(folder), str(EXAMPLES)]
    short = runner.invoke(app, [*args, "-f", "verdict"])
    full = runner.invoke(app, [*args, "-f", "json"])
    assert short.exit_code == full.exit_code == 0, short.output
    verdicts = _json_lines(short.stdout)
    reports = _json_lines(full.stdout)
    assert [v["patient"] for v in verdicts] == [r["patient"] for r in reports] and len(verdicts) > 80
    assert {v["verdict"] for v in verdicts} >= {"ineligible", "needs_review", "eligible"}
    for v, r in zip(verdicts, reports, strict=True):
        assert set(v) == {"patient", "trial", "as_of", "verdict", "eligible_from", "decided_by"}
        assert (v["verdict"], v["eligible_from"]) == (r["verdict"], r["eligible_from"])
        statuses = {c["id"]: c["status"] for c in r["criteria"]}
        wanted = _deciding_status(v["verdict"])
        assert all(statuses[cid] == wanted for cid in v["decided_by"])
        if v["verdict"] == "eligible":
            assert v["decided_by"] == []
        elif v["verdict"] == "needs_review":
            assert set(v["decided_by"]) == {cid for cid, s in statuses.items() if s == "unknown"}
        elif v["eligible_from"] is not None:
            assert set(v["decided_by"]) == {cid for cid, s in statuses.items() if s == "fail"}
        else:
            [cid] = v["decided_by"]
            failed = next(c for c in r["criteria"] if c["id"] == cid)
            assert failed["eligible_from"] is None
