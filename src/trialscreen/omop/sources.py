"""Where OMOP CDM tables come from: a directory of files, a DuckDB file, or a PostgreSQL schema.

A source is only *described* here (what tables exist, where); an engine (`omop.engines`)
reads it. Whatever the source, the engine ends up with one lower-case view per table whose
columns have the CDM v5.4 types and names, so the compiler sees a single shape: CSV text is
cast by the CDM's column conventions, float ids (`10204.0`, as some exports write them)
become integers, and a v5.3 table gains the v5.4 columns it lacks (as nulls) or renamed.
"""

from __future__ import annotations

import gzip
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal
from urllib.parse import parse_qs, urlencode, urlsplit, urlunsplit

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir


class PopulationError(Exception):
    """A problem the user can fix; the message names the input and what is wrong.

    `exit_code` is 1 for data and environment problems, 2 for usage problems.
    """

    exit_code = 1


class UsageError(PopulationError):
    exit_code = 2


class SourceError(PopulationError):
    """The OMOP source cannot be read as a CDM (missing table or column, unknown version)."""


# --- the CDM's column conventions ----------------------------------------------------------

ColumnType = Literal["int64", "float64", "date", "timestamp", "string"]

_STRING_COLUMNS = frozenset(
    {
        "concept_code",
        "domain_id",
        "vocabulary_id",
        "concept_class_id",
        "standard_concept",
        "invalid_reason",
        "relationship_id",
        "reverse_relationship_id",
        "is_hierarchical",
        "defines_ancestry",
        "cdm_version",
        "vocabulary_version",
        "measurement_time",
        "value_as_string",
        "stop_reason",
        "sig",
        "lot_number",
        "unique_device_id",
        "production_id",
        "specimen_source_id",
        "cost_domain_id",
        "source_code",
        "source_vocabulary_id",
        "target_vocabulary_id",
        "npi",
        "dea",
        "note_title",
        "note_text",
        "snippet",
        "offset",
        "lexical_variant",
        "nlp_system",
        "term_exists",
        "term_temporal",
        "term_modifiers",
        "address_1",
        "address_2",
        "city",
        "state",
        "zip",
        "county",
        "name",
        "source_description",
        "cdm_holder",
        "cdm_etl_reference",
        "source_documentation_reference",
        "cdm_source_abbreviation",
        "vocabulary_reference",
        "cohort_definition_syntax",
        "cohort_definition_description",
    }
)
_STRING_SUFFIXES = ("_source_value", "_name", "_description")
_FLOAT_COLUMNS = frozenset(
    {
        "value_as_number",
        "range_low",
        "range_high",
        "quantity",
        "dose_value",
        "amount_value",
        "numerator_value",
        "denominator_value",
        "latitude",
        "longitude",
        "total_charge",
        "total_cost",
        "total_paid",
        "paid_by_payer",
        "paid_by_patient",
        "paid_patient_copay",
        "paid_patient_coinsurance",
        "paid_patient_deductible",
        "paid_by_primary",
        "paid_ingredient_cost",
        "paid_dispensing_fee",
        "amount_allowed",
    }
)
_INT_COLUMNS = frozenset(
    {
        "year_of_birth",
        "month_of_birth",
        "day_of_birth",
        "refills",
        "days_supply",
        "box_size",
        "gap_days",
        "episode_number",
        "min_levels_of_separation",
        "max_levels_of_separation",
    }
)


def column_type(column: str) -> ColumnType | None:
    """The CDM v5.4 type of a column, from the CDM's naming conventions (None: not a CDM name)."""
    name = column.lower()
    if name in _STRING_COLUMNS or name.endswith(_STRING_SUFFIXES):
        return "string"
    if name in _FLOAT_COLUMNS:
        return "float64"
    if name.endswith("_datetime"):
        return "timestamp"
    if name.endswith("_date"):
        return "date"
    if name in _INT_COLUMNS or name.endswith(("_id", "_count")) or re.search(r"_id_\d$", name):
        return "int64"
    return None


