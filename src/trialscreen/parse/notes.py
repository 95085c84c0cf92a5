"""Words around lab thresholds that add nothing a record would decide differently.

- "Adequate renal function as evidenced by eGFR ≥ 60 mL/min": the lead-in names what the
  thresholds define; read only when the thresholds test every organ it names.
- "Hemoglobin ≥ 9 g/dL (patients may be transfused to meet this criterion)": the latest result
  counts, whatever raised it, which is how a Measurement is read already.

Each finder returns the spans its words take; the clause parser counts them as read.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from trialscreen.criteria.nodes import AllOf, AnyOf, Derived, Measurement, Node

_DATA = Path(__file__).with_name("data") / "organ_tests.yaml"

_ENUMERATION = r"(?:\(?(?:\d{1,2}|[a-h]|[ivx]{1,4})[.)]\s*)?"
_ADEQUACY = re.compile(
    r"^\s*" + _ENUMERATION + r"(?:(?:patients?|subjects?|participants?)\s+(?:must\s+)?(?:have|has|with)\s+)?"
    r"(?P<word>adequate|sufficient|acceptable|appropriate|normal|abnormal|impaired|inadequate|insufficient)\s+"
    r"(?P<organs>(?:[a-z-]+(?:\s*(?:,|/|&|\band\b|\bor\b)\s*|\s+)){1,6}?)"
    r"(?:functions?|reserves?)\b\s*"
    r"(?:(?:as\s+)?(?:evidenced|documented|defined|demonstrated|shown|indicated|assessed|determined)\s+by\b|defined\s+as\b|as\s+follows\b|[:(,])?",
    re.I,
)
_POSITIVE = frozenset({"adequate", "sufficient", "acceptable", "appropriate", "normal"})
_JOINERS = frozenset({"and", "or", "bone", "organ", "organs", "end", "system", "blood", "laboratory"})
_TRANSFUSED = re.compile(
    r"\(?\s*(?:note\s*:\s*)?(?:(?:the\s+)?(?:patients?|subjects?|participants?)\s+)?(?:may|can|are\s+allowed\s+to|is\s+allowed\s+to)\s+"
    r"(?:be\s+transfused|receive\s+(?:a\s+)?(?:blood\s+|red\s+(?:blood\s+)?cell\s+|platelet\s+)?transfusions?)"
    r"(?:\s+(?:or|and/or)\s+receive\s+(?:erythropoietin|epo|growth\s+factors?))?"
    r"\s+to\s+(?:meet|maintain|achieve|reach)(?:\s+or\s+exceed)?\s+(?:this|these|the)\s+(?:criterion|criteria|level|levels|value|values|threshold)\s*\)?",
    re.I,
)
_TRANSFUSED_ANALYTES = frozenset({"hemoglobin", "platelets"})


@cache
def _organs() -> dict[str, frozenset[str]]:
    """Each lead-in word of an organ to the analytes that test it."""
    out: dict[str, frozenset[str]] = {}
    for row in yaml.safe_load(_DATA.read_text(encoding="utf-8")):
        for word in row["words"]:
            out[word.lower()] = frozenset(row["analytes"])
    return out


def _measured(node: Node) -> set[str] | None:
    """The analytes of a tree of thresholds; None when anything but thresholds is in it."""
    if isinstance(node, Measurement):
        return {node.analyte} if node.op is not None else None
    if isinstance(node, Derived):
        return {node.quantity}
    if isinstance(node, (AllOf, AnyOf)):
        out: set[str] = set()
        for item in node.items:
            found = _measured(item)
            if found is None:
                return None
            out |= found
        return out
    return None


def read_notes(text: str, nodes: list[Node], kind: str) -> list[tuple[int, int]]:
    """Spans of `text` that an adequacy lead-in or a transfusion note takes, given the nodes read."""
    analytes: set[str] = set()
    for node in nodes:
        found = _measured(node)
        if found is None:
            return []
        analytes |= found
    spans = []
    lead = _adequacy(text, analytes, kind)
    if lead is not None:
        spans.append(lead)
    if analytes & _TRANSFUSED_ANALYTES and "ransfus" in text:
        spans.extend(m.span() for m in _TRANSFUSED.finditer(text))
    return spans


def _adequacy(text: str, analytes: set[str], kind: str) -> tuple[int, int] | None:
    lowered = text.lower()
    if "function" not in lowered and "reserve" not in lowered:
        return None
    m = _ADEQUACY.match(text)
    if not m:
        return None
    if (m.group("word").lower() in _POSITIVE) != (kind == "inclusion"):
        return None  # "normal renal function" as an exclusion, "impaired" as an inclusion: not a definition
    organs = _organs()
    named: list[frozenset[str]] = []
    generic = False
    for word in re.findall(r"[a-z]+", m.group("organs").lower()):
        if word in organs:
            named.append(organs[word])
        elif word in ("organ", "organs"):
            generic = True
        elif word not in _JOINERS:
            return None  # a word the lead-in table does not know
    if not named and not generic:
        return None
    if any(not (tests & analytes) for tests in named):
        return None  # an organ named whose function no threshold here tests
    return m.span()


def organ_table() -> dict[str, Any]:
    """The organ table as read (for tests)."""
    return dict(_organs())
