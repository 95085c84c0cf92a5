"""Bulk NDJSON lines decoded straight into typed structs (msgspec).

Observations are about nine resources in ten of bulk data; Conditions, Immunizations and
Procedures most of the rest. Decoding one into structs that declare only the fields the facts
read skips every other field in C and checks the type of each field that is read, several
times cheaper than a dict per object and a walk over it.

There is still one meaning of a resource: the general path (`orjson` → dict → `normalise`).
The structs accept only the clean shape of each field they declare (a wrong type, a `null`
where a value belongs, an integer outside orjson's range or an unknown comparator is a
rejection), and whatever they reject is read again by the general path, so its notes and
errors are exactly that path's. For what they accept, the `add_*` functions here build the same
facts as `normalise`; tests/fhir/test_typed_path.py holds the two together.

One difference is known and deliberate: msgspec skips the fields the structs do not declare
without converting their numbers, so a number beyond the range of a double (``1e400``) in a
field the criteria never read no longer makes the whole line unreadable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, Literal

import msgspec
from msgspec import UNSET, Struct, UnsetType

from trialscreen.fhir.facts import (
    _STAMPS,
    Coding,
    ConditionFact,
    Facts,
    FieldError,
    ImmunizationFact,
    ObservationFact,
    ProcedureFact,
    Quantity,
    parse_date,
    parse_instant_and_date,
)

UCUM = "http://unitsofmeasure.org"
_RESULT_STATUSES = frozenset({"final", "amended", "corrected"})

# orjson reads integers in [-2**63, 2**64 - 1] as int and larger ones as float; the struct
# takes int64 only and leaves the rest to the general path, which judges them as it always did.
_OrjsonInt = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class _Coding(Struct, gc=False):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class _Concept(Struct, gc=False):
    coding: tuple[_Coding, ...] = ()
    text: str | None = None


class _Quantity(Struct, gc=False):
    value: _OrjsonInt | float | None = None
    unit: str | None = None
    system: str | None = None
    code: str | None = None
    comparator: Literal["<", "<=", ">=", ">"] | None = None


class _Range(Struct, gc=False):
    type: _Concept | None = None
    high: _Quantity | None = None


class _Component(Struct, gc=False):
    code: _Concept | None = None
    valueQuantity: _Quantity | None = None  # noqa: N815 (FHIR's name)


class _Period(Struct, gc=False):
    start: str | None = None


class _Reference(Struct, gc=False):
    reference: str | None = None


_Ref = _Reference | str | None


class TypedObservation(Struct, gc=False, tag_field="resourceType", tag="Observation"):
    """The fields of an Observation that facts read (and the subject, to group by patient)."""

    id: str = "?"
    status: str | None = None
    code: _Concept | None = None
    subject: _Ref = None
    patient: _Ref = None
    beneficiary: _Ref = None
    source: _Ref = None
    effectiveDateTime: str | None = None  # noqa: N815
    effectivePeriod: _Period | None = None  # noqa: N815
    effectiveInstant: str | None = None  # noqa: N815
    issued: str | None = None
    valueQuantity: _Quantity | None = None  # noqa: N815
    valueInteger: _OrjsonInt | UnsetType = UNSET  # noqa: N815 (present-but-null is the general path's)
    valueCodeableConcept: _Concept | UnsetType = UNSET  # noqa: N815
    valueString: str | UnsetType = UNSET  # noqa: N815
    interpretation: tuple[_Concept, ...] = ()
    referenceRange: tuple[_Range, ...] = ()  # noqa: N815
    component: tuple[_Component, ...] = ()


class _Span(Struct, gc=False):
    start: str | None = None
    end: str | None = None


class TypedCondition(Struct, gc=False, tag_field="resourceType", tag="Condition"):
    """The fields of a Condition that facts read."""

    id: str = "?"
    status: str | None = None
    clinicalStatus: _Concept | None = None  # noqa: N815
    verificationStatus: _Concept | None = None  # noqa: N815
    code: _Concept | None = None
    subject: _Ref = None
    patient: _Ref = None
    beneficiary: _Ref = None
    source: _Ref = None
    onsetDateTime: str | None = None  # noqa: N815
    onsetPeriod: _Period | None = None  # noqa: N815
    recordedDate: str | None = None  # noqa: N815
    abatementDateTime: str | None = None  # noqa: N815
    abatementPeriod: _Span | None = None  # noqa: N815
    abatementBoolean: bool | None = None  # noqa: N815
    abatementString: str | None = None  # noqa: N815
    abatementAge: dict[str, Any] | None = None  # noqa: N815


class TypedImmunization(Struct, gc=False, tag_field="resourceType", tag="Immunization"):
    """The fields of an Immunization that facts read."""

    id: str = "?"
    status: str | None = None
    vaccineCode: _Concept | None = None  # noqa: N815
    subject: _Ref = None
    patient: _Ref = None
    beneficiary: _Ref = None
    source: _Ref = None
    occurrenceDateTime: str | None = None  # noqa: N815


class TypedProcedure(Struct, gc=False, tag_field="resourceType", tag="Procedure"):
    """The fields of a Procedure that facts read."""

    id: str = "?"
    status: str | None = None
    code: _Concept | None = None
    category: _Concept | tuple[_Concept, ...] | None = None
    subject: _Ref = None
    patient: _Ref = None
    beneficiary: _Ref = None
    source: _Ref = None
    performedDateTime: str | None = None  # noqa: N815
    performedPeriod: _Period | None = None  # noqa: N815


Typed = TypedObservation | TypedCondition | TypedImmunization | TypedProcedure
TYPED = (TypedObservation, TypedCondition, TypedImmunization, TypedProcedure)
PREFIXES = tuple(b'{"resourceType":"%s"' % kind.__struct_config__.tag.encode() for kind in TYPED)  # type: ignore[union-attr]
"""How a line of each typed kind starts when written compactly with resourceType first (bulk exports)."""


class NoResourceType(Struct, gc=False, tag_field="resourceType", tag=""):
    """Never a resource: in a union with `TypedObservation` it makes resourceType required."""


class Subjects(Struct, gc=False):
    """Only the fields that name a resource's patient, for a cheap pass over a whole file."""

    subject: _Ref = None
    patient: _Ref = None
    beneficiary: _Ref = None
    source: _Ref = None


