"""What reading yields: a patient's record, or a problem naming the input that could not be read."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from trialscreen.fhir.facts import Coding, Facts
from trialscreen.fhir.normalise import add

Resource = dict[str, Any]
Wanted = Callable[[Coding], bool] | None


class RecordError(ValueError):
    """A record that cannot be read; the message names the input and the problem."""


@dataclass(slots=True)
class RecordProblem:
    source: str
    message: str


@dataclass(slots=True)
class PatientRecord:
    """One patient's facts, with where they came from."""

    facts: Facts
    source: str

    @property
    def patient_id(self) -> str:
        return self.facts.patient_id

    @classmethod
    def from_resources(cls, resources: Iterable[Resource], *, source: str = "resources", wanted: Wanted = None) -> PatientRecord:
        """A record from resource dicts of one patient (the Patient among them)."""
        items = list(resources)
        patients = [r for r in items if isinstance(r, dict) and r.get("resourceType") == "Patient"]
        if len(patients) != 1:
            raise RecordError(f"{source}: expected one Patient, found {len(patients)}")
        facts = Facts(patient_id=str(patients[0].get("id", "?")))
        contained = {
            f"Medication/{r.get('id')}": r for r in items if isinstance(r, dict) and r.get("resourceType") == "Medication"
        }
        for res in items:
            if isinstance(res, dict):
                add(res, facts, wanted, contained)
        return cls(facts, source)
