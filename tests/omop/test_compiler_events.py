"""Diagnoses, procedures, medicines, vaccines and allergies: seed CDM rows, compare statuses.

Each test seeds a few persons at the edges of one criterion (circe-be style) and checks the
status and eligible_from the compiled SQL gives each of them on DuckDB.
"""

from __future__ import annotations

import doctest
from datetime import date, datetime, timedelta

import pytest

from trialscreen.criteria import ALL_KINDS
from trialscreen.omop.compiler.testbed import CdmTestBed
from trialscreen.omop.compiler.visitor import ScreenCompiler

from .test_compiler_helpers import AS_OF, screen


def test_every_node_kind_has_a_visit_method() -> None:
    kinds = [cls.model_fields["kind"].default for cls in ALL_KINDS]
    missing = [kind for kind in kinds if not callable(getattr(ScreenCompiler, f"visit_{kind}", None))]
    assert not missing, f"node kinds without a compiler: {missing}"


def test_docstring_examples_run() -> None:
    import trialscreen.omop.compiler as compiler
    import trialscreen.omop.vocabulary as vocabulary

    for module in (compiler, vocabulary):
        result = doctest.testmod(module)
        assert result.attempted > 0 and result.failed == 0, module.__name__


def test_age_in_completed_years_and_birth_date_fallbacks() -> None:
    bed = CdmTestBed()
    turns_18 = bed.person(birth=date(2008, 11, 25))
    turns_18_tomorrow = bed.person(birth=date(2008, 11, 26))
    is_70 = bed.person(birth=date(1955, 11, 26))
    turns_71 = bed.person(birth=date(1955, 11, 25))
    no_birth = bed.person(birth=None)
    from_timestamp = bed.person(birth=None, birth_datetime=datetime(2008, 11, 26, 8, 30))
    rows = screen(bed, "inc-2")
    assert rows[turns_18]["inc-2"] == "pass"
    assert rows[turns_18_tomorrow]["inc-2"] == "fail"
    assert rows[is_70]["inc-2"] == "pass"
    assert rows[turns_71]["inc-2"] == "fail"
    assert rows[no_birth]["inc-2"] == "unknown"
    assert rows[from_timestamp]["inc-2"] == "fail"  # 17 until tomorrow, read from birth_datetime


def test_aml_phase_from_the_code_the_status_and_the_vocabulary() -> None:
    bed = CdmTestBed()
    start = date(2026, 1, 10)
    relapse = bed.person()
    bed.condition(relapse, "C92.02", start)
    remission = bed.person()
    bed.condition(remission, "C92.01", start)
    unrecorded = bed.person()
    bed.condition(unrecorded, "C92.00", start)
    relapse_by_status = bed.person()
    bed.condition(relapse_by_status, "C92.00", start, status="relapse")
    abated = bed.person()
    bed.condition(abated, "C92.02", start, end=date(2026, 6, 1))
    apl_only = bed.person()
    bed.condition(apl_only, "C92.40", start)
    text_only = bed.person()  # no source concept: the source value decides (dots and case ignored)
    bed.condition(text_only, "c92a2", start, with_concept=False)
    who_code = bed.person()
    bed.condition(who_code, "C92.0", start, vocabulary="ICD10", status="active")
    future = bed.person()
    bed.condition(future, "C92.02", AS_OF + timedelta(days=1))
    rows = screen(bed, "inc-3")
    assert rows[relapse]["inc-3"] == "pass"
    assert rows[remission]["inc-3"] == "fail"
    assert rows[unrecorded]["inc-3"] == "unknown"
    assert rows[relapse_by_status]["inc-3"] == "pass"
    assert rows[abated]["inc-3"] == "fail"
    assert rows[apl_only]["inc-3"] == "fail"
    assert rows[text_only]["inc-3"] == "pass"
    assert rows[who_code]["inc-3"] == "unknown"
    assert rows[future]["inc-3"] == "fail"


