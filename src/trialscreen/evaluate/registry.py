"""How each node kind is compiled into a check: one function per kind, registered by name.

A check is a function of the screening context returning an `Outcome`. Compiling resolves
value sets, codes and thresholds once per trial, so screening a patient only looks things up.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from trialscreen.evaluate.context import Context
from trialscreen.evaluate.outcome import Outcome
from trialscreen.knowledge import Knowledge

Check = Callable[[Context], Outcome]


@dataclass
class Compiler:
    knowledge: Knowledge
    definitions: dict[str, Any]
    criterion_id: str = ""
    _refs: dict[tuple[str, str], Check] = field(default_factory=dict)

    def compile(self, node: Any, polarity: str) -> Check:
        """`polarity` is the kind of criterion the node's truth counts for (for tie-breaking)."""
        try:
            build = COMPILERS[node.kind]
        except KeyError:
            raise NotImplementedError(f"no evaluator for node kind {node.kind!r}") from None
        return build(node, polarity, self)


Builder = Callable[[Any, str, Compiler], Check]
COMPILERS: dict[str, Builder] = {}


def compiles(kind: str) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        COMPILERS[kind] = fn
        return fn

    return register
