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
from datetime import date
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
    duration,
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

HIT = "_vs_hit"
"""The base column: the row is in some value set of its domain (see `base`)."""
GATED = ("conditions", "drugs")
"""Domains whose every leaf requires the row to be in one of the leaf's value sets."""
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


_NEGATION: dict[str, Comparator] = {">=": "<", ">": "<=", "<=": ">", "<": ">="}
_NON_STRICT: dict[str, Comparator] = {"<": "<=", ">": ">=", "<=": "<=", ">=": ">="}


def _bound_rule(sign: str, op: Comparator) -> tuple[bool, Comparator]:
    """What a bounded result (`sign` v, e.g. "<0.5") can decide for `op threshold`.

    Every value the bound allows agrees only one way: a bound on the side `op` wants can make
    the test true (when v itself passes; an open bound also at v == threshold), one on the other
    side can make it false (when v fails the same way); otherwise the result is unknown (the
    evaluator's rule). Returns (the truth it can give, the comparison of v that gives it).
    """
    below, open_end = sign in ("<", "<="), sign in ("<", ">")
    wants_below = op in ("<", "<=")
    if below == wants_below:
        return True, _NON_STRICT[op] if open_end else op
    negated = _NEGATION[op]
    return False, _NON_STRICT[negated] if open_end else negated


def _score(truth: bool | None, bad: bool) -> int:
    """A truth's rank on a tie of latest results: 2 when it is `bad`, 1 unknown, 0 the other."""
    return 1 if truth is None else 2 if truth == bad else 0


def _numeric_score(
    num: ir.NumericValue,
    bound: ir.StringValue,
    op: Comparator,
    threshold: ir.NumericValue | float,
    bad: bool,
    unreadable: ir.IntegerValue | int = 1,
) -> ir.IntegerValue:
    """`_score` of `num op threshold`: `unreadable` without a number, 1 without a threshold,
    one comparison for an exact number, `_bound_rule` for a bounded one.

    One flat CASE with few nodes: it runs on every result row of the analyte, and an engine's
    cost for a CASE grows with its size.
    """
    fallback = ibis.literal(unreadable) if isinstance(unreadable, int) else unreadable
    branches: list[tuple[ir.BooleanValue, ir.Value]] = [(num.isnull(), fallback)]
    if not isinstance(threshold, float | int):
        branches.append((threshold.isnull(), ibis.literal(1)))
    exact = ibis.cases((_compare(num, op, threshold), _score(True, bad)), else_=_score(False, bad))
    branches.append((bound.isnull(), exact))
    for sign in ("<", "<=", ">", ">="):
        truth, compare = _bound_rule(sign, op)
        branches.append(((bound == sign) & _compare(num, compare, threshold), ibis.literal(_score(truth, bad))))
    return ibis.cases(*branches, else_=1)