def test_condition_found_through_its_standard_concept_only() -> None:
    bed = CdmTestBed()
    icd = bed.concept("ICD10CM", "C92.4")
    snomed = bed.concept("SNOMED", "110004001", name="Acute promyelocytic leukaemia")
    bed.maps_to(icd, snomed)
    patient = bed.person()
    bed.condition(patient, "110004001", date(2020, 1, 1), vocabulary="SNOMED", standard=snomed)
    other = bed.person()
    bed.condition(other, "93143009", date(2020, 1, 1), vocabulary="SNOMED")
    rows = screen(bed, "exc-1")
    assert rows[patient]["exc-1"] == "fail"
    assert rows[other]["exc-1"] == "pass"


@pytest.mark.parametrize(
    ("as_of", "performed", "status", "eligible_from"),
    [
        (date(2026, 11, 25), date(2026, 8, 25), "pass", None),  # D + 3 months == as-of: outside
        (date(2026, 11, 25), date(2026, 8, 26), "fail", date(2026, 11, 26)),
        (date(2027, 2, 27), date(2026, 11, 30), "fail", date(2027, 2, 28)),  # month end clips
        (date(2027, 2, 27), date(2026, 11, 27), "pass", None),
        (date(2026, 11, 25), date(2026, 11, 26), "pass", None),  # after the as-of date: ignored
    ],
)
def test_auto_sct_window_edges(as_of: date, performed: date, status: str, eligible_from: date | None) -> None:
    bed = CdmTestBed()
    patient = bed.person()
    bed.procedure(patient, "38241", performed)
    row = screen(bed, "exc-8", as_of=as_of)[patient]
    assert row["exc-8"] == status
    assert row["eligible_from:exc-8"] == eligible_from


def test_live_vaccine_window_and_cvx_leading_zeros() -> None:
    bed = CdmTestBed()
    recent = bed.person()
    bed.drug(recent, "03", AS_OF - timedelta(days=27), vocabulary="CVX")
    edge = bed.person()
    bed.drug(edge, "03", AS_OF - timedelta(days=28), vocabulary="CVX")
    unpadded = bed.person()
    bed.drug(unpadded, "3", AS_OF - timedelta(days=1), vocabulary="CVX")
    inactivated = bed.person()
    bed.drug(inactivated, "141", AS_OF - timedelta(days=1), vocabulary="CVX")
    rows = screen(bed, "exc-12")
    assert rows[recent]["exc-12"] == "fail"
    assert rows[recent]["eligible_from:exc-12"] == AS_OF + timedelta(days=1)
    assert rows[edge]["exc-12"] == "pass"
    assert rows[unpadded]["exc-12"] == "fail"
    assert rows[inactivated]["exc-12"] == "pass"


def test_major_surgery_by_category_not_minor_with_eligible_from() -> None:
    bed = CdmTestBed()
    surgical = bed.concept("SNOMED", "387713003", name="Surgical procedure")
    colectomy = bed.concept("SNOMED", "23968004", name="Colectomy")
    marrow = bed.concept("CPT4", "38221")
    bed.ancestor(surgical, colectomy)
    bed.ancestor(surgical, marrow)
    major = bed.person()
    bed.procedure(major, "23968004", AS_OF - timedelta(days=10), vocabulary="SNOMED")
    minor = bed.person()
    bed.procedure(minor, "38221", AS_OF - timedelta(days=3))
    old = bed.person()
    bed.procedure(old, "23968004", AS_OF - timedelta(days=28), vocabulary="SNOMED")
    rows = screen(bed, "exc-14")
    assert (rows[major]["exc-14"], rows[major]["eligible_from:exc-14"]) == ("fail", AS_OF + timedelta(days=18))
    assert rows[minor]["exc-14"] == "pass"
    assert rows[old]["exc-14"] == "pass"


