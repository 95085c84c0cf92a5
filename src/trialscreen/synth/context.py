"""What both writers share: the catalogue, the concepts, and the row ids of a chunk.

Row ids are handed out per OMOP table in person order, chunk after chunk, so the FHIR
resource of a fact and its OMOP row carry the same number (``Condition/c17`` is
``condition_occurrence_id`` 17). Facts an OMOP ETL would drop (refuted diagnoses, results
entered in error, procedures not done) keep their id in FHIR and leave a gap in OMOP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np

from trialscreen.synth.catalogue import Catalogue, ConditionEntry
from trialscreen.synth.concepts import ConceptSet
from trialscreen.synth.population import Chunk


@dataclass
class Context:
    cat: Catalogue
    concepts: ConceptSet
    as_of: date
    strings: tuple[str, ...]

    @property
    def conditions(self) -> tuple[ConditionEntry, ...]:
        return (*self.cat.conditions, *self.cat.aml_phases)

    @property
    def as_of_day(self) -> np.datetime64:
        return np.datetime64(self.as_of, "D")

    def days(self, offsets: np.ndarray) -> np.ndarray:
        """Calendar dates (datetime64[D]) of offsets in days before the as-of date."""
        return self.as_of_day - offsets.astype("timedelta64[D]")

    def moments(self, offsets: np.ndarray, seconds: np.ndarray) -> np.ndarray:
        """Timestamps (datetime64[s]) of day offsets plus seconds after midnight."""
        return self.days(offsets).astype("datetime64[s]") + seconds.astype("timedelta64[s]")


@dataclass
class Counters:
    """The next id of each table; carried from chunk to chunk."""

    next: dict[str, int] = field(
        default_factory=lambda: dict.fromkeys(
            ("condition", "measurement", "observation", "procedure", "drug", "consent", "response"),
            1,
        )
    )

    def take(self, table: str, n: int) -> np.ndarray:
        start = self.next[table]
        self.next[table] = start + n
        return np.arange(start, start + n, dtype=np.int64)


@dataclass
class Ids:
    condition: np.ndarray
    result: np.ndarray  # measurement_id, or observation_id for Observation-domain results
    component: np.ndarray  # measurement_id of a result's oxygen component, -1 none
    procedure: np.ndarray
    medicine: np.ndarray
    vaccination: np.ndarray
    allergy: np.ndarray
    consent: np.ndarray
    response: np.ndarray


def assign_ids(chunk: Chunk, ctx: Context, counters: Counters) -> Ids:
    """Ids for every fact of the chunk, in a fixed order."""
    r = chunk.results
    in_obs = np.array([a.domain == "Observation" for a in ctx.cat.analytes])[r.analyte]
    result = np.empty(len(r.person), dtype=np.int64)
    result[~in_obs] = counters.take("measurement", int((~in_obs).sum()))
    result[in_obs] = counters.take("observation", int(in_obs.sum()))
    has_o2 = r.o2_kind >= 0
    component = np.full(len(r.person), -1, dtype=np.int64)
    component[has_o2] = counters.take("measurement", int(has_o2.sum()))
    return Ids(
        condition=counters.take("condition", len(chunk.conditions.person)),
        result=result,
        component=component,
        procedure=counters.take("procedure", len(chunk.procedures.person)),
        medicine=counters.take("drug", len(chunk.medicines.person)),
        vaccination=counters.take("drug", len(chunk.vaccinations.person)),
        allergy=counters.take("observation", len(chunk.allergies.person)),
        consent=counters.take("consent", len(chunk.consents.person)),
        response=counters.take("response", len(chunk.responses.person)),
    )
