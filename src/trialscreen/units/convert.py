"""Conversion of a result's unit to the unit its criterion compares in.

UCUM does the dimensional work (g/dL -> g/L, ukat/L -> U/L, /uL -> 10*9/L); the analyte's data
adds what UCUM cannot know: units that mean the same for this analyte (`[IU]/L` is `U/L` for
enzymes) and the molar mass that turns umol/L into mg/dL. Arbitrary units (`[IU]`, `[arb'U]`)
are never commensurable with anything else. Factors are cached per (analyte, unit): a
population asks UCUM once per distinct unit, never per result; and each factor UCUM works out
is remembered between runs (`remembered`), so the registry is loaded only for a new one.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Any

from trialscreen.knowledge import Analyte
from trialscreen.units import remembered

_ARBITRARY = re.compile(r"\[(IU|iU|arb'U|USP'U|GPL'U|MPL'U|APL'U|beth'U|anti'Xa'U|todd'U|dye'U|smgy'U|bdsk'U|ka'U|knk'U|mclg'U|tb'U|hp'X|hp'C|kp'X|kp'C)\]")


class UnitError(ValueError):
    """A unit that cannot be read as UCUM or converted to the unit compared."""


@lru_cache(maxsize=1)
def _registry() -> Any:
    from ucumvert import PintUcumRegistry

    return PintUcumRegistry()


def _clean(unit: str) -> str:
    return unit.strip()


class _Memory:
    """The factors remembered between runs (read from the cache file on first need)."""

    known: remembered.Known | None = None
    path: Path | None = None

    @classmethod
    def get(cls) -> remembered.Known:
        if cls.known is None:
            cls.path = remembered.cache_file()
            cls.known = remembered.load(cls.path)
        return cls.known

    @classmethod
    def keep(cls, key: str, factor: float | None) -> None:
        known = cls.get()
        known[key] = factor
        remembered.save(cls.path, known)

    @classmethod
    def forget(cls) -> None:
        """Read the cache file again on next need (and drop this process's factors): for tests."""
        cls.known = None
        ucum_factor.cache_clear()


@lru_cache(maxsize=4096)
def ucum_factor(source: str, target: str) -> float:
    """Multiply a value in UCUM `source` by this to express it in UCUM `target`."""
    source, target = _clean(source), _clean(target)
    if source == target:
        return 1.0
    if bool(_ARBITRARY.search(source)) != bool(_ARBITRARY.search(target)) or (
        _ARBITRARY.search(source) and _ARBITRARY.findall(source) != _ARBITRARY.findall(target)
    ):
        raise UnitError(f"unit {source!r} is an arbitrary unit that does not convert to {target!r}")
    key = f"{source}\t{target}"
    known = _Memory.get()
    if key in known:
        factor = known[key]
        if factor is None:
            raise UnitError(f"unit {source!r} does not convert to {target!r}")
        return float(factor)
    ureg = _registry()
    try:
        value = ureg.from_ucum(source).to(ureg.from_ucum(target)).magnitude
    except Exception as exc:  # the UCUM parser and pint raise many kinds
        _Memory.keep(key, None)
        raise UnitError(f"unit {source!r} does not convert to {target!r}") from exc
    factor = float(f"{float(value):.12g}")
    _Memory.keep(key, factor)
    return factor


def factor_to(analyte: Analyte, unit: str | None, target: str | None = None) -> float:
    """Factor from `unit` to `target` (default: the analyte's compared unit) for this analyte."""
    goal = target or analyte.unit
    if goal is None:
        raise UnitError(f"{analyte.label} has no unit to compare in")
    key = (analyte.name, id(analyte), unit, goal)
    cached = _CACHE.get(key)
    if cached is None:
        try:
            cached = _analyte_factor(analyte, unit, goal)
        except UnitError as exc:
            cached = exc
        _CACHE[key] = cached
    if isinstance(cached, UnitError):
        raise cached
    return cached


_CACHE: dict[tuple[str, int, str | None, str], float | UnitError] = {}


def _to_compared(analyte: Analyte, unit: str) -> float:
    """Factor from `unit` to the analyte's compared unit, through its molar mass if need be."""
    assert analyte.unit is not None
    compared = analyte.aliases.get(analyte.unit, analyte.unit)
    try:
        return ucum_factor(unit, compared)
    except UnitError:
        if analyte.molar_unit is None or analyte.molar_factor is None:
            raise
    return ucum_factor(unit, analyte.molar_unit) * analyte.molar_factor


def _analyte_factor(analyte: Analyte, unit: str | None, goal: str) -> float:
    if unit is None or not unit.strip():
        raise UnitError(f"{analyte.label} result has no unit")
    src = analyte.aliases.get(unit.strip(), unit.strip())
    dst = analyte.aliases.get(goal, goal)
    try:
        return ucum_factor(src, dst)
    except UnitError:
        pass
    try:
        return float(f"{_to_compared(analyte, src) / _to_compared(analyte, dst):.12g}")
    except UnitError:
        raise UnitError(f"{analyte.label}: unit {unit!r} does not convert to {goal!r}") from None


def converter(analyte: Analyte, unit: str | None, target: str | None = None) -> float | None:
    """The factor, or None when the unit does not convert (the caller reports it)."""
    try:
        return factor_to(analyte, unit, target)
    except UnitError:
        return None
