"""A population screen from start to end: open the source on an engine, compile, count, write.

The compiler (`omop.compiler.compile_screen`) turns the criteria into one Ibis table of
per-person statuses; this module runs it, brings the result back as Arrow in a schema that
is the same whatever the engine (so results compare across engines), builds the funnel,
evaluates what-ifs, and writes the outputs.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from functools import partial
from pathlib import Path
from typing import Any

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc

from trialscreen.criteria import CriteriaFileError, CriteriaSet, load
from trialscreen.criteria.builtin import builtin_criteria, builtin_ids
from trialscreen.knowledge import Knowledge, KnowledgeError
from trialscreen.omop.engines import EngineName, EngineSession, open_engine
from trialscreen.omop.funnel import STATUSES, VERDICTS, Funnel, build_funnel, codes
from trialscreen.omop.outputs import check_out_dir, write_outputs
from trialscreen.omop.sources import PopulationError, SourceError, UsageError, parse_source
from trialscreen.omop.whatif import WhatIf, apply_what_if

DEBUG_ENV = "TRIALSCREEN_DEBUG"
EF_PREFIX = "eligible_from:"


def load_criteria(trial: str | None, criteria_file: Path | None) -> CriteriaSet:
    """The criteria to screen with: a file if given, else the trial's built-in criteria."""
    if criteria_file is not None:
        try:
            criteria = load(criteria_file)
        except CriteriaFileError as exc:
            raise UsageError(f"--criteria {exc}") from None
        if trial and criteria.trial.upper() != trial.strip().upper():
            raise UsageError(f"--criteria {criteria_file} is for {criteria.trial}, not --trial {trial}")
        return criteria
    if not trial:
        raise UsageError("say which trial: --trial NCT… (or --criteria FILE)")
    builtin = builtin_criteria(trial)
    if builtin is None:
        raise UsageError(
            f"--trial {trial}: no computable criteria for this trial "
            f"(built in: {', '.join(builtin_ids())}; or pass --criteria FILE)"
        )
    return builtin


# --- running the compiled screen ------------------------------------------------------------


def _compile(criteria: CriteriaSet, con: ibis.BaseBackend, as_of: date, kb: Knowledge | None = None) -> Any:
    try:
        from trialscreen.omop.compiler import CdmError, compile_screen
    except ImportError as exc:
        raise PopulationError(f"the OMOP compiler is not available ({exc})") from None
    try:
        return compile_screen(criteria, con, as_of, kb)
    except CdmError as exc:
        raise SourceError(str(exc)) from None
    except KnowledgeError as exc:
        raise UsageError(f"--criteria: {exc}") from None


def _status_ids(criteria: CriteriaSet) -> list[str]:
    return [c.id for c in criteria.walk()]


STATUS_TYPE = pa.dictionary(pa.int8(), pa.string())
"""Statuses and verdicts: a fixed dictionary, so files are small and engines compare equal."""


def result_schema(criteria: CriteriaSet, ef_columns: Sequence[str]) -> pa.Schema:
    """The engine-independent schema of persons.parquet."""
    fields = [
        pa.field("person_id", pa.int64()),
        pa.field("verdict", STATUS_TYPE),
        pa.field("eligible_from", pa.date32()),
    ]
    fields += [pa.field(i, STATUS_TYPE) for i in _status_ids(criteria)]
    fields += [pa.field(c, pa.date32()) for c in ef_columns]
    return pa.schema(fields)


def fixed_dictionary(column: pa.ChunkedArray | pa.Array, words: Sequence[str], name: str) -> pa.Array:
    """`column` as a dictionary array over exactly `words` (in that order).

    `column` holds the words themselves, or their positions in `words` as the engine computed
    them (`status_positions`).
    """
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_integer(array.type):
        return _from_positions(array, words, name)
    positions = codes(array, words)
    valid = pc.is_valid(array)
    stray = (positions < 0) & valid.to_numpy(zero_copy_only=False)
    if stray.any():
        value = array.take([int(stray.argmax())])[0].as_py()
        raise PopulationError(f"the compiled screen gave {name} an unexpected value {value!r}")
    indices = pa.array(positions, type=pa.int8(), mask=positions < 0)
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(words), pa.string()))


def _from_positions(array: pa.Array, words: Sequence[str], name: str) -> pa.Array:
    low, high = pc.min_max(array).values()
    if low.is_valid and (low.as_py() < 0 or high.as_py() >= len(words)):
        raise PopulationError(f"the compiled screen gave {name} an unexpected value")
    indices = array.cast(pa.int8())
    return pa.DictionaryArray.from_arrays(indices, pa.array(list(words), pa.string()))


