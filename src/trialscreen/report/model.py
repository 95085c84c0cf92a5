"""What a screening says about one patient: the verdict and every criterion with its evidence.

The same objects feed the text report, the JSON lines and the web pages, so a report reads
the same everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal, Protocol

import orjson

Status = Literal["pass", "fail", "unknown"]
Verdict = Literal["eligible", "ineligible", "needs_review"]


@dataclass(frozen=True, slots=True, init=False)
class Evidence:
    """One resource used, with the value, date and threshold it was held against."""

    resource: str  # "Observation/abc"
    what: str  # "AST", "Condition C92.02"
    value: str | float | int | bool | None = None
    unit: str | None = None
    date: str | None = None
    threshold: str | None = None
    note: str | None = None

    def __init__(
        self,
        resource: str,
        what: str,
        value: str | float | int | bool | None = None,
        unit: str | None = None,
        date: str | None = None,
        threshold: str | None = None,
        note: str | None = None,
    ) -> None:
        # Frozen: set through the slots themselves (a frozen dataclass's own __init__ goes
        # through object.__setattr__ field by field, several times slower on the hot path).
        _SET_RESOURCE(self, resource)
        _SET_WHAT(self, what)
        _SET_VALUE(self, value)
        _SET_UNIT(self, unit)
        _SET_DATE(self, date)
        _SET_THRESHOLD(self, threshold)
        _SET_NOTE(self, note)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"resource": self.resource, "what": self.what}
        if self.value is not None:
            out["value"] = self.value
        if self.unit is not None:
            out["unit"] = self.unit
        if self.date is not None:
            out["date"] = self.date
        if self.threshold is not None:
            out["threshold"] = self.threshold
        if self.note is not None:
            out["note"] = self.note
        return out


_SET_RESOURCE, _SET_WHAT, _SET_VALUE, _SET_UNIT, _SET_DATE, _SET_THRESHOLD, _SET_NOTE = (
    Evidence.__dict__[name].__set__ for name in ("resource", "what", "value", "unit", "date", "threshold", "note")
)


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
            "evidence": [e.to_json() for e in self.evidence] if self.evidence else [],
            "missing": list(self.missing),
            "eligible_from": self.eligible_from.isoformat() if self.eligible_from else None,
            "parts": [p.to_json() for p in self.parts] if self.parts else [],
        }

    def walk(self) -> list[CriterionResult]:
        out = [self]
        for part in self.parts:
            out.extend(part.walk())
        return out


class Explainer(Protocol):
    """What a report left to explain on first read."""

    def explain(self) -> tuple[list[CriterionResult], list[str]]:
        """Every criterion with its explanation, and the record's warnings."""
        ...

    def statuses(self) -> dict[str, Status]:
        """Status by criterion and part id, without the explanations."""
        ...


class PatientReport:
    """The verdict on one patient, and every criterion with its explanation.

    A screen decides first (`verdict`, `eligible_from`) and may leave `explain` to build the
    criteria's reasons, evidence and what is missing, with the record's `warnings`, on first
    read: a batch that only counts verdicts never formats a word, and every reader of the
    explanations sees the same values as if they had been built at once.
    """

    __slots__ = ("patient", "trial", "as_of", "verdict", "eligible_from", "decided_by", "_criteria", "_warnings", "_explain")

    def __init__(
        self,
        patient: str,
        trial: str,
        as_of: date,
        verdict: Verdict,
        eligible_from: date | None,
        criteria: list[CriterionResult] | None = None,
        warnings: list[str] | None = None,
        *,
        explain: Explainer | None = None,
        decided_by: tuple[str, ...] | None = None,
    ) -> None:
        if criteria is None and explain is None:
            raise ValueError("a report needs its criteria, or a way to explain them")
        if decided_by is None:
            if criteria is None:
                raise ValueError("a report explained later needs the criteria that decided its verdict")
            decided_by = deciding(verdict, criteria)
        self.patient = patient
        self.trial = trial
        self.as_of = as_of
        self.verdict: Verdict = verdict
        self.eligible_from = eligible_from
        self.decided_by = decided_by
        """The criteria that decided the verdict: one that fails for good, or every failing one
        (each lapses), or every unknown one; none for an eligible patient."""
        self._criteria = criteria
        self._warnings = warnings if warnings is not None else ([] if criteria is not None else None)
        self._explain = explain

    @property
    def criteria(self) -> list[CriterionResult]:
        if self._criteria is None:
            self._explained()
        assert self._criteria is not None
        return self._criteria

    @property
    def warnings(self) -> list[str]:
        """Things noticed in the record (unreadable results, contradicting attestations)."""
        if self._warnings is None:
            self._explained()
        assert self._warnings is not None
        return self._warnings

    @property
    def explained(self) -> bool:
        """Whether the explanations have been built (reading them builds them)."""
        return self._criteria is not None and self._warnings is not None

    def _explained(self) -> None:
        assert self._explain is not None
        criteria, warnings = self._explain.explain()
        self._criteria, self._warnings, self._explain = criteria, warnings, None

    def _head(self) -> dict[str, Any]:
        """What every output of a report begins with: who, which trial, when, and the verdict."""
        return {
            "patient": self.patient,
            "trial": self.trial,
            "as_of": self.as_of.isoformat(),
            "verdict": self.verdict,
            "eligible_from": self.eligible_from.isoformat() if self.eligible_from else None,
        }

    def to_json(self) -> dict[str, Any]:
        out = self._head()
        out["criteria"] = [c.to_json() for c in self.criteria]
        out["warnings"] = list(self.warnings)
        return out

    def to_json_line(self) -> bytes:
        """The report as one JSON line (with its newline), as `trialscreen screen --format json` writes it."""
        return orjson.dumps(self.to_json(), option=orjson.OPT_APPEND_NEWLINE)

    def summary(self) -> dict[str, Any]:
        """The verdict and what decided it, without explanations (`--format verdict`)."""
        out = self._head()
        out["decided_by"] = list(self.decided_by)
        return out

    def summary_line(self) -> bytes:
        """`summary` as one JSON line (with its newline)."""
        return orjson.dumps(self.summary(), option=orjson.OPT_APPEND_NEWLINE)

    def statuses(self) -> dict[str, Status]:
        """Status by criterion and part id (what the population engine compares).

        Before the explanations are read, decided without building them.
        """
        if self._criteria is None and self._explain is not None:
            return self._explain.statuses()
        return {r.id: r.status for c in self.criteria for r in c.walk()}

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, PatientReport):
            return NotImplemented
        return self.to_json() == other.to_json()

    __hash__ = None  # type: ignore[assignment]  # mutable, like the dataclass it replaces

    def __repr__(self) -> str:
        return f"PatientReport(patient={self.patient!r}, trial={self.trial!r}, as_of={self.as_of!r}, verdict={self.verdict!r}, eligible_from={self.eligible_from!r})"


def deciding(verdict: Verdict, criteria: list[CriterionResult]) -> tuple[str, ...]:
    """What decided a verdict, from explained criteria (listing order): see `decided_by`."""
    if verdict == "ineligible":
        failed = [c for c in criteria if c.status == "fail"]
        for_good = [c.id for c in failed if c.eligible_from is None]
        return (for_good[0],) if for_good else tuple(c.id for c in failed)
    if verdict == "needs_review":
        return tuple(c.id for c in criteria if c.status == "unknown")
    return ()


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
