"""The criteria tree as Ibis expressions: one `visit_<kind>` per node kind.

Truth is a nullable boolean column: SQL's AND / OR / NOT on NULL are exactly Kleene's
three-valued logic, so `all`, `any` and `not` are plain boolean operators and NULL is
*unknown*. Each leaf becomes one per-person table (person_id, truth, expiry) that is
left-joined onto the person table; a person with no row gets the leaf's closed-world default
(false for diagnoses, procedures, medicines, vaccines and allergies; `if_missing` for
results). `expiry` is the first day a true windowed leaf stops being true (D + W of its latest
event), `FOREVER` when time does not cure it; logic combines it (any: the latest of its true
items, all: the earliest).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeAlias

import ibis
import ibis.expr.types as ir

from trialscreen.criteria import (
    Age,
    Allergy,
    AllOf,
    AnyOf,
    Attestation,
    Condition,
    Consent,
    CriteriaSet,
    Derived,
    Gender,
    Immunization,
    ManualReview,
    Measurement,
    Medication,
    Not,
    Procedure,
    Ref,
    Uncertain,
)
from trialscreen.criteria.nodes import Comparator
from trialscreen.knowledge import Knowledge
from trialscreen.omop.compiler.cdm import FOREVER, NEVER, Cdm
from trialscreen.omop.compiler.codes import among, contains_any, row_in_set
from trialscreen.omop.compiler.results import Results
from trialscreen.omop.vocabulary import Vocabulary, phase_index
from trialscreen.units import factor_to

Wide: TypeAlias = ir.Table
TruthFn = Callable[[Wide], ir.BooleanValue]
DateFn = Callable[[Wide], ir.DateValue]

_ACTIVE = ("active", "recurrence", "relapse")
_PRESENT = (*_ACTIVE, "remission")
_TRUTH: dict[str, bool | None] = {"true": True, "false": False, "unknown": None}


@dataclass(frozen=True, slots=True)
class Compiled:
    """A node's truth (and, for windowed nodes, expiry) as functions of the wide person table."""

    truth: TruthFn
    expiry: DateFn | None = None


def _bool(value: bool | None) -> ir.BooleanValue:
    return ibis.literal(value, "boolean") if value is not None else ibis.null("boolean")


def _compare(value: ir.NumericValue, op: Comparator, threshold: ir.NumericValue | float) -> ir.BooleanValue:
    """Compare with a relative tolerance of 1e-9, so a converted value never flips on float noise.

    (1.2 mg/dL x 1.5 is 1.7999999999999998; the FHIR evaluator rounds both sides to 9 digits.)
    """
    slack = (value.abs() + abs(threshold) if isinstance(threshold, float) else value.abs() + threshold.abs()) * 1e-9
    if op == "<":
        return value < threshold - slack
    if op == "<=":
        return value <= threshold + slack
    if op == ">":
        return value > threshold + slack
    return value >= threshold - slack


