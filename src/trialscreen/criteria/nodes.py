"""The criteria tree: immutable, typed nodes that every engine reads.

A node says *what* must hold, never *how* to check it; the FHIR evaluator, the OMOP compiler,
the parser and the questionnaire are separate consumers. A node evaluates to three-valued
truth (true / false / unknown); a criterion maps that truth to pass / fail / unknown
according to its kind. Clinical knowledge is named, not inlined: value sets and analytes are
looked up in `trialscreen.knowledge` by their names.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trialscreen.criteria.duration import Duration

Comparator = Literal["<", "<=", ">", ">="]
Truth = Literal["true", "false", "unknown"]


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    label: str | None = None
    """Plain words for the node, when the default wording does not fit."""
    source: tuple[int, int] | None = None
    """Character span of the criterion text this node was parsed from (parser output)."""


# --- logic -------------------------------------------------------------------------------


class AllOf(_Node):
    """True when every item is true (Kleene conjunction)."""

    kind: Literal["all"] = "all"
    items: tuple[Node, ...]


class AnyOf(_Node):
    """True when any item is true (Kleene disjunction)."""

    kind: Literal["any"] = "any"
    items: tuple[Node, ...]


class Not(_Node):
    """Negation; unknown stays unknown."""

    kind: Literal["not"] = "not"
    item: Node


class Uncertain(_Node):
    """What the item finds needs a person to confirm: true becomes unknown with `reason`."""

    kind: Literal["uncertain"] = "uncertain"
    item: Node
    reason: str


class Ref(_Node):
    """A named definition of the criteria set, so shared logic is written once."""

    kind: Literal["ref"] = "ref"
    name: str


# --- demographics ------------------------------------------------------------------------


class Age(_Node):
    """Age in completed years on the as-of date, within [min, max] inclusive."""

    kind: Literal["age"] = "age"
    min: int | None = None
    max: int | None = None


class Gender(_Node):
    """Administrative gender (FHIR `Patient.gender`) is one of `values`."""

    kind: Literal["gender"] = "gender"
    values: tuple[Literal["male", "female", "other", "unknown"], ...]


# --- clinical events ---------------------------------------------------------------------

ConditionTiming = Literal["ever", "active", "present", "onset_within", "active_or_within"]


class Condition(_Node):
    """A diagnosis in a value set.

    timing: `ever` any clinical status at any time up to the as-of date; `active` active,
    recurrence, relapse or no status and not abated; `present` the same but remission counts
    too; `onset_within` onset (else recorded date) inside `window`; `active_or_within` active,
    or onset, recorded date or abatement inside `window`.
    `phase: relapsed` asks whether the disease is relapsed (true), in remission or absent
    (false), or of unrecorded phase (unknown).
    """

    kind: Literal["condition"] = "condition"
    valueset: str
    timing: ConditionTiming = "ever"
    window: Duration | None = None
    phase: Literal["relapsed"] | None = None


class Procedure(_Node):
    """A procedure in a value set, optionally inside `window`, of a category, not minor."""

    kind: Literal["procedure"] = "procedure"
    valueset: str | None = None
    category: str | None = None
    """Value set the procedure's category must be in."""
    exclude: str | None = None
    """Value set of procedures that do not count (minor procedures)."""
    window: Duration | None = None


MedicationTiming = Literal["current", "ever", "within"]


