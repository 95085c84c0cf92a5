"""A reviewed file is the source of truth: re-parsing never overwrites a person's edits silently."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from typer.testing import CliRunner

from trialscreen.cli.app import app
from trialscreen.criteria.files import load, save
from trialscreen.knowledge import Knowledge
from trialscreen.parse.output import knowledge_dirs_for

runner = CliRunner()
NSCLC = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "ctgov" / "nsclcbench" / "ctg-studies_nsclc.json"


def run(*args: str) -> tuple[int, str]:
    result = runner.invoke(app, list(args))
    return result.exit_code, result.output


def test_parse_writes_a_file_and_says_what_it_holds(tmp_path: Path) -> None:
    out = tmp_path / "seed.yaml"
    code, text = run("parse", "NCT06125652", "--out", str(out))
    assert code == 0 and "computable" in text
    criteria = load(out)
    assert criteria.trial == "NCT06125652" and all(c.origin == "parsed" for c in criteria.criteria)
    code, text = run("parse", "NCT06125652", "--out", str(out))
    assert code == 0 and "unchanged" in text


def test_a_file_that_differs_is_kept_and_the_new_parse_goes_beside_it(tmp_path: Path) -> None:
    out = tmp_path / "seed.yaml"
    run("parse", "NCT06125652", "--out", str(out))
    edited = out.read_text(encoding="utf-8").replace("min: 18", "min: 16")
    out.write_text(edited, encoding="utf-8")
    code, _ = run("parse", "NCT06125652", "--out", str(out))
    assert code == 0
    assert out.read_text(encoding="utf-8") == edited
    assert (tmp_path / "seed.yaml.new").exists()
    code, _ = run("parse", "NCT06125652", "--out", str(out), "--force")
    assert code == 0 and "min: 16" not in out.read_text(encoding="utf-8")


def test_reviewed_criteria_are_kept_even_with_force(tmp_path: Path) -> None:
    out = tmp_path / "seed.yaml"
    run("parse", "NCT06125652", "--out", str(out))
    criteria = load(out)
    first = criteria.criteria[1]
    reviewed = first.model_copy(update={"origin": "reviewed", "note": "checked by Dr A", "text": first.text + " (reviewed)"})
    save(criteria.model_copy(update={"criteria": (criteria.criteria[0], reviewed, *criteria.criteria[2:])}), out)
    code, text = run("parse", "NCT06125652", "--out", str(out), "--force")
    assert code == 0 and "kept reviewed inc-2" in text
    again = load(out).by_id()["inc-2"]
    assert again.origin == "reviewed" and again.note == "checked by Dr A"


def test_a_record_file_needs_a_study_choice_and_the_sidecar_loads(tmp_path: Path) -> None:
    code, text = run("parse", str(NSCLC), "--out", str(tmp_path / "x.yaml"))
    assert code == 1 and "--trial" in text
    out = tmp_path / "nsclc.yaml"
    code, _ = run("parse", str(NSCLC), "--trial", "NCT04318938", "--out", str(out))
    assert code == 0
    know = Knowledge(dirs=knowledge_dirs_for(out))
    criteria = load(out)
    named = {getattr(n, "valueset", None) for c in criteria.walk() for n in _leaves(c.rule)} - {None}
    assert named <= set(know.valuesets)


def test_bad_input_gives_one_clear_line(tmp_path: Path) -> None:
    code, text = run("parse", "NCT00000001")
    assert code == 1 and "NCT00000001" in text
    bad = tmp_path / "bad.json"
    bad.write_text("{not json", encoding="utf-8")
    code, text = run("parse", str(bad))
    assert code == 1 and "bad.json" in text and "Traceback" not in text
    broken = tmp_path / "broken.yaml"
    broken.write_text("trial: [", encoding="utf-8")
    code, text = run("parse", "NCT06125652", "--out", str(broken))
    assert code == 1 and "--force" in text


def _leaves(node: Any) -> list[Any]:
    if node is None:
        return []
    if hasattr(node, "items") and not callable(node.items):
        return [leaf for item in node.items for leaf in _leaves(item)]
    if hasattr(node, "item"):
        return _leaves(node.item)
    return [node]


def test_a_parsed_file_screens_patients_from_the_command_line(tmp_path: Path) -> None:
    out = tmp_path / "nsclc.yaml"
    assert run("parse", str(NSCLC), "--trial", "NCT04318938", "--out", str(out))[0] == 0
    synthea = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "fhir" / "synthea"
    bundle = sorted(synthea.glob("*.json"))[0]
    code, text = run("screen", "--criteria", str(out), "--as-of", "2026-11-25", "--format", "json", str(bundle))
    assert code == 0, text
    assert "NCT04318938" in text and "verdict" in text
