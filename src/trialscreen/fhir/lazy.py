"""Bulk NDJSON read lazily: each patient's lines of a file found by one pass, decoded when used.

Screening many patients mostly settles on few facts (most patients have no relapsed AML, so
their results are never needed). One pass over a file of one resource type decodes only the
fields naming each line's patient, which also checks that every line is JSON and a resource of
that type: the only things that make a line unreadable. The pass keeps, per run of lines of
one patient, where the run lies in the file. Taking a patient leaves its runs to
`Facts.defer`: they are read back from the file and decoded, exactly as reading at once
decodes them, only when that kind of fact is first used. A file in any order works the same
way: only the index is sorted, never the resources held.

A file this cannot index (several resource types, blank lines, a line that is not JSON or not
of the file's type) returns None from `IndexedStream.build`, and `ndjson.Stream` reads it at
once, with its messages.
"""

from __future__ import annotations

import os
from array import array
from collections.abc import Callable
from functools import cache, partial
from itertools import groupby
from pathlib import Path
from typing import Any

import msgspec
import orjson

from trialscreen.fhir.blocks import blocks, key_of, references
from trialscreen.fhir.facts import Coding, Facts
from trialscreen.fhir.normalise import add
from trialscreen.fhir.record import RecordError
from trialscreen.fhir.typed import ADDERS, DECODER, PREFIXES, TYPED, NoResourceType, _Ref, decode_line

Resource = dict[str, Any]
Wanted = Callable[[Coding], bool] | None

KINDS: dict[str, str | None] = {
    "Condition": "conditions",
    "Observation": "observations",
    "Procedure": "procedures",
    "MedicationRequest": "medications",
    "MedicationStatement": "medications",
    "Immunization": "immunizations",
    "AllergyIntolerance": "allergies",
    "Consent": "consents",
    "QuestionnaireResponse": "answers",
}
"""The kind of facts (`facts.DEFERRABLE`) each resource type read by `normalise.add` adds to.
Any other type adds nothing, so its lines are checked and never read back."""

_NOT_INDEXED = frozenset({"Patient", "Medication"})
"""Read whole elsewhere: Patients fix the order of patients, Medications are looked up by id."""


@cache
def _subjects_decoder(resource_type: str) -> tuple[msgspec.json.Decoder[Any], type]:
    """A decoder of the patient fields of lines that must be of `resource_type`."""
    struct = msgspec.defstruct(
        f"{resource_type}Subjects",
        [("subject", _Ref, None), ("patient", _Ref, None), ("beneficiary", _Ref, None), ("source", _Ref, None)],
        tag_field="resourceType",
        tag=resource_type,
        gc=False,
    )
    return msgspec.json.Decoder(struct | NoResourceType), struct


