"""Reading patient records: Bundles of every type, bulk NDJSON, bad files, the Synthea sample."""

from __future__ import annotations

import json
import tempfile
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialscreen.criteria.builtin import builtin_criteria
from trialscreen.evaluate import Screener
from trialscreen.fhir.builder import PatientBuilder
from trialscreen.fhir.read import PatientRecord, RecordError, RecordProblem, read_bundle, read_records

REPO = Path(__file__).resolve().parents[2]
SYNTHEA = REPO / ".." / "shared" / "data" / "fhir" / "synthea"
AS_OF = date(2026, 11, 25)
_found = builtin_criteria("NCT06125652")
assert _found is not None
SEED = _found
SCREENER = Screener(SEED)


def sample(pid: str, hb: float, aml: str | None = "C92.02") -> PatientBuilder:
    p = PatientBuilder(pid, birth_date="1980-06-15", gender="male")
    if aml:
        p.condition(aml, onset="2025-06-01")
    p.observation("718-7", value=hb, unit="g/L", when="2026-11-20")
    p.immunization("21", when="2026-11-20")
    p.consent(when="2026-11-01")
    p.attestation({"inc-4": True}, authored="2026-11-20")
    p.medication_request(code="42316", authored="2026-11-01")
    return p


def statuses(rec: PatientRecord) -> dict[str, str]:
    return dict(SCREENER.screen(rec, AS_OF).statuses())


def write(path: Path, data: Any) -> Path:
    path.write_bytes(orjson.dumps(data))
    return path


def records(items: list[PatientRecord | RecordProblem]) -> list[PatientRecord]:
    return [r for r in items if isinstance(r, PatientRecord)]


def problems(items: list[PatientRecord | RecordProblem]) -> list[RecordProblem]:
    return [r for r in items if isinstance(r, RecordProblem)]


# --- Bundles ------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", ["collection", "transaction", "batch", "searchset", "document"])
def test_bundle_of_each_type_reads_as_the_same_record(tmp_path: Path, kind: str) -> None:
    p = sample("b1", 50)
    bundle = p.bundle(kind)
    if kind == "document":
        bundle["entry"].insert(0, {"resource": {"resourceType": "Composition", "id": "c", "status": "final"}})
    if kind == "searchset":
        for entry in bundle["entry"]:
            entry["search"] = {"mode": "match"}
    [rec] = read_bundle(write(tmp_path / "b.json", bundle))
    assert rec.patient_id == "b1"
    direct = PatientRecord.from_resources(p.resources())
    assert statuses(rec) == statuses(direct)
    s = statuses(rec)
    assert s["inc-3"] == "pass" and s["inc-6.hemoglobin"] == "fail" and s["exc-12"] == "fail"
    assert s["inc-1"] == "pass" and s["inc-4"] == "pass" and s["exc-7"] == "fail"


def test_a_bare_patient_resource_is_a_record(tmp_path: Path) -> None:
    [rec] = read_bundle(write(tmp_path / "p.json", {"resourceType": "Patient", "id": "solo", "gender": "male"}))
    assert rec.patient_id == "solo"
    assert statuses(rec)["inc-3"] == "fail"


def test_bundle_with_two_patients_attributes_by_subject(tmp_path: Path) -> None:
    a, b = sample("a", 50), sample("b", 90, aml=None)
    bundle = a.bundle()
    bundle["entry"] += b.bundle()["entry"]
    recs = {r.patient_id: r for r in read_bundle(write(tmp_path / "two.json", bundle))}
    assert set(recs) == {"a", "b"}
    assert statuses(recs["a"])["inc-6.hemoglobin"] == "fail" and statuses(recs["a"])["inc-3"] == "pass"
    assert statuses(recs["b"])["inc-6.hemoglobin"] == "pass" and statuses(recs["b"])["inc-3"] == "fail"


