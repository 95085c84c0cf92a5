"""The pre-screening questionnaire: questions, answer options, units and skip logic.

Generated from a trial's criteria tree (`generate.py`), rendered as a web form and as a FHIR
R4 `Questionnaire` (`fhir.py`); answers become FHIR resources (`answers.py`). Skip logic is
FHIR `enableWhen` semantics, evaluated the same way in Python and in the page's JavaScript.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from trialscreen.criteria import Node

QuestionType = Literal["choice", "integer", "quantity"]
Operator = Literal["exists", "=", "!=", ">", "<", ">=", "<="]
Section = Literal[
    "about", "diagnosis", "daily", "tests", "history", "medicines", "pregnancy", "agreements"
]

SECTION_TITLES: dict[str, str] = {
    "about": "About you",
    "diagnosis": "Your diagnosis",
    "daily": "Daily life",
    "tests": "Recent test results",
    "history": "Your health history",
    "medicines": "Medicines and vaccines",
    "pregnancy": "Pregnancy",
    "agreements": "What the trial asks of you",
}
SECTION_ORDER: tuple[str, ...] = tuple(SECTION_TITLES)

YES, NO, UNKNOWN = "yes", "no", "unknown"
"""Answer codes of yes/no questions; `unknown` is "I don't know", offered on every question."""


@dataclass(frozen=True, slots=True)
class Option:
    code: str
    display: str


@dataclass(frozen=True, slots=True)
class UnitOption:
    """A unit a person may find on a report; value × factor is the value in the compared unit."""

    code: str  # UCUM
    display: str
    factor: float


@dataclass(frozen=True, slots=True)
class Quantity:
    value: float
    unit: str  # UCUM code


AnswerValue = str | int | float | bool | Quantity


@dataclass(frozen=True, slots=True)
class EnableWhen:
    """FHIR `Questionnaire.item.enableWhen`: show a question when an earlier answer matches."""

    question: str
    operator: Operator
    answer: AnswerValue


@dataclass(frozen=True, slots=True)
class Guard:
    """Several `EnableWhen` joined by `behavior` (FHIR `enableBehavior`); empty means always."""

    conditions: tuple[EnableWhen, ...] = ()
    behavior: Literal["all", "any"] = "all"

    @property
    def always(self) -> bool:
        return not self.conditions


ALWAYS = Guard()


@dataclass(slots=True)
class Question:
    """One question, the node it asks about, and the criteria its answer can change."""

    link_id: str
    text: str
    type: QuestionType
    section: str
    node: Node
    help: str | None = None
    options: tuple[Option, ...] = ()
    units: tuple[UnitOption, ...] = ()
    enable: Guard = ALWAYS
    criteria: list[str] = field(default_factory=list)
    """Ids of the criteria (and parts) whose result this answer can change."""
    attest: str | None = None
    """For a statement the patient attests: the linkId the evaluator reads (criterion id)."""

    @property
    def option_codes(self) -> tuple[str, ...]:
        return tuple(o.code for o in self.options)


@dataclass(slots=True)
class Questionnaire:
    """A trial's pre-screening questionnaire, questions in the order they are asked."""

    trial: str
    version: str
    title: str
    questions: list[Question]
    site_checks: list[str] = field(default_factory=list)
    """Ids of criteria no patient answer can decide (consent, investigators' judgement)."""

    def by_id(self) -> dict[str, Question]:
        return {q.link_id: q for q in self.questions}

    def sections(self) -> list[tuple[str, list[Question]]]:
        """Questions grouped by section, sections in asking order, empty ones left out."""
        out: list[tuple[str, list[Question]]] = []
        for key in SECTION_ORDER:
            qs = [q for q in self.questions if q.section == key]
            if qs:
                out.append((SECTION_TITLES[key], qs))
        return out