def test_cardiac_history_windows_and_time_that_does_not_cure() -> None:
    bed = CdmTestBed()
    mi = bed.person()
    bed.condition(mi, "I21.4", date(2026, 5, 31), status="resolved", end=date(2026, 6, 30))
    af_active = bed.person()
    bed.condition(af_active, "I48.0", date(2020, 1, 1))
    af_abated = bed.person()  # resolved 2026-01-15: counts until 12 months after the abatement
    bed.condition(af_abated, "I48.0", date(2020, 1, 1), status="resolved", end=date(2026, 1, 15))
    both = bed.person()
    bed.condition(both, "I21.4", date(2026, 5, 31))
    bed.condition(both, "I48.0", date(2020, 1, 1))
    hf_class_2 = bed.person()
    bed.condition(hf_class_2, "I50.9", date(2026, 3, 1), status="resolved", end=date(2026, 4, 1))
    bed.measurement(hf_class_2, "88020-3", date(2026, 10, 1), value_text="Class II")
    hf_no_class = bed.person()
    bed.condition(hf_no_class, "I50.9", date(2026, 3, 1))
    hf_class_1 = bed.person()
    bed.condition(hf_class_1, "I50.9", date(2026, 3, 1))
    bed.measurement(hf_class_1, "88020-3", date(2026, 10, 1), value=1)
    rows = screen(bed, "exc-5")
    assert (rows[mi]["exc-5"], rows[mi]["eligible_from:exc-5"]) == ("fail", date(2027, 5, 31))
    assert (rows[af_active]["exc-5"], rows[af_active]["eligible_from:exc-5"]) == ("fail", None)
    assert (rows[af_abated]["exc-5"], rows[af_abated]["eligible_from:exc-5"]) == ("fail", date(2027, 1, 15))
    assert (rows[both]["exc-5"], rows[both]["eligible_from:exc-5"]) == ("fail", None)
    assert (rows[hf_class_2]["exc-5"], rows[hf_class_2]["eligible_from:exc-5"]) == ("fail", date(2027, 4, 1))
    assert rows[hf_no_class]["exc-5"] == "unknown"
    assert rows[hf_class_1]["exc-5"] == "pass"


def test_organ_transplant_ranges_with_subcategories() -> None:
    bed = CdmTestBed()
    kidney = bed.person()
    bed.condition(kidney, "Z94.0", date(2010, 1, 1))
    stem_cell = bed.person()
    bed.condition(stem_cell, "Z94.84", date(2010, 1, 1))
    liver_cpt = bed.person()
    bed.procedure(liver_cpt, "47135", date(2015, 1, 1))
    lung_range = bed.person()
    bed.procedure(lung_range, "32853", date(2015, 1, 1))
    rows = screen(bed, "exc-6")
    assert rows[kidney]["exc-6"] == "fail"
    assert rows[stem_cell]["exc-6"] == "pass"
    assert rows[liver_cpt]["exc-6"] == "fail"
    assert rows[lung_range]["exc-6"] == "fail"


def test_systemic_immunosuppressants_by_ingredient_text_route_and_dates() -> None:
    bed = CdmTestBed()
    ingredient = bed.concept("RxNorm", "8640", name="prednisone")
    tablet = bed.concept("RxNorm", "312617", name="prednisone 20 MG Oral Tablet")
    bed.ancestor(ingredient, tablet)
    oral = bed.person()
    bed.drug(oral, "312617", date(2026, 11, 1))
    ended = bed.person()
    bed.drug(ended, "312617", date(2026, 10, 1), end=date(2026, 11, 24))
    ends_today = bed.person()
    bed.drug(ends_today, "312617", date(2026, 10, 1), end=AS_OF)
    not_yet = bed.person()
    bed.drug(not_yet, "312617", AS_OF + timedelta(days=1))
    topical = bed.person()
    bed.drug(topical, "312617", date(2026, 11, 1), route="6064005")
    inhaled_text = bed.person()
    bed.drug(inhaled_text, "312617", date(2026, 11, 1), route_text="Inhalation")
    by_text = bed.person()
    bed.drug(by_text, "0", date(2026, 11, 1), vocabulary="None", source_value="Tacrolimus 1 mg capsule")
    by_atc = bed.person()
    bed.drug(by_atc, "999", date(2026, 11, 1), source_code=("ATC", "L04AD02"))
    rows = screen(bed, "exc-7")
    assert rows[oral]["exc-7"] == "fail"
    assert rows[ended]["exc-7"] == "pass"
    assert rows[ends_today]["exc-7"] == "fail"
    assert rows[not_yet]["exc-7"] == "pass"
    assert rows[topical]["exc-7"] == "pass"
    assert rows[inhaled_text]["exc-7"] == "pass"
    assert rows[by_text]["exc-7"] == "fail"
    assert rows[by_atc]["exc-7"] == "fail"


