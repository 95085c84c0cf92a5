"""Split an eligibility text into inclusion and exclusion items, keeping every span.

ClinicalTrials.gov texts come as markdown-ish lists ("* ", "1. ", nested by indentation),
with headings ("Inclusion Criteria:"), sub-headings ("ISA specific:"), notes and paragraphs;
the seed writes "- • 1."; Chia writes one criterion a line. The splitter keeps the offsets
into the original text so every criterion points back at the words it came from, and drops
nothing: headings travel with their items, notes become the note of the item above.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

Kind = Literal["inclusion", "exclusion"]

_HEADING = re.compile(
    r"^(?:[-*•·\\]\s*)*(?:key\s+|main\s+|general\s+|major\s+|additional\s+)?"
    r"(?P<kind>inclusion|exclusion|eligibility|exclusionary|inclusionary)"
    r"(?:\s+(?:criteria|criterion|conditions))?\b[^:\n]{0,80}?:\s*",
    re.IGNORECASE,
)
_HEADING_BARE = re.compile(
    r"^(?:[-*•·\\]\s*)*(?:key\s+)?(?P<kind>inclusion|exclusion)\s+criteria\s*\.?\s*$", re.IGNORECASE
)
# One list marker; markers may be stacked ("- • 1.").
_MARKER = re.compile(
    r"(?:\\?[-*•·◦▪●○➢→]|\\?\d{1,2}\s?[.)](?!\d)|\(\d{1,2}\)|[a-hj-z][.)](?=\s)|\([a-z]\)"
    r"|(?:i|ii|iii|iv|v|vi|vii|viii|ix|x)[.)](?=\s)|[①-⑳]|\\?\d{1,2}\\\.)\s*"
)
# A section with nothing in it: "Exclusion Criteria:" then "None" or "N/A". Exact markers only.
_EMPTY = re.compile(r"(?:n/?a|none|not\s+applicable)\.?", re.I)
_NOTE = re.compile(r"^(?:\*\*)?(?:note|notes|nb|n\.b\.)\b\s*[:.-]?", re.IGNORECASE)
_ESCAPE = re.compile(r"\\([<>*\[\]_\-#.~+`!()=])")


@dataclass(slots=True)
class Item:
    """One listed criterion: its words, where they are, and what it nests."""

    kind: Kind
    text: str
    """The criterion's words, markdown escapes undone, markers removed, lines joined."""
    start: int
    end: int
    """Span of the criterion's words in the original text."""
    heading: str | None = None
    notes: list[str] = field(default_factory=list)
    children: list[Item] = field(default_factory=list)
    indent: int = 0
    marker: str = ""


def unescape(text: str) -> str:
    r"""Undo ClinicalTrials.gov's markdown escapes (`\>` is `>`)."""
    return _ESCAPE.sub(r"\1", text)


def _strip_markers(line: str) -> tuple[str, int, str]:
    """The line without list markers, how many characters they took, and the last marker's type
    ('symbol', 'number', 'letter'; '' for none)."""
    pos = 0
    kind = ""
    while True:
        m = _MARKER.match(line, pos)
        if not m or m.end() == pos:
            break
        kind = _marker_type(m.group().strip())
        pos = m.end()
    return line[pos:], pos, kind


def _marker_type(marker: str) -> str:
    core = re.sub(r"[()\\.\s]", "", marker)
    if core.isdigit() or re.fullmatch(r"[①-⑳]", core):
        return "number"
    if core.isalpha():
        return "letter"
    return "symbol"


def _heading_kind(word: str, current: Kind) -> Kind:
    w = word.lower()
    if w.startswith("exclusion"):
        return "exclusion"
    if w.startswith("inclusion"):
        return "inclusion"
    return current


