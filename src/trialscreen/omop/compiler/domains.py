"""Per-person aggregates of one CDM relation, shared by every leaf that reads it.

All condition leaves of a trial become columns of one GROUP BY over `condition_occurrence`
(conditional aggregates: `BOOL_OR(flag)`, `MAX(CASE WHEN flag THEN D + W END)`), all result
leaves columns of one GROUP BY over the results, and so on: one scan and one join per domain
instead of one per leaf. Each row-level flag or value is computed once, as a column, and the
aggregates refer to it, so the SQL stays small.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import ibis
import ibis.expr.types as ir

Aggregate = Literal["any", "max"]


@dataclass(slots=True)
class Domain:
    """A relation (with person_id) and the per-person aggregate columns leaves asked of it."""

    name: str
    rows: ir.Table
    row_columns: dict[str, ir.Value] = field(default_factory=dict)
    aggregates: dict[str, Callable[[ir.Table], ir.Scalar]] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)
    prefilter: ir.BooleanValue | None = None
    """A cheap test every needed row passes (e.g. the earliest look-back day), used instead of
    the OR of every flag when given."""

    def _row(self, value: ir.Value) -> str:
        """The name of a row-level column holding `value` (created once per distinct value)."""
        for name, existing in self.row_columns.items():
            if existing.equals(value):
                return name
        name = f"_{self.name}_r{len(self.row_columns)}"
        self.row_columns[name] = value
        return name

    def any(self, column: str, flag: ir.BooleanValue) -> str:
        """Per person: does some row have `flag`?"""
        f = self._row(flag.fill_null(False))
        self.flags.append(f)
        self.aggregates[column] = lambda t: t[f].any()
        return column

    def max_where(self, column: str, flag: ir.BooleanValue, value: ir.Value) -> str:
        """Per person: the largest `value` among rows with `flag` (NULL when none)."""
        f = self._row(flag.fill_null(False))
        v = self._row(value)
        self.flags.append(f)
        self.aggregates[column] = lambda t: ibis.cases((t[f], t[v]), else_=ibis.null(t[v].type())).max()
        return column

    def table(self) -> ir.Table | None:
        """person_id (as `_<name>_person`) and every aggregate, over the rows some leaf needs."""
        if not self.aggregates:
            return None
        if self.prefilter is not None:
            rows = self.rows.filter(self.prefilter).select("person_id", **self.row_columns)
        else:
            rows = self.rows.select("person_id", **self.row_columns)
            needed = rows[self.flags[0]]
            for flag in sorted(set(self.flags[1:])):
                needed |= rows[flag]
            rows = rows.filter(needed)
        return rows.group_by(**{f"_{self.name}_person": rows.person_id}).aggregate(
            **{name: make(rows) for name, make in self.aggregates.items()}
        )
