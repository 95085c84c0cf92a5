"""Value sets from data: which (system, code) pairs and which texts they hold.

Matching is by system and code together, never by code alone. Each set compiles once into
a matcher with a memo, so screening a population asks each distinct code only once.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from trialscreen.knowledge.systems import CodeSystem

TEXT_MEMO_SIZE = 100_000
"""Free texts remembered per set: drug and diagnosis names repeat, but free text need not."""


@dataclass(frozen=True, slots=True)
class Include:
    """Codes and ranges of one system (as written in the data file)."""

    system: str
    codes: tuple[str, ...] = ()
    ranges: tuple[tuple[str, str], ...] = ()


@dataclass(slots=True)
class ValueSet:
    name: str
    title: str
    include: tuple[Include, ...]
    exclude: tuple[Include, ...] = ()
    text: tuple[str, ...] = ()
    """Lower-case substrings matched against a concept's text or display."""
    phase_digit: dict[str, object] | None = None
    systems: dict[str, CodeSystem] = field(default_factory=dict, repr=False)
    _memo: dict[tuple[str, str], bool] = field(default_factory=dict, repr=False)
    _text_memo: dict[str, bool] = field(default_factory=dict, repr=False)

    def contains(self, system_uri: str | None, code: str | None) -> bool:
        """Is the coding (system URI, code) in the set?"""
        if not system_uri or not code:
            return False
        key = (system_uri, code)
        hit = self._memo.get(key)
        if hit is None:
            hit = self._in(self.include, system_uri, code) and not self._in(
                self.exclude, system_uri, code
            )
            self._memo[key] = hit
        return hit

    def matches_text(self, text: str | None) -> bool:
        if not text or not self.text:
            return False
        hit = self._text_memo.get(text)
        if hit is None:
            lowered = text.lower()
            hit = any(term in lowered for term in self.text)
            if len(self._text_memo) < TEXT_MEMO_SIZE:
                self._text_memo[text] = hit
        return hit

    def _in(self, includes: tuple[Include, ...], system_uri: str, code: str) -> bool:
        for inc in includes:
            system = self.systems[inc.system]
            if system_uri not in system.uris:
                continue
            norm = system.normalise(code)
            for member in inc.codes:
                if system.covers(system.normalise(member), norm):
                    return True
            for low, high in inc.ranges:
                if system.in_range(norm, low, high):
                    return True
        return False

    def codes_of(self, alias: str) -> list[str]:
        """The listed codes of one system (for engines that expand sets themselves)."""
        return [c for inc in self.include if inc.system == alias for c in inc.codes]
