"""The generator's catalogue (``data/catalogue.yaml``) as typed, array-friendly objects.

The catalogue says what a synthetic hospital population is made of: diagnoses, results,
procedures, medicines, vaccines and allergies with their codes and how common they are.
Probabilities come in pairs, ``[general, aml]``, indexed by cohort (0 general, 1 AML).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import yaml

DATA = Path(__file__).parent / "data" / "catalogue.yaml"

COURSES = ("chronic", "acute", "history")


def _pair(value: Any) -> np.ndarray:
    out = np.asarray(value, dtype=np.float64)
    if out.shape != (2,):
        raise ValueError(f"catalogue: expected [general, aml], got {value!r}")
    return out


def _weights(values: list[float]) -> np.ndarray:
    w = np.asarray(values, dtype=np.float64)
    return w / w.sum()


@dataclass(frozen=True)
class ConditionEntry:
    code: str
    display: str
    system: str  # "icd10cm" or "icd10" (WHO)
    p: np.ndarray
    course: str
    text: str | None = None
    sex: str | None = None
    min_age: int = 0


@dataclass(frozen=True)
class UnitOption:
    unit: str
    factor: float
    weight: float
    ref: float | None
    decimals: int
    ucum: bool


@dataclass(frozen=True)
class Analyte:
    name: str
    codes: tuple[str, ...]
    code_weights: np.ndarray
    kind: str  # quantity | ordinal | qualitative | viral_load
    p_draw: np.ndarray
    category: str = "laboratory"
    domain: str = "Measurement"
    unit: str | None = None
    family: str = "lognormal"
    normal: tuple[float, float] = (0.0, 1.0)
    abnormal: tuple[float, float] = (0.0, 1.0)
    p_abnormal: np.ndarray = field(default_factory=lambda: np.zeros(2))
    decimals: int = 1
    clip: tuple[float, float] | None = None
    units: tuple[UnitOption, ...] = ()
    levels: tuple[int, ...] = ()
    level_weights: tuple[np.ndarray, np.ndarray] | None = None
    answers: tuple[str, ...] = ()
    p_answer_code: float = 0.0
    strings: tuple[str, ...] = ()
    p_string: float = 0.0
    p_positive: np.ndarray = field(default_factory=lambda: np.zeros(2))
    sex: str | None = None
    ages: tuple[int, int] | None = None
    needs_condition: str | None = None
    screening: bool = False

    @property
    def unit_weights(self) -> np.ndarray:
        return _weights([u.weight for u in self.units])


@dataclass(frozen=True)
class ProcedureEntry:
    system: str  # cpt | snomed
    code: str
    display: str
    p: np.ndarray
    recent: float
    surgical: bool
    sex: str | None = None
    min_age: int = 0


@dataclass(frozen=True)
class MedicineEntry:
    name: str
    rxnorm: str | None
    atc: str | None
    coding: str  # rxnorm | atc | both | text
    routes: tuple[str, ...]  # SNOMED code, "text:<words>" or "none"
    route_weights: np.ndarray
    p: np.ndarray
    antimicrobial: bool


@dataclass(frozen=True)
class VaccineEntry:
    cvx: str
    display: str
    weight: float


@dataclass(frozen=True)
class AllergenEntry:
    code: str
    display: str
    p: np.ndarray


@dataclass(frozen=True)
class OxygenKind:
    code: str
    unit: str
    low: float
    high: float
    decimals: int
    weight: float


@dataclass(frozen=True)
class QualitativeForm:
    code: str | None = None
    interpretation: str | None = None
    string: str | None = None


@dataclass(frozen=True)
class Workup:
    """A trial-screening visit of AML patients: every screening result, consent, answers."""

    p: float
    within_days: int
    p_test: float
    p_consent: float
    p_response: float
    p_answer: float


@dataclass(frozen=True)
class Catalogue:
    aml_fraction: float
    history_days: int
    future_fraction: float
    blood_draws: np.ndarray
    """Mean blood draws besides the first, general population and AML (each draw gives results)."""
    aml_phases: tuple[ConditionEntry, ...]
    aml_phase_weights: np.ndarray
    conditions: tuple[ConditionEntry, ...]
    analytes: tuple[Analyte, ...]
    p_on_oxygen: np.ndarray
    p_room_air_marker: float
    oxygen: tuple[OxygenKind, ...]
    positive_forms: tuple[QualitativeForm, ...]
    positive_weights: np.ndarray
    negative_forms: tuple[QualitativeForm, ...]
    negative_weights: np.ndarray
    p_unreadable: float
    unreadable_strings: tuple[str, ...]
    procedures: tuple[ProcedureEntry, ...]
    medicines: tuple[MedicineEntry, ...]
    antimicrobial_reasons: tuple[str, ...]
    antimicrobial_reason_weights: np.ndarray
    routes: dict[str, str]
    vaccines: tuple[VaccineEntry, ...]
    allergens: tuple[AllergenEntry, ...]
    p_response: np.ndarray
    p_answer: float
    attest_ids: tuple[str, ...]
    attest_p_true: np.ndarray
    p_consent: np.ndarray
    workup: Workup

    def analyte(self, name: str) -> Analyte:
        for a in self.analytes:
            if a.name == name:
                return a
        raise KeyError(f"catalogue has no analyte {name!r}")


def _condition(d: dict[str, Any], default_p: Any = (0, 0)) -> ConditionEntry:
    return ConditionEntry(
        code=str(d["code"]),
        display=str(d["display"]),
        system=d.get("system", "icd10cm"),
        p=_pair(d.get("p", default_p)),
        course=d.get("course", "chronic"),
        text=d.get("text"),
        sex=d.get("sex"),
        min_age=int(d.get("min_age", 0)),
    )


def _analyte(name: str, d: dict[str, Any]) -> Analyte:
    codes = {str(k): float(v) for k, v in d["codes"].items()}
    units = tuple(
        UnitOption(
            unit=str(u["unit"]),
            factor=float(u["factor"]),
            weight=float(u["w"]),
            ref=float(u["ref"]) if "ref" in u else None,
            decimals=int(u.get("decimals", d.get("decimals", 1))),
            ucum=bool(u.get("ucum", True)),
        )
        for u in d.get("units", ())
    )
    lw = d.get("weights")
    return Analyte(
        name=name,
        codes=tuple(codes),
        code_weights=_weights(list(codes.values())),
        kind=d.get("kind", "quantity"),
        p_draw=_pair(d["p_draw"]),
        category=d.get("category", "laboratory"),
        domain=d.get("domain", "Measurement"),
        unit=d.get("unit"),
        family=d.get("family", "lognormal"),
        normal=tuple(d.get("normal", (0.0, 1.0))),
        abnormal=tuple(d.get("abnormal", d.get("normal", (0.0, 1.0)))),
        p_abnormal=_pair(d.get("p_abnormal", (0, 0))),
        decimals=int(d.get("decimals", 1)),
        clip=tuple(d["clip"]) if "clip" in d else None,
        units=units,
        levels=tuple(int(x) for x in d.get("levels", ())),
        level_weights=(_weights(lw["general"]), _weights(lw["aml"])) if lw else None,
        answers=tuple(d.get("answers", ())),
        p_answer_code=float(d.get("p_answer_code", 0.0)),
        strings=tuple(d.get("strings", ())),
        p_string=float(d.get("p_string", 0.0)),
        p_positive=_pair(d.get("p_positive", (0, 0))),
        sex=d.get("sex"),
        ages=tuple(d["ages"]) if "ages" in d else None,
        needs_condition=d.get("needs_condition"),
        screening=bool(d.get("screening", False)),
    )


def _forms(items: list[dict[str, Any]]) -> tuple[tuple[QualitativeForm, ...], np.ndarray]:
    forms = tuple(
        QualitativeForm(code=i.get("code"), interpretation=i.get("interpretation"), string=i.get("string"))
        for i in items
    )
    return forms, _weights([i["w"] for i in items])


def _routes(spec: dict[str, Any]) -> tuple[tuple[str, ...], np.ndarray]:
    return tuple(str(k) for k in spec), _weights([float(v) for v in spec.values()])


def load(path: Path = DATA) -> Catalogue:
    """Read and check a catalogue file."""
    try:
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)  # the C parser when built
        d = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)  # noqa: S506 (safe loader)
    except (OSError, yaml.YAMLError) as exc:
        raise ValueError(f"{path}: cannot read the synth catalogue ({exc})") from None
    cohort = d["cohort"]
    phases = tuple(_condition(x) for x in d["aml_phases"])
    pos, pos_w = _forms(d["qualitative"]["positive"])
    neg, neg_w = _forms(d["qualitative"]["negative"])
    reasons = {str(k): float(v) for k, v in d["antimicrobial_reasons"].items()}
    att = d["attestations"]
    conditions = tuple(_condition(x) for x in d["conditions"])
    for c in conditions:
        if c.course not in COURSES:
            raise ValueError(f"{path}: condition {c.code} has unknown course {c.course!r}")
    medicines = []
    for m in d["medicines"]:
        routes, route_w = _routes(m["routes"])
        medicines.append(
            MedicineEntry(
                name=m["name"],
                rxnorm=m.get("rxnorm"),
                atc=m.get("atc"),
                coding=m["coding"],
                routes=routes,
                route_weights=route_w,
                p=_pair(m["p"]),
                antimicrobial=bool(m.get("antimicrobial", False)),
            )
        )
    return Catalogue(
        aml_fraction=float(cohort["aml_fraction"]),
        history_days=int(cohort["history_days"]),
        future_fraction=float(cohort["future_fraction"]),
        blood_draws=_pair(cohort["blood_draws"]),
        aml_phases=phases,
        aml_phase_weights=_weights([x["w"] for x in d["aml_phases"]]),
        conditions=conditions,
        analytes=tuple(_analyte(k, v) for k, v in d["analytes"].items()),
        p_on_oxygen=_pair(d["oxygen"]["p_on_oxygen"]),
        p_room_air_marker=float(d["oxygen"]["p_room_air_marker"]),
        oxygen=tuple(
            OxygenKind(
                str(o["code"]),
                str(o["unit"]),
                float(o["low"]),
                float(o["high"]),
                int(o["decimals"]),
                float(o["w"]),
            )
            for o in d["oxygen"]["kinds"]
        ),
        positive_forms=pos,
        positive_weights=pos_w,
        negative_forms=neg,
        negative_weights=neg_w,
        p_unreadable=float(d["qualitative"]["unreadable"]["p"]),
        unreadable_strings=tuple(d["qualitative"]["unreadable"]["strings"]),
        procedures=tuple(
            ProcedureEntry(
                system=p["system"],
                code=str(p["code"]),
                display=p["display"],
                p=_pair(p["p"]),
                recent=float(p.get("recent", 0.2)),
                surgical=bool(p.get("surgical", False)),
                sex=p.get("sex"),
                min_age=int(p.get("min_age", 0)),
            )
            for p in d["procedures"]
        ),
        medicines=tuple(medicines),
        antimicrobial_reasons=tuple(reasons),
        antimicrobial_reason_weights=_weights(list(reasons.values())),
        routes={str(k): str(v) for k, v in d["routes"].items()},
        vaccines=tuple(VaccineEntry(str(v["cvx"]), v["display"], float(v["w"])) for v in d["vaccines"]),
        allergens=tuple(AllergenEntry(str(a["code"]), a["display"], _pair(a["p"])) for a in d["allergens"]),
        p_response=_pair(att["p_response"]),
        p_answer=float(att["p_answer"]),
        attest_ids=tuple(att["p_true"]),
        attest_p_true=np.asarray(list(att["p_true"].values()), dtype=np.float64),
        p_consent=_pair(d["consent"]["p"]),
        workup=Workup(**{k: type(v)(v) for k, v in cohort["workup"].items()}),
    )


@lru_cache(maxsize=1)
def catalogue() -> Catalogue:
    """The built-in catalogue, read once."""
    return load()
