"""The trials trialscreen knows: the built-in records, plus any files a user points at."""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from importlib import resources
from pathlib import Path

import orjson

from trialscreen.trials.errors import UnknownTrialError
from trialscreen.trials.loader import load_trials, trials_from_json
from trialscreen.trials.model import Trial

BUILTIN_DATA_PACKAGE = "trialscreen.trials.data"


@lru_cache(maxsize=1)
def _builtin() -> tuple[Trial, ...]:
    found: list[Trial] = []
    for entry in sorted(resources.files(BUILTIN_DATA_PACKAGE).iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".json"):
            source = f"{BUILTIN_DATA_PACKAGE}/{entry.name}"
            found.extend(trials_from_json(orjson.loads(entry.read_bytes()), source))
    return tuple(found)


def builtin_trials() -> list[Trial]:
    """Trials shipped with trialscreen (a fresh list; the trials themselves are immutable)."""
    return list(_builtin())


def normalize_nct_id(nct_id: str) -> str:
    """NCT ids are compared upper-case and without surrounding blanks ("nct06125652 ")."""
    return nct_id.strip().upper()


def get_trial(nct_id: str, extra_paths: Sequence[Path] = ()) -> Trial:
    """The trial with this id: built-ins first, then the files/directories in `extra_paths`.

    Raises UnknownTrialError listing every known id; TrialRecordError if an extra path
    cannot be read.
    """
    wanted = normalize_nct_id(nct_id)
    candidates = builtin_trials()
    for trial in candidates:
        if trial.nct_id == wanted:
            return trial
    for path in extra_paths:
        loaded = load_trials(path)
        for trial in loaded:
            if trial.nct_id == wanted:
                return trial
        candidates.extend(loaded)
    known = sorted({trial.nct_id for trial in candidates})
    raise UnknownTrialError(nct_id, known)
