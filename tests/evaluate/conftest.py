"""Helpers for the evaluator tests: `screen(builder, as_of)` and `status(report, id)`.

They live in `evaluate_support` (imported here and by each test module) because several test
directories have a `conftest.py`, and pytest does not keep those importable by name.
"""

from __future__ import annotations

from evaluate_support import AS_OF, eligible_patient, patient, result, screen, status

__all__ = ["AS_OF", "eligible_patient", "patient", "result", "screen", "status"]
