"""Reading patient records: FHIR R4 Bundles and bulk-data NDJSON.

A Bundle file (collection, transaction, searchset, document) holds one patient. NDJSON holds
resources of many patients in files by resource type; when those files list patients in the
same order (as bulk exports and our generator write them), patients stream one at a time with
flat memory; otherwise a file is grouped in memory. A file that cannot be read is reported
as a `RecordProblem` naming it, and the other files go on.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from trialscreen.fhir.ndjson import ndjson_files, patient_of, read_ndjson
from trialscreen.fhir.record import PatientRecord, RecordError, RecordProblem, Resource, Wanted

__all__ = ["PatientRecord", "RecordError", "RecordProblem", "ndjson_files", "read_bundle", "read_ndjson", "read_records"]


def _load_json(path: Path) -> Any:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RecordError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise RecordError(f"{path}: not valid JSON ({exc})") from None


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
        ref = patient_of(res)
        if ref in names:
            groups[names[ref]].append(res)
    return [PatientRecord.from_resources(g, source=str(path), wanted=wanted) for g in groups]


def _looks_like_json(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(64).lstrip()
    except OSError:
        return True  # reading it reports the problem
    return head.startswith(b"{")


def read_records(paths: Iterable[Path], wanted: Wanted = None, *, lazy: bool = False) -> Iterator[PatientRecord | RecordProblem]:
    """Every patient in the given files and directories; problems are yielded, not raised.

    `.json` files are Bundles (one patient each); `.ndjson` files and directories of them are
    bulk data read together (`lazy`: see `read_ndjson`).
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
        yield from read_ndjson(ndjson, wanted, lazy=lazy)
