"""Screen a person's answers and say what they mean, never more certainly than they allow.

The answers are screened twice by the FHIR evaluator (the same code path as any record):
with every closed-world "I don't know" as absent and as present. A criterion keeps its status
only where both agree; otherwise it is unknown. Then one of three results:

- `not_qualify`: some criterion fails ("you do not qualify because …", quoting it);
- `site_check`: nothing fails but some answerable criterion is unknown ("the site needs to
  check …");
- `may_qualify`: only the criteria no patient can answer remain ("you may qualify; the site
  will check …").
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Literal

from trialscreen.criteria import Attestation, Consent, CriteriaSet
from trialscreen.evaluate import Screener
from trialscreen.fhir import PatientRecord
from trialscreen.knowledge import Knowledge
from trialscreen.questionnaire.answers import Answers, Built, Hypothesis, enabled, to_resources
from trialscreen.questionnaire.model import Questionnaire
from trialscreen.report.model import CriterionResult, PatientReport, Status

Result = Literal["may_qualify", "not_qualify", "site_check"]
HEADLINES: dict[str, str] = {
    "may_qualify": "You may qualify. The trial site will check the rest.",
    "not_qualify": "You do not qualify for this trial.",
    "site_check": "The trial site needs to check some things before saying whether you qualify.",
}


@dataclass(frozen=True, slots=True)
class Item:
    """One criterion in the result, with the listing's words and why."""

    id: str
    kind: str
    text: str
    status: Status
    reason: str
    questions: tuple[str, ...] = ()
    """Texts of the questions whose answers decided it (or would)."""

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "text": self.text,
            "status": self.status,
            "reason": self.reason,
            "questions": list(self.questions),
        }


@dataclass(slots=True)
class Outcome:
    trial: str
    as_of: date
    result: Result
    failed: list[Item]
    to_check: list[Item]
    """Unknown criteria a person's answers could decide (answered "I don't know", or left out)."""
    site_checks: list[Item]
    """Criteria only the site can decide (consent, investigators' judgement)."""
    passed: list[Item]
    resources: list[dict[str, Any]] = field(default_factory=list)

    @property
    def headline(self) -> str:
        return HEADLINES[self.result]

    def to_json(self) -> dict[str, Any]:
        response = next((r for r in self.resources if r.get("resourceType") == "QuestionnaireResponse"), None)
        return {
            "trial": self.trial,
            "as_of": self.as_of.isoformat(),
            "result": self.result,
            "headline": self.headline,
            "failed": [i.to_json() for i in self.failed],
            "to_check": [i.to_json() for i in self.to_check],
            "site_checks": [i.to_json() for i in self.site_checks],
            "passed": [i.to_json() for i in self.passed],
            "questionnaire_response": response,
            "resources": self.resources,
        }


def _leaves(report: PatientReport) -> dict[str, CriterionResult]:
    """Results of criteria without parts, and of parts: what the answers speak to."""
    return {r.id: r for c in report.criteria for r in c.walk() if not r.parts}


def _both(absent: CriterionResult, present: CriterionResult, unknown_texts: list[str]) -> tuple[Status, str]:
    if absent.status == present.status:
        return absent.status, absent.reason
    said = "; ".join(f"“{t}”" for t in unknown_texts) or "a question"
    return "unknown", f"depends on what you did not know: {said}"


def _site_reason(criteria: CriteriaSet, cid: str) -> str:
    """Plain words for a criterion only the site decides, by what its rule asks for."""
    rule = criteria.by_id()[cid].rule
    if isinstance(rule, Consent):
        return "You sign the consent form with the trial site, after talking it through."
    if isinstance(rule, Attestation):
        return "The trial doctors judge this when they see you."
    return "The trial site checks this with you."


def assess(
    criteria: CriteriaSet,
    questionnaire: Questionnaire,
    answers: Answers,
    as_of: date,
    *,
    screener: Screener | None = None,
    questionnaire_url: str | None = None,
    kb: Knowledge | None = None,
) -> Outcome:
    """The result of a person's answers (already parsed) on `as_of`."""
    screener = screener or Screener(criteria)
    def screened(hypothesis: Hypothesis) -> tuple[Built, PatientReport]:
        built = to_resources(
            questionnaire, answers, as_of, hypothesis=hypothesis, questionnaire_url=questionnaire_url, kb=kb
        )
        return built, screener.screen(PatientRecord.from_resources(built.resources, source="questionnaire"), as_of)

    built_absent, report_absent = screened("absent")
    # Only an "I don't know" on a closed-world question can make the two differ.
    report_present = screened("present")[1] if built_absent.unknown else report_absent
    built = {"absent": built_absent}
    reports = {"absent": report_absent, "present": report_present}
    absent, present = _leaves(reports["absent"]), _leaves(reports["present"])
    questions = questionnaire.by_id()
    shown = {q.link_id for q in enabled(questionnaire, answers)}
    asked_for: dict[str, list[str]] = {}
    for q in questionnaire.questions:
        for cid in q.criteria:
            asked_for.setdefault(cid, []).append(q.link_id)
    unknown_links = set(built["absent"].unknown)
    site = set(questionnaire.site_checks)
    failed: list[Item] = []
    to_check: list[Item] = []
    site_items: list[Item] = []
    passed: list[Item] = []
    for cid, a in absent.items():
        links = asked_for.get(cid, [])
        unknown_here = [questions[link].text for link in links if link in unknown_links]
        status, reason = _both(a, present[cid], unknown_here)
        answered = tuple(questions[link].text for link in links if link in answers and link in shown)
        item = Item(
            cid,
            a.kind,
            a.text,
            status,
            reason,
            answered if status != "unknown" else tuple(unknown_here),
        )
        if status == "fail":
            failed.append(item)
        elif status == "pass":
            passed.append(item)
        elif cid in site:
            site_items.append(Item(cid, a.kind, a.text, status, _site_reason(criteria, cid)))
        else:
            to_check.append(item)
    result: Result = "not_qualify" if failed else "site_check" if to_check else "may_qualify"
    return Outcome(
        criteria.trial,
        as_of,
        result,
        failed,
        to_check,
        site_items,
        passed,
        built["absent"].resources,
    )
