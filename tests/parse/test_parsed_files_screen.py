"""The output of `trialscreen parse` screens patients: every ctgov record, a Synthea patient."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from trialscreen.criteria.files import load
from trialscreen.evaluate.screen import Screener
from trialscreen.fhir.read import read_bundle
from trialscreen.knowledge import Knowledge
from trialscreen.parse.build import CriteriaParser
from trialscreen.parse.output import knowledge_dirs_for, write_parsed
from trialscreen.trials import Trial

SYNTHEA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "fhir" / "synthea"


def test_every_parsed_record_screens_a_patient(ctgov_trials: list[Trial], tmp_path: Path) -> None:
    record = read_bundle(sorted(SYNTHEA.glob("*.json"))[0])[0]
    seen: set[str] = set()
    verdicts: set[str] = set()
    for trial in ctgov_trials:
        if trial.nct_id in seen:
            continue
        seen.add(trial.nct_id)
        out = tmp_path / f"{trial.nct_id}.yaml"
        write_parsed(CriteriaParser().parse_text(trial.eligibility_criteria or "", trial.nct_id), out)
        screener = Screener(load(out), Knowledge(dirs=knowledge_dirs_for(out)))
        report = screener.screen(record, date(2026, 11, 25))
        assert len(report.criteria) == len(screener.criteria.criteria)
        verdicts.add(report.verdict)
    assert len(seen) > 150
    assert "ineligible" in verdicts  # the parsed trees decide things, not only "needs review"
