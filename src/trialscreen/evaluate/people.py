"""Demographics and what people state: age, gender, attestations, manual review."""

from __future__ import annotations

from trialscreen.criteria.nodes import Age, Attestation, Gender, ManualReview
from trialscreen.evaluate.context import Context
from trialscreen.evaluate.outcome import DECIDED_FALSE, DECIDED_TRUE, DECIDED_UNKNOWN, FALSE, TRUE, UNKNOWN, Outcome
from trialscreen.evaluate.registry import Check, Compiler, Decide, Decision, compiles, decides
from trialscreen.report.model import Evidence

WHO = {"investigator": "the investigator's", "patient": "the patient's", "either": "an"}


@compiles("age")
def _age(node: Age, polarity: str, c: Compiler) -> Check:
    low, high = node.min, node.max
    if low is not None and high is not None:
        span = f"{low}–{high}"
    elif low is not None:
        span = f"at least {low}"
    else:
        span = f"at most {high}"

    def within(age: int) -> bool:
        return (low is None or age >= low) and (high is None or age <= high)

    def run(ctx: Context) -> Outcome:
        facts = ctx.facts
        bounds = ctx.age_bounds
        if bounds is None:
            why = facts.birth_date_problem or "no birth date recorded"
            return Outcome(UNKNOWN, f"age unknown: {why}", missing=["birth date"])
        young, old = bounds
        ok = within(young)
        if within(old) != ok:
            # A partial birth date ("1980"): the age is one of two values that decide differently.
            return Outcome(
                UNKNOWN,
                f"age {young} or {old} on {ctx.as_of}: the birth date is partial ({facts.birth_date} to {facts.birth_date_latest}), so cannot tell whether within {span} years",
                missing=["full birth date"],
            )
        shown: int | str = young if young == old else f"{young}–{old}"
        ev = Evidence(f"Patient/{facts.patient_id}", "age", shown, "years", str(facts.birth_date), span)
        words = "within" if ok else "outside"
        return Outcome(TRUE if ok else FALSE, f"age {shown} on {ctx.as_of} is {words} {span} years", [ev])

    return run


@compiles("gender")
def _gender(node: Gender, polarity: str, c: Compiler) -> Check:
    wanted = set(node.values)
    words = " or ".join(node.values)

    def run(ctx: Context) -> Outcome:
        gender = ctx.facts.gender
        if gender is None:
            return Outcome(UNKNOWN, "gender not recorded", missing=["gender"])
        ev = Evidence(f"Patient/{ctx.facts.patient_id}", "gender", gender)
        ok = gender in wanted
        return Outcome(TRUE if ok else FALSE, f"gender {gender} is {'' if ok else 'not '}{words}", [ev])

    return run


@compiles("attestation")
def _attestation(node: Attestation, polarity: str, c: Compiler) -> Check:
    link = node.link_id or c.criterion_id
    whose = WHO[node.who]
    question = node.question

    def run(ctx: Context) -> Outcome:
        answer = ctx.answer(link, polarity)
        if answer is None:
            return Outcome(
                UNKNOWN,
                f"awaits {whose} attestation: {question}",
                missing=[f"{whose} attestation ({link})"],
            )
        ev = Evidence(answer.ref, f"attestation {link}", answer.value, date=answer.authored.date().isoformat())
        says = "holds" if answer.value else "does not hold"
        return Outcome(TRUE if answer.value else FALSE, f"attested on {answer.authored.date()} that it {says}: {question}", [ev])

    return run


@compiles("manual_review")
def _manual(node: ManualReview, polarity: str, c: Compiler) -> Check:
    text = node.text
    link = node.label or c.criterion_id

    def run(ctx: Context) -> Outcome:
        return Outcome(UNKNOWN, f"needs a person to review: {text}", missing=[f"review or attestation ({link})"])

    return run


# Deciders: each check's decision without its words, kept in step with the check above it.


@decides("age")
def _decide_age(node: Age, polarity: str, c: Compiler) -> Decide:
    low, high = node.min, node.max

    def within(age: int) -> bool:
        return (low is None or age >= low) and (high is None or age <= high)

    def run(ctx: Context) -> Decision:
        bounds = ctx.age_bounds
        if bounds is None:
            return DECIDED_UNKNOWN
        ok = within(bounds[0])
        if within(bounds[1]) != ok:
            return DECIDED_UNKNOWN
        return DECIDED_TRUE if ok else DECIDED_FALSE

    return run


@decides("gender")
def _decide_gender(node: Gender, polarity: str, c: Compiler) -> Decide:
    wanted = set(node.values)

    def run(ctx: Context) -> Decision:
        gender = ctx.facts.gender
        if gender is None:
            return DECIDED_UNKNOWN
        return DECIDED_TRUE if gender in wanted else DECIDED_FALSE

    return run


@decides("attestation")
def _decide_attestation(node: Attestation, polarity: str, c: Compiler) -> Decide:
    link = node.link_id or c.criterion_id

    def run(ctx: Context) -> Decision:
        if not ctx.facts.answers:
            return DECIDED_UNKNOWN
        answer = ctx.answer(link, polarity)
        if answer is None:
            return DECIDED_UNKNOWN
        return DECIDED_TRUE if answer.value else DECIDED_FALSE

    return run


@decides("manual_review")
def _decide_manual(node: ManualReview, polarity: str, c: Compiler) -> Decide:
    def run(ctx: Context) -> Decision:
        return DECIDED_UNKNOWN

    return run
