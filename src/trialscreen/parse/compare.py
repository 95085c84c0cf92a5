"""Compare a parsed criteria set with a curated one, criterion by criterion.

Two criteria match when their computable leaves agree in kind, codes (value sets are
expanded to their codes, so names may differ), thresholds, units, windows (P4W equals P28D)
and polarity (under an odd number of `not`). Logic shape and `uncertain` wrappers are not
compared; manual-review leaves of the parsed side are listed as differences but do not
decide a match, since they compute nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from trialscreen.criteria.criterion import CriteriaSet, Criterion
from trialscreen.criteria.nodes import (
    AllOf,
    AnyOf,
    Condition,
    ManualReview,
    Node,
    Not,
    Ref,
    Uncertain,
)
from trialscreen.knowledge import knowledge

Signature = tuple[Any, ...]


@dataclass(frozen=True, slots=True)
class CriterionComparison:
    id: str
    matches: bool
    only_curated: tuple[Signature, ...]
    only_parsed: tuple[Signature, ...]
    manual: tuple[str, ...]

    @property
    def strict(self) -> bool:
        """A match with no manual-review alternative either: the same verdicts follow."""
        return self.matches and not self.manual


def _days(window: str | None) -> str | None:
    if window is None:
        return None
    m = re.fullmatch(r"P(\d+)([DWMY])", window)
    if not m:
        return window
    n, unit = int(m.group(1)), m.group(2)
    if unit == "W":
        return f"P{n * 7}D"
    return window


def _codes(name: str | None, parsed_valuesets: dict[str, dict[str, Any]]) -> frozenset[tuple[str, str]] | None:
    if name is None:
        return None
    if "+" in name:
        return frozenset().union(*(_codes(n, parsed_valuesets) or frozenset() for n in name.split("+")))
    if name in parsed_valuesets:
        out = set()
        for inc in parsed_valuesets[name].get("include", []):
            for c in inc.get("codes", []):
                out.add((inc["system"], str(c)))
            for r in inc.get("ranges", []):
                out.add((inc["system"], str(r)))
        for t in parsed_valuesets[name].get("text", []):
            out.add(("text", str(t)))
        return frozenset(out)
    vs = knowledge().valuesets.get(name)
    if vs is None:
        return frozenset({("unknown", name)})
    out = set()
    for inc in vs.include:
        out.update((inc.system, c) for c in inc.codes)
        out.update((inc.system, f"{lo}-{hi}") for lo, hi in inc.ranges)
    out.update(("text", t) for t in vs.text)
    return frozenset(out)


def leaves(node: Node | None, definitions: dict[str, Node], negated: bool = False) -> Iterator[tuple[bool, Node]]:
    """Leaves with their polarity; `ref` is expanded, `uncertain` looked through."""
    if node is None:
        return
    if isinstance(node, AnyOf):
        yield from _merged_any(node, definitions, negated)
    elif isinstance(node, AllOf):
        for item in node.items:
            yield from leaves(item, definitions, negated)
    elif isinstance(node, Not):
        yield from leaves(node.item, definitions, not negated)
    elif isinstance(node, Uncertain):
        yield from leaves(node.item, definitions, negated)
    elif isinstance(node, Ref):
        yield from leaves(definitions.get(node.name), definitions, negated)
    else:
        yield negated, node


def _merged_any(node: AnyOf, definitions: dict[str, Node], negated: bool) -> Iterator[tuple[bool, Node]]:
    """Sibling conditions of one `any` with the same timing and window are one condition on
    the union of their value sets (so 'A, or B within 12 months' equals a set holding A and B)."""
    groups: dict[tuple[Any, ...], list[Condition]] = {}
    for item in node.items:
        if isinstance(item, Condition):
            groups.setdefault((item.timing, item.window, item.phase), []).append(item)
        else:
            yield from leaves(item, definitions, negated)
    for members in groups.values():
        if len(members) == 1:
            yield negated, members[0]
        else:
            yield negated, members[0].model_copy(update={"valueset": "+".join(sorted(m.valueset for m in members))})


def signature(node: Node, negated: bool, valuesets: dict[str, dict[str, Any]]) -> Signature:
    data = node.model_dump(exclude={"label", "source"})
    kind = data.pop("kind")
    if kind in ("attestation",):
        return (negated, kind, data.get("who"))
    if kind == "manual_review":
        return (negated, kind)
    for key in ("valueset", "category", "exclude", "unless_reason"):
        if key in data:
            data[key] = _codes(data[key], valuesets)
    for key in ("window", "lookback"):
        if key in data:
            data[key] = _days(data[key])
    for key in ("value", "uln_multiple"):
        if data.get(key) is not None:
            data[key] = float(data[key])
    data.pop("lookback", None)
    data.pop("non_systemic_routes", None)
    return (negated, kind, tuple(sorted((k, _freeze(v)) for k, v in data.items())))


def _freeze(v: Any) -> Any:
    if isinstance(v, list):
        return tuple(v)
    return v


def _criterion_leaves(c: Criterion, definitions: dict[str, Node], valuesets: dict[str, dict[str, Any]]) -> tuple[set[Signature], list[str]]:
    sigs: set[Signature] = set()
    manual: list[str] = []
    for part in c.walk():
        for node in (part.rule, part.applies_when):
            for neg, leaf in leaves(node, definitions):
                if isinstance(leaf, ManualReview):
                    manual.append(leaf.text)
                else:
                    sigs.add(signature(leaf, neg, valuesets))
    return sigs, manual


def compare(curated: CriteriaSet, parsed: CriteriaSet, parsed_valuesets: dict[str, dict[str, Any]]) -> list[CriterionComparison]:
    """One comparison per curated criterion, paired with the parsed criterion of the same id."""
    found = {c.id: c for c in parsed.criteria}
    out = []
    for cur in curated.criteria:
        want, _ = _criterion_leaves(cur, dict(curated.definitions), {})
        par = found.get(cur.id)
        if par is None:
            out.append(CriterionComparison(cur.id, False, tuple(sorted(want, key=repr)), (), ()))
            continue
        got, manual = _criterion_leaves(par, dict(parsed.definitions), parsed_valuesets)
        out.append(
            CriterionComparison(
                cur.id,
                bool(want) and want == got,
                tuple(sorted(want - got, key=repr)),
                tuple(sorted(got - want, key=repr)),
                tuple(manual),
            )
        )
    return out
