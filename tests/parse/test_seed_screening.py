"""Screening the example patients with the parsed seed tree gives the curated verdicts
wherever the parsed criterion matches the curated one."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from trialscreen.criteria.files import load
from trialscreen.evaluate.screen import Screener
from trialscreen.fhir.read import read_bundle
from trialscreen.knowledge import DATA_DIR, Knowledge
from trialscreen.parse.build import parse_text
from trialscreen.parse.compare import compare
from trialscreen.parse.output import write_parsed
from trialscreen.trials import get_trial

REPO = Path(__file__).resolve().parents[2]
EXAMPLES = REPO / "examples"


@pytest.fixture(scope="module")
def screeners(tmp_path_factory: pytest.TempPathFactory) -> tuple[Screener, Screener, set[str]]:
    trial = get_trial("NCT06125652")
    parsed = parse_text(trial.eligibility_criteria or "", trial.nct_id)
    out = tmp_path_factory.mktemp("seed") / "seed.yaml"
    side = write_parsed(parsed, out).knowledge_dir
    know = Knowledge(dirs=(DATA_DIR, side) if side else (DATA_DIR,))
    curated = load(REPO / "src" / "trialscreen" / "criteria" / "builtin" / "NCT06125652.yaml")
    matched = {r.id for r in compare(curated, parsed.criteria, parsed.valuesets) if r.strict}
    assert len(matched) >= 20
    return Screener(curated), Screener(load(out), know), matched


def _examples() -> list[Path]:
    return sorted((EXAMPLES / "patients").glob("*.json"))


@pytest.mark.parametrize("bundle", _examples(), ids=lambda p: p.stem)
def test_matched_criteria_give_the_same_status(bundle: Path, screeners: tuple[Screener, Screener, set[str]]) -> None:
    curated, parsed, matched = screeners
    expected = json.loads((EXAMPLES / "expected-verdicts.json").read_text(encoding="utf-8"))
    as_of = date.fromisoformat(expected.get(bundle.name, {}).get("as_of", "2026-11-25"))
    for record in read_bundle(bundle):
        want = {r.id: r.status for r in curated.screen(record, as_of).criteria}
        got = {r.id: r.status for r in parsed.screen(record, as_of).criteria}
        for cid in matched:
            assert got[cid] == want[cid], (bundle.name, cid)
