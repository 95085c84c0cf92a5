"""The output of `trialscreen parse` screens patients: every ctgov record, a Synthea patient."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from trialscreen.criteria.files import load
from trialscreen.evaluate.screen import Screener
from trialscreen.fhir.read import read_bundle
from trialscreen.knowledge import DATA_DIR, Knowledge
from trialscreen.parse.build import CriteriaParser, ParsedCriteria
from trialscreen.parse.output import write_parsed
from trialscreen.trials import Trial

SYNTHEA = Path(__file__).resolve().parents[2] / ".." / "shared" / "data" / "fhir" / "synthea"


def test_every_parsed_record_screens_a_patient(ctgov_trials: list[Trial], tmp_path: Path) -> None:
    record = read_bundle(sorted(SYNTHEA.glob("*.json"))[0])[0]
    files: list[Path] = []
    union = ParsedCriteria(CriteriaParser().parse_text("* x", "NCT00000000").criteria)
    for trial in {t.nct_id: t for t in ctgov_trials}.values():
        parsed = CriteriaParser().parse_text(trial.eligibility_criteria or "", trial.nct_id)
        out = tmp_path / f"{trial.nct_id}.json"  # JSON: the pure-Python YAML reader is slow
        write_parsed(parsed, out)
        files.append(out)
        union.valuesets.update(parsed.valuesets)
        union.analytes.update(parsed.analytes)
    # one knowledge for all files: the built-in plus every sidecar's content
    side = write_parsed(union, tmp_path / "all.yaml").knowledge_dir
    assert side is not None
    know = Knowledge(dirs=(DATA_DIR, side))
    verdicts: set[str] = set()
    for out in files:
        screener = Screener(load(out), know)
        report = screener.screen(record, date(2026, 11, 25))
        assert len(report.criteria) == len(screener.criteria.criteria)
        verdicts.add(report.verdict)
    assert len(files) > 150
    assert "ineligible" in verdicts  # the parsed trees decide things, not only "needs review"
