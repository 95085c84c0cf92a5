"""Synthetic populations: a general hospital population with an AML sub-population, as OMOP
CDM v5.4 Parquet and FHIR R4 bulk NDJSON holding the same persons. See ``generate``."""

from trialscreen.synth.generate import CHUNK, FORMATS, Summary, generate

__all__ = ["CHUNK", "FORMATS", "Summary", "generate"]
