"""UCUM factors remembered between runs, so a run that needs only known ones never loads UCUM.

Loading the UCUM registry (ucumvert on pint) costs one to two seconds of CPU, which every
`trialscreen screen` of a single patient would otherwise pay. A factor between two UCUM units
depends only on the UCUM library, so each one worked out (or found not to exist) is kept in a
small JSON file under the user's cache directory, named by the library versions; another
version starts a new file. The file is a cache and nothing more: unreadable, corrupt or
unwritable, it is ignored and the registry answers as before. `TRIALSCREEN_CACHE_DIR` moves
it; setting it to an empty string turns it off.
"""

from __future__ import annotations

import contextlib
import os
import tempfile
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path

import orjson

_FORMAT = 1
"""Part of the file's name: a change to how factors are worked out or kept starts a new file."""

Known = dict[str, float | None]
"""'source\\ttarget' -> factor, or None when the units do not convert."""


def _versions() -> str:
    found = []
    for package in ("ucumvert", "pint"):
        try:
            found.append(f"{package}-{version(package)}")
        except PackageNotFoundError:
            found.append(f"{package}-unknown")
    return "-".join(found)


def cache_file() -> Path | None:
    """Where the factors are kept, or None when remembering is turned off."""
    chosen = os.environ.get("TRIALSCREEN_CACHE_DIR")
    if chosen == "":
        return None
    if chosen is not None:
        base = Path(chosen)
    else:
        base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "trialscreen"
    return base / f"ucum-factors-v{_FORMAT}-{_versions()}.json"


def load(path: Path | None) -> Known:
    """The factors kept in `path`; {} when there are none or the file cannot be trusted."""
    if path is None:
        return {}
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    if not isinstance(data, dict):
        return {}
    return {
        key: value
        for key, value in data.items()
        if isinstance(key, str) and (value is None or (isinstance(value, float | int) and not isinstance(value, bool)))
    }


def save(path: Path | None, known: Known) -> None:
    """Write `known` whole, atomically (a reader never sees half a file); failures are ignored."""
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=".ucum-", suffix=".tmp")
        try:
            with os.fdopen(handle, "wb") as out:
                out.write(orjson.dumps(known, option=orjson.OPT_SORT_KEYS))
            os.replace(name, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(name)
            raise
    except OSError:
        return
