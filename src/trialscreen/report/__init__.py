"""Screening results and how they read: for a person (Rich text) and for programs (JSON)."""

from trialscreen.report.model import CriterionResult, Evidence, PatientReport, verdict_of

__all__ = ["CriterionResult", "Evidence", "PatientReport", "verdict_of"]
