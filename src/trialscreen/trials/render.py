"""Plain-text views of trials for the CLI (``trialscreen trials`` and ``trialscreen show``).

Strings are the primary output so they can be tested and piped. The Rich variants return
:class:`rich.text.Text`, never markup strings: registry text often holds square brackets,
which Rich would otherwise take as markup.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.console import Group
from rich.text import Text

from trialscreen.trials.model import Contact, DateStruct, Location, Official, Trial

NOT_GIVEN = "not given"


def humanize_code(code: str | None) -> str:
    """API enum to words: NOT_YET_RECRUITING -> Not yet recruiting; PHASE1 -> Phase 1."""
    if not code:
        return NOT_GIVEN
    if code.startswith("PHASE") and code[5:].isdigit():
        return f"Phase {code[5:]}"
    if code.startswith("EARLY_PHASE") and code[11:].isdigit():
        return f"Early phase {code[11:]}"
    return code.replace("_", " ").capitalize()


def trial_line(trial: Trial) -> str:
    """One line: id, status code, title (what ``trialscreen trials`` prints per trial)."""
    return f"{trial.nct_id}  {trial.overall_status or '-'}  {trial.title}"


def trial_lines(trials: Sequence[Trial]) -> str:
    """Trials one per line, status column padded so titles line up."""
    width = max((len(t.overall_status or "-") for t in trials), default=0)
    return "\n".join(f"{t.nct_id}  {(t.overall_status or '-'):<{width}}  {t.title}" for t in trials)


def age_range(trial: Trial) -> str:
    """'18 Years to 70 Years', 'at least 18 Years', 'up to 6 Months' or 'no age limits given'."""
    low, high = trial.eligibility.minimum_age, trial.eligibility.maximum_age
    if trial.eligibility.minimum_age_years is None:
        low = None
    if trial.eligibility.maximum_age_years is None:
        high = None
    if low and high:
        return f"{low} to {high}"
    if low:
        return f"at least {low}"
    if high:
        return f"up to {high}"
    return "no age limits given"


def listing_sections(trial: Trial) -> list[tuple[str, str]]:
    """The ``show`` listing as (heading, body) pairs; empty parts are left out."""
    section = trial.protocol_section
    ident = section.identification_module
    status = section.status_module
    sponsors = section.sponsor_collaborators_module
    design = section.design_module
    eligibility = section.eligibility_module
    people = section.contacts_locations_module

    overview = [
        ("NCT id", trial.nct_id),
        ("Official title", ident.official_title if ident.official_title != trial.title else None),
        ("Sponsor study id", ident.org_study_id_info.id),
        ("Sponsor", _sponsor_text(sponsors.lead_sponsor.name, sponsors.lead_sponsor.class_)),
        ("Collaborators", "; ".join(c.name for c in sponsors.collaborators if c.name) or None),
        ("Status", humanize_code(status.overall_status)),
        ("Why stopped", status.why_stopped),
        ("Study type", humanize_code(design.study_type) if design.study_type else None),
        ("Phase", "/".join(humanize_code(p) for p in design.phases) or None),
        ("Enrollment", _enrollment_text(design.enrollment_info.count, design.enrollment_info.type)),
    ]
    dates = [
        ("Start", _date_text(status.start_date_struct)),
        ("Primary completion", _date_text(status.primary_completion_date_struct)),
        ("Completion", _date_text(status.completion_date_struct)),
        ("First submitted", status.study_first_submit_date),
        ("Last update posted", _date_text(status.last_update_post_date_struct)),
        ("Status verified", status.status_verified_date),
        ("Current as of", trial.extensions.current_as_of),
    ]
    who = [
        ("Sex", humanize_code(eligibility.sex) if eligibility.sex else None),
        ("Ages", age_range(trial)),
        ("Age groups", ", ".join(humanize_code(a) for a in eligibility.std_ages) or None),
        ("Healthy volunteers", _yes_no(eligibility.healthy_volunteers)),
    ]
    notes = {note.name: note.affiliation for note in trial.extensions.contact_notes}
    sections = [
        ("", trial.title),
        ("Overview", _fields(overview)),
        ("Dates", _fields(dates)),
        ("Conditions", "\n".join(trial.conditions)),
        ("Keywords", ", ".join(section.conditions_module.keywords)),
        ("Summary", section.description_module.brief_summary or ""),
        ("Description", section.description_module.detailed_description or ""),
        ("Who can join", _fields(who)),
        ("Eligibility criteria", trial.eligibility_criteria or ""),
        (f"About {trial.lead_sponsor or 'the sponsor'}", trial.about_sponsor or ""),
        (
            "Contacts",
            "\n".join(_contact_text(c, notes.get(c.name or "")) for c in people.central_contacts),
        ),
        ("Locations", "\n".join(_location_text(loc) for loc in people.locations)),
        ("Officials", "\n".join(_official_text(o) for o in people.overall_officials)),
    ]
    return [(heading, body) for heading, body in sections if body.strip()]


def trial_listing(trial: Trial) -> str:
    """The full plain-text listing printed by ``trialscreen show``."""
    blocks = [
        f"{heading}\n{body}" if heading else body for heading, body in listing_sections(trial)
    ]
    return "\n\n".join(blocks) + "\n"


def trial_listing_renderable(trial: Trial) -> Group:
    """Same content as :func:`trial_listing` for a Rich console, headings in bold."""
    parts: list[Text] = []
    for heading, body in listing_sections(trial):
        if heading:
            parts.append(Text(heading, style="bold"))
            parts.append(Text(body + "\n"))
        else:
            parts.append(Text(body + "\n", style="bold underline"))
    return Group(*parts)


def trial_lines_renderable(trials: Sequence[Trial]) -> Text:
    """:func:`trial_lines` as Rich text (no markup interpretation of titles)."""
    return Text(trial_lines(trials))


def _fields(pairs: list[tuple[str, str | None]]) -> str:
    shown = [(label, value) for label, value in pairs if value]
    width = max((len(label) for label, _ in shown), default=0)
    return "\n".join(f"{label + ':':<{width + 1}} {value}" for label, value in shown)


def _sponsor_text(name: str | None, sponsor_class: str | None) -> str | None:
    if not name:
        return None
    return f"{name} ({sponsor_class})" if sponsor_class else name


def _enrollment_text(count: int | None, kind: str | None) -> str | None:
    if count is None:
        return None
    planned = {"ESTIMATED": "planned", "ACTUAL": "actual"}.get(kind or "", kind or "")
    return f"{count} participants" + (f" ({planned.lower()})" if planned else "")


def _date_text(struct: DateStruct | None) -> str | None:
    if struct is None:
        return None
    return f"{struct.date} ({struct.type.lower()})" if struct.type else struct.date


def _yes_no(value: bool | None) -> str | None:
    return None if value is None else ("yes" if value else "no")


def _contact_text(contact: Contact, note: str | None) -> str:
    parts = [contact.name or "(no name)"]
    if note:
        parts.append(note)
    if contact.phone:
        parts.append(contact.phone + (f" ext. {contact.phone_ext}" if contact.phone_ext else ""))
    if contact.email:
        parts.append(contact.email)
    return ", ".join(parts)


def _location_text(location: Location) -> str:
    where = ", ".join(p for p in (location.facility, location.place) if p) or "(no address)"
    if location.zip:
        where += f" {location.zip}"
    if location.status:
        where += f" [{humanize_code(location.status)}]"
    extra = [_contact_text(c, None) for c in location.contacts]
    return "\n".join([where, *(f"  contact: {c}" for c in extra)])


def _official_text(official: Official) -> str:
    parts = [official.name or "(no name)", humanize_code(official.role) if official.role else ""]
    if official.affiliation:
        parts.append(official.affiliation)
    return ", ".join(p for p in parts if p)
