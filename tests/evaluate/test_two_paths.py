"""The evaluator's two paths agree: deciders (the screen) and checks (the explanations).

`Screener.screen` decides statuses, verdict and eligible_from without formatting a word and
explains on first read. These tests hold the two to the same answers, criterion by criterion
and part by part, and hold a report explained lazily to the report explained at once, on the
example patients, the Synthea bundles, a generated population, and random patients built
near every threshold and window edge. (Every spec case in this directory is checked the same
way through `evaluate_support.screen`.)
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from evaluate_support import AS_OF, SCREENER, same_both_ways
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trialscreen.fhir import PatientRecord, read_records
from trialscreen.fhir.builder import ATC, CPT, PatientBuilder, Resource
from trialscreen.fhir.read import PatientRecord as Record
from trialscreen.synth.generate import generate

ROOT = Path(__file__).resolve().parents[2]
SYNTHEA = ROOT / ".." / "shared" / "data" / "fhir" / "synthea"
EXAMPLES = ROOT / "examples" / "patients"
DAYS = [AS_OF, AS_OF - timedelta(days=400), AS_OF + timedelta(days=100)]


def _records(*paths: Path) -> list[PatientRecord]:
    return [item for item in read_records(list(paths)) if isinstance(item, PatientRecord)]


@pytest.mark.parametrize("path", sorted(EXAMPLES.glob("*.json")), ids=lambda p: p.stem)
def test_example_patients(path: Path) -> None:
    for rec in _records(path):
        for day in DAYS:
            same_both_ways(SCREENER, rec, day)


def test_synthea_bundles() -> None:
    records = _records(*sorted(SYNTHEA.glob("*.json")))
    assert records, f"no Synthea bundles under {SYNTHEA}"
    for rec in records:
        same_both_ways(SCREENER, rec, AS_OF)


def test_a_generated_population(tmp_path: Path) -> None:
    """The benchmark's kind of patient (about 40 resources each), on several days."""
    generate(150, seed=7, out=tmp_path, as_of=AS_OF, formats=("fhir",))
    records = _records(tmp_path / "fhir")
    assert len(records) == 150
    verdicts = set()
    for rec in records:
        for day in DAYS:
            same_both_ways(SCREENER, rec, day)
        verdicts.add(SCREENER.screen(rec, AS_OF).verdict)
    assert len(verdicts) > 1  # the population is varied enough to mean something


# --- random patients near every threshold and window edge --------------------------------------

DAY = st.integers(min_value=-800, max_value=40).map(lambda n: AS_OF + timedelta(days=n))
"""Event days: mostly before the as-of date, a few after it (which must be ignored)."""
CLOSE = st.sampled_from([AS_OF - timedelta(days=n) for n in (0, 1, 5, 6, 7, 8, 27, 28, 29, 89, 90, 91)])
"""A few shared days, so results tie and land on look-back edges."""
DATED = st.one_of(CLOSE.map(str), DAY.map(str))
WHEN = st.one_of(DATED, st.none())
STATUS = st.sampled_from(["active", "resolved", "remission", "relapse", "recurrence", "inactive", None])

CONDITIONS = ["C92.00", "C92.01", "C92.02", "C92.40", "C93.00", "I21.4", "I48.0", "I20.0", "I50.9", "G61.0", "B18.1",
              "B18.2", "B20", "A53.9", "A41.9", "F20.9", "F10.20", "Z94.0", "T78.2", "E88.3", "Z90.71", "I10", "G35"]
# (LOINC, unit or None for a coded result, low, high)
LABS: list[tuple[str, str | None, float, float]] = [
    ("1920-8", "U/L", 0, 200), ("1920-8", "ukat/L", 0, 3), ("1742-6", "U/L", 0, 200), ("1975-2", "mg/dL", 0, 5),
    ("1975-2", "umol/L", 0, 80), ("2160-0", "mg/dL", 0, 4), ("2160-0", "umol/L", 20, 300), ("2164-2", "mL/min", 20, 120),
    ("718-7", "g/L", 40, 160), ("718-7", "g/dL", 4, 16), ("59408-5", "%", 85, 100), ("10230-1", "%", 30, 70),
    ("30247-1", "{copies}/mL", 0, 2000), ("6690-2", "10*9/L", 1, 200), ("29463-7", "kg", 30, 120),
    ("89247-1", None, 0, 5), ("2118-8", None, 0, 1), ("5196-1", None, 0, 1), ("16128-1", None, 0, 1),
    ("7917-8", None, 0, 1), ("20507-0", None, 0, 1),
]
POSITIVE, NEGATIVE = "10828004", "260385009"


