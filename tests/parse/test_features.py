"""Each parser feature on real sentences from Chia and ClinicalTrials.gov: matches and refusals."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from trialscreen.criteria.criterion import Criterion
from trialscreen.criteria.nodes import (
    Age,
    AllOf,
    AnyOf,
    Attestation,
    Condition,
    Gender,
    ManualReview,
    Measurement,
    Medication,
    Node,
    Not,
    Procedure,
    Uncertain,
)
from trialscreen.parse.build import CriteriaParser


def parse(text: str, kind: str = "inclusion") -> Criterion:
    return CriteriaParser().parse_item(text, kind, "c-1", None)  # type: ignore[arg-type]


def nodes(c: Criterion) -> Iterator[Node]:
    def walk(n: Node | None) -> Iterator[Node]:
        if n is None:
            return
        yield n
        if isinstance(n, (AllOf, AnyOf)):
            for i in n.items:
                yield from walk(i)
        elif isinstance(n, (Not, Uncertain)):
            yield from walk(n.item)

    for part in c.walk():
        yield from walk(part.rule)


def only(c: Criterion, cls: type) -> list[Any]:
    return [n for n in nodes(c) if isinstance(n, cls)]


def measurement(c: Criterion, analyte: str) -> Measurement:
    found = [m for m in only(c, Measurement) if m.analyte == analyte]
    assert len(found) == 1, list(nodes(c))
    return found[0]


def test_age_range_and_sex() -> None:
    c = parse("Male or female, aged 18 to 75 years")
    assert only(c, Age)[0].min == 18 and only(c, Age)[0].max == 75
    assert set(only(c, Gender)[0].values) == {"male", "female"}
    assert only(parse("18 years of age or older"), Age)[0].min == 18
    younger = only(parse("Age < 65 years"), Age)[0]
    assert younger.max == 64 and younger.min is None


def test_performance_status_with_equivalence() -> None:
    assert (m := measurement(parse("Eastern Cooperative Oncology Group (ECOG) performance status of 0 - 2"), "ecog")).op == "<="
    assert m.value == 2
    kps = parse("Karnofsky Performance Status > 60")
    assert measurement(kps, "karnofsky").op == ">" and measurement(kps, "karnofsky").value == 60
    assert measurement(kps, "ecog").value == 2  # KPS 61+ reads as ECOG 2 or better
    assert measurement(parse("ECOG performance score (PS) of 0, 1, or 2."), "ecog").value == 2


def test_life_expectancy_is_an_attestation() -> None:
    c = parse("Life expectancy greater than or equal to 6 months")
    assert isinstance(c.rule, Attestation) and "6 months" in c.rule.question


def test_lab_thresholds_absolute_uln_and_units() -> None:
    c = parse("Bone marrow: hemoglobin ≥ 10 g/dL, platelet count ≥ 100,000/mm3, absolute neutrophil count ≥ 1,500/ mm3, absolute lymphocyte count ≥ 500/ mm3.")
    assert (measurement(c, "hemoglobin").value, measurement(c, "hemoglobin").unit) == (100, "g/L")
    assert (measurement(c, "platelets").value, measurement(c, "platelets").unit) == (100, "10*9/L")
    assert measurement(c, "anc").value == 1.5 and measurement(c, "lymphocytes").value == 0.5
    bili = measurement(parse("Serum bilirubin less than or equal to 1.5 x institutional upper limit of normal (ULN)"), "bilirubin")
    assert bili.op == "<=" and bili.uln_multiple == 1.5 and bili.value is None
    plt = measurement(parse("Platelet count greater than or equal to 100 x 10^9/L"), "platelets")
    assert plt.value == 100 and plt.unit == "10*9/L"


def test_a_quantity_without_a_unit_is_refused() -> None:
    c = parse("Platelets ≥ 100,000")
    assert not only(c, Measurement)
    assert only(c, ManualReview)[0].text == "Platelets ≥ 100,000"


def test_conditions_history_negation_windows_and_uncontrolled() -> None:
    mi = parse("No history of myocardial infarction")
    assert isinstance(mi.rule, Not) and isinstance(mi.rule.item, Condition) and mi.rule.item.timing == "ever"
    stroke = only(parse("History of stroke within the past 6 months", "exclusion"), Condition)[0]
    assert stroke.window == "P6M" and stroke.timing == "onset_within"
    htn = parse("Uncontrolled hypertension", "exclusion").rule
    assert isinstance(htn, Uncertain) and isinstance(htn.item, Condition) and htn.item.timing == "active"


def test_icd10_descriptions_fill_in_unlisted_conditions() -> None:
    parser = CriteriaParser()
    c = parser.parse_item("Sarcoidosis", "exclusion", "c-1", None)
    cond = only(c, Condition)[0]
    assert parser.sink.valuesets[cond.valueset]["include"][0]["codes"] == ["D86"]


def test_procedures_and_time_since() -> None:
    surgery = only(parse("Major surgery within 4 weeks prior to enrollment", "exclusion"), Procedure)[0]
    assert surgery.category == "surgical_procedure_category" and surgery.exclude == "minor_procedure"
    assert surgery.window == "P4W"
    since = parse("At least 4 weeks since prior radiotherapy").rule
    assert isinstance(since, Not) and isinstance(since.item, Procedure) and since.item.window == "P4W"


def test_medications_current_and_past_use() -> None:
    med = only(parse("Current use of systemic corticosteroids", "exclusion"), Medication)[0]
    assert med.valueset == "systemic_corticosteroid" and med.timing == "current"
    past = parse("Prior treatment with topotecan or gemcitabine.", "exclusion")
    assert isinstance(past.rule, AnyOf) and not any(isinstance(n, ManualReview) for n in nodes(past))
    assert {(m.valueset, m.timing) for m in only(past, Medication)} == {("topotecan", "ever"), ("gemcitabine", "ever")}


@pytest.mark.parametrize(
    ("text", "window"),
    [
        ("Received chemotherapy within 4 weeks prior to enrollment", "P4W"),
        ("Treatment with an anti-PD-1 antibody in the past 6 months", "P6M"),
        ("Prior therapy with rituximab within 12 months before registration", "P12M"),
    ],
)
def test_past_medicine_use_inside_a_window(text: str, window: str) -> None:
    meds = only(parse(text, "exclusion"), Medication)
    assert meds and all(m.timing == "within" and m.window == window for m in meds)
    assert not any(isinstance(n, ManualReview) for n in nodes(parse(text, "exclusion")))


def test_time_since_the_last_dose_is_no_use_inside_the_window() -> None:
    rule = parse("At least 4 weeks since the last dose of chemotherapy").rule
    assert isinstance(rule, Not) and isinstance(rule.item, Medication)
    assert rule.item.valueset == "antineoplastic" and rule.item.window == "P4W"


def test_no_prior_use_is_the_negation_of_any_use() -> None:
    rule = parse("No prior chemotherapy").rule
    assert isinstance(rule, Not) and isinstance(rule.item, Medication) and rule.item.timing == "ever"


def test_drug_names_from_the_dictionary_are_ingredient_text_value_sets() -> None:
    parser = CriteriaParser()
    crit = parser.parse_item("Patients taking clonidine", "exclusion", "c-1", None)
    med = only(crit, Medication)[0]
    assert med.timing == "current"
    assert parser.sink.valuesets[med.valueset]["text"] == ["clonidine"]
    brand = parser.parse_item("Current use of Coumadin", "exclusion", "c-2", None)
    assert "warfarin" in parser.sink.valuesets[only(brand, Medication)[0].valueset]["text"]


def test_pregnancy_breastfeeding_and_contraception() -> None:
    preg = parse("Pregnant or lactating.", "exclusion")
    assert {c.valueset for c in only(preg, Condition)} == {"pregnancy", "lactation"}
    test = parse("Female patients must have a negative serum pregnancy test at screening.")
    assert measurement(test, "hcg").expect == "negative" and test.applies_when is not None
    contra = parse("Patients with reproductive capability must agree to practice adequate contraception methods.")
    assert isinstance(contra.rule, Attestation) and contra.rule.who == "patient"


def test_consent_and_investigator_judgement() -> None:
    assert parse("Patient must give written informed consent before participating in any study-specific procedure.").rule.kind == "consent"  # type: ignore[union-attr]
    judged = parse("Any condition or circumstance that, in the opinion of the investigator, would compromise the subject's safety", "exclusion")
    assert isinstance(judged.rule, Attestation)


def test_compound_items_are_split_into_parts() -> None:
    c = parse("ECOG score ≤ 2 and expected survival period is not less than 3 months;")
    assert len(c.parts) == 2
    assert measurement(c, "ecog").value == 2
    assert isinstance(c.parts[1].rule, Attestation)


@pytest.mark.parametrize(
    "text",
    [
        "Measurable disease",
        "Use of an investigational agent within 30 days.",
        "Concurrent severe medical problems unrelated to the malignancy which would limit full compliance with the study.",
    ],
)
def test_what_is_not_understood_stays_for_manual_review(text: str) -> None:
    c = parse(text, "exclusion")
    kinds = {n.kind for n in nodes(c)}
    assert kinds & {"manual_review", "attestation"}
    assert not kinds & {"condition", "measurement", "medication", "procedure"}


@pytest.mark.parametrize(
    ("text", "valueset"),
    [
        ("Current use of ACE inhibitors", "ace_inhibitor"),
        ("Patients currently taking SSRIs", "ssri"),
        ("Ongoing treatment with oral anticoagulants or DOACs", "direct_oral_anticoagulant"),
    ],
)
def test_medicine_classes_read_as_atc_value_sets(text: str, valueset: str) -> None:
    parser = CriteriaParser()
    crit = parser.parse_item(text, "exclusion", "c-1", None)
    assert valueset in {m.valueset for m in only(crit, Medication)}
    assert parser.sink.valuesets[valueset]["include"][0]["system"] == "atc"


def test_allergy_to_a_named_medicine_and_contraindications_for_a_clinician() -> None:
    allergy = parse("Allergy or hypersensitivity to topiramate", "exclusion").rule
    assert allergy is not None and allergy.kind == "allergy" and allergy.valueset == "rx_topiramate"
    contra = parse("Contraindication to propofol administration", "exclusion").rule
    assert isinstance(contra, Attestation) and contra.who == "investigator"


@pytest.mark.parametrize("kind", ["inclusion", "exclusion"])
def test_a_shared_negation_over_a_list_means_none_of_them(kind: str) -> None:
    rule = parse("No history of stroke or myocardial infarction", kind).rule
    assert isinstance(rule, Not) and isinstance(rule.item, AnyOf)
    assert {c.valueset for c in rule.item.items if isinstance(c, Condition)} == {"stroke", "acute_mi"}


def test_present_tense_use_words_read_as_current_use() -> None:
    for text in ("Patients on methotrexate.", "Use of anticoagulation therapy", "Do not take ACE inhibitors"):
        meds = only(parse(text, "exclusion"), Medication)
        assert meds and all(m.timing == "current" for m in meds), text


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("Be between age 18 and 55 years", 18, 55),
        ("Age: > or = 16 years", 16, None),
        ("Age : 18-65", 18, 65),
        ("Age 18 or older", 18, None),
        ("Children (<18 years old)", None, 17),
    ],
)
def test_age_as_trials_write_it(text: str, low: int | None, high: int | None) -> None:
    rule = parse(text).rule
    assert isinstance(rule, Age) and (rule.min, rule.max) == (low, high)


def test_age_with_unread_words_is_refused() -> None:
    assert isinstance(parse("Age: 60-85 years, right-handed;").rule, ManualReview)


def test_a_range_is_both_ends_and_a_unitless_range_is_refused() -> None:
    rule = parse("HbA1c between 7.1% and 11.0%, inclusive.").rule
    assert isinstance(rule, AllOf)
    ends = {(m.op, m.value, m.unit) for m in rule.items if isinstance(m, Measurement)}
    assert ends == {(">=", 7.1, "%"), ("<=", 11.0, "%")}
    assert isinstance(parse("Platelets 100-400").rule, ManualReview)


def test_analytes_written_in_one_unit_read_a_bare_number_in_it() -> None:
    bmi = parse("BMI < 20", "exclusion").rule
    assert isinstance(bmi, Measurement) and (bmi.analyte, bmi.value, bmi.unit) == ("bmi", 20.0, "kg/m2")
    assert isinstance(parse("Platelets > 100", "inclusion").rule, ManualReview)


def test_curated_conditions_the_icd_index_names_otherwise() -> None:
    parser = CriteriaParser()
    crit = parser.parse_item("History of pancreatitis", "exclusion", "c-1", None)
    cond = only(crit, Condition)[0]
    assert cond.valueset == "pancreatitis" and cond.timing == "ever"
    assert parser.sink.valuesets["pancreatitis"]["include"][0]["codes"] == ["K85", "K86.0", "K86.1"]


@pytest.mark.parametrize(
    ("text", "who"),
    [
        ("finnish or/and swedish speaking", "patient"),
        ("Scheduled for invasive coronary angiography", "investigator"),
        ("Available for follow-up for 12 months", "patient"),
        ("ASA I-III", "investigator"),
    ],
)
def test_study_logistics_are_attested(text: str, who: str) -> None:
    rule = parse(text).rule
    assert isinstance(rule, Attestation) and rule.who == who


def test_logistics_with_clinical_terms_go_to_the_clause_parser() -> None:
    rule = parse("Patients with English as a second language and diabetes").rule
    assert not isinstance(rule, Attestation)


def test_asa_the_medicine_is_not_the_asa_grade() -> None:
    assert not isinstance(parse("Intolerance or allergy to ASA, clopidogrel or ticlopidine", "exclusion").rule, Attestation)


def test_lipid_and_other_labs_are_analytes_with_loinc_codes() -> None:
    parser = CriteriaParser()
    rule = parser.parse_item("Triglycerides > 400 mg/dL", "exclusion", "c-1", None).rule
    assert isinstance(rule, Measurement) and (rule.analyte, rule.op, rule.value, rule.unit) == ("triglycerides", ">", 400.0, "mg/dL")
    assert "triglycerides" in parser.sink.analytes
