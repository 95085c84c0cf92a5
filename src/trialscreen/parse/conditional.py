"""Lab thresholds with an exception: 'AST, ALT < 2.5 × ULN (< 5 × ULN if liver metastases are present)'.

A looser threshold for people with a condition is exact as, per analyte,
any(base threshold, all(condition, looser threshold)) in an inclusion: the base threshold holds
for everyone, and whoever passes it also passes the looser one. An exclusion reads the mirror
image, all(base, any(not condition, looser)). 'Unless known Gilbert's syndrome' with no second
threshold lifts the limit for the condition: any(base, condition). Only when the second
threshold is really looser, in the same unit, and every word around it is one of a few cue
words; otherwise None, and the clause parser's precision rules leave the line to a person.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

import yaml

from trialscreen.criteria.nodes import AllOf, AnyOf, Condition, ManualReview, Measurement, Node, Not
from trialscreen.parse.lexicon import TOKEN, Hit
from trialscreen.parse.measures import _COUNT_UNIT, _ULN, _UNIT, measurement_at
from trialscreen.parse.quantities import _NUM, COMPARATOR

if TYPE_CHECKING:
    from trialscreen.parse.clauses import ClauseParser, Kind

_DATA = Path(__file__).with_name("data") / "exceptions.yaml"

# a threshold with its comparator and a unit or a multiple of the ULN ('< 5 × ULN', '≤ 3.0 mg/dL')
_BARE = re.compile(
    rf"(?P<cmp>{COMPARATOR.pattern})\s*(?P<num>{_NUM})\s*(?:(?P<uln>{_ULN})|(?P<count>{_COUNT_UNIT})|(?P<unit>{_UNIT})(?![a-z]))",
    re.IGNORECASE,
)
_DIGIT = re.compile(r"\d")
_QUICK = re.compile(r"[<>≤≥]|than|up\s+to|above|below|under|over|exceed|at\s+(?:least|most)|maximum", re.I)
# every wording names its condition after one of these
_CUE = re.compile(r"\b(?:if|with|presence|unless|except|case|for|in)\b|metasta|ilbert", re.I)
# words that may surround the exception's condition and threshold (cue, subject, verb)
_AROUND = frozenset(
    ["if", "in", "the", "presence", "of", "patients", "patient", "subjects", "subject", "participants",
     "participant", "with", "for", "case", "known", "documented", "confirmed", "demonstrable", "are", "is",
     "present", "there", "has", "have", "who", "or", "and", "but", "note", "acceptable", "allowed", "permitted",
     "a", "an", "those", "occurred"]
)  # fmt: skip
_NEGATIVE = frozenset(["no", "not", "without", "absence", "non"])
_POSITIVE_CUE = frozenset(["if", "in", "with", "for", "presence", "case"])
_UNLESS = re.compile(r"^[\s,;(]*(?:(?:i?uln|unl)\s*[;,)]?\s*)?(?:unless|except(?:\s+(?:for|in))?)\b", re.I)
_JOIN_CONDITIONS = re.compile(r"\s*(?:,|/|\bor\b|\band/or\b)\s*(?:\band/or\b|\bor\b)?\s*", re.I)
_UP = {"<": True, "<=": True, ">": False, ">=": False}


@dataclass(frozen=True, slots=True)
class _Named:
    """A condition named in the exception: its node and where it stands."""

    start: int
    end: int
    node: Condition


@cache
def _extra_conditions() -> list[tuple[re.Pattern[str], dict[str, Any]]]:
    """The exception vocabulary's terms, longest first, each as a pattern (case-insensitive)."""
    rows = yaml.safe_load(_DATA.read_text(encoding="utf-8"))
    out = []
    for row in rows:
        terms = sorted(row["terms"], key=len, reverse=True)
        alts = "|".join(re.escape(t).replace("'", "['’]") for t in terms)
        out.append((re.compile(rf"\b(?:{alts})(?![\w'’])", re.I), row))
    return out


def read_conditional(parser: ClauseParser, text: str, kind: Kind) -> Node | None:
    """The clause as a threshold with its exception, or None (then the clause parser reads it)."""
    # cheap tests first (this runs on every clause): a number, and two comparators or 'unless'
    if not _DIGIT.search(text) or not _CUE.search(text):
        return None
    lowered = text.lower()
    if len(_QUICK.findall(text)) < 2 and "unless" not in lowered and "except" not in lowered:
        return None
    thresholds = list(_BARE.finditer(text))
    if len(thresholds) == 2:
        first, second = thresholds
        base = _base(parser, text[: first.end()], kind)
        if base is None:
            return None
        return _relaxed(parser, text, kind, base, first, second)
    if len(thresholds) == 1:
        first = thresholds[0]
        rest = text[first.end() :]
        unless = _UNLESS.match(rest)
        if not unless:
            return None
        base = _base(parser, text[: first.end()], kind)
        if base is None:
            return None
        return _lifted(parser, text, kind, base, first.end() + unless.end())
    return None


