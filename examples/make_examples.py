"""Write the example patients for NCT06125652 as FHIR R4 Bundles, with their expected verdicts.

Run from the repository root: ``.venv/bin/python examples/make_examples.py``. It rewrites
``examples/patients/*.json``, ``examples/expected-verdicts.json`` and the table in
``examples/patients/README.md``. Every date is
relative to the fixed as-of date 2026-11-25, so screen them with ``--as-of 2026-11-25``.
The expected verdicts are reasoned from ``seed-trial-semantics.md``; each case says why.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path

from trialscreen.fhir import builder as fb
from trialscreen.fhir.builder import PatientBuilder

AS_OF = date(2026, 11, 25)
OUT = Path(__file__).resolve().parent / "patients"
EXPECTED = Path(__file__).resolve().parent / "expected-verdicts.json"
SURGICAL = "387713003"
PROPHYLAXIS = "169443000"
NEGATIVE = "260385009"
ORAL = "26643006"
TOPICAL = "6064005"


def ago(days: int) -> date:
    """The date ``days`` before the as-of date."""
    return AS_OF - timedelta(days=days)


def born(years: int, days_after_birthday: int = 100) -> date:
    """A birth date giving ``years`` completed years on the as-of date."""
    return date(AS_OF.year - years, AS_OF.month, AS_OF.day) - timedelta(days=days_after_birthday)


@dataclass
class Labs:
    """The required results of a well patient; each case changes what it needs."""

    when: date = field(default_factory=lambda: ago(3))
    ast: tuple[float, str, float] | None = (31.0, "U/L", 40.0)
    alt: tuple[float, str, float] | None = (27.0, "U/L", 41.0)
    bilirubin: tuple[float, str, float] | None = (0.8, "mg/dL", 1.2)
    creatinine: tuple[float, str, float | None] | None = (0.9, "mg/dL", 1.2)
    hemoglobin: tuple[float, str] | None = (92.0, "g/L")
    spo2: float | None = 97.0
    lvef: float | None = 58.0
    lvef_when: date = field(default_factory=lambda: ago(20))
    ecog: int | None = 1
    weight: float | None = 78.0
    wbc: float | None = 4.2
    wbc_when: date = field(default_factory=lambda: ago(2))


def add_labs(p: PatientBuilder, labs: Labs) -> None:
    """Chemistry, blood count, vitals, ECOG and negative serologies."""
    w = labs.when
    for loinc, item in (("1920-8", labs.ast), ("1742-6", labs.alt), ("1975-2", labs.bilirubin)):
        if item is not None:
            value, unit, high = item
            p.observation(loinc, value=value, unit=unit, when=w, ref_high=high)
    if labs.creatinine is not None:
        value, unit, c_high = labs.creatinine
        p.observation("2160-0", value=value, unit=unit, when=w, ref_high=c_high)
    if labs.hemoglobin is not None:
        p.observation("718-7", value=labs.hemoglobin[0], unit=labs.hemoglobin[1], when=w)
    if labs.wbc is not None:
        p.observation("6690-2", value=labs.wbc, unit="10*3/uL", when=labs.wbc_when)
    if labs.spo2 is not None:
        p.observation("59408-5", value=labs.spo2, unit="%", when=w, category="vital-signs")
    if labs.lvef is not None:
        p.observation("10230-1", value=labs.lvef, unit="%", when=labs.lvef_when, category="imaging")
    if labs.ecog is not None:
        p.observation("89247-1", value_integer=labs.ecog, when=w, category="survey")
    if labs.weight is not None:
        p.observation("29463-7", value=labs.weight, unit="kg", when=w, category="vital-signs")
    p.observation("5196-1", value_code=NEGATIVE, when=w)
    p.observation("16128-1", value_string="non-reactive", when=w)
    p.observation("7917-8", interpretation="NEG", value_string="negative", when=w)
    p.observation("20507-0", value_string="Non-Reactive", when=w)
    p.observation("30247-1", value_string="not detected", when=w)


def well_patient(
    pid: str,
    birth: date,
    gender: str,
    aml: str | None = "C92.02",
    labs: Labs | None = None,
    attest: dict[str, bool] | None = None,
    consent: bool = True,
) -> PatientBuilder:
    """A patient who passes every criterion unless the case changes something."""
    p = PatientBuilder(pid, birth_date=birth, gender=gender)
    if aml is not None:
        p.condition("C92.00", onset=ago(420), clinical_status="resolved", abatement=ago(300))
        p.condition(aml, onset=ago(40), recorded=ago(38))
    p.condition("E11.9", onset="2015-03-02")  # type 2 diabetes: not in any value set
    p.condition("G43.909", onset="2012-06-11")  # migraine: G43 is outside the CNS value set
    add_labs(p, labs if labs is not None else Labs())
    p.procedure(fb.CPT, "38221", ago(12), category=SURGICAL, display="Bone marrow biopsy")
    p.medication_request("519", text="allopurinol 300 MG Oral Tablet", route=ORAL, authored=ago(30), end=ago(-60))
    p.immunization("141", ago(20))  # inactivated influenza: not a live vaccine
    p.allergy("91936005", text="penicillin", criticality="low", severity="mild", recorded="2001-04-01")
    if consent:
        p.consent(ago(10), category=(fb.V3_ACT_CODE, "RESEARCH"))
    answers = {"inc-4": True, "inc-5.survival": True, "exc-16": False}
    if gender == "male" or (gender == "female" and _childbearing_age(birth)):
        answers["inc-8"] = True
    if attest is not None:
        answers = attest
    if answers:
        p.attestation(answers, authored=ago(1))
    return p


def _childbearing_age(birth: date) -> bool:
    age = AS_OF.year - birth.year - ((AS_OF.month, AS_OF.day) < (birth.month, birth.day))
    return age < 55


@dataclass(frozen=True)
class Case:
    """One example: how to build it, and what the spec says the screening must give."""

    name: str
    shows: str
    verdict: str
    eligible_from: str | None
    why: str
    statuses: dict[str, str]
    build: Callable[[str], PatientBuilder]


def eligible(pid: str) -> PatientBuilder:
    return well_patient(pid, born(45), "male")


def needs_review(pid: str) -> PatientBuilder:
    return well_patient(pid, born(52), "male", labs=Labs(ecog=None), attest={})


def apl(pid: str) -> PatientBuilder:
    return well_patient(pid, born(38), "male", aml="C92.41")


def bilirubin(pid: str) -> PatientBuilder:
    return well_patient(pid, born(61), "male", labs=Labs(bilirubin=(2.4, "mg/dL", 1.2)))


def si_units(pid: str) -> PatientBuilder:
    labs = Labs(
        ast=(0.5, "ukat/L", 0.67),
        bilirubin=(15.0, "umol/L", 21.0),
        creatinine=(140.0, "umol/L", 120.0),
        hemoglobin=(9.5, "g/dL"),
        weight=None,
    )
    return well_patient(pid, born(58), "female", labs=labs)


def childbearing(pid: str) -> PatientBuilder:
    p = well_patient(pid, born(32), "female")
    p.observation("2106-3", value_code=NEGATIVE, when=ago(2))
    return p


def auto_sct(pid: str) -> PatientBuilder:
    p = well_patient(pid, born(49), "male")
    p.procedure(fb.CPT, "38241", ago(42), display="Autologous hematopoietic cell transplant")
    return p


def live_vaccine(pid: str) -> PatientBuilder:
    p = well_patient(pid, born(40), "male")
    p.immunization("21", ago(14))  # varicella, live
    return p


def recent_mi(pid: str) -> PatientBuilder:
    p = well_patient(pid, born(63), "male")
    p.condition("I21.4", onset=date(2026, 6, 25), clinical_status="resolved", abatement=date(2026, 7, 20))
    p.procedure(fb.SNOMED, "36969009", date(2025, 2, 3), display="Coronary stent placement")
    return p


def cockcroft_gault(pid: str) -> PatientBuilder:
    labs = Labs(creatinine=(1.9, "mg/dL", 1.2), weight=95.0)
    return well_patient(pid, born(30), "male", labs=labs)


def spo2_on_oxygen(pid: str) -> PatientBuilder:
    p = well_patient(pid, born(55), "male", labs=Labs(spo2=None))
    p.observation("59408-5", value=89.0, unit="%", when=ago(5), category="vital-signs")
    p.observation(
        "59408-5",
        value=97.0,
        unit="%",
        when=ago(3),
        category="vital-signs",
        components=[("3150-0", 0.4, "1")],
    )
    p.observation(
        "59408-5",
        value=98.0,
        unit="%",
        when=ago(1),
        category="vital-signs",
        components=[("3151-8", 2.0, "L/min")],
    )
    return p


def refractory_attested(pid: str) -> PatientBuilder:
    answers = {"inc-3": True, "inc-4": True, "inc-5.survival": True, "inc-8": True, "exc-16": False}
    return well_patient(pid, born(44), "male", aml="C92.00", attest=answers)


def refractory_unattested(pid: str) -> PatientBuilder:
    return well_patient(pid, born(44), "male", aml="C92.00")


def seventy_one_today(pid: str) -> PatientBuilder:
    return well_patient(pid, born(71, days_after_birthday=0), "male")


def window_edges(pid: str) -> PatientBuilder:
    labs = Labs(when=ago(28), lvef_when=ago(90), wbc_when=ago(7))
    return well_patient(pid, born(70, days_after_birthday=364), "male", labs=labs)


def prophylaxis_and_topical(pid: str) -> PatientBuilder:
    p = well_patient(pid, born(36), "female", labs=Labs())
    p.observation("2118-8", value_string="Negative", when=ago(1))
    p.medication_request(
        "J02AC01",
        system=fb.ATC,
        text="fluconazole 200 MG Oral Tablet",
        route=ORAL,
        authored=ago(20),
        reason=PROPHYLAXIS,
    )
    p.medication_statement("5492", text="hydrocortisone 1 % Topical Cream", route=TOPICAL, start=ago(30))
    p.medication_request(
        "42316",
        text="tacrolimus 1 MG Oral Capsule",
        route=ORAL,
        status="stopped",
        authored="2024-01-10",
        end="2024-06-10",
    )
    return p


def hyperleukocytosis(pid: str) -> PatientBuilder:
    return well_patient(pid, born(57), "male", labs=Labs(wbc=125.0))


def surgery_and_vaccine(pid: str) -> PatientBuilder:
    p = well_patient(pid, born(47), "male")
    p.procedure(fb.CPT, "47562", ago(10), category=SURGICAL, display="Laparoscopic cholecystectomy")
    p.immunization("03", ago(20))  # MMR, live
    return p


def lapsing_and_lasting(pid: str) -> PatientBuilder:
    p = well_patient(pid, born(50), "male")
    p.procedure(fb.CPT, "38241", ago(42), display="Autologous hematopoietic cell transplant")
    p.condition("B18.2", onset="2019-05-02")  # chronic hepatitis C, active
    return p


def old_hcg(pid: str) -> PatientBuilder:
    p = well_patient(pid, born(30), "female")
    p.observation("2106-3", value_code=NEGATIVE, when=ago(9))
    return p


def hysterectomy(pid: str) -> PatientBuilder:
    answers = {"inc-4": True, "inc-5.survival": True, "exc-16": False}
    p = well_patient(pid, born(40), "female", attest=answers)
    p.condition("Z90.710", onset="2018-09-12", clinical_status=None)
    return p


def heart_failure(pid: str) -> PatientBuilder:
    p = well_patient(pid, born(66), "male")
    p.condition("I50.22", onset="2024-03-01")
    p.observation("88020-3", value_string="Class III", when=ago(60), category="survey")
    return p


CASES: list[Case] = [
    Case(
        "01-eligible-relapsed-aml",
        "Adult (45, male) with AML in relapse (C92.02); every lab "
        "in range within its window; research consent; attestations inc-4, inc-5.survival, "
        "inc-8 true and exc-16 false. Distractors that must not count: old resolved C92.00, "
        "migraine G43.909, bone-marrow biopsy (minor, CPT 38221) 12 days ago, inactivated "
        "flu vaccine (CVX 141), mild low-criticality penicillin allergy, allopurinol.",
        "eligible",
        None,
        "Every criterion passes; closed world for the exclusions.",
        {"inc-3": "pass", "inc-7": "pass", "exc-14": "pass", "exc-4": "pass"},
        eligible,
    ),
    Case(
        "02-needs-review",
        "Same well patient but no ECOG result and no attestation.",
        "needs_review",
        None,
        "inc-4, inc-5 (ECOG and survival), inc-8 and exc-16 are unknown; nothing fails.",
        {
            "inc-4": "unknown",
            "inc-5.ecog": "unknown",
            "inc-5.survival": "unknown",
            "inc-5": "unknown",
            "inc-8": "unknown",
            "exc-16": "unknown",
        },
        needs_review,
    ),
    Case(
        "03-ineligible-apl",
        "Acute promyelocytic leukemia in remission (C92.41) instead of relapsed AML.",
        "ineligible",
        None,
        "exc-1 fails (C92.4, any status); inc-3 fails too because APL is not AML here, so there is no AML condition.",
        {"exc-1": "fail", "inc-3": "fail"},
        apl,
    ),
    Case(
        "04-ineligible-bilirubin",
        "Total bilirubin 2.4 mg/dL with reference high 1.2.",
        "ineligible",
        None,
        "2.4 mg/dL is 2.0 x ULN, above 1.5 x ULN: inc-6.bilirubin "
        "fails, so inc-6 fails. No window, so no eligible_from.",
        {"inc-6.bilirubin": "fail", "inc-6": "fail"},
        bilirubin,
    ),
    Case(
        "05-si-units",
        "Woman of 58 (not of childbearing potential by age) with labs in SI "
        "units: AST 0.5 ukat/L (ref 0.67), bilirubin 15 umol/L (ref 21), creatinine "
        "140 umol/L (ref 120 umol/L), hemoglobin 9.5 g/dL; no body weight.",
        "eligible",
        None,
        "AST 30 U/L <= 3 x 40.2; bilirubin 0.88 mg/dL <= 1.5 x 1.23; hemoglobin 95 g/L "
        ">= 60. Creatinine is 1.17 x its own ULN (<= 1.5) so renal passes; with the default "
        "female ULN 1.0 mg/dL it would be 1.58 x and, with no weight for Cockcroft-Gault, "
        "unknown: the reference range decides. inc-7 and inc-8 are not applicable.",
        {"inc-6.renal": "pass", "inc-6.hemoglobin": "pass", "inc-7": "pass", "inc-8": "pass"},
        si_units,
    ),
    Case(
        "06-childbearing-negative-hcg",
        "Woman of 32 with a negative urine hCG (2106-3, SNOMED Negative) 2 days ago and the contraception attestation.",
        "eligible",
        None,
        "Of childbearing potential (female, < 55, no hysterectomy/menopause): the hCG within "
        "7 days is negative so inc-7 passes; inc-8 attested true.",
        {"inc-7": "pass", "inc-8": "pass"},
        childbearing,
    ),
    Case(
        "07-lapsing-auto-sct",
        "Autologous stem-cell transplant (CPT 38241) on 2026-10-14, 6 weeks before the as-of date.",
        "ineligible",
        "2027-01-14",
        "exc-8 fails: 2026-10-14 + 3 months = 2027-01-14 > 2026-11-25. It is the only "
        "failure and it has a window, so the patient's eligible_from is 2027-01-14.",
        {"exc-8": "fail", "exc-14": "pass"},
        auto_sct,
    ),
    Case(
        "08-live-vaccine",
        "Varicella vaccine (CVX 21, live) on 2026-11-11, 2 weeks ago.",
        "ineligible",
        "2026-12-09",
        "exc-12 fails: 2026-11-11 + 28 days = 2026-12-09.",
        {"exc-12": "fail"},
        live_vaccine,
    ),
    Case(
        "09-recent-mi",
        "Acute MI (I21.4) with onset 2026-06-25, resolved 2026-07-20; a "
        "coronary stent (SNOMED 36969009) on 2025-02-03, outside 12 months.",
        "ineligible",
        "2027-06-25",
        "exc-5 fails: an MI counts by its date alone, whatever its status; "
        "2026-06-25 + 12 months = 2027-06-25. The 2025 stent is outside the window.",
        {"exc-5": "fail"},
        recent_mi,
    ),
    Case(
        "10-renal-cockcroft-gault",
        "Man of 30, 95 kg, creatinine 1.9 mg/dL (ref high 1.2).",
        "eligible",
        None,
        "Creatinine is 1.58 x ULN (> 1.5), but no measured clearance, so "
        "Cockcroft-Gault: (140 - 30) x 95 / (72 x 1.9) = 76.4 mL/min >= 60, so inc-6.renal "
        "passes.",
        {"inc-6.renal": "pass"},
        cockcroft_gault,
    ),
    Case(
        "11-spo2-on-oxygen",
        "Three SpO2 results: 98 % yesterday on 2 L/min oxygen (3151-8), "
        "97 % 3 days ago at FiO2 0.4 (3150-0, unit 1 = 40 %), 89 % 5 days ago on room air.",
        "ineligible",
        None,
        "The two results on supplemental oxygen are set aside; the "
        "latest room-air SpO2 is 89 % < 92 %, so inc-6.spo2 fails. Read naively (latest), it "
        "would pass.",
        {"inc-6.spo2": "fail"},
        spo2_on_oxygen,
    ),
    Case(
        "12-refractory-attested",
        "AML not in remission (C92.00, active) with no relapse coding; attestation inc-3 true (refractory).",
        "eligible",
        None,
        "C92.00 is neither relapsed nor in remission, so the record leaves inc-3 unknown; "
        "the attestation decides it: pass.",
        {"inc-3": "pass"},
        refractory_attested,
    ),
    Case(
        "13-refractory-unattested",
        "The same C92.00 patient without the inc-3 attestation.",
        "needs_review",
        None,
        "inc-3 is unknown: relapsed or refractory status not recorded.",
        {"inc-3": "unknown"},
        refractory_unattested,
    ),
    Case(
        "14-age-71-today",
        "Otherwise eligible man whose 71st birthday is the as-of date.",
        "ineligible",
        None,
        "Age 71 > 70: inc-2 fails; ages are not a window, so no eligible_from.",
        {"inc-2": "fail"},
        seventy_one_today,
    ),
    Case(
        "15-window-edges",
        "Man of 70 whose 71st birthday is tomorrow; labs, ECOG, SpO2, "
        "weight and serologies dated exactly 28 days before (2026-10-28), LVEF exactly 90 days "
        "before (2026-08-27), WBC exactly 7 days before (2026-11-18).",
        "eligible",
        None,
        "A 70-year-old passes until the 71st birthday; the first day of each look-back window "
        "is included, so every result counts.",
        {"inc-2": "pass", "inc-6.lvef": "pass", "inc-5.ecog": "pass"},
        window_edges,
    ),
    Case(
        "16-prophylaxis-and-topical",
        "Woman of 36 with a negative serum hCG ('Negative' as "
        "text) yesterday, oral fluconazole (ATC J02AC01) with reasonCode prophylaxis, topical "
        "hydrocortisone cream, and tacrolimus stopped in 2024.",
        "eligible",
        None,
        "exc-11: the antifungal is prophylaxis, so it does not need confirming; exc-7: "
        "hydrocortisone is topical (not systemic) and tacrolimus is not active.",
        {"exc-7": "pass", "exc-11": "pass", "inc-7": "pass"},
        prophylaxis_and_topical,
    ),
    Case(
        "17-hyperleukocytosis",
        "WBC 125 x 10^9/L (10*3/uL) 2 days ago.",
        "ineligible",
        None,
        "exc-10 fails: the latest WBC within 7 days is >= 100 x 10^9/L (hyperleukocytosis). "
        "exc-10 has no eligible_from.",
        {"exc-10": "fail"},
        hyperleukocytosis,
    ),
    Case(
        "18-surgery-and-live-vaccine",
        "Laparoscopic cholecystectomy (CPT 47562, category surgical) on 2026-11-15 and MMR "
        "(CVX 03, live) on 2026-11-05.",
        "ineligible",
        "2026-12-13",
        "exc-14 fails until 2026-11-15 + 28 days = 2026-12-13 (not a minor procedure); exc-12 "
        "until 2026-11-05 + 28 days = 2026-12-03. Both failures have a window, so the "
        "patient's eligible_from is the later one.",
        {"exc-14": "fail", "exc-12": "fail"},
        surgery_and_vaccine,
    ),
    Case(
        "19-lapsing-and-lasting",
        "Auto-SCT (CPT 38241) on 2026-10-14 and active chronic hepatitis C (B18.2) with a negative HCV antibody test.",
        "ineligible",
        None,
        "exc-8 fails with eligible_from 2027-01-14, but exc-3.hcv fails too (an active B18.2 "
        "fails whatever the test says) and time does not cure it, so the patient has no "
        "eligible_from.",
        {"exc-8": "fail", "exc-3.hcv": "fail", "exc-3": "fail"},
        lapsing_and_lasting,
    ),
    Case(
        "20-childbearing-old-hcg",
        "Woman of 30 whose only hCG (negative) is 9 days old.",
        "needs_review",
        None,
        "Of childbearing potential, and no hCG within the 7-day look-back: inc-7 is unknown "
        "(a pregnancy test is never assumed).",
        {"inc-7": "unknown", "inc-8": "pass"},
        old_hcg,
    ),
    Case(
        "21-after-hysterectomy",
        "Woman of 40 with Z90.710 (acquired absence of cervix and uterus, no clinical "
        "status), no pregnancy test and no contraception attestation.",
        "eligible",
        None,
        "Not of childbearing potential (Z90.71, any status): inc-7 and inc-8 are not "
        "applicable, so they pass without a test or an attestation.",
        {"inc-7": "pass", "inc-8": "pass"},
        hysterectomy,
    ),
    Case(
        "22-heart-failure-nyha-3",
        "Active chronic systolic heart failure (I50.22, onset 2024) with NYHA 'Class III' 60 days ago.",
        "ineligible",
        None,
        "exc-5 fails: heart failure with NYHA >= II that is active on the as-of date; while it "
        "counts because it is active there is no eligible_from.",
        {"exc-5": "fail"},
        heart_failure,
    ),
]


def readme_table() -> str:
    rows = ["| file | what it shows | verdict | eligible_from | why |", "|---|---|---|---|---|"]
    for c in CASES:
        rows.append(f"| `{c.name}.json` | {c.shows} | **{c.verdict}** | {c.eligible_from or '-'} | {c.why} |")
    return "\n".join(rows)


README_HEAD = """# Example patients for NCT06125652

