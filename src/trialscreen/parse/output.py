"""Writing a parsed criteria file so that a person's review is never lost in silence.

The file beside it, `<name>.knowledge/`, holds the value sets and analytes the parsed
criteria name that the built-in knowledge lacks, in the knowledge directory format, so an
engine loads them with `Knowledge(dirs=(DATA_DIR, sidecar))`.

Rules when the criteria file exists: criteria a person marked `origin: reviewed` are kept as
they are; if the result still differs from the file, the new parse goes to `<file>.new`
unless `force` is given (then the file is replaced, reviewed criteria still kept).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import yaml

from trialscreen.criteria.criterion import CriteriaSet
from trialscreen.criteria.files import CriteriaFileError, dumps_json, dumps_yaml, load
from trialscreen.knowledge import DATA_DIR, sidecar_dir
from trialscreen.parse.build import ParsedCriteria

PARSE_KNOWLEDGE = Path(__file__).parent / "data" / "knowledge"

Outcome = Literal["written", "unchanged", "new", "replaced"]


@dataclass(frozen=True, slots=True)
class WriteResult:
    outcome: Outcome
    path: Path
    """Where the criteria went (the `.new` file when the original was kept)."""
    knowledge_dir: Path | None
    kept_reviewed: tuple[str, ...] = ()


def knowledge_dir_for(path: Path) -> Path:
    """`criteria.yaml` -> `criteria.knowledge/` (the knowledge package's own convention)."""
    return sidecar_dir(path)


def knowledge_dirs_for(path: Path) -> tuple[Path, ...]:
    """The knowledge directories an engine loads for a parsed criteria file."""
    side = knowledge_dir_for(path)
    return (DATA_DIR, side) if side.is_dir() else (DATA_DIR,)


def _payload(criteria: CriteriaSet, path: Path) -> bytes:
    return dumps_json(criteria) if path.suffix.lower() == ".json" else dumps_yaml(criteria).encode()


def _atomic(path: Path, payload: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(payload)
    tmp.replace(path)


@lru_cache(maxsize=4)
def _own(name: str) -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((PARSE_KNOWLEDGE / name).read_text(encoding="utf-8"))
    return data


def sidecar_data(parsed: ParsedCriteria) -> dict[str, dict[str, Any]]:
    """Files of the sidecar knowledge directory: only what the built-in knowledge lacks."""
    from trialscreen.knowledge import knowledge

    builtin = knowledge()
    own_analytes = _own("analytes.yaml")
    analytes = {
        name: own_analytes[name]
        for name in sorted(parsed.analytes)
        if name not in builtin.analytes and name in own_analytes
    }
    valuesets = {name: vs for name, vs in sorted(parsed.valuesets.items()) if name not in builtin.valuesets}
    files: dict[str, dict[str, Any]] = {}
    if valuesets:
        files["valuesets.yaml"] = valuesets
    if analytes:
        files["analytes.yaml"] = analytes
        systems = {c["system"] for a in analytes.values() for c in a["codes"]} - set(builtin.systems)
        if systems:
            own_systems = _own("systems.yaml")
            files["systems.yaml"] = {s: own_systems[s] for s in sorted(systems)}
    return files


def _write_sidecar(parsed: ParsedCriteria, path: Path) -> Path | None:
    files = sidecar_data(parsed)
    if not files:
        return None
    side = knowledge_dir_for(path)
    side.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        text = "# Written by `trialscreen parse`: knowledge the criteria file names beyond the built-in.\n"
        _atomic(side / name, (text + yaml.safe_dump(data, sort_keys=False, allow_unicode=True)).encode())
    return side


def merge_reviewed(existing: CriteriaSet, fresh: CriteriaSet) -> tuple[CriteriaSet, tuple[str, ...]]:
    """The fresh parse with every criterion a person marked `reviewed` put back in its place."""
    reviewed = {c.id: c for c in existing.criteria if c.origin == "reviewed"}
    if not reviewed:
        return fresh, ()
    merged = [reviewed.pop(c.id, c) for c in fresh.criteria]
    merged.extend(reviewed.values())  # reviewed criteria the new parse does not have
    definitions = {**fresh.definitions, **existing.definitions}
    kept = tuple(c.id for c in existing.criteria if c.origin == "reviewed")
    return fresh.model_copy(update={"criteria": tuple(merged), "definitions": definitions}), kept


def write_parsed(parsed: ParsedCriteria, path: Path, *, force: bool = False) -> WriteResult:
    """Write `parsed` to `path` under the no-silent-overwrite rules (see the module docstring)."""
    criteria = parsed.criteria
    kept: tuple[str, ...] = ()
    if path.exists():
        try:
            existing = load(path)
        except CriteriaFileError:
            if not force:
                raise
            existing = None
        if existing is not None:
            criteria, kept = merge_reviewed(existing, criteria)
            if _payload(criteria, path) == _payload(existing, path):
                return WriteResult("unchanged", path, knowledge_dir_for(path) if knowledge_dir_for(path).is_dir() else None, kept)
        if not force:
            target = path.with_name(path.name + ".new")
            _atomic(target, _payload(criteria, path))
            return WriteResult("new", target, None, kept)
        side = _write_sidecar(parsed, path)
        _atomic(path, _payload(criteria, path))
        return WriteResult("replaced", path, side, kept)
    path.parent.mkdir(parents=True, exist_ok=True)
    side = _write_sidecar(parsed, path)
    _atomic(path, _payload(criteria, path))
    return WriteResult("written", path, side, kept)
