"""Diagnoses: value-set membership, clinical status, windows, and disease phase."""

from __future__ import annotations

from datetime import date

from trialscreen.criteria import duration
from trialscreen.criteria.nodes import Condition
from trialscreen.evaluate.context import ConditionHit, Context
from trialscreen.evaluate.outcome import DECIDED_FALSE, DECIDED_TRUE, DECIDED_UNKNOWN, FALSE, TRUE, UNKNOWN, Outcome
from trialscreen.evaluate.registry import Check, Compiler, Decide, Decision, compiles, decides
from trialscreen.fhir.facts import ConditionFact
from trialscreen.knowledge import ValueSet
from trialscreen.report.model import Evidence

ACTIVE = frozenset({"active", "recurrence", "relapse", None})
PRESENT = ACTIVE | {"remission"}
NO_HITS: list[ConditionHit] = []
"""Shared by every check that finds nothing (never appended to)."""


def matching_code(vs: ValueSet, cond: ConditionFact) -> str | None:
    """The condition's code that puts it in the value set (or its text), else None."""
    for system, code in cond.codes:
        if vs.contains(system, code):
            return code
    if vs.matches_text(cond.text):
        return cond.text.split(" | ")[0]
    return None


def abated(cond: ConditionFact, as_of: date) -> bool:
    return cond.abated_undated or (cond.abatement is not None and cond.abatement <= as_of)


def _evidence(cond: ConditionFact, code: str, note: str | None = None) -> Evidence:
    when = cond.onset or cond.recorded
    name = cond.text.split(" | ")[0] if cond.text else ""
    what = f"Condition {code}" + (f" ({name})" if name and name != code else "")
    return Evidence(cond.ref, what, cond.clinical_status, None, when.isoformat() if when else None, note=note)


def _phase(vs: ValueSet, code: str, cond: ConditionFact) -> str | None:
    """'relapsed', 'remission' or None, from ICD-10-CM's fifth character or clinical status."""
    digit: str | None = None
    rule = vs.phase_digit or {}
    position = rule.get("position_after_dot")
    if isinstance(position, int):
        norm = code.replace(".", "").upper()
        index = 3 + position - 1
        digit = norm[index] if len(norm) > index else None
    if digit == str(rule.get("relapse")) or cond.clinical_status in ("relapse", "recurrence"):
        return "relapsed"
    if digit == str(rule.get("remission")) or cond.clinical_status == "remission":
        return "remission"
    return None


@compiles("condition")
def _condition(node: Condition, polarity: str, c: Compiler) -> Check:
    name = node.valueset
    vs = c.condition_set(name)
    classify = c.classify
    title = node.label or vs.title
    timing = node.timing
    window = node.window
    window_words = duration.words(window) if window else ""
    phase = node.phase
    no_record = f"no record of {title}"

    def run(ctx: Context) -> Outcome:
        as_of = ctx.as_of
        hits = ctx.condition_hits(classify).get(name, NO_HITS)
        if phase == "relapsed":
            return _relapsed(hits, as_of, title, vs)
        if timing == "ever":
            if hits:
                return Outcome(TRUE, f"record of {title}", [_evidence(cd, code) for cd, code in hits])
            return Outcome(FALSE, no_record)
        if timing in ("active", "present"):
            statuses = ACTIVE if timing == "active" else PRESENT
            live = [(cd, code) for cd, code in hits if cd.clinical_status in statuses and not abated(cd, as_of)]
            if live:
                return Outcome(TRUE, f"active {title}", [_evidence(cd, code) for cd, code in live])
            if hits:
                return Outcome(FALSE, f"no active {title} (recorded, but resolved or inactive)", [_evidence(cd, code, "not active") for cd, code in hits])
            return Outcome(FALSE, no_record)
        assert window is not None
        inside: list[tuple[ConditionFact, str, date]] = []
        active: list[tuple[ConditionFact, str]] = []
        undated: list[tuple[ConditionFact, str]] = []
        for cd, code in hits:
            if timing == "active_or_within" and cd.clinical_status in ACTIVE and not abated(cd, as_of):
                active.append((cd, code))
                continue
            if timing == "onset_within":
                dates = [cd.onset or cd.recorded]
            else:
                dates = [cd.onset, cd.recorded, cd.abatement]
            known = [d for d in dates if d is not None and d <= as_of]
            if not known and not any(d is not None for d in dates):
                undated.append((cd, code))
                continue
            in_window = [d for d in known if duration.add(d, window) > as_of]
            if in_window:
                inside.append((cd, code, max(in_window)))
        if active:
            return Outcome(TRUE, f"active {title}", [_evidence(cd, code, "active") for cd, code in active])
        if inside:
            latest = max(d for _, _, d in inside)
            return Outcome(
                TRUE,
                f"{title} within {window_words} (latest {latest})",
                [_evidence(cd, code, f"within {window_words}") for cd, code, _ in inside],
                changes_on=duration.add(latest, window),
            )
        if undated:
            return Outcome(UNKNOWN, f"{title} recorded without a date", [_evidence(cd, code, "no date") for cd, code in undated], missing=[f"date of {title}"])
        if hits:
            return Outcome(FALSE, f"no {title} within {window_words}", [_evidence(cd, code, f"outside {window_words}") for cd, code in hits])
        return Outcome(FALSE, no_record)

    return run


