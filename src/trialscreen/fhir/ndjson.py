"""Bulk-data NDJSON: resources of many patients in files by type, streamed patient by patient.

The Patient file(s) fix the order of patients. A file that lists patients in that order (as
bulk exports and `trialscreen.synth` write them) is merged as it streams, so memory stays flat
in the number of patients; any other file is grouped in memory first, so no resource is ever
missed. Which case holds is decided before the first patient is handed out, by a pass that
decodes only the fields naming each line's patient (`typed.Subjects`).

Files are read in blocks of lines. Observation lines go through the typed path (`typed`), every
other line through orjson and `normalise`; a line the typed path rejects goes through the
general one, so both read a line the same way. A line that cannot be read stops its file: the
problem names the file and the line, the records it would have completed carry a note.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from itertools import groupby
from pathlib import Path
from typing import Any, cast

import msgspec
import orjson

from trialscreen.fhir.blocks import blocks, key_of, references
from trialscreen.fhir.facts import Coding, Facts
from trialscreen.fhir.lazy import IndexedStream
from trialscreen.fhir.normalise import add
from trialscreen.fhir.record import PatientRecord, RecordError, RecordProblem
from trialscreen.fhir.typed import (
    ADDERS,
    DECODER,
    PREFIXES,
    SUBJECTS,
    TYPED,
    Subjects,
    Typed,
    decode_line,
    patient_reference,
    subjects_of_line,
)

Resource = dict[str, Any]
Wanted = Callable[[Coding], bool] | None
Item = Typed | Resource
"""One resource read from a line: typed (`typed.TYPED`) or, for every other kind, a dict."""

_SUBJECT_FIELDS = ("subject", "patient", "beneficiary", "source")
INCOMPLETE = "some NDJSON files could not be read; this record may be incomplete"


def _ref_id(reference: Any) -> str | None:
    if isinstance(reference, dict):
        reference = reference.get("reference")
    if not isinstance(reference, str):
        return None
    return reference


def patient_of(res: Resource) -> str | None:
    """The reference to the resource's patient (the first of subject, patient, beneficiary, source)."""
    for name in _SUBJECT_FIELDS:
        ref = _ref_id(res.get(name))
        if ref:
            return ref
    return None


def _newlines_before(path: Path, offset: int) -> int:
    """How many lines the file has before byte `offset` (for naming a bad line)."""
    with path.open("rb") as handle:
        return handle.read(offset).count(b"\n")


