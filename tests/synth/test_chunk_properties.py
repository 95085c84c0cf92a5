"""Properties of any drawn chunk, whatever the seed, size and as-of date."""

from __future__ import annotations

from datetime import date

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from trialscreen.synth import population as P
from trialscreen.synth.catalogue import catalogue
from trialscreen.synth.population import draw_chunk, value_strings

CAT = catalogue()
STRINGS = value_strings(CAT)


@settings(max_examples=25, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n=st.integers(1, 400),
    as_of=st.dates(min_value=date(2000, 1, 1), max_value=date(2040, 12, 31)),
)
def test_chunk_invariants(seed: int, n: int, as_of: date) -> None:
    chunk = draw_chunk(seed, 0, 1, n, as_of, CAT, STRINGS)
    ps = chunk.persons
    assert len(ps.person_id) == n
    assert (ps.birth <= np.datetime64(as_of, "D")).all()
    # ages are completed years on the as-of date
    for birth, age in zip(ps.birth.tolist()[:20], ps.age.tolist()[:20], strict=True):
        years = as_of.year - birth.year - ((as_of.month, as_of.day) < (birth.month, birth.day))
        assert years == age
    lived = (np.datetime64(as_of, "D") - ps.birth).astype(np.int64)
    c = chunk.conditions
    for offsets, person in (
        (c.onset, c.person),
        (c.abatement, c.person),
        (chunk.results.day, chunk.results.person),
        (chunk.procedures.day, chunk.procedures.person),
        (chunk.medicines.start, chunk.medicines.person),
        (chunk.vaccinations.day, chunk.vaccinations.person),
    ):
        assert (offsets <= lived[person]).all(), "a fact dated before birth"
    # abatement only on a condition that is over (FHIR con-4)
    over = np.isin(np.array(P.CLINICAL)[c.clinical], ["inactive", "resolved", "remission"])
    assert over[c.has_abatement].all()
    assert (c.abatement <= c.onset).all() and (c.recorded <= c.onset).all()
    # every AML person has one AML-phase diagnosis
    phase = c.entry >= len(CAT.conditions)
    assert np.array_equal(np.unique(c.person[phase]), np.nonzero(ps.cohort == 1)[0])
    # medicines end after they start; results carry a value only where their kind says so
    assert (chunk.medicines.end <= chunk.medicines.start).all()
    r = chunk.results
    quantity = r.kind == P.V_QUANTITY
    assert not np.isnan(r.value[quantity]).any()
    assert (r.unit[quantity] >= 0).all()
    assert (r.text[(r.kind == P.V_CODE) | (r.kind == P.V_STRING)] >= 0).all()


@settings(max_examples=10, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), n=st.integers(1, 200))
def test_same_stream_same_chunk(seed: int, n: int) -> None:
    a = draw_chunk(seed, 3, 1, n, date(2026, 11, 25), CAT, STRINGS)
    b = draw_chunk(seed, 3, 1, n, date(2026, 11, 25), CAT, STRINGS)
    assert np.array_equal(a.results.value, b.results.value, equal_nan=True)
    assert np.array_equal(a.conditions.entry, b.conditions.entry)