_IBIS_TYPES: dict[ColumnType, dt.DataType] = {
    "int64": dt.int64,
    "float64": dt.float64,
    "date": dt.date,
    "timestamp": dt.timestamp,
    "string": dt.string,
}

# --- CDM versions -------------------------------------------------------------------------

SUPPORTED_VERSIONS = ("5.3", "5.4")

V53_RENAMES: dict[str, dict[str, str]] = {
    "visit_occurrence": {
        "admitting_source_concept_id": "admitted_from_concept_id",
        "admitting_source_value": "admitted_from_source_value",
        "discharge_to_concept_id": "discharged_to_concept_id",
        "discharge_to_source_value": "discharged_to_source_value",
    },
    "visit_detail": {
        "admitting_source_concept_id": "admitted_from_concept_id",
        "admitting_source_value": "admitted_from_source_value",
        "discharge_to_concept_id": "discharged_to_concept_id",
        "discharge_to_source_value": "discharged_to_source_value",
        "visit_detail_parent_id": "parent_visit_detail_id",
    },
}
"""Columns that v5.4 renamed: table -> {v5.3 name: v5.4 name}."""

V54_ADDED: dict[str, tuple[str, ...]] = {
    "measurement": (
        "unit_source_concept_id",
        "measurement_event_id",
        "meas_event_field_concept_id",
    ),
    "observation": ("value_source_value", "observation_event_id", "obs_event_field_concept_id"),
    "procedure_occurrence": ("procedure_end_date", "procedure_end_datetime"),
    "device_exposure": (
        "production_id",
        "unit_concept_id",
        "unit_source_value",
        "unit_source_concept_id",
    ),
    "note": ("note_event_id", "note_event_field_concept_id"),
    "cdm_source": ("cdm_version_concept_id",),
}
"""Columns v5.4 added to tables that v5.3 already had; a v5.3 table gets them as nulls."""

SCREEN_TABLES: dict[str, tuple[str, ...]] = {
    "person": ("person_id", "gender_concept_id", "year_of_birth"),
    "condition_occurrence": (
        "person_id",
        "condition_concept_id",
        "condition_start_date",
        "condition_source_value",
    ),
    "procedure_occurrence": ("person_id", "procedure_concept_id", "procedure_date"),
    "drug_exposure": ("person_id", "drug_concept_id", "drug_exposure_start_date"),
    "measurement": (
        "person_id",
        "measurement_concept_id",
        "measurement_date",
        "value_as_number",
        "unit_concept_id",
    ),
    "observation": ("person_id", "observation_concept_id", "observation_date"),
    "concept": ("concept_id", "concept_code", "vocabulary_id"),
    "concept_relationship": ("concept_id_1", "concept_id_2", "relationship_id"),
    "concept_ancestor": ("ancestor_concept_id", "descendant_concept_id"),
}
"""The tables a screen reads, with the columns it cannot do without."""

OPTIONAL_TABLES = ("cdm_source", "death", "observation_period", "visit_occurrence")
"""Read when present (version detection, context), never required."""


def normalise_version(raw: str) -> str:
    """'v5.3.1', 'CDM v5.4.0', '5.4' -> '5.3' / '5.4' (major.minor); the raw text if unparsable."""
    match = re.search(r"(\d+)\.(\d+)", raw)
    return f"{match.group(1)}.{match.group(2)}" if match else raw.strip()


def version_from_columns(columns: Mapping[str, Iterable[str]]) -> str:
    """Tell v5.3 from v5.4 by the columns v5.4 added (when `cdm_source` says nothing)."""
    measurement = {c.lower() for c in columns.get("measurement", ())}
    if "unit_source_concept_id" in measurement or "measurement_event_id" in measurement:
        return "5.4"
    return "5.3"


