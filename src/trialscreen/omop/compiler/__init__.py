"""Criteria compiled to one Ibis query over OMOP CDM: every person's status per criterion.

The same rules as the in-memory FHIR evaluator (the spec in `seed-trial-semantics.md`), as
Ibis expressions, so DuckDB, PostgreSQL and Spark run them alike. Example:

>>> from datetime import date
>>> from trialscreen.omop.compiler.testbed import CdmTestBed
>>> bed = CdmTestBed()
>>> alice = bed.person(gender="female", birth=date(1990, 5, 1))
>>> _ = bed.condition(alice, "C92.02", date(2026, 1, 10))
>>> screen = compile_screen(SEED, bed.con, date(2026, 11, 25))
>>> row = screen.table.execute().iloc[0]
>>> row["inc-2"], row["inc-3"], row["inc-1"], row["verdict"]
('pass', 'pass', 'unknown', 'needs_review')
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import ibis
import ibis.expr.types as ir

from trialscreen.criteria import CriteriaSet, Criterion, load
from trialscreen.knowledge import Knowledge, knowledge
from trialscreen.omop.compiler.cdm import Cdm, CdmError
from trialscreen.omop.compiler.status import (
    ELIGIBLE_FROM,
    applies,
    compound,
    criterion_eligible_from,
    eligible_from_column,
    has_eligible_from,
    patient_eligible_from,
    status_of,
    verdict,
)
from trialscreen.omop.compiler.visitor import Compiled, ScreenCompiler, Wide
from trialscreen.omop.vocabulary import Vocabulary

__all__ = ["CdmError", "CompiledScreen", "compile_screen", "SEED"]

SEED: CriteriaSet = load(Path(__file__).resolve().parents[2] / "criteria" / "builtin" / "NCT06125652.yaml")
"""The seed trial's curated criteria (for examples and tests)."""


@dataclass(frozen=True, slots=True)
class CompiledScreen:
    """The compiled screen: one Ibis table, plus what the vocabulary lacked."""

    table: ir.Table
    """person_id, a status per criterion and part id, `eligible_from:<id>`, verdict, eligible_from."""
    columns: tuple[str, ...]
    """Criterion and part ids, in listing order (the status columns)."""
    eligible_from_columns: tuple[str, ...]
    missing_codes: list[tuple[str, str, str]] = field(default_factory=list)
    """(system, code, value set or analyte) that the database's vocabulary lacks."""


def compile_screen(
    criteria: CriteriaSet,
    con: ibis.BaseBackend,
    as_of: date,
    knowledge_: Knowledge | None = None,
    *,
    expand_atc: bool = False,
) -> CompiledScreen:
    """Compile `criteria` against the OMOP CDM reachable through `con`, for `as_of`.

    Queries the vocabulary tables (and the units that occur) while compiling; the screen
    itself runs when the returned table is executed. Raises `CdmError` naming a missing
    table or column.
    """
    kb = knowledge_ or knowledge()
    cdm = Cdm(con, as_of)
    vocab = Vocabulary(con, kb, expand_atc=expand_atc)
    compiler = ScreenCompiler(criteria, cdm, vocab, kb)

    plans: dict[str, tuple[Compiled | None, Compiled | None]] = {}
    for criterion in criteria.walk():
        bad = criterion.kind == "exclusion"
        rule = compiler.visit(criterion.rule, bad) if criterion.rule is not None else None
        when = compiler.visit(criterion.applies_when, True) if criterion.applies_when is not None else None
        plans[criterion.id] = (rule, when)

    wide: Wide = compiler.wide()

    statuses: dict[str, ir.StringValue] = {}

    def status_expr(criterion: Criterion) -> ir.StringValue:
        if criterion.id not in statuses:
            rule, when = plans[criterion.id]
            if rule is None:
                status = compound([status_expr(part) for part in criterion.parts])
            else:
                status = status_of(rule.truth(wide), criterion.kind)
            statuses[criterion.id] = applies(status, when.truth(wide) if when is not None else None)
        return statuses[criterion.id]

    selected: dict[str, ir.Value] = {"person_id": wide.person_id}
    columns = [criterion.id for criterion in criteria.walk()]
    for criterion in criteria.walk():
        selected[criterion.id] = status_expr(criterion)
    eligible_columns: list[str] = []
    top_status: list[ir.StringValue] = []
    top_eligible: list[ir.DateValue | None] = []
    for criterion in criteria.criteria:
        status = statuses[criterion.id]
        rule = plans[criterion.id][0]
        day: ir.DateValue | None = None
        if has_eligible_from(criterion, criteria) and rule is not None and rule.expiry is not None:
            day = criterion_eligible_from(status, rule.expiry(wide))
            name = eligible_from_column(criterion.id)
            eligible_columns.append(name)
            selected[name] = day
        top_status.append(status)
        top_eligible.append(day)
    selected["verdict"] = verdict(top_status)
    selected[ELIGIBLE_FROM] = patient_eligible_from(top_status, top_eligible)
    return CompiledScreen(wide.select(**selected), tuple(columns), tuple(eligible_columns), list(vocab.missing))