def status_positions(column: ir.StringValue, words: Sequence[str]) -> ir.IntegerValue:
    """The engine's words as their positions in `words` (-1: another word; NULL stays NULL).

    The engine computes them, so a million persons come back as one byte a status rather
    than a string, and Python decodes no strings.
    """
    branches = [(column == word, position) for position, word in enumerate(words)]
    positions: ir.IntegerValue = ibis.cases(*branches, (column.notnull(), -1), else_=ibis.null("int8")).cast("int8")
    return positions


def _words_of(criteria: CriteriaSet) -> dict[str, Sequence[str]]:
    """The columns holding words, and the words each may hold."""
    words: dict[str, Sequence[str]] = {"verdict": VERDICTS}
    words.update((i, STATUSES) for i in _status_ids(criteria))
    return words


def to_canonical(table: pa.Table, schema: pa.Schema) -> pa.Table:
    """The engine's result in `schema`, sorted by person_id."""
    columns = []
    for f in schema:
        column = table.column(f.name)
        if f.type == STATUS_TYPE:
            words = VERDICTS if f.name == "verdict" else STATUSES
            columns.append(fixed_dictionary(column, words, f.name))
            continue
        if pa.types.is_timestamp(column.type) and pa.types.is_date(f.type):
            column = column.cast(pa.date32())
        columns.append(column.cast(f.type))
    return pa.Table.from_arrays(columns, schema=schema).sort_by("person_id")


def screen(
    session: EngineSession, criteria: CriteriaSet, as_of: date, kb: Knowledge | None = None
) -> tuple[pa.Table, Any]:
    """Every person's verdict and statuses (sorted by person_id), and the missing codes."""
    compiled = _compile(criteria, session.con, as_of, kb)
    table = compiled.table
    ids = _status_ids(criteria)
    absent = [i for i in ("person_id", "verdict", "eligible_from", *ids) if i not in table.columns]
    if absent:
        raise PopulationError(f"the compiled screen lacks columns {', '.join(absent)}")
    ef_columns = [c for c in table.columns if c.startswith(EF_PREFIX)]
    words = _words_of(criteria)
    selected = table.select(
        "person_id",
        status_positions(table.verdict, VERDICTS).name("verdict"),
        "eligible_from",
        *[status_positions(table[i], STATUSES).name(i) for i in ids],
        *ef_columns,
    )
    try:
        with unfused_selects():
            arrow = selected.to_pyarrow()
        _name_a_stray(table, arrow, words)
    finally:
        _release(compiled)
    return to_canonical(arrow, result_schema(criteria, ef_columns)), missing_codes(compiled)


def _name_a_stray(table: ir.Table, positions: pa.Table, words: dict[str, Sequence[str]]) -> None:
    """Raise, naming the value, if the engine gave a column a word outside its words (-1)."""
    for name, allowed in words.items():
        low = pc.min(positions.column(name)).as_py()
        if low is not None and low < 0:
            column = table[name]
            found = table.filter(column.notnull() & ~column.isin(list(allowed))).select(column).limit(1)
            value = found.to_pyarrow().column(0)[0].as_py()
            raise PopulationError(f"the compiled screen gave {name} an unexpected value {value!r}")


@contextmanager
def unfused_selects() -> Iterator[None]:
    """Compile without Ibis fusing consecutive SELECTs into one.

    Ibis tries every pair of the compiled screen's nested SELECTs and sizes the whole merged
    expression each time: a third of the main query's compile (about 0.5 CPU-s), for SQL
    whose layers the engine's optimiser merges anyway (the same results, no slower to run).
    """
    before = ibis.options.sql.fuse_selects
    ibis.options.sql.fuse_selects = False
    try:
        yield
    finally:
        ibis.options.sql.fuse_selects = before


def _release(compiled: Any) -> None:
    """Free what compiling staged in the engine (see `CompiledScreen.release`)."""
    release = getattr(compiled, "release", None)
    if callable(release):
        release()


def missing_codes(compiled: Any) -> list[Any]:
    """The codes the database's vocabulary lacks, as {system, code, used_by} records."""
    out: list[Any] = []
    for entry in getattr(compiled, "missing_codes", None) or []:
        if isinstance(entry, tuple | list) and len(entry) == 3:
            out.append({"system": entry[0], "code": entry[1], "used_by": entry[2]})
        else:
            out.append(entry)
    return out


