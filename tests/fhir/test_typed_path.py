"""The typed path (msgspec structs) reads a resource exactly as the general path (dict).

Bulk NDJSON Observations, Conditions, Immunizations and Procedures are decoded into typed
structs for speed; every line those reject goes through the general path. These tests hold the
two to one meaning: on every such resource of the examples, the Synthea sample and generated
bulk data, and on hypothesis-made variants with wrong types, nulls and odd values in every
field the facts read, the typed path either declines or gives the very facts (and notes) of
the general one; and whole NDJSON files, malformed lines included, read to the same records
and problems either way.
"""

from __future__ import annotations

import copy
import json
import tempfile
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialscreen.fhir.builder import PatientBuilder
from trialscreen.fhir.facts import Coding, Facts
from trialscreen.fhir.ndjson import read_ndjson
from trialscreen.fhir.normalise import add
from trialscreen.fhir.read import PatientRecord, RecordProblem
from trialscreen.fhir.typed import ADDERS, decode_line

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples" / "patients"
SYNTHEA = REPO / ".." / "shared" / "data" / "fhir" / "synthea"
Resource = dict[str, Any]
Wanted = Callable[[Coding], bool] | None

WANTED: list[Wanted] = [None, lambda c: c[1] in {"718-7", "1920-8", "2160-0"}]


