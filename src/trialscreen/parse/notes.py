"""Words around lab thresholds that add nothing a record would decide differently.

- "Adequate renal function as evidenced by eGFR ≥ 60 mL/min": the lead-in names what the
  thresholds define; read only when the thresholds test every organ it names.
- "Hemoglobin ≥ 9 g/dL (patients may be transfused to meet this criterion)": the latest result
  counts, whatever raised it, which is how a Measurement is read already.
- "Meets DSM-5 criteria for generalised anxiety disorder": the manual a diagnosis follows; the
  record's diagnosis is the fact (how it was assessed, 'by structured interview', is not read).

Each finder returns the spans its words take; the clause parser counts them as read.
"""

from __future__ import annotations

import re
from functools import cache
from pathlib import Path
from typing import Any

import yaml

from trialscreen.criteria.nodes import AllOf, AnyOf, Condition, Derived, Measurement, Node, Not, Uncertain

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


_MANUAL = re.compile(
    r"(?:\bthe\s+)?\bdiagnostic\s+and\s+statistical\s+manual(?:\s+of\s+mental\s+disorders)?"
    r"(?:\s*,?\s*(?:version\s+)?(?:iv|v|5|third|fourth|fifth|3rd|4th|5th)(?:\s+edition)?)?(?:\s*,?\s*text\s+revision)?"
    r"|\bdsm\s*[-‐–]?\s*(?:iv|v|5|iii|4)(?:\s*[-‐–]?\s*tr)?\b"
    r"|\bicd\s*[-‐–]?\s*1[01](?:\s*[-‐–]?\s*cm)?\b",
    re.I,
)
_DIAGNOSTIC_WORDS = re.compile(
    r"\b(?:meets?|meeting|met|fulfil+s?|fulfil+ing|fulfil+ment|satisf(?:y|ies|ying)|according\s+to|as\s+defined\s+(?:by|in)"
    r"|based\s+on|(?:diagnostic\s+)?criteria(?:\s+(?:for|of))?|diagnos(?:is|ed)(?:\s+(?:of|with))?|by|per)\b",
    re.I,
)


_MORE = re.compile(
    r"\b(?:except\w*|excluding|other\s+than|within|past|last|lifetime|months?|years?|weeks?|days?)\b", re.I
)
_INSTRUMENT = re.compile(r"\b(?:interview|scid|mini|questionnaire|scale|inventory|assessed|detected|screened)\b", re.I)


@cache
def _data() -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    return loaded


@cache
def _transfusable() -> frozenset[str]:
    """Analytes a transfusion can bring to the level (data: `transfusable`)."""
    return frozenset(_data()["transfusable"])


@cache
def _organs() -> dict[str, frozenset[str]]:
    """Each lead-in word of an organ to the analytes that test it."""
    out: dict[str, frozenset[str]] = {}
    for row in _data()["organs"]:
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
    if analytes & _transfusable() and "ransfus" in text:
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


def _condition_only(node: Node) -> bool:
    if isinstance(node, Condition):
        return True
    if isinstance(node, (Not, Uncertain)):
        return _condition_only(node.item)
    if isinstance(node, (AllOf, AnyOf)):
        return all(_condition_only(i) for i in node.items)
    return False


def read_diagnostic_manual(text: str, nodes: list[Node]) -> list[tuple[int, int]]:
    """'Meets DSM-IV criteria for …', 'according to ICD-10': the manual and the words that cite it,
    when the one node read is a condition (the diagnosis the manual defines)."""
    lowered = text.lower()
    if "dsm" not in lowered and "manual" not in lowered and "icd" not in lowered:
        return []
    if _INSTRUMENT.search(text) or _MORE.search(text):
        # an interview or scale names conditions in its title ('SCID for DSM-IV Personality
        # Disorders'); exceptions and time frames beside the manual are left to the other rules
        return []
    manuals = [m.span() for m in _MANUAL.finditer(text)]
    if not manuals or len(nodes) != 1 or not _condition_only(nodes[0]):
        return []
    return manuals + [m.span() for m in _DIAGNOSTIC_WORDS.finditer(text)]


def organ_table() -> dict[str, Any]:
    """The organ table as read (for tests)."""
    return dict(_organs())
