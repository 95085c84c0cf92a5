"""One generated population shared by the synth tests (a few thousand persons, both formats)."""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest

from tests.synth.helpers import AS_OF, PERSONS, SEED, read_ndjson
from trialscreen.synth import generate


@pytest.fixture(scope="session")
def population(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("synth")
    generate(PERSONS, SEED, out, AS_OF)
    return out


@pytest.fixture(scope="session")
def fhir(population: Path) -> dict[str, list[dict[str, Any]]]:
    """Every resource of the population, by resource type."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for path in sorted((population / "fhir").glob("*.ndjson")):
        out[path.stem] = list(read_ndjson(path))
    return out
