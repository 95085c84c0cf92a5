"""The FHIR and OMOP outputs hold the same persons and facts, person by person.

OMOP holds what an ETL would load: no refuted or erroneous diagnoses and allergies, only
final/amended/corrected results, no procedures not done, no orders entered in error, only
vaccines given. Values are compared in each analyte's compared unit, converted by the
project's own unit converter from each side's own unit.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date
from pathlib import Path
from typing import Any

import duckdb
import pytest

from trialscreen.knowledge import knowledge
from trialscreen.synth.catalogue import catalogue
from trialscreen.units import UnitError, factor_to

Resources = dict[str, list[dict[str, Any]]]


def _pid(res: dict[str, Any]) -> int:
    ref = (res.get("subject") or res["patient"])["reference"]
    assert ref.startswith("Patient/")
    return int(ref.split("/", 1)[1])


def _code(cc: dict[str, Any]) -> str:
    return cc["coding"][0]["code"]


@pytest.fixture(scope="module")
def db(population: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect()
    for p in (population / "omop").glob("*.parquet"):
        con.execute(f"create view {p.stem} as select * from read_parquet('{p}')")
    return con


def _rows(con: duckdb.DuckDBPyConnection, sql: str) -> list[tuple[Any, ...]]:
    return con.execute(sql).fetchall()


def test_same_persons(fhir: Resources, db: duckdb.DuckDBPyConnection) -> None:
    omop = {r[0]: r[1:] for r in _rows(db, "select person_id, gender_source_value, birth_datetime::date from person")}
    patients = {int(p["id"]): (p["gender"], date.fromisoformat(p["birthDate"])) for p in fhir["Patient"]}
    assert patients == omop
    gender = dict(_rows(db, "select gender_source_value, any_value(gender_concept_id) from person group by 1"))
    assert gender["male"] == 8507 and gender["female"] == 8532


def test_same_conditions(fhir: Resources, db: duckdb.DuckDBPyConnection) -> None:
    dropped = {"refuted", "entered-in-error"}
    from_fhir: dict[int, Counter[str]] = defaultdict(Counter)
    for c in fhir["Condition"]:
        ver = c.get("verificationStatus")
        if ver is None or _code(ver) not in dropped:
            from_fhir[_pid(c)][_code(c["code"])] += 1
    from_omop: dict[int, Counter[str]] = defaultdict(Counter)
    for pid, code in _rows(db, "select person_id, condition_source_value from condition_occurrence"):
        from_omop[pid][code] += 1
    assert from_fhir == from_omop
    # the standard concept is reached from the source concept by 'Maps to'
    unmapped = _rows(
        db,
        """
        select count(*) from condition_occurrence co left join concept_relationship cr
          on cr.concept_id_1 = co.condition_source_concept_id
         and cr.concept_id_2 = co.condition_concept_id and cr.relationship_id = 'Maps to'
        where cr.concept_id_1 is null""",
    )
    assert unmapped == [(0,)]


def _compared(analyte_name: str, value: float, unit: str) -> float | None:
    try:
        return round(value * factor_to(knowledge().analyte(analyte_name), unit), 6)
    except UnitError:
        return None


def test_same_measurements_after_unit_conversion(fhir: Resources, db: duckdb.DuckDBPyConnection) -> None:
    cat = catalogue()
    analyte_of = {code: a.name for a in cat.analytes for code in a.codes}
    kept = {"final", "amended", "corrected"}
    from_fhir: dict[int, Counter[tuple[str, float | None]]] = defaultdict(Counter)
    converted = 0
    for o in fhir["Observation"]:
        q = o.get("valueQuantity")
        if o["status"] not in kept or q is None:
            continue
        code = _code(o["code"])
        value = _compared(analyte_of[code], q["value"], q.get("code") or q["unit"])
        converted += value is not None
        from_fhir[_pid(o)][(code, value)] += 1
    from_omop: dict[int, Counter[tuple[str, float | None]]] = defaultdict(Counter)
    for pid, code, value, unit in _rows(
        db,
        """
            select person_id, measurement_source_value, value_as_number, unit_source_value
            from measurement
            where measurement_event_id is null and value_as_number is not null
              and unit_source_value is not null""",
    ):
        from_omop[pid][(code, _compared(analyte_of[code], float(value), unit))] += 1
    assert converted > 50_000
    assert from_fhir == from_omop


def test_same_counts_of_other_facts(fhir: Resources, db: duckdb.DuckDBPyConnection) -> None:
    def count(items: list[dict[str, Any]], keep: Any) -> Counter[int]:
        return Counter(_pid(r) for r in items if keep(r))

    def omop(sql: str) -> Counter[int]:
        return Counter({pid: n for pid, n in _rows(db, sql)})

    procedures = count(fhir["Procedure"], lambda r: r["status"] not in ("not-done", "entered-in-error"))
    assert procedures == omop("select person_id, count(*) from procedure_occurrence group by 1")
    drugs = count(fhir["MedicationRequest"], lambda r: r["status"] != "entered-in-error")
    drugs += count(fhir["Immunization"], lambda r: r["status"] == "completed")
    assert drugs == omop("select person_id, count(*) from drug_exposure group by 1")
    results = count(fhir["Observation"], lambda r: r["status"] in ("final", "amended", "corrected"))
    assert results == omop("""
        select person_id, sum(n) from (
          select person_id, count(*) n from measurement where measurement_event_id is null
          group by 1
          union all
          select person_id, count(*) from observation
          where observation_source_value not in (select concept_code from concept
                                                 where domain_id = 'Observation'
                                                   and vocabulary_id = 'SNOMED')
          group by 1) group by 1""")
    components = sum(
        len(r.get("component", ())) for r in fhir["Observation"] if r["status"] in ("final", "amended", "corrected")
    )
    assert components == _rows(db, "select count(*) from measurement where measurement_event_id is not null")[0][0]
