"""The OMOP CDM v5.4 tables the generator writes, as Arrow schemas.

Column names, order and nullability follow the official DuckDB DDL
(``OMOPCDM_duckdb_5.4_ddl.sql``; a test holds them to it). Types: ``integer`` -> int32,
``NUMERIC`` -> float64, ``date`` -> date32, ``TIMESTAMP`` -> timestamp[us], text -> string.
"""

from __future__ import annotations

import pyarrow as pa

# name:type, "!" when NOT NULL; i integer, f numeric, d date, t timestamp, s text
TABLES: dict[str, str] = {
    "person": "person_id:i! gender_concept_id:i! year_of_birth:i! month_of_birth:i "
    "day_of_birth:i birth_datetime:t race_concept_id:i! ethnicity_concept_id:i! location_id:i "
    "provider_id:i care_site_id:i person_source_value:s gender_source_value:s "
    "gender_source_concept_id:i race_source_value:s race_source_concept_id:i "
    "ethnicity_source_value:s ethnicity_source_concept_id:i",
    "observation_period": "observation_period_id:i! person_id:i! "
    "observation_period_start_date:d! observation_period_end_date:d! period_type_concept_id:i!",
    "condition_occurrence": "condition_occurrence_id:i! person_id:i! condition_concept_id:i! "
    "condition_start_date:d! condition_start_datetime:t condition_end_date:d "
    "condition_end_datetime:t condition_type_concept_id:i! condition_status_concept_id:i "
    "stop_reason:s provider_id:i visit_occurrence_id:i visit_detail_id:i "
    "condition_source_value:s condition_source_concept_id:i condition_status_source_value:s",
    "drug_exposure": "drug_exposure_id:i! person_id:i! drug_concept_id:i! "
    "drug_exposure_start_date:d! drug_exposure_start_datetime:t drug_exposure_end_date:d! "
    "drug_exposure_end_datetime:t verbatim_end_date:d drug_type_concept_id:i! stop_reason:s "
    "refills:i quantity:f days_supply:i sig:s route_concept_id:i lot_number:s provider_id:i "
    "visit_occurrence_id:i visit_detail_id:i drug_source_value:s drug_source_concept_id:i "
    "route_source_value:s dose_unit_source_value:s",
    "procedure_occurrence": "procedure_occurrence_id:i! person_id:i! procedure_concept_id:i! "
    "procedure_date:d! procedure_datetime:t procedure_end_date:d procedure_end_datetime:t "
    "procedure_type_concept_id:i! modifier_concept_id:i quantity:i provider_id:i "
    "visit_occurrence_id:i visit_detail_id:i procedure_source_value:s "
    "procedure_source_concept_id:i modifier_source_value:s",
    "measurement": "measurement_id:i! person_id:i! measurement_concept_id:i! "
    "measurement_date:d! measurement_datetime:t measurement_time:s "
    "measurement_type_concept_id:i! operator_concept_id:i value_as_number:f "
    "value_as_concept_id:i unit_concept_id:i range_low:f range_high:f provider_id:i "
    "visit_occurrence_id:i visit_detail_id:i measurement_source_value:s "
    "measurement_source_concept_id:i unit_source_value:s unit_source_concept_id:i "
    "value_source_value:s measurement_event_id:i meas_event_field_concept_id:i",
    "observation": "observation_id:i! person_id:i! observation_concept_id:i! "
    "observation_date:d! observation_datetime:t observation_type_concept_id:i! "
    "value_as_number:f value_as_string:s value_as_concept_id:i qualifier_concept_id:i "
    "unit_concept_id:i provider_id:i visit_occurrence_id:i visit_detail_id:i "
    "observation_source_value:s observation_source_concept_id:i unit_source_value:s "
    "qualifier_source_value:s value_source_value:s observation_event_id:i "
    "obs_event_field_concept_id:i",
    "death": "person_id:i! death_date:d! death_datetime:t death_type_concept_id:i "
    "cause_concept_id:i cause_source_value:s cause_source_concept_id:i",
    "cdm_source": "cdm_source_name:s! cdm_source_abbreviation:s! cdm_holder:s! "
    "source_description:s source_documentation_reference:s cdm_etl_reference:s "
    "source_release_date:d! cdm_release_date:d! cdm_version:s cdm_version_concept_id:i! "
    "vocabulary_version:s!",
    "concept": "concept_id:i! concept_name:s! domain_id:s! vocabulary_id:s! "
    "concept_class_id:s! standard_concept:s concept_code:s! valid_start_date:d! "
    "valid_end_date:d! invalid_reason:s",
    "vocabulary": "vocabulary_id:s! vocabulary_name:s! vocabulary_reference:s "
    "vocabulary_version:s vocabulary_concept_id:i!",
    "concept_relationship": "concept_id_1:i! concept_id_2:i! relationship_id:s! "
    "valid_start_date:d! valid_end_date:d! invalid_reason:s",
    "concept_ancestor": "ancestor_concept_id:i! descendant_concept_id:i! "
    "min_levels_of_separation:i! max_levels_of_separation:i!",
}

_TYPES = {
    "i": pa.int32(),
    "f": pa.float64(),
    "d": pa.date32(),
    "t": pa.timestamp("us"),
    "s": pa.string(),
}


def columns(table: str) -> list[tuple[str, str, bool]]:
    """(name, type letter, not null) of each column of a table, in DDL order."""
    out = []
    for item in TABLES[table].split():
        name, _, kind = item.partition(":")
        out.append((name, kind.rstrip("!"), kind.endswith("!")))
    return out


def schema(table: str) -> pa.Schema:
    return pa.schema([pa.field(name, _TYPES[kind], nullable=not nn) for name, kind, nn in columns(table)])


def table(name: str, data: dict[str, object], rows: int) -> pa.Table:
    """An Arrow table of the given columns; columns not given are all null."""
    sch = schema(name)
    arrays = []
    for f in sch:
        if f.name in data:
            value = data[f.name]
            if isinstance(value, pa.Array):
                arrays.append(value.cast(f.type))
            else:
                arrays.append(pa.array(value, type=f.type))
        else:
            arrays.append(pa.nulls(rows, type=f.type))
    return pa.Table.from_arrays(arrays, schema=sch)
