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

from collections.abc import Callable
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
    release: Callable[[], None] = field(default=lambda: None)
    """Frees what compiling staged in the database (`Cdm.stage`): call it once `table` has run."""


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
    vocab = Vocabulary(con, kb, expand_atc=expand_atc, tables=cdm.table)
    compiler = ScreenCompiler(criteria, cdm, vocab, kb)

    plans: dict[str, tuple[Compiled | None, Compiled | None]] = {}
    for criterion in criteria.walk():
        bad = criterion.kind == "exclusion"
        rule = compiler.visit(criterion.rule, bad) if criterion.rule is not None else None
        when = compiler.visit(criterion.applies_when, True) if criterion.applies_when is not None else None
        plans[criterion.id] = (rule, when)

    # Stage 1: the truth of every rule and applicability test, and each windowed expiry.
    wide: Wide = compiler.wide()
    first: dict[str, ir.Value] = {"person_id": wide.person_id}
    expiry_columns: dict[str, str] = {}
    for criterion in criteria.walk():
        rule, when = plans[criterion.id]
        if rule is not None:
            first[f"_truth:{criterion.id}"] = rule.truth(wide)
            if has_eligible_from(criterion, criteria) and rule.expiry is not None:
                expiry_columns[criterion.id] = f"_expiry:{criterion.id}"
                first[expiry_columns[criterion.id]] = rule.expiry(wide)
        if when is not None:
            first[f"_applies:{criterion.id}"] = when.truth(wide)
    truths = wide.select(**first)

    def applicable(criterion: Criterion) -> ir.BooleanValue | None:
        return truths[f"_applies:{criterion.id}"] if plans[criterion.id][1] is not None else None

    staged = truths.mutate(
        **{
            c.id: applies(status_of(truths[f"_truth:{c.id}"], c.kind), applicable(c))
            for c in criteria.walk()
            if plans[c.id][0] is not None
        }
    )

    # Stage 2: compound criteria from their parts' columns, and each criterion's eligible_from.
    def compound_status(criterion: Criterion) -> ir.StringValue:
        parts = [compound_status(p) if p.parts else staged[p.id] for p in criterion.parts]
        return applies(compound(parts), staged[f"_applies:{criterion.id}"] if plans[criterion.id][1] else None)

    second: dict[str, ir.Value] = {c.id: compound_status(c) for c in criteria.walk() if c.parts}
    second.update(
        {
            eligible_from_column(cid): criterion_eligible_from(staged[cid], staged[column])
            for cid, column in expiry_columns.items()
        }
    )
    staged = staged.mutate(**second)

    # Stage 3: the patient's verdict and eligible_from from the top-level criteria.
    top = [c.id for c in criteria.criteria]
    top_eligible = [staged[eligible_from_column(cid)] if cid in expiry_columns else None for cid in top]
    staged = staged.mutate(
        verdict=verdict([staged[cid] for cid in top]),
        **{ELIGIBLE_FROM: patient_eligible_from([staged[cid] for cid in top], top_eligible)},
    )
    columns = [criterion.id for criterion in criteria.walk()]
    eligible_columns = [eligible_from_column(c.id) for c in criteria.criteria if c.id in expiry_columns]
    table = staged.select("person_id", *columns, *eligible_columns, "verdict", ELIGIBLE_FROM)
    return CompiledScreen(table, tuple(columns), tuple(eligible_columns), list(vocab.missing), cdm.drop_staged)
