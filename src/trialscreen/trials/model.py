"""Typed, immutable view of a ClinicalTrials.gov API v2 study record.

The classes mirror the API's own nesting (``protocolSection.eligibilityModule`` ...) so a
validation error points at the same path a user sees in the JSON. Only the fields the
project reads are typed; everything else is ignored here but kept verbatim in
:attr:`Trial.raw`, so a record can be written back without loss.

Leniency rules: a missing module or field is fine (records differ a lot); an unknown field is
ignored; a field we read that has the wrong JSON type is an error (no silent coercion).
"""

from __future__ import annotations

import copy
import datetime as dt
import re
from fractions import Fraction
from typing import Annotated, Any

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictInt,
    StrictStr,
)
from pydantic.alias_generators import to_camel

from trialscreen.trials.ages import age_in_years

NCT_ID_RE = re.compile(r"^NCT\d{8}$")
_PARTIAL_DATE_RE = re.compile(r"^(\d{4})-(\d{2})(?:-(\d{2}))?$")


def _check_nct_id(value: str) -> str:
    if not NCT_ID_RE.match(value):
        raise ValueError(f"not an NCT id: {value!r} (expected NCT followed by 8 digits)")
    return value


def _check_partial_date(value: str) -> str:
    if not _PARTIAL_DATE_RE.match(value):
        raise ValueError(f"not a date: {value!r} (expected YYYY-MM or YYYY-MM-DD)")
    partial_date_start(value)  # rejects impossible dates such as 2023-02-30
    return value


def _check_age(value: str) -> str:
    age_in_years(value)
    return value


NctId = Annotated[StrictStr, AfterValidator(_check_nct_id)]
PartialDate = Annotated[StrictStr, AfterValidator(_check_partial_date)]
AgeText = Annotated[StrictStr, AfterValidator(_check_age)]
Texts = tuple[StrictStr, ...]


def partial_date_start(text: str) -> dt.date:
    """First day a ClinicalTrials.gov date can mean ("2023-11" -> 2023-11-01)."""
    match = _PARTIAL_DATE_RE.match(text)
    if match is None:
        raise ValueError(f"not a date: {text!r} (expected YYYY-MM or YYYY-MM-DD)")
    year, month, day = match.groups()
    return dt.date(int(year), int(month), int(day or 1))


class ApiModel(BaseModel):
    """Base: immutable, camelCase aliases as in the API, unknown fields ignored."""

    model_config = ConfigDict(
        frozen=True,
        extra="ignore",
        alias_generator=to_camel,
        populate_by_name=True,
    )


# --- identification, status, sponsor ---------------------------------------------------


class OrgStudyIdInfo(ApiModel):
    id: StrictStr | None = None


class Organization(ApiModel):
    full_name: StrictStr | None = None
    class_: StrictStr | None = Field(default=None, alias="class")


class IdentificationModule(ApiModel):
    nct_id: NctId
    brief_title: StrictStr | None = None
    official_title: StrictStr | None = None
    acronym: StrictStr | None = None
    org_study_id_info: OrgStudyIdInfo = OrgStudyIdInfo()
    organization: Organization = Organization()


class DateStruct(ApiModel):
    """A date as the API writes it: year-month or full date, ACTUAL or ESTIMATED."""

    date: PartialDate
    type: StrictStr | None = None

    @property
    def start(self) -> dt.date:
        return partial_date_start(self.date)


class StatusModule(ApiModel):
    overall_status: StrictStr | None = None
    last_known_status: StrictStr | None = None
    why_stopped: StrictStr | None = None
    status_verified_date: PartialDate | None = None
    start_date_struct: DateStruct | None = None
    primary_completion_date_struct: DateStruct | None = None
    completion_date_struct: DateStruct | None = None
    study_first_submit_date: PartialDate | None = None
    last_update_post_date_struct: DateStruct | None = None


class Sponsor(ApiModel):
    name: StrictStr | None = None
    class_: StrictStr | None = Field(default=None, alias="class")


class SponsorCollaboratorsModule(ApiModel):
    lead_sponsor: Sponsor = Sponsor()
    collaborators: tuple[Sponsor, ...] = ()


# --- what the trial is about, and its design -------------------------------------------


class ConditionsModule(ApiModel):
    conditions: Texts = ()
    keywords: Texts = ()


class DescriptionModule(ApiModel):
    brief_summary: StrictStr | None = None
    detailed_description: StrictStr | None = None


class EnrollmentInfo(ApiModel):
    count: StrictInt | None = None
    type: StrictStr | None = None


class DesignModule(ApiModel):
    study_type: StrictStr | None = None
    phases: Texts = ()
    enrollment_info: EnrollmentInfo = EnrollmentInfo()