@st.composite
def random_patient(draw: st.DrawFn) -> tuple[Record, date]:
    birth = draw(st.sampled_from(["1950-03-01", "1956-11-25", "1971-06-15", "1980", "1980-06", "2008-11-26", "2008-11-25", None]))
    p = PatientBuilder("r", birth_date=birth, gender=draw(st.sampled_from(["male", "female", "other", None])))
    for code in draw(st.lists(st.sampled_from(CONDITIONS), max_size=4)):
        p.condition(code, onset=draw(WHEN), clinical_status=draw(STATUS), abatement=draw(st.one_of(st.none(), DAY.map(str))))
    for code, unit, low, high in draw(st.lists(st.sampled_from(LABS), max_size=8)):
        when = draw(DATED)
        ref_high = draw(st.one_of(st.none(), st.floats(min_value=low + 0.1, max_value=high + 1, allow_nan=False)))
        if unit is None and code == "89247-1":
            p.observation(code, value_integer=draw(st.integers(0, 5)), when=when, category="survey")
        elif unit is None:
            p.observation(code, value_code=draw(st.sampled_from([POSITIVE, NEGATIVE, "123"])), when=when)
        else:
            value = draw(st.floats(min_value=low, max_value=high, allow_nan=False))
            oxygen = [("3151-8", draw(st.sampled_from([0.0, 2.0])), "L/min")] if code == "59408-5" and draw(st.booleans()) else []
            p.observation(code, value=value, unit=unit, when=when, ref_high=ref_high, components=oxygen)
    for code in draw(st.lists(st.sampled_from(["38241", "92928", "44140", "62270"]), max_size=2)):
        done = p.procedure(CPT, code, when=draw(DATED), category=draw(st.sampled_from([None, "387713003"])))
        if draw(st.integers(0, 4)) == 0:  # now and then undated
            done.pop("performedDateTime", None)
            done.pop("performedPeriod", None)
    for cvx in draw(st.lists(st.sampled_from(["21", "03", "115"]), max_size=2)):
        p.immunization(cvx, when=draw(DATED))
    for atc in draw(st.lists(st.sampled_from(["L04AD02", "H02AB02", "J01CA04", "J05AB01"]), max_size=3)):
        route = draw(st.sampled_from([None, "26643006", "6064005"]))
        status = draw(st.sampled_from(["active", "completed", "stopped"]))
        end = draw(st.one_of(st.none(), DAY.map(str)))
        reason = draw(st.sampled_from([None, "169443000"]))
        if draw(st.booleans()):
            p.medication_statement(code=atc, system=ATC, route=route, status=status, start=draw(DATED), end=end, reason=reason)
        else:
            p.medication_request(code=atc, system=ATC, route=route, status=status, authored=draw(DATED), end=end, reason=reason)
    if draw(st.booleans()):
        p.allergy(code="91936005", criticality=draw(st.sampled_from([None, "high", "low"])),
                  severity=draw(st.sampled_from([None, "severe", "mild"])), recorded=draw(DATED))
    if draw(st.booleans()):
        p.consent(when=draw(DATED))
    answers = draw(st.dictionaries(st.sampled_from(["inc-4", "inc-5.survival", "inc-8", "exc-16", "inc-6.ast", "exc-7", "inc-1"]),
                                   st.booleans(), max_size=4))
    if answers:
        p.attestation(answers, authored=draw(CLOSE.map(str)))
    resources: list[Resource] = p.resources()
    observations = [r for r in resources if r["resourceType"] == "Observation"]
    if len(observations) > 1 and draw(st.integers(0, 5)) == 0:
        observations[-1]["id"] = observations[0]["id"]  # two results under one id (a malformed export)
    return Record.from_resources(resources, source="random"), draw(st.sampled_from(DAYS))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(random_patient())
def test_random_patients(case: tuple[Record, date]) -> None:
    rec, day = case
    same_both_ways(SCREENER, rec, day)


def test_a_report_explains_once_and_only_when_read() -> None:
    rec = _records(sorted(EXAMPLES.glob("*.json"))[0])[0]
    report = SCREENER.screen(rec, AS_OF)
    assert not report.explained
    assert report.verdict in ("eligible", "ineligible", "needs_review")
    first = report.criteria
    assert report.explained
    assert report.criteria is first  # built once, then kept


# --- an analyte's newest results: one window scan against the sorted reference --------------

ANALYTE_CODES = {"spo2": ["59408-5", "2708-6"], "creatinine": ["2160-0", "38483-4", "14682-9"], "ast": ["1920-8"]}
UNIT = {"spo2": "%", "creatinine": "mg/dL", "ast": "U/L"}


@st.composite
def analyte_history(draw: st.DrawFn) -> tuple[str, Record, str]:
    name = draw(st.sampled_from(sorted(ANALYTE_CODES)))
    p = PatientBuilder("h", birth_date="1970-01-01", gender="female")
    for _ in range(draw(st.integers(0, 7))):
        day = draw(CLOSE)
        stamp = f"{day}T{draw(st.sampled_from(['08:00:00Z', '08:00:00+02:00', '06:00:00Z']))}" if draw(st.booleans()) else str(day)
        oxygen = [("3151-8", draw(st.sampled_from([0.0, 2.0])), "L/min")] if name == "spo2" and draw(st.booleans()) else []
        res = p.observation(draw(st.sampled_from(ANALYTE_CODES[name])), value=draw(st.integers(1, 99)), unit=UNIT[name],
                            when=stamp, components=oxygen)
        res["id"] = draw(st.sampled_from(["a", "b", "c", "d", "e", "f", "g"]))  # ids repeat now and then
    return name, Record.from_resources(p.resources(), source="history"), draw(st.sampled_from(["P7D", "P28D", "P90D"]))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(analyte_history())
def test_newest_results_match_the_sorted_selection(case: tuple[str, Record, str]) -> None:
    from trialscreen.criteria import duration
    from trialscreen.evaluate.context import Context
    from trialscreen.evaluate.measurements import AnalyteReader
    from trialscreen.knowledge import knowledge

    name, rec, lookback = case
    kn = knowledge()
    reader = AnalyteReader(kn.analyte(name), kn)
    ctx = Context(rec.facts, AS_OF)
    reference = reader._select(ctx, duration.subtract(AS_OF, lookback))  # the one-pass definition
    assert reader.results(ctx, lookback) == reference
    newest = [o for o in reference if o.instant == reference[0].instant] if reference else []
    assert [id(o) for o in reader.newest(Context(rec.facts, AS_OF), lookback)] == [id(o) for o in newest]
