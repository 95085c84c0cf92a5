"""Words around lab thresholds that change nothing: an adequacy lead-in the thresholds define,
and a transfusion allowed to reach the level. Anything more stays with a person."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from trialscreen.criteria.nodes import AllOf, AnyOf, Condition, Derived, ManualReview, Measurement, Node, Uncertain
from trialscreen.parse.build import CriteriaParser
from trialscreen.parse.clauses import Kind
from trialscreen.parse.notes import organ_table

DATA = Path(__file__).resolve().parents[2] / "src" / "trialscreen" / "parse" / "data"


def rule(text: str, kind: Kind = "inclusion") -> Node:
    crit = CriteriaParser().parse_item(text, kind, "c", None)
    assert crit.rule is not None, text
    return crit.rule


def thresholds(node: Node) -> list[tuple[str, str | None, float | None]]:
    """(analyte, comparator, value or ULN multiple) of a tree made only of thresholds, else []."""
    if isinstance(node, Measurement):
        return [(node.analyte, node.op, node.value if node.value is not None else node.uln_multiple)]
    if isinstance(node, Derived):
        return [(node.quantity, node.op, node.value)]
    if isinstance(node, AllOf):
        found = [thresholds(i) for i in node.items]
        return [t for f in found for t in f] if all(found) else []
    return []


@pytest.mark.parametrize(
    ("text", "kind", "expected"),
    [
        ("Adequate renal function as evidenced by an estimated glomerular filtration rate (eGFR) ≥ 60 mL/min/1.73 m2 "
         "of body surface area.", "inclusion", [("egfr", ">=", 60.0)]),
        ("Adequate bone marrow function(absolute neutrophil count [ANC] ≥1,500/µL, hemoglobin ≥9.0 g/dL,and platelets "
         "≥100,000/µL)", "inclusion", [("anc", ">=", 1.5), ("hemoglobin", ">=", 90.0), ("platelets", ">=", 100.0)]),
        ("Patients must have adequate hepatic function as documented by a serum bilirubin less than or equal to 2x the "
         "institutional upper limit of normal", "inclusion", [("bilirubin", "<=", 2.0)]),
        ("Abnormal renal function as evidenced by a calculated creatinine clearance < 30 ml/minute.", "exclusion",
         [("creatinine_clearance", "<", 30.0)]),
        ("Hemoglobin ≥ 9.0 g/dL (patients may be transfused to meet this criterion).", "inclusion", [("hemoglobin", ">=", 90.0)]),
        ("Hemoglobin >9 g/dL (Note: Patients may be transfused or receive erythropoietin to maintain or exceed this level).",
         "inclusion", [("hemoglobin", ">", 90.0)]),
    ],
)  # fmt: skip
def test_the_thresholds_alone_decide(text: str, kind: Kind, expected: list[tuple[str, str, float]]) -> None:
    assert thresholds(rule(text, kind)) == expected


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Adequate liver and renal function (total bilirubin ≤ 1.5 × ULN)", "inclusion"),  # no renal test named
        ("Normal renal function (creatinine ≤ 1.5 mg/dL)", "exclusion"),  # a normal finding that excludes
        ("Adequate liver function after resection (total bilirubin ≤ 1.5 × ULN)", "inclusion"),  # more than a lead-in
        ("Hemoglobin ≥ 9 g/dL without transfusion within 14 days", "inclusion"),  # the opposite of a permission
        ("Adequate organ function within 14 days of dosing", "inclusion"),  # nothing defines it
    ],
)
def test_more_than_the_thresholds_is_not_dropped(text: str, kind: Kind) -> None:
    tree = rule(text, kind)
    assert not thresholds(tree) or isinstance(tree, (Uncertain, ManualReview))


def test_every_organ_test_is_an_analyte_the_parser_knows() -> None:
    rows = yaml.safe_load((DATA / "measurements.yaml").read_text(encoding="utf-8"))
    known = {row.get("analyte") or row.get("derived") for row in rows}
    for word, analytes in organ_table().items():
        assert analytes <= known, word


def test_a_definition_replaces_only_a_short_name() -> None:
    assert thresholds(rule("Anaemia, defined as haemoglobin < 9 g/dL", "exclusion")) == [("hemoglobin", "<", 90.0)]
    text = (
        "Females must have been surgically sterilized (hysterectomy, bilateral oophorectomy, or bilateral "
        "salpingo-oophorectomy; proper documentation required) at least 6 months before screening, or be postmenopausal "
        "(defined as 24 consecutive months without menses before screening, with a follicle-stimulating hormone [FSH] "
        "level of > 40 IU/L at screening)."
    )
    crit = CriteriaParser().parse_item(text, "inclusion", "c", None)
    rules = [leaf.rule for leaf in crit.walk() if not leaf.parts and leaf.rule is not None]
    assert any(
        isinstance(r, ManualReview) or (isinstance(r, AnyOf) and any(isinstance(i, ManualReview) for i in r.items))
        for r in rules
    )


def test_the_diagnostic_manual_a_diagnosis_follows_is_read_as_the_diagnosis() -> None:
    text = "Fulfillment of the Diagnostic and Statistical Manual of Mental Disorders, Fourth Edition, (DSM-IV) diagnostic criteria for ADHD"
    tree = rule(text)
    assert isinstance(tree, Condition) and tree.valueset == "adhd"
    assert tree.source is not None and text[slice(*tree.source)] == "ADHD"


@pytest.mark.parametrize(
    "text",
    [
        # a condition named inside an interview's title is not the one the criterion asks about
        "Meet DSM-IV criteria for BPD as assessed by the Structured Clinical Interview for DSM-IV Personality Disorders (SCID-II).",
        # exceptions and time frames beside the manual are not dropped with it
        "DSM-IV diagnosis of Alcohol or Substance Abuse within the last one month (except nicotine) or DSM-5 diagnosis of "
        "Substance Use Disorder in the last six months (except nicotine)",
    ],
)
def test_what_the_manual_words_hide_stays_with_a_person(text: str) -> None:
    tree = rule(text, "exclusion")
    assert isinstance(tree, (ManualReview, Uncertain)) or any(
        isinstance(i, ManualReview) for i in getattr(tree, "items", ())
    )


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("Bilirubin < ULN.", "<"),
        ("total bilirubin less than upper limit of normal (ULN)", "<"),
        ("Bilirubin below the institutional upper limit of normal", "<"),
        ("Bilirubin ≤ ULN", "<="),
        ("total bilirubin within normal limits", "<="),
    ],
)
def test_the_upper_limit_of_normal_itself_is_a_threshold(text: str, op: str) -> None:
    assert thresholds(rule(text)) == [("bilirubin", op, 1.0)]
