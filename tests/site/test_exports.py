"""Properties of the screening log and the flow diagram, whatever the stored outcomes."""

from __future__ import annotations

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date

from hypothesis import given
from hypothesis import strategies as st

from trialscreen.web.site.exports import consort_svg, flow, log_csv
from trialscreen.web.site.workspace import LogRow

OUTCOMES = ("enrolled", "screen_failure", "withdrawn", "in screening", "not screened")
CRITERIA = ("inc-2", "inc-6.ast", "exc-5", "exc-8", "exc-16")


@st.composite
def log_rows(draw: st.DrawFn) -> LogRow:
    outcome = draw(st.sampled_from(OUTCOMES))
    screenings = 0 if outcome == "not screened" else draw(st.integers(1, 5))
    reasons = tuple(draw(st.lists(st.sampled_from(CRITERIA), min_size=1, max_size=3, unique=True))) \
        if outcome == "screen_failure" else ()
    return LogRow(
        candidate_id=draw(st.uuids()).hex, trial="NCT06125652", source=draw(st.sampled_from(("application", "site"))),
        first_contact=date(2026, 11, 1), screenings=screenings,
        verdict=None if screenings == 0 else draw(st.sampled_from(("eligible", "ineligible", "needs_review"))),
        eligible_from=None, outcome=outcome, reasons=reasons, decided_on=None,
    )


@given(st.lists(log_rows(), max_size=30))
def test_every_assessed_candidate_is_in_exactly_one_box(rows: list[LogRow]) -> None:
    f = flow(rows)
    assert f.assessed == sum(r.screenings > 0 for r in rows)
    assert f.excluded + f.withdrawn + f.enrolled + f.pending == f.assessed
    assert dict(f.reasons) == {c: sum(c in r.reasons for r in rows) for c in CRITERIA if any(c in r.reasons for r in rows)}
    svg = ET.fromstring(consort_svg("NCT06125652", f))
    texts = " ".join(t.text or "" for t in svg.iter("{http://www.w3.org/2000/svg}text"))
    assert f"Assessed for eligibility (n={f.assessed})" in texts and f"Enrolled (n={f.enrolled})" in texts


@given(st.lists(log_rows(), max_size=20))
def test_the_csv_holds_every_row(rows: list[LogRow]) -> None:
    read = list(csv.DictReader(io.StringIO(log_csv(rows))))
    assert [r["candidate_id"] for r in read] == [r.candidate_id for r in rows]
    assert [r["outcome"] for r in read] == [r.outcome for r in rows]
    assert [tuple(filter(None, r["reasons"].split(";"))) for r in read] == [r.reasons for r in rows]
