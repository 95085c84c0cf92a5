"""The criteria tree as Ibis expressions: one `visit_<kind>` per node kind.

Truth is a nullable boolean column: SQL's AND / OR / NOT on NULL are exactly Kleene's
three-valued logic, so `all`, `any` and `not` are plain boolean operators and NULL is
*unknown*. Each leaf becomes per-person aggregate columns of its CDM domain (one GROUP BY per
domain, see `domains`), left-joined onto the person table; a person with no row gets the
leaf's closed-world default (false for diagnoses, procedures, medicines, vaccines and
allergies; `if_missing` for results). Leaves that need windows of their own (Cockcroft-Gault)
register a per-person table instead. `expiry` is the first day a true windowed leaf stops being true (D + W of its latest
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
from trialscreen.omop.compiler.codes import among, contains_any, source_match
from trialscreen.omop.compiler.domains import Domain
from trialscreen.omop.compiler.membership import (
    CONDITION_TEXT,
    DRUG_TEXT,
    ROUTE_TEXT,
    SetKey,
    column_name,
    keys_of,
    membership,
    walk,
)
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


def _bounded(
    value: ir.NumericValue, bound: ir.StringValue, op: Comparator, threshold: ir.NumericValue | float
) -> ir.BooleanValue:
    """`value op threshold` when the result is exact; for a bound ("<0.5") true or false only
    when every value the bound allows agrees, else NULL (the evaluator's rule)."""
    below_t = _compare(value, "<", threshold)
    above_t = _compare(value, ">", threshold)
    equal = ~below_t & ~above_t
    branches: list[tuple[ir.BooleanValue, ir.BooleanValue]] = []
    for sign in ("<", "<=", ">", ">="):
        below, open_end = sign in ("<", "<="), sign in ("<", ">")
        if op in (">=", ">"):
            strict = op == ">"
            if below:
                decided = ibis.cases((below_t | (equal & (open_end or strict)), False), else_=_bool(None))
            else:
                decided = ibis.cases((above_t | (equal & (not strict or open_end)), True), else_=_bool(None))
        else:
            strict = op == "<"
            if not below:
                decided = ibis.cases((above_t | (equal & (open_end or strict)), False), else_=_bool(None))
            else:
                decided = ibis.cases((below_t | (equal & (not strict or open_end)), True), else_=_bool(None))
        branches.append((bound == sign, decided))
    return ibis.cases(*branches, else_=_compare(value, op, threshold))


class ScreenCompiler:
    """Visits a criteria set's nodes; leaves register per-person tables in `leaves`."""

    def __init__(self, criteria: CriteriaSet, cdm: Cdm, vocab: Vocabulary, kb: Knowledge) -> None:
        self.criteria = criteria
        self.cdm = cdm
        self.vocab = vocab
        self.kb = kb
        self.results = Results(cdm, vocab, kb, {})
        self.leaves: list[ir.Table] = []
        self.domains: dict[str, Domain] = {}
        self._columns = 0
        self._memo: dict[tuple[Any, bool], Compiled] = {}
        self._persons: ir.Table | None = None
        self._keys: dict[str, dict[str, list[SetKey]]] = {}
        for node in walk(criteria):
            for domain, joined, key in keys_of(node):
                keys = self._keys.setdefault(domain, {}).setdefault(joined, [])
                if key not in keys:
                    keys.append(key)
        self._bases: dict[str, ir.Table] = {}

    @property
    def persons(self) -> ir.Table:
        if self._persons is None:
            self._persons = self.cdm.persons
        return self._persons

    def wide(self) -> Wide:
        """The person table with every domain's and leaf's columns, in one flat chain of left joins."""
        persons = self.persons
        tables = [t for t in (d.table() for d in self.domains.values()) if t is not None] + self.leaves
        if not tables:
            return persons
        joined = persons.left_join(tables[0], persons.person_id == tables[0][tables[0].columns[0]])
        for table in tables[1:]:
            joined = joined.left_join(table, persons.person_id == table[table.columns[0]])
        return joined.select(*persons.columns, *[c for t in tables for c in t.columns[1:]])

    def base(self, domain: str) -> ir.Table:
        """A domain's rows with a membership flag per value set its leaves read (joined once)."""
        if domain not in self._bases:
            rows: ir.Table = getattr(self.cdm, domain)
            chain: ir.Table = rows
            flags: list[str] = []
            joins = {"concept": (("c", "concept_id"), ("s", "source_id")), "route": (("r", "route_id"),)}
            for joined, keys in self._keys.get(domain, {}).items():
                ids = [
                    frozenset(self.vocab.valueset(k.valueset, descendants=k.descendants, text_domains=k.text_domains).ids)
                    for k in keys
                ]
                for prefix, column in joins[joined]:
                    table = membership(ids, prefix)
                    chain = chain.left_join(table, rows[column] == table[f"{prefix}_id"])
                    flags += [column_name(prefix, i) for i in range(len(keys))]
            if flags:
                rows = chain.select(*rows.columns, *flags)
            self._bases[domain] = rows
        return self._bases[domain]

    def _in(self, domain: str, rows: ir.Table, key: SetKey, joined: str = "concept") -> ir.BooleanValue:
        """Is the row in the value set: by its concepts (joined flags), source value or text."""
        index = self._keys[domain][joined].index(key)
        vs = self.kb.valueset(key.valueset)
        if joined == "route":
            return rows[column_name("r", index)].fill_null(False) | contains_any(rows.route_text, vs.text)
        hit = rows[column_name("c", index)].fill_null(False) | rows[column_name("s", index)].fill_null(False)
        return hit | source_match(rows, vs)

    def domain(self, name: str, rows: ir.Table) -> Domain:
        if name not in self.domains:
            self.domains[name] = Domain(name, rows)
        return self.domains[name]

    def column(self) -> str:
        self._columns += 1
        return f"_c{self._columns}"

    def _flagged(self, domain: Domain, flag: ir.BooleanValue, expiry: ir.DateValue | None = None) -> Compiled:
        """A closed-world leaf: true when some row of the domain has `flag` (with its latest expiry)."""
        hit = domain.any(self.column(), flag)
        if expiry is None:
            return Compiled(lambda w: w[hit].fill_null(False))
        end = domain.max_where(self.column(), flag, expiry)
        return Compiled(lambda w: w[hit].fill_null(False), lambda w: w[end])

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
        key = SetKey(node.valueset, False, CONDITION_TEXT)
        resolved = self.vocab.valueset(key.valueset, text_domains=key.text_domains)
        rows = self.base("conditions")
        domain = self.domain("conditions", rows)
        in_set = self._in("conditions", rows, key)
        as_of = self.cdm.as_of
        not_abated = rows.end.isnull() | (rows.end > as_of)
        active = (rows.status.isnull() | rows.status.isin(list(_ACTIVE))) & not_abated
        present = (rows.status.isnull() | rows.status.isin(list(_PRESENT))) & not_abated
        if node.phase == "relapsed":
            counted = in_set & (present if node.timing in ("present", "ever") else active)
            digit = rows.code_plain.substr(phase_index(vs), 1)
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
            any_relapsed = domain.any(self.column(), counted & relapsed)
            any_neither = domain.any(self.column(), counted & ~relapsed & ~remission)

            def phase_truth(w: Wide) -> ir.BooleanValue:
                return ibis.cases(
                    (w[any_relapsed].fill_null(False), True),
                    (w[any_neither].fill_null(False), _bool(None)),
                    else_=False,
                )

            return Compiled(phase_truth)
        if node.timing == "ever":
            return self._flagged(domain, in_set)
        if node.timing == "active":
            return self._flagged(domain, in_set & active)
        if node.timing == "present":
            return self._flagged(domain, in_set & present)
        window = node.window
        if window is None:
            raise ValueError(f"condition node on {node.valueset}: timing {node.timing} needs a window")
        start_in = self.cdm.within(rows.start, window)
        if node.timing == "onset_within":
            return self._flagged(domain, in_set & start_in, self.cdm.plus(rows.start, window))
        end_in = (rows.end.notnull() & self.cdm.within(rows.end, window)).fill_null(False)
        ends = ibis.greatest(
            ibis.cases((start_in, self.cdm.plus(rows.start, window)), else_=ibis.literal(NEVER)),
            ibis.cases((end_in, self.cdm.plus(rows.end, window)), else_=ibis.literal(NEVER)),
        )
        expiry = ibis.cases((active, ibis.literal(FOREVER)), else_=ends)
        return self._flagged(domain, in_set & (active | start_in | end_in), expiry)

    def visit_procedure(self, node: Procedure, bad: bool) -> Compiled:
        rows = self.base("procedures")
        keep: ir.BooleanValue = ibis.literal(True)
        if node.valueset:
            keep &= self._in("procedures", rows, SetKey(node.valueset))
        if node.category:
            keep &= self._in("procedures", rows, SetKey(node.category, True))
        if node.exclude:
            keep &= ~self._in("procedures", rows, SetKey(node.exclude))
        domain = self.domain("procedures", rows)
        if node.window is None:
            return self._flagged(domain, keep)
        inside = keep & self.cdm.within(rows.day, node.window)
        return self._flagged(domain, inside, self.cdm.plus(rows.day, node.window))

    def visit_medication(self, node: Medication, bad: bool) -> Compiled:
        rows = self.base("drugs")
        as_of = self.cdm.as_of
        keep = self._in("drugs", rows, SetKey(node.valueset, True, DRUG_TEXT))
        ongoing = rows.end.isnull() | (rows.end >= as_of)
        if node.timing == "current":
            keep &= ongoing
        if node.systemic_only:
            keep &= ~self._in("drugs", rows, SetKey(node.non_systemic_routes, False, ROUTE_TEXT), "route")
        if node.unless_reason:
            ids = self.vocab.valueset(node.unless_reason).ids
            obs = self.cdm.observations
            given = obs.filter(
                obs.event_id.notnull(),
                among(obs.concept_id, ids) | among(obs.value_id, ids) | among(obs.source_id, ids),
            )
            # observation_event_id names the drug_exposure_id (unique in its table).
            keep &= ~rows.exposure_id.isin(given.event_id).fill_null(False)
        if node.window is None:  # current (ongoing) or ever (any exposure started by the as-of date)
            return self._flagged(self.domain("drugs", rows), keep)
        # Past use: the exposure's last day (its end; no end is ongoing) inside the window.
        last_in = ongoing | (self.cdm.plus(rows.end, node.window) > as_of)
        expiry = ibis.cases((rows.end.isnull(), ibis.literal(FOREVER)), else_=self.cdm.plus(rows.end, node.window))
        return self._flagged(self.domain("drugs", rows), keep & last_in.fill_null(False), expiry)

    def visit_immunization(self, node: Immunization, bad: bool) -> Compiled:
        rows = self.base("drugs")
        keep = self._in("drugs", rows, SetKey(node.valueset))
        domain = self.domain("drugs", rows)
        if node.window is None:
            return self._flagged(domain, keep)
        inside = keep & self.cdm.within(rows.start, node.window)
        return self._flagged(domain, inside, self.cdm.plus(rows.start, node.window))

    def visit_allergy(self, node: Allergy, bad: bool) -> Compiled:
        obs = self.base("observations")
        criticality = obs.qualifier.strip().lower().isin(list(node.criticality)).fill_null(False)
        severity = obs.value_string.strip().lower().isin(list(node.severity)).fill_null(False)
        serious = criticality | severity
        if node.valueset:
            serious &= self._in("observations", obs, SetKey(node.valueset))
        return self._flagged(self.domain("observations", obs), serious)

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

    def visit_measurement(self, node: Measurement, bad: bool) -> Compiled:
        """The latest result in the look-back, as one aggregate per person.

        Each row's key is epoch seconds x 3 plus how unfavourable its reading is (2: the truth
        that stands in the way, 1: unknown, 0: the other). MAX(key) is the latest result and,
        on a tie, the least favourable one; key mod 3 gives its truth back.
        """
        analyte = self.kb.analyte(node.analyte)
        rows = self.results.all()
        domain = self.domain("results", rows)
        lookback = node.lookback or analyte.lookback
        earliest = min(self.results.first_day(a.lookback) for a in self.kb.analytes.values())
        domain.prefilter = rows.day >= min(earliest, self.results.first_day(lookback))
        flag = (rows.analyte == node.analyte) & (rows.day >= self.results.first_day(lookback))
        stamp = rows.ts.epoch_seconds().cast("float64").floor().cast("int64") * 3
        genders: list[str | None] = [None]
        if node.uln_multiple is not None and analyte.uln_by_gender:
            genders = [*sorted(analyte.uln_by_gender), None]
        keys: dict[str | None, str] = {}
        for gender in genders:
            truth = self._row_truth(node, rows, gender)
            score = ibis.cases((truth == bad, 2), (truth.isnull(), 1), else_=0)
            keys[gender] = domain.max_where(self.column(), flag, stamp + score)
        missing = _bool(_TRUTH[node.if_missing])

        def decode(key: ir.IntegerValue) -> ir.BooleanValue:
            rest = key % 3
            return ibis.cases(
                (key.isnull(), missing), (rest == 2, _bool(bad)), (rest == 1, _bool(None)), else_=_bool(not bad)
            )

        def latest(w: Wide) -> ir.BooleanValue:
            if len(keys) == 1:
                return decode(w[keys[None]])
            branches = [(w.gender == g, decode(w[col])) for g, col in keys.items() if g is not None]
            return ibis.cases(*branches, else_=decode(w[keys[None]]))

        return Compiled(latest)

    def _row_truth(self, node: Measurement, rows: ir.Table, gender: str | None) -> ir.BooleanValue:
        """What one result says for the node (NULL when it cannot be read)."""
        if node.expect is not None:
            other = "negative" if node.expect == "positive" else "positive"
            return ibis.cases((rows.qual == node.expect, True), (rows.qual == other, False), else_=_bool(None))
        if node.op is None:
            raise ValueError(f"measurement of {node.analyte}: give `op` with `value` or `uln_multiple`")
        threshold = self._threshold(node, rows, gender)
        branches: list[tuple[ir.BooleanValue, ir.BooleanValue]] = [
            (rows.num.notnull(), _bounded(rows.num, rows.cmp, node.op, threshold))
        ]
        for reading, meaning in (("negative", node.if_negative), ("positive", node.if_positive)):
            if meaning is not None:
                branches.append((rows.qual == reading, _bool(_TRUTH[meaning])))
        return ibis.cases(*branches, else_=_bool(None))

    def _threshold(self, node: Measurement, rows: ir.Table, gender: str | None) -> ir.NumericValue:
        analyte = self.kb.analyte(node.analyte)
        if node.uln_multiple is not None:
            default = analyte.default_uln(gender)
            to_compared = factor_to(analyte, analyte.uln_unit) if analyte.uln_unit else 1.0
            fallback = ibis.literal(default * to_compared if default is not None else None, "float64")
            return rows.uln.fill_null(fallback) * node.uln_multiple
        if node.value is None:
            raise ValueError(f"measurement of {node.analyte}: no threshold")
        factor = factor_to(analyte, node.unit) if node.unit and analyte.unit else 1.0
        return ibis.literal(node.value * factor, "float64")

    def visit_derived(self, node: Derived, bad: bool) -> Compiled:
        if node.quantity != "creatinine_clearance":
            raise ValueError(f"derived quantity {node.quantity!r} is not supported")
        clearance = self.kb.analyte("creatinine_clearance")
        factor = factor_to(clearance, node.unit) if clearance.unit else 1.0
        threshold = node.value * factor
        measured = self.results.readings("creatinine_clearance")
        measured = measured.filter(measured.day >= self.results.first_day(clearance.lookback), measured.num.notnull())
        measured = self._latest(measured.mutate(truth=_bounded(measured.num, measured.cmp, node.op, threshold)), bad)
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
        cg = self.kb.cockcroft_gault
        sex = ibis.cases((j.gender == "male", 1.0), else_=cg.factor_unless_male)
        cockcroft_gault = (cg.age_offset - j.age) * j.w_value / (cg.divisor * j.c_value.nullif(0)) * sex
        truth = ibis.cases(
            (j.m_person.notnull(), j.m_truth), else_=_compare(cockcroft_gault, node.op, threshold)
        )
        return self._leaf(j.select(person_id=j.person_id, truth=truth), None)

    def _latest_value(self, name: str, *, worst_high: bool) -> ir.Table:
        """Latest result value of an analyte in its look-back (ties: the less favourable for CG)."""
        analyte = self.kb.analyte(name)
        rows = self.results.readings(name)
        rows = rows.filter(rows.day >= self.results.first_day(analyte.lookback))
        # A bound ("<0.5") is no exact value: it hides older results but gives none.
        rows = rows.mutate(num=ibis.cases((rows.cmp.isnull(), rows.num), else_=ibis.null("float64")))
        unreadable_first = ibis.cases((rows.num.isnull(), 0), else_=1)
        tie = rows.num.desc() if worst_high else rows.num.asc()
        ranked = rows.mutate(
            _rank=ibis.row_number().over(group_by=rows.person_id, order_by=[rows.ts.desc(), unreadable_first, tie])
        )
        return ranked.filter(ranked._rank == 0).select("person_id", value=ranked.num)
