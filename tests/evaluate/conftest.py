"""Fixtures for the evaluator tests; the helpers themselves live in `evaluate_support`.

`screen(builder, as_of)` screens a built patient against NCT06125652 and `status(report, id)`
reads one criterion's (or part's) status.
"""

from __future__ import annotations

import pytest
from evaluate_support import AS_OF, eligible_patient, patient, result, screen, status

from trialscreen.fhir.builder import PatientBuilder

__all__ = ["AS_OF", "eligible_patient", "patient", "result", "screen", "status"]


@pytest.fixture
def p() -> PatientBuilder:
    """A bare 46-year-old woman with no data."""
    return patient()
