"""Results of the knowledge's analytes read from `measurement`: converted values, readings, ULN.

Every row of an analyte's concepts becomes (person_id, measurement_id, day, ts, stamp,
analyte, num, qual, uln, cmp): `analyte` a small integer code (`Results.code`), `num` in the
compared unit (or the ordinal value), NULL when it cannot be read; `qual` 'positive' /
'negative' / NULL; `uln` the row's `range_high` in the compared unit; `stamp` the time in
whole epoch seconds. Picking the latest result is left to the node (its look-back and its
tie rule differ).

Built for one pass over millions of rows: only the rows of the analytes some leaf reads, from
the first day it reads them (`readings`); the analyte, that day and the unit factor come from
hash joins on small literal tables (not CASEs of IN lists on every row), and the ordinal and
qualitative readings are computed only on the rows of the analytes that have them. Analytes
with a set-aside rule (SpO2 taken on oxygen) get a relation of their own, so the anti-joins
touch their rows only. Every relation is a filter of one pass (`readings`), which on DuckDB
is staged once (`Cdm.stage`): the oxygen components and the Cockcroft-Gault inputs ride in
it, so no relation scans the results again.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from trialscreen.criteria import duration
from trialscreen.knowledge import Analyte, Coding, Knowledge
from trialscreen.knowledge.analytes import ComponentRule
from trialscreen.omop.compiler.cdm import Cdm
from trialscreen.omop.units import NO_UNIT, analyte_factors, distinct_units, factor_expr, plain_factors, units_of
from trialscreen.omop.vocabulary import Vocabulary

OPERATOR_DOMAIN = "Meas Value Operator"
BOUNDS = ("<", "<=", ">", ">=")
MAIN = "results"
"""The name of the relation of every analyte without a set-aside rule."""
CG_INPUTS = ("creatinine", "weight")
"""Analytes whose latest values Cockcroft-Gault reads (`latest_values`)."""
_NO_LIMIT = 2**62
"""A LIMIT no table reaches (an optimisation fence for PostgreSQL, see `_readings`)."""
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}


@dataclass(slots=True)
class Results:
    """Builds (and caches) the result relations the measurement leaves aggregate."""

    cdm: Cdm
    vocab: Vocabulary
    kb: Knowledge
    since: date
    """The earliest look-back day any leaf reads: older rows are never read."""
    qualitative: frozenset[str] = frozenset()
    """Analytes whose qualitative reading some leaf reads (others skip the string tests)."""
    first_days: dict[str, date] | None = None
    """Per analyte, the earliest day a leaf reads (None: every analyte from `since`); the
    relation of the analytes without a set-aside rule keeps only these rows."""
    _relations: dict[tuple[str, ...], ir.Table] = field(default_factory=dict)
    _units: list[tuple[int, int, int, str, str | None]] | None = None
    _ids: dict[str, list[int]] = field(default_factory=dict)
    _readings_table: ir.Table | None = None
    _components_coded: list[tuple[int, Analyte, ComponentRule, list[int]]] | None = None

    # --- names and codes ------------------------------------------------------------------

    @property
    def names(self) -> list[str]:
        return sorted(self.kb.analytes)

    def code(self, name: str) -> int:
        """The analyte's code in the `analyte` column."""
        return self.names.index(name)

    def group(self, name: str) -> str:
        """The relation an analyte's rows live in: its own when it has a set-aside rule."""
        return name if self.kb.analyte(name).set_aside_when_component else MAIN

    def members(self, group: str) -> tuple[str, ...]:
        if group != MAIN:
            return (group,)
        return tuple(n for n in self.names if self.group(n) == MAIN)

    def ids(self, analyte: Analyte) -> list[int]:
        if analyte.name not in self._ids:
            self._ids[analyte.name] = sorted(self.vocab.codings(analyte.codes, analyte.name))
        return self._ids[analyte.name]

    def first_day(self, lookback: str) -> date:
        """The look-back window's first day (included)."""
        return duration.subtract(self.cdm.as_of, lookback)

    # --- units ------------------------------------------------------------------------------

    def units(self, ids: list[int]) -> list[tuple[int, str, str | None]]:
        """Units that occur on rows of `ids`, from one distinct over every result since `since`.

        Not over the rows read (`readings` needs these factors first, and the look-back
        joins cost more than the distinct itself). The pairs of concepts
        and units no relation reads (or seen only before a look-back) get factors no row read
        uses, so no value changes.
        """
        if self._units is None:
            self._units = distinct_units(self.cdm.table("concept"), self.cdm.results(None, self.since))
        return units_of(self._units, ids)

    # --- relations --------------------------------------------------------------------------

    def relation(self, group: str) -> ir.Table:
        """The rows of a group's analytes from the first day read, read and converted.

        A filter of `readings` (on DuckDB a cheap filter of a staged table): the main group
        keeps its analytes from the days its leaves read (`first_days`), a set-aside analyte
        its rows without those its components set aside.
        """
        key = self.members(group)
        if key not in self._relations:
            rows = self.readings()
            if group != MAIN:
                code = self.code(group)
                rows = self._set_aside(self.kb.analyte(group), rows.filter(rows.analyte == code))
            else:
                keep = self._main_filter(rows)
                if keep is not None:
                    rows = rows.filter(keep)
            self._relations[key] = rows
        return self._relations[key]

    def latest_values(self, worst_high: dict[str, bool]) -> ir.Table:
        """person_id and, per analyte, the value of its latest exact result in its look-back.

        On a tie the less favourable value wins (`worst_high`: the highest), and an unreadable
        result or a bound ("<0.5") at the latest time gives no value (it hides older ones).
        One window over the rows of these analytes only.
        """
        names = tuple(sorted(worst_high))
        if not set(names) <= set(CG_INPUTS):
            raise ValueError(f"latest values of {', '.join(names)}: only {', '.join(CG_INPUTS)} are read apart")
        if not self._reads_cg_inputs():
            raise ValueError("latest values: no leaf reads creatinine clearance, so its inputs were not read")
        rows = self.readings()
        in_lookback: ir.BooleanValue = ibis.literal(False)
        for name in names:
            day = self.first_day(self.kb.analyte(name).lookback)
            in_lookback |= (rows.analyte == self.code(name)) & (rows.day >= day)
        rows = rows.filter(in_lookback)
        rows = rows.mutate(num=ibis.cases((rows.cmp.isnull(), rows.num), else_=ibis.null("float64")))
        unreadable_first = ibis.cases((rows.num.isnull(), 0), else_=1)
        tie = ibis.cases(
            *[(rows.analyte == self.code(n), -rows.num if high else rows.num) for n, high in worst_high.items()],
            else_=rows.num,
        )
        ranked = rows.mutate(
            _rank=ibis.row_number().over(
                group_by=[rows.person_id, rows.analyte], order_by=[rows.ts.desc(), unreadable_first, tie]
            )
        )
        top = ranked.filter(ranked._rank == 0)
        return top.group_by(_v_person=top.person_id).aggregate(
            **{
                f"_v_{name}": ibis.cases((top.analyte == self.code(name), top.num), else_=ibis.null("float64")).max()
                for name in names
            }
        )

    def readings(self) -> ir.Table:
        """Every result row some relation reads, read and converted once (staged on DuckDB).

        One filtered pass over measurement ∪ observation: the main analytes from the first
        day a leaf reads them, the set-aside analytes from theirs, the Cockcroft-Gault inputs
        from their look-backs, and the set-aside components (each under a code of its own,
        after the analytes', `num` its value in the rule's unit) from `since`. The relations
        filter it: on DuckDB a cheap filter of a narrow in-memory table instead of another
        scan of the Parquet files. (Staging the raw rows instead saved no time and cost a
        gigabyte at 1,000,000 persons.)
        """
        if self._readings_table is None:
            rows = self._read()
            # Every result leaf aggregates these rows with wide per-row expressions, which
            # run several times faster over a plain table than over join output.
            self._readings_table = self.cdm.stage(rows, "trialscreen_readings")
        return self._readings_table

    def _reads_cg_inputs(self) -> bool:
        return self.first_days is None or "creatinine_clearance" in self.first_days

    def _main_days(self) -> dict[str, date]:
        """The main analytes some leaf reads, with the first day read."""
        return {
            name: self.since if self.first_days is None else max(self.first_days[name], self.since)
            for name in self.members(MAIN)
            if self.first_days is None or name in self.first_days
        }

    def _aside_day(self, name: str) -> date:
        return max((self.first_days or {}).get(name, self.since), self.since)

    def _read_days(self) -> dict[int, date]:
        """Analyte or component code -> the first day any relation reads it."""
        days: dict[int, date] = {}

        def need(code: int, day: date) -> None:
            days[code] = min(days.get(code, day), day)

        for name, day in self._main_days().items():
            need(self.code(name), day)
        if self._reads_cg_inputs():
            for name in CG_INPUTS:
                need(self.code(name), self.first_day(self.kb.analyte(name).lookback))
        for name in self.names:
            if self.group(name) != MAIN:
                need(self.code(name), self._aside_day(name))
        # (components taken before the earliest look-back day cannot be the analyte's
        # components in its look-back: they share its event or its time)
        for code, _, _, _ in self._coded_components():
            need(code, self.since)
        return days

    def _main_filter(self, rows: ir.Table) -> ir.BooleanValue | None:
        """The test that keeps the main relation's rows of `readings` (None: every row)."""
        read = self._read_days()
        main = {self.code(n): day for n, day in self._main_days().items()}
        if set(read) == set(main) and all(read[c] == day for c, day in main.items()):
            return None
        plain = sorted(c for c, day in main.items() if read[c] == day)
        others = sorted(set(read) - set(plain))
        keep: ir.BooleanValue = rows.analyte.isin(plain) if plain else ibis.literal(False)
        if plain and len(others) < len(plain):
            # The same rows (`readings` holds only the codes read), without the IN list that
            # DuckDB runs as a join on every row.
            keep = ibis.literal(True)
            for code in others:
                keep &= rows.analyte != code
        for code, day in sorted(main.items()):
            if read[code] != day:
                keep |= (rows.analyte == code) & (rows.day >= day)
        return keep

    def _coded_components(self) -> list[tuple[int, Analyte, ComponentRule, list[int]]]:
        """(code, analyte, rule, concept ids) of each set-aside rule read through `readings`.

        A component's code follows the analytes' codes. A rule with a concept that an
        analyte (or an earlier rule) already claims is read apart (`_raw_component`).
        """
        if self._components_coded is None:
            coded: list[tuple[int, Analyte, ComponentRule, list[int]]] = []
            claimed = set(self._owner())
            code = len(self.names)
            for name in self.names:
                analyte = self.kb.analyte(name)
                for rule, ids in zip(analyte.set_aside_when_component, self._components(analyte), strict=True):
                    if ids and not claimed & set(ids):
                        coded.append((code, analyte, rule, ids))
                        claimed.update(ids)
                        code += 1
            self._components_coded = coded
        return self._components_coded

    def _owner(self) -> dict[int, int]:
        """Concept id -> analyte code (a concept shared by two analytes goes to the first)."""
        owner: dict[int, int] = {}
        for name in self.names:
            for concept_id in self.ids(self.kb.analyte(name)):
                owner.setdefault(concept_id, self.code(name))
        return owner

    def _components(self, analyte: Analyte) -> list[list[int]]:
        """Concept ids of each set-aside rule's component (e.g. inhaled oxygen)."""
        return [
            sorted(self.vocab.codings([Coding(rule.system, rule.code)], analyte.name))
            for rule in analyte.set_aside_when_component
        ]

    def _read(self) -> ir.Table:
        """`readings` as a relation: one pass, the analyte (or component) and its first day
        from joins on a small literal table (by standard concept, else by source concept)."""
        owner = self._owner()
        for code, _, _, ids in self._coded_components():
            for concept_id in ids:
                owner.setdefault(concept_id, code)
        days = self._read_days()
        m = self.cdm.results(None, self.since)
        by_concept = ibis.memtable(
            pa.table(
                {
                    "a_id": pa.array(list(owner), pa.int64()),
                    "a_code": pa.array(list(owner.values()), pa.int64()),
                    "a_day": pa.array([days.get(code) for code in owner.values()], pa.date32()),
                }
            )
        )
        by_source = by_concept.rename(s_id="a_id", s_code="a_code", s_day="a_day")
        joined = m.left_join(by_concept, m.concept_id == by_concept.a_id).left_join(
            by_source, m.source_id == by_source.s_id
        )
        rows = joined.select(
            "person_id", "measurement_id", "day", "ts", "number", "operator_id", "value_id", "value_text",
            "range_high", "event_id",
            unit_id=m.unit_concept_id.cast("int64").fill_null(0),
            unit_text=m.unit_source_value.cast("string").fill_null(NO_UNIT),
            analyte=by_concept.a_code.fill_null(by_source.s_code),
            first_day=ibis.cases((by_concept.a_code.notnull(), by_concept.a_day), else_=by_source.s_day),
        )
        rows = rows.filter(rows.day >= rows.first_day).drop("first_day")
        names = [n for n in self.names if self.code(n) in days]
        return self._readings(self._with_factor(rows, names), names)

    def _with_factor(self, rows: ir.Table, names: Sequence[str]) -> ir.Table:
        """The row's unit factor to its analyte's compared unit, by a join on (analyte, unit)."""
        keys: list[tuple[int, int, str, float]] = []
        for name in names:
            analyte = self.kb.analyte(name)
            if analyte.value != "quantity":
                continue
            for f in analyte_factors(analyte, self.units(self.ids(analyte))):
                if f.factor is not None:
                    keys.append((self.code(name), f.unit_concept_id, f.unit_source_value, f.factor))
        for code, _, rule, ids in self._coded_components():
            if rule.unit:
                for f in plain_factors(rule.unit, self.units(ids)):
                    if f.factor is not None:
                        keys.append((code, f.unit_concept_id, f.unit_source_value, f.factor))
        if not keys:
            return rows.mutate(factor=ibis.null("float64"))
        table = ibis.memtable(
            pa.table(
                {
                    "f_analyte": pa.array([k[0] for k in keys], pa.int64()),
                    "f_unit": pa.array([k[1] for k in keys], pa.int64()),
                    "f_text": pa.array([k[2] for k in keys], pa.string()),
                    "f_factor": pa.array([k[3] for k in keys], pa.float64()),
                }
            )
        )
        joined = rows.left_join(
            table,
            (rows.analyte == table.f_analyte) & (rows.unit_id == table.f_unit) & (rows.unit_text == table.f_text),
        )
        return joined.select(*rows.columns, factor=table.f_factor)

    def _readings(self, rows: ir.Table, names: Sequence[str]) -> ir.Table:
        analytes = [self.kb.analyte(n) for n in names]
        ordinal = [a for a in analytes if a.value == "ordinal"]
        qualitative = [self.code(a.name) for a in analytes if a.name in self.qualitative]
        roman = [self.code(a.name) for a in ordinal if a.roman_numerals]
        if roman:
            word = rows.value_text.strip().upper()
            word = ibis.cases((word.startswith("CLASS "), word.substr(6).strip()), else_=word)
            rows = rows.mutate(word=ibis.cases((rows.analyte.isin(roman), word), else_=ibis.null("string")))
        if ordinal:
            rows = rows.mutate(
                ordinal=ibis.cases(
                    *[(rows.analyte == self.code(a.name), self._ordinal(a, rows)) for a in ordinal],
                    else_=ibis.null("float64"),
                )
            )
        in_range: list[tuple[ir.BooleanValue, ir.Value]] = []
        for a in ordinal:
            this = rows.analyte == self.code(a.name)
            if a.value_range:
                low, high = a.value_range
                this &= ~((rows.ordinal >= low) & (rows.ordinal <= high)).fill_null(False)
                in_range.append((this, ibis.null("float64")))
        if ordinal:
            in_range.append((rows.analyte.isin([self.code(a.name) for a in ordinal]), rows.ordinal))
        # A component's rule without a unit compares the number as written.
        as_written = [code for code, _, rule, _ in self._coded_components() if not rule.unit]
        if as_written:
            in_range.append((rows.analyte.isin(as_written), rows.number))
        num = ibis.cases(*in_range, else_=rows.number * rows.factor) if in_range else rows.number * rows.factor
        operators = self._operators()
        cmp = (
            ibis.cases(*[(rows.operator_id == cid, ibis.literal(sign)) for cid, sign in operators.items()],
                       else_=ibis.null("string"))
            if operators
            else ibis.null("string")
        )
        qual = (
            ibis.cases((rows.analyte.isin(qualitative), self._qual(rows)), else_=ibis.null("string"))
            if qualitative
            else ibis.null("string")
        )
        readings = rows.select(
            "person_id", "measurement_id", "day", "ts", "analyte", "event_id",
            stamp=rows.ts.epoch_seconds().cast("float64").floor().cast("int64"),
            num=num.cast("float64"), qual=qual, uln=(rows.range_high * rows.factor).cast("float64"), cmp=cmp,
        )
        if self.cdm.con.name == "postgres":
            # PostgreSQL flattens this subquery into its consumers, copying the `num` CASE
            # into every leaf's score (hundreds of times): planning alone then takes
            # minutes. A subquery with a LIMIT is never flattened.
            readings = readings.limit(_NO_LIMIT)
        return readings

    def _qual_ids(self, positive: bool) -> list[int]:
        pairs = self.kb.qualitative.positive_codes if positive else self.kb.qualitative.negative_codes
        codings = {Coding(self.kb.uri_to_alias[uri], code) for uri, code in pairs}
        return sorted(self.vocab.codings(sorted(codings, key=lambda c: (c.system, c.code)), "qualitative"))

    def _qual(self, rows: ir.Table) -> ir.StringValue:
        """'positive' / 'negative' from the value concept, the value text or an interpretation flag."""
        text = rows.value_text.strip().lower()
        flag = rows.value_text.strip().upper()
        q = self.kb.qualitative

        def among(column: ir.IntegerValue, ids: list[int]) -> ir.BooleanValue:
            return column.isin(ids).fill_null(False) if ids else ibis.literal(False)

        return ibis.cases(
            (among(rows.value_id, self._qual_ids(True)), ibis.literal("positive")),
            (among(rows.value_id, self._qual_ids(False)), ibis.literal("negative")),
            (text.isin(sorted(q.positive_strings)).fill_null(False), ibis.literal("positive")),
            (text.isin(sorted(q.negative_strings)).fill_null(False), ibis.literal("negative")),
            (flag.isin(sorted(q.positive_interpretation)).fill_null(False), ibis.literal("positive")),
            (flag.isin(sorted(q.negative_interpretation)).fill_null(False), ibis.literal("negative")),
            else_=ibis.null("string"),
        )

    def _operators(self) -> dict[int, str]:
        """Concept ids of the value operators that make a result a bound (<, <=, >, >=), by name."""
        concept = self.cdm.table("concept")
        rows = concept.filter(
            concept.domain_id == OPERATOR_DOMAIN, concept.concept_name.isin(list(BOUNDS))
        ).select("concept_id", "concept_name")
        return {int(r["concept_id"]): str(r["concept_name"]) for r in rows.to_pyarrow().to_pylist()}

    def _ordinal(self, analyte: Analyte, rows: ir.Table) -> ir.FloatingValue:
        """The ordinal value before the range check: the number, an answer concept, a numeral."""
        answers = {
            cid: value
            for coding, value in analyte.answers
            for cid in self.vocab.codings([coding], analyte.name)
        }
        branches: list[tuple[ir.BooleanValue, ir.Value]] = [
            (rows.number.notnull(), rows.number),
            *[(rows.value_id == cid, ibis.literal(value)) for cid, value in sorted(answers.items())],
        ]
        if analyte.roman_numerals:
            branches += [(rows.word == numeral, ibis.literal(float(value))) for numeral, value in _ROMAN.items()]
        value: ir.FloatingValue = ibis.cases(*branches, else_=ibis.null("float64")).cast("float64")
        return value

    def _set_aside(self, analyte: Analyte, rows: ir.Table) -> ir.Table:
        """Drop the analyte's results taken on supplemental oxygen (a linked component above its limit)."""
        coded = {rule: code for code, owner, rule, _ in self._coded_components() if owner.name == analyte.name}
        flagged_parts = []
        for rule, ids in zip(analyte.set_aside_when_component, self._components(analyte), strict=True):
            if not ids:
                continue
            if rule in coded:
                readings = self.readings()
                comp = readings.filter(readings.analyte == coded[rule])
                value: ir.FloatingValue = comp.num
            else:
                comp = self.cdm.results(ids, self.since)
                value = comp.number
                if rule.unit:
                    value = value * factor_expr(comp, plain_factors(rule.unit, self.units(ids)))
            flagged_parts.append(
                comp.filter((value > rule.above).fill_null(False)).select("person_id", "event_id", "ts")
            )
        if not flagged_parts:
            return rows
        flagged = flagged_parts[0]
        for part in flagged_parts[1:]:
            flagged = flagged.union(part)
        by_event = flagged.filter(flagged.event_id.notnull()).select(c_person=flagged.person_id, c_event=flagged.event_id)
        by_time = flagged.filter(flagged.event_id.isnull()).select(c_person=flagged.person_id, c_ts=flagged.ts)
        # Two equi-joins (an OR in one join predicate would defeat hash joins).
        rows = rows.anti_join(
            by_event, (by_event.c_person == rows.person_id) & (by_event.c_event == rows.measurement_id)
        )
        return rows.anti_join(by_time, (by_time.c_person == rows.person_id) & (by_time.c_ts == rows.ts))
