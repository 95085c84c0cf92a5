"""A trial's eligibility text to a CriteriaSet plus the value sets and analytes it names."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from trialscreen.criteria.criterion import CriteriaSet, Criterion
from trialscreen.criteria.nodes import AllOf, AnyOf, Attestation, ManualReview, Node, Not, Uncertain
from trialscreen.parse.clauses import ClauseParser, Kind, Parsed, Sink
from trialscreen.parse.split import Item, only_empty_sections, split_criteria

_LEAD_IN = re.compile(
    r"^(?P<lead>[^:;]{2,90}?(?:defined\s+as|as\s+follows|the\s+following(?:\s+\w+){0,3}|as\s+defined\s+by|as\s+indicated\s+by[^:]*)?)\s*:\s*",
    re.I,
)


_FULL_WIDTH = str.maketrans("（）［］：；，＜＞＝．～", "()[]:;,<>=.~")

_AND = re.compile(r",?\s+and\s+(?![^()]*\))", re.I)


@dataclass(slots=True)
class ParsedCriteria:
    """The parsed criteria and the knowledge they name that the built-in knowledge lacks."""

    criteria: CriteriaSet
    valuesets: dict[str, dict[str, Any]] = field(default_factory=dict)
    analytes: set[str] = field(default_factory=set)


def _top_level_split(text: str, sep: str = ";") -> list[tuple[int, int]]:
    """Spans of `text` between separators outside brackets."""
    spans: list[tuple[int, int]] = []
    depth = 0
    start = 0
    for i, ch in enumerate(text):
        if ch in "([{":
            depth += 1
        elif ch in ")]}":
            depth = max(0, depth - 1)
        elif ch == sep and depth == 0:
            spans.append((start, i))
            start = i + 1
    spans.append((start, len(text)))
    out = []
    for s, e in spans:
        chunk = text[s:e]
        lead = len(chunk) - len(chunk.lstrip())
        trail = len(chunk.rstrip(" .;,\t"))
        if trail > lead:
            out.append((s + lead, s + trail))
    return out


class CriteriaParser:
    def __init__(self) -> None:
        self.sink = Sink()
        self.clauses = ClauseParser(self.sink)

    def parse_text(self, text: str, trial: str, title: str | None = None, default: Kind = "inclusion") -> ParsedCriteria:
        items = split_criteria(text, default)
        if not items and text.strip() and not only_empty_sections(text):  # nothing looked like a list: keep the words for review
            stripped = text.strip()
            start = text.index(stripped)
            items = [Item(kind=default, text=stripped, start=start, end=start + len(stripped))]
        counters = {"inclusion": 0, "exclusion": 0}
        criteria: list[Criterion] = []
        for item in items:
            counters[item.kind] += 1
            prefix = "inc" if item.kind == "inclusion" else "exc"
            criteria.append(self.criterion(item, f"{prefix}-{counters[item.kind]}"))
        cs = CriteriaSet(trial=trial, title=title, criteria=tuple(criteria), definitions=dict(self.sink.definitions))
        return ParsedCriteria(cs, dict(self.sink.valuesets), set(self.sink.analytes))

    def criterion(self, item: Item, cid: str) -> Criterion:
        note = "; ".join(item.notes) or None
        if item.heading:
            note = f"Under '{item.heading}'" + (f". {note}" if note else "")
        if item.children:
            parts = [self.criterion(child, f"{cid}.{i}") for i, child in enumerate(item.children, 1)]
            lead = self.parse_item(item.text, item.kind, cid, (item.start, item.end))
            if lead.parts or not isinstance(lead.rule, ManualReview):
                parts.insert(0, lead.model_copy(update={"id": f"{cid}.0", "note": None}) if not lead.parts else _renumber(lead, f"{cid}.0"))
            if re.search(r"\b(?:one|any|either)\s+of\s+the\s+following\b|\bat\s+least\s+one\b", item.text, re.I):
                # One criterion with an `any` rule: the alternatives' words go to the note,
                # their spans (relative to their own words) are dropped.
                alternatives = [p for p in parts if not p.id.endswith(".0")] or parts
                rule = AnyOf(items=tuple(_unsourced(_rule_of(p)) for p in alternatives))
                listed = "; ".join(f"({i}) {child.text}" for i, child in enumerate(item.children, 1))
                note = f"Any of: {listed}" + (f". {note}" if note else "")
                return Criterion(id=cid, kind=item.kind, text=item.text, rule=rule, origin="parsed", source=(item.start, item.end), note=note)
            return Criterion(id=cid, kind=item.kind, text=item.text, parts=tuple(parts), origin="parsed", source=(item.start, item.end), note=note)
        crit = self.parse_item(item.text, item.kind, cid, (item.start, item.end))
        return crit.model_copy(update={"note": note}) if note else crit

    def parse_item(self, text: str, kind: Kind, cid: str, source: tuple[int, int] | None) -> Criterion:
        """One criterion's words: whole-item recognisers first, then clause by clause.

        Full-width punctuation ('（ECOG）', '＜') is read as its ASCII form (one character for
        one, so every span still points into the criterion's own words, which it keeps).
        """
        ascii_text = text if text.isascii() else text.translate(_FULL_WIDTH)
        if ascii_text != text:
            return self._parse_item(ascii_text, kind, cid, source).model_copy(update={"text": text})
        return self._parse_item(text, kind, cid, source)

    def _parse_item(self, text: str, kind: Kind, cid: str, source: tuple[int, int] | None) -> Criterion:
        whole = self.clauses.whole(text, kind)
        if whole is not None:
            return self._criterion(cid, kind, text, whole, source)
        body_start = 0
        lead = _LEAD_IN.match(text)
        if lead and len(text) - lead.end() > 3 and not _names_a_measurement(lead.group("lead")):
            body_start = lead.end()
        pieces: list[tuple[int, int, Parsed]] = []
        for s, e in _top_level_split(text[body_start:]):
            pieces.extend(self._pieces(text, s + body_start, e + body_start, kind))
        if len(pieces) == 1:
            return self._criterion(cid, kind, text, pieces[0][2], source)
        names = _part_names([parsed.node for _, _, parsed in pieces])
        parts = [
            self._criterion(f"{cid}.{name}", kind, text[s:e], parsed, (source[0] + s, source[0] + e) if source else None)
            for name, (s, e, parsed) in zip(names, pieces, strict=True)
        ]
        return Criterion(id=cid, kind=kind, text=text, parts=tuple(parts), origin="parsed", source=source)

    def _pieces(self, text: str, start: int, end: int, kind: Kind) -> list[tuple[int, int, Parsed]]:
        """A clause, or its 'and'-joined halves when each half is computable and the whole is not."""
        piece = text[start:end]
        # the whole criterion already went through the whole-criterion recognisers
        parsed = self.clauses.parse(piece, kind, whole=piece.strip(" .;") != text.strip(" .;"))
        if not isinstance(parsed.node, (ManualReview, Uncertain)):
            return [(start, end, parsed)]
        halves = [(m.start(), m.end()) for m in _AND.finditer(piece)]
        if halves:
            bounds = [0] + [x for h in halves for x in h] + [len(piece)]
            spans = [(bounds[i], bounds[i + 1]) for i in range(0, len(bounds), 2)]
            subs = [self.clauses.parse(piece[s:e], kind) for s, e in spans]
            if all(not isinstance(p.node, (ManualReview, Uncertain)) for p in subs):
                return [(start + s, start + e, p) for (s, e), p in zip(spans, subs, strict=True)]
        if isinstance(parsed.node, ManualReview):
            parsed = Parsed(ManualReview(text=piece, source=(0, len(piece)), label=parsed.node.label))
        return [(start, end, parsed)]

    @staticmethod
    def _criterion(cid: str, kind: Kind, text: str, parsed: Parsed, source: tuple[int, int] | None) -> Criterion:
        return Criterion(
            id=cid,
            kind=kind,
            text=text,
            rule=parsed.node,
            applies_when=parsed.applies_when,
            not_applicable=parsed.not_applicable,
            origin="parsed",
            source=source,
        )


def _rule_of(criterion: Criterion) -> Node:
    if criterion.rule is not None:
        return criterion.rule
    return AllOf(items=tuple(_rule_of(p) for p in criterion.parts))


def _part_name(node: Node) -> str | None:
    """A readable name for a part: its analyte, value set or topic ('inc-5.ecog')."""
    if isinstance(node, (AllOf, AnyOf)):
        return _part_name(node.items[0]) if node.items else None
    if isinstance(node, (Not, Uncertain)):
        return _part_name(node.item)
    for attr in ("analyte", "valueset", "quantity"):
        value = getattr(node, attr, None)
        if isinstance(value, str) and re.fullmatch(r"[a-z][a-z0-9_]*", value):
            return value
    if isinstance(node, Attestation) and re.search(r"survival|life expectancy", node.question, re.I):
        return "survival"
    return None


def _part_names(nodes: list[Node]) -> list[str]:
    """Names of the parts of one criterion: readable where possible, numbers otherwise, unique."""
    out: list[str] = []
    for i, node in enumerate(nodes, 1):
        name = _part_name(node) or str(i)
        if name in out:
            name = f"{name}_{i}"
        out.append(name)
    return out


def _names_a_measurement(text: str) -> bool:
    """'Platelet count: ≥ 100,000/mm3' has no lead-in: the words before the colon are the analyte."""
    from trialscreen.parse.lexicon import lexicon

    return any(hit.entry.category == "measurement" for hit in lexicon().scan(text, icd=False))


def _unsourced(node: Node) -> Node:
    updates: dict[str, Any] = {"source": None}
    if isinstance(node, (AnyOf, AllOf)):
        updates["items"] = tuple(_unsourced(i) for i in node.items)
    elif isinstance(node, (Not, Uncertain)):
        updates["item"] = _unsourced(node.item)
    return node.model_copy(update=updates)


def _renumber(criterion: Criterion, cid: str) -> Criterion:
    parts = tuple(_renumber(p, f"{cid}.{i}") for i, p in enumerate(criterion.parts, 1))
    return criterion.model_copy(update={"id": cid, "parts": parts, "note": None})


def parse_text(text: str, trial: str = "NCT00000000", title: str | None = None, default: Kind = "inclusion") -> ParsedCriteria:
    """Parse an eligibility text (inclusion and exclusion headings inside) into criteria."""
    return CriteriaParser().parse_text(text, trial, title, default)
