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
    flags: list[ir.BooleanValue] = field(default_factory=list)
    """Row-level flags of the leaves: a row none of them holds for is dropped before grouping."""
    slots: list[tuple[str, dict[int, ir.Value]]] = field(default_factory=list)
    """Shared row columns (see `keyed`): a code column and, per code, the value to compute."""
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
        self._flag(flag)
        self.aggregates[column] = lambda t: t[f].any()
        return column

    def max_where(self, column: str, flag: ir.BooleanValue, value: ir.Value) -> str:
        """Per person: the largest `value` among rows with `flag` (NULL when none)."""
        # One row column, the value only where the flag holds: the engine computes `value`
        # on the flagged rows only (a CASE's THEN runs on the rows its WHEN selects).
        v = self._row(ibis.cases((flag.fill_null(False), value), else_=ibis.null(value.type())))
        self._flag(flag)
        self.aggregates[column] = lambda t: t[v].max()
        return column

    def keyed(self, column: str, flag: ir.BooleanValue, code_column: str, code: int, value: ir.Value) -> str:
        """Per person: the largest `value` among rows with `flag`, where `flag` implies that
        `code_column` is `code` (an analyte).

        Leaves of different codes share one row column, a CASE over the code, so each row
        computes one value, not one per leaf; the flags become the aggregates' FILTERs.
        """
        slot = next((i for i, (c, values) in enumerate(self.slots) if c == code_column and code not in values), None)
        if slot is None:
            self.slots.append((code_column, {}))
            slot = len(self.slots) - 1
        self.slots[slot][1][code] = value
        name = f"_{self.name}_s{slot}"
        f = self._row(flag.fill_null(False))
        self._flag(flag)
        self.aggregates[column] = lambda t: t[name].max(where=t[f])
        return column

    def _flag(self, flag: ir.BooleanValue) -> None:
        flag = flag.fill_null(False)
        if not any(existing.equals(flag) for existing in self.flags):
            self.flags.append(flag)

    def table(self) -> ir.Table | None:
        """person_id (as `_<name>_person`) and every aggregate, over the rows some leaf needs."""
        if not self.aggregates:
            return None
        if self.prefilter is not None:
            needed = self.prefilter
        else:
            needed = self.flags[0]
            for flag in self.flags[1:]:
                needed |= flag
        shared = {
            f"_{self.name}_s{i}": ibis.cases(*[(self.rows[c] == code, v) for code, v in values.items()])
            for i, (c, values) in enumerate(self.slots)
        }
        rows = self.rows.filter(needed).select("person_id", **self.row_columns, **shared)
        return rows.group_by(**{f"_{self.name}_person": rows.person_id}).aggregate(
            **{name: make(rows) for name, make in self.aggregates.items()}
        )
