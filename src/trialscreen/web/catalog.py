"""The trials the site shows, their search, and (where computable criteria exist) their
questionnaires, each built once per process."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from fractions import Fraction
from functools import cached_property
from pathlib import Path

from trialscreen.criteria import CriteriaSet
from trialscreen.criteria.builtin import builtin_criteria
from trialscreen.evaluate import Screener
from trialscreen.questionnaire import Questionnaire, build_questionnaire
from trialscreen.trials import Trial, builtin_trials, load_trials, normalize_nct_id

STATUSES = (
    "RECRUITING",
    "NOT_YET_RECRUITING",
    "ACTIVE_NOT_RECRUITING",
    "ENROLLING_BY_INVITATION",
    "COMPLETED",
    "TERMINATED",
    "SUSPENDED",
    "WITHDRAWN",
    "UNKNOWN",
)


@dataclass(frozen=True, slots=True)
class Query:
    """Search terms; every given term must match (case-insensitive substrings)."""

    condition: str | None = None
    keyword: str | None = None
    status: str | None = None
    age: int | None = None
    sex: str | None = None
    location: str | None = None


class Entry:
    """A trial with what the site derives from it (searchable text, questionnaire)."""

    def __init__(self, trial: Trial) -> None:
        self.trial = trial
        self.nct_id = trial.nct_id
        self.criteria: CriteriaSet | None = builtin_criteria(trial.nct_id)

    @cached_property
    def questionnaire(self) -> Questionnaire | None:
        return build_questionnaire(self.criteria) if self.criteria is not None else None

    @cached_property
    def screener(self) -> Screener | None:
        return Screener(self.criteria) if self.criteria is not None else None

    @cached_property
    def _condition_text(self) -> str:
        return " ".join((self.trial.title, *self.trial.conditions)).lower()

    @cached_property
    def _keyword_text(self) -> str:
        desc = self.trial.protocol_section.description_module
        words = self.trial.protocol_section.conditions_module.keywords
        return " ".join((self.trial.title, *self.trial.conditions, *words, desc.brief_summary or "")).lower()

    @cached_property
    def _places(self) -> str:
        locations = self.trial.protocol_section.contacts_locations_module.locations
        return " | ".join(" ".join(p for p in (loc.facility, loc.place, loc.zip) if p) for loc in locations).lower()

    def matches(self, query: Query) -> bool:
        elig = self.trial.eligibility
        if query.condition and query.condition.lower() not in self._condition_text:
            return False
        if query.keyword and not all(w in self._keyword_text for w in query.keyword.lower().split()):
            return False
        if query.status and (self.trial.overall_status or "").upper() != query.status.upper():
            return False
        if query.location and query.location.lower() not in self._places:
            return False
        if (
            query.sex
            and query.sex.upper() in ("FEMALE", "MALE")
            and (elig.sex or "ALL").upper()
            not in (
                "ALL",
                query.sex.upper(),
            )
        ):
            return False
        if query.age is not None:
            low, high = elig.minimum_age_years, elig.maximum_age_years
            age = Fraction(query.age)
            if (low is not None and age < low) or (high is not None and age > high):
                return False
        return True


class Catalog:
    """Built-in trials plus any records given with `--trials`; the first of an id wins."""

    def __init__(self, extra: Sequence[Path] = ()) -> None:
        found: dict[str, Entry] = {}
        for trial in [*builtin_trials(), *(t for path in extra for t in load_trials(path))]:
            found.setdefault(trial.nct_id, Entry(trial))
        self.entries = found

    def get(self, nct_id: str) -> Entry | None:
        return self.entries.get(normalize_nct_id(nct_id))

    def search(self, query: Query) -> list[Entry]:
        hits = [e for e in self.entries.values() if e.matches(query)]
        return sorted(hits, key=lambda e: (e.criteria is None, e.trial.overall_status != "RECRUITING", e.nct_id))

    def statuses(self) -> list[str]:
        return sorted({e.trial.overall_status for e in self.entries.values() if e.trial.overall_status})


def today() -> date:
    return date.today()
