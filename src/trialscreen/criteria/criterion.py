"""A trial's criteria: inclusion and exclusion criteria, each a tree or a list of parts."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from trialscreen.criteria.nodes import Node

CriterionKind = Literal["inclusion", "exclusion"]
Origin = Literal["curated", "parsed", "reviewed"]


class Criterion(BaseModel):
    """One criterion of the listing (or a part of a compound one).

    For an inclusion, a true rule passes; for an exclusion, a true rule (the excluding
    condition holds) fails. `applies_when` false makes the criterion pass as not
    applicable (a pregnancy test for a man). A compound criterion has `parts` instead of
    a rule: it fails if any part fails, else is unknown if any is unknown, else passes.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    kind: CriterionKind
    text: str
    """The listing's own words."""
    rule: Node | None = None
    parts: tuple[Criterion, ...] = ()
    applies_when: Node | None = None
    not_applicable: str | None = None
    """Plain words said when `applies_when` is false."""
    origin: Origin = "curated"
    source: tuple[int, int] | None = None
    """Span of the trial's eligibility text this criterion came from (parser output)."""
    note: str | None = None

    @model_validator(mode="after")
    def _rule_or_parts(self) -> Criterion:
        if (self.rule is None) == (not self.parts):
            raise ValueError(f"criterion {self.id}: give exactly one of `rule` or `parts`")
        for part in self.parts:
            if not part.id.startswith(self.id + "."):
                raise ValueError(f"criterion {self.id}: part id {part.id} must start with '{self.id}.'")
            if part.kind != self.kind:
                raise ValueError(f"criterion {self.id}: part {part.id} must be an {self.kind}")
        return self

    def walk(self) -> Iterator[Criterion]:
        """This criterion and its parts, depth first."""
        yield self
        for part in self.parts:
            yield from part.walk()


class CriteriaSet(BaseModel):
    """The computable criteria of one trial, versioned as a file."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    trial: str
    """NCT id."""
    version: str = "1"
    title: str | None = None
    definitions: dict[str, Node] = Field(default_factory=dict)
    """Named sub-trees shared by several criteria (`ref` nodes point here)."""
    criteria: tuple[Criterion, ...]

    def walk(self) -> Iterator[Criterion]:
        for criterion in self.criteria:
            yield from criterion.walk()

    def by_id(self) -> dict[str, Criterion]:
        return {c.id: c for c in self.walk()}
