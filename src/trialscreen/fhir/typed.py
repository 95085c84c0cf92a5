"""Observation lines of bulk NDJSON decoded straight into typed structs (msgspec).

Observations are about nine resources in ten of bulk data. Decoding one into structs that
declare only the fields the facts read skips every other field in C and checks the type of
each field that is read, several times cheaper than a dict per object and a walk over it.

There is still one meaning of a resource: the general path (`orjson` → dict →
`normalise.observation`). The structs accept only the clean shape of each field they declare
(a wrong type, a `null` where a value belongs, an integer outside orjson's range or an unknown
comparator is a rejection), and whatever they reject is read again by the general path, so its
notes and errors are exactly that path's. For what they accept, `add_observation` builds the
same fact as `normalise.observation`; tests/fhir/test_typed_path.py holds the two together.

One difference is known and deliberate: msgspec skips the fields the structs do not declare
without converting their numbers, so a number beyond the range of a double (``1e400``) in a
field the criteria never read no longer makes the whole line unreadable.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Literal

import msgspec
from msgspec import UNSET, Struct, UnsetType

from trialscreen.fhir.facts import _STAMPS, Coding, Facts, FieldError, ObservationFact, Quantity, parse_instant_and_date

UCUM = "http://unitsofmeasure.org"
_RESULT_STATUSES = frozenset({"final", "amended", "corrected"})

OBSERVATION_PREFIX = b'{"resourceType":"Observation"'
"""How an Observation line starts when written compactly with resourceType first (bulk exports)."""

# orjson reads integers in [-2**63, 2**64 - 1] as int and larger ones as float; the struct
# takes int64 only and leaves the rest to the general path, which judges them as it always did.
_OrjsonInt = Annotated[int, msgspec.Meta(ge=-(2**63), le=2**63 - 1)]


class _Coding(Struct, gc=False):
    system: str | None = None
    code: str | None = None
    display: str | None = None


class _Concept(Struct, gc=False):
    coding: list[_Coding] = []
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
    interpretation: list[_Concept] = []
    referenceRange: list[_Range] = []  # noqa: N815
    component: list[_Component] = []


class Subjects(Struct, gc=False):
    """Only the fields that name a resource's patient, for a cheap pass over a whole file."""

    subject: _Ref = None
    patient: _Ref = None
    beneficiary: _Ref = None
    source: _Ref = None


_OBSERVATION = msgspec.json.Decoder(TypedObservation)
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


def decode_observation(line: bytes) -> TypedObservation | None:
    """The Observation on this line, or None when the general path must read the line."""
    if not line.startswith(OBSERVATION_PREFIX) or not utf8(line):
        return None
    try:
        return _OBSERVATION.decode(line)
    except msgspec.MsgspecError:
        return None


def subjects_of_line(line: bytes) -> Subjects | None:
    """The patient fields of a line, or None when the general path must judge the line."""
    if not utf8(line):
        return None
    try:
        return SUBJECTS.decode(line)
    except msgspec.MsgspecError:
        return None


def patient_reference(res: TypedObservation | Subjects) -> str | None:
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


def _reference_high(ranges: list[_Range]) -> Quantity | None:
    for rng in ranges:
        if rng.type is None or _first_code(rng.type) in (None, "normal"):
            return _quantity(rng.high)
    return None


def add_observation(res: TypedObservation, facts: Facts, wanted: Callable[[Coding], bool] | None) -> None:
    """Add the Observation to `facts` exactly as `normalise.add` adds it as a dict."""
    status = res.status
    if status is not None and status not in _RESULT_STATUSES:
        return  # entered-in-error among them
    codes = _pairs(res.code)
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
            facts.notes.append(f"Observation/{res.id}: {exc}; the result is not used")
            return
        if stamp is None:
            facts.notes.append(f"Observation/{res.id}: no effective date; the result is not used")
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
    fact = ObservationFact(
        res.id,
        codes,
        stamp[1],
        stamp[0],
        _quantity(res.valueQuantity),
        None if integer is UNSET else integer,
        concept,
        concept_text,
        None if string is UNSET else string,
        interpretation,
        _reference_high(res.referenceRange) if res.referenceRange else None,
        components,
        None,
    )
    observations = facts.observations
    for coding in codes:
        found = observations.get(coding)
        if found is None:
            observations[coding] = [fact]
        else:
            found.append(fact)
