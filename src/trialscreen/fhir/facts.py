"""Normalised facts of one patient, read once from FHIR R4 JSON.

Each resource the criteria can use becomes a small slotted object holding only what the
engines read (codes by system, dates, values). Reading is lenient about what the criteria
do not use and strict about what they do: a field the criteria need that has the wrong shape
makes the fact *unreadable*, with a note naming the resource and the field, never a crash and
never a silent guess.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from datetime import UTC, date, datetime
from typing import Any

Coding = tuple[str, str]  # (system URI, code)

_MIN_UTC = datetime.min.replace(tzinfo=UTC)


class FieldError(ValueError):
    """A field the criteria read has the wrong shape."""


_CACHE_LIMIT = 1 << 12
_DATES: dict[str, date] = {}
_INSTANTS: dict[str, datetime] = {}
_STAMPS: dict[str, tuple[datetime, date]] = {}
"""Parsed date strings. A bulk file repeats them (a panel shares its time), and date objects
are immutable; each cache is emptied when full, so memory stays flat."""


def _remember(cache: dict[str, Any], key: str, value: Any) -> None:
    if len(cache) >= _CACHE_LIMIT:
        cache.clear()
    cache[key] = value


def parse_date(value: Any, what: str) -> date | None:
    """The calendar date of a FHIR date or dateTime as written (partial dates: first day)."""
    if value is None:
        return None
    if type(value) is str:
        hit = _DATES.get(value)
        if hit is not None:
            return hit
    if not isinstance(value, str) or len(value) < 4:
        raise FieldError(f"{what} is not a date: {value!r}")
    try:
        if len(value) >= 10:
            day = date.fromisoformat(value[:10])
        elif len(value) == 7:
            day = date(int(value[:4]), int(value[5:7]), 1)
        else:
            day = date(int(value[:4]), 1, 1)
    except ValueError:
        raise FieldError(f"{what} is not a date: {value!r}") from None
    if type(value) is str:
        _remember(_DATES, value, day)
    return day


def last_day(value: str) -> date | None:
    """The last day a partial FHIR date ("1980", "1980-06") can mean; None for a full date."""
    first = parse_date(value, "date")
    if first is None or len(value) >= 10:
        return None
    if len(value) == 7:
        following = date(first.year + (first.month == 12), first.month % 12 + 1, 1)
        return date.fromordinal(following.toordinal() - 1)
    return date(first.year, 12, 31)


def parse_instant(value: Any, what: str) -> datetime | None:
    """A full timestamp for ordering results (date-only values: midnight UTC)."""
    if value is None:
        return None
    if type(value) is str:
        hit = _INSTANTS.get(value)
        if hit is not None:
            return hit
    if not isinstance(value, str):
        raise FieldError(f"{what} is not a dateTime: {value!r}")
    try:
        if len(value) <= 10:
            day = parse_date(value, what)
            assert day is not None
            stamp = datetime(day.year, day.month, day.day, tzinfo=UTC)
        else:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise FieldError(f"{what} is not a dateTime: {value!r}") from None
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    if type(value) is str:
        _remember(_INSTANTS, value, stamp)
    return stamp


def parse_instant_and_date(value: Any, what: str) -> tuple[datetime, date] | None:
    """`parse_instant` then `parse_date` of one value (errors as theirs, in that order)."""
    if value is None:
        return None
    if type(value) is str:
        hit = _STAMPS.get(value)
        if hit is not None:
            return hit
    instant = parse_instant(value, what)
    day = parse_date(value, what)
    assert instant is not None and day is not None
    if type(value) is str:
        _remember(_STAMPS, value, (instant, day))
    return instant, day


def codings(concept: Any) -> tuple[tuple[Coding, ...], str]:
    """(system, code) pairs and the concept's words (text and displays, for text matching)."""
    if not isinstance(concept, dict):
        return (), ""
    pairs: list[Coding] = []
    words: list[str] = []
    text = concept.get("text")
    if isinstance(text, str):
        words.append(text)
    listed = concept.get("coding")
    for coding in listed if isinstance(listed, list) else [listed]:
        if not isinstance(coding, dict):
            continue
        system, code = coding.get("system"), coding.get("code")
        if isinstance(system, str) and isinstance(code, str):
            pairs.append((system, code))
        display = coding.get("display")
        if isinstance(display, str):
            words.append(display)
    return tuple(pairs), " | ".join(words)