def test_urn_uuid_references_in_a_transaction_bundle(tmp_path: Path) -> None:
    a, b = sample("11111111-aaaa", 50), sample("22222222-bbbb", 90, aml=None)
    entries = []
    for p in (a, b):
        for res in p.resources():
            res = json.loads(json.dumps(res))
            for field in ("subject", "patient"):
                if field in res:
                    res[field] = {"reference": f"urn:uuid:{p.patient_id}"}
            entries.append(
                {
                    "fullUrl": f"urn:uuid:{res['id']}",
                    "resource": res,
                    "request": {"method": "POST", "url": res["resourceType"]},
                }
            )
    bundle = {"resourceType": "Bundle", "type": "transaction", "entry": entries}
    recs = {r.patient_id: r for r in read_bundle(write(tmp_path / "t.json", bundle))}
    assert statuses(recs["11111111-aaaa"])["inc-3"] == "pass"
    assert statuses(recs["22222222-bbbb"])["inc-3"] == "fail"


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "not valid JSON"),
        (b"{not json", "not valid JSON"),
        (b"[]", "not a FHIR Bundle"),
        (b'{"resourceType": "Observation", "id": "x"}', "not a FHIR Bundle"),
        (b'{"resourceType": "Bundle", "type": "collection", "entry": {"a": 1}}', "not a list"),
        (b'{"resourceType": "Bundle", "type": "collection", "entry": [{"fullUrl": "x"}]}', "entry 0"),
        (b'{"resourceType": "Bundle", "type": "collection", "entry": []}', "no Patient"),
        (
            b'{"resourceType": "Bundle", "type": "collection", "entry": [{"resource": {"resourceType": "Condition"}}]}',
            "no Patient",
        ),
    ],
)
def test_unreadable_bundles_raise_naming_the_file(tmp_path: Path, content: bytes, words: str) -> None:
    path = tmp_path / "bad.json"
    path.write_bytes(content)
    with pytest.raises(RecordError) as err:
        read_bundle(path)
    assert str(path) in str(err.value) and words in str(err.value)


def test_read_records_reports_problems_and_goes_on(tmp_path: Path) -> None:
    good = write(tmp_path / "good.json", sample("g", 90).bundle())
    (tmp_path / "bad.json").write_bytes(b"{oops")
    (tmp_path / "empty.json").write_bytes(b"")
    (tmp_path / "README.md").write_text("not a record")
    out = list(read_records([tmp_path, tmp_path / "missing.json"]))
    assert [r.patient_id for r in records(out)] == ["g"]
    found = {Path(p.source).name: p.message for p in problems(out)}
    assert set(found) == {"bad.json", "empty.json", "missing.json"}
    assert "empty" in found["empty.json"] and "no such file" in found["missing.json"]
    assert good.exists()


def test_empty_directory_is_a_problem(tmp_path: Path) -> None:
    out = list(read_records([tmp_path]))
    assert len(out) == 1 and isinstance(out[0], RecordProblem)


# --- NDJSON ---------------------------------------------------------------------------------------


def ndjson(tmp_path: Path, builders: list[PatientBuilder], reverse: set[str] = frozenset()) -> Path:  # type: ignore[assignment]
    by_type: dict[str, list[dict[str, Any]]] = {}
    for p in builders:
        for res in p.resources():
            by_type.setdefault(res["resourceType"], []).append(res)
    folder = tmp_path / "bulk"
    folder.mkdir()
    for rtype, items in by_type.items():
        if rtype in reverse:
            items = list(reversed(items))
        (folder / f"{rtype}.ndjson").write_bytes(b"\n".join(orjson.dumps(r) for r in items) + b"\n")
    return folder


def expected_by_patient(builders: list[PatientBuilder]) -> dict[str, dict[str, str]]:
    return {p.patient_id: statuses(PatientRecord.from_resources(p.resources())) for p in builders}


def test_ndjson_many_patients_in_order(tmp_path: Path) -> None:
    people = [sample(f"n{i}", 40 + 10 * i, aml="C92.02" if i % 2 else "C92.01") for i in range(5)]
    out = list(read_records([ndjson(tmp_path, people)]))
    assert not problems(out)
    got = {r.patient_id: statuses(r) for r in records(out)}
    assert got == expected_by_patient(people)
    assert [got[f"n{i}"]["inc-6.hemoglobin"] for i in range(5)] == ["fail", "fail", "pass", "pass", "pass"]


