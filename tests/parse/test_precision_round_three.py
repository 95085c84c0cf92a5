"""Wrong readings found in review of newly computable lines: each must be read exactly or go to a person."""

from __future__ import annotations

import pytest

from trialscreen.criteria.criterion import Criterion
from trialscreen.criteria.nodes import Condition, ManualReview, Medication, Not, Procedure, Uncertain

from .test_features import only, parse


def asks_a_person(c: Criterion) -> bool:
    """A manual-review item, or an `Uncertain` whose finding a person confirms."""
    return bool(only(c, ManualReview) or only(c, Uncertain))


def negated(c: Criterion, cls: type) -> list[object]:
    return [n.item for n in only(c, Not) if isinstance(n.item, cls)]


@pytest.mark.parametrize(
    "text",
    [
        "Diagnosis of type 2 diabetes at least 180 days prior to screening",
        "Diagnosis of type 2 diabetes ≥ 180 days before screening",
        "Diagnosed with type 2 diabetes more than 6 months before screening",
        "History of type 2 diabetes more than 6 months before screening",
    ],
)
def test_a_diagnosis_at_least_n_before_is_not_read_as_no_recent_disease(text: str) -> None:
    c = parse(text, "inclusion")
    assert negated(c, Condition) == []  # not "no diabetes in the last 180 days"
    assert asks_a_person(c)
    # what is read is the disease itself, never a window it must stay out of
    assert all(cond.window is None for cond in only(c, Condition))


def test_at_least_n_since_an_event_stays_no_event_in_the_window() -> None:
    c = parse("At least 6 months since myocardial infarction", "inclusion")
    assert isinstance(c.rule, Not) and isinstance(c.rule.item, Condition)
    assert (c.rule.item.valueset, c.rule.item.window) == ("acute_mi", "P6M")


def test_at_least_n_since_treatment_is_a_washout_but_a_required_treatment_is_not() -> None:
    washout = parse("At least 4 weeks since prior chemotherapy", "inclusion")
    assert [m.window for m in negated(washout, Medication)] == ["P4W"]  # type: ignore[attr-defined]
    required = parse(
        "Must have received at least 2 cycles of chemotherapy more than 6 months before enrollment", "inclusion"
    )
    assert negated(required, Medication) == [] and asks_a_person(required)
    surgery = parse("Must have undergone nephrectomy at least 3 months before enrollment", "inclusion")
    assert negated(surgery, Procedure) == [] and asks_a_person(surgery)


@pytest.mark.parametrize(
    "text",
    ["Severe cardiac, digestive, hematological disease", "Chronic cardiac, digestive or hematological disease"],
)
def test_an_unread_word_inside_a_list_is_an_alternative_a_person_reads(text: str) -> None:
    # a patient with only the unread one ("digestive disease") must not read as "not excluded"
    c = parse(text, "exclusion")
    assert only(c, ManualReview), c.rule
    assert {cond.valueset for cond in only(c, Condition)} >= {"cardiac_disease", "hematologic_disease"}


@pytest.mark.parametrize(
    ("text", "word"),
    [
        ("untreated thyroid pathology", "untreated"),
        ("Untreated thyroid disease;", "untreated"),
        ("Chronic cardiovascular/pulmonary disease", "chronic"),
        ("Patients with chronic liver disease or untreated hypertension", "untreated"),
    ],
)
def test_untreated_and_chronic_before_a_condition_are_not_dropped(text: str, word: str) -> None:
    c = parse(text, "exclusion")
    conditions = only(c, Condition)
    assert conditions
    # every condition the qualifier stands before is read only with a person confirming it
    asked = [u for u in only(c, Uncertain) if word in u.reason.lower()] + only(c, ManualReview)
    assert asked, c.rule


def test_acute_or_chronic_is_any_such_condition() -> None:
    c = parse("Acute or chronic pancreatitis", "exclusion")
    assert only(c, Condition) and not only(c, Uncertain) and not only(c, ManualReview)


@pytest.mark.parametrize(
    ("text", "kind", "cls", "valueset"),
    [
        ("Regular use of benzodiazepines or non-benzodiazepine hypnotics", "exclusion", Medication, "benzodiazepine"),
        ("Use of non-opioid analgesics", "exclusion", Medication, "opioid"),
        ("Non diabetic nephropathy (confirmed by biopsy).", "inclusion", Condition, "diabetes"),
        ("STEMI or non-STEMI within the past five days", "exclusion", Condition, "stemi"),
    ],
)
def test_a_non_prefixed_term_names_something_else_not_its_absence(
    text: str, kind: str, cls: type, valueset: str
) -> None:
    # "non-opioid analgesics" are other analgesics, "non-STEMI" another infarction: never "no opioid"
    c = parse(text, kind)
    assert [n for n in negated(c, cls) if n.valueset == valueset] == []  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", ["Non-users of opioids", "Subjects must be non-users of benzodiazepines"])
def test_non_users_of_a_medicine_are_never_its_users(text: str) -> None:
    c = parse(text, "inclusion")
    bare = [m for m in only(c, Medication) if m not in negated(c, Medication)]
    assert bare == [], c.rule


@pytest.mark.parametrize(("text", "valueset"), [("Non-smokers", "tobacco_use"), ("Non-diabetic subjects", "diabetes")])
def test_a_non_prefixed_state_of_the_person_is_still_its_absence(text: str, valueset: str) -> None:
    assert [n.valueset for n in negated(parse(text, "inclusion"), Condition)] == [valueset]  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("Current smoker: smokes cigarettes on 25 days of the past 30 days", "inclusion"),
        ("Current smoker who smoked on ≥ 25 days of the past 30 days", "inclusion"),
        ("Alcohol use on 5 or more days in the past month", "exclusion"),
        ("Alcohol abuse on at least 10 days out of the last 30 days", "exclusion"),
    ],
)
def test_a_frequency_within_a_period_is_not_a_window(text: str, kind: str) -> None:
    # "25 days of the past 30" counts days of use; neither 25 nor 30 days back says it
    c = parse(text, kind)
    assert only(c, ManualReview), c.rule
    assert all(cond.window is None for cond in only(c, Condition))


def test_a_window_named_by_its_days_is_still_a_window() -> None:
    c = parse("Alcohol abuse within 30 days of the first dose", "exclusion")
    assert [cond.window for cond in only(c, Condition)] == ["P30D"]


def test_non_before_a_state_named_with_its_person_is_still_its_absence() -> None:
    c = parse("Men or non-pregnant women of any ethnic background", "inclusion")
    assert [n.valueset for n in negated(c, Condition)] == ["pregnancy"]  # type: ignore[attr-defined]


@pytest.mark.parametrize("text", ["Chronic or acute hepatitis B infection", "Acute or chronic uncontrolled infection"])
def test_chronic_beside_acute_narrows_nothing(text: str) -> None:
    c = parse(text, "exclusion")
    assert only(c, Condition) and not [u for u in only(c, Uncertain) if "chronic" in u.reason]