def dumps(value: Any) -> bytes:
    """Compact JSON; unlike orjson's writer, it writes integers of any size."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()


def line_of(res: Resource) -> bytes:
    """One NDJSON line as bulk exports write it: compact, resourceType first."""
    return dumps({"resourceType": res.get("resourceType", "Observation"), **res})


KINDS = ("Observation", "Condition", "Immunization", "Procedure")


def both(line: bytes, wanted: Wanted = None) -> tuple[Facts | None, Facts]:
    """(facts by the typed path or None if it declines, facts by the general path)."""
    general = Facts("p")
    add(orjson.loads(line), general, wanted)
    typed = decode_line(line)
    if typed is None:
        return None, general
    got = Facts("p")
    ADDERS[type(typed)](typed, got, wanted)
    return got, general


def typed_kinds_in(bundle: Any) -> Iterator[Resource]:
    for entry in bundle.get("entry", []) if isinstance(bundle, dict) else []:
        res = entry.get("resource") if isinstance(entry, dict) else None
        if isinstance(res, dict) and res.get("resourceType") in KINDS:
            yield res


def builder_observations() -> list[Resource]:
    p = PatientBuilder("t", birth_date="1980-06-15", gender="female")
    p.observation("718-7", value=9.5, unit="g/dL", when="2026-11-20")
    p.observation("718-7", value=95, unit="g/L", when="2026-11-20T08:30:00+02:00", ref_high=170, text="Hb")
    p.observation("1920-8", value=120, unit="U/L", when="2026-11", period=True, issued="2026-11-03T10:00:00Z")
    p.observation("2160-0", value=1.1, unit="mg/dL", when="2026", ucum=False, ref_high=1.3)
    p.observation("59408-5", value=97, unit="%", when="2026-11-20", components=[("3150-0", 0.4, "1"), ("19994-3", 21, "%")])
    p.observation("2106-3", value_code="10828004", when="2026-11-20", interpretation="POS")
    p.observation("5196-1", value_code="260385009", when="2026-11-20", interpretation="neg")
    p.observation("89247-1", value_integer=2, when="2026-11-20")
    p.observation("11529-5", value_string="no blasts seen", when="2026-11-20")
    p.observation("8867-4", value=80, unit="/min", when="2026-11-20", status="preliminary")
    p.observation("8867-4", value=80, unit="/min", when="2026-11-20", status="entered-in-error")
    p.observation("8867-4", value=80, when="2026-11-20", status=None)
    return [r for r in p.resources() if r["resourceType"] == "Observation"]


def builder_others() -> list[Resource]:
    """Conditions, Immunizations and Procedures of every shape the builder writes."""
    p = PatientBuilder("t", birth_date="1980-06-15", gender="female")
    p.condition("C92.02", onset="2025-06-01", recorded="2025-06-03", text="AML", display="AML in relapse")
    p.condition("I21.9", onset="2026-09", abatement="2026-10-01", clinical_status="resolved", verification="confirmed")
    p.condition("G35", onset="2020", clinical_status=None, verification="refuted")
    p.condition("C92.00", onset="2026-11-20T10:00:00Z", verification="entered-in-error")
    p.immunization("21", when="2026-11-20")
    p.immunization("115", when="2026-11", status="not-done")
    p.procedure("http://www.ama-assn.org/go/cpt", "38241", when="2026-10-01", category="387713003", display="transplant")
    p.procedure("http://www.ama-assn.org/go/cpt", "44140", when="2026-10-01", period=True)
    p.procedure("http://www.ama-assn.org/go/cpt", "44140", when="2026-10-01", status="not-done")
    out = [r for r in p.resources() if r["resourceType"] in KINDS]
    out.append(out[0] | {"abatementBoolean": True, "id": "ab"})
    out.append(out[0] | {"abatementString": "in childhood", "id": "as"})
    out.append(out[0] | {"abatementAge": {"value": 12}, "abatementPeriod": {"end": "2001"}, "id": "ag"})
    out.append(out[0] | {"onsetPeriod": {"start": "2019-03"}, "onsetDateTime": "", "id": "op"})
    out.append(out[-5] | {"category": [{"coding": [{"system": "http://snomed.info/sct", "code": "387713003"}]}], "id": "cl"})
    return out


@pytest.fixture(scope="module")
def generated() -> dict[str, list[bytes]]:
    from trialscreen.synth import generate

    with tempfile.TemporaryDirectory() as tmp:
        generate(persons=40, seed=11, out=Path(tmp), as_of=date(2026, 11, 25), formats=("fhir",))
        return {kind: (Path(tmp) / "fhir" / f"{kind}.ndjson").read_bytes().splitlines() for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_every_generated_resource_is_read_typed_and_the_same(generated: dict[str, list[bytes]], kind: str) -> None:
    assert len(generated[kind]) > (500 if kind == "Observation" else 5)
    for wanted in WANTED:
        for line in generated[kind]:
            typed, general = both(line, wanted)
            assert typed is not None, line  # bulk data never needs the general path
            assert typed == general, line


def test_resources_of_the_examples_and_the_synthea_sample_read_the_same() -> None:
    bundles = sorted(EXAMPLES.glob("*.json")) + sorted(SYNTHEA.glob("*.json"))
    seen = typed_count = 0
    for path in bundles:
        if path.stat().st_size == 0:
            continue
        for res in typed_kinds_in(orjson.loads(path.read_bytes())):
            for wanted in WANTED:
                typed, general = both(line_of(res), wanted)
                seen += 1
                if typed is not None:
                    typed_count += 1
                    assert typed == general, (path.name, res.get("id"))
    assert seen > 1000 and typed_count > 0.9 * seen


def test_builder_resources_read_the_same() -> None:
    for res in builder_observations() + builder_others():
        for wanted in WANTED:
            typed, general = both(line_of(res), wanted)
            assert typed is not None and typed == general, res


# --- hypothesis: odd values in every field the facts read ---------------------------------------

_PATHS: list[tuple[Any, ...]] = [
    ("status",), ("id",), ("code",), ("code", "coding"), ("code", "coding", 0), ("code", "coding", 0, "system"),
    ("code", "coding", 0, "code"), ("code", "text"), ("subject",), ("subject", "reference"), ("patient",),
    ("effectiveDateTime",), ("effectivePeriod",), ("effectivePeriod", "start"), ("effectiveInstant",), ("issued",),
    ("valueQuantity",), ("valueQuantity", "value"), ("valueQuantity", "unit"), ("valueQuantity", "system"),
    ("valueQuantity", "code"), ("valueQuantity", "comparator"), ("valueInteger",), ("valueString",),
    ("valueCodeableConcept",), ("valueCodeableConcept", "coding", 0, "display"), ("interpretation",),
    ("interpretation", 0, "coding", 0, "code"), ("referenceRange",), ("referenceRange", 0),
    ("referenceRange", 0, "type"), ("referenceRange", 0, "high"), ("referenceRange", 0, "high", "value"),
    ("component",), ("component", 0, "code"), ("component", 0, "valueQuantity", "value"), ("category",),
    ("note",), ("resourceType",),
    # Condition, Immunization, Procedure
    ("clinicalStatus",), ("clinicalStatus", "coding", 0, "code"), ("verificationStatus",),
    ("verificationStatus", "coding", 0, "code"), ("onsetDateTime",), ("onsetPeriod",), ("onsetPeriod", "start"),
    ("recordedDate",), ("abatementDateTime",), ("abatementPeriod",), ("abatementPeriod", "end"),
    ("abatementPeriod", "start"), ("abatementBoolean",), ("abatementString",), ("abatementAge",),
    ("vaccineCode",), ("vaccineCode", "coding", 0, "code"), ("occurrenceDateTime",), ("performedDateTime",),
    ("performedPeriod",), ("performedPeriod", "start"), ("category", 0), ("category", "coding"),
]
_DATES = ["2026-11-20", "2026-11", "2026", "2026-11-20T10:00:00Z", "2026-11-20T10:00:00+02:00",
          "2026-11-20T10:00:00", "20261120T100000", "2026-13-01", "", "soon", "2026-11-20T25:00:00Z"]
_WORDS = ["final", "amended", "preliminary", "entered-in-error", "<", "<=", "~", "http://loinc.org",
          "http://unitsofmeasure.org", "718-7", "g/dL", "normal", "treatment", "Patient/p", "Observation"]

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(), st.integers(min_value=2**63 - 2, max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False), st.sampled_from(_DATES + _WORDS), st.text(max_size=6),
)
_json = st.recursive(
    _scalars, lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_WORDS + ["value", "coding", "code", "system"]), inner, max_size=3),
    max_leaves=6,
)
_mutation = st.tuples(st.sampled_from(_PATHS), st.one_of(st.just("<delete>"), _json))


def mutate(res: Resource, path: tuple[Any, ...], value: Any) -> None:
    """Set (or delete) the value at `path`, if the containers on the way exist."""
    node: Any = res
    for step in path[:-1]:
        in_dict = isinstance(node, dict) and isinstance(step, str) and isinstance(node.get(step), dict | list)
        in_list = isinstance(node, list) and isinstance(step, int) and step < len(node)
        if not (in_dict or in_list):
            return
        node = node[step]
    last = path[-1]
    if isinstance(node, dict) and isinstance(last, str):
        if value == "<delete>":
            node.pop(last, None)
        else:
            node[last] = value
    elif isinstance(node, list) and isinstance(last, int) and last < len(node):
        if value == "<delete>":
            del node[last]
        else:
            node[last] = value


_BASES = builder_observations() + builder_others()


def planned(base: Resource, mutations: list[Any], patient: str) -> Resource:
    """A copy of `base` with the mutations made, about `patient`."""
    res = copy.deepcopy(base)
    for path, value in mutations:
        mutate(res, path, value)
    res["subject"] = {"reference": f"Patient/{patient}"}
    return res


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.sampled_from(_BASES), st.lists(_mutation, min_size=1, max_size=4), st.sampled_from(WANTED))
def test_variants_read_the_same_or_go_the_general_way(base: Resource, mutations: list[Any], wanted: Wanted) -> None:
    res = copy.deepcopy(base)
    for path, value in mutations:
        mutate(res, path, value)
    line = dumps(res)
    if not line.startswith(b'{"resourceType"'):
        line = line_of(res)
    typed, general = both(line, wanted)
    if typed is not None:
        assert typed == general


@pytest.mark.parametrize(
    "line",
    [
        b'{"resourceType":"Observation","id":"a","valueInteger":9223372036854775808}',  # an int orjson reads, int64 does not
        b'{"resourceType":"Observation","id":"a","valueInteger":null}',  # present but null: a problem, not absent
        b'{"resourceType":"Observation","id":"a","valueQuantity":{"value":true}}',
        b'{"resourceType":"Observation","id":"a","valueQuantity":{"value":1,"comparator":"~"}}',
        b'{"resourceType":"Observation","id":"a","code":{"coding":{"system":"http://loinc.org","code":"718-7"}}}',
        b'{"resourceType":"Observation","id":"a","resourceType":"Condition"}',
        b'{"resourceType":"Observation","id":null}',
    ],
)
def test_the_typed_path_declines_what_only_the_general_path_judges(line: bytes) -> None:
    assert decode_line(line) is None


def test_duplicate_keys_read_as_the_general_path_reads_them() -> None:
    line = (b'{"resourceType":"Observation","id":"a","status":"final","code":{"coding":[{"system":"http://loinc.org",'
            b'"code":"718-7"}]},"effectiveDateTime":"2026-01-01","valueQuantity":{"value":1,"unit":"g/dL"},'
            b'"valueQuantity":{"value":2,"unit":"g/L"},"id":"b"}')
    typed, general = both(line)
    assert typed is not None and typed == general
    [fact] = general.observations[("http://loinc.org", "718-7")]
    assert fact.id == "b" and fact.quantity is not None and fact.quantity.value == 2


# --- whole files: the same records and problems either way -----------------------------------------

def read_both(folder: Path) -> tuple[list[PatientRecord | RecordProblem], list[PatientRecord | RecordProblem]]:
    files = sorted(folder.glob("*.ndjson"))
    return list(read_ndjson(files, typed=True)), list(read_ndjson(files, typed=False))


_BAD_LINES = [b"{broken", b"[]", b'{"id":"x"}', b'{"resourceType":"Observation","id":"u","x":"\xff"}', b"   "]


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    st.lists(st.lists(st.tuples(st.sampled_from(_BASES), st.lists(_mutation, max_size=2)), max_size=5), min_size=1, max_size=4),
    st.lists(st.tuples(st.integers(0, 30), st.sampled_from(_BAD_LINES)), max_size=2),
    st.booleans(),
)
def test_ndjson_files_read_to_the_same_records_and_problems(
    plans: list[list[tuple[Resource, list[Any]]]], bad: list[tuple[int, bytes]], shuffle: bool
) -> None:
    patients, lines = [], []
    for i, plan in enumerate(plans):
        patients.append(dumps({"resourceType": "Patient", "id": f"p{i}", "birthDate": "1970-01-01"}))
        for base, mutations in plan:
            lines.append(line_of(planned(base, mutations, f"p{i}")))
    if shuffle:
        lines.reverse()
    for where, text in bad:
        lines.insert(min(where, len(lines)), text)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "Patient.ndjson").write_bytes(b"\n".join(patients) + b"\n")
        (folder / "Observation.ndjson").write_bytes(b"\n".join(lines) + b"\n")
        typed, general = read_both(folder)
    assert typed == general


def test_generated_bulk_files_read_to_the_same_records(tmp_path: Path) -> None:
    from trialscreen.synth import generate

    generate(persons=30, seed=5, out=tmp_path, as_of=date(2026, 11, 25), formats=("fhir",))
    typed, general = read_both(tmp_path / "fhir")
    assert len(typed) == 30 and all(isinstance(r, PatientRecord) for r in typed)
    assert typed == general


def test_a_line_that_is_no_resource_among_observations_is_reported(tmp_path: Path) -> None:
    observation = line_of(builder_observations()[0] | {"subject": {"reference": "Patient/p0"}})
    (tmp_path / "Patient.ndjson").write_bytes(b'{"resourceType":"Patient","id":"p0"}\n')
    (tmp_path / "Observation.ndjson").write_bytes(observation + b'\n{"id":"x","status":"final"}\n')
    typed, general = read_both(tmp_path)
    assert typed == general
    assert [type(x).__name__ for x in typed] == ["RecordProblem", "PatientRecord"]
    assert isinstance(typed[0], RecordProblem) and "line 2 is not a FHIR resource" in typed[0].message


def test_a_bad_line_after_blocks_decoded_whole_is_named_by_its_line_number(tmp_path: Path) -> None:
    base = builder_observations()[0]
    lines = []
    for i in range(600):  # about 250 kB: several blocks decoded in one call each
        lines.append(line_of(base | {"id": f"o{i}", "subject": {"reference": f"Patient/p{i // 100}"}}))
        if i % 50 == 0:
            lines.append(b"")  # blank lines count as lines
    bad_at = len(lines) - 20
    lines.insert(bad_at, b'{"resourceType":"Observation","id":')
    (tmp_path / "Patient.ndjson").write_bytes(b"".join(b'{"resourceType":"Patient","id":"p%d"}\n' % i for i in range(6)))
    (tmp_path / "Observation.ndjson").write_bytes(b"\n".join(lines) + b"\n")
    typed, general = read_both(tmp_path)
    assert typed == general
    [problem] = [x for x in typed if isinstance(x, RecordProblem)]
    assert f"line {bad_at + 1} is not valid JSON" in problem.message