def test_infection_and_antimicrobials_needing_confirmation() -> None:
    bed = CdmTestBed()
    pneumonia = bed.person()
    bed.condition(pneumonia, "J18.9", date(2026, 11, 20))
    hiv_only = bed.person()  # B20 is left to exc-3
    bed.condition(hiv_only, "B20", date(2020, 1, 1))
    treated = bed.person()
    bed.drug(treated, "J01MA12", date(2026, 11, 20), vocabulary="ATC")
    prophylaxis = bed.person()
    exposure = bed.drug(prophylaxis, "J01MA12", date(2026, 11, 20), vocabulary="ATC")
    bed.observation(prophylaxis, date(2026, 11, 20), concept=("SNOMED", "169443000"), event_id=exposure)
    rows = screen(bed, "exc-11")
    assert rows[pneumonia]["exc-11"] == "fail"
    assert rows[hiv_only]["exc-11"] == "pass"
    assert rows[treated]["exc-11"] == "unknown"
    assert rows[prophylaxis]["exc-11"] == "pass"


def test_hypersensitivity_by_criticality_or_severity() -> None:
    bed = CdmTestBed()
    high = bed.person()
    bed.observation(high, date(2020, 1, 1), qualifier="high")
    severe = bed.person()
    bed.observation(severe, date(2020, 1, 1), qualifier="low", value_string="Severe")
    mild = bed.person()
    bed.observation(mild, date(2020, 1, 1), qualifier="low", value_string="mild")
    by_condition = bed.person()
    bed.condition(by_condition, "T78.2XXA", date(2019, 1, 1))
    rows = screen(bed, "exc-4")
    assert rows[high]["exc-4"] == "fail"
    assert rows[severe]["exc-4"] == "fail"
    assert rows[mild]["exc-4"] == "pass"
    assert rows[by_condition]["exc-4"] == "fail"


def test_consent_and_attestations_are_unknown_in_omop() -> None:
    bed = CdmTestBed()
    patient = bed.person(gender="male")
    rows = screen(bed, "inc-1", "inc-4", "inc-8", "exc-16")
    assert {rows[patient][c] for c in ("inc-1", "inc-4", "inc-8", "exc-16")} == {"unknown"}


def test_patient_eligible_from_needs_every_failure_to_have_one() -> None:
    bed = CdmTestBed()
    windows_only = bed.person()
    bed.procedure(windows_only, "38241", date(2026, 9, 1))
    bed.drug(windows_only, "03", AS_OF - timedelta(days=3), vocabulary="CVX")
    also_permanent = bed.person()
    bed.procedure(also_permanent, "38241", date(2026, 9, 1))
    bed.condition(also_permanent, "C92.40", date(2020, 1, 1))
    clear = bed.person()
    rows = screen(bed, "exc-1", "exc-8", "exc-12")
    assert rows[windows_only]["verdict"] == "ineligible"
    assert rows[windows_only]["eligible_from"] == date(2026, 12, 20)  # the later of 12-01 (SCT) and 12-20
    assert rows[also_permanent]["eligible_from"] is None
    assert (rows[clear]["verdict"], rows[clear]["eligible_from"]) == ("eligible", None)
