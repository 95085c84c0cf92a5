"""Derived-value constants are data that both engines read, not numbers in their code."""

from __future__ import annotations

from pathlib import Path

import pytest

from trialscreen.evaluate.derived import cockcroft_gault
from trialscreen.knowledge import DATA_DIR, Knowledge, KnowledgeError, knowledge


def test_cockcroft_gault_constants_are_the_specs() -> None:
    cg = knowledge().cockcroft_gault
    assert (cg.age_offset, cg.divisor, cg.factor_unless_male) == (140, 72, 0.85)
    # (140 - 60) x 72 kg / (72 x 1.0 mg/dL) = 80 mL/min; x 0.85 for a woman
    assert cockcroft_gault(60, 72.0, 1.0, male=True) == pytest.approx(80.0)
    assert cockcroft_gault(60, 72.0, 1.0, male=False) == pytest.approx(68.0)


def test_the_formula_follows_the_data(tmp_path: Path) -> None:
    (tmp_path / "formulas.yaml").write_text("cockcroft_gault: {age_offset: 150, divisor: 72, factor_unless_male: 0.5}\n")
    cg = Knowledge((DATA_DIR, tmp_path)).cockcroft_gault
    assert cockcroft_gault(60, 72.0, 1.0, male=False, k=cg) == pytest.approx(45.0)


def test_malformed_formulas_are_named(tmp_path: Path) -> None:
    (tmp_path / "formulas.yaml").write_text("cockcroft_gault: {age_offset: old}\n")
    with pytest.raises(KnowledgeError, match="formulas.yaml"):
        Knowledge((DATA_DIR, tmp_path))
