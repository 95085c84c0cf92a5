"""The built-in record of NCT06125652 is reproducible from, and faithful to, its listing."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest
from trials_test_paths import SHIPPED_SEED

from trialscreen.trials import get_trial
from trialscreen.trials.seed_record import (
    ListingFormatError,
    build_seed_record,
    main,
    render_json,
    std_ages,
)


def test_shipped_json_is_what_the_builder_makes(seed_listing: str) -> None:
    assert SHIPPED_SEED.read_bytes() == render_json(build_seed_record(seed_listing)), (
        "rebuild with: python -m trialscreen.trials.seed_record "
        "../shared/seed/trial-listing.txt src/trialscreen/trials/data/NCT06125652.json"
    )


def test_criteria_text_is_verbatim_from_listing(seed_listing: str) -> None:
    """The criteria are a contiguous run of whole listing lines, from inclusion to item 16."""
    criteria = get_trial("NCT06125652").eligibility_criteria
    assert criteria is not None
    criteria_lines = criteria.split("\n")
    listing_lines = seed_listing.splitlines()
    start = listing_lines.index("- Inclusion Criteria:")
    assert listing_lines[start : start + len(criteria_lines)] == criteria_lines
    assert listing_lines[start - 1] == "Eligibility criteria"
    assert listing_lines[start + len(criteria_lines)].startswith("About ")
    assert "- Exclusion Criteria:" in criteria_lines
    assert sum(line.startswith("- • ") for line in criteria_lines) == 8 + 16


def test_seed_facts(seed_listing: str) -> None:
    trial = get_trial("NCT06125652")
    section = trial.protocol_section
    assert trial.title == seed_listing.splitlines()[0]
    assert trial.lead_sponsor == "XUZHOU MEDICAL UNIVERSITY"
    assert trial.overall_status == "RECRUITING"
    assert section.status_module.start_date_struct is not None
    assert section.status_module.start_date_struct.start.isoformat() == "2023-11-04"
    assert section.identification_module.org_study_id_info.id == "XYFY2023-KL358-01"
    assert section.design_module.phases == ("PHASE1", "PHASE2")
    assert section.design_module.enrollment_info.count == 20
    assert trial.eligibility.sex == "ALL"
    assert trial.eligibility.minimum_age_years == Fraction(18)
    assert trial.eligibility.maximum_age_years == Fraction(70)
    assert trial.conditions == ("Acute Myeloid Leukemia",)
    assert section.conditions_module.keywords == ()
    summary = section.description_module.brief_summary
    assert summary is not None and summary.split("\n")[0] in seed_listing.splitlines()
    assert trial.extensions.current_as_of == "2025-07-09"
    people = section.contacts_locations_module
    assert [c.name for c in people.central_contacts] == ["Jennifer Cobb"]
    assert [loc.place for loc in people.locations] == ["Xuzhou, Jiangsu, China"]
    (official,) = people.overall_officials
    assert (official.name, official.role) == ("Kailin Xu, MD.,PD.", "STUDY_CHAIR")
    assert official.affiliation in seed_listing.splitlines()


def test_about_sponsor_paragraph_kept(seed_listing: str) -> None:
    about = get_trial("NCT06125652").about_sponsor
    lines = seed_listing.splitlines()
    assert about == lines[lines.index("About Xuzhou Medical University") + 1]


def test_extension_key_is_top_level_and_not_in_protocol() -> None:
    raw = json.loads(SHIPPED_SEED.read_text(encoding="utf-8"))
    assert set(raw) == {"protocolSection", "trialscreenExtensions"}
    assert "aboutSponsor" in raw["trialscreenExtensions"]


def test_std_ages_follow_registry_buckets() -> None:
    assert std_ages(18, 70) == ["ADULT", "OLDER_ADULT"]
    assert std_ages(0, 17) == ["CHILD"]
    assert std_ages(18, 64) == ["ADULT"]
    assert std_ages(65, None) == ["OLDER_ADULT"]
    assert std_ages(12, None) == ["CHILD", "ADULT", "OLDER_ADULT"]


def test_builder_rejects_a_listing_of_another_layout(seed_listing: str) -> None:

    with pytest.raises(ListingFormatError, match="Trial Officials"):
        build_seed_record(seed_listing.replace("Trial Officials\n", ""))
    assert main(["/nonexistent/listing.txt"]) == 1
