"""Plain words for any node of the tree, for people reading a criteria file or a trial page.

One function per node kind (a completeness test holds every kind to it), reading labels and
titles from the knowledge so the words follow the data.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from trialscreen.criteria import duration
from trialscreen.criteria.nodes import (
    Age,
    Allergy,
    AllOf,
    AnyOf,
    Attestation,
    Condition,
    Consent,
    Derived,
    Gender,
    Immunization,
    ManualReview,
    Measurement,
    Medication,
    Not,
    Procedure,
    Ref,
    Uncertain,
)
from trialscreen.knowledge import Knowledge, knowledge

OPS = {"<=": "at most", "<": "below", ">=": "at least", ">": "above"}
TIMING = {
    "ever": "a record at any time of",
    "active": "active",
    "present": "current",
    "onset_within": "onset within {window} of",
    "active_or_within": "active, or within {window},",
}

Renderer = Callable[[Any, Knowledge], str]
WORDS: dict[str, Renderer] = {}


def _words(kind: str) -> Callable[[Renderer], Renderer]:
    def register(fn: Renderer) -> Renderer:
        WORDS[kind] = fn
        return fn

    return register


def describe(node: Any, kn: Knowledge | None = None) -> str:
    """The node in plain words ('AST at most 3 × the upper limit of normal, within 28 days')."""
    if getattr(node, "label", None) and node.kind not in ("all", "any"):
        return str(node.label)
    return WORDS[node.kind](node, kn or knowledge())


def _join(items: Any, word: str, kn: Knowledge) -> str:
    parts = [
        f"({describe(i, kn)})" if i.kind in ("all", "any") and not i.label else describe(i, kn) for i in items
    ]
    return f" {word} ".join(parts)


@_words("all")
def _all(node: AllOf, kn: Knowledge) -> str:
    return node.label or _join(node.items, "and", kn)


@_words("any")
def _any(node: AnyOf, kn: Knowledge) -> str:
    return node.label or _join(node.items, "or", kn)


@_words("not")
def _not(node: Not, kn: Knowledge) -> str:
    return f"not: {describe(node.item, kn)}"


@_words("uncertain")
def _uncertain(node: Uncertain, kn: Knowledge) -> str:
    return f"{describe(node.item, kn)} (if found, a person must {node.reason})"


@_words("ref")
def _ref(node: Ref, kn: Knowledge) -> str:
    return node.name.replace("_", " ")


@_words("age")
def _age(node: Age, kn: Knowledge) -> str:
    if node.min is not None and node.max is not None:
        return f"aged {node.min} to {node.max} years"
    if node.min is not None:
        return f"aged {node.min} years or more"
    return f"aged {node.max} years or less"


@_words("gender")
def _gender(node: Gender, kn: Knowledge) -> str:
    return " or ".join(node.values)


@_words("condition")
def _condition(node: Condition, kn: Knowledge) -> str:
    title = kn.valueset(node.valueset).title
    if node.phase == "relapsed":
        return f"{title} that has relapsed or is refractory"
    lead = TIMING[node.timing].format(window=duration.words(node.window) if node.window else "")
    return f"{lead} {title}" if node.timing != "active_or_within" else f"{title}, {lead.rstrip(',')}"


@_words("procedure")
def _procedure(node: Procedure, kn: Knowledge) -> str:
    name = kn.valueset(node.valueset).title if node.valueset else (
        kn.valueset(node.category).title if node.category else "a procedure"
    )
    if node.exclude:
        name += f" (not counting {kn.valueset(node.exclude).title})"
    return f"{name} within {duration.words(node.window)}" if node.window else f"{name} at any time"


@_words("medication")
def _medication(node: Medication, kn: Knowledge) -> str:
    name = kn.valueset(node.valueset).title
    name = f"{'systemic ' if node.systemic_only else ''}{name}"
    if node.timing == "within" and node.window:
        text = f"use of {name} within {duration.words(node.window)}"
    elif node.timing == "ever":
        text = f"use of {name} at any time"
    else:
        text = f"currently taking {name}"
    if node.unless_reason:
        text += f" (not for {kn.valueset(node.unless_reason).title})"
    return text


@_words("immunization")
def _immunization(node: Immunization, kn: Knowledge) -> str:
    name = kn.valueset(node.valueset).title
    return f"{name} within {duration.words(node.window)}" if node.window else f"{name} at any time"


@_words("allergy")
def _allergy(node: Allergy, kn: Knowledge) -> str:
    return f"an allergy of {'/'.join(node.criticality)} criticality or with a {'/'.join(node.severity)} reaction"


@_words("consent")
def _consent(node: Consent, kn: Knowledge) -> str:
    return "signed and dated informed consent to the study"


@_words("measurement")
def _measurement(node: Measurement, kn: Knowledge) -> str:
    analyte = kn.analyte(node.analyte)
    window = duration.words(node.lookback or analyte.lookback)
    if node.expect:
        return f"{analyte.label} {node.expect} (latest result within {window})"
    op = OPS[node.op or "<="]
    if node.uln_multiple is not None:
        limit = f"{node.uln_multiple:g} × the upper limit of normal"
    else:
        limit = f"{node.value:g} {node.unit or analyte.unit or ''}".strip()
    return f"{analyte.label} {op} {limit} (latest result within {window})"


@_words("derived")
def _derived(node: Derived, kn: Knowledge) -> str:
    name = node.quantity.replace("_", " ")
    return f"{name} {OPS[node.op]} {node.value:g} {node.unit} (measured, or by Cockcroft–Gault)"


@_words("attestation")
def _attestation(node: Attestation, kn: Knowledge) -> str:
    return f"{node.question} (the {node.who if node.who != 'either' else 'site'} confirms)"


@_words("manual_review")
def _manual(node: ManualReview, kn: Knowledge) -> str:
    return f"needs a person's review: {node.text}"


__all__ = ["WORDS", "describe"]