DECODER = msgspec.json.Decoder(Typed | NoResourceType)
SUBJECTS = msgspec.json.Decoder(Subjects)


def utf8(line: bytes) -> bool:
    """Is the line valid UTF-8? msgspec does not check the fields it skips; orjson checks all."""
    if line.isascii():
        return True
    try:
        line.decode()
    except UnicodeDecodeError:
        return False
    return True


def decode_line(line: bytes) -> Typed | None:
    """The typed resource on this line, or None when the general path must read the line."""
    if not line.startswith(PREFIXES) or not utf8(line):
        return None
    try:
        found = DECODER.decode(line)
    except msgspec.MsgspecError:
        return None
    return None if type(found) is NoResourceType else found


def subjects_of_line(line: bytes) -> Subjects | None:
    """The patient fields of a line, or None when the general path must judge the line."""
    if not utf8(line):
        return None
    try:
        return SUBJECTS.decode(line)
    except msgspec.MsgspecError:
        return None


def patient_reference(res: Typed | Subjects) -> str | None:
    """The reference to the resource's patient: as `read._patient_of` finds it in a dict."""
    for ref in (res.subject, res.patient, res.beneficiary, res.source):
        if ref is None:
            continue
        if type(ref) is not str:
            ref = ref.reference  # type: ignore[union-attr]
        if ref:
            return ref
    return None


def _codings(concept: _Concept | None) -> tuple[tuple[Coding, ...], str]:
    """As `facts.codings` on the same concept as a dict."""
    if concept is None:
        return (), ""
    words = [] if concept.text is None else [concept.text]
    pairs = []
    for coding in concept.coding:
        if coding.system is not None and coding.code is not None:
            pairs.append((coding.system, coding.code))
        if coding.display is not None:
            words.append(coding.display)
    return tuple(pairs), " | ".join(words)


def _pairs(concept: _Concept | None) -> tuple[Coding, ...]:
    """The (system, code) pairs of `_codings` alone."""
    if concept is None:
        return ()
    listed = concept.coding
    if len(listed) == 1:
        only = listed[0]
        system, code = only.system, only.code
        return () if system is None or code is None else ((system, code),)
    return tuple([(c.system, c.code) for c in listed if c.system is not None and c.code is not None])


def _quantity(q: _Quantity | None) -> Quantity | None:
    """As `normalise._quantity` (types and comparator were checked by the struct)."""
    if q is None:
        return None
    value = q.value
    if value is None:
        return None
    code = q.code
    if code is None or q.system != UCUM:
        unit = q.unit
        if unit is None:
            unit = code
        return Quantity(float(value), unit, q.comparator)
    return Quantity(float(value), code, q.comparator)


def _first_code(concept: _Concept | None) -> str | None:
    if concept is not None:
        for coding in concept.coding:
            if coding.code is not None:
                return coding.code
    return None


def _reference_high(ranges: tuple[_Range, ...]) -> Quantity | None:
    for rng in ranges:
        if rng.type is None or _first_code(rng.type) in (None, "normal"):
            return _quantity(rng.high)
    return None


