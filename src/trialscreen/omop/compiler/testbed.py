"""A small OMOP CDM in embedded DuckDB, seeded one row per call (for tests and examples).

In the style of OHDSI circe-be's PREP/VERIFY tests: seed a few rows, run the compiled screen,
compare the people and statuses that come out, never SQL text. Vocabulary rows are created on
demand, so `bed.condition(p, icd="C92.02", ...)` also writes the ICD10CM concept.
Only the columns the compiler reads are created; `cdm_ddl_tables` in the tests checks the
compiler against the official DDL too.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

import ibis
import pyarrow as pa

MALE, FEMALE = 8507, 8532

SCHEMAS: dict[str, dict[str, str]] = {
    "person": {
        "person_id": "int64", "gender_concept_id": "int64", "year_of_birth": "int64",
        "month_of_birth": "int64", "day_of_birth": "int64", "birth_datetime": "timestamp",
    },
    "condition_occurrence": {
        "condition_occurrence_id": "int64", "person_id": "int64", "condition_concept_id": "int64",
        "condition_start_date": "date", "condition_end_date": "date",
        "condition_status_concept_id": "int64", "condition_status_source_value": "string",
        "condition_source_value": "string", "condition_source_concept_id": "int64",
    },
    "procedure_occurrence": {
        "procedure_occurrence_id": "int64", "person_id": "int64", "procedure_concept_id": "int64",
        "procedure_date": "date", "procedure_datetime": "timestamp",
        "procedure_source_value": "string", "procedure_source_concept_id": "int64",
    },
    "drug_exposure": {
        "drug_exposure_id": "int64", "person_id": "int64", "drug_concept_id": "int64",
        "drug_exposure_start_date": "date", "drug_exposure_end_date": "date",
        "route_concept_id": "int64", "route_source_value": "string",
        "drug_source_value": "string", "drug_source_concept_id": "int64",
    },
    "measurement": {
        "measurement_id": "int64", "person_id": "int64", "measurement_concept_id": "int64",
        "measurement_date": "date", "measurement_datetime": "timestamp",
        "value_as_number": "float64", "operator_concept_id": "int64", "value_as_concept_id": "int64",
        "unit_concept_id": "int64", "range_high": "float64", "measurement_source_value": "string",
        "measurement_source_concept_id": "int64", "unit_source_value": "string",
        "value_source_value": "string", "measurement_event_id": "int64",
        "meas_event_field_concept_id": "int64",
    },
    "observation": {
        "observation_id": "int64", "person_id": "int64", "observation_concept_id": "int64",
        "observation_date": "date", "observation_datetime": "timestamp", "value_as_number": "float64",
        "value_as_string": "string", "value_as_concept_id": "int64", "unit_concept_id": "int64",
        "unit_source_value": "string", "value_source_value": "string",
        "qualifier_source_value": "string", "observation_source_value": "string",
        "observation_source_concept_id": "int64", "observation_event_id": "int64",
        "obs_event_field_concept_id": "int64",
    },
    "concept": {
        "concept_id": "int64", "concept_name": "string", "domain_id": "string",
        "vocabulary_id": "string", "concept_class_id": "string", "standard_concept": "string",
        "concept_code": "string",
    },
    "concept_relationship": {
        "concept_id_1": "int64", "concept_id_2": "int64", "relationship_id": "string",
    },
    "concept_ancestor": {
        "ancestor_concept_id": "int64", "descendant_concept_id": "int64",
        "min_levels_of_separation": "int64", "max_levels_of_separation": "int64",
    },
}

_DOMAINS = {"ICD10CM": "Condition", "ICD10": "Condition", "CPT4": "Procedure", "LOINC": "Measurement",
            "RxNorm": "Drug", "ATC": "Drug", "CVX": "Drug", "UCUM": "Unit"}


class CdmTestBed:
    """An in-memory CDM: call the row methods, then use `con` (tables written on access)."""

    def __init__(self) -> None:
        self._con = ibis.duckdb.connect()
        self._rows: dict[str, list[dict[str, Any]]] = {name: [] for name in SCHEMAS}
        self._concepts: dict[tuple[str, str], int] = {}
        self._next = {name: 1 for name in SCHEMAS}
        self._next_concept = 2_000_000
        self._dirty = True

    @property
    def con(self) -> ibis.BaseBackend:
        if self._dirty:
            for name, schema in SCHEMAS.items():
                table = pa.Table.from_pylist(
                    [{k: r.get(k) for k in schema} for r in self._rows[name]],
                    schema=ibis.schema(schema).to_pyarrow(),
                )
                self._con.create_table(name, table, overwrite=True)
            self._dirty = False
        return self._con

    def _add(self, table: str, row: dict[str, Any], id_column: str | None = None) -> int:
        if id_column and row.get(id_column) is None:
            row[id_column] = self._next[table]
        if id_column:
            self._next[table] = max(self._next[table], int(row[id_column])) + 1
        self._rows[table].append(row)
        self._dirty = True
        return int(row[id_column]) if id_column else 0

    # --- vocabulary ---------------------------------------------------------------------

    def concept(self, vocabulary: str, code: str, *, name: str | None = None, domain: str | None = None,
                standard: bool | None = None, concept_id: int | None = None) -> int:
        """The concept id of (vocabulary, code), created on first use."""
        key = (vocabulary, code)
        if key in self._concepts:
            return self._concepts[key]
        if concept_id is None:
            concept_id = self._next_concept
            self._next_concept += 1
        if standard is None:
            standard = vocabulary not in ("ICD10CM", "ICD10", "ATC")
        self._concepts[key] = concept_id
        self._add("concept", {
            "concept_id": concept_id, "concept_name": name or f"{vocabulary} {code}",
            "domain_id": domain or _DOMAINS.get(vocabulary, "Observation"), "vocabulary_id": vocabulary,
            "concept_class_id": "Test", "standard_concept": "S" if standard else None, "concept_code": code,
        })
        return concept_id

    def maps_to(self, source: int, target: int) -> None:
        self._add("concept_relationship", {"concept_id_1": source, "concept_id_2": target, "relationship_id": "Maps to"})

    def ancestor(self, ancestor: int, descendant: int) -> None:
        self._add("concept_ancestor", {"ancestor_concept_id": ancestor, "descendant_concept_id": descendant,
                                       "min_levels_of_separation": 1, "max_levels_of_separation": 1})

    # --- clinical rows ------------------------------------------------------------------

    def person(self, *, gender: str | None = "female", birth: date | None = date(1980, 1, 1),
               person_id: int | None = None, birth_datetime: datetime | None = None) -> int:
        gid = {"male": MALE, "female": FEMALE, None: 0}.get(gender, 8551)
        return self._add("person", {
            "person_id": person_id, "gender_concept_id": gid,
            "year_of_birth": birth.year if birth else None, "month_of_birth": birth.month if birth else None,
            "day_of_birth": birth.day if birth else None, "birth_datetime": birth_datetime,
        }, "person_id")

    def condition(self, person: int, code: str, start: date, *, vocabulary: str = "ICD10CM",
                  end: date | None = None, status: str | None = None, source_value: str | None = None,
                  standard: int | None = None, name: str | None = None, with_concept: bool = True) -> int:
        """A condition coded `code`; `standard` is the condition_concept_id (0 if not given)."""
        source = self.concept(vocabulary, code, name=name) if with_concept else 0
        return self._add("condition_occurrence", {
            "person_id": person, "condition_concept_id": standard or 0, "condition_start_date": start,
            "condition_end_date": end, "condition_status_source_value": status,
            "condition_source_value": code if source_value is None else source_value,
            "condition_source_concept_id": source,
        }, "condition_occurrence_id")

    def procedure(self, person: int, code: str, when: date, *, vocabulary: str = "CPT4") -> int:
        cid = self.concept(vocabulary, code)
        return self._add("procedure_occurrence", {
            "person_id": person, "procedure_concept_id": cid, "procedure_date": when,
            "procedure_source_value": code, "procedure_source_concept_id": cid,
        }, "procedure_occurrence_id")

    def drug(self, person: int, code: str, start: date, *, vocabulary: str = "RxNorm", end: date | None = None,
             route: str | None = None, route_text: str | None = None, name: str | None = None,
             source_value: str | None = None, source_code: tuple[str, str] | None = None) -> int:
        """A drug exposure (also vaccines: vocabulary CVX); `route` is a SNOMED route code."""
        cid = self.concept(vocabulary, code, name=name)
        source = self.concept(*source_code) if source_code else cid
        return self._add("drug_exposure", {
            "person_id": person, "drug_concept_id": cid, "drug_exposure_start_date": start,
            "drug_exposure_end_date": end,
            "route_concept_id": self.concept("SNOMED", route, domain="Route") if route else 0,
            "route_source_value": route_text, "drug_source_value": source_value,
            "drug_source_concept_id": source,
        }, "drug_exposure_id")

    def measurement(self, person: int, loinc: str, when: date | datetime, *, value: float | None = None,
                    unit: str | None = None, unit_text: str | None = None, range_high: float | None = None,
                    value_concept: tuple[str, str] | None = None, value_text: str | None = None,
                    event_id: int | None = None, operator: str | None = None) -> int:
        """A result; `unit` is a UCUM code (unit concept), `unit_text` the unit_source_value;
        `operator` ("<", ">=", ...) makes the value a bound (a Meas Value Operator concept)."""
        day = when.date() if isinstance(when, datetime) else when
        return self._add("measurement", {
            "person_id": person, "measurement_concept_id": self.concept("LOINC", loinc),
            "measurement_date": day, "measurement_datetime": when if isinstance(when, datetime) else None,
            "value_as_number": value,
            "operator_concept_id": self.concept("Meas Value Operator", operator, name=operator,
                                                domain="Meas Value Operator") if operator else None,
            "value_as_concept_id": self.concept(*value_concept) if value_concept else None,
            "unit_concept_id": self.concept("UCUM", unit) if unit else 0, "range_high": range_high,
            "measurement_source_value": loinc, "measurement_source_concept_id": 0,
            "unit_source_value": unit_text if unit_text is not None else unit,
            "value_source_value": value_text, "measurement_event_id": event_id,
            "meas_event_field_concept_id": None,
        }, "measurement_id")

    def observation(self, person: int, when: date, *, concept: tuple[str, str] = ("SNOMED", "419199007"),
                    qualifier: str | None = None, value_string: str | None = None,
                    value_concept: tuple[str, str] | None = None, event_id: int | None = None) -> int:
        return self._add("observation", {
            "person_id": person, "observation_concept_id": self.concept(*concept), "observation_date": when,
            "value_as_string": value_string,
            "value_as_concept_id": self.concept(*value_concept) if value_concept else None,
            "qualifier_source_value": qualifier, "observation_event_id": event_id,
        }, "observation_id")
