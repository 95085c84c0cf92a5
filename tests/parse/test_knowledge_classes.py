"""Medicine classes defined by knowledge rather than by ATC group (fourth session, issue 4):
strong and moderate CYP3A inhibitors and inducers, as lists of ingredient names. What each
wording must read, what must stay with a person, and that the lists behave as value sets."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from trialscreen.criteria.nodes import Medication, Not
from trialscreen.knowledge import DATA_DIR, Knowledge
from trialscreen.parse.build import CriteriaParser
from trialscreen.parse.lexicon import DATA
from trialscreen.parse.stats import status

from .test_features import only, parse

CYP3A = ("cyp3a_strong_inhibitor", "cyp3a_strong_inducer", "cyp3a_moderate_inhibitor", "cyp3a_moderate_inducer")


def _classes() -> dict[str, dict[str, Any]]:
    rows: list[dict[str, Any]] = yaml.safe_load((DATA / "medications.yaml").read_text(encoding="utf-8"))
    return {r["name"]: r for r in rows}


def _text(name: str) -> set[str]:
    return set(_classes()[name]["text"])


def _valuesets(text: str, kind: str = "exclusion") -> tuple[list[str], CriteriaParser]:
    parser = CriteriaParser()
    crit = parser.parse_item(text, kind, "c-1", None)
    return [m.valueset for m in only(crit, Medication)], parser


@pytest.mark.parametrize(
    ("text", "valueset", "window"),
    [
        ("Strong inducers of CYP 3A4", "cyp3a_strong_inducer", None),
        ("Strong cytochrome P450 (CYP) 3A inducer", "cyp3a_strong_inducer", None),
        ("Concomitant use of strong CYP 3A inhibitors or inducers", "cyp3a_strong_inhibitor_or_inducer", None),
        ("Use of strong CYP3A inhibitors/inducers within 14 days before the first dose", "cyp3a_strong_inhibitor_or_inducer", "P14D"),
        ("Patients who have used strong CYP3A4 inhibitors or inducers within 7 days before the first dose", "cyp3a_strong_inhibitor_or_inducer", "P7D"),
        ("Patients currently receiving medications known to be potent inhibitors or inducers of cytochrome P450 (CYP) 3A4", "cyp3a_strong_inhibitor_or_inducer", None),
        ("Use of moderate or strong CYP3A4 inhibitors within 14 days", "cyp3a_strong_or_moderate_inhibitor", "P14D"),
        ("Current treatment with moderate CYP3A inducers", "cyp3a_moderate_inducer", None),
    ],
)  # fmt: skip
def test_cyp3a_wordings_read_as_the_class_they_name(text: str, valueset: str, window: str | None) -> None:
    crit = parse(text, "exclusion")
    meds = only(crit, Medication)
    assert [m.valueset for m in meds] == [valueset]
    assert meds[0].window == window
    assert not only(crit, Not)
    assert status(crit.rule, {}) == "computable"


@pytest.mark.parametrize(
    "text",
    [
        "Concomitant use of CYP3A4 inhibitors",  # no strength: which list is meant is the protocol's
        "Moderate/Weak CYP3A inducers such as efavirenz and oxcarbazepine",  # weak ones are not listed
        "Combined P-glycoprotein and strong cytochrome P450 (CYP) 3A4 inhibitor",  # both at once
        "Current use of weak CYP3A4 inhibitors",
    ],
)
def test_cyp3a_wordings_without_a_list_stay_with_a_person(text: str) -> None:
    crit = parse(text, "exclusion")
    assert not any(m.valueset.startswith("cyp3a") for m in only(crit, Medication))
    assert status(crit.rule, {}) != "computable"


def test_cyp3a_unions_are_exactly_their_parts() -> None:
    assert _text("cyp3a_strong_inhibitor_or_inducer") == _text("cyp3a_strong_inhibitor") | _text("cyp3a_strong_inducer")
    assert _text("cyp3a_strong_or_moderate_inhibitor") == _text("cyp3a_strong_inhibitor") | _text(
        "cyp3a_moderate_inhibitor"
    )
    assert _text("cyp3a_strong_or_moderate_inducer") == _text("cyp3a_strong_inducer") | _text("cyp3a_moderate_inducer")


def test_cyp3a_strengths_and_directions_do_not_overlap() -> None:
    sets = [_text(n) for n in CYP3A]
    for i, a in enumerate(sets):
        for b in sets[i + 1 :]:
            assert not a & b
            # a name inside another one would put a medicine in two classes by substring
            assert not [(x, y) for x in a for y in b if x in y or y in x]


def test_every_cyp3a_term_reads_as_its_own_class() -> None:
    missed = []
    for name, row in _classes().items():
        if not name.startswith("cyp3a"):
            continue
        for term in row["terms"]:
            found, _ = _valuesets(f"Current use of {term}")
            if found != [name]:
                missed.append((name, term, found))
    assert missed == []


def test_the_parsed_class_matches_medicines_by_ingredient(tmp_path: Path) -> None:
    found, parser = _valuesets("Concomitant use of strong CYP 3A inhibitors or inducers")
    (tmp_path / "valuesets.yaml").write_text(yaml.safe_dump(dict(parser.sink.valuesets)), encoding="utf-8")
    vs = Knowledge(dirs=(DATA_DIR, tmp_path)).valueset(found[0])
    assert vs.matches_text("Clarithromycin 500 MG Oral Tablet")
    assert vs.matches_text("lopinavir / ritonavir 200 MG / 50 MG Oral Tablet")  # a co-formulation
    assert vs.matches_text("Rifampin 300 MG Oral Capsule")
    assert not vs.matches_text("Amoxicillin 500 MG Oral Capsule")
    assert not vs.matches_text("Fluconazole 150 MG Oral Tablet")  # moderate, not strong


@given(st.sampled_from(["strong", "potent"]), st.sampled_from(["CYP3A4", "CYP3A", "CYP 3A4", "cytochrome P450 3A4"]),
       st.sampled_from(["inhibitors", "inducers"]), st.integers(min_value=1, max_value=90))  # fmt: skip
def test_a_strength_enzyme_and_window_read_together(strength: str, enzyme: str, noun: str, days: int) -> None:
    crit = parse(f"Use of {strength} {enzyme} {noun} within {days} days before the first dose", "exclusion")
    meds = only(crit, Medication)
    assert [m.valueset for m in meds] == [f"cyp3a_strong_{noun[:-1]}"]
    assert meds[0].window == f"P{days}D"


@pytest.mark.parametrize(
    ("text", "valuesets"),
    [
        ("Prior treatment with immune checkpoint inhibitors", ["immune_checkpoint_inhibitor"]),
        ("Previous therapy with any checkpoint inhibitor", ["immune_checkpoint_inhibitor"]),
        ("Prior treatment with PD-1 monoclonal antibody", ["checkpoint_inhibitor"]),  # was any cancer antibody (L01F)
        ("Prior treatment with PD-1/L1 antibody", ["checkpoint_inhibitor"]),
        (
            "Prior treatment with anti-PD-1, anti-PD-L1, or anti-CTLA-4 therapy",
            ["checkpoint_inhibitor", "checkpoint_inhibitor", "anti_ctla4"],
        ),
    ],
)
def test_checkpoint_inhibitor_wordings(text: str, valuesets: list[str]) -> None:
    crit = parse(text, "exclusion")
    meds = only(crit, Medication)
    assert [m.valueset for m in meds] == valuesets
    assert all(m.timing == "ever" for m in meds)
    assert status(crit.rule, {}) == "computable"


def test_immune_checkpoint_inhibitors_hold_the_pd1_and_ctla4_classes() -> None:
    classes = _classes()
    general = set(classes["immune_checkpoint_inhibitor"]["atc"])
    assert set(classes["checkpoint_inhibitor"]["atc"]) | set(classes["anti_ctla4"]["atc"]) == general


@pytest.mark.parametrize("text", ["Prior immunotherapy", "Received immunotherapy within 4 weeks before the first dose"])
def test_immunotherapy_alone_stays_with_a_person(text: str) -> None:
    # immunotherapy also covers interleukins, interferons, vaccines, BCG and cell therapies
    crit = parse(text, "exclusion")
    assert not only(crit, Medication)
    assert status(crit.rule, {}) != "computable"


def test_with_or_without_a_checkpoint_inhibitor_is_not_read_as_a_listed_class() -> None:
    # 'with or without anti-PD1/PD-L1 agents' is read by the parser as never having had them;
    # until it reads 'with or without' as no requirement, the wording stays partly manual
    crit = parse("Progression after platinum-based chemotherapy (with or without anti-PD1/PD-L1 agents)", "inclusion")
    assert status(crit.rule, {}) != "computable"
