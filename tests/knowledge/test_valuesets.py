"""Value-set membership exactly as the spec defines it: prefixes, ranges, dots, systems."""

from __future__ import annotations

import pytest

from trialscreen.knowledge import Knowledge, knowledge

CM = "http://hl7.org/fhir/sid/icd-10-cm"
WHO = "http://hl7.org/fhir/sid/icd-10"
SNOMED = "http://snomed.info/sct"
CPT = "http://www.ama-assn.org/go/cpt"
ATC = "http://www.whocc.no/atc"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
LOINC = "http://loinc.org"


def has(name: str, system: str, code: str) -> bool:
    return knowledge().valueset(name).contains(system, code)


@pytest.mark.parametrize(("code", "inside"), [
    ("Z94.0", True), ("Z94.1", True), ("Z94.4", True), ("Z94.2", True), ("Z940", True), ("Z94.41", True),
    ("Z94.84", False), ("Z94.81", False), ("Z94.5", False), ("Z94.6", False), ("Z94.9", False), ("Z94.89", False),
    ("Z94.82", True), ("Z94.83", True), ("Z9483", True), ("Z94", False),
    ("T86.1", True), ("T86.11", True), ("T86.49", True), ("T86.5", False), ("T86.0", False), ("T86.85", True),
    ("T86.851", True), ("T86.84", False), ("T86.8", False),
])
def test_subcategory_ranges_compare_four_characters(code: str, inside: bool) -> None:
    assert has("solid_organ_transplant", CM, code) is inside


@pytest.mark.parametrize(("code", "inside"), [
    ("G00", True), ("G00.0", True), ("G09", True), ("G14", True), ("G20.C", True), ("G26", True), ("G30.9", True),
    ("G32.81", True), ("G35", True), ("G37.9", True), ("G40.A09", True), ("G41.9", True), ("G45.0", True),
    ("G46.8", True), ("G80.9", True), ("G83.9", True), ("G91.0", True), ("G96.9", True), ("C70.9", True),
    ("C72.50", True), ("C79.3", True), ("C79.31", True), ("D33.9", True), ("D43.4", True), ("I60.00", True),
    ("I69.991", True), ("F01.50", True), ("F03.A0", True),
    ("G43.909", False), ("G44.209", False), ("G47.00", False), ("G50.0", False), ("G73.7", False),
    ("G89.4", False), ("C79.4", False), ("C79.9", False), ("C73", False), ("D32.9", False), ("D44.3", False),
    ("I59", False), ("I70.0", False), ("F04", False), ("F10.20", False), ("G90.9", False), ("G97.0", False),
])
def test_category_ranges_and_prefixes(code: str, inside: bool) -> None:
    assert has("cns_disorder", CM, code) is inside


@pytest.mark.parametrize(("code", "inside"), [
    ("C92.0", True), ("C92.00", True), ("C92.01", True), ("C92.02", True), ("C9202", True), ("c92.02", True),
    ("C92.3", True), ("C92.50", True), ("C92.62", True), ("C92.A0", True), ("C92.a2", True), ("C93.00", True),
    ("C94.00", True), ("C94.20", True),
    ("C92.4", False), ("C92.40", False), ("C92.41", False), ("C92.1", False), ("C92.2", False), ("C92.9", False),
    ("C92.Z0", False), ("C93.1", False), ("C94.3", False), ("C94.4", False), ("C92", False), ("C91.00", False),
])
def test_aml_value_set(code: str, inside: bool) -> None:
    assert has("aml", CM, code) is inside
    assert has("aml", WHO, code) is inside


@pytest.mark.parametrize("code", ["C92.4", "C92.40", "C92.41", "C92.42", "C924"])
def test_apl_is_its_own_set(code: str) -> None:
    assert has("apl", CM, code) and has("apl", WHO, code)
    assert not has("aml", CM, code)


def test_who_icd10_matches_like_icd10cm() -> None:
    for name, code in [("cns_disorder", "G35"), ("hiv_infection", "B20"), ("acute_mi", "I21.4"), ("substance_abuse", "F10.2")]:
        assert has(name, WHO, code) and has(name, CM, code)


@pytest.mark.parametrize(("system", "code"), [
    (SNOMED, "C92.02"), (LOINC, "C92.02"), ("http://hl7.org/fhir/sid/icd-9-cm", "C92.02"), (None, "C92.02"), (CM, None), (CM, ""),
])
def test_codes_match_only_with_their_system(system: str | None, code: str | None) -> None:
    assert knowledge().valueset("aml").contains(system, code) is False


