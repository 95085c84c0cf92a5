"""Screening one patient against a trial's criteria: statuses, verdict, eligible_from.

A `Screener` compiles the criteria once; `screen` then runs per patient. The criterion level
adds what the spec puts above the rules: not-applicable criteria, attestations that decide what
the record leaves unknown (and contradictions reported, the record winning), compound criteria
from their parts, and the day a time-limited exclusion lapses.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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
    patient_eligible_from,
    verdict_of,
)


def status_of(truth: str, kind: str) -> Status:
    if truth == UNKNOWN:
        return "unknown"
    holds = truth == TRUE
    if kind == "inclusion":
        return "pass" if holds else "fail"
    return "fail" if holds else "pass"


@dataclass
class _Compiled:
    criterion: Criterion
    rule: Check | None
    applies: Check | None
    parts: list[_Compiled]
    attested_rule: bool


class Screener:
    """The criteria of one trial, compiled for screening many patients."""

    def __init__(self, criteria: CriteriaSet, knowledge_: Knowledge | None = None) -> None:
        self.criteria = criteria
        self.knowledge = knowledge_ or knowledge()
        self.compiler = Compiler(self.knowledge, dict(criteria.definitions))
        self.compiled = [self._compile(c) for c in criteria.criteria]

    def _compile(self, criterion: Criterion) -> _Compiled:
        self.compiler.criterion_id = criterion.id
        rule = self.compiler.compile(criterion.rule, criterion.kind) if criterion.rule is not None else None
        applies = self.compiler.compile(criterion.applies_when, "inclusion") if criterion.applies_when is not None else None
        parts = [self._compile(p) for p in criterion.parts]
        attested = isinstance(criterion.rule, Attestation)
        return _Compiled(criterion, rule, applies, parts, attested)

    def screen(self, record: PatientRecord, as_of: date) -> PatientReport:
        ctx = Context(record.facts, as_of)
        warnings = list(record.facts.notes)
        results = [self._run(c, ctx, warnings) for c in self.compiled]
        statuses = [r.status for r in results]
        return PatientReport(
            patient=record.patient_id,
            trial=self.criteria.trial,
            as_of=as_of,
            verdict=verdict_of(statuses),
            eligible_from=patient_eligible_from(results),
            criteria=results,
            warnings=warnings,
        )

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
        if not comp.attested_rule:
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


def screen(criteria: CriteriaSet, record: PatientRecord, as_of: date) -> PatientReport:
    """Screen one patient (compiling the criteria each time: use `Screener` for many)."""
    return Screener(criteria).screen(record, as_of)
