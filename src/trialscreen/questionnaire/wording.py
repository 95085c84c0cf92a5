"""Plain words and familiar units for questions, read from `data/wording.yaml`.

Keyed by the knowledge names the criteria use (value sets, analytes), never by trial, so
every trial's questionnaire gets them; a name without wording falls back to its title.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from trialscreen.knowledge import Analyte, Knowledge
from trialscreen.questionnaire.model import UnitOption

WORDING_FILE = Path(__file__).parent / "data" / "wording.yaml"


@dataclass(frozen=True, slots=True)
class Wording:
    plain: str
    examples: str | None = None
    section: str | None = None
    asked_as: str | None = None
    """Link id of another question that already asks this (a diagnosis of an allergy)."""
    levels: tuple[tuple[int, str], ...] = ()


class Wordings:
    """Plain names of value sets and analytes, and the units people know."""

    def __init__(self, data: dict[str, Any], kb: Knowledge) -> None:
        self._kb = kb
        self._valuesets = {k: self._wording(v) for k, v in (data.get("valuesets") or {}).items()}
        self._analytes = {k: self._wording(v) for k, v in (data.get("analytes") or {}).items()}
        self._units: dict[str, tuple[UnitOption, ...]] = {
            unit: tuple(
                UnitOption(str(u["code"]), str(u["display"]), float(u["factor"])) for u in options
            )
            for unit, options in (data.get("units") or {}).items()
        }

    @staticmethod
    def _wording(value: dict[str, Any]) -> Wording:
        levels = tuple(sorted((int(k), str(v)) for k, v in (value.get("levels") or {}).items()))
        return Wording(
            str(value["plain"]),
            value.get("examples"),
            value.get("section"),
            value.get("asked_as"),
            levels,
        )

    def valueset(self, name: str) -> Wording:
        if name in self._valuesets:
            return self._valuesets[name]
        return Wording(self._kb.valueset(name).title)

    def analyte(self, name: str) -> Wording:
        if name in self._analytes:
            return self._analytes[name]
        return Wording(self._kb.analyte(name).label)

    def units(self, analyte: Analyte) -> tuple[UnitOption, ...]:
        """Units offered: familiar ones for the compared unit, then the molar unit."""
        if analyte.unit is None:
            return ()
        options = list(
            self._units.get(analyte.unit, (UnitOption(analyte.unit, analyte.unit, 1.0),))
        )
        if (
            analyte.molar_unit
            and analyte.molar_factor
            and all(o.code != analyte.molar_unit for o in options)
        ):
            options.append(
                UnitOption(
                    analyte.molar_unit,
                    analyte.molar_unit.replace("u", "µ", 1),
                    analyte.molar_factor,
                )
            )
        return tuple(options)


@lru_cache(maxsize=4)
def wordings(kb: Knowledge) -> Wordings:
    data = yaml.safe_load(WORDING_FILE.read_text(encoding="utf-8")) or {}
    return Wordings(data, kb)
