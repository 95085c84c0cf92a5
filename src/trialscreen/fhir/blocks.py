"""Reading bulk NDJSON files in blocks of whole lines, and naming the patient of each line."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from operator import attrgetter
from pathlib import Path
from typing import Any

from msgspec import Struct

from trialscreen.fhir.record import RecordError
from trialscreen.fhir.typed import Subjects, Typed, _Reference, patient_reference

BLOCK = 1 << 16
"""Bytes read at a time: small enough that a block's resources are still in the CPU cache when used."""
_SUBJECT = attrgetter("subject")
_REFERENCE = attrgetter("reference")

def key_of(reference: str | None) -> str | None:
    """The patient id a reference names: "Patient/1", "urn:uuid:1" and "1" all name "1"."""
    if reference is None:
        return None
    return reference.rsplit("/", 1)[-1].removeprefix("urn:uuid:")


def blocks(path: Path) -> Iterator[bytes]:
    """The file in blocks of whole lines (each ends with a newline but perhaps the file's last).

    Read unbuffered; a block ends at its last newline and the next read starts right after it,
    so each byte is copied once. (Not mapped: mapped pages would count as the process's memory.)
    """
    try:
        handle = path.open("rb", buffering=0)
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror})") from None
    with handle:
        if not handle.seekable():  # a pipe: carry the partial last line over instead
            yield from _carried_blocks(path, handle)
            return
        size = BLOCK
        while True:
            try:
                block = handle.read(size)
            except OSError as exc:
                raise RecordError(f"{path}: cannot read ({exc.strerror})") from None
            if not block:
                return
            cut = block.rfind(b"\n") + 1
            if cut == 0 and len(block) == size:  # a line longer than a block: read more at once
                handle.seek(-len(block), 1)
                size *= 2
                continue
            if cut and cut < len(block):
                handle.seek(cut - len(block), 1)
                block = block[:cut]
            yield block
            size = BLOCK


def _carried_blocks(path: Path, handle: Any) -> Iterator[bytes]:
    rest = b""
    while True:
        try:
            block = handle.read(BLOCK)
        except OSError as exc:
            raise RecordError(f"{path}: cannot read ({exc.strerror})") from None
        if not block:
            break
        block = rest + block
        cut = block.rfind(b"\n") + 1
        rest = block[cut:]
        if cut:
            yield block[:cut]
    if rest:
        yield rest


def references(found: Sequence[Typed | Subjects | Struct]) -> list[str | None]:
    """The patient reference of each decoded line (in C when every line has a plain subject)."""
    subjects = list(map(_SUBJECT, found))
    if set(map(type, subjects)) == {_Reference}:
        refs: list[str | None] = list(map(_REFERENCE, subjects))
        if None not in refs and "" not in refs:
            return refs
    return [patient_reference(s) for s in found]  # type: ignore[arg-type]