class IndexedStream:
    """One NDJSON file of one resource type, handed out patient by patient as undecoded runs."""

    def __init__(self, path: Path, resource_type: str, positions: array[int], offsets: array[int], sizes: array[int], orphans: int) -> None:
        self.path = path
        self.kind = KINDS.get(resource_type)
        self.positions, self.offsets, self.sizes = positions, offsets, sizes
        self.orphans = orphans
        self.broken = False
        self.cursor = 0
        self.closed = False
        self._fd: int | None = None

    @classmethod
    def build(cls, path: Path, order: dict[str, int], resource_type: str | None) -> IndexedStream | None:
        """Index the file in one pass, or None when it must be read at once (see the module)."""
        if not path.is_file():
            return None  # a pipe cannot be read back
        if not isinstance(resource_type, str) or not resource_type or resource_type in _NOT_INDEXED:
            return None
        decoder, struct = _subjects_decoder(resource_type)
        # 16 bytes a run (the index is what grows with the patients): positions and sizes in 32 bits
        positions, offsets, sizes = array("i"), array("q"), array("I")
        orphans = 0
        offset = 0
        try:
            for block in blocks(path):
                if not block.isascii():
                    try:
                        block.decode()  # msgspec does not check the bytes of fields it skips
                    except UnicodeDecodeError:
                        return None
                try:
                    found = decoder.decode_lines(block)
                except msgspec.MsgspecError:
                    return None
                raw = block.split(b"\n")
                if not raw[-1]:
                    raw.pop()
                if len(raw) != len(found) or (found and set(map(type, found)) != {struct}):
                    return None  # blank lines, or a line of no resource type
                line = start = 0
                for ref, same in groupby(references(found)):
                    count = len(list(same))
                    size = sum(map(len, raw[line : line + count])) + count
                    where = order.get(key_of(ref) or "", -1) if ref else -1
                    if where == -1:
                        orphans += count
                    elif size + (sizes[-1] if positions else 0) >= 1 << 32 or where >= 1 << 31:
                        return None  # beyond the index's fields: read at once
                    elif positions and positions[-1] == where and offsets[-1] + sizes[-1] == offset + start:
                        sizes[-1] += size  # the same patient's run goes on in the next block
                    else:
                        positions.append(where)
                        offsets.append(offset + start)
                        sizes.append(size)
                    line += count
                    start += size
                offset += len(block)
        except RecordError:
            return None  # reading it at once reports the problem
        if any(positions[i] > positions[i + 1] for i in range(len(positions) - 1)):
            ranked = sorted(range(len(positions)), key=positions.__getitem__)  # stable: file order per patient
            positions = array("i", (positions[i] for i in ranked))
            offsets = array("q", (offsets[i] for i in ranked))
            sizes = array("I", (sizes[i] for i in ranked))
        return cls(path, resource_type, positions, offsets, sizes, orphans)

    def take(self, pid: str, order: dict[str, int]) -> list[int]:
        """The runs of lines of this patient (the next in order); [] for a type no fact reads."""
        position = order[pid]
        positions = self.positions
        end = len(positions)
        cursor = self.cursor
        runs: list[int] = []
        while cursor < end and positions[cursor] <= position:
            if positions[cursor] == position and self.kind is not None:
                runs.append(cursor)
            cursor += 1
        self.cursor = cursor
        return runs

    def read(self, run: int) -> bytes:
        """The lines of a run, read back from the file."""
        size, offset = self.sizes[run], self.offsets[run]
        try:
            if self._fd is not None:
                return os.pread(self._fd, size, offset)
            fd = os.open(self.path, os.O_RDONLY)
            if not self.closed:
                self._fd = fd
                return os.pread(fd, size, offset)
            try:  # read after the stream ended: open for this run only
                return os.pread(fd, size, offset)
            finally:
                os.close(fd)
        except OSError as exc:
            raise RecordError(f"{self.path}: cannot read ({exc.strerror})") from None

    def close(self) -> None:
        """Let the file go (a run still deferred opens it again, for itself, when read)."""
        self.closed = True
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None

    def defer(self, runs: list[int], facts: Facts, wanted: Wanted, medications: dict[str, Resource]) -> None:
        """Leave each run to be read and decoded when the facts of this file's kind are first used."""
        assert self.kind is not None or not runs
        for run in runs:
            facts.defer(self.kind or "", partial(_read_later, self, run, wanted, medications))


def _read_later(stream: IndexedStream, run: int, wanted: Wanted, medications: dict[str, Resource], facts: Facts) -> None:
    try:
        lines = stream.read(run)
    except RecordError as exc:  # the file went away after it was indexed
        facts.noted.append(f"{exc}; some resources of this patient are not used")
        return
    if len(lines) < stream.sizes[run] - 1:
        facts.noted.append(f"{stream.path}: the file changed while it was read; some resources of this patient are not used")
        return
    read_run(lines, wanted, medications, facts)


def read_run(lines: bytes, wanted: Wanted, medications: dict[str, Resource], facts: Facts) -> None:
    """Add a run of lines (checked when indexed) as `ndjson.Stream` adds them when reading at once."""
    if lines.startswith(PREFIXES):
        try:
            found = DECODER.decode_lines(lines)
        except msgspec.MsgspecError:
            found = None
        if found is not None and set(map(type, found)).issubset(TYPED):
            for item in found:
                ADDERS[type(item)](item, facts, wanted)
            return
    for line in lines.split(b"\n"):
        if not line.strip():
            continue
        typed = decode_line(line)
        if typed is not None:
            ADDERS[type(typed)](typed, facts, wanted)
            continue
        try:
            res = orjson.loads(line)
        except orjson.JSONDecodeError:  # not expected: the line was decoded when indexed
            facts.noted.append("a line of a bulk file could not be read again; it is not used")
            continue
        add(res, facts, wanted, medications)
