"""Results: latest-result selection, look-back edges, units, ULN, Cockcroft-Gault, qualitative reads."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from trialscreen.omop.compiler.testbed import CdmTestBed

from .test_compiler_helpers import AS_OF, screen

AST, ALT, BILI, CREA, CLEAR, WEIGHT = "1920-8", "1742-6", "1975-2", "2160-0", "2164-2", "29463-7"
SPO2, O2_FLOW, O2_CONC, ECOG, HBSAG, CMV, WBC, HCG = (
    "59408-5", "3151-8", "3150-0", "89247-1", "5196-1", "30247-1", "6690-2", "2106-3",
)


def test_look_back_includes_its_first_day_and_ignores_the_future() -> None:
    bed = CdmTestBed()
    first_day = bed.person()
    bed.measurement(first_day, AST, date(2026, 10, 28), value=30, unit="U/L")
    day_before = bed.person()
    bed.measurement(day_before, AST, date(2026, 10, 27), value=30, unit="U/L")
    future_only = bed.person()
    bed.measurement(future_only, AST, AS_OF + timedelta(days=1), value=30, unit="U/L")
    rows = screen(bed, "inc-6")
    assert rows[first_day]["inc-6.ast"] == "pass"
    assert rows[day_before]["inc-6.ast"] == "unknown"
    assert rows[future_only]["inc-6.ast"] == "unknown"


def test_latest_by_timestamp_and_least_favourable_on_a_tie() -> None:
    bed = CdmTestBed()
    later_good = bed.person()
    bed.measurement(later_good, AST, datetime(2026, 11, 20, 8, 0), value=500, unit="U/L")
    bed.measurement(later_good, AST, datetime(2026, 11, 20, 9, 0), value=30, unit="U/L")
    tie = bed.person()
    bed.measurement(tie, AST, datetime(2026, 11, 20, 9, 0), value=30, unit="U/L")
    bed.measurement(tie, AST, datetime(2026, 11, 20, 9, 0), value=500, unit="U/L")
    tie_unreadable = bed.person()
    bed.measurement(tie_unreadable, AST, datetime(2026, 11, 20, 9, 0), value=30, unit="U/L")
    bed.measurement(tie_unreadable, AST, datetime(2026, 11, 20, 9, 0), value=30, unit="mg/dL")
    rows = screen(bed, "inc-6")
    assert rows[later_good]["inc-6.ast"] == "pass"
    assert rows[tie]["inc-6.ast"] == "fail"
    assert rows[tie_unreadable]["inc-6.ast"] == "unknown"


def test_units_convert_through_ucum_and_aliases() -> None:
    bed = CdmTestBed()
    katal = bed.person()  # 2.5 ukat/L = 150 U/L > 3 x 40
    bed.measurement(katal, AST, date(2026, 11, 20), value=2.5, unit="ukat/L")
    iu_concept = bed.person()  # OMOP's UCUM concept spells [iU]/L; the source text says [IU]/L
    bed.measurement(iu_concept, AST, date(2026, 11, 20), value=110, unit="[iU]/L", unit_text="[IU]/L")
    text_unit = bed.person()
    bed.measurement(text_unit, AST, date(2026, 11, 20), value=110, unit_text="U/L")
    wrong_unit = bed.person()
    bed.measurement(wrong_unit, AST, date(2026, 11, 20), value=30, unit="mg/dL")
    no_unit = bed.person()
    bed.measurement(no_unit, AST, date(2026, 11, 20), value=30)
    hb_mmol = bed.person()  # 3.5 mmol/L x 16.11 = 56.4 g/L < 60
    bed.measurement(hb_mmol, "718-7", date(2026, 11, 20), value=3.5, unit="mmol/L")
    hb_gdl = bed.person()
    bed.measurement(hb_gdl, "718-7", date(2026, 11, 20), value=6.1, unit="g/dL")
    rows = screen(bed, "inc-6")
    assert rows[katal]["inc-6.ast"] == "fail"
    assert rows[iu_concept]["inc-6.ast"] == "pass"
    assert rows[text_unit]["inc-6.ast"] == "pass"
    assert rows[wrong_unit]["inc-6.ast"] == "unknown"
    assert rows[no_unit]["inc-6.ast"] == "unknown"
    assert rows[hb_mmol]["inc-6.hemoglobin"] == "fail"
    assert rows[hb_gdl]["inc-6.hemoglobin"] == "pass"


def test_uln_from_range_high_else_default() -> None:
    bed = CdmTestBed()
    own_range = bed.person()  # 110 > 3 x 35
    bed.measurement(own_range, ALT, date(2026, 11, 20), value=110, unit="U/L", range_high=35)
    default = bed.person()  # 110 <= 3 x 40
    bed.measurement(default, ALT, date(2026, 11, 20), value=110, unit="U/L")
    molar_edge = bed.person()  # 30.78 umol/L = 1.8 mg/dL, exactly 1.5 x 1.2: passes (no float noise)
    bed.measurement(molar_edge, BILI, date(2026, 11, 20), value=30.78, unit="umol/L")
    molar_range = bed.person()  # 40 umol/L against 1.5 x 20 umol/L
    bed.measurement(molar_range, BILI, date(2026, 11, 20), value=40, unit="umol/L", range_high=20)
    rows = screen(bed, "inc-6")
    assert rows[own_range]["inc-6.alt"] == "fail"
    assert rows[default]["inc-6.alt"] == "pass"
    assert rows[molar_edge]["inc-6.bilirubin"] == "pass"
    assert rows[molar_range]["inc-6.bilirubin"] == "fail"


def test_bounds_decide_only_when_every_allowed_value_agrees() -> None:
    bed = CdmTestBed()
    day = date(2026, 11, 20)
    below = bed.person()  # < 0.5 mg/dL is surely <= 1.8
    bed.measurement(below, BILI, day, value=0.5, unit="mg/dL", operator="<")
    above_small = bed.person()  # > 100 U/L may or may not exceed 120
    bed.measurement(above_small, ALT, day, value=100, unit="U/L", operator=">")
    above_large = bed.person()  # > 200 U/L surely exceeds 120
    bed.measurement(above_large, ALT, day, value=200, unit="U/L", operator=">")
    at_limit = bed.person()  # >= 120 U/L: could be exactly 120 (passes) or more
    bed.measurement(at_limit, ALT, day, value=120, unit="U/L", operator=">=")
    clearance_bound = bed.person(gender="male")  # measured > 90 mL/min decides >= 60
    bed.measurement(clearance_bound, CREA, day, value=5.0, unit="mg/dL")
    bed.measurement(clearance_bound, CLEAR, day, value=90, unit="mL/min", operator=">")
    creatinine_bound = bed.person(gender="male")  # CG needs an exact creatinine
    bed.measurement(creatinine_bound, CREA, day, value=0.3, unit="mg/dL", operator="<")
    bed.measurement(creatinine_bound, WEIGHT, day, value=70, unit="kg")
    rows = screen(bed, "inc-6")
    assert rows[below]["inc-6.bilirubin"] == "pass"
    assert rows[above_small]["inc-6.alt"] == "unknown"
    assert rows[above_large]["inc-6.alt"] == "fail"
    assert rows[at_limit]["inc-6.alt"] == "unknown"
    assert rows[clearance_bound]["inc-6.renal"] == "pass"
    assert rows[creatinine_bound]["inc-6.renal"] == "pass"  # < 0.3 mg/dL is surely <= 1.8


def test_renal_function_creatinine_or_measured_or_cockcroft_gault() -> None:
    bed = CdmTestBed()
    day = date(2026, 11, 20)
    normal = bed.person(gender="female")
    bed.measurement(normal, CREA, day, value=1.0, unit="mg/dL")
    male_high_cg_low = bed.person(gender="male", birth=date(1986, 1, 1))  # 40 y: 100 x 70 / (72 x 2) = 48.6
    bed.measurement(male_high_cg_low, CREA, day, value=2.0, unit="mg/dL")
    bed.measurement(male_high_cg_low, WEIGHT, day, value=70, unit="kg")
    male_high_cg_ok = bed.person(gender="male", birth=date(1986, 1, 1))  # 100 x 90 / (72 x 1.9) = 65.8
    bed.measurement(male_high_cg_ok, CREA, day, value=1.9, unit="mg/dL")
    bed.measurement(male_high_cg_ok, WEIGHT, day, value=90, unit="kg")
    female_cg = bed.person(gender="female", birth=date(1986, 1, 1))  # 65.8 x 0.85 = 55.9
    bed.measurement(female_cg, CREA, day, value=1.9, unit="mg/dL")
    bed.measurement(female_cg, WEIGHT, day, value=90, unit="kg")
    measured = bed.person(gender="male")  # 1.1 mL/s = 66 mL/min, however high the creatinine
    bed.measurement(measured, CREA, day, value=5.0, unit="mg/dL")
    bed.measurement(measured, CLEAR, day, value=1.1, unit="mL/s")
    clearance_only = bed.person()
    bed.measurement(clearance_only, CLEAR, day, value=61, unit="mL/min")
    no_weight = bed.person(gender="male")
    bed.measurement(no_weight, CREA, day, value=2.0, unit="mg/dL")
    female_uln = bed.person(gender="female")  # 1.6 > 1.5 x 1.0 (female default), no weight
    bed.measurement(female_uln, CREA, day, value=1.6, unit="mg/dL")
    male_uln = bed.person(gender="male")  # 1.6 <= 1.5 x 1.2
    bed.measurement(male_uln, CREA, day, value=1.6, unit="mg/dL")
    rows = screen(bed, "inc-6")
    renal = {p: rows[p]["inc-6.renal"] for p in rows}
    assert renal[normal] == "pass"
    assert renal[male_high_cg_low] == "fail"
    assert renal[male_high_cg_ok] == "pass"
    assert renal[female_cg] == "fail"
    assert renal[measured] == "pass"
    assert renal[clearance_only] == "pass"
    assert renal[no_weight] == "unknown"
    assert renal[female_uln] == "unknown"
    assert renal[male_uln] == "pass"


def test_spo2_on_supplemental_oxygen_is_set_aside() -> None:
    bed = CdmTestBed()
    earlier, later = datetime(2026, 11, 20, 8, 0), datetime(2026, 11, 21, 8, 0)
    on_oxygen = bed.person()
    bed.measurement(on_oxygen, SPO2, earlier, value=90, unit="%")
    spo2 = bed.measurement(on_oxygen, SPO2, later, value=96, unit="%")
    bed.measurement(on_oxygen, O2_FLOW, later, value=2, unit="L/min", event_id=spo2)
    room_air_fraction = bed.person()  # 0.21 is 21 %: not above
    bed.measurement(room_air_fraction, SPO2, earlier, value=90, unit="%")
    spo2 = bed.measurement(room_air_fraction, SPO2, later, value=96, unit="%")
    bed.measurement(room_air_fraction, O2_CONC, later, value=0.21, unit="1", event_id=spo2)
    same_time = bed.person()  # no event id: a component at the same moment
    bed.measurement(same_time, SPO2, earlier, value=90, unit="%")
    bed.measurement(same_time, SPO2, later, value=96, unit="%")
    bed.measurement(same_time, O2_CONC, later, value=40, unit="%")
    rows = screen(bed, "inc-6")
    assert rows[on_oxygen]["inc-6.spo2"] == "fail"
    assert rows[room_air_fraction]["inc-6.spo2"] == "pass"
    assert rows[same_time]["inc-6.spo2"] == "fail"


def test_ecog_from_numbers_and_answer_codes() -> None:
    bed = CdmTestBed()
    two = bed.person()
    bed.measurement(two, ECOG, date(2026, 11, 20), value=2)
    coded_three = bed.person()
    bed.measurement(coded_three, ECOG, date(2026, 11, 20), value_concept=("LOINC", "LA9625-0"))
    out_of_range = bed.person()
    bed.measurement(out_of_range, ECOG, date(2026, 11, 20), value=7)
    rows = screen(bed, "inc-5")
    assert rows[two]["inc-5.ecog"] == "pass"
    assert rows[coded_three]["inc-5.ecog"] == "fail"
    assert rows[out_of_range]["inc-5.ecog"] == "unknown"
    assert rows[two]["inc-5"] == "unknown"  # survival is attested, which OMOP cannot hold


def test_serologies_read_concepts_words_and_interpretation_flags() -> None:
    bed = CdmTestBed()
    day = date(2026, 11, 20)
    positive = bed.person()
    bed.measurement(positive, HBSAG, day, value_concept=("SNOMED", "10828004"))
    non_reactive = bed.person()
    bed.measurement(non_reactive, HBSAG, day, value_text="Non-Reactive")
    flag = bed.person()
    bed.measurement(flag, HBSAG, day, value_text="POS")
    hepatitis = bed.person()  # an active hepatitis B fails whatever the test says
    bed.measurement(hepatitis, HBSAG, day, value_text="negative")
    bed.condition(hepatitis, "B18.1", date(2020, 1, 1))
    untested = bed.person()
    equivocal = bed.person()
    bed.measurement(equivocal, HBSAG, day, value_text="equivocal")
    rows = screen(bed, "exc-3")
    hbv = {p: rows[p]["exc-3.hbv"] for p in rows}
    assert hbv[positive] == "fail"
    assert hbv[non_reactive] == "pass"
    assert hbv[flag] == "fail"
    assert hbv[hepatitis] == "fail"
    assert hbv[untested] == "unknown"
    assert hbv[equivocal] == "unknown"


def test_cmv_quantities_and_qualitative_results() -> None:
    bed = CdmTestBed()
    day = date(2026, 11, 20)
    high = bed.person()
    bed.measurement(high, CMV, day, value=600, unit="{copies}/mL")
    low_text_unit = bed.person()
    bed.measurement(low_text_unit, CMV, day, value=400, unit_text="copies/mL")
    iu = bed.person()
    bed.measurement(iu, CMV, day, value=400, unit="[IU]/mL")
    not_detected = bed.person()
    bed.measurement(not_detected, CMV, day, value_text="Not detected")
    detected = bed.person()
    bed.measurement(detected, CMV, day, value_text="detected")
    rows = screen(bed, "exc-3")
    cmv = {p: rows[p]["exc-3.cmv"] for p in rows}
    assert cmv[high] == "fail"
    assert cmv[low_text_unit] == "pass"
    assert cmv[iu] == "unknown"
    assert cmv[not_detected] == "pass"
    assert cmv[detected] == "unknown"


def test_hyperleukocytosis_within_seven_days_closed_world() -> None:
    bed = CdmTestBed()
    old = bed.person()
    bed.measurement(old, WBC, AS_OF - timedelta(days=8), value=150, unit="10*3/uL")
    recent = bed.person()
    bed.measurement(recent, WBC, AS_OF - timedelta(days=7), value=150, unit="10*3/uL")
    per_microlitre = bed.person()
    bed.measurement(per_microlitre, WBC, AS_OF - timedelta(days=1), value=99_000, unit="/uL")
    leukostasis_text = bed.person()
    bed.condition(leukostasis_text, "X", date(2026, 11, 1), vocabulary="SNOMED", name="Leukostasis syndrome",
                  source_value="Leukostasis")
    rows = screen(bed, "exc-10")
    assert rows[old]["exc-10"] == "pass"
    assert rows[recent]["exc-10"] == "fail"
    assert rows[per_microlitre]["exc-10"] == "pass"
    assert rows[leukostasis_text]["exc-10"] == "fail"


def test_pregnancy_test_for_women_of_childbearing_potential_only() -> None:
    bed = CdmTestBed()
    man = bed.person(gender="male")
    negative = bed.person(birth=date(1995, 1, 1))
    bed.measurement(negative, HCG, AS_OF - timedelta(days=7), value_concept=("SNOMED", "260385009"))
    positive = bed.person(birth=date(1995, 1, 1))
    bed.measurement(positive, HCG, AS_OF - timedelta(days=2), value_text="positive")
    stale = bed.person(birth=date(1995, 1, 1))
    bed.measurement(stale, HCG, AS_OF - timedelta(days=8), value_text="negative")
    older = bed.person(birth=date(1970, 1, 1))
    hysterectomy = bed.person(birth=date(1995, 1, 1))
    bed.procedure(hysterectomy, "236886002", date(2020, 1, 1), vocabulary="SNOMED")
    no_birth = bed.person(birth=None)
    bed.measurement(no_birth, HCG, AS_OF - timedelta(days=1), value_text="negative")
    other = bed.person(gender="other")
    rows = screen(bed, "inc-7", "inc-8")
    inc7 = {p: rows[p]["inc-7"] for p in rows}
    assert inc7[man] == "pass"
    assert inc7[negative] == "pass"
    assert inc7[positive] == "fail"
    assert inc7[stale] == "unknown"
    assert inc7[older] == "pass"
    assert inc7[hysterectomy] == "pass"
    assert inc7[no_birth] == "pass"
    assert inc7[other] == "pass"
    assert rows[man]["inc-8"] == "unknown" and rows[older]["inc-8"] == "pass"


@settings(max_examples=12, deadline=None)
@given(
    st.lists(st.dates(min_value=date(2025, 1, 1), max_value=date(2027, 3, 1)), min_size=1, max_size=8),
    st.dates(min_value=date(2026, 1, 1), max_value=date(2027, 3, 1)),
)
def test_vaccine_window_agrees_with_calendar_arithmetic(days: list[date], as_of: date) -> None:
    """exc-12 fails exactly when some vaccine day D has D <= as-of < D + 28 days."""
    bed = CdmTestBed()
    patient = bed.person()
    for day in days:
        bed.drug(patient, "03", day, vocabulary="CVX")
    row = screen(bed, "exc-12", as_of=as_of)[patient]
    inside = [d for d in days if d <= as_of < d + timedelta(days=28)]
    assert row["exc-12"] == ("fail" if inside else "pass")
    assert row["eligible_from:exc-12"] == (max(inside) + timedelta(days=28) if inside else None)
