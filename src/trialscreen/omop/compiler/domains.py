"""Per-person aggregates of one CDM relation, shared by every leaf that reads it.

All condition leaves of a trial become columns of one GROUP BY over `condition_occurrence`
(conditional aggregates: `ANY(in_set AND active)`, `MAX(CASE WHEN ... THEN D + W END)`),
all result leaves columns of one GROUP BY over the results, and so on: one scan and one
join per domain instead of one per leaf, and a small query for Ibis to compile.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import ibis
import ibis.expr.types as ir


@dataclass(slots=True)
class Domain:
    """A relation (with person_id) and the per-person aggregate columns leaves asked of it."""

    name: str
    rows: ir.Table
    aggregates: dict[str, ir.Scalar] = field(default_factory=dict)
    flags: list[ir.BooleanValue] = field(default_factory=list)

    def add(self, column: str, aggregate: ir.Scalar, flag: ir.BooleanValue) -> str:
        """Add an aggregate over the rows where `flag` holds; returns the column name."""
        self.aggregates[column] = aggregate
        self.flags.append(flag)
        return column

    def table(self) -> ir.Table | None:
        """person_id (as `<name>_person`) and every aggregate, over the rows some leaf needs."""
        if not self.aggregates:
            return None
        needed = self.flags[0]
        for flag in self.flags[1:]:
            needed |= flag
        rows = self.rows.filter(needed)
        grouped = rows.group_by(**{f"_{self.name}_person": rows.person_id}).aggregate(**self.aggregates)
        return grouped


def any_of(flag: ir.BooleanValue) -> ir.BooleanScalar:
    """TRUE when some row has `flag` (NULL rows count as not)."""
    result: ir.BooleanScalar = flag.fill_null(False).any()
    return result


def max_where(flag: ir.BooleanValue, value: ir.Value) -> ir.Scalar:
    """The largest `value` among rows with `flag` (NULL when none)."""
    result: ir.Scalar = ibis.cases((flag.fill_null(False), value), else_=ibis.null(value.type())).max()
    return result