def conform(table: ir.Table, name: str, version: str) -> ir.Table:
    """The table with lower-case column names, CDM v5.4 types and v5.4 columns.

    Only columns whose type differs from the CDM's are cast; a float id goes through float
    to integer, so `10204.0` reads as 10204.
    """
    renames = V53_RENAMES.get(name, {}) if version == "5.3" else {}
    exprs: dict[str, ir.Value] = {}
    for column in table.columns:
        target_name = renames.get(column.lower(), column.lower())
        exprs[target_name] = _cast(table[column], column_type(target_name))
    for added in V54_ADDED.get(name, ()):
        if added not in exprs:
            wanted = column_type(added) or "string"
            exprs[added] = ibis.null().cast(_IBIS_TYPES[wanted])
    return table.select(**exprs)


def _cast(value: ir.Value, wanted: ColumnType | None) -> ir.Value:
    if wanted is None:
        return value
    have = value.type()
    target = _IBIS_TYPES[wanted]
    if have == target:
        return value
    if wanted == "int64":
        if have.is_integer():
            return value.cast(dt.int64)
        if have.is_string():
            return value.cast(dt.float64).cast(dt.int64)
        return value.cast(dt.int64)
    if wanted == "float64" and have.is_numeric():
        return value.cast(dt.float64)
    if wanted == "date" and have.is_timestamp():
        return value.cast(dt.date)
    if have.is_null():
        return value.cast(target)
    return value.cast(target)


# --- the three kinds of source ------------------------------------------------------------

FileFormat = Literal["parquet", "csv"]


@dataclass(frozen=True)
class TableFile:
    """One table's data in a directory: a file, or a folder of Parquet parts."""

    name: str
    path: Path
    format: FileFormat

    def glob(self) -> str:
        """What a reader opens: the file, or every Parquet part of the folder."""
        return str(self.path / "*.parquet") if self.path.is_dir() else str(self.path)

    def header(self) -> list[str]:
        """Column names of a CSV file (first line), for reading every column as text."""
        opener = gzip.open if self.path.name.lower().endswith(".gz") else open
        try:
            with opener(self.path, "rt", encoding="utf-8-sig") as handle:
                first = handle.readline()
        except (OSError, UnicodeDecodeError) as exc:
            raise SourceError(f"{self.path}: cannot read the CSV header ({exc})") from None
        delimiter = "\t" if "\t" in first and "," not in first else ","
        return [c.strip().strip('"') for c in first.rstrip("\r\n").split(delimiter)]


@dataclass(frozen=True)
class DirectorySource:
    """A directory of OMOP tables as Parquet or CSV (gzip too), named in any case."""

    path: Path
    files: dict[str, TableFile]

    @property
    def description(self) -> str:
        return str(self.path)

    def table_names(self) -> list[str]:
        return sorted(self.files)


@dataclass(frozen=True)
class DuckDBFileSource:
    """A DuckDB database file holding the CDM tables (in `schema`, default `main`)."""

    path: Path
    schema: str | None = None

    @property
    def description(self) -> str:
        return str(self.path) + (f" (schema {self.schema})" if self.schema else "")


@dataclass(frozen=True)
class PostgresSource:
    """A PostgreSQL database; the CDM tables live in `schema`."""

    url: str
    schema: str
    connect_args: dict[str, object] = field(default_factory=dict)

    @property
    def description(self) -> str:
        return f"{redact(self.url)} (schema {self.schema})"


Source = DirectorySource | DuckDBFileSource | PostgresSource

_FILE_PATTERN = re.compile(
    r"^(?P<name>[A-Za-z_][A-Za-z0-9_]*)\.(?P<ext>parquet|pq|csv|csv\.gz|tsv|tsv\.gz|txt\.gz)$",
    re.IGNORECASE,
)