def numbered_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, line) of every line that is not blank."""
    number = 0
    for block in blocks(path):
        lines = block.split(b"\n")
        if not lines[-1]:
            lines.pop()
        for line in lines:
            number += 1
            if line.strip():
                yield number, line


def load_line(line: bytes, path: Path, number: int) -> Resource:
    """One line as a resource dict; RecordError naming the file and line otherwise."""
    try:
        res = orjson.loads(line)
    except orjson.JSONDecodeError:
        raise RecordError(f"{path}: line {number} is not valid JSON") from None
    if not isinstance(res, dict) or not isinstance(res.get("resourceType"), str):
        raise RecordError(f"{path}: line {number} is not a FHIR resource")
    return res


def lines(path: Path) -> Iterator[tuple[int, Resource]]:
    """Every resource of the file as a dict, with its line number."""
    for number, line in numbered_lines(path):
        yield number, load_line(line, path, number)


def read_line(line: bytes, path: Path, number: int, typed: bool = True) -> tuple[str | None, Item]:
    """(patient reference, resource) of one line: typed when it can be, a dict otherwise."""
    found = decode_line(line) if typed else None
    if found is not None:
        return patient_reference(found), found
    res = load_line(line, path, number)
    return patient_of(res), res


def _block_references(block: bytes) -> list[str | None] | None:
    """The patient reference of every line of a block, decoded in one call; None if it cannot be."""
    if not block.isascii():
        return None  # msgspec skips bytes unchecked; such lines are read one by one
    try:
        found: list[Subjects] = SUBJECTS.decode_lines(block)
    except msgspec.MsgspecError:
        return None
    return references(found)


def _line_reference(line: bytes) -> str | None:
    subjects = subjects_of_line(line)
    if subjects is not None:
        return patient_reference(subjects)
    try:
        res = orjson.loads(line)
    except orjson.JSONDecodeError:
        return None  # reading the file reports it
    return patient_of(res) if isinstance(res, dict) else None


def in_patient_order(path: Path, order: dict[str, int]) -> bool:
    """Does every line name a patient at or after the previous line's patient in `order`?

    Lines of no known patient do not count (they are reported as orphans when read).
    """
    last = -1
    try:
        for block in blocks(path):
            refs = _block_references(block)
            if refs is None:
                refs = [_line_reference(line) for line in block.split(b"\n") if line.strip()]
            for ref, _ in groupby(refs):
                where = order.get(key_of(ref) or "", -1) if ref else -1
                if where == -1:
                    continue
                if where < last:
                    return False
                last = where
    except RecordError:
        return True  # reading it again reports the problem
    return True


class Stream:
    """Resources of one NDJSON file handed out patient by patient.

    A file in patient order is parsed a block at a time as patients are taken; any other file
    is grouped in memory first. A line that cannot be read is raised (as RecordError) when the
    patient it would belong to is taken; resources before it are handed out as usual.
    """

    def __init__(self, path: Path, order: dict[str, int], typed: bool = True) -> None:
        self.path = path
        self.order = order
        self.typed = typed
        self.orphans = 0
        self.broken = False
        self.error: RecordError | None = None
        self.items: list[Item] = []
        self.runs: list[tuple[int, int, int]] = []
        """(patient position, start, end) of each run of `items` that belongs to one patient."""
        self.run = 0
        self.grouped: dict[int, list[Item]] | None = None
        self._blocks = blocks(path)
        self._offset = 0
        self._lines: int | None = 0
        """Lines before the next block; None once a block was decoded whole (counted again if needed)."""
        if not in_patient_order(path, order):
            grouped: dict[int, list[Item]] = {}
            try:
                while self._parse_next():
                    for where, start, end in self.runs:
                        grouped.setdefault(where, []).extend(self.items[start:end])
            except RecordError:
                pass  # raised for the first patient taken, as for a stream
            self.grouped, self.items, self.runs = grouped, [], []

    def _parse_next(self) -> bool:
        """Parse the next block into `items` and `runs`; False at the end.

        A bad line ends the block there and is kept in `error`, raised on the next call.
        """
        if self.error is not None:
            raise self.error
        try:
            block = next(self._blocks)
        except StopIteration:
            return False
        except RecordError as exc:
            self.error = exc
            raise
        offset, first = self._offset, self._lines
        self._offset += len(block)
        items: list[Item] | None = None
        if self.typed and block.startswith(PREFIXES) and block.isascii():
            try:
                found = DECODER.decode_lines(block)
            except msgspec.MsgspecError:
                found = None
            if found is not None and set(map(type, found)).issubset(TYPED):
                items = cast("list[Item]", found)
                self._lines = None
        if items is not None:
            refs = references(items)  # type: ignore[arg-type]
        else:
            items, refs = self._read_lines(block, first, offset)
        self.items, self.runs, self.run = items, [], 0
        start = 0
        order = self.order
        for ref, same in groupby(refs):
            end = start + len(list(same))
            where = order.get(key_of(ref) or "", -1) if ref else -1
            if where == -1:
                self.orphans += end - start
            else:
                self.runs.append((where, start, end))
            start = end
        return True

    def _read_lines(self, block: bytes, first: int | None, offset: int) -> tuple[list[Item], list[str | None]]:
        """Line by line: typed where it can be, else a dict; stops at a bad line (kept in `error`)."""
        items: list[Item] = []
        refs: list[str | None] = []
        raw = block.split(b"\n")
        if not raw[-1]:
            raw.pop()
        if first is not None:
            self._lines = first + len(raw)
        for index, line in enumerate(raw):
            if not line.strip():
                continue
            try:
                ref, item = read_line(line, self.path, index + 1 + (first or 0), self.typed)
            except RecordError as exc:
                self.error = exc
                if first is None:  # the same error, naming the line by its number in the file
                    try:
                        load_line(line, self.path, _newlines_before(self.path, offset) + index + 1)
                    except RecordError as named:
                        self.error = named
                break
            if type(item) is dict and item.get("resourceType") == "Patient":
                continue  # read with the Patient files
            items.append(item)
            refs.append(ref)
        return items, refs

    def take(self, pid: str) -> list[Item]:
        """The resources of this patient (the next in order); RecordError if a line on the way is bad."""
        position = self.order[pid]
        if self.grouped is not None:
            if self.error is not None:
                raise self.error
            return self.grouped.pop(position, [])
        out: list[Item] = []
        while True:
            if self.run == len(self.runs):
                if not self._parse_next():
                    return out
                continue
            where, start, end = self.runs[self.run]
            if where > position:
                return out
            out += self.items[start:end]
            self.run += 1


def ndjson_files(paths: Iterable[Path]) -> list[Path]:
    out: list[Path] = []
    for p in paths:
        if p.is_dir():
            out.extend(sorted(x for x in p.iterdir() if x.name.endswith(".ndjson")))
        else:
            out.append(p)
    return out


def read_ndjson(
    files: list[Path], wanted: Wanted = None, typed: bool = True, lazy: bool = False
) -> Iterator[PatientRecord | RecordProblem]:
    """Patients of bulk NDJSON files, streamed in the order of the Patient file(s).

    `typed=False` reads every line through the general path: the reference that the typed
    path is tested against. `lazy` indexes each file of one resource type in one pass and
    leaves each patient's lines undecoded until that kind of fact is first used
    (`lazy.IndexedStream`, `Facts.defer`): the facts, notes and problems are the same.
    """
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
            for number, res in lines(f):
                if res.get("resourceType") == "Patient":
                    pid = str(res.get("id"))
                    if pid in order:  # whose lines would be whose? the first entry is the patient
                        yield RecordProblem(str(f), f"line {number}: Patient/{pid} appears more than once; its first entry is used")
                        continue
                    order[pid] = len(order)
                elif not mixed or mixed[-1] != f:
                    mixed.append(f)
        except RecordError as exc:
            unreadable.add(f)
            yield RecordProblem(str(f), str(exc))
    medications: dict[str, Resource] = {}
    broken = False
    for f in [f for f in other_files if _first_type(f) == "Medication"]:
        try:
            only_medications = _read_medications(f, medications)
        except RecordError as exc:
            broken = True
            yield RecordProblem(str(f), str(exc))
            only_medications = True
        if only_medications:
            other_files.remove(f)
    streams: list[Stream | IndexedStream] = []
    for f in other_files + mixed:
        indexed = IndexedStream.build(f, order, _first_type(f)) if lazy and typed and f not in mixed else None
        streams.append(indexed if indexed is not None else Stream(f, order, typed))
    try:
        taken = 0
        for source, pat in _patients(patient_files, unreadable):
            pid = str(pat.get("id"))
            if order.get(pid) != taken:
                continue  # a repeated Patient entry, reported above
            taken += 1
            facts = Facts(patient_id=pid)
            add(pat, facts, wanted)
            for stream in streams:
                if stream.broken:
                    continue
                try:
                    if isinstance(stream, IndexedStream):
                        stream.defer(stream.take(pid, order), facts, wanted, medications)
                        continue
                    items = stream.take(pid)
                except RecordError as exc:
                    stream.broken = broken = True
                    yield RecordProblem(str(stream.path), str(exc))
                    continue
                for item in items:
                    adder = ADDERS.get(type(item))
                    if adder is not None:
                        adder(item, facts, wanted)
                    else:
                        add(item, facts, wanted, medications)  # type: ignore[arg-type]
            if broken:
                facts.noted.append(INCOMPLETE)
            yield PatientRecord(facts, source)
    finally:
        for stream in streams:
            if isinstance(stream, IndexedStream):
                stream.close()
    for stream in streams:
        if stream.orphans:
            yield RecordProblem(
                str(stream.path), f"{stream.orphans} resource(s) refer to no Patient in the Patient file(s)"
            )


def _read_medications(path: Path, into: dict[str, Resource]) -> bool:
    """Medication resources, which name no patient, kept by reference for `medicationReference`.

    True if the file holds nothing else (else it is also read as a stream of patients' resources).
    """
    only = True
    for _, res in lines(path):
        if res.get("resourceType") == "Medication":
            into[f"Medication/{res.get('id')}"] = res
        else:
            only = False
    return only


def _patients(files: list[Path], unreadable: set[Path]) -> Iterator[tuple[str, Resource]]:
    """The Patient resources, streamed (memory stays flat in the number of patients).

    A file found unreadable in the first pass was reported then; here it yields the Patients
    before the bad line and stops.
    """
    for f in files:
        try:
            for _, res in lines(f):
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
                    kind = res.get("resourceType") if isinstance(res, dict) else None
                    return kind if isinstance(kind, str) else None
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
