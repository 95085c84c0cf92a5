"""What a screening says about one patient: the verdict and every criterion with its evidence.

The same objects feed the text report, the JSON lines and the web pages, so a report reads
the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

Status = Literal["pass", "fail", "unknown"]
Verdict = Literal["eligible", "ineligible", "needs_review"]


@dataclass(frozen=True, slots=True)
class Evidence:
    """One resource used, with the value, date and threshold it was held against."""

    resource: str  # "Observation/abc"
    what: str  # "AST", "Condition C92.02"
    value: str | float | int | bool | None = None
    unit: str | None = None
    date: str | None = None
    threshold: str | None = None
    note: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"resource": self.resource, "what": self.what}
        for key in ("value", "unit", "date", "threshold", "note"):
            value = getattr(self, key)
            if value is not None:
                out[key] = value
        return out


@dataclass(slots=True)
class CriterionResult:
    id: str
    kind: Literal["inclusion", "exclusion"]
    text: str
    status: Status
    reason: str
    evidence: list[Evidence] = field(default_factory=list)
    missing: list[str] = field(default_factory=list)
    eligible_from: date | None = None
    parts: list[CriterionResult] = field(default_factory=list)

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "status": self.status,
            "reason": self.reason,
            "evidence": [e.to_json() for e in self.evidence],
            "missing": list(self.missing),
            "eligible_from": self.eligible_from.isoformat() if self.eligible_from else None,
            "parts": [p.to_json() for p in self.parts],
        }

    def walk(self) -> list[CriterionResult]:
        out = [self]
        for part in self.parts:
            out.extend(part.walk())
        return out


@dataclass(slots=True)
class PatientReport:
    patient: str
    trial: str
    as_of: date
    verdict: Verdict
    eligible_from: date | None
    criteria: list[CriterionResult]
    warnings: list[str] = field(default_factory=list)
    """Things noticed in the record (unreadable results, contradicting attestations)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "patient": self.patient,
            "trial": self.trial,
            "as_of": self.as_of.isoformat(),
            "verdict": self.verdict,
            "eligible_from": self.eligible_from.isoformat() if self.eligible_from else None,
            "criteria": [c.to_json() for c in self.criteria],
            "warnings": list(self.warnings),
        }

    def statuses(self) -> dict[str, Status]:
        """Status by criterion and part id (what the population engine compares)."""
        return {r.id: r.status for c in self.criteria for r in c.walk()}


def verdict_of(statuses: list[Status]) -> Verdict:
    """ineligible if any fails; else needs_review if any is unknown; else eligible."""
    if "fail" in statuses:
        return "ineligible"
    if "unknown" in statuses:
        return "needs_review"
    return "eligible"


def patient_eligible_from(results: list[CriterionResult]) -> date | None:
    """The latest criterion eligible_from, only when every failed criterion has one."""
    failed = [r for r in results if r.status == "fail"]
    if not failed or any(r.eligible_from is None for r in failed):
        return None
    return max(r.eligible_from for r in failed if r.eligible_from is not None)
