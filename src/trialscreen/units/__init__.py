"""Unit conversion: UCUM through a real UCUM library, analyte-specific factors from data."""

from trialscreen.units.convert import UnitError, converter, factor_to, ucum_factor

__all__ = ["UnitError", "converter", "factor_to", "ucum_factor"]