class ScreenCompiler:
    """Visits a criteria set's nodes; leaves register per-person tables in `leaves`."""

    def __init__(self, criteria: CriteriaSet, cdm: Cdm, vocab: Vocabulary, kb: Knowledge) -> None:
        self.criteria = criteria
        self.cdm = cdm
        self.vocab = vocab
        self.kb = kb
        self.results = Results(cdm, vocab, kb, {})
        self.leaves: list[ir.Table] = []
        self._memo: dict[tuple[Any, bool], Compiled] = {}
        self._persons: ir.Table | None = None

    @property
    def persons(self) -> ir.Table:
        if self._persons is None:
            self._persons = self.cdm.persons
        return self._persons

    def wide(self) -> Wide:
        """The person table with every leaf's columns, in one flat chain of left joins."""
        persons = self.persons
        if not self.leaves:
            return persons
        joined = persons.left_join(self.leaves[0], persons.person_id == self.leaves[0][self.leaves[0].columns[0]])
        for leaf in self.leaves[1:]:
            joined = joined.left_join(leaf, persons.person_id == leaf[leaf.columns[0]])
        return joined.select(*persons.columns, *[c for leaf in self.leaves for c in leaf.columns[1:]])

    def visit(self, node: Any, bad: bool) -> Compiled:
        """Compile `node`; `bad` is the truth value that stands in the way (for tie rules)."""
        key = (node, bad)
        if key not in self._memo:
            method: Callable[[Any, bool], Compiled] = getattr(self, f"visit_{node.kind}")
            self._memo[key] = method(node, bad)
        return self._memo[key]

    def _leaf(self, table: ir.Table, default: bool | None, *, expiry: bool = False) -> Compiled:
        """Register a per-person table (person_id, truth[, expiry]) and refer to its columns."""
        prefix = f"_l{len(self.leaves)}_"
        cols: dict[str, ir.Value] = {
            f"{prefix}truth": table.truth,
            f"{prefix}has": ibis.literal(True),
        }
        if expiry:
            cols[f"{prefix}expiry"] = table.expiry
        self.leaves.append(table.select(**{f"{prefix}person": table.person_id}, **cols))

        def truth(w: Wide) -> ir.BooleanValue:
            return ibis.cases((w[f"{prefix}has"].isnull(), _bool(default)), else_=w[f"{prefix}truth"])

        if not expiry:
            return Compiled(truth)
        return Compiled(truth, lambda w: w[f"{prefix}expiry"])

    # --- logic ----------------------------------------------------------------------------

    def visit_all(self, node: AllOf, bad: bool) -> Compiled:
        items = [self.visit(item, bad) for item in node.items]

        def truth(w: Wide) -> ir.BooleanValue:
            out = items[0].truth(w)
            for item in items[1:]:
                out = out & item.truth(w)
            return out

        if all(i.expiry is None for i in items):
            return Compiled(truth)

        def expiry(w: Wide) -> ir.DateValue:
            ends = [i.expiry(w) if i.expiry else ibis.literal(FOREVER) for i in items]
            return ibis.least(*ends) if len(ends) > 1 else ends[0]

        return Compiled(truth, expiry)

    def visit_any(self, node: AnyOf, bad: bool) -> Compiled:
        items = [self.visit(item, bad) for item in node.items]

        def truth(w: Wide) -> ir.BooleanValue:
            out = items[0].truth(w)
            for item in items[1:]:
                out = out | item.truth(w)
            return out

        if all(i.expiry is None for i in items):
            return Compiled(truth)

        def expiry(w: Wide) -> ir.DateValue:
            ends = [
                ibis.cases(
                    (i.truth(w).fill_null(False), i.expiry(w) if i.expiry else ibis.literal(FOREVER)),
                    else_=ibis.literal(NEVER),
                )
                for i in items
            ]
            return ibis.greatest(*ends) if len(ends) > 1 else ends[0]

        return Compiled(truth, expiry)

    def visit_not(self, node: Not, bad: bool) -> Compiled:
        item = self.visit(node.item, not bad)
        return Compiled(lambda w: ~item.truth(w))

    def visit_uncertain(self, node: Uncertain, bad: bool) -> Compiled:
        item = self.visit(node.item, bad)

        def truth(w: Wide) -> ir.BooleanValue:
            t = item.truth(w)
            return ibis.cases((t.fill_null(False), ibis.null("boolean")), else_=t)

        return Compiled(truth)

    def visit_ref(self, node: Ref, bad: bool) -> Compiled:
        try:
            target = self.criteria.definitions[node.name]
        except KeyError:
            raise ValueError(f"criteria {self.criteria.trial}: no definition named {node.name!r}") from None
        return self.visit(target, bad)

    # --- demographics ---------------------------------------------------------------------

    def visit_age(self, node: Age, bad: bool) -> Compiled:
        def truth(w: Wide) -> ir.BooleanValue:
            tests: list[ir.BooleanValue] = []
            if node.min is not None:
                tests.append(w.age >= node.min)
            if node.max is not None:
                tests.append(w.age <= node.max)
            if not tests:
                return ibis.cases((w.age.isnull(), _bool(None)), else_=True)
            out = tests[0]
            for test in tests[1:]:
                out = out & test
            return out  # NULL age (no birth date) stays unknown

        return Compiled(truth)

    def visit_gender(self, node: Gender, bad: bool) -> Compiled:
        return Compiled(lambda w: w.gender.isin(list(node.values)))

    # --- clinical events ------------------------------------------------------------------

    def visit_condition(self, node: Condition, bad: bool) -> Compiled:
        vs = self.kb.valueset(node.valueset)
        resolved = self.vocab.valueset(node.valueset, text_domains=("Condition",))
        rows = self.cdm.conditions
        rows = rows.filter(row_in_set(rows, resolved, vs))
        as_of = self.cdm.as_of
        not_abated = rows.end.isnull() | (rows.end > as_of)
        active = (rows.status.isnull() | rows.status.isin(list(_ACTIVE))) & not_abated
        present = (rows.status.isnull() | rows.status.isin(list(_PRESENT))) & not_abated
        if node.phase == "relapsed":
            rows = rows.filter(present if node.timing in ("present", "ever") else active)
            digit = rows.source_value.strip().replace(".", "").upper().substr(phase_index(vs), 1)
            by_value = rows.source_id == 0
            phase = vs.phase_digit or {}
            relapsed = (
                among(rows.source_id, sorted(resolved.relapse_ids))
                | (by_value & (digit == str(phase.get("relapse")))).fill_null(False)
                | rows.status.isin(["relapse", "recurrence"]).fill_null(False)
            )
            remission = (
                among(rows.source_id, sorted(resolved.remission_ids))
                | (by_value & (digit == str(phase.get("remission")))).fill_null(False)
                | (rows.status == "remission").fill_null(False)
            )
            agg = rows.group_by("person_id").aggregate(
                any_relapsed=relapsed.any(), any_neither=(~relapsed & ~remission).any()
            )
            table = agg.select(
                "person_id",
                truth=ibis.cases((agg.any_relapsed, True), (agg.any_neither, _bool(None)), else_=False),
            )
            return self._leaf(table, False)
        if node.timing == "ever":
            return self._leaf(self._any(rows), False)
        if node.timing == "active":
            return self._leaf(self._any(rows.filter(active)), False)
        if node.timing == "present":
            return self._leaf(self._any(rows.filter(present)), False)
        window = node.window
        if window is None:
            raise ValueError(f"condition node on {node.valueset}: timing {node.timing} needs a window")
        start_in = self.cdm.within(rows.start, window)
        if node.timing == "onset_within":
            inside = rows.filter(start_in)
            return self._leaf(self._expiring(inside, self.cdm.plus(inside.start, window)), False, expiry=True)
        end_in = rows.end.notnull() & self.cdm.within(rows.end, window)
        counted = rows.mutate(act=active, start_in=start_in, end_in=end_in.fill_null(False))
        counted = counted.filter(counted.act | counted.start_in | counted.end_in)
        ends = ibis.greatest(
            ibis.cases((counted.start_in, self.cdm.plus(counted.start, window)), else_=ibis.literal(NEVER)),
            ibis.cases((counted.end_in, self.cdm.plus(counted.end, window)), else_=ibis.literal(NEVER)),
        )
        expiry = ibis.cases((counted.act, ibis.literal(FOREVER)), else_=ends)
        return self._leaf(self._expiring(counted, expiry), False, expiry=True)

    @staticmethod
    def _any(rows: ir.Table) -> ir.Table:
        return rows.select("person_id").distinct().mutate(truth=ibis.literal(True))

    @staticmethod
    def _expiring(rows: ir.Table, expiry: ir.DateValue) -> ir.Table:
        marked = rows.mutate(_expiry=expiry)
        agg = marked.group_by("person_id").aggregate(expiry=marked._expiry.max())
        return agg.mutate(truth=ibis.literal(True))

    def _in(self, rows: ir.Table, name: str, **kwargs: Any) -> ir.BooleanValue:
        return row_in_set(rows, self.vocab.valueset(name, **kwargs), self.kb.valueset(name))

    def visit_procedure(self, node: Procedure, bad: bool) -> Compiled:
        rows = self.cdm.procedures
        keep: ir.BooleanValue = ibis.literal(True)
        if node.valueset:
            keep &= self._in(rows, node.valueset)
        if node.category:
            keep &= self._in(rows, node.category, descendants=True)
        if node.exclude:
            keep &= ~self._in(rows, node.exclude)
        rows = rows.filter(keep)
        if node.window is None:
            return self._leaf(self._any(rows), False)
        inside = rows.filter(self.cdm.within(rows.day, node.window))
        return self._leaf(self._expiring(inside, self.cdm.plus(inside.day, node.window)), False, expiry=True)

    def visit_medication(self, node: Medication, bad: bool) -> Compiled:
        rows = self.cdm.drugs
        as_of = self.cdm.as_of
        keep = (rows.end.isnull() | (rows.end >= as_of)) & self._in(
            rows, node.valueset, descendants=True, text_domains=("Drug",)
        )
        if node.systemic_only:
            routes = self.vocab.valueset(node.non_systemic_routes, text_domains=("Route",))
            route_vs = self.kb.valueset(node.non_systemic_routes)
            local = among(rows.route_id, routes.ids) | contains_any(rows.route_text, route_vs.text)
            keep &= ~local
        rows = rows.filter(keep)
        if node.unless_reason:
            reason = self.vocab.valueset(node.unless_reason)
            obs = self.cdm.observations
            ids = reason.ids
            given = obs.filter(
                obs.event_id.notnull(), among(obs.concept_id, ids) | among(obs.value_id, ids) | among(obs.source_id, ids)
            ).select(r_person=obs.person_id, r_event=obs.event_id)
            rows = rows.anti_join(given, (given.r_person == rows.person_id) & (given.r_event == rows.exposure_id))
        return self._leaf(self._any(rows), False)

    def visit_immunization(self, node: Immunization, bad: bool) -> Compiled:
        rows = self.cdm.drugs
        rows = rows.filter(self._in(rows, node.valueset))
        if node.window is None:
            return self._leaf(self._any(rows), False)
        inside = rows.filter(self.cdm.within(rows.start, node.window))
        return self._leaf(self._expiring(inside, self.cdm.plus(inside.start, node.window)), False, expiry=True)

    def visit_allergy(self, node: Allergy, bad: bool) -> Compiled:
        obs = self.cdm.observations
        serious = obs.qualifier.strip().lower().isin(list(node.criticality)).fill_null(False) | obs.value_string.strip().lower().isin(
            list(node.severity)
        ).fill_null(False)
        if node.valueset:
            serious &= self._in(obs, node.valueset)
        return self._leaf(self._any(obs.filter(serious)), False)

    def visit_consent(self, node: Consent, bad: bool) -> Compiled:
        return Compiled(lambda w: _bool(None))  # OMOP holds no consent

    def visit_attestation(self, node: Attestation, bad: bool) -> Compiled:
        return Compiled(lambda w: _bool(None))  # OMOP holds no attestation

    def visit_manual_review(self, node: ManualReview, bad: bool) -> Compiled:
        return Compiled(lambda w: _bool(None))

    # --- measurements -------------------------------------------------------------------

    def _latest(self, rows: ir.Table, bad: bool) -> ir.Table:
        """The latest row per person; on a tie the least favourable truth (bad, unknown, good)."""
        rank_bad = ibis.cases((rows.truth == bad, 0), (rows.truth.isnull(), 1), else_=2)
        ranked = rows.mutate(
            _rank=ibis.row_number().over(group_by=rows.person_id, order_by=[rows.ts.desc(), rank_bad])
        )
        return ranked.filter(ranked._rank == 0).select("person_id", "truth")

    def _threshold(self, node: Measurement, rows: ir.Table) -> ir.NumericValue | None:
        analyte = self.kb.analyte(node.analyte)
        if node.uln_multiple is not None:
            default = analyte.uln
            by_gender = analyte.uln_by_gender
            to_compared = factor_to(analyte, analyte.uln_unit) if analyte.uln_unit else 1.0
            uln_default: ir.NumericValue = ibis.literal(default * to_compared if default is not None else None, "float64")
            if by_gender:
                uln_default = ibis.cases(
                    *[(rows.gender == g, ibis.literal(v * to_compared)) for g, v in sorted(by_gender.items())],
                    else_=uln_default,
                )
            return rows.uln.fill_null(uln_default) * node.uln_multiple
        if node.value is None:
            return None
        factor = factor_to(analyte, node.unit) if node.unit and analyte.unit else 1.0
        return ibis.literal(node.value * factor, "float64")

    def visit_measurement(self, node: Measurement, bad: bool) -> Compiled:
        analyte = self.kb.analyte(node.analyte)
        rows = self.results.readings(node.analyte)
        lookback = node.lookback or analyte.lookback
        rows = rows.filter(rows.day >= self.results.first_day(lookback))
        if node.uln_multiple is not None and analyte.uln_by_gender:
            p = self.persons
            genders = p.select(g_person=p.person_id, gender=p.gender)
            rows = rows.join(genders, rows.person_id == genders.g_person).drop("g_person")
        if node.expect is not None:
            other = "negative" if node.expect == "positive" else "positive"
            truth = ibis.cases((rows.qual == node.expect, True), (rows.qual == other, False), else_=_bool(None))
        else:
            if node.op is None:
                raise ValueError(f"measurement of {node.analyte}: give `op` with `value` or `uln_multiple`")
            threshold = self._threshold(node, rows)
            if threshold is None:
                raise ValueError(f"measurement of {node.analyte}: no threshold")
            branches: list[tuple[ir.BooleanValue, ir.BooleanValue]] = [
                (rows.num.notnull(), _compare(rows.num, node.op, threshold))
            ]
            for reading, meaning in (("negative", node.if_negative), ("positive", node.if_positive)):
                if meaning is not None:
                    branches.append((rows.qual == reading, _bool(_TRUTH[meaning])))
            truth = ibis.cases(*branches, else_=_bool(None))
        latest = self._latest(rows.mutate(truth=truth), bad)
        return self._leaf(latest, _TRUTH[node.if_missing])

    def visit_derived(self, node: Derived, bad: bool) -> Compiled:
        if node.quantity != "creatinine_clearance":
            raise ValueError(f"derived quantity {node.quantity!r} is not supported")
        clearance = self.kb.analyte("creatinine_clearance")
        factor = factor_to(clearance, node.unit) if clearance.unit else 1.0
        threshold = node.value * factor
        measured = self.results.readings("creatinine_clearance")
        measured = measured.filter(measured.day >= self.results.first_day(clearance.lookback), measured.num.notnull())
        measured = self._latest(measured.mutate(truth=_compare(measured.num, node.op, threshold)), bad)
        creat = self._latest_value("creatinine", worst_high=True)
        weight = self._latest_value("weight", worst_high=False)
        p = self.persons
        m = measured.rename(m_person="person_id", m_truth="truth")
        c = creat.rename(c_person="person_id", c_value="value")
        wt = weight.rename(w_person="person_id", w_value="value")
        j = (
            p.left_join(m, p.person_id == m.m_person)
            .left_join(c, p.person_id == c.c_person)
            .left_join(wt, p.person_id == wt.w_person)
        )
        sex = ibis.cases((j.gender == "male", 1.0), else_=0.85)
        cockcroft_gault = (140 - j.age) * j.w_value / (72 * j.c_value.nullif(0)) * sex
        truth = ibis.cases(
            (j.m_person.notnull(), j.m_truth), else_=_compare(cockcroft_gault, node.op, threshold)
        )
        return self._leaf(j.select(person_id=j.person_id, truth=truth), None)

    def _latest_value(self, name: str, *, worst_high: bool) -> ir.Table:
        """Latest result value of an analyte in its look-back (ties: the less favourable for CG)."""
        analyte = self.kb.analyte(name)
        rows = self.results.readings(name)
        rows = rows.filter(rows.day >= self.results.first_day(analyte.lookback))
        unreadable_first = ibis.cases((rows.num.isnull(), 0), else_=1)
        tie = rows.num.desc() if worst_high else rows.num.asc()
        ranked = rows.mutate(
            _rank=ibis.row_number().over(group_by=rows.person_id, order_by=[rows.ts.desc(), unreadable_first, tie])
        )
        return ranked.filter(ranked._rank == 0).select("person_id", value=ranked.num)
