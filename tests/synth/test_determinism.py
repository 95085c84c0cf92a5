"""Same seed, same bytes; another seed, another population."""

from __future__ import annotations

from pathlib import Path

from tests.synth.helpers import AS_OF
from trialscreen.synth import generate


def _files(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_same_seed_gives_byte_identical_files(tmp_path: Path) -> None:
    generate(300, 11, tmp_path / "a", AS_OF)
    generate(300, 11, tmp_path / "b", AS_OF)
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert len(a) == 9 + 13  # nine NDJSON files, thirteen OMOP tables
    assert a == b


def test_another_seed_gives_another_population(tmp_path: Path) -> None:
    generate(300, 11, tmp_path / "a", AS_OF, formats=("fhir",))
    generate(300, 12, tmp_path / "b", AS_OF, formats=("fhir",))
    a, b = _files(tmp_path / "a"), _files(tmp_path / "b")
    assert a.keys() == b.keys()
    assert a["fhir/Observation.ndjson"] != b["fhir/Observation.ndjson"]


def test_formats_are_independent(tmp_path: Path) -> None:
    """Writing only one format gives the same files as writing both."""
    generate(200, 5, tmp_path / "both", AS_OF)
    generate(200, 5, tmp_path / "omop", AS_OF, formats=("omop",))
    both, omop = _files(tmp_path / "both"), _files(tmp_path / "omop")
    assert {k: v for k, v in both.items() if k.startswith("omop/")} == omop
