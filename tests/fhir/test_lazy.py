"""Lazy bulk reading gives the records, notes and problems that reading at once gives.

`read_ndjson(lazy=True)` indexes each file of one resource type in one pass and leaves each
patient's lines undecoded until that kind of fact is used. These tests hold it to the eager
reader on generated populations (in order and shuffled), on hypothesis-made files with odd
fields and bad lines, and on files it must leave to the eager reader; and check that it really
leaves results unread when only diagnoses are used.
"""

from __future__ import annotations

import os
import random
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fhir.test_typed_path import _BAD_LINES, _BASES, _mutation, dumps, line_of, planned
from trialscreen.fhir.facts import DEFERRABLE
from trialscreen.fhir.lazy import KINDS, IndexedStream
from trialscreen.fhir.ndjson import read_ndjson
from trialscreen.fhir.normalise import _READERS
from trialscreen.fhir.read import PatientRecord, RecordProblem

Resource = dict[str, Any]


def read_both(folder: Path) -> tuple[list[PatientRecord | RecordProblem], list[PatientRecord | RecordProblem]]:
    """(lazily, at once) with every lazy record's deferred facts read (through its notes)."""
    files = sorted(folder.glob("*.ndjson"))
    lazy = list(read_ndjson(files, lazy=True))
    for item in lazy:
        if isinstance(item, PatientRecord):
            item.facts.notes  # noqa: B018  (reads what was deferred)
    return lazy, list(read_ndjson(files))


@pytest.fixture(scope="module")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from trialscreen.synth import generate

    out = tmp_path_factory.mktemp("lazy")
    generate(persons=60, seed=3, out=out, as_of=date(2026, 11, 25), formats=("fhir",))
    return out / "fhir"


def test_a_generated_population_reads_the_same(population: Path) -> None:
    lazy, eager = read_both(population)
    assert len(eager) == 60 and all(isinstance(r, PatientRecord) for r in eager)
    assert lazy == eager


def test_shuffled_files_read_the_same(population: Path, tmp_path: Path) -> None:
    rng = random.Random(7)
    for source in population.glob("*.ndjson"):
        lines = source.read_bytes().splitlines()
        if source.name != "Patient.ndjson":
            rng.shuffle(lines)
        (tmp_path / source.name).write_bytes(b"\n".join(lines) + b"\n")
    lazy, eager = read_both(tmp_path)
    assert lazy == eager
    assert sum(len(r.facts.observations) for r in eager if isinstance(r, PatientRecord)) > 0


def _open_files() -> int:
    return len(os.listdir("/proc/self/fd"))


def test_results_stay_unread_until_used(population: Path) -> None:
    """Also read after the reading ended (records kept in a list): the files are opened for
    each run then, and none is left open."""
    files = sorted(population.glob("*.ndjson"))
    before = _open_files()
    records = [r for r in read_ndjson(files, lazy=True) if isinstance(r, PatientRecord)]
    eager = {r.patient_id: r for r in read_ndjson(files) if isinstance(r, PatientRecord)}
    with_results = [r for r in records if eager[r.patient_id].facts.observations]
    assert with_results
    for record in with_results:
        facts = record.facts
        assert facts.deferred is not None and "observations" in facts.deferred
        assert facts.conditions == eager[record.patient_id].facts.conditions
        assert "observations" in facts.deferred  # reading the diagnoses left the results alone
        assert facts.observations == eager[record.patient_id].facts.observations
        assert facts.deferred is None or "observations" not in facts.deferred
    assert _open_files() == before


def _files_by_kind(lines: list[tuple[str, bytes]]) -> dict[str, list[bytes]]:
    out: dict[str, list[bytes]] = {}
    for kind, line in lines:
        out.setdefault(kind, []).append(line)
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    st.lists(st.lists(st.tuples(st.sampled_from(_BASES), st.lists(_mutation, max_size=2)), max_size=6), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 30), st.sampled_from(_BAD_LINES)), max_size=2),
    st.booleans(),
    st.booleans(),
)
def test_odd_files_read_to_the_same_records_notes_and_problems(
    plans: list[list[tuple[Resource, list[Any]]]], bad: list[tuple[int, bytes]], shuffle: bool, orphan: bool
) -> None:
    patients: list[bytes] = []
    lines: list[tuple[str, bytes]] = []
    for i, plan in enumerate(plans):
        patients.append(dumps({"resourceType": "Patient", "id": f"p{i}", "birthDate": "1970-01-01"}))
        for base, mutations in plan:
            patient = f"p{len(plans) if orphan and not lines else i}"  # the first line names no Patient
            lines.append((base["resourceType"], line_of(planned(base, mutations, patient))))
    if shuffle:
        lines.reverse()
    for where, text in bad:
        lines.insert(min(where, len(lines)), (lines[min(where, len(lines) - 1)][0] if lines else "Observation", text))
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "Patient.ndjson").write_bytes(b"\n".join(patients) + b"\n")
        for kind, kept in _files_by_kind(lines).items():
            (folder / f"{kind}.ndjson").write_bytes(b"\n".join(kept) + b"\n")
        lazy, eager = read_both(folder)
    assert lazy == eager


