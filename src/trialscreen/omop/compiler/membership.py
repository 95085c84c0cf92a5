"""Value-set membership as data: one small table of concept ids per domain, joined once.

A value set can resolve to thousands of concepts on a full vocabulary (every RxNorm product
below ten ingredients, every ICD-10-CM code in A00-B89). Written as `IN (...)` literal lists
those would make the query huge and slow to compile; instead each domain's rows are
left-joined (on the standard, the source and, for medicines, the route concept) to a literal
table with one boolean column per value set, and the leaves read those columns.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pyarrow as pa

from trialscreen.criteria import CriteriaSet
from trialscreen.criteria.nodes import Allergy, Condition, Immunization, Medication, Procedure

CONDITION_TEXT = ("Condition",)
DRUG_TEXT = ("Drug",)
ROUTE_TEXT = ("Route",)


@dataclass(frozen=True, slots=True)
class SetKey:
    """A value set as one domain resolves it (with descendants, with name matches of domains)."""

    valueset: str
    descendants: bool = False
    text_domains: tuple[str, ...] = ()


def keys_of(node: object) -> Iterator[tuple[str, str, SetKey]]:
    """(domain, joined column, key) of every value set a leaf reads."""
    if isinstance(node, Condition):
        yield "conditions", "concept", SetKey(node.valueset, False, CONDITION_TEXT)
    elif isinstance(node, Procedure):
        if node.valueset:
            yield "procedures", "concept", SetKey(node.valueset)
        if node.category:
            yield "procedures", "concept", SetKey(node.category, True)
        if node.exclude:
            yield "procedures", "concept", SetKey(node.exclude)
    elif isinstance(node, Medication):
        yield "drugs", "concept", SetKey(node.valueset, True, DRUG_TEXT)
        if node.systemic_only:
            yield "drugs", "route", SetKey(node.non_systemic_routes, False, ROUTE_TEXT)
    elif isinstance(node, Immunization):
        yield "drugs", "concept", SetKey(node.valueset)
    elif isinstance(node, Allergy) and node.valueset:
        yield "observations", "concept", SetKey(node.valueset)


def walk(criteria: CriteriaSet) -> Iterator[object]:
    """Every node of every rule, applicability test and definition."""
    stack: list[object] = [*criteria.definitions.values()]
    for criterion in criteria.walk():
        stack.extend(n for n in (criterion.rule, criterion.applies_when) if n is not None)
    while stack:
        node = stack.pop()
        yield node
        stack.extend(getattr(node, "items", ()))
        item = getattr(node, "item", None)
        if item is not None:
            stack.append(item)


def column_name(kind: str, index: int) -> str:
    return f"_vs_{kind}{index}"


def membership(ids_per_key: Sequence[frozenset[int] | set[int]], prefix: str) -> ir.Table:
    """A literal table: `<prefix>_id` and one boolean column per key (true when the id is in it)."""
    every = sorted(set().union(*ids_per_key)) if ids_per_key else []
    data: dict[str, pa.Array] = {f"{prefix}_id": pa.array(every, pa.int64())}
    for index, ids in enumerate(ids_per_key):
        data[column_name(prefix, index)] = pa.array([i in ids for i in every], pa.bool_())
    return ibis.memtable(pa.table(data))
