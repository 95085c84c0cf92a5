"""Past medicine use in the model: a window means `within`, files round-trip, words say when."""

from __future__ import annotations

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st
from pydantic import TypeAdapter

from trialscreen.criteria.nodes import Medication, Node
from trialscreen.criteria.words import describe

NODE: TypeAdapter[Node] = TypeAdapter(Node)


@given(n=st.integers(min_value=1, max_value=99), unit=st.sampled_from("DWMY"))
def test_a_window_read_from_a_file_is_within_and_round_trips(n: int, unit: str) -> None:
    text = f"{{kind: medication, valueset: immunosuppressant, window: P{n}{unit}}}"
    node = NODE.validate_python(yaml.safe_load(text))
    assert isinstance(node, Medication) and node.timing == "within" and node.window == f"P{n}{unit}"
    again = NODE.validate_python({"kind": "medication", **node.model_dump(exclude_defaults=True)})
    assert again == node


def test_files_without_timing_keep_meaning_current_use() -> None:
    node = NODE.validate_python({"kind": "medication", "valueset": "immunosuppressant"})
    assert isinstance(node, Medication) and node.timing == "current" and node.window is None


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        ({}, "currently taking systemic immunosuppressive medicine"),
        ({"timing": "ever"}, "use of systemic immunosuppressive medicine at any time"),
        ({"window": "P4W", "systemic_only": False}, "use of immunosuppressive medicine within 4 weeks"),
    ],
)
def test_words_say_when(fields: dict[str, object], expected: str) -> None:
    assert describe(Medication(valueset="immunosuppressant", **fields)) == expected


@pytest.mark.parametrize("fields", [{"timing": "within"}, {"timing": "current", "window": "P4W"}, {"window": "4 weeks"}])
def test_inconsistent_timing_is_refused_naming_the_value_set(fields: dict[str, object]) -> None:
    with pytest.raises(ValueError, match="immunosuppressant|duration"):
        Medication(valueset="immunosuppressant", **fields)