def _base(parser: ClauseParser, text: str, kind: Kind) -> Node | None:
    """The clause up to its first threshold: measurements only, every word read."""
    node = parser.clause(text, kind, 0, exceptions=False)
    leaves = _measurements(node)
    if leaves is None or not leaves:
        return None
    if len({(m.op, m.value, m.unit, m.uln_multiple) for m in leaves}) != 1:
        return None  # one threshold, shared by the analytes listed before it
    return node


def _measurements(node: Node) -> list[Measurement] | None:
    """The measurement leaves of an all/any tree; None when anything else is in it."""
    if isinstance(node, Measurement):
        return [node] if node.op in _UP and (node.value is not None or node.uln_multiple is not None) else None
    if isinstance(node, (AllOf, AnyOf)):
        out: list[Measurement] = []
        for item in node.items:
            found = _measurements(item)
            if found is None:
                return None
            out.extend(found)
        return out
    return None


def _words(text: str) -> list[str]:
    return [m.group().lower() for m in TOKEN.finditer(text) if not m.group().isdigit()]


def _conditions(parser: ClauseParser, text: str, offset: int) -> list[_Named] | None:
    """The conditions named in `text` (lexicon, ICD-10-CM, exception vocabulary); None if a
    term of another kind is named there."""
    found: list[_Named] = []
    taken: list[tuple[int, int]] = []
    for pattern, row in _extra_conditions():
        for m in pattern.finditer(text):
            vs = row["name"]
            parser.sink.valuesets.setdefault(
                vs, {"title": row["title"], "include": [{"system": "icd10cm", "codes": list(row["codes"])}]}
            )
            span = (offset + m.start(), offset + m.end())
            found.append(_Named(span[0], span[1], Condition(valueset=vs, timing=row["timing"], source=span)))
            taken.append((m.start(), m.end()))
    for hit in parser.lex.scan(text):
        if any(s < hit.end and hit.start < e for s, e in taken):
            continue
        if hit.entry.category == "measurement":
            continue  # an analyte named again: its words are checked by the caller
        if hit.entry.category != "condition" or (hit.short and not hit.text.isupper()):
            return None
        vs = parser._condition_valueset(hit.entry.name, hit.entry.data)
        span = (offset + hit.start, offset + hit.end)
        found.append(_Named(span[0], span[1], Condition(valueset=vs, timing="present", source=span)))
    return sorted(found, key=lambda n: n.start)


def _either(text: str, named: list[_Named]) -> Node | None:
    """The named conditions as one node: alone, or listed with 'or' (any of them)."""
    if not named:
        return None
    for a, b in zip(named, named[1:], strict=False):
        if not _JOIN_CONDITIONS.fullmatch(text[a.end : b.start]):
            return None
    if len(named) == 1:
        return named[0].node
    return AnyOf(items=tuple(n.node for n in named), source=(named[0].start, named[-1].end))


def _unread(text: str, used: list[tuple[int, int]]) -> list[str]:
    """Words of `text` outside the spans used (relative to `text`)."""
    out = []
    for m in TOKEN.finditer(text):
        if any(s <= m.start() and m.end() <= e for s, e in used) or m.group().isdigit():
            continue
        out.append(m.group().lower())
    return out


def _relaxed(
    parser: ClauseParser, text: str, kind: Kind, base: Node, first: re.Match[str], second: re.Match[str]
) -> Node | None:
    """'≤ 2.5 × ULN (≤ 5 × ULN in patients with liver metastases)' and the other orders."""
    analytes = {m.analyte for m in _measurements(base) or []}
    mid_start, mid_end = first.end(), second.start()
    tail_start = second.end()
    pre, post = text[mid_start:mid_end], text[tail_start:]
    # analytes named again right before the second threshold ('ALT and AST ≤ 5 × ULN')
    restated = [h for h in parser.lex.scan(pre, icd=False) if h.entry.category == "measurement"]
    if any(h.entry.name not in analytes for h in restated):
        return None  # another analyte: not an exception of this threshold
    scope = {h.entry.name for h in restated} or analytes
    restated_spans = [(h.start, h.end) for h in restated]
    if restated and not _only_joiners(pre[restated[0].start :], restated_spans, restated[0].start):
        return None  # words between the restated analytes and their threshold
    pre_named = _conditions(parser, pre, mid_start)
    post_named = _conditions(parser, post, tail_start)
    if pre_named is None or post_named is None:
        # a medicine or procedure names who gets the second threshold: not read here, and not
        # by the clause parser either (it would join the two as if both held)
        cue = any(w in _POSITIVE_CUE or w in ("unless", "except") for w in _words(pre + " " + post))
        return (
            ManualReview(
                text=text.strip(), source=(0, len(text)), label="not read: a second threshold for some patients"
            )
            if cue
            else None
        )
    if post_named:
        # the condition after the looser threshold; a negated one before it is its complement
        exception = _either(text, post_named)
        post_words = _unread(post, [(n.start - tail_start, n.end - tail_start) for n in post_named])
        if exception is None or not _cue_only(post_words):
            return None
        pre_used = [(n.start - mid_start, n.end - mid_start) for n in pre_named] + restated_spans
        pre_words = _unread(pre, pre_used)
        if pre_named:
            if {n.node.valueset for n in pre_named} != {n.node.valueset for n in post_named}:
                return None
            if not any(w in ("no", "without", "absence") for w in pre_words):
                return None
            pre_words = [w for w in pre_words if w not in ("no", "without", "absence")]
        if any(w not in _AROUND for w in pre_words):
            return None
    else:
        exception = _either(text, pre_named)
        pre_used = [(n.start - mid_start, n.end - mid_start) for n in pre_named] + restated_spans
        if exception is None or not _cue_only(_unread(pre, pre_used), lead=True):
            return None
        if _unread(post, []):
            return None
    found = measurement_at(text, _at(parser, next(iter(scope)), second.start()))
    if found is None or not isinstance(found.node, Measurement):
        return None
    looser = found.node
    new = _map(
        base,
        lambda m: (
            _exception_of(m, looser, exception, kind, (second.start(), second.end())) if m.analyte in scope else m
        ),
    )
    if new is None:
        # the shape of an exception, but its threshold is stricter or in another unit: a person reads it
        return ManualReview(
            text=text.strip(), source=(0, len(text)), label="not read: a second threshold that is not looser"
        )
    return new.model_copy(update={"source": (0, len(text))})