def _relapsed(hits: list[tuple[ConditionFact, str]], as_of: date, title: str, vs: ValueSet) -> Outcome:
    considered = [(cd, code) for cd, code in hits if cd.clinical_status in PRESENT and not abated(cd, as_of)]
    phases = [(cd, code, _phase(vs, code, cd)) for cd, code in considered]
    relapsed = [(cd, code) for cd, code, p in phases if p == "relapsed"]
    if relapsed:
        return Outcome(TRUE, f"{title} in relapse", [_evidence(cd, code, "relapsed") for cd, code in relapsed])
    unclear = [(cd, code) for cd, code, p in phases if p is None]
    if unclear:
        return Outcome(
            UNKNOWN,
            f"{title} recorded, but relapsed or refractory status not recorded",
            [_evidence(cd, code, "phase not recorded") for cd, code in unclear],
            missing=["whether the disease is relapsed or refractory"],
        )
    if considered:
        return Outcome(FALSE, f"{title} in remission", [_evidence(cd, code, "in remission") for cd, code, _ in phases])
    return Outcome(FALSE, f"no record of current {title}")


@decides("condition")
def _decide_condition(node: Condition, polarity: str, c: Compiler) -> Decide:
    """The check's decision, without its words (kept in step with `_condition`)."""
    name = node.valueset
    vs = c.condition_set(name)
    classify = c.classify
    timing = node.timing
    window = node.window
    phase = node.phase

    def run(ctx: Context) -> Decision:
        index = ctx._conditions
        hits = (ctx.condition_hits(classify) if index is None else index).get(name)
        if not hits:
            return DECIDED_FALSE
        as_of = ctx.as_of
        if phase == "relapsed":
            unclear = False
            for cd, code in hits:
                if cd.clinical_status in PRESENT and not abated(cd, as_of):
                    stage = _phase(vs, code, cd)
                    if stage == "relapsed":
                        return DECIDED_TRUE
                    unclear = unclear or stage is None
            return DECIDED_UNKNOWN if unclear else DECIDED_FALSE
        if timing == "ever":
            return DECIDED_TRUE
        if timing in ("active", "present"):
            statuses = ACTIVE if timing == "active" else PRESENT
            live = any(cd.clinical_status in statuses and not abated(cd, as_of) for cd, _ in hits)
            return DECIDED_TRUE if live else DECIDED_FALSE
        assert window is not None
        latest: date | None = None
        undated = False
        for cd, _ in hits:
            if timing == "active_or_within" and cd.clinical_status in ACTIVE and not abated(cd, as_of):
                return DECIDED_TRUE
            dates = [cd.onset or cd.recorded] if timing == "onset_within" else [cd.onset, cd.recorded, cd.abatement]
            known = [d for d in dates if d is not None and d <= as_of]
            if not known and not any(d is not None for d in dates):
                undated = True
                continue
            for d in known:
                if duration.add(d, window) > as_of and (latest is None or d > latest):
                    latest = d
        if latest is not None:
            return TRUE, duration.add(latest, window)
        return DECIDED_UNKNOWN if undated else DECIDED_FALSE

    return run
