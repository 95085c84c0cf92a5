"""Generate a synthetic population, chunk by chunk, as OMOP Parquet and/or FHIR NDJSON."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from trialscreen.synth.catalogue import Catalogue, catalogue
from trialscreen.synth.concepts import build
from trialscreen.synth.context import Context, Counters, assign_ids
from trialscreen.synth.fhir import FhirWriter
from trialscreen.synth.omop import OmopWriter
from trialscreen.synth.population import draw_chunk, value_strings

CHUNK = 10_000
"""Persons per chunk. Part of what a seed means: changing it changes the population."""

FORMATS = ("omop", "fhir")


@dataclass
class Summary:
    persons: int
    seed: int
    as_of: date
    out: Path
    counts: dict[str, int] = field(default_factory=dict)


def generate(
    persons: int,
    seed: int,
    out: Path,
    as_of: date,
    formats: Sequence[str] = FORMATS,
    cat: Catalogue | None = None,
    progress: Callable[[int], None] | None = None,
) -> Summary:
    """Write ``persons`` synthetic persons (ids 1..persons) under ``out``.

    The same (persons, seed, as_of, formats) always gives byte-identical files. ``out/omop/*.parquet`` holds OMOP CDM
    v5.4 tables with their vocabulary subset; ``out/fhir/*.ndjson`` the same persons as
    FHIR R4 bulk data. Memory stays bounded by one chunk.
    """
    if persons < 1:
        raise ValueError(f"persons must be at least 1, got {persons}")
    if seed < 0:
        raise ValueError(f"seed must not be negative, got {seed}")
    unknown = set(formats) - set(FORMATS)
    if unknown or not formats:
        raise ValueError(f"formats must be among {FORMATS}, got {list(formats)}")
    cat = cat or catalogue()
    strings = value_strings(cat)
    ctx = Context(cat=cat, concepts=build(cat), as_of=as_of, strings=strings)
    out.mkdir(parents=True, exist_ok=True)
    omop = OmopWriter(out, ctx) if "omop" in formats else None
    fhir = FhirWriter(out, ctx) if "fhir" in formats else None
    counters = Counters()
    summary = Summary(persons=persons, seed=seed, as_of=as_of, out=out)
    try:
        for chunk_no, first in enumerate(range(1, persons + 1, CHUNK)):
            n = min(CHUNK, persons + 1 - first)
            chunk = draw_chunk(seed, chunk_no, first, n, as_of, cat, strings)
            ids = assign_ids(chunk, ctx, counters)
            if omop is not None:
                omop.write(chunk, ids)
            if fhir is not None:
                fhir.write(chunk, ids)
            _count(summary.counts, chunk)
            if progress is not None:
                progress(first + n - 1)
    finally:
        if fhir is not None:
            fhir.close()
        if omop is not None:
            omop.close(persons, seed)
    return summary


def _count(counts: dict[str, int], chunk: object) -> None:
    for name in (
        "persons",
        "conditions",
        "results",
        "procedures",
        "medicines",
        "vaccinations",
        "allergies",
        "consents",
        "responses",
    ):
        facts = getattr(chunk, name)
        n = len(facts.person_id if name == "persons" else facts.person)
        counts[name] = counts.get(name, 0) + n
