"""Screening one patient against a trial's criteria: statuses, verdict, eligible_from.

A `Screener` compiles the criteria once; `screen` then runs per patient. The criterion level
adds what the spec puts above the rules: not-applicable criteria, attestations that decide what
the record leaves unknown (and contradictions reported, the record winning), compound criteria
from their parts, and the day a time-limited exclusion lapses.

`screen` decides only what a verdict needs, cheapest criterion first, and leaves statuses,
reasons and evidence to be built when the report is read: screening a population for its
verdicts never formats a word, and a report read in full is the same as one built at once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from typing import Any

from trialscreen.criteria import CriteriaSet, Criterion
from trialscreen.criteria.nodes import Attestation
from trialscreen.evaluate import conditions, derived, events, logic, measurements, people  # noqa: F401  (register kinds)
from trialscreen.evaluate.context import Context
from trialscreen.evaluate.outcome import FALSE, TRUE, UNKNOWN, Outcome
from trialscreen.evaluate.registry import Check, Compiler
from trialscreen.fhir.read import PatientRecord
from trialscreen.knowledge import Knowledge, knowledge
from trialscreen.report.model import (
    CriterionResult,
    Evidence,
    PatientReport,
    Status,
    Verdict,
    patient_eligible_from,
    verdict_of,
)

_COST = {"measurement": 4.0, "derived": 8.0, "medication": 2.0, "age": 0.5, "gender": 0.5, "attestation": 0.5, "manual_review": 0.5}
"""Rough relative cost of deciding a node kind (1 unless named), for the order of `_verdict`."""


def _cost(criterion: Criterion, definitions: dict[str, Any]) -> float:
    def node_cost(node: Any) -> float:
        if node is None:
            return 0.0
        if node.kind == "ref":
            return node_cost(definitions.get(node.name))
        children = getattr(node, "items", None) or ([node.item] if getattr(node, "item", None) is not None else [])
        if children:
            return sum(node_cost(child) for child in children)
        return _COST.get(node.kind, 1.0)

    return node_cost(criterion.rule) + node_cost(criterion.applies_when) + sum(_cost(p, definitions) for p in criterion.parts)


def status_of(truth: str, kind: str) -> Status:
    if truth == UNKNOWN:
        return "unknown"
    holds = truth == TRUE
    if kind == "inclusion":
        return "pass" if holds else "fail"
    return "fail" if holds else "pass"


Decided = tuple[Status, date | None]
"""(status, eligible_from) of a criterion."""
_PASS: Decided = ("pass", None)
_UNKNOWN: Decided = ("unknown", None)
_FAIL: Decided = ("fail", None)


@dataclass
class _Compiled:
    criterion: Criterion
    rule: Check | None
    applies: Check | None
    parts: list[_Compiled]
    attested_rule: bool
    decide: Callable[[Context], Decided]


class Screener:
    """The criteria of one trial, compiled for screening many patients.

    Each criterion is compiled twice: into deciders, which `screen` runs for the verdict and
    the day it changes, and into checks, which decide and explain every criterion (status,
    reason, evidence, what is missing) when a report's criteria are first read. Both read the
    same per-patient indexes of the `Context`; tests hold the two to the same statuses and
    eligible_from on every case, and `_explain` refuses a report on which they disagree.
    """

    def __init__(self, criteria: CriteriaSet, knowledge_: Knowledge | None = None) -> None:
        self.criteria = criteria
        self.knowledge = knowledge_ or knowledge()
        self.compiler = Compiler(self.knowledge, dict(criteria.definitions))
        self.compiled = [self._compile(c) for c in criteria.criteria]
        self._order = [
            (c.criterion.id, c.decide) for c in sorted(self.compiled, key=lambda c: _cost(c.criterion, self.compiler.definitions))
        ]
        """Deciders by criterion id, cheapest first: the verdict often needs only the first to fail."""

    def _compile(self, criterion: Criterion) -> _Compiled:
        self.compiler.criterion_id = criterion.id
        rule = self.compiler.compile(criterion.rule, criterion.kind) if criterion.rule is not None else None
        applies = self.compiler.compile(criterion.applies_when, "inclusion") if criterion.applies_when is not None else None
        parts = [self._compile(p) for p in criterion.parts]
        self.compiler.criterion_id = criterion.id
        attested = isinstance(criterion.rule, Attestation)
        return _Compiled(criterion, rule, applies, parts, attested, self._decider(criterion, parts, attested))

    def _decider(self, criterion: Criterion, parts: list[_Compiled], attested: bool) -> Callable[[Context], Decided]:
        """The criterion's status and eligible_from, by the rules of `_run` without its words."""
        if parts:
            deciders = [p.decide for p in parts]

            def compound(ctx: Context) -> Decided:
                unknown = False
                for decide in deciders:
                    status = decide(ctx)[0]
                    if status == "fail":
                        return _FAIL  # a compound criterion has no eligible_from of its own
                    if status == "unknown":
                        unknown = True
                return _UNKNOWN if unknown else _PASS

            return compound
        kind = criterion.kind
        cid = criterion.id
        by_truth = {truth: {"pass": _PASS, "fail": _FAIL, "unknown": _UNKNOWN}[status_of(truth, kind)] for truth in (TRUE, FALSE, UNKNOWN)}
        assert criterion.rule is not None
        rule = self.compiler.decide(criterion.rule, kind)
        applies = self.compiler.decide(criterion.applies_when, "inclusion") if criterion.applies_when is not None else None

        def leaf(ctx: Context) -> Decided:
            if applies is not None and applies(ctx)[0] == FALSE:
                return _PASS
            truth, changes_on = rule(ctx)
            decided = by_truth[truth]
            if decided is _UNKNOWN:
                if not attested and ctx.facts.answers:
                    answer = ctx.answer(cid, kind)
                    if answer is not None:
                        decided = by_truth[TRUE if answer.value else FALSE]
                        return ("fail", changes_on) if decided is _FAIL and changes_on is not None else decided
                return _UNKNOWN
            if decided is _FAIL and changes_on is not None:
                return "fail", changes_on
            return decided

        return leaf

    def screen(self, record: PatientRecord, as_of: date, *, explain: bool = False) -> PatientReport:
        """The patient's verdict and eligible_from now; every criterion's status, reason, evidence
        and what is missing when first read (or now, with `explain`)."""
        ctx = Context(record.facts, as_of)
        verdict, eligible_from, decided_by = self._verdict(ctx)
        report = PatientReport(
            record.patient_id,
            self.criteria.trial,
            as_of,
            verdict,
            eligible_from,
            explain=_Pending(self, ctx, record, verdict, eligible_from, decided_by),
            decided_by=decided_by,
        )
        if explain:
            report.criteria  # noqa: B018  (builds the explanations now)
        return report

    def _verdict(self, ctx: Context) -> tuple[Verdict, date | None, tuple[str, ...]]:
        """Verdict, eligible_from and the criteria that decided them, cheapest criterion first.

        A criterion that fails for good (with no day it lapses) settles the verdict alone, so
        the rest is not decided here; reading the report decides and explains every criterion.
        Otherwise what decided it is every failing criterion (each lapses), or every unknown one.
        """
        unknown: list[str] = []
        failed: list[str] = []
        latest: date | None = None
        for cid, decide in self._order:
            status, day = decide(ctx)
            if status == "fail":
                if day is None:
                    return "ineligible", None, (cid,)
                failed.append(cid)
                if latest is None or day > latest:
                    latest = day
            elif status == "unknown":
                unknown.append(cid)
        if failed:
            return "ineligible", latest, tuple(failed)
        return ("needs_review", None, tuple(unknown)) if unknown else ("eligible", None, ())

    def decisions(self, record: PatientRecord, as_of: date, ctx: Context | None = None) -> dict[str, Decided]:
        """(status, eligible_from) of every criterion and part, by the deciders alone.

        What the explaining path must agree with (the tests hold them to it); also a cheap
        way to compare statuses with another engine.
        """
        ctx = ctx or Context(record.facts, as_of)
        out: dict[str, Decided] = {}

        def walk(comp: _Compiled) -> None:
            out[comp.criterion.id] = comp.decide(ctx)
            for part in comp.parts:
                walk(part)

        for comp in self.compiled:
            walk(comp)
        return out

    def _explain(
        self, ctx: Context, record: PatientRecord, verdict: Verdict, eligible_from: date | None, decided_by: tuple[str, ...] = ()
    ) -> tuple[list[CriterionResult], list[str]]:
        """Every criterion with its status, reason, evidence and what is missing; the record's warnings."""
        warnings = list(record.facts.notes)
        results = [self._run(c, ctx, warnings) for c in self.compiled]
        explained = verdict_of([r.status for r in results]), patient_eligible_from(results)
        deciding_status = {"ineligible": "fail", "needs_review": "unknown"}.get(verdict)
        statuses = {r.id: r.status for r in results}
        if explained != (verdict, eligible_from) or any(statuses.get(cid) != deciding_status for cid in decided_by):
            raise RuntimeError(
                f"the evaluator's deciding and explaining paths disagree for patient {record.patient_id}: "
                f"{verdict} / {eligible_from} vs {explained[0]} / {explained[1]}"
            )
        return results, warnings

    def _run(self, comp: _Compiled, ctx: Context, warnings: list[str]) -> CriterionResult:
        c = comp.criterion
        if comp.parts:
            parts = [self._run(p, ctx, warnings) for p in comp.parts]
            failed = [p.id for p in parts if p.status == "fail"]
            unknown = [p.id for p in parts if p.status == "unknown"]
            if failed:
                status: Status = "fail"
                reason = "fails on " + ", ".join(failed)
            elif unknown:
                status = "unknown"
                reason = "cannot decide " + ", ".join(unknown)
            else:
                status = "pass"
                reason = f"all {len(parts)} parts pass"
            return CriterionResult(c.id, c.kind, c.text, status, reason, parts=parts)
        if comp.applies is not None:
            applies = comp.applies(ctx)
            if applies.truth == FALSE:
                why = c.not_applicable or "does not apply to this patient"
                return CriterionResult(
                    c.id, c.kind, c.text, "pass", f"not applicable: {why} ({applies.reason})", applies.evidence
                )
        assert comp.rule is not None
        out: Outcome = comp.rule(ctx)
        if out.warnings:
            warnings.extend(w for w in out.warnings if w not in warnings)
        status = status_of(out.truth, c.kind)
        reason = out.reason
        evidence = out.evidence  # a fresh list per evaluation: ours to extend
        missing = out.missing
        if not comp.attested_rule and ctx.facts.answers:
            answer = ctx.answer(c.id, c.kind)
            if answer is not None:
                says = status_of(TRUE if answer.value else FALSE, c.kind)
                ev = Evidence(answer.ref, f"attestation {c.id}", answer.value, date=answer.authored.date().isoformat())
                if status == "unknown":
                    status = says
                    reason = f"decided by attestation of {answer.authored.date()} (the record alone: {reason})"
                    evidence.append(ev)
                    missing = []
                elif says != status:
                    note = f"an attestation ({answer.ref}) says {says}, but the record says {status}; the record wins"
                    reason = f"{reason}; {note}"
                    evidence.append(Evidence(answer.ref, f"attestation {c.id}", answer.value, note="contradicts the record"))
                    warnings.append(f"{c.id}: {note}")
        eligible_from = out.changes_on if status == "fail" else None
        return CriterionResult(c.id, c.kind, c.text, status, reason, evidence, missing, eligible_from)


class _Pending:
    """A screened patient's explanations, built by the screener when the report is read."""

    __slots__ = ("screener", "ctx", "record", "verdict", "eligible_from", "decided_by")

    def __init__(
        self,
        screener: Screener,
        ctx: Context,
        record: PatientRecord,
        verdict: Verdict,
        eligible_from: date | None,
        decided_by: tuple[str, ...],
    ) -> None:
        self.screener = screener
        self.ctx = ctx
        self.record = record
        self.verdict: Verdict = verdict
        self.eligible_from = eligible_from
        self.decided_by = decided_by

    def explain(self) -> tuple[list[CriterionResult], list[str]]:
        return self.screener._explain(self.ctx, self.record, self.verdict, self.eligible_from, self.decided_by)

    def statuses(self) -> dict[str, Status]:
        decided = self.screener.decisions(self.record, self.ctx.as_of, self.ctx)
        return {cid: status for cid, (status, _) in decided.items()}


def screen(criteria: CriteriaSet, record: PatientRecord, as_of: date) -> PatientReport:
    """Screen one patient (compiling the criteria each time: use `Screener` for many)."""
    return Screener(criteria).screen(record, as_of)
