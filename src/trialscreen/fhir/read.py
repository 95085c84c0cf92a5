"""Reading patient records: FHIR R4 Bundles and bulk-data NDJSON.

A Bundle file (collection, transaction, searchset, document) holds one patient. NDJSON holds
resources of many patients in files by resource type; when those files list patients in the
same order (as bulk exports and our generator write them), patients stream one at a time with
flat memory; otherwise a file is grouped in memory. A file that cannot be read is reported
as a `RecordProblem` naming it, and the other files go on.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson

from trialscreen.fhir.facts import Coding, Facts
from trialscreen.fhir.normalise import add

Resource = dict[str, Any]
Wanted = Callable[[Coding], bool] | None

_SUBJECT_FIELDS = ("subject", "patient", "beneficiary", "source")


class RecordError(ValueError):
    """A record that cannot be read; the message names the input and the problem."""


@dataclass(slots=True)
class RecordProblem:
    source: str
    message: str


@dataclass(slots=True)
class PatientRecord:
    """One patient's facts, with where they came from."""

    facts: Facts
    source: str

    @property
    def patient_id(self) -> str:
        return self.facts.patient_id

    @classmethod
    def from_resources(cls, resources: Iterable[Resource], *, source: str = "resources", wanted: Wanted = None) -> PatientRecord:
        """A record from resource dicts of one patient (the Patient among them)."""
        items = list(resources)
        patients = [r for r in items if isinstance(r, dict) and r.get("resourceType") == "Patient"]
        if len(patients) != 1:
            raise RecordError(f"{source}: expected one Patient, found {len(patients)}")
        facts = Facts(patient_id=str(patients[0].get("id", "?")))
        contained = {
            f"Medication/{r.get('id')}": r for r in items if isinstance(r, dict) and r.get("resourceType") == "Medication"
        }
        for res in items:
            if isinstance(res, dict):
                add(res, facts, wanted, contained)
        return cls(facts, source)


def _load_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"{path}: not valid JSON ({exc})") from None


def _ref_id(reference: Any) -> str | None:
    if isinstance(reference, dict):
        reference = reference.get("reference")
    if not isinstance(reference, str):
        return None
    return reference


def _patient_of(res: Resource) -> str | None:
    for name in _SUBJECT_FIELDS:
        ref = _ref_id(res.get(name))
        if ref:
            return ref
    return None


def read_bundle(path: Path, wanted: Wanted = None) -> list[PatientRecord]:
    """The patient(s) of a Bundle file; a Bundle normally holds one."""
    data = _load_json(path)
    if isinstance(data, dict) and data.get("resourceType") == "Patient":
        return [PatientRecord.from_resources([data], source=str(path), wanted=wanted)]
    if not isinstance(data, dict) or data.get("resourceType") != "Bundle":
        kind = data.get("resourceType") if isinstance(data, dict) else type(data).__name__
        raise RecordError(f"{path}: not a FHIR Bundle (resourceType {kind!r})")
    entries = data.get("entry") or []
    if not isinstance(entries, list):
        raise RecordError(f"{path}: Bundle.entry is not a list")
    resources: list[tuple[str | None, Resource]] = []
    for i, entry in enumerate(entries):
        res = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
            raise RecordError(f"{path}: entry {i} holds no resource")
        resources.append((entry.get("fullUrl"), res))
    patients = [(url, r) for url, r in resources if r["resourceType"] == "Patient"]
    if not patients:
        raise RecordError(f"{path}: the Bundle holds no Patient")
    if len(patients) == 1:
        return [PatientRecord.from_resources([r for _, r in resources], source=str(path), wanted=wanted)]
    # Several patients: attribute each resource through its subject reference.
    names: dict[str, int] = {}
    for index, (url, pat) in enumerate(patients):
        for name in (url, f"Patient/{pat.get('id')}", f"urn:uuid:{pat.get('id')}"):
            if isinstance(name, str) and name:
                names[name] = index
    groups: list[list[Resource]] = [[p] for _, p in patients]
    for _, res in resources:
        if res["resourceType"] == "Patient":
            continue
        ref = _patient_of(res)
        if ref in names:
            groups[names[ref]].append(res)
    return [PatientRecord.from_resources(g, source=str(path), wanted=wanted) for g in groups]


