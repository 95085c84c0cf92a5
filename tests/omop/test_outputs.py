"""Outputs of a population screen: the funnel's counts, what-if copies, atomic writing.

These tests build per-person status tables directly (as the compiled screen would return
them) so the counting can be checked against a plain recount on random populations.
"""

from __future__ import annotations

import errno
import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trialscreen.criteria import Age, AnyOf, Derived, Measurement
from trialscreen.omop import outputs
from trialscreen.omop.funnel import STATUSES, Funnel, build_funnel
from trialscreen.omop.outputs import OutputError, check_out_dir, funnel_table, write_outputs
from trialscreen.omop.run import (
    STATUS_TYPE,
    fixed_dictionary,
    load_criteria,
    result_schema,
    to_canonical,
    what_if_row,
)
from trialscreen.omop.sources import PopulationError, UsageError
from trialscreen.omop.whatif import apply_what_if, parse_what_if

CRITERIA = load_criteria("NCT06125652", None)
TOP = [c.id for c in CRITERIA.criteria]


def _verdict(statuses: dict[str, str]) -> str:
    top = [statuses[i] for i in TOP]
    if "fail" in top:
        return "ineligible"
    return "needs_review" if "unknown" in top else "eligible"


def _population(rows: list[dict[str, str]]) -> pa.Table:
    """A persons table as the runner hands it on: compound criteria follow their parts."""
    full = []
    for person_id, row in enumerate(rows, start=1):
        statuses = dict(row)
        for criterion in CRITERIA.criteria:
            if criterion.parts:
                parts = [statuses[p.id] for p in criterion.parts]
                statuses[criterion.id] = (
                    "fail" if "fail" in parts else "unknown" if "unknown" in parts else "pass"
                )
        full.append(
            {"person_id": person_id, "verdict": _verdict(statuses), "eligible_from": None, **statuses}
        )
    schema = result_schema(CRITERIA, [])
    plain = pa.schema([f.with_type(pa.string()) if f.type == STATUS_TYPE else f for f in schema])
    return to_canonical(pa.Table.from_pylist(full, schema=plain), schema)


LEAF_IDS = [c.id for c in CRITERIA.walk() if not c.parts]
rows_strategy = st.lists(
    st.fixed_dictionaries({i: st.sampled_from(STATUSES) for i in LEAF_IDS}), min_size=0, max_size=40
)


def _funnel(persons: pa.Table) -> Funnel:
    return build_funnel(persons, CRITERIA, as_of="2026-11-25", engine="duckdb", cdm_version="5.4")


@settings(max_examples=60, deadline=None)
@given(rows_strategy)
def test_funnel_counts_agree_with_a_plain_recount(rows: list[dict[str, str]]) -> None:
    persons = _population(rows)
    funnel = _funnel(persons)
    records = persons.to_pylist()
    assert funnel.persons == len(records)
    assert sum(funnel.verdicts.values()) == len(records)
    # sequential attrition: remaining after k = persons failing none of the first k criteria
    for k, step in enumerate(funnel.steps):
        seen = TOP[: k + 1]
        alive = [r for r in records if all(r[i] != "fail" for i in seen)]
        assert step.remaining == len(alive)
        assert step.unknown_here == sum(r[TOP[k]] == "unknown" for r in alive)
        assert step.remaining_with_unknown == sum(any(r[i] == "unknown" for i in seen) for r in alive)
    assert sum(s.removed for s in funnel.steps) == funnel.verdicts["ineligible"]
    assert funnel.steps[-1].remaining == funnel.verdicts["eligible"] + funnel.verdicts["needs_review"]
    assert funnel.steps[-1].remaining_with_unknown == funnel.verdicts["needs_review"]
    for counts in funnel.criteria:
        values = [r[counts.id] for r in records]
        assert (counts.passed, counts.failed, counts.unknown) == (
            values.count("pass"), values.count("fail"), values.count("unknown"),
        )
        failing_elsewhere = [
            sum(r[i] == "fail" for i in LEAF_IDS if i != counts.id and not (
                counts.parent is None and i.startswith(counts.id + ".")
            ))
            for r in records
        ]
        expected_alone = sum(
            v == "fail" and others == 0 for v, others in zip(values, failing_elsewhere, strict=True)
        )
        assert counts.fails_alone == expected_alone, counts.id


def test_funnel_lists_criteria_in_listing_order_with_parts_after_their_parent() -> None:
    funnel = _funnel(_population([{i: "pass" for i in LEAF_IDS}]))
    assert [s.id for s in funnel.steps] == TOP
    ids = [c.id for c in funnel.criteria]
    assert ids == [c.id for c in CRITERIA.walk()]
    assert funnel.verdicts == {"eligible": 1, "needs_review": 0, "ineligible": 0}


def test_what_if_changes_a_copy_and_only_the_named_threshold() -> None:
    changed = apply_what_if(CRITERIA, parse_what_if("inc-6.lvef>=40"))
    rule = changed.by_id()["inc-6.lvef"].rule
    assert isinstance(rule, Measurement) and rule.value == 40 and rule.op == ">="
    original = CRITERIA.by_id()["inc-6.lvef"].rule
    assert isinstance(original, Measurement) and original.value == 45
    others = {k: v for k, v in changed.by_id().items() if not k.startswith("inc-6")}
    assert others == {k: v for k, v in CRITERIA.by_id().items() if not k.startswith("inc-6")}