FHIR R4 Bundles (type collection), one per file, written by `examples/make_examples.py`
(`.venv/bin/python examples/make_examples.py` rewrites them, `../expected-verdicts.json`
and this file).
Every date is relative to the fixed **as-of date 2026-11-25**: screen them with
`--as-of 2026-11-25`, e.g.

    trialscreen screen --trial NCT06125652 --as-of 2026-11-25 examples/patients/
    trialscreen screen -t NCT06125652 --as-of 2026-11-25 examples/patients/07-lapsing-auto-sct.json

The verdicts below are reasoned from `seed-trial-semantics.md` (the project's contract); the
screening of each file must give them (the evaluator was checked against them).
`../expected-verdicts.json` holds the same in machine form, with the status of the
criteria each case is about.

Unless a case says otherwise, every patient has: an AML diagnosis C92.02 (40 days ago; an
earlier C92.00 resolved), AST, ALT, bilirubin, creatinine (ULN from the result's reference
range), hemoglobin, SpO2 on room air, ECOG 1 and body weight 3 days ago, LVEF 58 % 20 days
ago, WBC 4.2 x 10^9/L 2 days ago, negative HBsAg, HCV, HIV and syphilis serologies and CMV DNA
not detected, an active research Consent 10 days ago, and a QuestionnaireResponse the day
before with inc-4, inc-5.survival and exc-16 (and inc-8 for men and for women under 55).

"""


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    expected: dict[str, dict[str, object]] = {}
    for case in CASES:
        bundle = case.build(case.name).bundle()
        (OUT / f"{case.name}.json").write_text(json.dumps(bundle, indent=2) + "\n")
        expected[f"{case.name}.json"] = {
            "as_of": AS_OF.isoformat(),
            "verdict": case.verdict,
            "eligible_from": case.eligible_from,
            "criteria": case.statuses,
        }
    EXPECTED.write_text(json.dumps(expected, indent=2) + "\n")
    (OUT / "README.md").write_text(README_HEAD + readme_table() + "\n")
    print(f"wrote {len(CASES)} example patients to {OUT}")


if __name__ == "__main__":
    main()
