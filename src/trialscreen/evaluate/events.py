"""Procedures, medicines, immunizations, allergies and consents (closed world, except consent)."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from trialscreen.criteria import duration
from trialscreen.criteria.nodes import Allergy, Consent, Immunization, Medication, Procedure
from trialscreen.evaluate.context import Context
from trialscreen.evaluate.outcome import DECIDED_FALSE, DECIDED_TRUE, DECIDED_UNKNOWN, FALSE, TRUE, UNKNOWN, Outcome
from trialscreen.evaluate.registry import Check, Compiler, Decide, Decision, compiles, decides
from trialscreen.fhir.facts import Coding, MedicationFact, ProcedureFact
from trialscreen.knowledge import ValueSet
from trialscreen.report.model import Evidence


def _in(vs: ValueSet | None, codes: tuple[Coding, ...], text: str = "") -> bool:
    if vs is None:
        return True
    contains = vs.contains
    for system, code in codes:
        if contains(system, code):
            return True
    return vs.matches_text(text)


def _name(codes: tuple[Coding, ...], text: str) -> str:
    shown = text.split(" | ")[0] if text else ""
    code = codes[0][1] if codes else ""
    return f"{code} ({shown})" if code and shown else (code or shown or "uncoded")


_words = lru_cache(maxsize=256)(duration.words)
"""A window in words ("3 months"), worked out once per window."""


def _windowed(
    dated: list[tuple[Evidence, date | None]], window: str | None, as_of: date, title: str
) -> Outcome:
    """Closed-world outcome of events, optionally inside a window ending on the as-of date."""
    if window is None:
        if dated:
            return Outcome(TRUE, f"record of {title}", [e for e, _ in dated])
        return Outcome(FALSE, f"no record of {title}")
    words = _words(window)
    inside = [(e, d) for e, d in dated if d is not None and duration.add(d, window) > as_of]
    if inside:
        latest = max(d for _, d in inside if d is not None)
        lapse = duration.add(latest, window)
        return Outcome(TRUE, f"{title} on {latest}, within {words}", [e for e, _ in inside], changes_on=lapse)
    undated = [e for e, d in dated if d is None]
    if undated:
        return Outcome(UNKNOWN, f"{title} recorded without a date", undated, missing=[f"date of {title}"])
    if dated:
        return Outcome(FALSE, f"no {title} within {words} (last on {max(d for _, d in dated if d)})", [e for e, _ in dated])
    return Outcome(FALSE, f"no record of {title} within {words}")


def _procedure_counts(
    proc: ProcedureFact, as_of: date, vs: ValueSet | None, category: ValueSet | None, minor: ValueSet | None
) -> bool:
    """A procedure done by the as-of date, in the value set and category, and not a listed minor one."""
    if proc.when is not None and proc.when > as_of:
        return False
    if not _in(vs, proc.codes):
        return False
    if category is not None and not any(category.contains(s, k) for s, k in proc.categories):
        return False
    return not (minor is not None and any(minor.contains(s, k) for s, k in proc.codes))


def _set_aside(med: MedicationFact, routes: ValueSet | None, reasons: ValueSet | None) -> bool:
    """A medicine that does not count: given by a non-systemic route, or for a listed reason."""
    if routes is not None and med.has_route and (
        any(routes.contains(s, k) for s, k in med.routes) or routes.matches_text(med.route_text)
    ):
        return True
    return reasons is not None and any(reasons.contains(s, k) for s, k in med.reasons)


@compiles("procedure")
def _procedure(node: Procedure, polarity: str, c: Compiler) -> Check:
    vs = c.knowledge.valueset(node.valueset) if node.valueset else None
    category = c.knowledge.valueset(node.category) if node.category else None
    minor = c.knowledge.valueset(node.exclude) if node.exclude else None
    title = node.label or (vs.title if vs else category.title if category else "procedure")
    window = node.window

    def run(ctx: Context) -> Outcome:
        as_of = ctx.as_of
        found: list[tuple[Evidence, date | None]] = []
        for proc in ctx.facts.procedures:
            if not _procedure_counts(proc, as_of, vs, category, minor):
                continue
            ev = Evidence(proc.ref, f"Procedure {_name(proc.codes, proc.text)}", date=proc.when.isoformat() if proc.when else None)
            found.append((ev, proc.when))
        return _windowed(found, window, as_of, title)

    return run


def _active(med: MedicationFact, as_of: date) -> bool:
    if med.resource_type == "MedicationRequest":
        ok = med.status == "active"
    else:
        ok = med.status in ("active", "intended")
    if not ok:
        return False
    if med.end is not None and med.end < as_of:
        return False
    return med.start is None or med.start <= as_of


_TAKEN = frozenset({"active", "completed", "stopped", "on-hold"})
"""Statuses that record a use of the medicine (not cancelled, draft, not taken, in error)."""


def _last_use(med: MedicationFact, as_of: date) -> date | None:
    """The last day of a past use: the end, else the start (a one-off); None when undated.

    An active record that has not ended is in use on the as-of date (the caller checks).
    """
    if med.end is not None:
        return min(med.end, as_of) if med.status != "active" else med.end
    return med.start


@compiles("medication")
def _medication(node: Medication, polarity: str, c: Compiler) -> Check:
    vs = c.knowledge.valueset(node.valueset)
    routes = c.knowledge.valueset(node.non_systemic_routes) if node.systemic_only else None
    reasons = c.knowledge.valueset(node.unless_reason) if node.unless_reason else None
    title = node.label or vs.title
    systemic = " systemic" if node.systemic_only else ""
    timing, window = node.timing, node.window

    def run(ctx: Context) -> Outcome:
        as_of = ctx.as_of
        hits: list[Evidence] = []
        dated: list[tuple[Evidence, date | None]] = []
        ongoing: list[Evidence] = []
        for med in ctx.facts.medications:
            if not _in(vs, med.codes, med.text):
                continue
            if timing == "current":
                if not _active(med, as_of):
                    continue
            elif med.status not in _TAKEN or (med.start is not None and med.start > as_of):
                continue
            if _set_aside(med, routes, reasons):
                continue
            route = med.route_text.split(" | ")[0] if med.route_text else ("no route recorded" if not med.has_route else None)
            when = med.start.isoformat() if med.start and timing != "current" else None
            ev = Evidence(med.ref, f"{med.resource_type} {_name(med.codes, med.text)}", med.status, date=when, note=route)
            hits.append(ev)
            if timing == "within":
                if med.status == "active" and med.end is None:
                    ongoing.append(ev)
                else:
                    dated.append((ev, _last_use(med, as_of)))
        if timing == "within":
            if ongoing:
                return Outcome(TRUE, f"use of{systemic} {title} ongoing on {as_of}", ongoing + [e for e, _ in dated])
            return _windowed(dated, window, as_of, f"use of{systemic} {title}")
        if timing == "ever":
            return _windowed([(e, None) for e in hits], None, as_of, f"use of{systemic} {title}")
        if hits:
            return Outcome(TRUE, f"active{systemic} {title}", hits)
        return Outcome(FALSE, f"no record of active{systemic} {title}")

    return run


@compiles("immunization")
def _immunization(node: Immunization, polarity: str, c: Compiler) -> Check:
    vs = c.knowledge.valueset(node.valueset)
    title = node.label or vs.title
    window = node.window

    def run(ctx: Context) -> Outcome:
        found = [
            (Evidence(imm.ref, f"Immunization {_name(imm.codes, imm.text)}", date=imm.when.isoformat() if imm.when else None), imm.when)
            for imm in ctx.facts.immunizations
            if _in(vs, imm.codes) and (imm.when is None or imm.when <= ctx.as_of)
        ]
        return _windowed(found, window, ctx.as_of, title)

    return run


@compiles("allergy")
def _allergy(node: Allergy, polarity: str, c: Compiler) -> Check:
    vs = c.knowledge.valueset(node.valueset) if node.valueset else None
    crit = set(node.criticality)
    sev = set(node.severity)
    title = node.label or "severe hypersensitivity (high criticality or severe reaction)"

    def run(ctx: Context) -> Outcome:
        hits = []
        for al in ctx.facts.allergies:
            if al.recorded is not None and al.recorded > ctx.as_of:
                continue
            if not _in(vs, al.codes, al.text):
                continue
            severe = [s for s in al.severities if s in sev]
            if al.criticality in crit or severe:
                note = f"criticality {al.criticality}" if al.criticality in crit else f"reaction {severe[0]}"
                hits.append(Evidence(al.ref, f"AllergyIntolerance {_name(al.codes, al.text)}", note=note))
        if hits:
            return Outcome(TRUE, f"record of {title}", hits)
        return Outcome(FALSE, f"no record of {title}")

    return run


@compiles("consent")
def _consent(node: Consent, polarity: str, c: Compiler) -> Check:
    vs = c.knowledge.valueset(node.valueset)

    def run(ctx: Context) -> Outcome:
        signed = [
            con for con in ctx.facts.consents
            if con.when is not None and con.when <= ctx.as_of and any(vs.contains(s, k) for s, k in con.codes)
        ]
        if signed:
            con = max(signed, key=lambda x: x.when or date.min)
            ev = Evidence(con.ref, "research consent", "active", date=con.when.isoformat() if con.when else None)
            return Outcome(TRUE, f"research consent signed on {con.when}", [ev])
        return Outcome(UNKNOWN, "consent not yet recorded", missing=["signed research consent (FHIR Consent)"])

    return run


# Deciders: each check's decision without its words, kept in step with the check above it.


def _windowed_decision(dated: list[date | None], window: str | None, as_of: date) -> Decision:
    """`_windowed`'s truth and changes_on, from the events' dates alone."""
    if not dated:
        return DECIDED_FALSE
    if window is None:
        return DECIDED_TRUE
    inside = [d for d in dated if d is not None and duration.add(d, window) > as_of]
    if inside:
        return TRUE, duration.add(max(inside), window)
    return DECIDED_UNKNOWN if None in dated else DECIDED_FALSE


@decides("procedure")
def _decide_procedure(node: Procedure, polarity: str, c: Compiler) -> Decide:
    vs = c.knowledge.valueset(node.valueset) if node.valueset else None
    category = c.knowledge.valueset(node.category) if node.category else None
    minor = c.knowledge.valueset(node.exclude) if node.exclude else None
    window = node.window

    def run(ctx: Context) -> Decision:
        procedures = ctx.facts.procedures
        if not procedures:
            return DECIDED_FALSE
        as_of = ctx.as_of
        found = [proc.when for proc in procedures if _procedure_counts(proc, as_of, vs, category, minor)]
        return _windowed_decision(found, window, as_of)

    return run


@decides("medication")
def _decide_medication(node: Medication, polarity: str, c: Compiler) -> Decide:
    if node.timing != "current" or node.window is not None:
        check = c.compile(node, polarity)  # past use (ever, within a window): decided by the check itself

        def checked(ctx: Context) -> Decision:
            out = check(ctx)
            return out.truth, out.changes_on

        return checked
    vs = c.knowledge.valueset(node.valueset)
    routes = c.knowledge.valueset(node.non_systemic_routes) if node.systemic_only else None
    reasons = c.knowledge.valueset(node.unless_reason) if node.unless_reason else None

    def run(ctx: Context) -> Decision:
        as_of = ctx.as_of
        for med in ctx.facts.medications:
            if not _in(vs, med.codes, med.text) or not _active(med, as_of):
                continue
            if _set_aside(med, routes, reasons):
                continue
            return DECIDED_TRUE
        return DECIDED_FALSE

    return run


@decides("immunization")
def _decide_immunization(node: Immunization, polarity: str, c: Compiler) -> Decide:
    vs = c.knowledge.valueset(node.valueset)
    window = node.window

    def run(ctx: Context) -> Decision:
        as_of = ctx.as_of
        found = [imm.when for imm in ctx.facts.immunizations if _in(vs, imm.codes) and (imm.when is None or imm.when <= as_of)]
        return _windowed_decision(found, window, as_of)

    return run


@decides("allergy")
def _decide_allergy(node: Allergy, polarity: str, c: Compiler) -> Decide:
    vs = c.knowledge.valueset(node.valueset) if node.valueset else None
    crit = set(node.criticality)
    sev = set(node.severity)

    def run(ctx: Context) -> Decision:
        for al in ctx.facts.allergies:
            if al.recorded is not None and al.recorded > ctx.as_of:
                continue
            if not _in(vs, al.codes, al.text):
                continue
            if al.criticality in crit or any(s in sev for s in al.severities):
                return DECIDED_TRUE
        return DECIDED_FALSE

    return run


@decides("consent")
def _decide_consent(node: Consent, polarity: str, c: Compiler) -> Decide:
    vs = c.knowledge.valueset(node.valueset)

    def run(ctx: Context) -> Decision:
        as_of = ctx.as_of
        for con in ctx.facts.consents:
            if con.when is not None and con.when <= as_of and any(vs.contains(s, k) for s, k in con.codes):
                return DECIDED_TRUE
        return DECIDED_UNKNOWN

    return run
