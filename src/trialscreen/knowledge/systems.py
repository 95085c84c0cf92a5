"""Code systems: their URIs and how their codes compare (exact or by prefix; dots, case)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CodeSystem:
    alias: str
    uris: frozenset[str]
    match: str  # "exact" | "prefix"
    normalise_rules: tuple[str, ...] = ()
    omop_vocabularies: tuple[str, ...] = ()
    title: str = ""

    @property
    def uri(self) -> str:
        """The canonical URI (the first listed) for writing new resources."""
        return next(iter(sorted(self.uris, key=len)))

    def normalise(self, code: str) -> str:
        out = code.strip()
        for rule in self.normalise_rules:
            if rule == "dots":
                out = out.replace(".", "")
            elif rule == "case":
                out = out.upper()
            elif rule == "leading_zeros":
                out = out.lstrip("0") or "0"
        return out

    def covers(self, member: str, code: str) -> bool:
        """Does a (normalised) value-set member cover a (normalised) record code?"""
        return code.startswith(member) if self.match == "prefix" else code == member

    def in_range(self, code: str, low: str, high: str) -> bool:
        """Range membership: numeric for numeric codes (CPT); for ICD-10, by category.

        An ICD-10 range compares the three-character category, or the first four characters
        when an end of the range has a subcategory (Z94.0-Z94.4 holds Z94.1 but not Z94.84).
        """
        lo, hi = self.normalise(low), self.normalise(high)
        if lo.isdigit() and hi.isdigit():
            return code.isdigit() and len(code) == len(lo) and int(lo) <= int(code) <= int(hi)
        width = max(len(lo), len(hi))
        head = code[:width]
        return len(head) == width and lo <= head <= hi
