"""The knowledge's codes as OMOP concept ids, looked up in the database's own vocabulary.

A value set names codes by system (ICD-10-CM prefixes and ranges, CPT ranges, LOINC, RxNorm,
ATC, CVX, SNOMED). The CDM holds them as rows of `concept` (concept_code + vocabulary_id,
per `systems.yaml` `omop_vocabulary`). Membership is decided in Python by the knowledge's own
`ValueSet.contains`, so prefix, range, dot and leading-zero rules are exactly the FHIR
evaluator's. On top of the codes themselves a set resolves to:

- `mapped_ids`: the standard concepts that in-set source codes 'Maps to', kept only when
  *every* source code of those vocabularies mapping there is in the set (a SNOMED concept
  shared by C92.4 and C92.0 would otherwise widen the set silently);
- descendants through `concept_ancestor` (RxNorm ingredients to the products below them, a
  procedure category to its procedures); ATC classes are not expanded by default, because the
  spec recognises antimicrobials by their ATC code only;
- `text_ids`: concepts of a domain whose name holds one of the set's text terms.

Codes the database lacks are collected in `missing` as (system, code, value set), never
dropped in silence.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import ibis
import ibis.expr.types as ir

from trialscreen.knowledge import Coding, Knowledge, ValueSet, knowledge

MAPS_TO = "Maps to"


@dataclass(frozen=True, slots=True)
class Concept:
    concept_id: int
    code: str
    vocabulary: str
    standard: bool


@dataclass(frozen=True, slots=True)
class ResolvedSet:
    """A value set as concept ids of one database."""

    name: str
    code_ids: frozenset[int]
    """Concepts whose own (vocabulary, code) is in the set."""
    mapped_ids: frozenset[int] = frozenset()
    descendant_ids: frozenset[int] = frozenset()
    text_ids: frozenset[int] = frozenset()
    relapse_ids: frozenset[int] = frozenset()
    remission_ids: frozenset[int] = frozenset()

    @property
    def ids(self) -> list[int]:
        """Every concept id that puts a row in the set, sorted (stable SQL)."""
        return sorted(self.code_ids | self.mapped_ids | self.descendant_ids | self.text_ids)


@dataclass(slots=True)
class Vocabulary:
    """Resolves value sets and analytes against one database's vocabulary tables.

    >>> import ibis
    >>> from trialscreen.omop.compiler.testbed import CdmTestBed
    >>> bed = CdmTestBed()
    >>> aml = bed.concept("ICD10CM", "C92.02", standard=False)
    >>> vocab = Vocabulary(bed.con)
    >>> aml in vocab.valueset("aml").code_ids
    True
    """

    con: ibis.BaseBackend
    kb: Knowledge = field(default_factory=knowledge)
    expand_atc: bool = False
    tables: Callable[[str], ir.Table] | None = None
    """How a table is opened (the compiler passes one that names a missing table clearly)."""
    missing: list[tuple[str, str, str]] = field(default_factory=list)
    _candidates: dict[str, list[Concept]] = field(default_factory=dict)
    _sets: dict[tuple[str, bool, tuple[str, ...]], ResolvedSet] = field(default_factory=dict)
    _targets: dict[int, set[int]] = field(default_factory=dict)
    _sources: dict[int, list[tuple[str, str]]] = field(default_factory=dict)
    _maps_loaded: bool = False

    # --- tables -------------------------------------------------------------------------

    def _table(self, name: str) -> ir.Table:
        return self.tables(name) if self.tables is not None else self.con.table(name)

    @staticmethod
    def _rows(expr: ir.Table) -> list[dict[str, Any]]:
        rows: list[dict[str, Any]] = expr.to_pyarrow().to_pylist()
        return rows

    # --- candidates per system ----------------------------------------------------------

    def _needs(self, alias: str) -> tuple[set[str], set[str]]:
        """(exact codes, first characters) every value set and analyte asks of a system."""
        system = self.kb.systems[alias]
        codes: set[str] = set()
        firsts: set[str] = set()
        members: list[str] = []
        for vs in self.kb.valuesets.values():
            for inc in vs.include + vs.exclude:
                if inc.system != alias:
                    continue
                members.extend(inc.codes)
                for low, high in inc.ranges:
                    lo, hi = system.normalise(low), system.normalise(high)
                    for ch in range(ord(lo[0]), ord(hi[0]) + 1):
                        firsts.add(chr(ch))
        for analyte in self.kb.analytes.values():
            members.extend(c.code for c in analyte.codes if c.system == alias)
            members.extend(a.code for a, _ in analyte.answers if a.system == alias)
            members.extend(r.code for r in analyte.set_aside_when_component if r.system == alias)
        for group in (self.kb.qualitative.positive_codes, self.kb.qualitative.negative_codes):
            members.extend(code for uri, code in group if self.kb.uri_to_alias.get(uri) == alias)
        for member in members:
            codes.add(member)
            firsts.add(system.normalise(member)[:1])
        return codes, firsts

    def _system_filter(self, alias: str, concept: ir.Table) -> ir.BooleanValue | None:
        system = self.kb.systems[alias]
        if not system.omop_vocabularies:
            return None
        codes, firsts = self._needs(alias)
        where = concept.vocabulary_id.isin(list(system.omop_vocabularies))
        exact = system.match == "exact" and set(system.normalise_rules) <= {"case"}
        has_ranges = any(inc.ranges for vs in self.kb.valuesets.values() for inc in vs.include if inc.system == alias)
        if exact and not has_ranges:
            variants = sorted({c for code in codes for c in (code, code.upper(), code.lower())})
            where &= concept.concept_code.isin(variants or [""])
        elif "leading_zeros" not in system.normalise_rules:
            heads = sorted({f for f in firsts if f} | {f.lower() for f in firsts if f})
            where &= concept.concept_code.substr(0, 1).isin(heads or [""])
        return where

    def _load_candidates(self) -> None:
        """Every concept any knowledge entry may name, in one query, split by system."""
        concept = self._table("concept")
        by_vocabulary: dict[str, str] = {}
        where: ir.BooleanValue | None = None
        for alias in sorted(self.kb.systems):
            self._candidates[alias] = []
            test = self._system_filter(alias, concept)
            if test is None:
                continue
            for vocabulary in self.kb.systems[alias].omop_vocabularies:
                by_vocabulary.setdefault(vocabulary, alias)
            where = test if where is None else where | test
        if where is None:
            return
        expr = concept.filter(where).select("concept_id", "concept_code", "vocabulary_id", "standard_concept")
        for row in self._rows(expr):
            owner = by_vocabulary.get(str(row["vocabulary_id"]))
            if owner is not None:
                self._candidates[owner].append(
                    Concept(int(row["concept_id"]), str(row["concept_code"]), str(row["vocabulary_id"]),
                            row["standard_concept"] == "S")
                )

    def candidates(self, alias: str) -> list[Concept]:
        """Concepts of the system's vocabularies that any knowledge entry may name."""
        if not self._candidates:
            self._load_candidates()
        return self._candidates.get(alias, [])

    def _load_maps(self) -> None:
        """'Maps to' from every non-standard candidate, and every source of those targets (two queries)."""
        sources = sorted({c.concept_id for group in self._candidates.values() for c in group if not c.standard})
        self._maps_loaded = True
        if not sources:
            return
        rel = self._table("concept_relationship")
        forward = rel.filter(rel.relationship_id == MAPS_TO, rel.concept_id_1.isin(sources))
        for row in self._rows(forward.select("concept_id_1", "concept_id_2")):
            self._targets.setdefault(int(row["concept_id_1"]), set()).add(int(row["concept_id_2"]))
        targets = sorted({t for ts in self._targets.values() for t in ts})
        if not targets:
            return
        concept = self._table("concept")
        back = rel.filter(rel.relationship_id == MAPS_TO, rel.concept_id_2.isin(targets))
        joined = back.join(concept, back.concept_id_1 == concept.concept_id)
        for row in self._rows(joined.select("concept_id_2", "concept_code", "vocabulary_id")):
            self._sources.setdefault(int(row["concept_id_2"]), []).append(
                (str(row["vocabulary_id"]), str(row["concept_code"]))
            )

    # --- value sets ---------------------------------------------------------------------

    def _members(self, vs: ValueSet) -> list[Concept]:
        out: list[Concept] = []
        for alias in sorted({inc.system for inc in vs.include}):
            uri = self.kb.systems[alias].uri
            out.extend(c for c in self.candidates(alias) if vs.contains(uri, c.code))
        return out

    def _report_missing(self, vs: ValueSet, members: Sequence[Concept]) -> None:
        for inc in vs.include:
            system = self.kb.systems[inc.system]
            present = [system.normalise(c.code) for c in members]
            for code in inc.codes:
                norm = system.normalise(code)
                if not any(system.covers(norm, p) for p in present):
                    self._missing(inc.system, code, vs.name)
            for low, high in inc.ranges:
                if not any(system.in_range(p, low, high) for p in present):
                    self._missing(inc.system, f"{low}-{high}", vs.name)

    def _missing(self, system: str, code: str, where: str) -> None:
        entry = (system, code, where)
        if entry not in self.missing:
            self.missing.append(entry)

    def _mapped(self, vs: ValueSet, members: Sequence[Concept]) -> frozenset[int]:
        """Standard targets of the set's source codes that no out-of-set source shares."""
        if not self._maps_loaded:
            self._load_maps()
        targets = {t for c in members if not c.standard for t in self._targets.get(c.concept_id, ())}
        vocab_alias = {
            v: alias for alias in {inc.system for inc in vs.include} for v in self.kb.systems[alias].omop_vocabularies
        }
        kept = set()
        for target in targets:
            sources = [(v, code) for v, code in self._sources.get(target, ()) if v in vocab_alias]
            if all(vs.contains(self.kb.systems[vocab_alias[v]].uri, code) for v, code in sources):
                kept.add(target)
        return frozenset(kept)

    def descendants(self, ids: Iterable[int]) -> frozenset[int]:
        """Concepts below `ids` in `concept_ancestor` (the ids themselves excluded)."""
        wanted = sorted(set(ids))
        if not wanted:
            return frozenset()
        anc = self._table("concept_ancestor")
        rows = self._rows(
            anc.filter(anc.ancestor_concept_id.isin(wanted)).select("descendant_concept_id").distinct()
        )
        return frozenset(int(r["descendant_concept_id"]) for r in rows) - set(wanted)

    def named(self, terms: Sequence[str], domains: Sequence[str]) -> frozenset[int]:
        """Concepts of `domains` whose name contains one of `terms` (case-insensitive)."""
        if not terms or not domains:
            return frozenset()
        concept = self._table("concept")
        name = concept.concept_name.lower()
        hit = name.contains(terms[0])
        for term in terms[1:]:
            hit |= name.contains(term)
        rows = self._rows(concept.filter(concept.domain_id.isin(list(domains)), hit).select("concept_id"))
        return frozenset(int(r["concept_id"]) for r in rows)

    def valueset(
        self, name: str, *, descendants: bool = False, text_domains: Sequence[str] = ()
    ) -> ResolvedSet:
        """A value set as concept ids: its codes, their unambiguous standard targets and more."""
        key = (name, descendants, tuple(text_domains))
        if key in self._sets:
            return self._sets[key]
        vs = self.kb.valueset(name)
        members = self._members(vs)
        self._report_missing(vs, members)
        below: frozenset[int] = frozenset()
        if descendants:
            expandable = [
                c.concept_id for c in members if self.expand_atc or "ATC" not in c.vocabulary
            ]
            below = self.descendants(expandable)
        relapse: set[int] = set()
        remission: set[int] = set()
        if vs.phase_digit:
            for c in members:
                digit = phase_digit(vs, c.code)
                if digit == str(vs.phase_digit.get("relapse")):
                    relapse.add(c.concept_id)
                elif digit == str(vs.phase_digit.get("remission")):
                    remission.add(c.concept_id)
        resolved = ResolvedSet(
            name=name,
            code_ids=frozenset(c.concept_id for c in members),
            mapped_ids=self._mapped(vs, members),
            descendant_ids=below,
            text_ids=self.named(vs.text, text_domains),
            relapse_ids=frozenset(relapse),
            remission_ids=frozenset(remission),
        )
        self._sets[key] = resolved
        return resolved

    def codings(self, codings: Iterable[Coding], where: str) -> dict[int, str]:
        """Concept ids of (system alias, code) pairs, as {concept_id: code}; absent ones reported."""
        out: dict[int, str] = {}
        for coding in codings:
            system = self.kb.systems[coding.system]
            norm = system.normalise(coding.code)
            hits = [c for c in self.candidates(coding.system) if system.normalise(c.code) == norm]
            if not hits:
                self._missing(coding.system, coding.code, where)
            for c in hits:
                out[c.concept_id] = coding.code
        return out


def phase_digit(vs: ValueSet, code: str) -> str | None:
    """The character of an ICD-10 code that tells relapse from remission (None if absent)."""
    if not vs.phase_digit:
        return None
    norm = code.replace(".", "").upper()
    index = phase_index(vs)
    return norm[index] if len(norm) > index else None


def phase_index(vs: ValueSet) -> int:
    """0-based index, in the dot-less code, of the phase digit (3 category characters first)."""
    assert vs.phase_digit is not None
    position = vs.phase_digit.get("position_after_dot", 2)
    assert isinstance(position, int)
    return 3 + position - 1
