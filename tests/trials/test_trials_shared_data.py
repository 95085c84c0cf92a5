"""Every ClinicalTrials.gov file in ../shared/data/ctgov loads, and the model reads it right.

Expected values come from the files themselves (read with the json module), not from
hard-coded guesses, so the checks hold for any record in the folder.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from trials_test_paths import CTGOV_DIR, ctgov_files

from trialscreen.trials import Trial, age_in_years, load_trials

FILES = ctgov_files()


def raw_studies(path: Path) -> list[dict[str, Any]]:
    """The study objects of a file, found the plain way, to check the loader against."""
    data = json.loads(path.read_text(encoding="utf-8"))
    if isinstance(data, list):
        return data
    studies: list[dict[str, Any]] = data.get("studies", [data])
    return studies


def dig(data: dict[str, Any], *keys: str) -> Any:
    for key in keys:
        if not isinstance(data, dict) or key not in data:
            return None
        data = data[key]
    return data


@pytest.mark.parametrize("path", FILES, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_each_file_loads_with_every_study_read_right(path: Path) -> None:
    studies = raw_studies(path)
    trials = load_trials(path)
    assert len(trials) == len(studies)
    for trial, study in zip(trials, studies, strict=True):
        check_trial_matches_json(trial, study)


def check_trial_matches_json(trial: Trial, study: dict[str, Any]) -> None:
    protocol = study["protocolSection"]
    ident = protocol["identificationModule"]
    assert trial.nct_id == ident["nctId"]
    assert trial.title == (ident.get("briefTitle") or ident.get("officialTitle") or ident["nctId"])
    assert trial.overall_status == dig(protocol, "statusModule", "overallStatus")
    assert trial.lead_sponsor == dig(protocol, "sponsorCollaboratorsModule", "leadSponsor", "name")
    assert list(trial.conditions) == (dig(protocol, "conditionsModule", "conditions") or [])
    assert trial.eligibility_criteria == dig(protocol, "eligibilityModule", "eligibilityCriteria")
    assert trial.eligibility.sex == dig(protocol, "eligibilityModule", "sex")
    for field, years in (
        ("minimumAge", trial.eligibility.minimum_age_years),
        ("maximumAge", trial.eligibility.maximum_age_years),
    ):
        text = dig(protocol, "eligibilityModule", field)
        assert years == (age_in_years(text) if text else None)
    design = protocol.get("designModule", {})
    assert list(trial.protocol_section.design_module.phases) == design.get("phases", [])
    assert trial.protocol_section.design_module.enrollment_info.count == dig(
        design, "enrollmentInfo", "count"
    )
    start = dig(protocol, "statusModule", "startDateStruct", "date")
    start_struct = trial.protocol_section.status_module.start_date_struct
    assert (start_struct.date if start_struct else None) == start
    people = trial.protocol_section.contacts_locations_module
    raw_locations = dig(protocol, "contactsLocationsModule", "locations") or []
    assert [(loc.facility, loc.city, loc.country) for loc in people.locations] == [
        (loc.get("facility"), loc.get("city"), loc.get("country")) for loc in raw_locations
    ]
    raw_officials = dig(protocol, "contactsLocationsModule", "overallOfficials") or []
    assert [(o.name, o.role) for o in people.overall_officials] == [
        (o.get("name"), o.get("role")) for o in raw_officials
    ]
    assert trial.to_api() == study


def test_folder_loads_whole_and_matches_the_documented_counts(ctgov_dir: Path) -> None:
    every = load_trials(ctgov_dir)
    assert len(every) == sum(len(raw_studies(path)) for path in ctgov_files())
    # Counts stated in ../shared/data/README.md for the two bulk downloads.
    assert len(load_trials(ctgov_dir / "dgg32_clinical-trials-public")) == 61
    assert len(load_trials(ctgov_dir / "nsclcbench")) == 100
    assert len({trial.nct_id for trial in load_trials(ctgov_dir / "nsclcbench")}) == 100


def test_field_subset_record_without_study_list(ctgov_dir: Path) -> None:
    """study_contacts.json is one study with only a few fields: it loads, the rest defaults."""
    path = ctgov_dir / "biomcp_fixtures" / "study_contacts.json"
    study = raw_studies(path)[0]
    (trial,) = load_trials(path)
    assert trial.eligibility.sex == study["protocolSection"]["eligibilityModule"]["sex"]
    contacts = trial.protocol_section.contacts_locations_module.central_contacts
    raw_contacts = study["protocolSection"]["contactsLocationsModule"]["centralContacts"]
    assert [(c.name, c.email) for c in contacts] == [(c["name"], c["email"]) for c in raw_contacts]
    assert trial.eligibility_criteria is None
    assert trial.protocol_section.design_module.phases == ()


def test_collector_key_locations_nested_is_ignored_but_kept(ctgov_dir: Path) -> None:
    path = ctgov_dir / "dgg32_clinical-trials-public" / "ctg-studies_2.json"
    (study,) = raw_studies(path)
    assert "locations_nested" in study["protocolSection"]["contactsLocationsModule"]
    (trial,) = load_trials(path)
    assert not hasattr(trial.protocol_section.contacts_locations_module, "locations_nested")
    assert (
        trial.to_api()["protocolSection"]["contactsLocationsModule"]["locations_nested"]
        == (study["protocolSection"]["contactsLocationsModule"]["locations_nested"])
    )


def test_shared_folder_present_or_reported() -> None:
    if not CTGOV_DIR.is_dir():
        pytest.skip(f"shared ClinicalTrials.gov data not found at {CTGOV_DIR}")
    assert FILES, f"no JSON files under {CTGOV_DIR}"
