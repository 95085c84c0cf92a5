"""Numbers, comparators, units and time windows as trials write them.

"≥ 1.5 x 10^9/L", "greater than or equal to 100,000/mm3", "<= 3 times the ULN",
"within the past 12 months", "at least four (4) weeks": each recogniser returns what it read
and the span it read it from, so the parser can show its evidence and find leftovers.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trialscreen.criteria.nodes import Comparator

WORD_NUMBERS = {
    "zero": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fourteen": 14, "fifteen": 15,
    "sixteen": 16, "eighteen": 18, "twenty": 20, "twenty-one": 21, "twenty-four": 24, "thirty": 30,
    "sixty": 60, "ninety": 90,
}  # fmt: skip

_NUM = r"(?:\d{1,3}(?:[,\u202f ]\d{3})+(?!\d)|\d+(?:[.,]\d+)?|\.\d+)"
_WORDNUM = r"(?:" + "|".join(sorted(WORD_NUMBERS, key=len, reverse=True)) + r")"

# Longest phrases first; each maps to a comparator.
_COMPARATORS: list[tuple[str, Comparator]] = [
    (r"(?:more|greater|higher)\s+than\s*(?:≥|>=)", ">="),
    (r"(?:less|lower)\s+than\s*(?:≤|<=)", "<="),
    (r"greater\s+than\s+or\s+equal\s+(?:to\s*)?(?:\(\s*[≥>]=?\s*\))?", ">="),
    (r"more\s+than\s+or\s+equal\s+(?:to\s*)?", ">="),
    (r"higher\s+than\s+or\s+equal\s+(?:to\s*)?", ">="),
    (r"less\s+than\s+or\s+equal\s+(?:to\s*)?(?:\(\s*[≤<]=?\s*\))?", "<="),
    (r"lower\s+than\s+or\s+equal\s+(?:to\s*)?", "<="),
    (r"equal\s+to\s+or\s+(?:greater|more|higher)\s+than", ">="),
    (r"equal\s+to\s+or\s+(?:less|lower)\s+than", "<="),
    (r"not\s+(?:less|lower|fewer)\s+than", ">="),
    (r"not\s+(?:more|greater|higher)\s+than", "<="),
    (r"no\s+(?:less|lower|fewer)\s+than", ">="),
    (r"no\s+(?:more|greater|higher)\s+than", "<="),
    (r"(?:greater|more|higher|longer)\s+than", ">"),
    (r"(?:less|lower|fewer|shorter)\s+than", "<"),
    (r"at\s+least", ">="),
    (r"at\s+most|up\s+to|maximum(?:\s+of)?|max\.?", "<="),
    (r"minimum(?:\s+of)?|min\.?", ">="),
    (r"above|over|exceeding|exceeds?", ">"),
    (r"below|under", "<"),
    (r"≥|>=|=/>|=>|⩾|≧|\+/=|>/=|>_|<U\+226[57]>", ">="),
    (r"≤|<=|=/<|=<|⩽|≦|</=|<_|<U\+226[46]>", "<="),
    (r">|＞", ">"),
    (r"<|＜", "<"),
]
COMPARATOR = re.compile(
    "|".join(f"(?P<c{i}>{p})" for i, (p, _) in enumerate(_COMPARATORS)), re.IGNORECASE
)
_COMP_BY_GROUP = {f"c{i}": op for i, (_, op) in enumerate(_COMPARATORS)}


def comparator_of(match: re.Match[str]) -> Comparator:
    group = match.lastgroup or ""
    return _COMP_BY_GROUP[group]


def to_number(text: str) -> float | None:
    """'100,000' -> 100000; '1,5' -> 1.5 (a decimal comma); 'four' -> 4."""
    t = text.strip().lower()
    if t in WORD_NUMBERS:
        return float(WORD_NUMBERS[t])
    if re.fullmatch(r"\d{1,3}(?:[,\u202f ]\d{3})+", t):
        return float(re.sub(r"[,\u202f ]", "", t))
    t = t.replace(",", ".")
    try:
        return float(t)
    except ValueError:
        return None


# --- time windows ------------------------------------------------------------------------

_UNIT_LETTER = {"day": "D", "week": "W", "month": "M", "year": "Y", "wk": "W", "mo": "M", "yr": "Y", "d": "D"}
_TIME_UNIT = r"(?P<unit>days?|weeks?|wks?|months?|mos?|years?|yrs?)"
_AMOUNT = rf"(?P<n>{_NUM}|{_WORDNUM})(?:\s*\(\s*\d+\s*\))?"
WINDOW = re.compile(
    r"(?P<lead>within(?:\s+the)?(?:\s+(?:last|past|previous|prior|preceding))?"
    r"|in\s+the\s+(?:last|past|previous|preceding|prior)|during\s+the\s+(?:last|past|previous|preceding)"
    r"|(?:≤|<=|<|less\s+than|fewer\s+than)|at\s+least|for\s+at\s+least|≥|>=|more\s+than|over\s+the\s+(?:last|past))?"
    rf"\s*(?:≤\s*|<\s*)?{_AMOUNT}[\s-]*{_TIME_UNIT}\b"
    r"(?P<tail>\s*(?:before|prior\s+to|preceding|of|since|from|after|ago|prior)\b)?",
    re.IGNORECASE,
)


_OF_AGE = re.compile(r"\s*(?:of\s+)?(?:age|old)\b", re.IGNORECASE)
_TIME_HINT = re.compile(r"(?:day|week|wk|month|mo|year|yr)s?\b", re.IGNORECASE)


_ONE_UNIT = re.compile(
    r"(?:within|in|during|over)\s+the\s+(?:past|last|previous|preceding|prior)\s+(?P<unit>year|month|week)\b", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class Window:
    """A time window: `duration` back from the reference date; `at_least` for 'at least N since'."""

    duration: str
    at_least: bool
    span: tuple[int, int]


def find_window(text: str) -> Window | None:
    """The first time window the text states, if any."""
    found = find_windows(text, first_only=True)
    return found[0] if found else one_unit_window(text)


def one_unit_window(text: str) -> Window | None:
    """'in the past year': one of that unit (the window `find_windows` does not list)."""
    one = _ONE_UNIT.search(text) if _TIME_HINT.search(text) else None
    if one:
        return Window(f"P1{_UNIT_LETTER[one.group('unit').lower()]}", False, (one.start(), one.end()))
    return None


def find_windows(text: str, *, first_only: bool = False) -> list[Window]:
    """Every time window the text states with a number, in order ("within 7 days ... within 21 days").

    A clause gives its one window to every term it reads, so a line with two different ones
    cannot be read that way (see `Clauses.clause`).
    """
    found: list[Window] = []
    if not _TIME_HINT.search(text):
        return found
    for m in WINDOW.finditer(text):
        lead = (m.group("lead") or "").lower()
        tail = (m.group("tail") or "").lower().strip()
        if lead.startswith("for at least"):
            continue  # a duration ("for at least 6 months"), not a window back from the reference date
        if not lead and not tail:
            continue  # "3 months" alone is a duration, not a window
        if _OF_AGE.match(text, m.end()):
            continue  # "14 years of age", "60 years old": an age
        n = to_number(m.group("n"))
        if n is None or n != int(n) or n <= 0:
            continue
        unit = m.group("unit").lower().rstrip("s")
        letter = _UNIT_LETTER.get(unit, _UNIT_LETTER.get(unit[:2], "D"))
        at_least = lead.startswith(("at least", "for at least", "≥", ">=", "more than")) or (
            tail == "since" and not lead.startswith(("within", "in the", "≤", "<", "less", "fewer"))
        )
        found.append(Window(f"P{int(n)}{letter}", at_least, (m.start(), m.end())))
        if first_only:
            break
    return found


# "on 25 days of the past 30 days", "5 or more days in the past month", "2 times in the past year":
# how often within a period, which no window (back from the reference date) says.
FREQUENCY = re.compile(
    rf"\b(?:{_NUM}|{_WORDNUM})\s*(?:or\s+(?:more|fewer|less)\s+|\+\s*)?(?:days?|times?|occasions?|nights?|episodes?)"
    r"\s+(?:of|out\s+of|in|during|over)\s+(?:(?:the\s+|any\s+)?(?:past|last|previous|preceding|prior)\s+"
    rf"(?:(?:{_NUM}|{_WORDNUM})[\s-]*)?|(?:the\s+)?(?:{_NUM}|{_WORDNUM})[\s-]*|an?\s+)(?:days?|weeks?|months?|years?)\b",
    re.IGNORECASE,
)


_WINDOW_LEAD = re.compile(r"(?:within(?:\s+the)?|[<≤]|less\s+than|fewer\s+than)\s*$", re.IGNORECASE)


def find_frequency(text: str) -> tuple[int, int] | None:
    """Where the text counts days or times within a period, if it does."""
    if not _TIME_HINT.search(text):
        return None
    for m in FREQUENCY.finditer(text):
        if not _WINDOW_LEAD.search(text, max(0, m.start() - 16), m.start()):
            return m.start(), m.end()
    return None  # "within 7 days of the last day of treatment" is a window


def months_or_weeks(duration: str) -> tuple[int, str]:
    match = re.fullmatch(r"P(\d+)([DWMY])", duration)
    if not match:
        raise ValueError(duration)
    return int(match.group(1)), match.group(2)


NUMBER = re.compile(_NUM)
WORD_OR_NUMBER = re.compile(rf"{_NUM}|\b{_WORDNUM}\b", re.IGNORECASE)