def test_notes_keep_their_reading_order(tmp_path: Path) -> None:
    """Notes of results read late stand where reading at once puts them, between others' notes."""
    (tmp_path / "Patient.ndjson").write_bytes(b'{"resourceType":"Patient","id":"p"}\n')
    (tmp_path / "Condition.ndjson").write_bytes(
        b'{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p"},"onsetDateTime":"soon"}\n'
    )
    (tmp_path / "Observation.ndjson").write_bytes(
        b'{"resourceType":"Observation","id":"o","status":"final","subject":{"reference":"Patient/p"},"effectiveDateTime":"later"}\n'
    )
    (tmp_path / "Procedure.ndjson").write_bytes(
        b'{"resourceType":"Procedure","id":"x","subject":{"reference":"Patient/p"},"performedDateTime":"never"}\n'
    )
    lazy, eager = read_both(tmp_path)
    assert lazy == eager
    [record] = eager
    assert isinstance(record, PatientRecord)
    assert [note.split(":")[0] for note in record.facts.notes] == ["Condition/c", "Observation/o", "Procedure/x"]


def test_files_of_types_no_fact_reads_are_checked_not_read(tmp_path: Path) -> None:
    (tmp_path / "Patient.ndjson").write_bytes(b'{"resourceType":"Patient","id":"p"}\n{"resourceType":"Patient","id":"q"}\n')
    good = b'{"resourceType":"Encounter","id":"e1","subject":{"reference":"Patient/p"}}\n'
    (tmp_path / "Encounter.ndjson").write_bytes(good)
    lazy, eager = read_both(tmp_path)
    assert lazy == eager and all(isinstance(r, PatientRecord) for r in lazy)
    (tmp_path / "Encounter.ndjson").write_bytes(good + b'{"resourceType":"Encounter","id":\n')
    lazy, eager = read_both(tmp_path)
    assert lazy == eager
    assert any(isinstance(r, RecordProblem) and "line 2 is not valid JSON" in r.message for r in lazy)


def test_what_cannot_be_indexed_is_read_at_once(tmp_path: Path) -> None:
    order = {"p": 0}
    mixed = tmp_path / "Mixed.ndjson"
    mixed.write_bytes(
        b'{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p"}}\n'
        b'{"resourceType":"Procedure","id":"x","subject":{"reference":"Patient/p"}}\n'
    )
    assert IndexedStream.build(mixed, order, "Condition") is None
    blank = tmp_path / "Blank.ndjson"
    blank.write_bytes(b'{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p"}}\n\n')
    assert IndexedStream.build(blank, order, "Condition") is None
    fine = tmp_path / "Fine.ndjson"
    fine.write_bytes(b'{"resourceType":"Condition","id":"c","subject":{"reference":"Patient/p"}}\n')
    indexed = IndexedStream.build(fine, order, "Condition")
    assert indexed is not None
    assert [indexed.read(run) for run in indexed.take("p", order)] == [fine.read_bytes()]
    indexed.close()


def test_every_type_read_into_facts_has_a_deferrable_kind() -> None:
    read_types = set(_READERS) - {"Patient"} | {"Observation", "MedicationRequest", "MedicationStatement"}
    assert read_types == set(KINDS)
    assert set(KINDS.values()) == set(DEFERRABLE)


@pytest.mark.parametrize("lazy", [False, True])
def test_a_patient_listed_twice_is_reported_and_no_lines_change_hands(tmp_path: Path, lazy: bool) -> None:
    ids = ["p0", "p1", "p0", "p2"]
    (tmp_path / "Patient.ndjson").write_bytes(
        b"".join(b'{"resourceType":"Patient","id":"%s","birthDate":"19%d0-01-01"}\n' % (pid.encode(), i + 5) for i, pid in enumerate(ids))
    )
    lines = [
        b'{"resourceType":"Condition","id":"c-%s","subject":{"reference":"Patient/%s"},"code":{"coding":'
        b'[{"system":"http://hl7.org/fhir/sid/icd-10-cm","code":"C92.00"}]}}' % (pid.encode(), pid.encode())
        for pid in ("p0", "p1", "p2")
    ]
    (tmp_path / "Condition.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    out = list(read_ndjson(sorted(tmp_path.glob("*.ndjson")), lazy=lazy))
    records = {r.patient_id: r for r in out if isinstance(r, PatientRecord)}
    problems = [r for r in out if isinstance(r, RecordProblem)]
    assert list(records) == ["p0", "p1", "p2"]
    for pid, record in records.items():
        assert [c.id for c in record.facts.conditions] == [f"c-{pid}"]
    assert records["p0"].facts.birth_date == date(1950, 1, 1)  # the first entry
    [problem] = problems
    assert problem.source.endswith("Patient.ndjson") and "line 3: Patient/p0 appears more than once" in problem.message


def test_facts_compare_equal_before_anything_is_read(population: Path) -> None:
    files = sorted(population.glob("*.ndjson"))
    lazy = [r for r in read_ndjson(files, lazy=True) if isinstance(r, PatientRecord)]
    eager = [r for r in read_ndjson(files) if isinstance(r, PatientRecord)]
    assert any(r.facts.deferred for r in lazy)
    assert lazy == eager
    assert lazy[0].facts != eager[1].facts