def _lines(path: Path) -> Iterator[tuple[int, Resource]]:
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        for number, line in enumerate(handle, start=1):
            if not line.strip():
                continue
            try:
                res = orjson.loads(line)
            except orjson.JSONDecodeError:
                raise RecordError(f"{path}: line {number} is not valid JSON") from None
            if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
                raise RecordError(f"{path}: line {number} is not a FHIR resource")
            yield number, res


def _patient_key(res: Resource) -> str | None:
    ref = _patient_of(res)
    if ref is None:
        return None
    return ref.rsplit("/", 1)[-1].removeprefix("urn:uuid:")


_REF = re.compile(rb'"(?:subject|patient)"\s*:\s*\{[^{}]*?"reference"\s*:\s*"([^"]+)"')


def _line_patient(line: bytes) -> str | None:
    match = _REF.search(line)
    if match:
        return match.group(1).decode().rsplit("/", 1)[-1].removeprefix("urn:uuid:")
    try:
        res = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None
    return _patient_key(res) if isinstance(res, dict) else None


def _in_patient_order(path: Path, order: dict[str, int]) -> bool:
    """Does the file list patients in the Patient file's order? (A cheap byte scan.)"""
    last = -1
    try:
        with path.open("rb") as handle:
            for line in handle:
                if not line.strip():
                    continue
                key = _line_patient(line)
                where = order.get(key, -1) if key else -1
                if where == -1:
                    continue
                if where < last:
                    return False
                last = where
    except OSError:
        return True  # reading it again reports the problem
    return True


class _Stream:
    """Resources of one NDJSON file handed out patient by patient.

    A file in patient order is merged as it streams; any other file is grouped in memory
    first, so no resource is ever missed.
    """

    def __init__(self, path: Path, order: dict[str, int]) -> None:
        self.path = path
        self.order = order
        self.pending: Resource | None = None
        self.orphans = 0
        self.grouped: dict[str, list[Resource]] | None = None
        self.iter: Iterator[tuple[int, Resource]] = iter(())
        if _in_patient_order(path, order):
            self.iter = _lines(path)
        else:
            self.grouped = {}
            for _, res in _lines(path):
                if res.get("resourceType") == "Patient":
                    continue  # read with the Patient files
                key = _patient_key(res)
                if key in order:
                    self.grouped.setdefault(key, []).append(res)
                else:
                    self.orphans += 1

    def take(self, pid: str) -> list[Resource]:
        if self.grouped is not None:
            return self.grouped.pop(pid, [])
        out: list[Resource] = []
        position = self.order[pid]
        while True:
            if self.pending is None:
                try:
                    _, self.pending = next(self.iter)
                except StopIteration:
                    return out
            if self.pending.get("resourceType") == "Patient":
                self.pending = None  # read with the Patient files
                continue
            key = _patient_key(self.pending)
            where = self.order.get(key, -1) if key else -1
            if where == -1:
                self.orphans += 1
                self.pending = None
                continue
            if where > position:
                return out
            out.append(self.pending)
            self.pending = None


def ndjson_files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(x for x in p.iterdir() if x.name.endswith(".ndjson")))
        else:
            out.append(p)
    return out


