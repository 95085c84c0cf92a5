"""Round three of the vocabulary (fourth session): words of Chia (train split) and
ClinicalTrials.gov lines that recognised no term, what each must read, and the near misses
that must stay with a person."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

from trialscreen.criteria.nodes import AnyOf, Condition, Measurement, Medication
from trialscreen.parse.build import CriteriaParser
from trialscreen.parse.lexicon import DATA, key_of, lexicon
from trialscreen.parse.stats import status

from .test_features import measurement, only, parse

ROUND_THREE_SETS = (
    "lung_disease", "chronic_respiratory_disease", "respiratory_disease", "cardiopulmonary_disease",
    "autonomic_disorder", "tourette", "rectovaginal_fistula", "obstructive_uropathy", "cervical_incompetence",
    "intracardiac_thrombus", "critical_limb_ischemia", "claudication", "g6pd_deficiency", "bladder_stones",
    "cryoglobulinemia", "pelvic_pain", "vaginal_bleeding", "neuromuscular_disease", "gastric_intestinal_metaplasia",
    "oxygen_dependence", "claustrophobia", "hemoptysis", "hypoglycemia", "acute_limb_ischemia",
)  # fmt: skip


def _rows(name: str) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = yaml.safe_load((DATA / name).read_text(encoding="utf-8"))
    return rows


def _computable(text: str, kind: str) -> bool:
    crit = parse(text, kind)
    return all(status(leaf.rule, {}) == "computable" for leaf in crit.walk() if not leaf.parts)


def test_round_three_condition_sets_have_real_icd10cm_codes() -> None:
    import simple_icd_10_cm as cm

    rows = {r["name"]: r for r in _rows("conditions.yaml")}
    assert set(ROUND_THREE_SETS) <= set(rows)
    bad = [
        (n, c)
        for n in ROUND_THREE_SETS
        for c in rows[n]["codes"]
        for end in str(c).split("-")
        if not cm.is_valid_item(end)
    ]
    assert bad == []


def test_every_round_three_condition_term_reads_as_its_own_set() -> None:
    # a term shadowed by a longer ICD-10-CM description or another table would never be read
    rows = {r["name"]: r for r in _rows("conditions.yaml")}
    missed = []
    for name in ROUND_THREE_SETS:
        for term in rows[name]["terms"]:
            found = {c.valueset for c in only(parse(f"History of {term}", "exclusion"), Condition)}
            if name not in found:
                missed.append((name, term, found))
    assert missed == []


@pytest.mark.parametrize(
    ("text", "valueset"),
    [
        ("Pulmonary disease", "lung_disease"),
        ("Chronic lung diseases.", "chronic_respiratory_disease"),
        ("Severe cardiopulmonary disease", "cardiopulmonary_disease"),
        ("dysautonomia", "autonomic_disorder"),
        ("Tourette syndrome", "tourette"),
        ("Recto-vaginal fistula", "rectovaginal_fistula"),
        ("Obstructive uropathy", "obstructive_uropathy"),
        ("patients with cervical incompetence;", "cervical_incompetence"),
        ("Documented left atrial thrombus", "intracardiac_thrombus"),
        ("Critical limb ischemia (Rutherford category 4 or 5)", "critical_limb_ischemia"),
        ("A positive history of chronic claudication,", "claudication"),
        ("G6PD deficiency (as determined by FST)", "g6pd_deficiency"),
        ("Cystolithiasis within the past 3 months", "bladder_stones"),
        ("Subject has known cryoglobulinaemia.", "cryoglobulinemia"),
        ("Undiagnosed vaginal bleeding.", "vaginal_bleeding"),
        ("Other neuromuscular disease", "neuromuscular_disease"),
        ("Sleep apnoea", "sleep_apnea"),
        ("Type I DM", "type1_diabetes"),
        ("Type 2 DM", "type2_diabetes"),
        ("Psychiatric troubles", "psychiatric_illness"),
        ("With the history of cognitive disorders", "dementia_or_cognitive"),
        ("immune deficient state", "immunodeficiency"),
        ("clotting factor deficiency", "bleeding_disorder"),
        ("Patients with active GIT bleeding.", "gi_bleeding"),
        ("untreated thyroid pathology", "thyroid_disease"),
        ("Patients with cardiac problem", "cardiac_disease"),
        ("Clinically significant hepatic or renal disorder.", "kidney_disease"),
        ("long-term oxygen therapy", "oxygen_dependence"),
        ("Claustrophobic patients", "claustrophobia"),
        ("Acute critical limb ischemia", "acute_limb_ischemia"),
        ("4. Severe hypoglycemic episode within 1 month of screening.", "hypoglycemia"),
        ("Histologically or cytologically confirmed adenocarcinoma of the lung.", "nsclc"),
    ],
)
def test_condition_words_trials_use(text: str, valueset: str) -> None:
    assert valueset in {c.valueset for c in only(parse(text, "exclusion"), Condition)}
    assert _computable(text, "exclusion")


def test_listed_classes_of_medicines_read_as_any_of_them() -> None:
    rule = parse("Patients taking B-blockers or Ca channel blockers.", "exclusion").rule
    assert isinstance(rule, AnyOf)
    assert {m.valueset for m in rule.items if isinstance(m, Medication)} == {"beta_blocker", "calcium_channel_blocker"}


def test_glycoprotein_iib_iiia_inhibitors_are_an_atc_class_of_three_ingredients() -> None:
    parser = CriteriaParser()
    rule = parser.parse_item("Current treatment with glycoproteins IIb-IIIa inhibitors", "exclusion", "c-1", None).rule
    assert isinstance(rule, Medication) and rule.valueset == "gp2b3a_inhibitor"
    include = parser.sink.valuesets["gp2b3a_inhibitor"]["include"]
    atc = {code for inc in include if inc["system"] == "atc" for code in inc["codes"]}
    assert atc == {"B01AC13", "B01AC16", "B01AC17"}


@pytest.mark.parametrize(
    ("text", "valueset"),
    [
        ("Known hypersensitivity to MTX", "methotrexate"),
        ("Systemic treatment with aminosides in the last 15 days", "aminoglycoside"),
        ("medication: antidepressants or H1-receptor antagonists", "antihistamine"),
        ("Use of immune suppressing medications", "immunosuppressant"),
        ("Concurrent antibiotherapy", "antibiotic"),
        (
            "Subjects who have received systemic anti-tumor treatments prior to the initiation of the study treatment;",
            "antineoplastic",
        ),
        ("On stable anti-parkinsonian therapy for 2 weeks before enrollment", "antiparkinson"),
    ],
)
def test_medicine_words_trials_use(text: str, valueset: str) -> None:
    # a medicine, or an allergy to it: either node names the medicine's value set
    assert valueset in {getattr(n, "valueset", None) for n in only(parse(text, "exclusion"), object)}


@pytest.mark.parametrize(
    ("text", "op", "value"), [("4. MMSE score ≥ 20", ">=", 20), ("Mini-Mental State Examination (MMSE) < 24", "<", 24)]
)
def test_mmse_thresholds_are_scores_without_a_unit(text: str, op: str, value: int) -> None:
    m = measurement(parse(text, "inclusion"), "mmse")
    assert (m.op, m.value, m.unit) == (op, value, None)


def test_glasgow_coma_score_threshold() -> None:
    m = measurement(parse("GCS less than 15", "exclusion"), "gcs")
    assert (m.op, m.value) == ("<", 15)


def test_egfr_without_a_unit_is_in_its_only_unit() -> None:
    m = measurement(parse("eGFR <45", "exclusion"), "egfr")
    assert (m.op, m.value, m.unit) == ("<", 45, "mL/min/{1.73_m2}")


def test_ggt_multiple_of_the_upper_limit() -> None:
    m = measurement(parse("GGT < 2.5 × ULN.", "inclusion"), "ggt")
    assert (m.op, m.uln_multiple) == ("<", 2.5)


def test_hbs_ag_written_apart_is_the_hepatitis_b_marker() -> None:
    crit = parse("Positive HBs Ag", "exclusion")
    assert "hbv_infection" in {c.valueset for c in only(crit, Condition)}
    assert "hbsag" in {m.analyte for m in only(crit, Measurement)}


def test_new_scales_have_loinc_codes_and_ranges_in_the_sidecar_knowledge() -> None:
    analytes = yaml.safe_load((DATA / "knowledge" / "analytes.yaml").read_text(encoding="utf-8"))
    assert analytes["mmse"]["codes"] == [{"system": "loinc", "code": "72106-8"}] and analytes["mmse"]["range"] == [
        0,
        30,
    ]
    assert analytes["ggt"]["codes"] == [{"system": "loinc", "code": "2324-2"}] and "uln" not in analytes["ggt"]
    assert analytes["gcs"]["codes"] == [{"system": "loinc", "code": "9269-2"}] and analytes["gcs"]["range"] == [3, 15]


@pytest.mark.parametrize(
    "text",
    [
        # Chia lost the comparator of these lines: "=" could be either
        "Mini-Mental status examination = 24",
        "Age = 18 years",
    ],
)
def test_lost_comparators_are_still_refused(text: str) -> None:
    assert only(parse(text, "inclusion"), Measurement) == []


@pytest.mark.parametrize(
    "text",
    [
        "Use of smoking cessation medications or interventions in last 30 days",
        "Are currently enrolled in another smoking cessation trial",
        "Subjects were to be non-users of tobacco products (minimum of 6 months prior to the start of the study).",
    ],
)
def test_smoking_cessation_and_non_users_are_not_read_as_tobacco_use(text: str) -> None:
    assert "tobacco_use" not in {c.valueset for c in only(parse(text, "exclusion"), Condition)}


def test_non_cardiac_is_not_a_heart_condition() -> None:
    text = "Non-cardiac condition limiting life expectancy to less than one year, per physician judgment (e.g. cancer)"
    assert "cardiac_disease" not in {c.valueset for c in only(parse(text, "exclusion"), Condition)}


def test_pid_is_not_read_as_pelvic_inflammatory_disease() -> None:
    # in immunology trials PID is a primary immunodeficiency
    assert key_of("pid") not in lexicon().index