@pytest.mark.parametrize(("name", "code", "inside"), [
    ("coronary_angioplasty_or_stent", "92920", True), ("coronary_angioplasty_or_stent", "92944", True),
    ("coronary_angioplasty_or_stent", "92933", True), ("coronary_angioplasty_or_stent", "92919", False),
    ("coronary_angioplasty_or_stent", "92945", False), ("coronary_angioplasty_or_stent", "929200", False),
    ("coronary_angioplasty_or_stent", "9292", False), ("coronary_angioplasty_or_stent", "0292T", False),
    ("solid_organ_transplant", "50360", True), ("solid_organ_transplant", "50365", True),
    ("solid_organ_transplant", "50366", False), ("solid_organ_transplant", "32850", False),
    ("solid_organ_transplant", "32852", True), ("solid_organ_transplant", "47135", True),
    ("solid_organ_transplant", "47136", False), ("solid_organ_transplant", "33945", True),
    ("solid_organ_transplant", "48554", True), ("solid_organ_transplant", "48550", False),
    ("minor_procedure", "38220", True), ("minor_procedure", "38222", True), ("minor_procedure", "38223", False),
    ("minor_procedure", "36555", True), ("minor_procedure", "36571", True), ("minor_procedure", "36572", False),
    ("minor_procedure", "62270", True), ("minor_procedure", "62272", False), ("minor_procedure", "11102", True),
    ("minor_procedure", "11107", True), ("minor_procedure", "11101", False), ("minor_procedure", "11108", False),
    ("autologous_sct", "38241", True), ("autologous_sct", "38240", False),
])
def test_cpt_numeric_ranges_and_codes(name: str, code: str, inside: bool) -> None:
    assert has(name, CPT, code) is inside


@pytest.mark.parametrize(("name", "code", "inside"), [
    ("infection", "A41.9", True), ("infection", "B89", True), ("infection", "B17.2", True),
    ("infection", "B50.9", True), ("infection", "J12.9", True), ("infection", "J18.1", True),
    ("infection", "J69.0", True), ("infection", "J69.1", False), ("infection", "L03.90", True),
    ("infection", "N10", True), ("infection", "N39.0", True), ("infection", "R65.20", True),
    ("infection", "R65.10", False), ("infection", "B90.0", False), ("infection", "J11.1", False),
    ("infection", "A50.0", False), ("infection", "A53.9", False), ("infection", "A54.9", True),
    ("infection", "B16.9", False), ("infection", "B17.0", False), ("infection", "B17.1", False),
    ("infection", "B17.10", False), ("infection", "B18.0", False), ("infection", "B18.2", False),
    ("infection", "B18.8", True), ("infection", "B19.10", False), ("infection", "B19.20", False),
    ("infection", "B19.9", True), ("infection", "B20", False),
    ("serious_mental_illness", "F20.0", True), ("serious_mental_illness", "F29", True),
    ("serious_mental_illness", "F31.9", True), ("serious_mental_illness", "F32.2", True),
    ("serious_mental_illness", "F32.1", False), ("serious_mental_illness", "F33.3", True),
    ("serious_mental_illness", "F33.9", False), ("serious_mental_illness", "F34.0", False),
    ("substance_abuse", "F10.10", True), ("substance_abuse", "F10.20", True), ("substance_abuse", "F10.9", False),
    ("substance_abuse", "F17.210", False), ("substance_abuse", "F16.1", True), ("substance_abuse", "F16.9", False),
    ("substance_abuse", "F18.2", True), ("substance_abuse", "F19.10", True),
    ("unstable_angina_or_af", "I20.0", True), ("unstable_angina_or_af", "I20.9", False),
    ("unstable_angina_or_af", "I48.91", True), ("heart_failure", "I50.9", True), ("heart_failure", "I51.9", False),
    ("acute_mi", "I21.A1", True), ("acute_mi", "I22.9", True), ("acute_mi", "I25.2", False),
    ("cns_autoimmune_or_cerebrovascular_active", "I64", True), ("cns_autoimmune_or_cerebrovascular_active", "I65.1", False),
    ("cns_autoimmune_or_cerebrovascular_active", "G12.21", True), ("cns_autoimmune_or_cerebrovascular_active", "G12.2", False),
    ("no_childbearing_potential", "Z90.710", True), ("no_childbearing_potential", "Z90.79", False),
    ("severe_hypersensitivity", "T78.00XA", True), ("severe_hypersensitivity", "T78.1XXA", False),
])
def test_icd_value_sets(name: str, code: str, inside: bool) -> None:
    assert has(name, CM, code) is inside