class EligibilityModule(ApiModel):
    """Who may join; ages kept as the registry's text and parsed to years."""

    eligibility_criteria: StrictStr | None = None
    sex: StrictStr | None = None
    gender_based: StrictBool | None = None
    minimum_age: AgeText | None = None
    maximum_age: AgeText | None = None
    healthy_volunteers: StrictBool | None = None
    std_ages: Texts = ()

    @property
    def minimum_age_years(self) -> Fraction | None:
        """Lower age limit in years; None when there is none."""
        return age_in_years(self.minimum_age) if self.minimum_age is not None else None

    @property
    def maximum_age_years(self) -> Fraction | None:
        """Upper age limit in years; None when there is none."""
        return age_in_years(self.maximum_age) if self.maximum_age is not None else None


# --- contacts, locations, officials -----------------------------------------------------


class Contact(ApiModel):
    name: StrictStr | None = None
    role: StrictStr | None = None
    phone: StrictStr | None = None
    phone_ext: StrictStr | None = None
    email: StrictStr | None = None


class GeoPoint(ApiModel):
    lat: float
    lon: float


class Location(ApiModel):
    facility: StrictStr | None = None
    status: StrictStr | None = None
    city: StrictStr | None = None
    state: StrictStr | None = None
    zip: StrictStr | None = None
    country: StrictStr | None = None
    contacts: tuple[Contact, ...] = ()
    geo_point: GeoPoint | None = None

    @property
    def place(self) -> str:
        """City, state and country joined, skipping the parts that are absent."""
        return ", ".join(part for part in (self.city, self.state, self.country) if part)


class Official(ApiModel):
    name: StrictStr | None = None
    affiliation: StrictStr | None = None
    role: StrictStr | None = None


class ContactsLocationsModule(ApiModel):
    central_contacts: tuple[Contact, ...] = ()
    overall_officials: tuple[Official, ...] = ()
    locations: tuple[Location, ...] = ()


# --- whole record ------------------------------------------------------------------------


class ProtocolSection(ApiModel):
    identification_module: IdentificationModule
    status_module: StatusModule = StatusModule()
    sponsor_collaborators_module: SponsorCollaboratorsModule = SponsorCollaboratorsModule()
    description_module: DescriptionModule = DescriptionModule()
    conditions_module: ConditionsModule = ConditionsModule()
    design_module: DesignModule = DesignModule()
    eligibility_module: EligibilityModule = EligibilityModule()
    contacts_locations_module: ContactsLocationsModule = ContactsLocationsModule()


class ContactNote(ApiModel):
    """What a listing says about a central contact beyond the API's fields."""

    name: StrictStr
    affiliation: StrictStr


class TrialscreenExtensions(ApiModel):
    """Facts from a trial's public listing that API v2 has no field for.

    Stored under the top-level key ``trialscreenExtensions`` so it cannot be mistaken for
    registry data.
    """

    about_sponsor: StrictStr | None = None
    current_as_of: PartialDate | None = None
    contact_notes: tuple[ContactNote, ...] = ()


#: Top-level key of :class:`TrialscreenExtensions` in a record (not an API v2 key).
EXTENSIONS_KEY = "trialscreenExtensions"


class Trial(ApiModel):
    """One ClinicalTrials.gov study; build it with :meth:`from_api`."""

    protocol_section: ProtocolSection
    has_results: StrictBool | None = None
    extensions: TrialscreenExtensions = Field(
        default=TrialscreenExtensions(), alias="trialscreenExtensions"
    )
    raw: dict[str, Any] = Field(default_factory=dict, exclude=True, repr=False)

    @classmethod
    def from_api(cls, data: dict[str, Any]) -> Trial:
        """Validate an API v2 study object, keeping a private copy of the JSON in `raw`.

        Raises pydantic.ValidationError; :mod:`trialscreen.trials.loader` turns that into a
        TrialRecordError naming the file.
        """
        validated = cls.model_validate(data)
        return validated.model_copy(update={"raw": copy.deepcopy(data)})

    def to_api(self) -> dict[str, Any]:
        """The record as API v2 JSON, exactly as it was read (a copy, safe to change)."""
        return copy.deepcopy(self.raw)

    # Short-cuts for what callers use most; the full structure stays available.

    @property
    def nct_id(self) -> str:
        return self.protocol_section.identification_module.nct_id

    @property
    def title(self) -> str:
        """Brief title, else official title, else the NCT id (some subsets carry no title)."""
        ident = self.protocol_section.identification_module
        return ident.brief_title or ident.official_title or ident.nct_id

    @property
    def overall_status(self) -> str | None:
        return self.protocol_section.status_module.overall_status

    @property
    def lead_sponsor(self) -> str | None:
        return self.protocol_section.sponsor_collaborators_module.lead_sponsor.name

    @property
    def conditions(self) -> tuple[str, ...]:
        return self.protocol_section.conditions_module.conditions

    @property
    def eligibility(self) -> EligibilityModule:
        return self.protocol_section.eligibility_module

    @property
    def eligibility_criteria(self) -> str | None:
        return self.protocol_section.eligibility_module.eligibility_criteria

    @property
    def about_sponsor(self) -> str | None:
        """The listing's "About <sponsor>" paragraph, when a trialscreen record carries it."""
        return self.extensions.about_sponsor