class ScreenCompiler:
    """Visits a criteria set's nodes; leaves register per-person tables in `leaves`."""

    def __init__(self, criteria: CriteriaSet, cdm: Cdm, vocab: Vocabulary, kb: Knowledge) -> None:
        self.criteria = criteria
        self.cdm = cdm
        self.vocab = vocab
        self.kb = kb
        self.results = Results(cdm, vocab, kb, self._since(), self._qualitative(), self._first_days())
        self._values: ir.Table | None = None
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

    def _since(self) -> date:
        """The earliest look-back day of any analyte or measurement leaf."""
        lookbacks = [a.lookback for a in self.kb.analytes.values()]
        lookbacks += [n.lookback for n in walk(self.criteria) if isinstance(n, Measurement) and n.lookback]
        return min(duration.subtract(self.cdm.as_of, lb) for lb in lookbacks)

    def _first_days(self) -> dict[str, date]:
        """Per analyte, the earliest day a result leaf reads (its look-back's first day):
        older rows of the analyte, and analytes no leaf reads, never enter the results."""
        days: dict[str, date] = {}

        def read(analyte: str, lookback: str) -> None:
            day = duration.subtract(self.cdm.as_of, lookback)
            days[analyte] = min(days.get(analyte, day), day)

        for n in walk(self.criteria):
            if isinstance(n, Measurement):
                read(n.analyte, n.lookback or self.kb.analyte(n.analyte).lookback)
            elif isinstance(n, Derived) and n.quantity == "creatinine_clearance":
                read(n.quantity, self.kb.analyte(n.quantity).lookback)
        return days

    def _qualitative(self) -> frozenset[str]:
        """Analytes whose qualitative reading some measurement leaf reads."""
        return frozenset(
            n.analyte
            for n in walk(self.criteria)
            if isinstance(n, Measurement) and (n.expect or n.if_negative or n.if_positive)
        )

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
                chain, matched = self._by_value(domain, joined, keys, rows, chain)
                flags += matched
            if flags:
                hit: dict[str, ir.BooleanValue] = {}
                if "concept" in self._keys.get(domain, {}):
                    # In some value set of the domain by any of the three routes: a joined id
                    # (the membership tables hold only ids of some set) or a matched value.
                    hit[HIT] = chain.c_id.notnull() | chain.s_id.notnull() | chain._v_any.fill_null(False)
                # One flag per key (by any route), so the staged rows carry a third of the columns.
                rows = chain.select(*rows.columns, **self._key_flags(domain, chain), **hit)
                if domain in GATED and hit:
                    # Every leaf of the domain needs a row in one of its value sets: the
                    # others are dropped here, and the few left are staged (`Cdm.stage`).
                    rows = self.cdm.stage(rows.filter(rows[HIT]), f"trialscreen_{domain}")
            self._bases[domain] = rows
        return self._bases[domain]

    def _key_flags(self, domain: str, chain: ir.Table) -> dict[str, ir.BooleanValue]:
        """Per key of the domain, is the row in its value set by any route (what `_in` reads):
        `_vs_k<i>` by concept, source concept or source value; `_vs_q<i>` by route concept or text."""
        out: dict[str, ir.BooleanValue] = {}
        for joined, keys in self._keys.get(domain, {}).items():
            kind, parts = ("q", ("r", "t")) if joined == "route" else ("k", ("c", "s", "v"))
            for i in range(len(keys)):
                test: ir.BooleanValue = ibis.literal(False)
                for part in parts:
                    test |= chain[column_name(part, i)].fill_null(False)
                out[column_name(kind, i)] = test
        return out

    def _by_value(
        self, domain: str, joined: str, keys: list[SetKey], rows: ir.Table, chain: ir.Table
    ) -> tuple[ir.Table, list[str]]:
        """Join the source-value (or route text) matches of each key, decided on the distinct
        values (`Cdm.source_values`): a flag `_vs_v<i>` (`_vs_t<i>` for routes) per key."""
        values = self.cdm.source_values(domain, "route" if joined == "route" else "source")
        prefix = "t" if joined == "route" else "v"
        tests: dict[str, ir.BooleanValue] = {}
        for i, key in enumerate(keys):
            vs = self.kb.valueset(key.valueset)
            test = contains_any(values.source_value, vs.text) if joined == "route" else source_match(values, vs)
            tests[column_name(prefix, i)] = test
        any_test: ir.BooleanValue = ibis.literal(False)
        for test in tests.values():
            any_test |= test.fill_null(False)
        table = values.select(
            **{f"_{prefix}_value": values.source_value, f"_{prefix}_source": values.source_id, f"_{prefix}_any": any_test},
            **tests,
        )
        # A few rows (the distinct values): staged, the engine knows it is the small side.
        table = self.cdm.stage(table, f"trialscreen_{domain}_{prefix}")
        text = rows.route_text if joined == "route" else rows.source_value
        source = ibis.literal(1, "int64") if joined == "route" else ibis.cases((rows.source_id == 0, 0), else_=1)
        chain = chain.left_join(
            table, (text == table[f"_{prefix}_value"]) & (source == table[f"_{prefix}_source"])
        )
        return chain, list(tests)

    def _in(self, domain: str, rows: ir.Table, key: SetKey, joined: str = "concept") -> ir.BooleanValue:
        """Is the row in the value set: by its concepts (joined flags), source value or text."""
        index = self._keys[domain][joined].index(key)
        flag: ir.BooleanValue = rows[column_name("q" if joined == "route" else "k", index)]
        return flag

    def domain(self, name: str, rows: ir.Table) -> Domain:
        if name not in self.domains:
            self.domains[name] = Domain(name, rows)
            if name in GATED and HIT in rows.columns:
                # `base` kept only the rows in some value set of the domain: every leaf
                # holds only for such rows, so no other test is needed before grouping.
                self.domains[name].prefilter = ibis.literal(True)
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

    def _results_domain(self, analyte: str) -> tuple[Domain, ir.Table]:
        """The per-person aggregates over the relation that holds an analyte's rows."""
        group = self.results.group(analyte)
        rows = self.results.relation(group)
        domain = self.domain(group, rows)
        # Every row of the relation is of an analyte some leaf or Cockcroft-Gault may read:
        # no per-row test of the leaves' flags before grouping (they are the FILTERs).
        domain.prefilter = ibis.literal(True)
        return domain, rows

    def _latest_key(self, domain: Domain, flag: ir.BooleanValue, analyte: str, score: ir.IntegerValue) -> str:
        """Per person, MAX over the flagged rows of epoch seconds x 3 plus the row's `score`: the
        latest result and, on a tie, the least favourable one; `_decode` gives its truth back."""
        code = self.results.code(analyte)
        return domain.keyed(self.column(), flag, "analyte", code, domain.rows.stamp * 3 + score)

    @staticmethod
    def _decode(key: ir.IntegerValue, bad: bool, missing: ir.BooleanValue) -> ir.BooleanValue:
        rest = key % 3
        return ibis.cases(
            (key.isnull(), missing), (rest == 2, _bool(bad)), (rest == 1, _bool(None)), else_=_bool(not bad)
        )

    def visit_measurement(self, node: Measurement, bad: bool) -> Compiled:
        """The latest result in the look-back, as one aggregate per person (see `_latest_key`)."""
        analyte = self.kb.analyte(node.analyte)
        domain, rows = self._results_domain(node.analyte)
        lookback = node.lookback or analyte.lookback
        flag = (rows.analyte == self.results.code(node.analyte)) & (rows.day >= self.results.first_day(lookback))
        genders: list[str | None] = [None]
        if node.uln_multiple is not None and analyte.uln_by_gender:
            genders = [*sorted(analyte.uln_by_gender), None]
        keys = {gender: self._latest_key(domain, flag, node.analyte, self._row_score(node, rows, gender, bad)) for gender in genders}
        missing = _bool(_TRUTH[node.if_missing])

        def latest(w: Wide) -> ir.BooleanValue:
            if len(keys) == 1:
                return self._decode(w[keys[None]], bad, missing)
            branches = [(w.gender == g, self._decode(w[col], bad, missing)) for g, col in keys.items() if g is not None]
            return ibis.cases(*branches, else_=self._decode(w[keys[None]], bad, missing))

        return Compiled(latest)

    def _row_score(self, node: Measurement, rows: ir.Table, gender: str | None, bad: bool) -> ir.IntegerValue:
        """How unfavourable one result is for the node: 2 when it says `bad`, 1 when it cannot
        be read, 0 otherwise. Written as one CASE whose common branch (an exact number) is a
        single comparison, since it runs on every result row of the analyte."""
        if node.expect is not None:
            other = "negative" if node.expect == "positive" else "positive"
            return ibis.cases(
                (rows.qual == node.expect, _score(True, bad)), (rows.qual == other, _score(False, bad)), else_=1
            )
        if node.op is None:
            raise ValueError(f"measurement of {node.analyte}: give `op` with `value` or `uln_multiple`")
        readings = [
            (rows.qual == reading, _score(_TRUTH[meaning], bad))
            for reading, meaning in (("negative", node.if_negative), ("positive", node.if_positive))
            if meaning is not None
        ]
        unreadable = ibis.cases(*readings, else_=1) if readings else ibis.literal(1)
        return _numeric_score(rows.num, rows.cmp, node.op, self._threshold(node, rows, gender), bad, unreadable)

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
        """Creatinine clearance: the latest measured one, else Cockcroft-Gault from the latest
        creatinine and weight (each in its look-back) with the person's age and sex."""
        if node.quantity != "creatinine_clearance":
            raise ValueError(f"derived quantity {node.quantity!r} is not supported")
        clearance = self.kb.analyte("creatinine_clearance")
        factor = factor_to(clearance, node.unit) if clearance.unit else 1.0
        threshold = node.value * factor
        domain, rows = self._results_domain("creatinine_clearance")
        flag = (
            (rows.analyte == self.results.code("creatinine_clearance"))
            & (rows.day >= self.results.first_day(clearance.lookback))
            & rows.num.notnull()
        )
        measured = self._latest_key(
            domain, flag, "creatinine_clearance", _numeric_score(rows.num, rows.cmp, node.op, threshold, bad)
        )
        if self._values is None:
            self._values = self.results.latest_values({"creatinine": True, "weight": False})
            self.leaves.append(self._values)
        cg = self.kb.cockcroft_gault

        def truth(w: Wide) -> ir.BooleanValue:
            sex = ibis.cases((w.gender == "male", 1.0), else_=cg.factor_unless_male)
            creatinine, weight = w["_v_creatinine"], w["_v_weight"]
            estimate = (cg.age_offset - w.age) * weight / (cg.divisor * creatinine.nullif(0)) * sex
            return ibis.cases(
                (w[measured].notnull(), self._decode(w[measured], bad, _bool(None))),
                else_=_compare(estimate, node.op, threshold),
            )

        return Compiled(truth)