def test_ndjson_files_out_of_patient_order(tmp_path: Path) -> None:
    people = [sample(f"o{i}", 40 + 10 * i, aml="C92.02" if i % 2 else "C92.01") for i in range(5)]
    folder = ndjson(tmp_path, people, reverse={"Observation", "Condition", "Immunization"})
    out = list(read_records([folder]))
    assert not problems(out)
    assert {r.patient_id: statuses(r) for r in records(out)} == expected_by_patient(people)


def test_ndjson_interleaved_lines(tmp_path: Path) -> None:
    people = [sample(f"i{i}", 40 + 10 * i) for i in range(3)]
    folder = ndjson(tmp_path, people)
    obs = (folder / "Observation.ndjson").read_bytes().splitlines()
    extra = [orjson.dumps(sample("i0", 200).resources()[2] | {"id": "late"})]
    (folder / "Observation.ndjson").write_bytes(b"\n".join(obs + extra) + b"\n")
    got = {r.patient_id: r for r in records(list(read_records([folder])))}
    assert len(got["i0"].facts.observations[("http://loinc.org", "718-7")]) == 2


def test_ndjson_bad_line_is_reported_naming_file_and_line(tmp_path: Path) -> None:
    people = [sample(f"x{i}", 90) for i in range(2)]
    folder = ndjson(tmp_path, people)
    with (folder / "Condition.ndjson").open("ab") as fh:
        fh.write(b"{broken\n")
    out = list(read_records([folder]))
    assert len(records(out)) == 2
    [problem] = problems(out)
    assert "Condition.ndjson" in problem.source and "line 3" in problem.message


def test_ndjson_resources_of_unknown_patients_are_reported(tmp_path: Path) -> None:
    folder = ndjson(tmp_path, [sample("k", 90)])
    stray = sample("stranger", 90).resources()[1]
    with (folder / "Condition.ndjson").open("ab") as fh:
        fh.write(orjson.dumps(stray) + b"\n")
    out = list(read_records([folder]))
    assert [r.patient_id for r in records(out)] == ["k"]
    assert any("refer to no Patient" in p.message for p in problems(out))


def test_ndjson_without_patient_file_is_a_problem(tmp_path: Path) -> None:
    folder = ndjson(tmp_path, [sample("k", 90)])
    (folder / "Patient.ndjson").unlink()
    out = list(read_records([folder]))
    assert not records(out) and problems(out)
    assert all("Patient" in p.message for p in problems(out))


# --- the Synthea sample ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def synthea() -> list[PatientRecord | RecordProblem]:
    if not SYNTHEA.is_dir():
        pytest.skip(f"Synthea sample not found at {SYNTHEA}")
    return list(read_records([SYNTHEA]))


def test_every_synthea_bundle_loads_and_screens_without_aml(synthea: list[PatientRecord | RecordProblem]) -> None:
    files = sorted(SYNTHEA.glob("*.json*"))
    empty = [f for f in files if f.stat().st_size == 0]
    recs = records(synthea)
    assert len(recs) == len(files) - len(empty) > 0
    for rec in recs:
        report = SCREENER.screen(rec, AS_OF)
        s = report.statuses()
        assert s["inc-3"] == "fail", rec.source
        assert report.verdict == "ineligible"
        assert set(s) == {c.id for c in SEED.walk()}
        assert orjson.loads(orjson.dumps(report.to_json()))["patient"] == rec.patient_id


def test_empty_synthea_files_are_problems_not_crashes(synthea: list[PatientRecord | RecordProblem]) -> None:
    empty = {f.name for f in SYNTHEA.iterdir() if f.stat().st_size == 0}
    assert len(empty) == 2
    reported = {Path(p.source).name: p.message for p in problems(synthea)}
    assert set(reported) == empty
    assert all("empty" in m for m in reported.values())