def redact(url: str) -> str:
    """A URL without its password, for messages."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    netloc = parts.netloc.replace(f":{parts.password}@", ":***@")
    return urlunsplit(parts._replace(netloc=netloc))


def discover(directory: Path) -> dict[str, TableFile]:
    """The OMOP tables of a directory, by lower-case name; two files for one table is an error."""
    found: dict[str, TableFile] = {}
    for entry in sorted(directory.iterdir()):
        if entry.is_dir():
            if any(entry.glob("*.parquet")) and re.fullmatch(r"[A-Za-z_]\w*", entry.name):
                candidate = TableFile(entry.name.lower(), entry, "parquet")
            else:
                continue
        else:
            match = _FILE_PATTERN.match(entry.name)
            if not match:
                continue
            ext = match.group("ext").lower()
            fmt: FileFormat = "parquet" if ext in ("parquet", "pq") else "csv"
            candidate = TableFile(match.group("name").lower(), entry, fmt)
        if candidate.name in found:
            raise SourceError(
                f"{directory}: two files for table {candidate.name}: "
                f"{found[candidate.name].path.name} and {entry.name}"
            )
        found[candidate.name] = candidate
    return found


def parse_source(spec: str, schema: str | None = None) -> Source:
    """Describe SOURCE (path or URL) without reading its data yet."""
    if re.match(r"^postgres(ql)?(\+\w+)?://", spec):
        return _postgres_source(spec, schema)
    path = Path(spec).expanduser()
    if not path.exists():
        raise SourceError(f"{spec}: no such file or directory")
    if path.is_dir():
        files = discover(path)
        if not files:
            raise SourceError(
                f"{spec}: no OMOP tables found (expected files such as person.parquet "
                "or PERSON.csv.gz)"
            )
        return DirectorySource(path, files)
    if path.suffix.lower() in (".duckdb", ".ddb", ".db") or _is_duckdb_file(path):
        return DuckDBFileSource(path, schema)
    raise SourceError(
        f"{spec}: not a DuckDB file, a directory of OMOP tables, or a postgresql:// URL"
    )


def _is_duckdb_file(path: Path) -> bool:
    try:
        with path.open("rb") as handle:
            head = handle.read(16)
    except OSError:
        return False
    return head[8:12] == b"DUCK"


def _postgres_source(spec: str, schema: str | None) -> PostgresSource:
    parts = urlsplit(spec)
    query = parse_qs(parts.query)
    in_url = query.pop("schema", [None])[0] or query.pop("currentSchema", [None])[0]
    chosen = schema or in_url
    if not chosen:
        raise UsageError(
            f"{redact(spec)}: say which schema holds the CDM tables "
            "(?schema=NAME in the URL, or --schema NAME)"
        )
    if not parts.hostname or not parts.path.strip("/"):
        raise UsageError(f"{redact(spec)}: a PostgreSQL URL needs a host and a database name")
    clean = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
    return PostgresSource(clean, chosen)


def check_tables(available: Mapping[str, Iterable[str]], where: str) -> None:
    """Every table and column a screen reads is there; else name the first that is not."""
    columns = {name: {c.lower() for c in cols} for name, cols in available.items()}
    missing_tables = [name for name in SCREEN_TABLES if name not in columns]
    if missing_tables:
        raise SourceError(
            f"{where}: missing OMOP table{'s' if len(missing_tables) > 1 else ''} "
            + ", ".join(missing_tables)
        )
    for name, needed in SCREEN_TABLES.items():
        absent = [c for c in needed if c not in columns[name]]
        if absent:
            raise SourceError(
                f"{where}: table {name} has no column{'s' if len(absent) > 1 else ''} "
                + ", ".join(absent)
            )


def check_version(version: str, where: str) -> str:
    """The version if this code reads it; else a clear refusal."""
    short = normalise_version(version)
    if short not in SUPPORTED_VERSIONS:
        raise SourceError(
            f"{where}: OMOP CDM version {version!r} cannot be read "
            f"(supported: {', '.join('v' + v for v in SUPPORTED_VERSIONS)})"
        )
    return short
