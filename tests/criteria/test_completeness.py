"""Every node kind has an evaluator, plain words, docs (and, where built, an SQL compiler)."""

from __future__ import annotations

import importlib
from pathlib import Path

import pytest

from trialscreen.criteria import ALL_KINDS
from trialscreen.criteria.words import WORDS
from trialscreen.evaluate import COMPILERS

KINDS = [cls.model_fields["kind"].default for cls in ALL_KINDS]
DOC = Path(__file__).resolve().parents[2] / "docs" / "criteria-model.md"


@pytest.mark.parametrize("kind", KINDS)
def test_kind_has_an_evaluator_and_words(kind: str) -> None:
    assert kind in COMPILERS, f"no evaluator for {kind}"
    assert kind in WORDS, f"no plain words for {kind}"


@pytest.mark.parametrize("kind", KINDS)
def test_kind_is_documented(kind: str) -> None:
    assert f"`{kind}`" in DOC.read_text(), f"{kind} is not in {DOC.name}"


def test_the_sql_compiler_knows_every_kind() -> None:
    compiler = importlib.import_module("trialscreen.omop.compiler")
    visited = {name.removeprefix("visit_") for cls in vars(compiler).values() if isinstance(cls, type) for name in dir(cls) if name.startswith("visit_")}
    missing = [k for k in KINDS if k not in visited]
    assert not missing, f"the SQL compiler has no visit_ method for {missing}"