@pytest.mark.parametrize(("name", "system", "code", "inside"), [
    ("immunosuppressant", ATC, "L04AD02", True), ("immunosuppressant", ATC, "L04A", True),
    ("immunosuppressant", ATC, "L04", False), ("immunosuppressant", ATC, "H02AB01", True),
    ("immunosuppressant", ATC, "H02A", False), ("immunosuppressant", ATC, "l04ax01", True),
    ("immunosuppressant", RXNORM, "42316", True), ("immunosuppressant", RXNORM, "423160", False),
    ("immunosuppressant", RXNORM, "4231", False),
    ("antimicrobial", ATC, "J01CA04", True), ("antimicrobial", ATC, "J02AC01", True), ("antimicrobial", ATC, "J05AB01", True),
    ("antimicrobial", ATC, "J04AB02", False), ("antimicrobial", ATC, "J06BA02", False), ("antimicrobial", RXNORM, "723", False),
    ("live_vaccine", CVX, "03", True), ("live_vaccine", CVX, "3", True), ("live_vaccine", CVX, "003", True),
    ("live_vaccine", CVX, "21", True), ("live_vaccine", CVX, "121", True), ("live_vaccine", CVX, "12", False),
    ("live_vaccine", CVX, "141", False), ("live_vaccine", CVX, "1", False),
    ("research_consent", "http://terminology.hl7.org/CodeSystem/consentscope", "research", True),
    ("research_consent", "http://terminology.hl7.org/CodeSystem/consentscope", "treatment", False),
    ("research_consent", "http://terminology.hl7.org/CodeSystem/v3-ActCode", "RESEARCH", True),
    ("non_systemic_route", SNOMED, "6064005", True), ("non_systemic_route", SNOMED, "26643006", False),
    ("prophylaxis", SNOMED, "169443000", True),
])
def test_other_systems(name: str, system: str, code: str, inside: bool) -> None:
    assert has(name, system, code) is inside


def test_text_matching_is_case_insensitive_substring() -> None:
    vs = knowledge().valueset("immunosuppressant")
    assert vs.matches_text("TACROLIMUS 1 mg")
    assert vs.matches_text("Mycophenolic Acid")
    assert not vs.matches_text("tacro")
    assert not vs.matches_text(None)
    assert knowledge().valueset("tumour_lysis_or_leukostasis").matches_text("symptomatic Leukostasis")


def test_every_value_set_and_analyte_named_by_the_seed_criteria_exists() -> None:
    from trialscreen.criteria.builtin import builtin_criteria

    seed = builtin_criteria("NCT06125652")
    assert seed is not None
    names: set[str] = set()
    analytes: set[str] = set()

    def visit(node: object) -> None:
        for field in ("valueset", "category", "exclude", "unless_reason"):
            value = getattr(node, field, None)
            if isinstance(value, str):
                names.add(value)
        if getattr(node, "kind", None) == "measurement":
            analytes.add(node.analyte)  # type: ignore[attr-defined]
        for child in list(getattr(node, "items", ()) or ()) + [getattr(node, "item", None)]:
            if child is not None:
                visit(child)

    for criterion in seed.walk():
        for node in (criterion.rule, criterion.applies_when):
            if node is not None:
                visit(node)
    for node in seed.definitions.values():
        visit(node)
    k = knowledge()
    assert names and analytes
    for name in names:
        k.valueset(name)
    for name in analytes:
        k.analyte(name)


def test_a_deployment_may_widen_a_value_set(tmp_path: object) -> None:
    from pathlib import Path

    from trialscreen.knowledge import DATA_DIR

    extra = Path(str(tmp_path))
    (extra / "valuesets.yaml").write_text("aml:\n  include:\n    - {system: snomed, codes: ['91861009']}\n")
    wide = Knowledge((DATA_DIR, extra))
    assert wide.valueset("aml").contains(SNOMED, "91861009")
    assert wide.valueset("aml").contains(CM, "C92.02")  # nothing narrowed