def add_observation(res: TypedObservation, facts: Facts, wanted: Callable[[Coding], bool] | None) -> None:
    """Add the Observation to `facts` exactly as `normalise.add` adds it as a dict."""
    status = res.status
    if status is not None and status not in _RESULT_STATUSES:
        return  # entered-in-error among them
    code = res.code
    if code is not None and len(code.coding) == 1:  # the usual shape, without a call
        only = code.coding[0]
        system, value = only.system, only.code
        codes: tuple[Coding, ...] = () if system is None or value is None else ((system, value),)
    else:
        codes = _pairs(code)
    if wanted is not None and not any(wanted(c) for c in codes):
        return
    raw_when = res.effectiveDateTime
    if not raw_when:
        period = res.effectivePeriod
        raw_when = (period.start if period is not None else None) or res.effectiveInstant or res.issued
    stamp = _STAMPS.get(raw_when) if raw_when else None
    if stamp is None:
        try:
            stamp = parse_instant_and_date(raw_when, "effective date")
        except FieldError as exc:
            facts.noted.append(f"Observation/{res.id}: {exc}; the result is not used")
            return
        if stamp is None:
            facts.noted.append(f"Observation/{res.id}: no effective date; the result is not used")
            return
    integer = res.valueInteger
    string = res.valueString
    concept: tuple[Coding, ...] = ()
    concept_text = ""
    if res.valueCodeableConcept is not UNSET:
        concept, concept_text = _codings(res.valueCodeableConcept)
    interpretation: tuple[Coding, ...] = ()
    if res.interpretation:
        interpretation = tuple([(s, c.upper()) for item in res.interpretation for s, c in _pairs(item)])
    components: tuple[tuple[tuple[Coding, ...], Quantity | None], ...] = ()
    if res.component:
        components = tuple([(_pairs(c.code), _quantity(c.valueQuantity)) for c in res.component])
    q = res.valueQuantity
    if q is None or q.value is None:
        quantity = None
    elif q.code is not None and q.system == UCUM:  # the usual shape, without a call
        quantity = Quantity(float(q.value), q.code, q.comparator)
    else:
        quantity = _quantity(q)
    fact = ObservationFact(
        res.id,
        codes,
        stamp[1],
        stamp[0],
        quantity,
        None if integer is UNSET else integer,
        concept,
        concept_text,
        None if string is UNSET else string,
        interpretation,
        _reference_high(res.referenceRange) if res.referenceRange else None,
        components,
        None,
    )
    observations = facts._observations
    for coding in codes:
        found = observations.get(coding)
        if found is None:
            observations[coding] = [fact]
        else:
            found.append(fact)


_IGNORED_VERIFICATION = frozenset({"refuted", "entered-in-error"})


def add_condition(res: TypedCondition, facts: Facts, wanted: object = None) -> None:
    """As `normalise.condition` (and `normalise.add`) on the same Condition as a dict."""
    if res.status == "entered-in-error" or _first_code(res.verificationStatus) in _IGNORED_VERIFICATION:
        return
    codes, text = _codings(res.code)
    onset_period, span = res.onsetPeriod, res.abatementPeriod
    try:
        onset = parse_date(res.onsetDateTime or (onset_period.start if onset_period is not None else None), "onset")
        recorded = parse_date(res.recordedDate, "recordedDate")
        abatement_raw = res.abatementDateTime or (
            (span.end or span.start) if span is not None else None
        )
        abatement = parse_date(abatement_raw, "abatement")
    except FieldError as exc:
        facts.noted.append(f"Condition/{res.id}: {exc}; its dates are not used")
        onset = recorded = abatement = None
    undated = abatement is None and (
        res.abatementBoolean is True or res.abatementString is not None or res.abatementAge is not None
    )
    facts.conditions.append(
        ConditionFact(res.id, codes, text, _first_code(res.clinicalStatus), onset, recorded, abatement, undated)
    )


def add_immunization(res: TypedImmunization, facts: Facts, wanted: object = None) -> None:
    """As `normalise.immunization` on the same Immunization as a dict."""
    if res.status != "completed":
        return
    codes, text = _codings(res.vaccineCode)
    try:
        when = parse_date(res.occurrenceDateTime, "occurrenceDateTime")
    except FieldError as exc:
        facts.noted.append(f"Immunization/{res.id}: {exc}; its date is not used")
        when = None
    facts.immunizations.append(ImmunizationFact(res.id, codes, text, when))


def add_procedure(res: TypedProcedure, facts: Facts, wanted: object = None) -> None:
    """As `normalise.procedure` on the same Procedure as a dict."""
    if res.status in ("not-done", "entered-in-error"):
        return
    codes, text = _codings(res.code)
    period = res.performedPeriod
    try:
        when = parse_date(res.performedDateTime or (period.start if period is not None else None), "performed")
    except FieldError as exc:
        facts.noted.append(f"Procedure/{res.id}: {exc}; its date is not used")
        when = None
    category = res.category
    listed: tuple[_Concept | None, ...] = category if isinstance(category, tuple) else (category,)
    categories = tuple([pair for concept in listed for pair in _pairs(concept)])
    facts.procedures.append(ProcedureFact(res.id, codes, text, when, categories))


ADDERS: dict[type, Callable[[Any, Facts, Callable[[Coding], bool] | None], None]] = {
    TypedObservation: add_observation,
    TypedCondition: add_condition,
    TypedImmunization: add_immunization,
    TypedProcedure: add_procedure,
}
"""How each typed resource is added to facts (a dict goes to `normalise.add`)."""
