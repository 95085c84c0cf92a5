"""Read ClinicalTrials.gov API v2 JSON files into :class:`Trial` objects.

Accepts the three shapes the API and its bulk download produce: one study object, an array
of studies, and a search page ``{"studies": [...], "nextPageToken": ...}``; or a directory of
such files. Every failure becomes a TrialRecordError naming the file and the problem.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import orjson
from pydantic import ValidationError

from trialscreen.trials.errors import TrialRecordError
from trialscreen.trials.model import Trial

#: Keys that mark a JSON object as one study rather than a page or something else.
STUDY_KEY = "protocolSection"
PAGE_KEY = "studies"


def load_trials(path: Path | str) -> list[Trial]:
    """Load every study in a JSON file, or in all ``*.json`` files under a directory.

    Files in a directory are read in sorted path order, recursively, so results are stable.
    """
    path = Path(path)
    if path.is_dir():
        files = sorted(p for p in path.rglob("*.json") if p.is_file())
        return [trial for file in files for trial in _load_file(file)]
    return _load_file(path)


def trials_from_json(data: Any, source: str) -> list[Trial]:
    """Turn already parsed JSON (any accepted shape) into trials; `source` names it in errors."""
    if isinstance(data, list):
        return [_study(item, source, f"[{index}]") for index, item in enumerate(data)]
    if not isinstance(data, Mapping):
        raise TrialRecordError(
            source, f"expected a JSON object or array of studies, found {_json_type(data)}"
        )
    if STUDY_KEY in data:
        return [_study(data, source, "")]
    if PAGE_KEY in data:
        studies = data[PAGE_KEY]
        if not isinstance(studies, list):
            raise TrialRecordError(
                source, f"expected an array of studies, found {_json_type(studies)}", PAGE_KEY
            )
        return [_study(item, source, f"{PAGE_KEY}[{index}]") for index, item in enumerate(studies)]
    keys = ", ".join(sorted(map(str, data))) or "none"
    raise TrialRecordError(
        source,
        "not a ClinicalTrials.gov study, array of studies or search page "
        f"(no '{STUDY_KEY}' or '{PAGE_KEY}' key; top-level keys: {keys})",
    )


def _load_file(path: Path) -> list[Trial]:
    source = str(path)
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        raise TrialRecordError(source, "no such file") from None
    except OSError as error:
        raise TrialRecordError(source, f"cannot read file ({error.strerror})") from None
    if not content.strip():
        raise TrialRecordError(source, "file is empty")
    try:
        data = orjson.loads(content)
    except orjson.JSONDecodeError as error:
        raise TrialRecordError(source, f"not valid JSON ({error})") from None
    return trials_from_json(data, source)


def _study(item: Any, source: str, where: str) -> Trial:
    if not isinstance(item, Mapping):
        raise TrialRecordError(source, f"expected a study object, found {_json_type(item)}", where)
    if STUDY_KEY not in item:
        raise TrialRecordError(source, f"not a study (no '{STUDY_KEY}' key)", where or None)
    try:
        return Trial.from_api(dict(item))
    except ValidationError as error:
        raise TrialRecordError(source, _describe(error), _label(where, item)) from None


def _label(where: str, item: Mapping[str, Any]) -> str | None:
    """Position of a study in its file plus its NCT id when readable, to find it quickly."""
    try:
        nct_id = item[STUDY_KEY]["identificationModule"]["nctId"]
    except (KeyError, TypeError):
        nct_id = None
    if not isinstance(nct_id, str):
        return where or None
    return f"{where} ({nct_id})" if where else nct_id


def _describe(error: ValidationError) -> str:
    """One line per wrong field, as dotted JSON paths with the offending value's type."""
    problems = [
        f"{_dotted(problem['loc'])}: {_explain(problem)}"
        for problem in error.errors(include_url=False)
    ]
    return "; ".join(problems)


def _explain(problem: Mapping[str, Any]) -> str:
    if problem["type"] == "missing":
        return "required field is missing"
    if problem["type"] == "value_error":  # our own validators already quote the value
        return str(problem["msg"]).removeprefix("Value error, ")
    return f"{problem['msg']} (found {_json_type(problem.get('input'))})"


def _dotted(loc: Iterable[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def _json_type(value: Any) -> str:
    """Name a Python value by its JSON type, for messages about JSON input."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return f"boolean {str(value).lower()}"
    if isinstance(value, int | float):
        return f"number {value}"
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"string {shown!r}"
    if isinstance(value, list):
        return "array"
    if isinstance(value, Mapping):
        return "object"
    return type(value).__name__