def split_criteria(text: str, default: Kind = "inclusion") -> list[Item]:
    """The top-level items of `text`, each with its nested children."""
    kind: Kind = default
    heading: str | None = None
    items: list[Item] = []
    stack: list[Item] = []  # open items, outermost first
    last: Item | None = None
    pending_heading: str | None = None
    offset = 0
    blank_before = True
    for raw in text.splitlines(keepends=True):
        line_start = offset
        offset += len(raw)
        line = raw.rstrip("\r\n")
        stripped = line.lstrip()
        indent = len(line) - len(stripped)
        if not stripped.strip():
            blank_before = True
            continue
        m = _HEADING.match(stripped) or _HEADING_BARE.match(stripped)
        if m and _is_heading(stripped, m):
            kind = _heading_kind(m.group("kind"), kind)
            heading = None
            pending_heading = None
            stack.clear()
            last = None
            rest = stripped[m.end():]
            if not rest.strip():
                blank_before = True
                continue
            stripped = rest
            indent = 0
            line_start += len(line) - len(rest)
            line = rest
        body, marker_len, marker = _strip_markers(stripped)
        has_marker = bool(marker)
        body_start = line_start + (len(line) - len(stripped)) + marker_len
        body_clean = body.rstrip()
        if not body_clean.strip(" -*•") or _EMPTY.fullmatch(body_clean.strip()):
            continue  # an empty section's marker is no criterion
        if _NOTE.match(body_clean) and last is not None:
            last.notes.append(unescape(body_clean))
            blank_before = False
            continue
        if not has_marker and _looks_like_heading(body_clean, blank_before):
            pending_heading = unescape(body_clean).rstrip(":").strip()
            heading = pending_heading
            stack.clear()
            last = None
            blank_before = False
            continue
        if (
            not has_marker
            and last is not None
            and not blank_before
            and _continues(last.text, body_clean)
        ):
            _extend(last, text, body_start, body_clean)
            continue
        item = Item(
            kind=kind,
            text=unescape(body_clean),
            start=body_start,
            end=body_start + len(body_clean),
            heading=heading,
            indent=indent,
            marker=marker,
        )
        while stack and stack[-1].indent >= indent and not _lead_in_child(stack[-1], item):
            stack.pop()
        if stack:
            stack[-1].children.append(item)
        else:
            stack.clear()
            items.append(item)
        stack.append(item)
        last = item
        blank_before = False
    return items


def only_empty_sections(text: str) -> bool:
    """Every line is a heading or an empty-section marker ('Exclusion Criteria: None'): the text
    states that there are no criteria, so there is nothing for a person to review."""
    found = False
    for raw in text.splitlines():
        line = raw.strip()
        if not line:
            continue
        m = _HEADING.match(line) or _HEADING_BARE.match(line)
        if m and _is_heading(line, m):
            line = line[m.end():].strip()
            if not line:
                continue
        body = _strip_markers(line)[0].strip()
        if body.strip(" -*•") and not _EMPTY.fullmatch(body):
            return False
        found = True
    return found


def _lead_in_child(parent: Item, item: Item) -> bool:
    """'3. Adequate organ function:' then '* ANC ...' at the same indentation: a sub-list."""
    return (
        parent.text.rstrip().endswith(":")
        and bool(parent.marker)
        and bool(item.marker)
        and item.marker != parent.marker
    )


def _is_heading(line: str, m: re.Match[str]) -> bool:
    """'Inclusion criteria:' is a heading; 'Inclusion in another study: ...' is not."""
    word = m.group("kind").lower()
    head = line[: m.end()].lower()
    return "criteri" in head or word in ("inclusion", "exclusion") and len(head) < 40


def _looks_like_heading(body: str, blank_before: bool) -> bool:
    """Sub-headings: 'ISA specific:', 'PATIENT CHARACTERISTICS:', 'Index Participants'."""
    if body.endswith(":"):
        return True
    words = body.split()
    return (
        blank_before
        and len(words) <= 5
        and not body.endswith((".", ";"))
        and (body.isupper() or all(w[:1].isupper() for w in words if w[:1].isalpha()))
    )


def _continues(previous: str, body: str) -> bool:
    """A wrapped line: the item above did not end a sentence and this starts lower-case."""
    return body[:1].islower() and not previous.rstrip().endswith((".", ";", ":"))


def _extend(item: Item, text: str, start: int, body: str) -> None:
    item.text = item.text + " " + unescape(body)
    item.end = start + len(body)
