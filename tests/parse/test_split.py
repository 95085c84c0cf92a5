"""Splitting real eligibility texts: headings, bullets, numbering, nesting, notes, escapes."""

from __future__ import annotations

import re
from collections.abc import Iterator

from hypothesis import given
from hypothesis import strategies as st

from tests.parse.conftest import chia_text
from trialscreen.parse.split import Item, split_criteria, unescape
from trialscreen.trials import Trial, get_trial


def _all(items: list[Item]) -> Iterator[Item]:
    for item in items:
        yield item
        yield from _all(item.children)


def test_seed_listing_style_splits_into_8_inclusions_and_16_exclusions() -> None:
    text = get_trial("NCT06125652").eligibility_criteria or ""
    items = split_criteria(text)
    assert [i.kind for i in items].count("inclusion") == 8
    assert [i.kind for i in items].count("exclusion") == 16
    assert all(not i.text.startswith(("-", "•", "1")) for i in items)
    assert items[1].text == "At the age of 18-70 years old;"


def test_spans_point_at_the_words_in_the_original_text(ctgov_trials: list[Trial]) -> None:
    for trial in ctgov_trials:
        text = trial.eligibility_criteria or ""
        for item in _all(split_criteria(text)):
            original = unescape(text[item.start : item.end])
            # a wrapped item joins its lines with one space
            assert re.sub(r"\s+", " ", original) == re.sub(r"\s+", " ", item.text), trial.nct_id


def test_nested_sub_lists_become_children(trials_by_id: dict[str, Trial]) -> None:
    items = split_criteria(trials_by_id["NCT02576665"].eligibility_criteria or "")
    organ = next(i for i in items if i.text.startswith("Patient has adequate organ function"))
    assert [c.text.split(":")[0] for c in organ.children] == ["Bone marrow", "Liver", "Kidney"]


def test_sub_headings_travel_with_their_items_and_notes_attach(trials_by_id: dict[str, Trial]) -> None:
    items = split_criteria(trials_by_id["NCT05911841"].eligibility_criteria or "")
    assert any(i.heading == "ISA specific" and i.kind == "exclusion" for i in items)
    items = split_criteria(trials_by_id["NCT05897541"].eligibility_criteria or "")
    assert any(n.startswith("Note:") for i in _all(items) for n in i.notes)


def test_markdown_escapes_are_undone_in_the_text(trials_by_id: dict[str, Trial]) -> None:
    items = split_criteria(trials_by_id["NCT00576225"].eligibility_criteria or "")
    assert any(i.text == "Women with baseline estradiol >25 pg/mL" for i in items)


def test_chia_files_are_one_criterion_a_line() -> None:
    text = chia_text("NCT00050349_inc")
    items = split_criteria(text)
    assert len(items) == len([line for line in text.splitlines() if line.strip()])


@given(
    st.lists(st.text(alphabet="abcdefghij klmnop≥<5.,", min_size=3, max_size=30).filter(lambda s: s.strip(" .,")), min_size=1, max_size=6),
    st.sampled_from(["* ", "- ", "1. ", "• ", "- • 1. "]),
)
def test_every_listed_item_is_kept_once(bodies: list[str], marker: str) -> None:
    bodies = [("item " + b).strip() for b in bodies]  # a body opening "x. " would read as a sub-list marker
    text = "Inclusion Criteria:\n\n" + "\n".join(marker + b for b in bodies) + "\n\nExclusion Criteria:\n\n" + marker + "xyz"
    items = split_criteria(text)
    assert [i.text for i in items if i.kind == "inclusion"] == [unescape(b) for b in bodies]
    assert [i.text for i in items if i.kind == "exclusion"] == ["xyz"]
