"""How each node kind is compiled: into a check that explains, and into a decider that only decides.

A check is a function of the screening context returning an `Outcome`: truth, reason,
evidence, what is missing. A decider returns only `(truth, changes_on)`, the part a verdict
needs, without formatting a word; the screen runs deciders and explains (runs the checks)
only when a report's explanations are read. A kind without a decider of its own is decided
by its check. Compiling resolves value sets, codes and thresholds once per trial, so
screening a patient only looks things up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from trialscreen.evaluate.context import Context
from trialscreen.evaluate.outcome import Outcome
from trialscreen.fhir.facts import ConditionFact
from trialscreen.knowledge import Knowledge, ValueSet

Check = Callable[[Context], Outcome]
Decision = tuple[str, date | None]
"""(truth, changes_on) of a node."""
Decide = Callable[[Context], Decision]


@dataclass
class Compiler:
    knowledge: Knowledge
    definitions: dict[str, Any]
    criterion_id: str = ""
    _refs: dict[tuple[str, str], Check] = field(default_factory=dict)
    _decided_refs: dict[tuple[str, str], Decide] = field(default_factory=dict)
    condition_sets: dict[str, ValueSet] = field(default_factory=dict)
    """Value sets of the condition nodes compiled so far (what `classify` sorts conditions into)."""
    _classified: dict[tuple[object, str], tuple[tuple[str, str], ...]] = field(default_factory=dict)

    def compile(self, node: Any, polarity: str) -> Check:
        """`polarity` is the kind of criterion the node's truth counts for (for tie-breaking)."""
        try:
            build = COMPILERS[node.kind]
        except KeyError:
            raise NotImplementedError(f"no evaluator for node kind {node.kind!r}") from None
        return build(node, polarity, self)

    def decide(self, node: Any, polarity: str) -> Decide:
        """The node's decider; for a kind without one, its check, keeping only the decision."""
        build = DECIDERS.get(node.kind)
        if build is not None:
            return build(node, polarity, self)
        check = self.compile(node, polarity)

        def decided(ctx: Context) -> Decision:
            out = check(ctx)
            return out.truth, out.changes_on

        return decided

    def condition_set(self, name: str) -> ValueSet:
        """A value set conditions are sorted into, once per patient (see `Context.condition_hits`)."""
        if name not in self.condition_sets:
            self.condition_sets[name] = self.knowledge.valueset(name)
            self._classified.clear()
        return self.condition_sets[name]

    def classify(self, cond: ConditionFact) -> tuple[tuple[str, str], ...]:
        """(value-set name, matching code) for each condition value set `cond` falls in.

        Remembered by the condition's codes and words, which repeat across patients.
        """
        key = (cond.codes, cond.text)
        found = self._classified.get(key)
        if found is None:
            from trialscreen.evaluate.conditions import matching_code

            pairs = []
            for name, vs in self.condition_sets.items():
                code = matching_code(vs, cond)
                if code is not None:
                    pairs.append((name, code))
            found = self._classified[key] = tuple(pairs)
        return found


Builder = Callable[[Any, str, Compiler], Check]
DecideBuilder = Callable[[Any, str, Compiler], Decide]
COMPILERS: dict[str, Builder] = {}
DECIDERS: dict[str, DecideBuilder] = {}


def compiles(kind: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        COMPILERS[kind] = fn
        return fn

    return register


def decides(kind: str) -> Callable[[DecideBuilder], DecideBuilder]:
    def register(fn: DecideBuilder) -> DecideBuilder:
        DECIDERS[kind] = fn
        return fn

    return register
