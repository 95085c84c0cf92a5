"""Patient records from FHIR R4: Bundles and bulk NDJSON, read into normalised facts."""

from trialscreen.fhir.facts import Facts
from trialscreen.fhir.read import PatientRecord, RecordError, RecordProblem, read_bundle, read_records

__all__ = ["Facts", "PatientRecord", "RecordError", "RecordProblem", "read_bundle", "read_records"]
