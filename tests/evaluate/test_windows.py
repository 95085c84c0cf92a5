"""Event windows (exc-8, exc-12, exc-14), calendar arithmetic, and eligible_from."""

from __future__ import annotations

from datetime import date

import pytest
from evaluate_support import AS_OF, eligible_patient, patient, result, screen, status

from trialscreen.fhir.builder import CPT, SNOMED, PatientBuilder

SURGICAL = "387713003"


def auto_sct(when: str, system: str = CPT, code: str = "38241", **kw: object) -> PatientBuilder:
    p = patient()
    p.procedure(system, code, when=when, **kw)
    return p


# --- exc-8: auto-SCT within 3 calendar months ---------------------------------------------------


@pytest.mark.parametrize(("system", "code"), [(CPT, "38241"), (SNOMED, "709115004")])
def test_auto_sct_window_edge(system: str, code: str) -> None:
    outside = screen(auto_sct("2026-08-25", system, code))
    assert status(outside, "exc-8") == "pass"
    assert result(outside, "exc-8").eligible_from is None
    inside = screen(auto_sct("2026-08-26", system, code))
    assert status(inside, "exc-8") == "fail"
    assert result(inside, "exc-8").eligible_from == date(2026, 11, 26)


@pytest.mark.parametrize(("performed", "lapse"), [("2026-10-31", date(2027, 1, 31)), ("2026-11-30", date(2027, 2, 28)), ("2026-08-31", date(2026, 11, 30))])
def test_calendar_months(performed: str, lapse: date) -> None:
    p = auto_sct(performed)
    day_before = lapse.fromordinal(lapse.toordinal() - 1)
    r = screen(p, day_before)
    assert status(r, "exc-8") == "fail"
    assert result(r, "exc-8").eligible_from == lapse
    assert status(screen(p, lapse), "exc-8") == "pass"


def test_performed_period_start_is_the_date() -> None:
    r = screen(auto_sct("2026-10-01", period=True))
    assert status(r, "exc-8") == "fail"
    assert result(r, "exc-8").eligible_from == date(2027, 1, 1)


def test_latest_auto_sct_decides_eligible_from() -> None:
    p = auto_sct("2026-09-01")
    p.procedure(CPT, "38241", when="2026-10-15")
    assert result(screen(p), "exc-8").eligible_from == date(2027, 1, 15)


@pytest.mark.parametrize(("code", "kw"), [("38240", {}), ("38241", {"status": "not-done"}), ("38241", {"status": "entered-in-error"})])
def test_allogeneic_or_not_done_does_not_count(code: str, kw: dict[str, str]) -> None:
    assert status(screen(auto_sct("2026-11-01", CPT, code, **kw)), "exc-8") == "pass"


def test_auto_sct_after_as_of_is_ignored() -> None:
    assert status(screen(auto_sct("2026-11-26")), "exc-8") == "pass"


# --- exc-12: live vaccine within 28 days -------------------------------------------------------------


@pytest.mark.parametrize("cvx", ["02", "03", "19", "21", "25", "37", "75", "94", "111", "116", "119", "121", "149", "3", "2"])
def test_live_vaccines(cvx: str) -> None:
    p = patient()
    p.immunization(cvx, when="2026-11-11")
    r = screen(p)
    assert status(r, "exc-12") == "fail"
    assert result(r, "exc-12").eligible_from == date(2026, 12, 9)


@pytest.mark.parametrize("cvx", ["141", "140", "08", "133", "207", "208", "33", "115", "1", "20"])
def test_vaccines_that_are_not_live(cvx: str) -> None:
    p = patient()
    p.immunization(cvx, when="2026-11-11")
    assert status(screen(p), "exc-12") == "pass"


@pytest.mark.parametrize(("when", "expected", "lapse"), [("2026-10-28", "pass", None), ("2026-10-29", "fail", date(2026, 11, 26)), ("2026-11-25", "fail", date(2026, 12, 23))])
def test_vaccine_window_edge(when: str, expected: str, lapse: date | None) -> None:
    p = patient()
    p.immunization("21", when=when)
    r = screen(p)
    assert status(r, "exc-12") == expected
    assert result(r, "exc-12").eligible_from == lapse


@pytest.mark.parametrize("imm_status", ["not-done", "entered-in-error"])
def test_vaccine_not_given_does_not_count(imm_status: str) -> None:
    p = patient()
    p.immunization("21", when="2026-11-20", status=imm_status)
    assert status(screen(p), "exc-12") == "pass"


def test_vaccine_after_as_of_is_ignored() -> None:
    p = patient()
    p.immunization("21", when="2026-11-26")
    assert status(screen(p), "exc-12") == "pass"


def test_cvx_code_under_another_system_does_not_count() -> None:
    p = patient()
    res = p.immunization("21", when="2026-11-20")
    res["vaccineCode"]["coding"][0]["system"] = "http://snomed.info/sct"
    assert status(screen(p), "exc-12") == "pass"


# --- exc-14: major surgery within 28 days -------------------------------------------------------------


@pytest.mark.parametrize(("when", "expected", "lapse"), [("2026-10-28", "pass", None), ("2026-10-29", "fail", date(2026, 11, 26))])
def test_surgery_window_edge(when: str, expected: str, lapse: date | None) -> None:
    p = patient()
    p.procedure(CPT, "44140", when=when, category=SURGICAL)
    r = screen(p)
    assert status(r, "exc-14") == expected
    assert result(r, "exc-14").eligible_from == lapse


@pytest.mark.parametrize("code", ["38220", "38221", "38222", "36555", "36561", "36571", "62270", "11102", "11104", "11107"])
def test_minor_procedures_do_not_count(code: str) -> None:
    p = patient()
    p.procedure(CPT, code, when="2026-11-20", category=SURGICAL)
    assert status(screen(p), "exc-14") == "pass"


