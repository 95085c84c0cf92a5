"""The statuses travel from the engine as small ints (`status_positions`), and the files are
written with the Parquet file in a thread beside the chart: same results, cheaper.

Each path is checked against the plain one it replaces: words decoded in Python, writers
run one after the other.
"""

from __future__ import annotations

import errno
from pathlib import Path

import ibis
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialscreen.omop import outputs
from trialscreen.omop.funnel import STATUSES, VERDICTS, build_funnel, codes
from trialscreen.omop.outputs import OutputError, write_outputs
from trialscreen.omop.run import _name_a_stray, fixed_dictionary, load_criteria, status_positions
from trialscreen.omop.sources import PopulationError
from trialscreen.omop.units import distinct_units

CRITERIA = load_criteria("NCT06125652", None)
WORDS = st.lists(st.sampled_from((*STATUSES, None)), max_size=40)


def _positions_from_duckdb(values: list[str | None], words: tuple[str, ...]) -> pa.Array:
    table = ibis.memtable(pa.table({"s": pa.array(values, pa.string())}))
    con = ibis.duckdb.connect()
    try:
        result = con.to_pyarrow(table.select(p=status_positions(table.s, words)))
    finally:
        con.disconnect()
    return result.column("p").combine_chunks()


@settings(max_examples=25, deadline=None)
@given(WORDS)
def test_positions_computed_by_the_engine_give_the_same_column_as_the_words(values: list[str | None]) -> None:
    positions = _positions_from_duckdb(values, STATUSES)
    assert positions.type == pa.int8()
    from_positions = fixed_dictionary(positions, STATUSES, "inc-1")
    from_words = fixed_dictionary(pa.array(values, pa.string()), STATUSES, "inc-1")
    assert from_positions.equals(from_words)
    assert from_positions.to_pylist() == values


def test_a_word_outside_the_list_becomes_minus_one_and_is_refused() -> None:
    positions = _positions_from_duckdb(["pass", "maybe", None], STATUSES)
    assert positions.to_pylist() == [0, -1, None]
    with pytest.raises(PopulationError, match="inc-1 an unexpected value"):
        fixed_dictionary(positions, STATUSES, "inc-1")
    with pytest.raises(PopulationError, match="verdict an unexpected value"):
        fixed_dictionary(pa.array([0, 3], pa.int16()), VERDICTS, "verdict")


def test_the_stray_word_is_named_from_the_engine() -> None:
    con = ibis.duckdb.connect()
    try:
        table = con.create_table("t", pa.table({"verdict": ["eligible", "perhaps"], "inc-1": ["pass", "fail"]}))
        selected = table.select(
            verdict=status_positions(table.verdict, VERDICTS), **{"inc-1": status_positions(table["inc-1"], STATUSES)}
        )
        arrow = selected.to_pyarrow()
        with pytest.raises(PopulationError, match="verdict an unexpected value 'perhaps'"):
            _name_a_stray(table, arrow, {"inc-1": STATUSES, "verdict": VERDICTS})
        _name_a_stray(table, arrow, {"inc-1": STATUSES})  # no stray there: nothing raised
    finally:
        con.disconnect()


@given(WORDS)
def test_funnel_codes_read_a_fixed_dictionary_like_any_other(values: list[str | None]) -> None:
    fixed = fixed_dictionary(pa.array(values, pa.string()), STATUSES, "inc-1")
    reordered = pa.array(values, pa.string()).dictionary_encode()  # the words in order of appearance
    assert np.array_equal(codes(fixed, STATUSES), codes(reordered, STATUSES))
    assert codes(fixed, STATUSES).tolist() == [STATUSES.index(v) if v else -1 for v in values]


def _persons(rows: int, seed: int) -> pa.Table:
    rng = np.random.default_rng(seed)
    ids = [c.id for c in CRITERIA.walk()]
    columns = {"person_id": pa.array(np.arange(rows, dtype=np.int64))}
    columns["verdict"] = fixed_dictionary(pa.array(rng.integers(0, 3, rows), pa.int8()), VERDICTS, "verdict")
    for i in ids:
        columns[i] = fixed_dictionary(pa.array(rng.integers(0, 3, rows), pa.int8()), STATUSES, i)
    return pa.table(columns)


def test_parquet_written_in_a_thread_beside_the_chart_is_the_table(tmp_path: Path) -> None:
    persons = _persons(2_000, seed=7)
    funnel = build_funnel(persons, CRITERIA, as_of="2026-11-25", engine="duckdb", cdm_version="5.4")
    write_outputs(tmp_path / "out", persons, funnel)
    assert pq.read_table(tmp_path / "out" / "persons.parquet").equals(persons)
    assert (tmp_path / "out" / "funnel.png").read_bytes()[:4] == b"\x89PNG"


def test_a_failing_background_writer_leaves_no_half_output(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    persons = _persons(50, seed=3)
    funnel = build_funnel(persons, CRITERIA, as_of="2026-11-25", engine="duckdb", cdm_version="5.4")

    def full_disk(directory: Path, *_: object) -> None:
        (directory / "persons.parquet").write_bytes(b"PAR1 half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs, "WRITERS", (full_disk, *outputs.WRITERS[1:]))
    monkeypatch.setattr(outputs, "IN_BACKGROUND", frozenset({full_disk}))
    with pytest.raises(OutputError, match="No space left on device"):
        write_outputs(tmp_path / "out", persons, funnel)
    assert list(tmp_path.iterdir()) == []


UNIT_ROWS = st.lists(
    st.tuples(
        st.sampled_from([3000963, 3024128]),
        st.sampled_from([0, 40762351]),
        st.sampled_from([None, 0, 8713, 8840]),
        st.sampled_from([None, "", "g/dL", "mg/dL "]),
    ),
    max_size=30,
)


@settings(max_examples=25, deadline=None)
@given(UNIT_ROWS)
def test_distinct_units_fill_missing_units_after_the_distinct(rows: list[tuple[int, int, int | None, str | None]]) -> None:
    """A NULL unit and unit 0 (or '') are one key, with the UCUM code of the unit concept."""
    ucum = {8713: "g/dL", 8840: "mg/dL"}
    results = pa.table(
        {
            "concept_id": pa.array([r[0] for r in rows], pa.int64()),
            "source_id": pa.array([r[1] for r in rows], pa.int64()),
            "unit_concept_id": pa.array([r[2] for r in rows], pa.int64()),
            "unit_source_value": pa.array([r[3] for r in rows], pa.string()),
        }
    )
    concept = pa.table(
        {"concept_id": [8713, 8840, 3000963], "vocabulary_id": ["UCUM", "UCUM", "LOINC"],
         "concept_code": ["g/dL", "mg/dL", "718-7"]}
    )
    con = ibis.duckdb.connect()
    try:
        got = distinct_units(con.create_table("concept", concept), con.create_table("results", results))
    finally:
        con.disconnect()
    expected = {(c, s, u or 0, v or "", ucum.get(u or 0)) for c, s, u, v in rows}
    assert got == sorted(expected, key=lambda r: (r[0], r[1], r[2], r[3]))