def test_synthea_race_codes_never_read_as_pregnancy_tests(synthea: list[PatientRecord | RecordProblem]) -> None:
    for rec in records(synthea):
        assert ("http://loinc.org", "2106-3") not in rec.facts.observations
        report = SCREENER.screen(rec, AS_OF)
        inc7 = next(c for c in report.criteria if c.id == "inc-7")
        assert not any("2106-3" in (e.what or "") for e in inc7.evidence)


@pytest.mark.parametrize("shuffle", [False, True])
def test_one_ndjson_file_holding_patients_and_their_resources(tmp_path: Path, shuffle: bool) -> None:
    people = [sample(f"m{i}", 40 + 10 * i, aml="C92.02" if i % 2 else "C92.01") for i in range(4)]
    lines = [orjson.dumps(r) for p in people for r in p.resources()]
    if shuffle:
        lines = lines[1::2] + lines[::2]  # resources before their Patients
    (tmp_path / "everything.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    out = list(read_records([tmp_path / "everything.ndjson"]))
    assert not problems(out)
    assert {r.patient_id: statuses(r) for r in records(out)} == expected_by_patient(people)


@pytest.mark.parametrize("full_url", [["not", "a", "string"], {"a": 1}, 5, None])
def test_odd_full_urls_in_a_two_patient_bundle_are_tolerated(tmp_path: Path, full_url: Any) -> None:
    a, b = sample("a", 50), sample("b", 90, aml=None)
    bundle = a.bundle()
    bundle["entry"] += b.bundle()["entry"]
    bundle["entry"][0]["fullUrl"] = full_url
    recs = {r.patient_id: r for r in read_bundle(write(tmp_path / "two.json", bundle))}
    assert statuses(recs["a"])["inc-3"] == "pass" and statuses(recs["b"])["inc-3"] == "fail"


# --- property: bulk NDJSON reads every patient exactly as its own resources -------------------------

_ADDERS = [
    lambda p: p.condition("C92.02", onset="2025-06-01"),
    lambda p: p.condition("G35", onset="2020-01-01"),
    lambda p: p.observation("718-7", value=50, unit="g/L", when="2026-11-20"),
    lambda p: p.observation("1920-8", value=300, unit="U/L", when="2026-11-21"),
    lambda p: p.procedure("http://www.ama-assn.org/go/cpt", "38241", when="2026-10-01"),
    lambda p: p.immunization("21", when="2026-11-20"),
    lambda p: p.medication_request(code="42316", authored="2026-11-01"),
    lambda p: p.allergy("91936005", criticality="high"),
    lambda p: p.consent(when="2026-11-01"),
    lambda p: p.attestation({"inc-4": True}, authored="2026-11-20"),
]


@settings(max_examples=25, deadline=None)
@given(
    st.lists(st.lists(st.integers(0, len(_ADDERS) - 1), max_size=6), min_size=1, max_size=6),
    st.sampled_from(["in order", "reversed", "one file", "one file shuffled"]),
    st.randoms(use_true_random=False),
)
def test_bulk_ndjson_reads_each_patient_as_its_own_resources(plans: list[list[int]], layout: str, rnd: Any) -> None:
    people = []
    for i, plan in enumerate(plans):
        p = PatientBuilder(f"h{i}", birth_date="1980-06-15", gender="female")
        for step in plan:
            _ADDERS[step](p)
        people.append(p)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        if layout.startswith("one file"):
            lines = [orjson.dumps(r) for p in people for r in p.resources()]
            if layout.endswith("shuffled"):
                rnd.shuffle(lines)
            (folder / "all.ndjson").write_bytes(b"\n".join(lines) + b"\n")
        else:
            by_type: dict[str, list[bytes]] = {}
            for p in people:
                for res in p.resources():
                    by_type.setdefault(res["resourceType"], []).append(orjson.dumps(res))
            for rtype, items in by_type.items():
                if layout == "reversed" and rtype != "Patient":
                    items.reverse()
                (folder / f"{rtype}.ndjson").write_bytes(b"\n".join(items) + b"\n")
        out = list(read_records([folder]))
    assert not problems(out)
    assert {r.patient_id: statuses(r) for r in records(out)} == expected_by_patient(people)


# --- Medication resources in bulk data; effectiveInstant ------------------------------------------


def test_ndjson_medication_reference_reads_the_medication_file(tmp_path: Path) -> None:
    people = [sample("r0", 90), sample("r1", 90)]
    folder = ndjson(tmp_path, people)
    orders = [orjson.loads(line) for line in (folder / "MedicationRequest.ndjson").read_bytes().splitlines()]
    for i, order in enumerate(orders):
        order["medicationReference"] = {"reference": f"Medication/med{i}"}
        del order["medicationCodeableConcept"]
    (folder / "MedicationRequest.ndjson").write_bytes(b"\n".join(orjson.dumps(o) for o in orders) + b"\n")
    meds = [
        {"resourceType": "Medication", "id": f"med{i}", "code": {"coding": [{"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": code}]}}
        for i, code in enumerate(["42316", "3264"])
    ]
    (folder / "Medication.ndjson").write_bytes(b"\n".join(orjson.dumps(m) for m in meds) + b"\n")
    out = list(read_records([folder]))
    assert not problems(out)
    got = {r.patient_id: [m.codes for m in r.facts.medications] for r in records(out)}
    rxnorm = "http://www.nlm.nih.gov/research/umls/rxnorm"
    assert got == {"r0": [((rxnorm, "42316"),)], "r1": [((rxnorm, "3264"),)]}


def test_ndjson_unreadable_medication_file_is_reported_and_records_marked(tmp_path: Path) -> None:
    folder = ndjson(tmp_path, [sample("r0", 90)])
    (folder / "Medication.ndjson").write_bytes(b'{"resourceType":"Medication","id":"m"}\n{oops\n')
    out = list(read_records([folder]))
    [problem] = problems(out)
    assert "Medication.ndjson" in problem.source and "line 2" in problem.message
    [rec] = records(out)
    assert any("could not be read" in note for note in rec.facts.notes)


def test_an_observation_dated_by_effective_instant_is_read(tmp_path: Path) -> None:
    p = sample("ei", 90)
    bundle = p.bundle()
    for entry in bundle["entry"]:
        res = entry["resource"]
        if res["resourceType"] == "Observation":
            res["effectiveInstant"] = "2026-11-19T07:15:00.123Z"
            del res["effectiveDateTime"]
    [rec] = read_bundle(write(tmp_path / "b.json", bundle))
    [fact] = rec.facts.observations[("http://loinc.org", "718-7")]
    assert fact.when == date(2026, 11, 19) and fact.instant.hour == 7
    folder = ndjson(tmp_path, [sample("ei", 90)])
    lines = [orjson.loads(x) for x in (folder / "Observation.ndjson").read_bytes().splitlines()]
    for res in lines:
        res["effectiveInstant"] = "2026-11-18T07:15:00Z"
        del res["effectiveDateTime"]
    (folder / "Observation.ndjson").write_bytes(b"\n".join(orjson.dumps(r) for r in lines) + b"\n")
    [bulk] = records(list(read_records([folder])))
    assert [f.when for f in bulk.facts.observations[("http://loinc.org", "718-7")]] == [date(2026, 11, 18)]


@settings(max_examples=60, deadline=None)
@given(st.lists(st.binary(max_size=40).map(lambda b: b.replace(b"\n", b"")), max_size=12), st.booleans(), st.integers(4, 32))
def test_ndjson_blocks_are_whole_lines_that_make_up_the_file(lines: list[bytes], final_newline: bool, block: int) -> None:
    from trialscreen.fhir import blocks as bulk

    data = b"\n".join(lines) + (b"\n" if final_newline and lines else b"")
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "x.ndjson"
        path.write_bytes(data)
        saved, bulk.BLOCK = bulk.BLOCK, block
        try:
            blocks = list(bulk.blocks(path))
        finally:
            bulk.BLOCK = saved
    assert b"".join(blocks) == data
    assert all(b.endswith(b"\n") for b in blocks[:-1]) and all(blocks)