@pytest.mark.parametrize("code", ["38219", "38223", "36554", "36572", "62272", "11101", "11108", "47562"])
def test_procedures_next_to_the_minor_ranges_count(code: str) -> None:
    p = patient()
    p.procedure(CPT, code, when="2026-11-20", category=SURGICAL)
    assert status(screen(p), "exc-14") == "fail"


@pytest.mark.parametrize("category", [None, "103693007", "71388002"])
def test_procedures_not_categorised_surgical_do_not_count(category: str | None) -> None:
    p = patient()
    p.procedure(CPT, "44140", when="2026-11-20", category=category)
    assert status(screen(p), "exc-14") == "pass"


def test_surgery_not_done_does_not_count() -> None:
    p = patient()
    p.procedure(CPT, "44140", when="2026-11-20", category=SURGICAL, status="not-done")
    assert status(screen(p), "exc-14") == "pass"


# --- the patient's eligible_from -------------------------------------------------------------


def test_eligible_patient_baseline() -> None:
    for gender in ("male", "female"):
        r = screen(eligible_patient(gender=gender))
        assert r.verdict == "eligible", {k: v for k, v in r.statuses().items() if v != "pass"}
        assert r.eligible_from is None


def test_single_lapsing_exclusion_gives_the_patient_its_date() -> None:
    p = eligible_patient()
    p.procedure(CPT, "38241", when="2026-10-14")
    r = screen(p)
    assert r.verdict == "ineligible"
    assert r.eligible_from == date(2027, 1, 14)
    assert screen(p, date(2027, 1, 13)).verdict == "ineligible"


def test_patient_eligible_from_is_the_latest_of_its_criteria() -> None:
    p = eligible_patient()
    p.procedure(CPT, "38241", when="2026-10-14")
    p.immunization("21", when="2026-11-20")
    p.procedure(CPT, "44140", when="2026-11-10", category=SURGICAL)
    p.condition("I21.4", onset="2026-02-01")
    r = screen(p)
    assert {c.id: c.eligible_from for c in r.criteria if c.status == "fail"} == {
        "exc-5": date(2027, 2, 1), "exc-8": date(2027, 1, 14), "exc-12": date(2026, 12, 18), "exc-14": date(2026, 12, 8),
    }
    assert r.eligible_from == date(2027, 2, 1)


def test_a_failure_time_does_not_cure_means_no_patient_date() -> None:
    p = eligible_patient()
    p.procedure(CPT, "38241", when="2026-10-14")
    p.condition("I48.0", onset="2020-01-01")  # active AF
    assert screen(p).eligible_from is None


def test_failed_compound_criterion_has_no_date() -> None:
    p = eligible_patient()
    p.procedure(CPT, "38241", when="2026-10-14")
    p.observation("718-7", value=50, unit="g/L", when="2026-11-24")
    r = screen(p)
    assert status(r, "inc-6") == "fail"
    assert result(r, "inc-6").eligible_from is None
    assert r.eligible_from is None


def test_unknown_criteria_do_not_prevent_the_patient_date() -> None:
    p = eligible_patient()
    p.procedure(CPT, "38241", when="2026-10-14")
    p.condition("I50.9", onset="2020-01-01")  # heart failure, no NYHA: exc-5 unknown
    r = screen(p)
    assert status(r, "exc-5") == "unknown"
    assert r.verdict == "ineligible"
    assert r.eligible_from == date(2027, 1, 14)


def test_result_leaving_its_window_never_makes_a_date() -> None:
    p = eligible_patient()
    p.observation("6690-2", value=150, unit="10*9/L", when="2026-11-24")
    p.observation("718-7", value=50, unit="g/L", when="2026-11-24")
    r = screen(p)
    assert status(r, "exc-10") == "fail" and result(r, "exc-10").eligible_from is None
    assert result(r, "inc-6.hemoglobin").eligible_from is None
    assert r.eligible_from is None


def test_verdicts() -> None:
    assert screen(eligible_patient()).verdict == "eligible"
    p = eligible_patient()
    p.attestation({"inc-4": True, "inc-5.survival": True, "inc-8": True}, authored="2026-11-20")
    assert screen(p).verdict == "eligible"
    q = eligible_patient()
    q.attestation({"exc-16": True}, authored="2026-11-20")
    assert screen(q).verdict == "ineligible"
    bare = screen(patient(gender="male"))
    assert bare.verdict == "ineligible"  # no AML: inc-3 fails
    unknown_only = eligible_patient()
    unknown_only.observation("89247-1", value_string="??", when="2026-11-24", category="survey")
    assert screen(unknown_only).verdict == "needs_review"
    assert date(2026, 11, 25) == AS_OF


def test_contradicting_attestation_keeps_the_record_and_its_date() -> None:
    p = patient()
    p.procedure(CPT, "38241", when="2026-10-14")
    p.attestation({"exc-8": False}, authored="2026-11-20")
    r = screen(p)
    assert status(r, "exc-8") == "fail"
    assert result(r, "exc-8").eligible_from == date(2027, 1, 14)
    assert "record wins" in result(r, "exc-8").reason


def test_inc6_part_decided_by_attestation_counts_for_the_parent() -> None:
    p = eligible_patient()
    lvef = [res for res in p.resources() if res.get("code", {}).get("coding", [{}])[0].get("code") == "10230-1"]
    p._resources.remove(lvef[0])
    assert status(screen(p), "inc-6") == "unknown"
    p.attestation({"inc-6.lvef": True}, authored="2026-11-21")
    r = screen(p)
    assert status(r, "inc-6") == "pass" and r.verdict == "eligible"
