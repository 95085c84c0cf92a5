"""Reading and writing criteria files (YAML or JSON) without loss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson
import yaml
from pydantic import BaseModel, ValidationError

from trialscreen.criteria.criterion import CriteriaSet


class CriteriaFileError(ValueError):
    """A criteria file that cannot be read; the message names the file and the problem."""


def _compact(value: Any) -> Any:
    """Plain data without fields left at their defaults (the `kind` tag is always kept)."""
    if isinstance(value, BaseModel):
        fields = type(value).model_fields
        out: dict[str, Any] = {"kind": getattr(value, "kind")} if "kind" in fields else {}  # noqa: B009
        for name, field in fields.items():
            if name == "kind":
                continue
            item = getattr(value, name)
            if not field.is_required() and item == field.get_default(
                call_default_factory=True
            ):
                continue
            out[name] = _compact(item)
        return out
    if isinstance(value, tuple | list):
        return [_compact(v) for v in value]
    if isinstance(value, dict):
        return {k: _compact(v) for k, v in value.items()}
    return value


def to_data(criteria: CriteriaSet) -> dict[str, Any]:
    """Plain data holding only what someone decided, so a reviewed file stays readable."""
    data: dict[str, Any] = _compact(criteria)
    return data


def from_data(data: Any, *, name: str = "criteria") -> CriteriaSet:
    try:
        return CriteriaSet.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"])
        raise CriteriaFileError(
            f"{name}: {first['msg']} at {where or 'top level'} ({exc.error_count()} problem(s))"
        ) from None


_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class _Dumper(yaml.SafeDumper):
    """Readable Unicode, but characters YAML reads as line breaks are written escaped."""


def _str(dumper: yaml.SafeDumper, value: str) -> yaml.ScalarNode:
    if any(ch in value for ch in "\x85\u2028\u2029\ufeff") or any(
        (ord(ch) < 32 and ch not in "\n\t") or 0x7F <= ord(ch) <= 0x9F for ch in value
    ):
        return dumper.represent_scalar("tag:yaml.org,2002:str", value, style='"')
    return dumper.represent_str(value)


_Dumper.add_representer(str, _str)


def dumps_yaml(criteria: CriteriaSet) -> str:
    return yaml.dump(to_data(criteria), Dumper=_Dumper, sort_keys=False, allow_unicode=True, width=100)


def dumps_json(criteria: CriteriaSet) -> bytes:
    return orjson.dumps(to_data(criteria), option=orjson.OPT_INDENT_2)


def load(path: Path) -> CriteriaSet:
    """Read a `.yaml`/`.yml` or `.json` criteria file."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise CriteriaFileError(f"{path}: cannot read ({exc.strerror})") from None
    try:
        if path.suffix.lower() == ".json":
            data = orjson.loads(raw)
        else:
            data = yaml.load(raw, Loader=_Loader)  # noqa: S506 - a safe loader, in C where libyaml is
    except (orjson.JSONDecodeError, yaml.YAMLError) as exc:
        raise CriteriaFileError(f"{path}: not valid {path.suffix.lstrip('.') or 'YAML'} ({exc})") from None
    if not isinstance(data, dict):
        raise CriteriaFileError(f"{path}: expected a mapping with `trial` and `criteria`")
    return from_data(data, name=str(path))


def save(criteria: CriteriaSet, path: Path) -> None:
    """Write atomically, so an interrupted write never leaves half a file."""
    payload = dumps_json(criteria) if path.suffix.lower() == ".json" else dumps_yaml(criteria).encode()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(payload)
    tmp.replace(path)
