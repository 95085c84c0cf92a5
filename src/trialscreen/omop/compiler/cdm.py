"""The CDM tables the compiler reads, as Ibis tables with the columns it needs.

Each domain becomes one small relation of events with plain names (`start`, `end`,
`status`, `source_id`, ...), so the node visitors never touch OMOP column names. What the
CDM cannot say (FHIR clinical status) follows the convention in `docs/omop-mapping.md`:
`condition_status_source_value` holds the FHIR `clinicalStatus` code.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import ibis
import ibis.expr.types as ir

from trialscreen.criteria import duration

GENDERS = {8507: "male", 8532: "female", 8521: "other", 8551: "unknown"}
"""OMOP Gender concepts (CDM conventions, not clinical knowledge)."""
CLINICAL_STATUSES = ("active", "recurrence", "relapse", "inactive", "remission", "resolved")
FOREVER = date(9999, 12, 31)
"""Expiry of a reason time does not cure (an active condition)."""
NEVER = date(1900, 1, 1)
_RAW = {
    "conditions": ("condition_occurrence", "condition"),
    "procedures": ("procedure_occurrence", "procedure"),
    "drugs": ("drug_exposure", "drug"),
    "observations": ("observation", "observation"),
}
"""The raw table and column prefix of each domain relation."""


def normalised(value: ir.StringValue) -> dict[str, ir.StringValue]:
    """The source value as written, trimmed; upper-cased; and without dots (codes compare so)."""
    trimmed = value.strip()
    return {"code_trim": trimmed, "code_upper": trimmed.upper(), "code_plain": trimmed.replace(".", "").upper()}


class CdmError(ValueError):
    """The database lacks a table or column the screen needs; the message names it."""


@dataclass
class Cdm:
    con: ibis.BaseBackend
    as_of: date
    _tables: dict[str, ir.Table] = field(default_factory=dict)
    _staged: list[str] = field(default_factory=list)

    def table(self, name: str) -> ir.Table:
        if name not in self._tables:
            try:
                self._tables[name] = self.con.table(name)
            except Exception as exc:  # backends raise their own "not found" errors
                raise CdmError(f"OMOP table {name!r} is missing or unreadable ({type(exc).__name__})") from None
        return self._tables[name]

    def column(self, table: str, name: str, dtype: str) -> ir.Value:
        """A column, or a typed NULL when the CDM version lacks it (v5.3 has no event ids)."""
        t = self.table(table)
        if name in t.columns:
            return t[name].cast(dtype)
        return ibis.null(dtype)

    def need(self, table: str, *columns: str) -> ir.Table:
        t = self.table(table)
        absent = [c for c in columns if c not in t.columns]
        if absent:
            raise CdmError(f"OMOP table {table!r} lacks column(s) {', '.join(absent)}")
        return t

    def plus(self, day: ir.DateValue, window: str) -> ir.DateValue:
        """Calendar `day + window` (month ends clip: 2026-11-30 + P3M is 2027-02-28)."""
        n, unit = duration.parts(window)
        key = {"D": "days", "W": "weeks", "M": "months", "Y": "years"}[unit]
        if unit == "W":
            key, n = "days", n * 7
        result: ir.DateValue = day + ibis.interval(**{key: n})
        return result

    def within(self, day: ir.DateValue, window: str) -> ir.BooleanValue:
        """Inside the window before the as-of date: D + W > as-of, and D not after it."""
        return (self.plus(day, window) > self.as_of) & (day <= self.as_of)

    # --- relations ----------------------------------------------------------------------

    @cached_property
    def persons(self) -> ir.Table:
        """person_id, gender (FHIR words, NULL when not recorded), age in completed years."""
        p = self.need("person", "person_id", "gender_concept_id", "year_of_birth")
        gid = p.gender_concept_id.cast("int64")
        # No standard concept (0): the source value when it is a FHIR gender word (other, unknown).
        words = self.column("person", "gender_source_value", "string").strip().lower()
        gender = ibis.cases(
            *[(gid == k, ibis.literal(v)) for k, v in GENDERS.items()],
            (words.isin(sorted(set(GENDERS.values()))).fill_null(False), words),
            else_=ibis.null("string"),
        )
        bdt = self.column("person", "birth_datetime", "timestamp")
        month = self.column("person", "month_of_birth", "int64")
        day = self.column("person", "day_of_birth", "int64")
        year = p.year_of_birth.cast("int64")
        # y/m/d when the month is given, else the birth timestamp's, else 1 January.
        use_ts = month.isnull() & bdt.notnull()
        y = ibis.cases((year.isnull(), bdt.year().cast("int64")), else_=year)
        m = ibis.cases((use_ts, bdt.month().cast("int64")), else_=month.fill_null(1))
        d = ibis.cases((use_ts, bdt.day().cast("int64")), else_=day.fill_null(1))
        before_birthday = (m > self.as_of.month) | ((m == self.as_of.month) & (d > self.as_of.day))
        age = self.as_of.year - y - ibis.cases((before_birthday, 1), else_=0)  # no bool casts: PostgreSQL refuses them
        return p.select(person_id=p.person_id.cast("int64"), gender=gender, age=age.cast("int64"))

    @cached_property
    def conditions(self) -> ir.Table:
        t = self.need("condition_occurrence", "person_id", "condition_concept_id", "condition_start_date")
        status = self.column("condition_occurrence", "condition_status_source_value", "string").strip().lower()
        rows = t.select(
            person_id=t.person_id.cast("int64"),
            concept_id=t.condition_concept_id.cast("int64").fill_null(0),
            source_id=self.column("condition_occurrence", "condition_source_concept_id", "int64").fill_null(0),
            source_value=self.column("condition_occurrence", "condition_source_value", "string"),
            **normalised(self.column("condition_occurrence", "condition_source_value", "string")),
            start=t.condition_start_date.cast("date"),
            end=self.column("condition_occurrence", "condition_end_date", "date"),
            status=ibis.cases((status.isin(list(CLINICAL_STATUSES)), status), else_=ibis.null("string")),
        )
        return rows.filter(rows.start <= self.as_of)

    @cached_property
    def procedures(self) -> ir.Table:
        t = self.need("procedure_occurrence", "person_id", "procedure_concept_id", "procedure_date")
        rows = t.select(
            person_id=t.person_id.cast("int64"),
            concept_id=t.procedure_concept_id.cast("int64").fill_null(0),
            source_id=self.column("procedure_occurrence", "procedure_source_concept_id", "int64").fill_null(0),
            source_value=self.column("procedure_occurrence", "procedure_source_value", "string"),
            **normalised(self.column("procedure_occurrence", "procedure_source_value", "string")),
            day=t.procedure_date.cast("date"),
        )
        return rows.filter(rows.day <= self.as_of)

    @cached_property
    def drugs(self) -> ir.Table:
        t = self.need("drug_exposure", "person_id", "drug_concept_id", "drug_exposure_start_date")
        rows = t.select(
            person_id=t.person_id.cast("int64"),
            exposure_id=self.column("drug_exposure", "drug_exposure_id", "int64"),
            concept_id=t.drug_concept_id.cast("int64").fill_null(0),
            source_id=self.column("drug_exposure", "drug_source_concept_id", "int64").fill_null(0),
            source_value=self.column("drug_exposure", "drug_source_value", "string"),
            **normalised(self.column("drug_exposure", "drug_source_value", "string")),
            start=t.drug_exposure_start_date.cast("date"),
            end=self.column("drug_exposure", "drug_exposure_end_date", "date"),
            route_id=self.column("drug_exposure", "route_concept_id", "int64").fill_null(0),
            route_text=self.column("drug_exposure", "route_source_value", "string"),
        )
        return rows.filter(rows.start <= self.as_of)

    @cached_property
    def observations(self) -> ir.Table:
        t = self.need("observation", "person_id", "observation_concept_id", "observation_date")
        return t.select(
            person_id=t.person_id.cast("int64"),
            concept_id=t.observation_concept_id.cast("int64").fill_null(0),
            source_id=self.column("observation", "observation_source_concept_id", "int64").fill_null(0),
            source_value=self.column("observation", "observation_source_value", "string"),
            **normalised(self.column("observation", "observation_source_value", "string")),
            value_id=self.column("observation", "value_as_concept_id", "int64").fill_null(0),
            value_string=self.column("observation", "value_as_string", "string"),
            qualifier=self.column("observation", "qualifier_source_value", "string"),
            event_id=self.column("observation", "observation_event_id", "int64"),
            day=t.observation_date.cast("date"),
        )

    def results(self, concepts: Sequence[int] | None = None, since: date | None = None) -> ir.Table:
        """Results from `measurement` and `observation` (LOINC surveys such as NYHA live there).

        `concepts` keeps rows whose standard or source concept is one of them, `since` rows
        taken on or after that day; both filter the raw tables before anything is computed.
        Each call builds a new relation, so two uses in one query are two (filtered) scans,
        never one materialised copy of every result.
        """
        m = self.need("measurement", "person_id", "measurement_concept_id", "measurement_date")
        o = self.need("observation", "person_id", "observation_concept_id", "observation_date")
        m = m.filter(self._keep(m, "measurement", concepts, since))
        o = o.filter(self._keep(o, "observation", concepts, since))
        day = m.measurement_date.cast("date")
        stamp = self._col(m, "measurement_datetime", "timestamp")
        measured = m.select(
            person_id=m.person_id.cast("int64"),
            measurement_id=self._col(m, "measurement_id", "int64"),
            concept_id=m.measurement_concept_id.cast("int64").fill_null(0),
            source_id=self._col(m, "measurement_source_concept_id", "int64").fill_null(0),
            day=day,
            ts=stamp.fill_null(day.cast("timestamp")),
            number=self._col(m, "value_as_number", "float64"),
            operator_id=self._col(m, "operator_concept_id", "int64").fill_null(0),
            value_id=self._col(m, "value_as_concept_id", "int64").fill_null(0),
            value_text=self._col(m, "value_source_value", "string"),
            unit_concept_id=self._col(m, "unit_concept_id", "int64"),
            unit_source_value=self._col(m, "unit_source_value", "string"),
            range_high=self._col(m, "range_high", "float64"),
            event_id=self._col(m, "measurement_event_id", "int64"),
        )
        o_day = o.observation_date.cast("date")
        o_stamp = self._col(o, "observation_datetime", "timestamp")
        observed = o.select(
            person_id=o.person_id.cast("int64"),
            measurement_id=self._col(o, "observation_id", "int64"),
            concept_id=o.observation_concept_id.cast("int64").fill_null(0),
            source_id=self._col(o, "observation_source_concept_id", "int64").fill_null(0),
            day=o_day,
            ts=o_stamp.fill_null(o_day.cast("timestamp")),
            number=self._col(o, "value_as_number", "float64"),
            operator_id=ibis.literal(0, "int64"),
            value_id=self._col(o, "value_as_concept_id", "int64").fill_null(0),
            value_text=self._col(o, "value_as_string", "string").fill_null(self._col(o, "value_source_value", "string")),
            unit_concept_id=self._col(o, "unit_concept_id", "int64"),
            unit_source_value=self._col(o, "unit_source_value", "string"),
            range_high=ibis.null("float64"),
            event_id=ibis.null("int64"),
        )
        return measured.union(observed)

    def stage(self, rows: ir.Table, name: str) -> ir.Table:
        """`rows` computed once, for several consumers: on DuckDB a temporary table (so the
        consumers read its few rows instead of each scanning the Parquet files again, and
        wide expressions run over plain columns); elsewhere the relation itself.

        The table is created while compiling (the query runs then), under a fresh name, and
        lives until `drop_staged` (or the connection's end).
        """
        if self.con.name != "duckdb":
            return rows
        fresh = ibis.util.gen_name(name)
        table = self.con.create_table(fresh, rows, temp=True)
        self._staged.append(fresh)
        return table

    def drop_staged(self) -> None:
        """Drop the tables `stage` made, once the screen that reads them has run."""
        while self._staged:
            self.con.drop_table(self._staged.pop(), force=True)

    def source_values(self, domain: str, column: str = "source") -> ir.Table:
        """Distinct source values of a domain's raw table, with whether the row had no source
        concept (`source_id` 0, else 1) and the normalised spellings (`normalised`).

        Value sets match source values and free text on these few rows, joined back by value,
        instead of running string tests on every event row. `column` "route" gives the drug
        routes' source values instead.
        """
        table, prefix = _RAW[domain]
        t = self.table(table)
        if column == "route":
            value = self._col(t, "route_source_value", "string")
            source: ir.IntegerValue = ibis.literal(1, "int64")
        else:
            value = self._col(t, f"{prefix}_source_value", "string")
            source = self._col(t, f"{prefix}_source_concept_id", "int64").fill_null(0)
        v = t.select(source_value=value, source_id=ibis.cases((source == 0, 0), else_=1)).distinct()
        v = v.filter(v.source_value.notnull())
        return v.mutate(**normalised(v.source_value))

    @staticmethod
    def _col(t: ir.Table, name: str, dtype: str) -> ir.Value:
        return t[name].cast(dtype) if name in t.columns else ibis.null(dtype)

    def _keep(self, t: ir.Table, table: str, concepts: Sequence[int] | None, since: date | None) -> ir.BooleanValue:
        """The raw-table filter of `results`: taken by the as-of date, and the asked concepts and days."""
        prefix = "measurement" if table == "measurement" else "observation"
        day = t[f"{prefix}_date"].cast("date")
        keep = day <= self.as_of
        if since is not None:
            keep &= day >= since
        if concepts is not None:
            ids = sorted(set(concepts))
            if not ids:
                return keep & ibis.literal(False)
            concept = t[f"{prefix}_concept_id"].cast("int64").isin(ids).fill_null(False)
            source = self._col(t, f"{prefix}_source_concept_id", "int64").isin(ids).fill_null(False)
            keep &= concept | source
        return keep