def read_ndjson(files: list[Path], wanted: Wanted = None) -> Iterator[PatientRecord | RecordProblem]:
    """Patients of bulk NDJSON files, streamed in the order of the Patient file(s)."""
    patient_files = [f for f in files if _first_type(f) == "Patient"]
    if not patient_files:  # files that mix types may hold Patients further down
        patient_files = [f for f in files if _has_patient(f)]
    other_files = [f for f in files if f not in patient_files]
    if not patient_files:
        for f in files:
            yield RecordProblem(str(f), "holds no Patient resources (bulk NDJSON needs Patient.ndjson)")
        return
    order: dict[str, int] = {}  # patient id -> position; the Patients themselves are read again below
    mixed: list[Path] = []  # files holding Patients and other resources: read again as streams
    unreadable: set[Path] = set()
    for f in patient_files:
        try:
            for _, res in _lines(f):
                if res.get("resourceType") == "Patient":
                    order[str(res.get("id"))] = len(order)
                elif not mixed or mixed[-1] != f:
                    mixed.append(f)
        except RecordError as exc:
            unreadable.add(f)
            yield RecordProblem(str(f), str(exc))
    streams: list[_Stream] = []
    for f in other_files + mixed:
        streams.append(_Stream(f, order))
    broken: set[Path] = set()
    for source, pat in _patients(patient_files, unreadable):
        pid = str(pat.get("id"))
        facts = Facts(patient_id=pid)
        add(pat, facts, wanted)
        for stream in streams:
            if stream.path in broken:
                continue
            try:
                for res in stream.take(pid):
                    add(res, facts, wanted)
            except RecordError as exc:
                broken.add(stream.path)
                yield RecordProblem(str(stream.path), str(exc))
        if broken:
            facts.notes.append("some NDJSON files could not be read; this record may be incomplete")
        yield PatientRecord(facts, source)
    for stream in streams:
        if stream.orphans:
            yield RecordProblem(
                str(stream.path), f"{stream.orphans} resource(s) refer to no Patient in the Patient file(s)"
            )


def _patients(files: list[Path], unreadable: set[Path]) -> Iterator[tuple[str, Resource]]:
    """The Patient resources, streamed (memory stays flat in the number of patients).

    A file found unreadable in the first pass was reported then; here it yields the Patients
    before the bad line and stops.
    """
    for f in files:
        try:
            for _, res in _lines(f):
                if res.get("resourceType") == "Patient":
                    yield str(f), res
        except RecordError:
            if f not in unreadable:
                raise
            continue


def _first_type(path: Path) -> str | None:
    try:
        with path.open("rb") as handle:
            for line in handle:
                if line.strip():
                    res = orjson.loads(line)
                    return res.get("resourceType") if isinstance(res, dict) else None
    except (OSError, orjson.JSONDecodeError):
        return None
    return None


def _has_patient(path: Path) -> bool:
    """Does any line of the file hold a Patient resource?"""
    try:
        with path.open("rb") as handle:
            for line in handle:
                if b'"Patient"' in line:
                    try:
                        res = orjson.loads(line)
                    except orjson.JSONDecodeError:
                        continue
                    if isinstance(res, dict) and res.get("resourceType") == "Patient":
                        return True
    except OSError:
        return False
    return False


def _looks_like_json(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(64).lstrip()
    except OSError:
        return True  # reading it reports the problem
    return head.startswith(b"{")


def read_records(paths: Iterable[Path], wanted: Wanted = None) -> Iterator[PatientRecord | RecordProblem]:
    """Every patient in the given files and directories; problems are yielded, not raised.

    `.json` files are Bundles (one patient each); `.ndjson` files and directories of them are
    bulk data read together.
    """
    bundles: list[Path] = []
    ndjson: list[Path] = []
    for p in paths:
        if p.is_dir():
            # A directory of records: JSON Bundles and NDJSON; notes such as a README are not records.
            members = sorted(
                x for x in p.iterdir() if x.is_file() and not x.name.startswith(".") and (".json" in x.name or ".ndjson" in x.name)
            )
            found = [x for x in members if x.name.endswith(".ndjson")]
            others = [x for x in members if x not in found]
            ndjson.extend(found)
            for member in others:
                if member.stat().st_size == 0:
                    yield RecordProblem(str(member), "empty file")
                elif _looks_like_json(member):
                    bundles.append(member)
                else:
                    yield RecordProblem(str(member), "not a FHIR JSON file")
            if not members:
                yield RecordProblem(str(p), "directory holds no files")
        elif not p.exists():
            yield RecordProblem(str(p), "no such file")
        elif p.name.endswith(".ndjson"):
            ndjson.append(p)
        else:
            bundles.append(p)
    for path in bundles:
        try:
            yield from read_bundle(path, wanted)
        except RecordError as exc:
            yield RecordProblem(str(path), str(exc).removeprefix(f"{path}: "))
    if ndjson:
        yield from read_ndjson(ndjson, wanted)
