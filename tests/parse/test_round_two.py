"""Round two of the parser's coverage: measurable disease as the investigator's assessment and
empty sections, on real Chia and ClinicalTrials.gov phrasings, with the near misses left alone."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trialscreen.criteria.nodes import AllOf, Attestation, Condition, Immunization, ManualReview, Measurement
from trialscreen.parse.build import parse_text
from trialscreen.parse.split import only_empty_sections, split_criteria

from .test_features import only, parse


@pytest.mark.parametrize(
    "text",
    [
        "Measurable disease per RECIST v1.1",
        "Measurable disease.",
        "At least one measurable lesion according to RECIST v1.1.",
        "Must have at least one measurable lesion according to RECIST v1.1 definition;",
        "Has at least 1 measurable lesion per RECIST 1.1;",
        "Patients must have measurable disease by RECIST v1.1.",
        "Uni-dimensionally measurable disease according to Response Evaluation Criteria in Solid Tumours (RECIST) v1.1",
        "Measurable or non-measurable disease per RECIST Version 1.1.",
        "Presence of measurable disease on computed tomography (CT) or magnetic resonance imaging (MRI) scan as defined by RECIST v1.1.",
        "At least one radiographically measurable lesion per RECIST 1.1;",
        "According to the RECIST 1.1 standard, the patient must have at least one measurable lesion.",
        "Patients must have measurable disease. If prior radiation therapy was administered, measurable disease must be outside the radiation field.",
        "5. Presence of evaluable (measureable or non-measurable) disease.",
        "Unidimensional or bi-dimensional measurable disease",
        "Patients with at least one measurable target lesion by CT scan/MRI (RECISTv1.1).",
    ],
)
def test_measurable_disease_is_the_investigators_assessment_in_the_criterions_words(text: str) -> None:
    crit = parse(text, "inclusion")
    assert isinstance(crit.rule, Attestation)
    assert crit.rule.who == "investigator"
    assert crit.rule.question.rstrip(".") == text.strip().rstrip(";.")
    assert not only(crit, ManualReview)


@pytest.mark.parametrize(
    ("text", "valueset"),
    [
        ("Patient has measurable NSCLC disease, as per the Response Evaluation Criteria in Solid Tumors (RECIST, version 1.1).", "nsclc"),
        ("Have at least one measurable NSCLC target lesion per RECIST v.1.1 by local assessment", "nsclc"),
        ("Metastatic NSCLC with measurable disease per RECIST 1.1", "nsclc"),
    ],
)
def test_a_named_cancer_stays_a_condition_beside_the_measurability_question(text: str, valueset: str) -> None:
    crit = parse(text, "inclusion")
    assert isinstance(crit.rule, AllOf)
    assert [c.valueset for c in only(crit, Condition)] == [valueset]
    assert [a.who for a in only(crit, Attestation)] == ["investigator"]
    # RECIST's title names solid tumours; that is no condition of the patient
    assert "solid_tumor" not in {c.valueset for c in only(crit, Condition)}


@pytest.mark.parametrize(
    "text",
    [
        # measurability is an aside of a procedure's window, not the criterion
        "Patients with hepatic artery chemoembolization within the last 6 months (one month if there are other sites of measurable disease)",
        # a device reading, not disease
        "Pacing threshold(s) (at 0.4 or 0.5 ms) and/or sensing amplitude(s) and/or impedance(s) are not measurable",
        # organ function before it: not a lead-in
        "Adequate hematological, liver and kidney function. Measurable or non-measurable disease",
        "No measurable remaining vestibular function",
    ],
)
def test_near_misses_are_not_measurability_attestations(text: str) -> None:
    crit = parse(text, "inclusion")
    assert not any(a.label and a.label.startswith("measurable disease") for a in only(crit, Attestation))


def test_an_exclusion_without_measurable_disease_is_asked_as_written() -> None:
    crit = parse("No measurable lesion", "exclusion")
    assert isinstance(crit.rule, Attestation)
    assert crit.rule.question == "No measurable lesion."


@pytest.mark.parametrize("marker", ["NA", "N/A", "None", "none.", "Not applicable", "not applicable.", "-"])
def test_an_empty_section_makes_no_criterion(marker: str) -> None:
    text = f"Inclusion Criteria:\n\n* Age 18 years or older\n\nExclusion Criteria:\n\n* {marker}\n"
    items = split_criteria(text)
    assert [(i.kind, i.text) for i in items] == [("inclusion", "Age 18 years or older")]
    assert not parse_text(f"Exclusion Criteria:\n{marker}").criteria.criteria


@pytest.mark.parametrize(
    "text",
    ["None of the above", "Not applicable to minors", "NAFLD", "Nonsmokers", "N/A if postmenopausal"],
)
def test_words_that_only_begin_like_an_empty_marker_stay_criteria(text: str) -> None:
    assert [i.text for i in split_criteria(f"Exclusion Criteria:\n* {text}\n")] == [text]
    assert not only_empty_sections(f"Exclusion Criteria:\n* {text}\n")
    assert len(parse_text(text).criteria.criteria) == 1


@given(st.lists(st.sampled_from(["NA", "N/A", "None", "Not applicable", "-", ""]), min_size=1, max_size=6))
def test_sections_of_empty_markers_only_are_empty(markers: list[str]) -> None:
    text = "Inclusion Criteria:\n" + "\n".join(f"* {m}" for m in markers) + "\nExclusion Criteria:\n- None\n"
    assert split_criteria(text) == []
    assert only_empty_sections(text)


@pytest.mark.parametrize(
    ("text", "analyte"),
    [
        ("HIV-1 antibody negative", "hiv_antibody"),
        ("HBsAg negative at baseline", "hbsag"),
        ("Negative hepatitis B surface antigen (HBsAg) test at screening", "hbsag"),
        ("Baseline serology showed a nonreactive RPR test", "syphilis_antibody"),
        ("HBsAg (-)", "hbsag"),
        ("Negative serology for HIV", "hiv_antibody"),
    ],
)
def test_a_negative_infection_marker_is_a_negative_test(text: str, analyte: str) -> None:
    crit = parse(text, "inclusion")
    tests = only(crit, Measurement)
    assert [(m.analyte, m.expect) for m in tests] == [(analyte, "negative")]
    assert not only(crit, Condition)


@pytest.mark.parametrize("text", ["Not negative for HIV", "HIV positive", "Positive for HBsAg"])
def test_double_negatives_and_positive_markers_are_no_negative_test(text: str) -> None:
    assert not [m for m in only(parse(text, "exclusion"), Measurement) if m.expect == "negative"]


@pytest.mark.parametrize(
    "text",
    [
        "A live or attenuated vaccine was administered within 4 weeks before the first dose of the study drug;",
        "Receipt of live attenuated vaccine within 30 days prior to the first dose",
        "Subjects who have received live or live attenuated vaccines within 6 weeks prior to the first dose of study drug (or the zoster vaccine)",
    ],
)
def test_live_and_attenuated_vaccines_are_immunizations_in_a_window(text: str) -> None:
    crit = parse(text, "exclusion")
    shots = only(crit, Immunization)
    assert [s.valueset for s in shots] == ["live_vaccine"]
    assert shots[0].window is not None
    assert not only(crit, Condition)  # "zoster vaccine" is no herpes zoster


@pytest.mark.parametrize(
    "text",
    ["History of previous Hepatitis B vaccination(s)", "Past participation in an HIV vaccine study"],
)
def test_a_vaccine_named_after_a_disease_is_not_the_disease(text: str) -> None:
    assert not only(parse(text, "exclusion"), Condition)


@pytest.mark.parametrize(
    ("text", "analytes"),
    [
        ("Positive serology for HBsAg, HCV or HIV antibodies", {"hbsag", "hcv_antibody", "hiv_antibody"}),
        ("Positive test at screening for anti-HIV, anti-HCV.", {"hiv_antibody", "hcv_antibody"}),
        ("HCV, HIV, or HDV coinfection.", {"hcv_antibody", "hiv_antibody"}),
    ],
)
def test_a_positive_result_stated_once_covers_its_list_of_markers(text: str, analytes: set[str]) -> None:
    crit = parse(text, "exclusion")
    found = {m.analyte for m in only(crit, Measurement) if m.expect == "positive"}
    assert analytes <= found
    assert not [m for m in only(crit, Measurement) if m.expect == "negative"]


def test_a_negative_marker_after_a_positive_list_stays_negative() -> None:
    crit = parse("Positive for tuberculosis, or HIV negative", "exclusion")
    assert [(m.analyte, m.expect) for m in only(crit, Measurement)] == [("hiv_antibody", "negative")]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Patients who are positive for HCV antibody must be negative for HCV by polymerase chain reaction (PCR) to be eligible for study participation", "exclusion"),
        ("Patients who test positive for HBsAg are ineligible", "inclusion"),
        ("Donor is sero-positive in HBV/HCV/HIV or RPR.", "exclusion"),
    ],
)
def test_conditional_donor_and_inverted_serology_stay_with_a_person(text: str, kind: str) -> None:
    crit = parse(text, kind)
    assert not only(crit, Measurement)
    assert only(crit, ManualReview)
