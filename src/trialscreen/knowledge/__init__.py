"""Clinical knowledge as data: code systems, value sets, analytes, qualitative readings.

Both engines (FHIR evaluator, OMOP compiler) read the same `Knowledge`; neither keeps its own
copy of a code. A deployment may widen value sets by passing extra data directories.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

from trialscreen.knowledge.analytes import Analyte, Coding, ComponentRule, analyte_from_data
from trialscreen.knowledge.systems import CodeSystem
from trialscreen.knowledge.valuesets import Include, ValueSet

DATA_DIR = Path(__file__).parent / "data"

__all__ = [
    "Analyte",
    "CodeSystem",
    "CockcroftGault",
    "Coding",
    "ComponentRule",
    "Include",
    "Knowledge",
    "KnowledgeError",
    "Qualitative",
    "ValueSet",
    "knowledge",
    "knowledge_for",
    "sidecar_dir",
]


class KnowledgeError(ValueError):
    """A knowledge file that is missing or malformed, or a name it does not define."""


@dataclass(frozen=True, slots=True)
class CockcroftGault:
    """(age_offset − age) × kg / (divisor × creatinine mg/dL), × factor_unless_male unless male."""

    age_offset: float = 140.0
    divisor: float = 72.0
    factor_unless_male: float = 0.85


@dataclass(frozen=True, slots=True)
class Qualitative:
    """How positive and negative read: codes, interpretation codes, and words."""

    positive_codes: frozenset[tuple[str, str]]
    negative_codes: frozenset[tuple[str, str]]
    positive_interpretation: frozenset[str]
    negative_interpretation: frozenset[str]
    positive_strings: frozenset[str]
    negative_strings: frozenset[str]


def _read(path: Path) -> dict[str, Any]:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise KnowledgeError(f"{path}: cannot read ({exc})") from None
    if not isinstance(data, dict):
        raise KnowledgeError(f"{path}: expected a mapping")
    return data


def _include(entry: dict[str, Any], systems: dict[str, CodeSystem], where: str) -> Include:
    alias = entry.get("system")
    if alias not in systems:
        raise KnowledgeError(f"{where}: unknown code system {alias!r}")
    ranges = []
    for r in entry.get("ranges", ()):
        low, _, high = str(r).partition("-")
        if not high:
            raise KnowledgeError(f"{where}: range {r!r} is not of the form A-B")
        ranges.append((low.strip(), high.strip()))
    return Include(alias, tuple(str(c) for c in entry.get("codes", ())), tuple(ranges))


class Knowledge:
    """All clinical knowledge the criteria name, loaded from data directories."""

    def __init__(self, dirs: Sequence[Path] = (DATA_DIR,)) -> None:
        systems_data: dict[str, Any] = {}
        valuesets_data: dict[str, Any] = {}
        analytes_data: dict[str, Any] = {}
        qualitative_data: dict[str, Any] = {}
        formulas_data: dict[str, Any] = {}
        for d in dirs:
            for fname, target in (
                ("systems.yaml", systems_data),
                ("analytes.yaml", analytes_data),
                ("qualitative.yaml", qualitative_data),
                ("formulas.yaml", formulas_data),
            ):
                if (d / fname).exists():
                    target.update(_read(d / fname))
            if (d / "valuesets.yaml").exists():
                for name, vs in _read(d / "valuesets.yaml").items():
                    if name in valuesets_data:  # widening: a later directory adds includes
                        valuesets_data[name]["include"] = list(valuesets_data[name]["include"]) + list(
                            vs.get("include", [])
                        )
                        valuesets_data[name]["text"] = list(valuesets_data[name].get("text", [])) + list(
                            vs.get("text", [])
                        )
                    else:
                        valuesets_data[name] = dict(vs)
        self.systems: dict[str, CodeSystem] = {
            alias: CodeSystem(
                alias=alias,
                uris=frozenset(s["uris"]),
                match=s.get("match", "exact"),
                normalise_rules=tuple(s.get("normalise", ())),
                omop_vocabularies=tuple(s.get("omop_vocabulary", ())),
                title=s.get("title", alias),
            )
            for alias, s in systems_data.items()
        }
        self.uri_to_alias: dict[str, str] = {
            uri: alias for alias, system in self.systems.items() for uri in system.uris
        }
        self.valuesets: dict[str, ValueSet] = {}
        for name, vs in valuesets_data.items():
            where = f"value set {name}"
            self.valuesets[name] = ValueSet(
                name=name,
                title=vs.get("title", name),
                include=tuple(_include(e, self.systems, where) for e in vs.get("include", ())),
                exclude=tuple(_include(e, self.systems, where) for e in vs.get("exclude", ())),
                text=tuple(str(t).lower() for t in vs.get("text", ())),
                phase_digit=vs.get("phase_digit"),
                systems=self.systems,
            )
        self.analytes: dict[str, Analyte] = {}
        for name, data in analytes_data.items():
            try:
                self.analytes[name] = analyte_from_data(name, data)
            except (KeyError, TypeError, ValueError) as exc:
                raise KnowledgeError(f"analyte {name}: malformed ({exc})") from None
        cg = formulas_data.get("cockcroft_gault", {})
        try:
            self.cockcroft_gault = CockcroftGault(**{k: float(v) for k, v in cg.items()})
        except (TypeError, ValueError) as exc:
            raise KnowledgeError(f"formulas.yaml cockcroft_gault: malformed ({exc})") from None
        q = qualitative_data
        self.qualitative = Qualitative(
            positive_codes=frozenset(self._pairs(q.get("positive", {}).get("codes", ()))),
            negative_codes=frozenset(self._pairs(q.get("negative", {}).get("codes", ()))),
            positive_interpretation=frozenset(q.get("positive", {}).get("interpretation", ())),
            negative_interpretation=frozenset(q.get("negative", {}).get("interpretation", ())),
            positive_strings=frozenset(s.lower() for s in q.get("positive", {}).get("strings", ())),
            negative_strings=frozenset(s.lower() for s in q.get("negative", {}).get("strings", ())),
        )

    def _pairs(self, codes: Sequence[dict[str, Any]]) -> list[tuple[str, str]]:
        return [(uri, str(c["code"])) for c in codes for uri in self.systems[c["system"]].uris]

    def valueset(self, name: str) -> ValueSet:
        try:
            return self.valuesets[name]
        except KeyError:
            raise KnowledgeError(f"unknown value set {name!r}") from None

    def analyte(self, name: str) -> Analyte:
        try:
            return self.analytes[name]
        except KeyError:
            raise KnowledgeError(f"unknown analyte {name!r}") from None

    def uris(self, alias: str) -> frozenset[str]:
        return self.systems[alias].uris

    def analyte_codings(self, name: str) -> list[tuple[str, str]]:
        """(system URI, code) pairs of an analyte."""
        return [(uri, c.code) for c in self.analyte(name).codes for uri in self.uris(c.system)]


@lru_cache(maxsize=1)
def knowledge() -> Knowledge:
    """The built-in knowledge, loaded once per process."""
    return Knowledge()


def sidecar_dir(criteria_file: Path) -> Path:
    """Where a criteria file keeps the knowledge it names beyond the built-in.

    `criteria.yaml` -> `criteria.knowledge/` (value sets and analytes of a parsed trial).
    """
    return criteria_file.with_name(criteria_file.stem + ".knowledge")


def knowledge_for(criteria_file: Path | None) -> Knowledge:
    """The built-in knowledge, widened by the criteria file's sidecar directory if it has one."""
    if criteria_file is None or not sidecar_dir(criteria_file).is_dir():
        return knowledge()
    return Knowledge((DATA_DIR, sidecar_dir(criteria_file)))