def count_verdicts(
    session: EngineSession, criteria: CriteriaSet, as_of: date, kb: Knowledge | None = None
) -> dict[str, int]:
    """How many persons get each verdict, counted in the engine (for what-ifs)."""
    compiled = _compile(criteria, session.con, as_of, kb)
    try:
        with unfused_selects():
            counts = compiled.table.group_by("verdict").aggregate(n=ibis._.count()).to_pyarrow()
    finally:
        _release(compiled)
    found = dict(zip(counts["verdict"].to_pylist(), counts["n"].to_pylist(), strict=True))
    return {v: int(found.get(v, 0)) for v in VERDICTS}


def what_if_row(what: WhatIf, base: dict[str, int], new: dict[str, int]) -> dict[str, Any]:
    def reviewable(v: dict[str, int]) -> int:
        return v["eligible"] + v["needs_review"]

    return {
        "what_if": what.text,
        "criterion": what.criterion,
        "op": what.op,
        "value": what.value,
        "eligible": new["eligible"],
        "gain_eligible": new["eligible"] - base["eligible"],
        "eligible_or_review": reviewable(new),
        "gain_eligible_or_review": reviewable(new) - reviewable(base),
    }


# --- the whole run --------------------------------------------------------------------------


@dataclass
class PopulationRequest:
    """What `trialscreen population` was asked to do."""

    criteria: CriteriaSet
    source: str
    out: Path
    engine: EngineName = "duckdb"
    as_of: date = field(default_factory=date.today)
    schema: str | None = None
    what_ifs: Sequence[WhatIf] = ()
    spark_master: str = "local[2]"
    spark_session: Any = None
    pg_url: str | None = None
    knowledge: Knowledge | None = None
    """Clinical knowledge (None: the built-in; a parsed criteria file brings its sidecar)."""


class Progress:
    """Where a run reports its phases (the CLI shows them as progress bars)."""

    def phase(self, name: str, total: int | None = None) -> None:
        """A new phase starts."""

    def advance(self, detail: str = "") -> None:
        """One unit of the current phase is done."""


@dataclass
class PopulationResult:
    persons: pa.Table
    funnel: Funnel


def run_population(request: PopulationRequest, progress: Progress | None = None) -> PopulationResult:
    """Screen, count and write; raise PopulationError (with a clear message) on bad input."""
    progress = progress or Progress()
    check_out_dir(request.out)
    what_ifs = [(w, apply_what_if(request.criteria, w)) for w in request.what_ifs]
    source = parse_source(request.source, request.schema)
    progress.phase(f"loading OMOP tables on {request.engine}")
    with open_engine(
        source,
        request.engine,
        spark_master=request.spark_master,
        spark_session=request.spark_session,
        pg_url=request.pg_url,
        on_table=progress.advance,
    ) as session:
        progress.phase("screening every person", total=1)
        persons, missing = _guarded(
            lambda: screen(session, request.criteria, request.as_of, request.knowledge), source.description
        )
        progress.advance()
        funnel = build_funnel(
            persons,
            request.criteria,
            as_of=request.as_of.isoformat(),
            engine=request.engine,
            cdm_version=session.cdm_version,
            missing_codes=missing,
        )
        if what_ifs:
            progress.phase("what-if screens", total=len(what_ifs))
        for what, changed in what_ifs:
            counts: dict[str, int] = _guarded(
                partial(count_verdicts, session, changed, request.as_of, request.knowledge),
                source.description,
            )
            funnel.what_if.append(what_if_row(what, funnel.verdicts, counts))
            progress.advance(what.text)
    progress.phase("writing outputs", total=1)
    write_outputs(request.out, persons, funnel)
    progress.advance()
    return PopulationResult(persons, funnel)


def _guarded(work: Callable[[], Any], where: str) -> Any:
    """Run engine work; an engine or data error becomes one clear line naming the source."""
    try:
        return work()
    except PopulationError:
        raise
    except Exception as exc:
        if os.environ.get(DEBUG_ENV):
            raise
        lines = str(exc).strip().splitlines()
        detail = lines[0] if lines else type(exc).__name__
        raise SourceError(
            f"{where}: the screen could not run on this data ({type(exc).__name__}: {detail}); "
            f"set {DEBUG_ENV}=1 for the full error"
        ) from None