def _only_joiners(text: str, spans: list[tuple[int, int]], offset: int) -> bool:
    """Only list separators between the restated analytes and the threshold."""
    words = _unread(text, [(s - offset, e - offset) for s, e in spans])
    return all(w in ("and", "or") for w in words)


def _cue_only(words: list[str], lead: bool = False) -> bool:
    """Words around the exception's condition: cue words only, one of them a cue, no negation."""
    if any(w in _NEGATIVE for w in words):
        return False
    allowed = _AROUND | ({"except", "unless"} if lead else set())
    return all(w in allowed for w in words) and (
        any(w in _POSITIVE_CUE or w in ("except", "unless") for w in words) or lead
    )


def _at(parser: ClauseParser, analyte: str, start: int) -> Hit:
    entry = parser.lex.entries[("measurement", analyte)]
    return Hit(entry, start, start, "", False)


def _exception_of(
    base: Measurement, looser: Measurement, condition: Node, kind: Kind, span: tuple[int, int]
) -> Node | None:
    """One analyte's threshold with its exception, when the exception's threshold is looser."""
    if looser.op not in _UP or base.op not in _UP or _UP[looser.op] != _UP[base.op]:
        return None
    if (base.uln_multiple is None) != (looser.uln_multiple is None) or base.unit != looser.unit:
        return None
    a = base.uln_multiple if base.uln_multiple is not None else base.value
    b = looser.uln_multiple if looser.uln_multiple is not None else looser.value
    assert a is not None and b is not None
    upper = _UP[base.op]
    # an inclusion's upper limit admits more when raised; an exclusion's 'above' excludes fewer
    admits_more = (b > a) if (upper == (kind == "inclusion")) else (b < a)
    if not admits_more:
        return None
    relaxed = base.model_copy(update={"op": looser.op, "value": looser.value, "unit": looser.unit,
                                      "uln_multiple": looser.uln_multiple, "source": span})  # fmt: skip
    if kind == "inclusion":
        return AnyOf(items=(base, AllOf(items=(condition, relaxed))), source=base.source)
    return AllOf(items=(base, AnyOf(items=(Not(item=condition), relaxed))), source=base.source)


def _lifted(parser: ClauseParser, text: str, kind: Kind, base: Node, cue_end: int) -> Node | None:
    """'≤ 1.5 × ULN (unless known Gilbert's syndrome)': no limit for people with the condition."""
    rest = text[cue_end:]
    named = _conditions(parser, rest, cue_end)
    if not named:
        return None
    exception = _either(text, named)
    words = _unread(rest, [(n.start - cue_end, n.end - cue_end) for n in named])
    if exception is None or any(w not in _AROUND or w in ("if", "but", "or", "and") for w in words):
        return None
    if kind == "inclusion":
        return AnyOf(items=(base, exception), source=(0, len(text)))
    return AllOf(items=(base, Not(item=exception)), source=(0, len(text)))


def _map(node: Node, fn: Any) -> Node | None:
    """The all/any tree with each measurement leaf replaced (None if a replacement fails)."""
    if isinstance(node, Measurement):
        out: Node | None = fn(node)
        return out
    if isinstance(node, (AllOf, AnyOf)):
        items = []
        for item in node.items:
            mapped = _map(item, fn)
            if mapped is None:
                return None
            items.append(mapped)
        return node.model_copy(update={"items": tuple(items)})
    return None
