"""Results of the knowledge's analytes read from `measurement`: converted values, readings, ULN.

Every row of an analyte's concepts becomes (person_id, measurement_id, day, ts, stamp,
analyte, num, qual, uln, cmp): `analyte` a small integer code (`Results.code`), `num` in the
compared unit (or the ordinal value), NULL when it cannot be read; `qual` 'positive' /
'negative' / NULL; `uln` the row's `range_high` in the compared unit; `stamp` the time in
whole epoch seconds. Picking the latest result is left to the node (its look-back and its
tie rule differ).

Built for one pass over millions of rows: only the rows of the analytes some leaf reads, from
the first day it reads them (`wanted`); the analyte, that day and the unit factor come from
hash joins on small literal tables (not CASEs of IN lists on every row), and the ordinal and
qualitative readings are computed only on the rows of the analytes that have them. Analytes
with a set-aside rule (SpO2 taken on oxygen) get a relation of their own, so the anti-joins
touch their rows only. On DuckDB the main readings and the side rows are staged once
(`Cdm.stage`) for the wide per-person aggregates that read them.
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
from trialscreen.omop.compiler.cdm import FOREVER, Cdm
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
    _side: ir.Table | None = None
    _wanted: ir.Table | None = None

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

        Not over `wanted`: its joins cost more than the distinct itself. The pairs of concepts
        and units no relation reads (or seen only before a look-back) get factors no row read
        uses, so no value changes.
        """
        if self._units is None:
            self._units = distinct_units(self.cdm.table("concept"), self.cdm.results(None, self.since))
        return units_of(self._units, ids)

    # --- relations --------------------------------------------------------------------------

    def relation(self, group: str) -> ir.Table:
        """The rows of a group's analytes since the earliest look-back day, read and converted."""
        key = self.members(group)
        if key not in self._relations:
            rows = self._read(key, prefilter=group != MAIN)
            if group != MAIN:
                rows = self._set_aside(self.kb.analyte(group), rows)
            else:
                # Every result leaf aggregates these rows with wide per-row expressions, which
                # run several times faster over a plain table than over join output.
                rows = self.cdm.stage(rows, "trialscreen_readings")
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
        rows = self._read(names, prefilter=True)
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

    def _side_ids(self) -> list[int]:
        """Concepts of the set-aside analytes, their components and the Cockcroft-Gault inputs."""
        ids: set[int] = set()
        for analyte in self.kb.analytes.values():
            if analyte.set_aside_when_component or analyte.name in CG_INPUTS:
                ids.update(self.ids(analyte))
                for component in self._components(analyte):
                    ids.update(component)
        return sorted(ids)

    def side(self) -> ir.Table:
        """The rows of every small relation: the set-aside analytes and the Cockcroft-Gault
        inputs in their look-backs, the set-aside components since `since` (see `wanted`)."""
        if self._side is None:
            rows = self.wanted()
            ids = self._side_ids()
            side = rows.filter(rows.concept_id.isin(ids) | rows.source_id.isin(ids))
            self._side = self.cdm.stage(side, "trialscreen_side")
        return self._side

    def wanted(self) -> ir.Table:
        """Every result row some relation reads, from measurement ∪ observation.

        A row is kept when its standard or source concept is one that is read and it was
        taken on or after the first day read for that concept: the main analytes' own
        look-backs (`first_days`), `since` for the small relations (`side`). The test is a
        join on a small literal table (concept id -> first day), not IN lists on every row.
        The main and side relations, each staged (`Cdm.stage`), read it once each. (Staging it too saved no time and cost a
        gigabyte at 1,000,000 persons.)
        """
        if self._wanted is None:
            first: dict[int, date] = {}

            def need(ids: Sequence[int], day: date) -> None:
                for cid in ids:
                    first[cid] = min(first.get(cid, day), day)

            for day, _, ids in self._windows(self.members(MAIN)):
                need(ids, day)
            for analyte in self.kb.analytes.values():
                if analyte.name in CG_INPUTS:
                    need(self.ids(analyte), self.first_day(analyte.lookback))
                if analyte.set_aside_when_component:
                    read = (self.first_days or {}).get(analyte.name, self.since)
                    need(self.ids(analyte), max(read, self.since))
                    # (components taken before the earliest look-back day cannot be the
                    # analyte's components in its look-back: they share its event or its time)
                    for component in self._components(analyte):
                        need(component, self.since)
            rows = self.cdm.results(None, self.since)
            keys = ibis.memtable(
                pa.table({"k_id": pa.array(list(first), pa.int64()), "k_day": pa.array(list(first.values()), pa.date32())})
            )
            by_source = keys.rename(ks_id="k_id", ks_day="k_day")
            joined = rows.left_join(keys, rows.concept_id == keys.k_id).left_join(
                by_source, rows.source_id == by_source.ks_id
            )
            never = ibis.literal(FOREVER)
            kept = joined.select(
                *rows.columns, _first=ibis.least(keys.k_day.fill_null(never), by_source.ks_day.fill_null(never))
            )
            self._wanted = kept.filter(kept.day >= kept._first).drop("_first")
        return self._wanted

    def _read(self, names: Sequence[str], *, prefilter: bool) -> ir.Table:
        owner = self._owner()
        m = self.side() if prefilter else self.wanted()
        # The first day read of each owned concept's analyte (NULL: not read by this relation).
        days = {self.code(n): day for day, group, _ in self._windows(names, prefilter=prefilter) for n in group}
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
        return self._readings(self._with_factor(rows, names), names)

    def _windows(self, names: Sequence[str], *, prefilter: bool = False) -> list[tuple[date, list[str], list[int]]]:
        """The analytes of `names` grouped by the first day read: (day, analyte names, concept ids).

        Without `prefilter` (the main relation) only the analytes and days some leaf reads
        (`first_days`); the prefiltered relations keep every row since `since`.
        """
        by_day: dict[date, list[str]] = {}
        for name in names:
            if prefilter or self.first_days is None:
                by_day.setdefault(self.since, []).append(name)
            elif name in self.first_days:
                by_day.setdefault(max(self.first_days[name], self.since), []).append(name)
        return [
            (
                day,
                sorted(group),
                sorted({cid for n in group for cid in self.ids(self.kb.analyte(n))}),
            )
            for day, group in sorted(by_day.items())
        ]

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
        flagged_parts = []
        for rule, ids in zip(analyte.set_aside_when_component, self._components(analyte), strict=True):
            if not ids:
                continue
            side = self.side()
            # (components taken before the earliest look-back day cannot be the analyte's
            # components in its look-back: they share its event or its time)
            comp = side.filter(side.concept_id.isin(ids) | side.source_id.isin(ids))
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
