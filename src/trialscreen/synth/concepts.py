"""OMOP concepts for the synthetic data: ids, 'Maps to' links and ancestors.

There is no OMOP vocabulary offline, so every concept the generator can write gets an id:
the real OMOP id where it is well known (gender, race, ethnicity, the EHR type, common UCUM
units, positive/negative, several LOINC labs), else a synthetic id 2,000,000,000 +
(CRC-32 of vocabulary and code) mod 100,000,000, stable across runs and versions. The
vocabulary id and concept code are always the real ones; only standard concepts for
diagnoses (SNOMED-like, code ``TS-<ICD code>``) and drug products (RxNorm-like clinical
drugs, code ``TS-<hash>``) are invented, and say so in their code.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass

from trialscreen.synth.catalogue import Catalogue

SYNTHETIC_BASE = 2_000_000_000

# Real OMOP concept ids (checked against an OHDSI vocabulary shard where possible).
KNOWN: dict[tuple[str, str], int] = {
    ("Gender", "M"): 8507,
    ("Gender", "F"): 8532,
    ("Race", "5"): 8527,  # White
    ("Race", "3"): 8516,  # Black or African American
    ("Race", "2"): 8515,  # Asian
    ("Race", "1"): 8657,  # American Indian or Alaska Native
    ("Race", "4"): 8557,  # Native Hawaiian or Other Pacific Islander
    ("Ethnicity", "Hispanic"): 38003563,
    ("Ethnicity", "Not Hispanic"): 38003564,
    ("Type Concept", "32817"): 32817,  # EHR
    ("SNOMED", "10828004"): 9191,  # Positive
    ("SNOMED", "260385009"): 9189,  # Negative
    ("UCUM", "10*9/L"): 9444,
    ("UCUM", "kg"): 9529,
    ("UCUM", "ukat/L"): 32995,
    ("UCUM", "/uL"): 8647,
    ("UCUM", "umol/L"): 8749,
    ("UCUM", "{copies}/mL"): 8799,
    ("UCUM", "g"): 8504,
    ("UCUM", "g/dL"): 8713,
    ("UCUM", "g/L"): 8636,
    ("UCUM", "L/min"): 8698,
    ("UCUM", "%"): 8554,
    ("UCUM", "1"): 32912,
    ("UCUM", "10*3/mm3"): 8961,
    ("UCUM", "10*3/uL"): 8848,
    ("UCUM", "mg/dL"): 8840,
    ("UCUM", "mL/min"): 8795,
    ("UCUM", "mL/s"): 44777614,
    ("UCUM", "mmol/L"): 8753,
    ("UCUM", "[iU]/L"): 8923,
    ("UCUM", "[iU]/mL"): 8985,
    ("LOINC", "10230-1"): 3027172,
    ("LOINC", "1742-6"): 3006923,
    ("LOINC", "1920-8"): 3013721,
    ("LOINC", "1975-2"): 3024128,
    ("LOINC", "2160-0"): 3016723,
    ("LOINC", "2708-6"): 3016502,
    ("LOINC", "29463-7"): 3025315,
    ("LOINC", "38483-4"): 3051825,
    ("LOINC", "42719-5"): 3028833,
    ("LOINC", "59408-5"): 40762499,
    ("LOINC", "6690-2"): 3000905,
    ("LOINC", "718-7"): 3000963,
    ("LOINC", "88020-3"): 36305765,
}

# How a written unit is recorded as a UCUM concept (an ETL's unit mapping).
UNIT_CONCEPT_CODE = {"[IU]/L": "[iU]/L", "[IU]/mL": "[iU]/mL", "copies/mL": "{copies}/mL"}

RACE_CODES = {"white": "5", "black": "3", "asian": "2", "native": "1", "pacific": "4"}
RACE_NAMES = {
    "5": "White",
    "3": "Black or African American",
    "2": "Asian",
    "1": "American Indian or Alaska Native",
    "4": "Native Hawaiian or Other Pacific Islander",
}
VOCABULARY_NAMES = {
    "Gender": "OMOP Gender",
    "Race": "Race and Ethnicity Code Set (USBC)",
    "Ethnicity": "OMOP Ethnicity",
    "Type Concept": "OMOP Type Concept",
    "ICD10CM": "International Classification of Diseases, Tenth Revision, Clinical Modification",
    "ICD10": "International Classification of Diseases, Tenth Revision (WHO)",
    "SNOMED": "Systematic Nomenclature of Medicine - Clinical Terms",
    "LOINC": "Logical Observation Identifiers Names and Codes",
    "UCUM": "Unified Code for Units of Measure",
    "RxNorm": "RxNorm (NLM)",
    "ATC": "WHO Anatomic Therapeutic Chemical Classification",
    "CVX": "CDC Vaccine Administered CVX",
    "CPT4": "Current Procedural Terminology version 4",
    "Condition Status": "OMOP Condition Status",
    "CDM": "OMOP Common Data Model",
}
ATC_LEVELS = (1, 3, 4, 5, 7)


@dataclass(frozen=True, slots=True)
class Concept:
    concept_id: int
    name: str
    domain: str
    vocabulary: str
    concept_class: str
    standard: str | None
    code: str


def synthetic_id(vocabulary: str, code: str) -> int:
    """The stable synthetic id of a concept without a known OMOP id."""
    return SYNTHETIC_BASE + zlib.crc32(f"{vocabulary}|{code}".encode()) % 100_000_000


class ConceptSet:
    """Every concept the generator may write, with its relationships."""

    def __init__(self) -> None:
        self.concepts: dict[int, Concept] = {}
        self.by_key: dict[tuple[str, str], int] = {}
        self.maps_to: set[tuple[int, int]] = set()
        self.ancestors: dict[tuple[int, int], int] = {}

    def add(
        self,
        vocabulary: str,
        code: str,
        name: str,
        domain: str,
        concept_class: str,
        standard: str | None = "S",
    ) -> int:
        key = (vocabulary, code)
        if key in self.by_key:
            return self.by_key[key]
        cid = KNOWN.get(key) or synthetic_id(vocabulary, code)
        if cid in self.concepts:
            raise ValueError(f"synthetic concept id collision: {key} and {self.concepts[cid]}")
        self.concepts[cid] = Concept(cid, name[:255], domain, vocabulary, concept_class, standard, code)
        self.by_key[key] = cid
        if standard in ("S", "C"):
            self.ancestors[(cid, cid)] = 0
        if standard == "S":
            self.maps_to.add((cid, cid))
        return cid

    def id(self, vocabulary: str, code: str) -> int:
        return self.by_key[(vocabulary, code)]

    def closure(self, used: set[int]) -> set[int]:
        """The used concepts plus what a query needs to reach them (ancestors, mappings)."""
        out = set(used)
        for (anc, desc), _ in self.ancestors.items():
            if desc in used:
                out.add(anc)
        for src, dst in self.maps_to:
            if dst in used or src in used:
                out.update((src, dst))
        out.discard(0)
        return out


def unit_vocabulary_code(unit: str) -> str:
    return UNIT_CONCEPT_CODE.get(unit, unit)


def build(cat: Catalogue) -> ConceptSet:
    """Register every concept the catalogue can produce."""
    cs = ConceptSet()
    cs.add("Gender", "M", "MALE", "Gender", "Gender")
    cs.add("Gender", "F", "FEMALE", "Gender", "Gender")
    for code, name in RACE_NAMES.items():
        cs.add("Race", code, name, "Race", "Race")
    cs.add("Ethnicity", "Hispanic", "Hispanic or Latino", "Ethnicity", "Ethnicity")
    cs.add("Ethnicity", "Not Hispanic", "Not Hispanic or Latino", "Ethnicity", "Ethnicity")
    cs.add("Type Concept", "32817", "EHR", "Type Concept", "Type Concept")
    cs.add("CDM", "measurement.measurement_id", "measurement.measurement_id", "Metadata", "Field", None)
    for status in ("active", "recurrence", "relapse", "remission", "inactive", "resolved"):
        cs.add("Condition Status", status, f"Clinical status: {status}", "Condition Status", "Condition Status")
    for e in (*cat.conditions, *cat.aml_phases):
        vocab = "ICD10CM" if e.system == "icd10cm" else "ICD10"
        src = cs.add(vocab, e.code, e.display, "Condition", "ICD10 code" if vocab == "ICD10" else "ICD10CM code", None)
        std = cs.add("SNOMED", f"TS-{e.code}", e.display, "Condition", "Clinical Finding")
        cs.maps_to.add((src, std))
    for a in cat.analytes:
        for code in a.codes:
            cs.add("LOINC", code, a.name, a.domain, "Lab Test")
        for ans in a.answers:
            cs.add("LOINC", ans, f"{a.name} answer {ans}", "Meas Value", "Answer")
        for u in a.units:
            ucode = unit_vocabulary_code(u.unit)
            cs.add("UCUM", ucode, ucode, "Unit", "Unit")
    for o in cat.oxygen:
        cs.add("LOINC", o.code, "inhaled oxygen", "Measurement", "Clinical Observation")
        cs.add("UCUM", o.unit, o.unit, "Unit", "Unit")
    cs.add("SNOMED", "10828004", "Positive", "Meas Value", "Qualifier Value")
    cs.add("SNOMED", "260385009", "Negative", "Meas Value", "Qualifier Value")
    for p in cat.procedures:
        if p.system == "cpt":
            cs.add("CPT4", p.code, p.display, "Procedure", "CPT4")
        else:
            cs.add("SNOMED", p.code, p.display, "Procedure", "Procedure")
    for code, name in cat.routes.items():
        cs.add("SNOMED", code, name, "Route", "Qualifier Value")
    for m in cat.medicines:
        product = cs.add("RxNorm", product_code(m.name), m.name, "Drug", "Clinical Drug")
        parents: list[tuple[int, int]] = []
        if m.rxnorm is not None:
            ing = cs.add("RxNorm", m.rxnorm, m.name.split(" ")[0].lower(), "Drug", "Ingredient")
            cs.ancestors[(ing, product)] = 1
            parents.append((ing, 1))
        if m.atc is not None:
            levels = [m.atc[:n] for n in ATC_LEVELS if len(m.atc) >= n]
            ids = [
                cs.add("ATC", code, f"ATC {code}", "Drug", f"ATC {i + 1}{_th(i + 1)}", "C")
                for i, code in enumerate(levels)
            ]
            for i, anc in enumerate(ids):
                for j in range(i + 1, len(ids)):
                    cs.ancestors[(anc, ids[j])] = j - i
                depth = len(ids) - i
                cs.ancestors[(anc, product)] = depth + (1 if parents else 0)
                for ing, _ in parents:
                    cs.ancestors[(anc, ing)] = depth
    for v in cat.vaccines:
        cs.add("CVX", v.cvx, v.display, "Drug", "CVX")
    for al in cat.allergens:
        cs.add("SNOMED", al.code, al.display, "Observation", "Clinical Finding")
    return cs


def product_code(name: str) -> str:
    """The invented code of a drug product (no real RxNorm code is claimed)."""
    return f"TS-{zlib.crc32(name.encode()):08x}"


def _th(n: int) -> str:
    return {1: "st", 2: "nd", 3: "rd"}.get(n, "th")
