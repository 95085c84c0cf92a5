"""Precision fixes: a line read as a pregnancy test holds nothing else, and a double negative is left to a person."""

from __future__ import annotations

from trialscreen.criteria.nodes import Attestation, Measurement, Node
from trialscreen.parse import parse_text


def _leaves(node: Node | None) -> list[Node]:
    if node is None:
        return []
    item = getattr(node, "item", None)
    children = getattr(node, "items", None) or ([item] if item is not None else [])
    return [x for child in children for x in _leaves(child)] if children else [node]


def _all_leaves(text: str) -> list[Node]:
    [criterion] = parse_text(text).criteria.criteria
    nodes = _leaves(criterion.rule)
    for part in criterion.parts:
        nodes += _leaves(part.rule)
    return nodes


def test_a_test_alone_is_the_hcg_result() -> None:
    [leaf] = _all_leaves("Inclusion Criteria:\n- Female patients must have a negative serum pregnancy test at screening.")
    assert isinstance(leaf, Measurement) and leaf.analyte == "hcg" and leaf.expect == "negative"


def test_contraception_beside_the_test_is_kept() -> None:
    leaves = _all_leaves(
        "Inclusion Criteria:\n- Women of childbearing potential must have a negative pregnancy test and agree to use adequate contraception"
    )
    assert any(isinstance(x, Measurement) and x.analyte == "hcg" for x in leaves)
    assert any(isinstance(x, Attestation) and "contraception" in x.question.lower() for x in leaves)


def test_another_test_beside_it_is_not_dropped() -> None:
    leaves = _all_leaves("Exclusion Criteria:\n- Positive pregnancy test or HIV negative")
    assert any(getattr(x, "analyte", None) == "hiv_antibody" for x in leaves)


def test_pregnant_or_lactating_beside_the_test_in_an_exclusion() -> None:
    leaves = _all_leaves("Exclusion Criteria:\n- Pregnant or lactating women or positive pregnancy test")
    assert {getattr(x, "analyte", None) for x in leaves} >= {"hcg"}
    assert {getattr(x, "valueset", None) for x in leaves} >= {"pregnancy", "lactation"}


def test_a_double_negative_is_left_to_a_person() -> None:
    """'Not negative for HIV' means HIV positive; reading only one negation inverted it."""
    from trialscreen.criteria.nodes import ManualReview

    for text in ("Exclusion Criteria:\n- Not negative for HIV", "Inclusion Criteria:\n- Non-negative HBsAg"):
        leaves = _all_leaves(text)
        assert leaves and all(isinstance(x, ManualReview) for x in leaves), text
    [single] = _all_leaves("Exclusion Criteria:\n- Negative for HIV")
    assert isinstance(single, Measurement) and single.expect == "negative"
