"""A trial as the page and the API show it: the seed listing's sections, in plain values."""

from __future__ import annotations

from trialscreen.criteria import Criterion
from trialscreen.trials import Trial
from trialscreen.trials.model import DateStruct
from trialscreen.trials.render import humanize_code
from trialscreen.web.catalog import Entry
from trialscreen.web.schemas import CriterionOut, TrialDetail, TrialSummary

NOT_REPORTED = "Not reported"


def _date(struct: DateStruct | None) -> str | None:
    return struct.date if struct else None


def summary(entry: Entry) -> TrialSummary:
    t = entry.trial
    elig = t.eligibility
    locations = t.protocol_section.contacts_locations_module.locations
    return TrialSummary(
        nct_id=t.nct_id,
        title=t.title,
        status=t.overall_status,
        sponsor=t.lead_sponsor,
        conditions=list(t.conditions),
        sex=elig.sex,
        minimum_age=elig.minimum_age,
        maximum_age=elig.maximum_age,
        places=[", ".join(p for p in (loc.facility, loc.place) if p) for loc in locations],
        has_questionnaire=entry.criteria is not None,
        url=f"/trials/{t.nct_id}",
    )


def _criterion(c: Criterion) -> CriterionOut:
    return CriterionOut(id=c.id, kind=c.kind, text=c.text, parts=[_criterion(p) for p in c.parts])


def timeline(t: Trial) -> dict[str, str | None]:
    status = t.protocol_section.status_module
    return {
        "first_submitted": status.study_first_submit_date,
        "trial_launched": _date(status.start_date_struct),
        "trial_updated": _date(status.last_update_post_date_struct),
        "estimated_completion": _date(status.completion_date_struct) or _date(status.primary_completion_date_struct),
    }


def detail(entry: Entry, applied: int) -> TrialDetail:
    t = entry.trial
    section = t.protocol_section
    people = section.contacts_locations_module
    notes = {n.name: n.affiliation for n in t.extensions.contact_notes}
    status = section.status_module
    current = t.extensions.current_as_of or _date(status.last_update_post_date_struct) or status.status_verified_date
    return TrialDetail(
        **summary(entry).model_dump(),
        current_as_of=current,
        keywords=list(section.conditions_module.keywords) or list(t.conditions),
        summary=section.description_module.brief_summary,
        eligibility_criteria=t.eligibility_criteria,
        criteria=[_criterion(c) for c in entry.criteria.criteria] if entry.criteria else [],
        about_sponsor=t.about_sponsor,
        contacts=[
            {"name": c.name, "affiliation": notes.get(c.name or ""), "phone": c.phone, "email": c.email}
            for c in people.central_contacts
        ],
        locations=[
            {"facility": loc.facility, "place": loc.place, "status": humanize_code(loc.status) if loc.status else None}
            for loc in people.locations
        ],
        officials=[
            {"name": o.name, "role": humanize_code(o.role) if o.role else None, "affiliation": o.affiliation}
            for o in people.overall_officials
        ],
        timeline=timeline(t),
        patients_applied=applied,
    )


def criteria_lines(text: str | None) -> list[tuple[str, str]]:
    """Free-text eligibility criteria as (kind, line) for a trial without computable criteria:
    kind is "heading" for "Inclusion Criteria:"-like lines, else "item"."""
    out: list[tuple[str, str]] = []
    for raw in (text or "").splitlines():
        line = raw.strip().lstrip("-*•· ").strip()
        if not line:
            continue
        kind = "heading" if line.rstrip(":").lower().endswith("criteria") else "item"
        out.append((kind, line.rstrip(":") if kind == "heading" else line))
    return out


def status_words(status: str | None) -> str:
    return humanize_code(status) if status else "Status not given"