class Medication(_Node):
    """A medicine in a value set, optionally systemic only and not for a reason.

    timing: `current` in use on the as-of date (an active record that has not ended);
    `ever` any record of use (taken, not cancelled) up to the as-of date; `within` any use
    whose period overlaps `window` before the as-of date, so a past use stops counting on the
    day its last day leaves the window. A `window` without a timing means `within`.
    """

    kind: Literal["medication"] = "medication"
    valueset: str
    systemic_only: bool = True
    non_systemic_routes: str = "non_systemic_route"
    unless_reason: str | None = None
    """Value set of reasons that make the medicine not count (prophylaxis)."""
    timing: MedicationTiming = "current"
    window: Duration | None = None

    @model_validator(mode="before")
    @classmethod
    def _window_means_within(cls, data: Any) -> Any:
        if isinstance(data, dict) and data.get("window") is not None and "timing" not in data:
            return {**data, "timing": "within"}
        return data

    @model_validator(mode="after")
    def _window_matches_timing(self) -> Medication:
        if (self.timing == "within") != (self.window is not None):
            raise ValueError(
                f"medication {self.valueset}: timing 'within' needs a window and only it takes one"
                f" (timing {self.timing!r}, window {self.window!r})"
            )
        return self


class Immunization(_Node):
    """A completed immunization with a vaccine in a value set, inside `window`."""

    kind: Literal["immunization"] = "immunization"
    valueset: str
    window: Duration | None = None


class Allergy(_Node):
    """An allergy or intolerance of a criticality or with a reaction of a severity."""

    kind: Literal["allergy"] = "allergy"
    criticality: tuple[Literal["low", "high", "unable-to-assess"], ...] = ("high",)
    severity: tuple[Literal["mild", "moderate", "severe"], ...] = ("severe",)
    valueset: str | None = None


class Consent(_Node):
    """An active consent of a scope or category in a value set, dated by the as-of date."""

    kind: Literal["consent"] = "consent"
    valueset: str = "research_consent"


# --- measurements ------------------------------------------------------------------------


class Measurement(_Node):
    """The latest result of an analyte against a threshold.

    The threshold is `value` in `unit`, or `uln_multiple` times the upper limit of normal.
    `expect` is for qualitative tests: the node is true when the latest is positive /
    negative. For a quantitative analyte, `if_negative` / `if_positive` say what a
    qualitative result means; without them it is unreadable. `if_missing` is what no
    result in the look-back window means (required tests: unknown).
    """

    kind: Literal["measurement"] = "measurement"
    analyte: str
    op: Comparator | None = None
    value: float | None = None
    unit: str | None = None
    uln_multiple: float | None = None
    expect: Literal["positive", "negative"] | None = None
    if_negative: Truth | None = None
    if_positive: Truth | None = None
    if_missing: Truth = "unknown"
    lookback: Duration | None = None


class Derived(_Node):
    """A value computed from others, such as creatinine clearance by Cockcroft-Gault."""

    kind: Literal["derived"] = "derived"
    quantity: Literal["creatinine_clearance"]
    op: Comparator
    value: float
    unit: str


# --- people's judgement ------------------------------------------------------------------


class Attestation(_Node):
    """A statement a person attests (investigator, patient); read from a QuestionnaireResponse.

    `link_id` defaults to the id of the criterion that holds the node.
    """

    kind: Literal["attestation"] = "attestation"
    question: str
    who: Literal["investigator", "patient", "either"] = "investigator"
    link_id: str | None = None


class ManualReview(_Node):
    """Text no engine can decide; always unknown until a person attests it."""

    kind: Literal["manual_review"] = "manual_review"
    text: str


Node = Annotated[
    AllOf | AnyOf | Not | Uncertain | Ref | Age | Gender | Condition | Procedure | Medication | Immunization | Allergy | Consent | Measurement | Derived | Attestation | ManualReview,
    Field(discriminator="kind"),
]

LEAF_KINDS: tuple[type[_Node], ...] = (
    Age,
    Gender,
    Condition,
    Procedure,
    Medication,
    Immunization,
    Allergy,
    Consent,
    Measurement,
    Derived,
    Attestation,
    ManualReview,
)
LOGIC_KINDS: tuple[type[_Node], ...] = (AllOf, AnyOf, Not, Uncertain, Ref)
ALL_KINDS: tuple[type[_Node], ...] = LOGIC_KINDS + LEAF_KINDS

for _cls in ALL_KINDS:
    _cls.model_rebuild()