def first_code(concept: Any) -> str | None:
    """The first code of a CodeableConcept (FHIR status fields such as clinicalStatus)."""
    if isinstance(concept, dict):
        listed = concept.get("coding")
        for coding in listed if isinstance(listed, list) else [listed]:
            if isinstance(coding, dict) and isinstance(coding.get("code"), str):
                return str(coding["code"])
    return None


def describe(codes: tuple[Coding, ...], text: str) -> str:
    """Short words for evidence: the first code, else the text."""
    if codes:
        return codes[0][1] + (f" ({text.split(' | ')[0]})" if text else "")
    return text or "no code"


@dataclass(slots=True)
class Quantity:
    value: float
    unit: str | None
    comparator: str | None = None
    """`<`, `<=`, `>=` or `>`: the value is only a bound ("<500 copies/mL")."""


@dataclass(slots=True)
class ConditionFact:
    id: str
    codes: tuple[Coding, ...]
    text: str
    clinical_status: str | None
    onset: date | None
    recorded: date | None
    abatement: date | None
    abated_undated: bool = False

    @property
    def ref(self) -> str:
        return f"Condition/{self.id}"


@dataclass(slots=True)
class ObservationFact:
    id: str
    codes: tuple[Coding, ...]
    when: date | None
    instant: datetime
    quantity: Quantity | None = None
    integer: int | None = None
    concept: tuple[Coding, ...] = ()
    concept_text: str = ""
    string: str | None = None
    interpretation: tuple[Coding, ...] = ()
    """(system, upper-case code) of each interpretation coding."""
    ref_high: Quantity | None = None
    components: tuple[tuple[tuple[Coding, ...], Quantity | None], ...] = ()
    problem: str | None = None
    """Why the value cannot be read, when it cannot."""

    @property
    def ref(self) -> str:
        return f"Observation/{self.id}"


@dataclass(slots=True)
class ProcedureFact:
    id: str
    codes: tuple[Coding, ...]
    text: str
    when: date | None
    categories: tuple[Coding, ...]

    @property
    def ref(self) -> str:
        return f"Procedure/{self.id}"


@dataclass(slots=True)
class MedicationFact:
    id: str
    resource_type: str
    status: str | None
    codes: tuple[Coding, ...]
    text: str
    routes: tuple[Coding, ...]
    route_text: str
    has_route: bool
    start: date | None
    end: date | None
    reasons: tuple[Coding, ...]

    @property
    def ref(self) -> str:
        return f"{self.resource_type}/{self.id}"


@dataclass(slots=True)
class ImmunizationFact:
    id: str
    codes: tuple[Coding, ...]
    text: str
    when: date | None

    @property
    def ref(self) -> str:
        return f"Immunization/{self.id}"


@dataclass(slots=True)
class AllergyFact:
    id: str
    codes: tuple[Coding, ...]
    text: str
    criticality: str | None
    severities: tuple[str, ...]
    recorded: date | None

    @property
    def ref(self) -> str:
        return f"AllergyIntolerance/{self.id}"


@dataclass(slots=True)
class ConsentFact:
    id: str
    when: date | None
    codes: tuple[Coding, ...]

    @property
    def ref(self) -> str:
        return f"Consent/{self.id}"


@dataclass(slots=True)
class AnswerFact:
    """One boolean answer of a QuestionnaireResponse, for attestations."""

    response_id: str
    link_id: str
    value: bool
    authored: datetime
    author: str | None = None

    @property
    def ref(self) -> str:
        return f"QuestionnaireResponse/{self.response_id}"


Reader = Callable[["Facts"], None]
"""Adds what one run of a patient's lines holds to the facts (see `Facts.defer`)."""

DEFERRABLE = ("conditions", "observations", "procedures", "medications", "immunizations", "allergies", "consents", "answers")
"""The kinds of facts that reading may leave until they are first used."""


