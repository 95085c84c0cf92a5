"""Results of an analyte read from `measurement`: converted values, qualitative readings, ULN.

Every row of the analyte's concepts becomes (person_id, measurement_id, day, ts, num, qual,
uln): `num` in the compared unit (or the ordinal value), NULL when it cannot be read; `qual`
'positive' / 'negative' / NULL; `uln` the row's `range_high` in the compared unit. Picking the
latest result is left to the node (its look-back and its tie rule differ).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from trialscreen.criteria import duration
from trialscreen.knowledge import Analyte, Coding, Knowledge
from trialscreen.omop.compiler.cdm import Cdm
from trialscreen.omop.compiler.codes import among
from trialscreen.omop.units import analyte_factors, distinct_units, factor_expr, plain_factors, units_of
from trialscreen.omop.vocabulary import Vocabulary

OPERATOR_DOMAIN = "Meas Value Operator"
BOUNDS = ("<", "<=", ">", ">=")
_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}


@dataclass(slots=True)
class Results:
    """Builds (and caches) the readings of each analyte."""

    cdm: Cdm
    vocab: Vocabulary
    kb: Knowledge
    _cache: dict[str, ir.Table]
    _units: list[tuple[int, int, int, str, str | None]] | None = None

    def units(self, ids: list[int]) -> list[tuple[int, str, str | None]]:
        """Units that occur on rows of `ids`, from one query over every analyte of the knowledge."""
        if self._units is None:
            wanted: set[int] = set()
            for analyte in self.kb.analytes.values():
                wanted.update(self.ids(analyte))
                for rule in analyte.set_aside_when_component:
                    wanted.update(self.vocab.codings([Coding(rule.system, rule.code)], analyte.name))
            rows = self.cdm.results
            rows = rows.filter(among(rows.concept_id, sorted(wanted)) | among(rows.source_id, sorted(wanted)))
            self._units = distinct_units(self.cdm.table("concept"), rows)
        return units_of(self._units, ids)

    def ids(self, analyte: Analyte) -> list[int]:
        return sorted(self.vocab.codings(analyte.codes, analyte.name))

    def first_day(self, lookback: str) -> date:
        """The look-back window's first day (included)."""
        return duration.subtract(self.cdm.as_of, lookback)

    def readings(self, name: str) -> ir.Table:
        """The rows of one analyte (a view on the shared relation of every analyte)."""
        rows = self.all()
        return rows.filter(rows.analyte == name)

    def all(self) -> ir.Table:
        """One relation of every analyte's results, read once: (person_id, ..., analyte, num, qual, uln)."""
        if "*" not in self._cache:
            self._cache["*"] = self._all()
        return self._cache["*"]

    def _qual_ids(self, positive: bool) -> list[int]:
        pairs = self.kb.qualitative.positive_codes if positive else self.kb.qualitative.negative_codes
        codings = {Coding(self.kb.uri_to_alias[uri], code) for uri, code in pairs}
        return sorted(self.vocab.codings(sorted(codings, key=lambda c: (c.system, c.code)), "qualitative"))

    def _all(self) -> ir.Table:
        m = self.cdm.results
        analytes = sorted(self.kb.analytes.values(), key=lambda a: a.name)
        ids = {a.name: self.ids(a) for a in analytes}
        # Which analyte a row is: a hash join on a small literal table, not a CASE of IN lists
        # evaluated on every result row (a concept shared by two analytes goes to the first).
        owner: dict[int, str] = {}
        for analyte in analytes:
            for concept_id in ids[analyte.name]:
                owner.setdefault(concept_id, analyte.name)
        by_concept = ibis.memtable(
            pa.table({"a_id": pa.array(list(owner), pa.int64()), "a_name": pa.array(list(owner.values()), pa.string())})
        )
        by_source = by_concept.rename(s_id="a_id", s_name="a_name")
        joined = m.left_join(by_concept, m.concept_id == by_concept.a_id).left_join(
            by_source, m.source_id == by_source.s_id
        )
        rows = joined.select(*m.columns, analyte=by_concept.a_name.fill_null(by_source.s_name))
        rows = rows.filter(rows.analyte.notnull())
        # Only the analytes with a set-aside rule (SpO2) go through the anti-joins.
        ruled = [a for a in analytes if a.set_aside_when_component]
        if ruled:
            names = [a.name for a in ruled]
            checked = rows.filter(rows.analyte.isin(names))
            for analyte in ruled:
                checked = self._set_aside(analyte, checked)
            rows = rows.filter(~rows.analyte.isin(names).fill_null(False)).union(checked)
        text = rows.value_text.strip().lower()
        flag = rows.value_text.strip().upper()
        q = self.kb.qualitative
        qual = ibis.cases(
            (among(rows.value_id, self._qual_ids(True)), ibis.literal("positive")),
            (among(rows.value_id, self._qual_ids(False)), ibis.literal("negative")),
            (text.isin(sorted(q.positive_strings)).fill_null(False), ibis.literal("positive")),
            (text.isin(sorted(q.negative_strings)).fill_null(False), ibis.literal("negative")),
            (flag.isin(sorted(q.positive_interpretation)).fill_null(False), ibis.literal("positive")),
            (flag.isin(sorted(q.negative_interpretation)).fill_null(False), ibis.literal("negative")),
            else_=ibis.null("string"),
        )
        nums: list[tuple[ir.BooleanValue, ir.Value]] = []
        ulns: list[tuple[ir.BooleanValue, ir.Value]] = []
        for analyte in analytes:
            this = rows.analyte == analyte.name
            if analyte.value == "quantity":
                factor = factor_expr(rows, analyte_factors(analyte, self.units(ids[analyte.name])))
                nums.append((this, rows.number * factor))
                ulns.append((this, rows.range_high * factor))
            elif analyte.value == "ordinal":
                nums.append((this, self._ordinal(analyte, rows)))
        num = ibis.cases(*nums, else_=ibis.null("float64")) if nums else ibis.null("float64")
        uln = ibis.cases(*ulns, else_=ibis.null("float64")) if ulns else ibis.null("float64")
        operators = self._operators()
        cmp = (
            ibis.cases(*[(rows.operator_id == cid, ibis.literal(sign)) for cid, sign in operators.items()],
                       else_=ibis.null("string"))
            if operators
            else ibis.null("string")
        )
        return rows.select(
            "person_id", "measurement_id", "day", "ts", "analyte",
            num=num.cast("float64"), qual=qual, uln=uln.cast("float64"), cmp=cmp,
        )

    def _operators(self) -> dict[int, str]:
        """Concept ids of the value operators that make a result a bound (<, <=, >, >=), by name."""
        concept = self.cdm.table("concept")
        rows = concept.filter(
            concept.domain_id == OPERATOR_DOMAIN, concept.concept_name.isin(list(BOUNDS))
        ).select("concept_id", "concept_name")
        return {int(r["concept_id"]): str(r["concept_name"]) for r in rows.to_pyarrow().to_pylist()}

    def _ordinal(self, analyte: Analyte, rows: ir.Table) -> ir.FloatingValue:
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
            word = rows.value_text.strip().upper()
            word = ibis.cases((word.startswith("CLASS "), word.substr(6).strip()), else_=word)
            branches += [(word == numeral, ibis.literal(float(value))) for numeral, value in _ROMAN.items()]
        value = ibis.cases(*branches, else_=ibis.null("float64")).cast("float64")
        if analyte.value_range:
            low, high = analyte.value_range
            value = ibis.cases(((value >= low) & (value <= high), value), else_=ibis.null("float64"))
        return value

    def _set_aside(self, analyte: Analyte, rows: ir.Table) -> ir.Table:
        """Drop the analyte's results taken on supplemental oxygen (a linked component above its limit)."""
        flagged_parts = []
        for rule in analyte.set_aside_when_component:
            ids = sorted(self.vocab.codings([Coding(rule.system, rule.code)], analyte.name))
            m = self.cdm.results
            comp = m.filter(among(m.concept_id, ids) | among(m.source_id, ids))
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