def test_what_if_on_a_uln_multiple_and_on_a_two_threshold_part() -> None:
    ast = apply_what_if(CRITERIA, parse_what_if("inc-6.ast<=5")).by_id()["inc-6.ast"].rule
    assert isinstance(ast, Measurement) and ast.uln_multiple == 5
    renal = apply_what_if(CRITERIA, parse_what_if("inc-6.renal>=50")).by_id()["inc-6.renal"].rule
    assert isinstance(renal, AnyOf)
    creatinine, clearance = renal.items
    assert isinstance(clearance, Derived) and clearance.value == 50
    assert isinstance(creatinine, Measurement) and creatinine.uln_multiple == 1.5
    age = apply_what_if(CRITERIA, parse_what_if("inc-2<=75")).by_id()["inc-2"].rule
    assert isinstance(age, Age) and (age.min, age.max) == (18, 75)


@pytest.mark.parametrize(
    ("expr", "message"),
    [
        ("lvef at least 40", "expected CRITERION-ID COMPARATOR NUMBER"),
        ("inc-99>=3", "no criterion 'inc-99'"),
        ("inc-6>=40", "compound"),
        ("exc-1>=1", "no numeric threshold"),
        ("inc-2<=70.5", "whole number"),
    ],
)
def test_bad_what_ifs_are_usage_errors(expr: str, message: str) -> None:
    with pytest.raises(UsageError, match=message):
        apply_what_if(CRITERIA, parse_what_if(expr))


def test_what_if_row_counts_gains() -> None:
    base = {"eligible": 3, "needs_review": 10, "ineligible": 87}
    new = {"eligible": 5, "needs_review": 12, "ineligible": 83}
    row = what_if_row(parse_what_if("inc-6.lvef>=40"), base, new)
    assert (row["gain_eligible"], row["gain_eligible_or_review"]) == (2, 4)


def _sample() -> pa.Table:
    rows = [{i: "pass" for i in LEAF_IDS} for _ in range(5)]
    rows[0]["inc-3"] = "fail"
    rows[1]["inc-1"] = "unknown"
    return _population(rows)


def test_outputs_are_written_together(tmp_path: Path) -> None:
    persons = _sample()
    funnel = _funnel(persons)
    out = tmp_path / "out"
    write_outputs(out, persons, funnel)
    assert sorted(p.name for p in out.iterdir()) == sorted(outputs.OUTPUT_FILES)
    assert pq.read_table(out / "persons.parquet").equals(persons)
    data = json.loads((out / "funnel.json").read_text())
    assert data["verdicts"] == {"eligible": 3, "needs_review": 1, "ineligible": 1}
    assert [s["id"] for s in data["attrition"]] == TOP
    svg = (out / "funnel.svg").read_text()
    assert "inc-3" in svg and "exc-16" in svg
    assert (out / "funnel.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert [p.name for p in tmp_path.iterdir()] == ["out"]  # no staging left behind


def test_a_full_disk_leaves_no_half_output_and_keeps_the_previous_one(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    persons = _sample()
    out = tmp_path / "out"
    write_outputs(out, persons, _funnel(persons))
    before = (out / "funnel.json").read_bytes()

    def full_disk(directory: Path, *_: object) -> None:
        (directory / "funnel.png").write_bytes(b"half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(outputs, "WRITERS", (*outputs.WRITERS[:2], full_disk))
    with pytest.raises(OutputError, match="No space left on device"):
        write_outputs(out, persons, _funnel(persons))
    assert [p.name for p in tmp_path.iterdir()] == ["out"]
    assert (out / "funnel.json").read_bytes() == before
    assert (out / "funnel.png").read_bytes()[:4] == b"\x89PNG"


def test_out_dir_holding_other_files_is_refused(tmp_path: Path) -> None:
    (tmp_path / "thesis.docx").write_text("precious")
    with pytest.raises(UsageError, match="not a population output"):
        check_out_dir(tmp_path)
    with pytest.raises(UsageError, match="not a directory"):
        check_out_dir(tmp_path / "thesis.docx")


def test_terminal_table_has_a_row_per_criterion() -> None:
    table = funnel_table(_funnel(_sample()))
    assert table.row_count == len(TOP)


@given(st.lists(st.sampled_from(STATUSES + (None,)), max_size=30), st.randoms())
def test_statuses_get_one_dictionary_whatever_order_they_come_in(
    values: list[str | None], rnd: random.Random
) -> None:
    shuffled = list(values)
    rnd.shuffle(shuffled)
    a = fixed_dictionary(pa.array(values, pa.string()), STATUSES, "inc-1")
    b = fixed_dictionary(pa.chunked_array([pa.array(shuffled, pa.string())]), STATUSES, "inc-1")
    assert a.dictionary.to_pylist() == b.dictionary.to_pylist() == list(STATUSES)
    assert a.to_pylist() == values
    assert sorted(map(str, b.to_pylist())) == sorted(map(str, values))


def test_a_status_the_runner_does_not_know_is_an_error() -> None:
    with pytest.raises(PopulationError, match="inc-1 an unexpected value 'maybe'"):
        fixed_dictionary(pa.array(["pass", "maybe"]), STATUSES, "inc-1")
