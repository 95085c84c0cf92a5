"""Draw one chunk of a synthetic population as column arrays (numpy, vectorised).

A chunk is everything about a block of consecutive persons: who they are and every fact
recorded about them, as parallel arrays per kind of fact. Dates are offsets in days before
the as-of date (negative: after it). Both writers (OMOP and FHIR) read the same chunk, so
the two outputs hold the same persons and facts. A chunk depends only on (seed, chunk
number, first person id, size, as-of), never on other chunks.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np

from trialscreen.synth.catalogue import Analyte, Catalogue

GENDERS = ("male", "female", "other", "unknown")
RACES = ("white", "black", "asian", "native", "pacific", "unknown")
CLINICAL = ("active", "recurrence", "relapse", "remission", "inactive", "resolved", "")
VERIFICATION = ("confirmed", "", "provisional", "unconfirmed", "refuted", "entered-in-error")
OBS_STATUS = ("final", "amended", "corrected", "preliminary", "entered-in-error", "cancelled")
PROC_STATUS = ("completed", "in-progress", "not-done", "entered-in-error", "stopped")
MED_STATUS = ("active", "on-hold", "stopped", "completed", "entered-in-error")
IMM_STATUS = ("completed", "not-done", "entered-in-error")
CRITICALITY = ("", "low", "high", "unable-to-assess")
SEVERITY = ("", "mild", "moderate", "severe")
ALLERGY_CLINICAL = ("active", "inactive", "resolved")
ALLERGY_VERIFICATION = ("confirmed", "unconfirmed", "refuted", "entered-in-error")
CONSENT_STATUS = ("active", "inactive", "rejected", "proposed")
CONSENT_FORM = ("research", "privacy+research-category", "treatment")
QR_STATUS = ("completed", "in-progress", "amended", "entered-in-error")
EFFECTIVE = ("dateTime", "period", "issued")

SHOWCASE_MIN = 2000
"""A chunk of at least this many persons holds every catalogue entry (diagnosis, procedure,
medicine, vaccine, allergen, AML phase) at least once, whatever its prevalence, so every
code the seed trial reads occurs in any population of a few thousand persons."""

# value kinds of a result row
V_NONE, V_QUANTITY, V_INTEGER, V_CODE, V_STRING, V_INTERP = range(6)
# polarity of a qualitative row
P_NA, P_POS, P_NEG, P_UNREADABLE = range(4)


@dataclass
class Persons:
    person_id: np.ndarray  # int64
    gender: np.ndarray  # int8 index into GENDERS
    birth: np.ndarray  # datetime64[D]
    age: np.ndarray  # int16, completed years on the as-of date
    race: np.ndarray  # int8 index into RACES
    hispanic: np.ndarray  # bool
    cohort: np.ndarray  # int8: 0 general, 1 AML
    workup: np.ndarray  # bool: referred for trial screening (AML only)


@dataclass
class Conditions:
    person: np.ndarray  # int64 index into the chunk's persons
    entry: np.ndarray  # int32 index into Catalogue.conditions + aml_phases
    onset: np.ndarray  # int32 offset days; has_onset says whether it is written
    has_onset: np.ndarray
    recorded: np.ndarray  # int32 offset days (valid where has_recorded)
    has_recorded: np.ndarray
    abatement: np.ndarray  # int32 offset days (valid where has_abatement)
    has_abatement: np.ndarray
    clinical: np.ndarray  # int8 into CLINICAL
    verification: np.ndarray  # int8 into VERIFICATION


@dataclass
class Results:
    person: np.ndarray
    analyte: np.ndarray  # int16 index into Catalogue.analytes
    code: np.ndarray  # int8 index into the analyte's codes
    day: np.ndarray  # int32 offset days
    second: np.ndarray  # int32 seconds after midnight
    kind: np.ndarray  # int8 V_*
    value: np.ndarray  # float64, written value (quantity, in the written unit) or NaN
    unit: np.ndarray  # int8 index into the analyte's units, -1 none
    ref: np.ndarray  # float64 reference high in the written unit, NaN none
    integer: np.ndarray  # int16 (ordinal levels), -1 none
    text: np.ndarray  # int16 index into Population.strings (code, string), -1 none
    polarity: np.ndarray  # int8 P_*
    status: np.ndarray  # int8 into OBS_STATUS
    effective: np.ndarray  # int8 into EFFECTIVE
    o2_kind: np.ndarray  # int8 index into Catalogue.oxygen, -1 none
    o2_value: np.ndarray  # float64


@dataclass
class Procedures:
    person: np.ndarray
    entry: np.ndarray
    day: np.ndarray
    status: np.ndarray
    period: np.ndarray  # bool: performedPeriod instead of performedDateTime


@dataclass
class Medicines:
    person: np.ndarray
    entry: np.ndarray
    route: np.ndarray  # int8 index into the entry's routes
    start: np.ndarray
    end: np.ndarray
    status: np.ndarray
    reason: np.ndarray  # int8 index into antimicrobial_reasons, -1 none


@dataclass
class Vaccinations:
    person: np.ndarray
    entry: np.ndarray
    day: np.ndarray
    status: np.ndarray


@dataclass
class Allergies:
    person: np.ndarray
    entry: np.ndarray
    day: np.ndarray
    criticality: np.ndarray
    severity: np.ndarray
    clinical: np.ndarray
    verification: np.ndarray


@dataclass
class Consents:
    person: np.ndarray
    day: np.ndarray
    status: np.ndarray
    form: np.ndarray


@dataclass
class Responses:
    person: np.ndarray
    day: np.ndarray
    second: np.ndarray
    status: np.ndarray
    nested: np.ndarray
    answers: np.ndarray  # int8 (rows, len(attest_ids)): 0 absent, 1 true, 2 false


@dataclass
class Chunk:
    persons: Persons
    conditions: Conditions
    results: Results
    procedures: Procedures
    medicines: Medicines
    vaccinations: Vaccinations
    allergies: Allergies
    consents: Consents
    responses: Responses


def value_strings(cat: Catalogue) -> tuple[str, ...]:
    """Every coded or free-text value a result can carry, indexed by Results.text.

    Codes are written as "system|code"; plain strings as themselves.
    """
    out: list[str] = []
    for f in (*cat.positive_forms, *cat.negative_forms):
        if f.code is not None:
            out.append(f"snomed|{f.code}")
        elif f.string is not None:
            out.append(f.string)
    out += list(cat.unreadable_strings)
    out.append("Detected")
    for a in cat.analytes:
        out += [f"loinc|{x}" for x in a.answers]
        out += list(a.strings)
    return tuple(dict.fromkeys(out))


def _choice(rng: np.random.Generator, weights: np.ndarray, size: int) -> np.ndarray:
    """Categorical draws by cumulative weights (fast, vectorised)."""
    cdf = np.cumsum(weights) / np.sum(weights)
    cdf[-1] = 1.0
    return np.searchsorted(cdf, rng.random(size), side="right").astype(np.int16)


def _offsets(
    rng: np.random.Generator,
    size: int,
    p_recent: np.ndarray | float,
    recent_days: int,
    history: int,
    future: float,
) -> np.ndarray:
    """Days before the as-of date: recent ones near it, the rest over the history,
    a few after it."""
    recent = rng.random(size) < p_recent
    out = np.where(
        recent,
        rng.integers(0, recent_days + 1, size),
        rng.integers(0, history + 1, size),
    )
    ahead = rng.random(size) < future
    out = np.where(ahead, -rng.integers(1, 61, size), out)
    return out.astype(np.int32)


def _bernoulli_pairs(
    rng: np.random.Generator, probs: np.ndarray, cohort: np.ndarray, mask: np.ndarray | None
) -> tuple[np.ndarray, np.ndarray]:
    """Which (person, entry) pairs occur, given per-cohort probabilities (2, K)."""
    p = probs[cohort]  # (n, K)
    if mask is not None:
        p = p * mask
    hit = rng.random(p.shape) < p
    if len(cohort) >= SHOWCASE_MIN:
        for k in np.nonzero(~hit.any(axis=0) & (p > 0).any(axis=0))[0]:
            candidates = np.nonzero(p[:, k] > 0)[0]
            hit[candidates[rng.integers(len(candidates))], k] = True
    person, entry = np.nonzero(hit)
    return person.astype(np.int64), entry.astype(np.int32)


def _ensure_each(rng: np.random.Generator, picks: np.ndarray, options: int, persons: int) -> None:
    """In a chunk of SHOWCASE_MIN persons or more, make every option occur at least once,
    overwriting picks of options that occur more than once."""
    if persons < SHOWCASE_MIN:
        return
    counts = np.bincount(picks, minlength=options)
    for k in np.nonzero(counts == 0)[0]:
        spare = np.nonzero(counts[picks] > 1)[0]
        if len(spare) == 0:
            return
        at = spare[rng.integers(len(spare))]
        counts[picks[at]] -= 1
        picks[at] = k
        counts[k] += 1


def _persons(rng: np.random.Generator, first_id: int, n: int, cat: Catalogue, as_of: date) -> Persons:
    cohort = (rng.random(n) < cat.aml_fraction).astype(np.int8)
    gender = _choice(rng, np.array([0.49, 0.5, 0.005, 0.005]), n).astype(np.int8)
    adult = np.clip(rng.normal(52, 19, n), 18, 99)
    child = rng.uniform(0, 18, n)
    general_age = np.where(rng.random(n) < 0.12, child, adult)
    aml_age = np.where(rng.random(n) < 0.03, rng.uniform(1, 18, n), np.clip(rng.normal(63, 14, n), 18, 95))
    age = np.floor(np.where(cohort == 1, aml_age, general_age)).astype(np.int16)
    extra = rng.integers(0, 365, n)
    as_of_d = np.datetime64(as_of, "D")
    years_back = (as_of.year - age).astype(np.int64)
    anniv = (years_back - 1970).astype("datetime64[Y]").astype("datetime64[D]")
    # the birthday in that year, shifted back by 0..364 days: completed years stay `age`
    month_day = as_of_d - np.datetime64(as_of.replace(month=1, day=1), "D")
    birth = anniv + month_day - extra
    # recompute completed years exactly (leap days can shift one)
    age = _completed_years(birth, as_of)
    return Persons(
        person_id=np.arange(first_id, first_id + n, dtype=np.int64),
        gender=gender,
        birth=birth,
        age=age,
        race=_choice(rng, np.array([0.6, 0.14, 0.08, 0.01, 0.005, 0.165]), n).astype(np.int8),
        hispanic=rng.random(n) < 0.15,
        cohort=cohort,
        workup=(cohort == 1) & (rng.random(n) < cat.workup.p),
    )


def _completed_years(birth: np.ndarray, as_of: date) -> np.ndarray:
    y = birth.astype("datetime64[Y]").astype(np.int64) + 1970
    m = birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (birth - birth.astype("datetime64[M]").astype("datetime64[D]")).astype(np.int64) + 1
    before = (m > as_of.month) | ((m == as_of.month) & (d > as_of.day))
    return (as_of.year - y - before.astype(np.int64)).astype(np.int16)


def _conditions(rng: np.random.Generator, ps: Persons, cat: Catalogue) -> Conditions:
    entries = cat.conditions
    probs = np.stack([e.p for e in entries], axis=1)  # (2, K)
    female = ps.gender == 1
    male = ps.gender == 0
    mask = np.ones((len(ps.person_id), len(entries)))
    for k, e in enumerate(entries):
        if e.sex == "female":
            mask[:, k] *= female
        elif e.sex == "male":
            mask[:, k] *= male
        if e.min_age:
            mask[:, k] *= ps.age >= e.min_age
    person, entry = _bernoulli_pairs(rng, probs, ps.cohort, mask)
    aml_people = np.nonzero(ps.cohort == 1)[0].astype(np.int64)
    phase = _choice(rng, cat.aml_phase_weights, len(aml_people)).astype(np.int32)
    _ensure_each(rng, phase, len(cat.aml_phases), len(ps.person_id))
    person = np.concatenate([person, aml_people])
    entry = np.concatenate([entry, len(entries) + phase])
    order = np.argsort(person, kind="stable")
    person, entry = person[order], entry[order]
    m = len(person)
    all_entries = (*entries, *cat.aml_phases)
    course = np.array([{"chronic": 0, "acute": 1, "history": 2}[e.course] for e in all_entries], dtype=np.int8)[entry]
    is_phase = entry >= len(entries)
    hist = cat.history_days
    onset = np.select(
        [is_phase, course == 0, course == 1],
        [
            rng.integers(3, 721, m),
            rng.integers(0, 3651, m),
            np.where(rng.random(m) < 0.35, rng.integers(0, 401, m), rng.integers(0, hist + 1, m)),
        ],
        rng.integers(30, 3651, m),
    ).astype(np.int32)
    ahead = rng.random(m) < cat.future_fraction
    onset = np.where(ahead, -rng.integers(1, 61, m), onset).astype(np.int32)
    clinical_w = np.array(
        [
            [0.88, 0.0, 0.0, 0.01, 0.04, 0.03, 0.04],  # chronic
            [0.35, 0.02, 0.0, 0.0, 0.05, 0.55, 0.03],  # acute
            [0.5, 0.0, 0.0, 0.0, 0.1, 0.3, 0.1],  # history
            [0.8, 0.02, 0.07, 0.06, 0.0, 0.0, 0.05],  # AML phase
        ]
    )
    group = np.where(is_phase, 3, course)
    clinical = np.empty(m, dtype=np.int8)
    for g in range(4):
        sel = group == g
        clinical[sel] = _choice(rng, clinical_w[g], int(sel.sum()))
    status_name = np.array(CLINICAL)[clinical]
    p_abate = np.select(
        [status_name == "resolved", status_name == "inactive", status_name == "remission"],
        [1.0, 0.5, 0.3],
        0.0,
    )
    has_abatement = rng.random(m) < p_abate
    abatement = (onset - rng.integers(7, 366, m)).astype(np.int32)
    has_onset = rng.random(m) >= 0.03
    has_recorded = (rng.random(m) < 0.7) | ~has_onset
    recorded = (onset - rng.integers(0, 11, m)).astype(np.int32)
    verification = _choice(rng, np.array([0.85, 0.08, 0.03, 0.02, 0.015, 0.005]), m).astype(np.int8)
    return Conditions(
        person, entry, onset, has_onset, recorded, has_recorded, abatement, has_abatement, clinical, verification
    )


def _results(
    rng: np.random.Generator,
    ps: Persons,
    conds: Conditions,
    cat: Catalogue,
    strings: tuple[str, ...],
) -> Results:
    n = len(ps.person_id)
    # blood draws a person had (the catalogue's means), more with AML
    draws = rng.poisson(cat.blood_draws[ps.cohort]) + 1
    d_person = np.repeat(np.arange(n, dtype=np.int64), draws)
    nd = len(d_person)
    d_cohort = ps.cohort[d_person]
    d_day = _offsets(rng, nd, np.where(d_cohort == 1, 0.6, 0.25), 40, cat.history_days, cat.future_fraction)
    d_second = rng.integers(6 * 3600, 20 * 3600, nd).astype(np.int32)
    # the screening visit of the persons referred for a trial: one more draw, recent
    w_person = np.nonzero(ps.workup)[0].astype(np.int64)
    nw = len(w_person)
    d_person = np.concatenate([d_person, w_person])
    d_cohort = np.concatenate([d_cohort, ps.cohort[w_person]])
    d_day = np.concatenate([d_day, rng.integers(0, cat.workup.within_days + 1, nw).astype(np.int32)])
    d_second = np.concatenate([d_second, rng.integers(7 * 3600, 12 * 3600, nw).astype(np.int32)])
    order = np.argsort(d_person, kind="stable")
    is_workup = np.concatenate([np.zeros(nd, dtype=bool), np.ones(nw, dtype=bool)])[order]
    d_person, d_cohort, d_day, d_second = d_person[order], d_cohort[order], d_day[order], d_second[order]
    analytes = cat.analytes
    all_entries = (*cat.conditions, *cat.aml_phases)
    codes = np.array([e.code for e in all_entries])
    probs = np.stack([a.p_draw for a in analytes], axis=1)  # (2, A)
    p = probs[d_cohort]
    screening = np.array([a.screening for a in analytes])
    p[is_workup] = np.where(screening, cat.workup.p_test, 0.0)
    for j, a in enumerate(analytes):
        if a.sex == "female":
            p[:, j] *= ps.gender[d_person] == 1
        if a.ages is not None:
            age = ps.age[d_person]
            p[:, j] *= (age >= a.ages[0]) & (age < a.ages[1])
        if a.needs_condition is not None:
            has = np.zeros(n, dtype=bool)
            hits = np.char.startswith(codes[conds.entry], a.needs_condition)
            has[conds.person[hits]] = True
            p[:, j] *= has[d_person]
    draw_i, analyte = np.nonzero(rng.random(p.shape) < p)
    m = len(draw_i)
    person = d_person[draw_i]
    # values: persons referred for a trial were fit enough to be referred, so their results
    # follow the general population's; other AML patients' the AML cohort's
    cohort = np.where(ps.workup[person], 0, ps.cohort[person]).astype(np.int8)
    res = Results(
        person=person,
        analyte=analyte.astype(np.int16),
        code=np.zeros(m, dtype=np.int8),
        day=d_day[draw_i],
        second=d_second[draw_i],
        kind=np.zeros(m, dtype=np.int8),
        value=np.full(m, np.nan),
        unit=np.full(m, -1, dtype=np.int8),
        ref=np.full(m, np.nan),
        integer=np.full(m, -1, dtype=np.int16),
        text=np.full(m, -1, dtype=np.int16),
        polarity=np.zeros(m, dtype=np.int8),
        status=_choice(rng, np.array([0.94, 0.02, 0.01, 0.015, 0.01, 0.005]), m).astype(np.int8),
        effective=_choice(rng, np.array([0.95, 0.03, 0.02]), m).astype(np.int8),
        o2_kind=np.full(m, -1, dtype=np.int8),
        o2_value=np.full(m, np.nan),
    )
    index = {s: i for i, s in enumerate(strings)}
    for j, a in enumerate(analytes):
        sel = np.nonzero(analyte == j)[0]
        if len(sel) == 0:
            continue
        res.code[sel] = _choice(rng, a.code_weights, len(sel))
        _fill_values(rng, res, sel, cohort[sel], a, cat, index)
        if a.name == "spo2":
            _fill_oxygen(rng, res, sel, cohort[sel], cat)
    return res


def _draw_quantity(rng: np.random.Generator, a: Analyte, cohort: np.ndarray) -> np.ndarray:
    k = len(cohort)
    abnormal = rng.random(k) < a.p_abnormal[cohort]
    centre = np.where(abnormal, a.abnormal[0], a.normal[0])
    spread = np.where(abnormal, a.abnormal[1], a.normal[1])
    z = rng.standard_normal(k)
    values = centre * np.exp(spread * z) if a.family == "lognormal" else centre + spread * z
    if a.clip is not None:
        values = np.clip(values, a.clip[0], a.clip[1])
    return np.asarray(values, dtype=np.float64)


def _write_units(rng: np.random.Generator, res: Results, sel: np.ndarray, a: Analyte, compared: np.ndarray) -> None:
    unit = _choice(rng, a.unit_weights, len(sel)).astype(np.int8)
    factor = np.array([u.factor for u in a.units])[unit]
    decimals = np.array([u.decimals for u in a.units])[unit]
    written = compared * factor
    scale = 10.0**decimals
    res.value[sel] = np.round(written * scale) / scale
    res.unit[sel] = unit
    refs = np.array([np.nan if u.ref is None else u.ref for u in a.units])[unit]
    res.ref[sel] = np.where(rng.random(len(sel)) < 0.85, refs, np.nan)
    res.kind[sel] = V_QUANTITY


def _fill_values(
    rng: np.random.Generator,
    res: Results,
    sel: np.ndarray,
    cohort: np.ndarray,
    a: Analyte,
    cat: Catalogue,
    index: dict[str, int],
) -> None:
    k = len(sel)
    if a.kind == "quantity":
        _write_units(rng, res, sel, a, _draw_quantity(rng, a, cohort))
        missing = rng.random(k) < 0.003
        res.value[sel[missing]] = np.nan
        res.kind[sel[missing]] = V_NONE
    elif a.kind == "ordinal":
        assert a.level_weights is not None
        level = np.empty(k, dtype=np.int16)
        for c in (0, 1):
            s = cohort == c
            level[s] = _choice(rng, a.level_weights[c], int(s.sum()))
        res.integer[sel] = np.array(a.levels, dtype=np.int16)[level]
        res.kind[sel] = V_INTEGER
        if a.answers:
            coded = rng.random(k) < a.p_answer_code
            table = np.array([index[f"loinc|{x}"] for x in a.answers], dtype=np.int16)
            res.text[sel[coded]] = table[level[coded]]
            res.kind[sel[coded]] = V_CODE
        if a.strings:
            worded = rng.random(k) < a.p_string
            table = np.array([index[x] for x in a.strings], dtype=np.int16)
            res.text[sel[worded]] = table[level[worded]]
            res.kind[sel[worded]] = V_STRING
    elif a.kind == "qualitative":
        positive = rng.random(k) < a.p_positive[cohort]
        _qualitative(rng, res, sel, positive, cat, index)
    elif a.kind == "viral_load":
        detected = rng.random(k) < a.p_abnormal[cohort]
        _qualitative(rng, res, sel, np.zeros(k, dtype=bool), cat, index)
        quantified = detected & (rng.random(k) >= 0.15)
        word = detected & ~quantified
        if quantified.any():
            q = sel[quantified]
            _write_units(rng, res, q, a, _draw_quantity(rng, a, cohort[quantified]))
            res.ref[q] = np.nan
            res.polarity[q] = P_POS
            res.text[q] = -1
        res.kind[sel[word]] = V_STRING
        res.text[sel[word]] = index["Detected"]
        res.polarity[sel[word]] = P_POS


def _qualitative(
    rng: np.random.Generator,
    res: Results,
    sel: np.ndarray,
    positive: np.ndarray,
    cat: Catalogue,
    index: dict[str, int],
) -> None:
    k = len(sel)
    for flag, forms, weights, pol in (
        (True, cat.positive_forms, cat.positive_weights, P_POS),
        (False, cat.negative_forms, cat.negative_weights, P_NEG),
    ):
        s = np.nonzero(positive == flag)[0]
        form = _choice(rng, weights, len(s))
        for f_i, f in enumerate(forms):
            rows = sel[s[form == f_i]]
            res.polarity[rows] = pol
            if f.code is not None:
                res.kind[rows] = V_CODE
                res.text[rows] = index[f"snomed|{f.code}"]
            elif f.interpretation is not None:
                res.kind[rows] = V_INTERP
            elif f.string is not None:
                res.kind[rows] = V_STRING
                res.text[rows] = index[f.string]
    odd = rng.random(k) < cat.p_unreadable
    rows = sel[odd]
    pick = rng.integers(0, len(cat.unreadable_strings), len(rows))
    res.kind[rows] = V_STRING
    res.text[rows] = np.array([index[s] for s in cat.unreadable_strings], dtype=np.int16)[pick]
    res.polarity[rows] = P_UNREADABLE


def _fill_oxygen(rng: np.random.Generator, res: Results, sel: np.ndarray, cohort: np.ndarray, cat: Catalogue) -> None:
    k = len(sel)
    on = rng.random(k) < cat.p_on_oxygen[cohort]
    kinds = cat.oxygen
    kind = _choice(rng, np.array([o.weight for o in kinds]), k).astype(np.int8)
    low = np.array([o.low for o in kinds])[kind]
    high = np.array([o.high for o in kinds])[kind]
    dec = np.array([o.decimals for o in kinds])[kind]
    scale = 10.0**dec
    value = np.round(rng.uniform(low, high) * scale) / scale
    # an explicit room-air marker: 0 L/min, or 21 % (0.21 as a fraction)
    marker = ~on & (rng.random(k) < cat.p_room_air_marker)
    room = np.array([0.0 if o.unit == "L/min" else (0.21 if o.unit == "1" else 21.0) for o in kinds])[kind]
    value = np.where(marker, room, value)
    with_component = on | marker
    res.o2_kind[sel[with_component]] = kind[with_component]
    res.o2_value[sel[with_component]] = value[with_component]


def _procedures(rng: np.random.Generator, ps: Persons, cat: Catalogue) -> Procedures:
    entries = cat.procedures
    probs = np.stack([e.p for e in entries], axis=1)
    mask = np.ones((len(ps.person_id), len(entries)))
    for k, e in enumerate(entries):
        if e.sex == "female":
            mask[:, k] *= ps.gender == 1
        if e.min_age:
            mask[:, k] *= ps.age >= e.min_age
    person, entry = _bernoulli_pairs(rng, probs, ps.cohort, mask)
    m = len(person)
    recent = np.array([e.recent for e in entries])[entry]
    day = _offsets(rng, m, recent, 60, cat.history_days, cat.future_fraction)
    status = _choice(rng, np.array([0.95, 0.01, 0.02, 0.01, 0.01]), m).astype(np.int8)
    return Procedures(person, entry, day, status, rng.random(m) < 0.1)


def _medicines(rng: np.random.Generator, ps: Persons, cat: Catalogue) -> Medicines:
    entries = cat.medicines
    probs = np.stack([e.p for e in entries], axis=1)
    person, entry = _bernoulli_pairs(rng, probs, ps.cohort, None)
    m = len(person)
    route = np.zeros(m, dtype=np.int8)
    reason = np.full(m, -1, dtype=np.int8)
    for k, e in enumerate(entries):
        sel = np.nonzero(entry == k)[0]
        route[sel] = _choice(rng, e.route_weights, len(sel))
        if e.antimicrobial:
            r = _choice(rng, cat.antimicrobial_reason_weights, len(sel)).astype(np.int8)
            none = np.array([x == "none" for x in cat.antimicrobial_reasons])[r]
            reason[sel] = np.where(none, -1, r)
    start = _offsets(rng, m, 0.5, 120, cat.history_days, cat.future_fraction)
    end = (start - rng.integers(7, 401, m)).astype(np.int32)
    # an order that runs past the as-of date is active or on hold; one stopped or completed
    # ended before it (its end is the stop), so OMOP's end date tells the same story
    ongoing = end < 0
    status = np.where(
        ongoing,
        _choice(rng, np.array([0.95, 0.05, 0.0, 0.0, 0.0]), m),
        _choice(rng, np.array([0.10, 0.0, 0.15, 0.75, 0.0]), m),
    ).astype(np.int8)
    status = np.where(rng.random(m) < 0.01, MED_STATUS.index("entered-in-error"), status)
    return Medicines(person, entry, route, start, end, status.astype(np.int8), reason)


def _vaccinations(rng: np.random.Generator, ps: Persons, cat: Catalogue) -> Vaccinations:
    count = rng.poisson(np.where(ps.cohort == 1, 2.0, 1.5))
    person = np.repeat(np.arange(len(count), dtype=np.int64), count)
    m = len(person)
    weights = np.array([v.weight for v in cat.vaccines])
    entry = _choice(rng, weights / weights.sum(), m).astype(np.int32)
    _ensure_each(rng, entry, len(cat.vaccines), len(ps.person_id))
    day = _offsets(rng, m, 0.12, 40, cat.history_days, cat.future_fraction)
    status = _choice(rng, np.array([0.95, 0.04, 0.01]), m).astype(np.int8)
    return Vaccinations(person, entry, day, status)


def _allergies(rng: np.random.Generator, ps: Persons, cat: Catalogue) -> Allergies:
    probs = np.stack([e.p for e in cat.allergens], axis=1)
    person, entry = _bernoulli_pairs(rng, probs, ps.cohort, None)
    m = len(person)
    return Allergies(
        person=person,
        entry=entry,
        day=rng.integers(0, cat.history_days * 3, m).astype(np.int32),
        criticality=_choice(rng, np.array([0.15, 0.6, 0.15, 0.1]), m).astype(np.int8),
        severity=_choice(rng, np.array([0.4, 0.3, 0.2, 0.1]), m).astype(np.int8),
        clinical=_choice(rng, np.array([0.85, 0.1, 0.05]), m).astype(np.int8),
        verification=_choice(rng, np.array([0.8, 0.15, 0.04, 0.01]), m).astype(np.int8),
    )


def _consents(rng: np.random.Generator, ps: Persons, cat: Catalogue) -> Consents:
    p = np.where(ps.workup, cat.workup.p_consent, cat.p_consent[ps.cohort])
    has = rng.random(len(ps.person_id)) < p
    person = np.nonzero(has)[0].astype(np.int64)
    m = len(person)
    day = _offsets(rng, m, 1.0, 120, 120, 0.03)
    return Consents(
        person=person,
        day=day,
        status=_choice(rng, np.array([0.85, 0.05, 0.05, 0.05]), m).astype(np.int8),
        form=_choice(rng, np.array([0.6, 0.3, 0.1]), m).astype(np.int8),
    )


def _undecided_aml(ps: Persons, conds: Conditions, cat: Catalogue) -> np.ndarray:
    """Persons whose AML diagnosis says neither relapse nor remission (C92.00, C92.0, ...):
    the ones an investigator attests refractory disease for."""
    phases = cat.aml_phases
    undecided = np.array([len(e.code) < 6 or e.code[5] == "0" for e in phases] + [False], dtype=bool)
    apl = np.array([e.code.startswith("C92.4") for e in phases] + [False], dtype=bool)
    k = conds.entry - len(cat.conditions)
    k = np.where(k >= 0, k, len(phases))
    out = np.zeros(len(ps.person_id), dtype=bool)
    out[conds.person[undecided[k] & ~apl[k]]] = True
    return out


def _responses(rng: np.random.Generator, ps: Persons, conds: Conditions, cat: Catalogue) -> Responses:
    p = np.where(ps.workup, cat.workup.p_response, cat.p_response[ps.cohort])
    has = rng.random(len(ps.person_id)) < p
    count = has * (1 + (rng.random(len(has)) < 0.2))
    person = np.repeat(np.arange(len(count), dtype=np.int64), count)
    m = len(person)
    p_answer = np.repeat(
        np.where(ps.workup[person], cat.workup.p_answer, cat.p_answer)[:, None],
        len(cat.attest_ids),
        axis=1,
    )
    if "inc-3" in cat.attest_ids:
        # refractory disease is attested where the record leaves it open; rarely elsewhere
        # (a contradiction the screening must report)
        open_question = _undecided_aml(ps, conds, cat)[person]
        p_answer[:, cat.attest_ids.index("inc-3")] = np.where(open_question, 0.9, 0.05)
    answered = rng.random((m, len(cat.attest_ids))) < p_answer
    true = rng.random((m, len(cat.attest_ids))) < cat.attest_p_true
    answers = np.where(answered, np.where(true, 1, 2), 0).astype(np.int8)
    return Responses(
        person=person,
        day=_offsets(rng, m, 1.0, 60, 60, 0.02),
        second=rng.integers(8 * 3600, 18 * 3600, m).astype(np.int32),
        status=_choice(rng, np.array([0.9, 0.05, 0.03, 0.02]), m).astype(np.int8),
        nested=rng.random(m) < 0.3,
        answers=answers,
    )


def draw_chunk(
    seed: int, chunk_no: int, first_id: int, n: int, as_of: date, cat: Catalogue, strings: tuple[str, ...]
) -> Chunk:
    """All facts of persons first_id .. first_id + n - 1, from their own random stream."""
    rng = np.random.default_rng([seed, chunk_no])
    ps = _persons(rng, first_id, n, cat, as_of)
    conds = _conditions(rng, ps, cat)
    chunk = Chunk(
        persons=ps,
        conditions=conds,
        results=_results(rng, ps, conds, cat, strings),
        procedures=_procedures(rng, ps, cat),
        medicines=_medicines(rng, ps, cat),
        vaccinations=_vaccinations(rng, ps, cat),
        allergies=_allergies(rng, ps, cat),
        consents=_consents(rng, ps, cat),
        responses=_responses(rng, ps, conds, cat),
    )
    _not_before_birth(chunk, as_of)
    return chunk


def _not_before_birth(chunk: Chunk, as_of: date) -> None:
    """Move any fact dated before its person's birth to the birth date."""
    lived = (np.datetime64(as_of, "D") - chunk.persons.birth).astype(np.int64)
    c = chunk.conditions
    limit = lived[c.person]
    for arr in (c.onset, c.recorded, c.abatement):
        np.minimum(arr, limit, out=arr)
    for facts, names in (
        (chunk.results, ("day",)),
        (chunk.procedures, ("day",)),
        (chunk.medicines, ("start", "end")),
        (chunk.vaccinations, ("day",)),
        (chunk.allergies, ("day",)),
        (chunk.consents, ("day",)),
        (chunk.responses, ("day",)),
    ):
        limit = lived[facts.person]
        for name in names:
            arr = getattr(facts, name)
            np.minimum(arr, limit, out=arr)
