"""The in-memory evaluator: a patient's FHIR facts against a criteria tree."""

from trialscreen.evaluate.registry import COMPILERS
from trialscreen.evaluate.screen import Screener, screen, status_of

__all__ = ["COMPILERS", "Screener", "screen", "status_of"]
