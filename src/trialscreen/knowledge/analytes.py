"""Analytes: the observations criteria read, with units, limits and look-back, from data."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Coding:
    system: str  # alias from systems.yaml
    code: str


@dataclass(frozen=True, slots=True)
class ComponentRule:
    """A component whose value above `above` sets a result aside (supplemental oxygen)."""

    label: str
    system: str
    code: str
    above: float
    unit: str | None = None


@dataclass(frozen=True, slots=True)
class Analyte:
    name: str
    label: str
    codes: tuple[Coding, ...]
    value: str  # "quantity" | "ordinal" | "qualitative"
    lookback: str
    unit: str | None = None
    aliases: dict[str, str] = field(default_factory=dict)
    molar_unit: str | None = None
    molar_factor: float | None = None
    """Compared-unit value = molar-unit value × molar_factor."""
    uln: float | None = None
    uln_unit: str | None = None
    uln_by_gender: dict[str, float] = field(default_factory=dict)
    value_range: tuple[float, float] | None = None
    answers: tuple[tuple[Coding, float], ...] = ()
    roman_numerals: bool = False
    set_aside_when_component: tuple[ComponentRule, ...] = ()

    def default_uln(self, gender: str | None) -> float | None:
        """The default ULN in `uln_unit`, by gender where the data says so."""
        if gender and gender in self.uln_by_gender:
            return self.uln_by_gender[gender]
        return self.uln


def analyte_from_data(name: str, data: dict[str, Any]) -> Analyte:
    molar = data.get("molar") or {}
    factor: float | None = None
    if "per_compared" in molar:
        factor = 1.0 / float(molar["per_compared"])
    elif "compared_per" in molar:
        factor = float(molar["compared_per"])
    uln = data.get("uln") or {}
    rng = data.get("range")
    return Analyte(
        name=name,
        label=data.get("label", name),
        codes=tuple(Coding(c["system"], str(c["code"])) for c in data["codes"]),
        value=data["value"],
        lookback=data["lookback"],
        unit=data.get("unit"),
        aliases={str(k): str(v) for k, v in (data.get("aliases") or {}).items()},
        molar_unit=molar.get("unit"),
        molar_factor=factor,
        uln=float(uln["value"]) if "value" in uln else None,
        uln_unit=uln.get("unit"),
        uln_by_gender={k: float(v) for k, v in (uln.get("by_gender") or {}).items()},
        value_range=(float(rng[0]), float(rng[1])) if rng else None,
        answers=tuple(
            (Coding(a["system"], str(a["code"])), float(a["value"])) for a in data.get("answers", ())
        ),
        roman_numerals=bool(data.get("roman_numerals", False)),
        set_aside_when_component=tuple(
            ComponentRule(r["label"], r["system"], str(r["code"]), float(r["above"]), r.get("unit"))
            for r in data.get("set_aside_when_component", ())
        ),
    )
