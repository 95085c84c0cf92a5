"""UCUM factors remembered between runs: the same factors, and never a reason to fail."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from trialscreen.units import UnitError, ucum_factor
from trialscreen.units import convert as units_convert
from trialscreen.units.remembered import cache_file, load

PAIRS = [("g/dL", "g/L"), ("umol/L", "mmol/L"), ("10*3/uL", "10*9/L"), ("ukat/L", "U/L"), ("%", "1"), ("mg/dL", "g/L")]


@pytest.fixture
def cache_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("TRIALSCREEN_CACHE_DIR", str(tmp_path))
    units_convert._Memory.forget()
    yield tmp_path
    units_convert._Memory.forget()


def _no_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse() -> None:
        raise AssertionError("the UCUM registry was loaded")

    monkeypatch.setattr(units_convert, "_registry", refuse)


def test_factors_worked_out_once_are_read_back_without_ucum(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fresh = {pair: ucum_factor(*pair) for pair in PAIRS}
    path = cache_file()
    assert path is not None and path.parent == cache_dir and path.is_file()
    assert set(load(path)) == {f"{a}\t{b}" for a, b in PAIRS}
    units_convert._Memory.forget()
    _no_registry(monkeypatch)
    assert {pair: ucum_factor(*pair) for pair in PAIRS} == fresh
    assert fresh[("g/dL", "g/L")] == 10.0


def test_units_that_do_not_convert_are_remembered_too(cache_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    with pytest.raises(UnitError):
        ucum_factor("g/dL", "mmol/L")
    units_convert._Memory.forget()
    _no_registry(monkeypatch)
    with pytest.raises(UnitError, match="does not convert"):
        ucum_factor("g/dL", "mmol/L")


@pytest.mark.parametrize("content", [b"{not json", b"[1, 2]", b'{"g/dL\\tg/L": "ten", "x\\ty": true}', b""])
def test_a_corrupt_cache_is_ignored_and_written_anew(cache_dir: Path, content: bytes) -> None:
    path = cache_file()
    assert path is not None
    path.write_bytes(content)
    units_convert._Memory.forget()
    assert ucum_factor("g/dL", "g/L") == 10.0
    assert orjson.loads(path.read_bytes()) == {"g/dL\tg/L": 10.0}


def test_an_unwritable_cache_never_stops_a_conversion(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a directory")
    monkeypatch.setenv("TRIALSCREEN_CACHE_DIR", str(blocker / "cache"))
    units_convert._Memory.forget()
    try:
        assert ucum_factor("g/dL", "g/L") == 10.0
        assert not (blocker / "cache").exists()
    finally:
        units_convert._Memory.forget()


def test_an_empty_cache_dir_turns_remembering_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TRIALSCREEN_CACHE_DIR", "")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    units_convert._Memory.forget()
    try:
        assert cache_file() is None
        assert ucum_factor("g/dL", "g/L") == 10.0
        assert not any(tmp_path.iterdir())
    finally:
        units_convert._Memory.forget()