def _deferrable(name: str) -> property:
    stored = f"_{name}"

    def get(self: Facts) -> Any:
        pending = self.deferred
        if pending is not None and name in pending:
            self._complete(name)
        return getattr(self, stored)

    return property(get, doc=f"The patient's {name} (reading any left unread first).")


@dataclass(slots=True, eq=False)
class Facts:
    """Everything the engines read about one patient.

    Bulk reading may leave a kind of facts unread (`defer`) until it is first used: a verdict
    that settles on the diagnoses never decodes the results. Every kind and the notes read the
    same as if everything had been read at once.
    """

    patient_id: str
    birth_date: date | None = None
    gender: str | None = None
    _conditions: list[ConditionFact] = field(default_factory=list)
    _observations: dict[Coding, list[ObservationFact]] = field(default_factory=dict)
    """Results by code (system, code), each analyte's in record order."""
    _procedures: list[ProcedureFact] = field(default_factory=list)
    _medications: list[MedicationFact] = field(default_factory=list)
    _immunizations: list[ImmunizationFact] = field(default_factory=list)
    _allergies: list[AllergyFact] = field(default_factory=list)
    _consents: list[ConsentFact] = field(default_factory=list)
    _answers: list[AnswerFact] = field(default_factory=list)
    noted: list[str] = field(default_factory=list)
    """The notes made while reading; read `notes`, which also holds those of deferred reading."""
    birth_date_problem: str | None = None
    birth_date_latest: date | None = None
    """For a partial birthDate ("1980", "1980-06"), its last possible day (`birth_date` is the first)."""
    deferred: dict[str, list[tuple[Reader, int, int]]] | None = field(default=None, compare=False, repr=False)
    """Readers left until their kind is first used: (reader, notes made before it, its turn)."""
    late: list[tuple[int, int, list[str]]] = field(default_factory=list, compare=False, repr=False)
    """Notes of deferred readers that have run, by (notes made before, turn), not yet merged."""
    turns: int = field(default=0, compare=False, repr=False)

    conditions = _deferrable("conditions")
    observations = _deferrable("observations")
    procedures = _deferrable("procedures")
    medications = _deferrable("medications")
    immunizations = _deferrable("immunizations")
    allergies = _deferrable("allergies")
    consents = _deferrable("consents")
    answers = _deferrable("answers")

    def __eq__(self, other: object) -> bool:
        """The same facts and notes, whatever was left unread on either side (which is read now)."""
        if not isinstance(other, Facts):
            return NotImplemented
        return _compared(self) == _compared(other)

    __hash__ = None  # type: ignore[assignment]  # mutable

    @property
    def notes(self) -> list[str]:
        """What could not be read (resource type/id and field), shown with the report, in reading order."""
        self.complete()
        if self.late:
            for mark, _, new in sorted(self.late, key=lambda late: late[:2], reverse=True):
                self.noted[mark:mark] = new
            self.late = []
        return self.noted

    def defer(self, kind: str, reader: Reader) -> None:
        """Leave `reader`, which adds facts of `kind` (one of `DEFERRABLE`), until that kind is used.

        Its notes still take the place they would have had if it had run now.
        """
        if self.deferred is None:
            self.deferred = {}
        self.deferred.setdefault(kind, []).append((reader, len(self.noted), self.turns))
        self.turns += 1

    def complete(self) -> None:
        """Run every deferred reader."""
        while self.deferred:
            self._complete(next(iter(self.deferred)))

    def _complete(self, kind: str) -> None:
        assert self.deferred is not None
        readers = self.deferred.pop(kind)
        if not self.deferred:
            self.deferred = None
        for reader, mark, turn in readers:
            before, self.noted = self.noted, []
            try:
                reader(self)
            finally:
                new, self.noted = self.noted, before
            if new:
                self.late.append((mark, turn, new))


def _compared(facts: Facts) -> tuple[Any, ...]:
    facts.notes  # noqa: B018  (reads whatever was deferred, and merges its notes)
    return tuple(getattr(facts, f.name) for f in fields(Facts) if f.compare)
