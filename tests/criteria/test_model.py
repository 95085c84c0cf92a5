"""The criteria tree: lossless files, validation, and the curated seed trial."""

from __future__ import annotations

import re
from pathlib import Path

import orjson
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from trialscreen.criteria import (
    Age,
    AllOf,
    AnyOf,
    Attestation,
    Condition,
    CriteriaFileError,
    CriteriaSet,
    Criterion,
    Gender,
    ManualReview,
    Measurement,
    Not,
    Procedure,
    Uncertain,
    dumps_json,
    dumps_yaml,
    load,
    save,
)
from trialscreen.criteria.builtin import builtin_criteria
from trialscreen.criteria.files import from_data

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / ".." / "shared" / "spec" / "seed-trial-semantics.md"
LISTING = REPO / ".." / "shared" / "seed" / "trial-listing.txt"

durations = st.sampled_from(["P7D", "P28D", "P4W", "P3M", "P12M", "P1Y"])
leaves = st.one_of(
    st.builds(Age, min=st.none() | st.integers(0, 120), max=st.none() | st.integers(0, 120)),
    st.builds(Gender, values=st.lists(st.sampled_from(["male", "female", "other", "unknown"]), min_size=1, max_size=2).map(tuple)),
    st.builds(
        Condition,
        valueset=st.sampled_from(["aml", "apl", "infection"]),
        timing=st.sampled_from(["ever", "active", "present", "onset_within", "active_or_within"]),
        window=st.none() | durations,
    ),
    st.builds(Procedure, valueset=st.sampled_from(["autologous_sct", "solid_organ_transplant"]), window=st.none() | durations),
    st.builds(
        Measurement,
        analyte=st.sampled_from(["ast", "hemoglobin", "creatinine"]),
        op=st.sampled_from(["<", "<=", ">", ">="]),
        value=st.none() | st.floats(0, 1000, allow_nan=False),
        uln_multiple=st.none() | st.floats(0.5, 5, allow_nan=False),
        lookback=st.none() | durations,
        label=st.none() | st.text(min_size=1, max_size=20),
    ),
    st.builds(Attestation, question=st.text(min_size=1, max_size=40)),
    st.builds(ManualReview, text=st.text(min_size=1, max_size=40)),
)
trees = st.recursive(
    leaves,
    lambda inner: st.one_of(
        st.builds(AllOf, items=st.lists(inner, min_size=1, max_size=3).map(tuple)),
        st.builds(AnyOf, items=st.lists(inner, min_size=1, max_size=3).map(tuple)),
        st.builds(Not, item=inner),
        st.builds(Uncertain, item=inner, reason=st.text(min_size=1, max_size=20)),
    ),
    max_leaves=8,
)


@settings(max_examples=60, deadline=None)
@given(trees, st.sampled_from(["inclusion", "exclusion"]))
def test_any_tree_survives_yaml_and_json(tree: object, kind: str) -> None:
    cs = CriteriaSet(trial="NCT00000001", criteria=(Criterion(id="inc-1", kind=kind, text="t", rule=tree),))
    assert from_data(yaml.safe_load(dumps_yaml(cs))) == cs
    assert from_data(orjson.loads(dumps_json(cs))) == cs


def test_files_keep_kind_first_and_leave_out_defaults() -> None:
    cs = builtin_criteria("NCT06125652")
    assert cs is not None
    text = dumps_yaml(cs)
    assert "rule: {" not in text
    first_rule = yaml.safe_load(text)["criteria"][1]["rule"]
    assert list(first_rule) == ["kind", "min", "max"]
    assert "if_missing" not in yaml.safe_load(text)["criteria"][5]["parts"][0]["rule"]


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    cs = builtin_criteria("NCT06125652")
    assert cs is not None
    for name in ("c.yaml", "c.json"):
        save(cs, tmp_path / name)
        assert load(tmp_path / name) == cs
    assert not list(tmp_path.glob("*.tmp"))


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("trial: NCT1\ncriteria:\n  - id: inc-1\n    kind: inclusion\n    text: t\n", "exactly one of"),
        ("trial: NCT1\ncriteria:\n  - id: inc-1\n    kind: inclusion\n    text: t\n    rule: {kind: magic}\n", "kind"),
        ("trial: NCT1\ncriteria:\n  - id: inc-1\n    kind: inclusion\n    text: t\n    rule: {kind: procedure, window: 3 months}\n", "P<n>"),
        ("trial: NCT1\ncriteria:\n  - id: inc-1\n    kind: maybe\n    text: t\n    rule: {kind: age, min: 1}\n", "kind"),
        ("- just a list\n", "mapping"),
        ("trial: [unclosed\n", "not valid"),
    ],
)
def test_bad_files_say_which_and_what(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(content)
    with pytest.raises(CriteriaFileError) as err:
        load(path)
    assert str(path) in str(err.value) and message in str(err.value)


def test_parts_must_carry_their_parent_id() -> None:
    with pytest.raises(ValueError, match="must start with"):
        Criterion(id="inc-6", kind="inclusion", text="t", parts=(Criterion(id="inc-7.ast", kind="inclusion", text="t", rule=Age(min=1)),))


@pytest.mark.skipif(not SPEC.exists(), reason=f"{SPEC} is not there")
def test_seed_has_exactly_the_spec_ids() -> None:
    spec_ids = set(re.findall(r"^\| ((?:inc|exc)-\d+(?:\.[a-z0-9]+)?) \|", SPEC.read_text(), re.M))
    cs = builtin_criteria("NCT06125652")
    assert cs is not None
    leaves = {c.id for c in cs.walk() if not c.parts}
    assert leaves == spec_ids
    assert [c.id for c in cs.criteria] == [f"inc-{i}" for i in range(1, 9)] + [f"exc-{i}" for i in range(1, 17)]


@pytest.mark.skipif(not LISTING.exists(), reason=f"{LISTING} is not there")
def test_seed_criteria_carry_the_listings_own_words() -> None:
    listing = LISTING.read_text()
    cs = builtin_criteria("NCT06125652")
    assert cs is not None
    for criterion in cs.criteria:
        number = criterion.id.split("-")[1]
        assert f"• {number}. {criterion.text}" in listing, criterion.id
