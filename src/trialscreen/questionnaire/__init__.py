"""Pre-screening questionnaires generated from computable criteria, and their answers as FHIR."""

from trialscreen.questionnaire.generate import build_questionnaire
from trialscreen.questionnaire.model import (
    EnableWhen,
    Guard,
    Option,
    Quantity,
    Question,
    Questionnaire,
    UnitOption,
)

__all__ = [
    "EnableWhen",
    "Guard",
    "Option",
    "Quantity",
    "Question",
    "Questionnaire",
    "UnitOption",
    "build_questionnaire",
]
