"""Every ClinicalTrials.gov record in ../shared/data/ctgov parses, with sound spans and knowledge."""

from __future__ import annotations

from pathlib import Path

from trialscreen.criteria.files import dumps_yaml, from_data, to_data
from trialscreen.criteria.nodes import Node
from trialscreen.knowledge import DATA_DIR, Knowledge
from trialscreen.parse.build import CriteriaParser, ParsedCriteria
from trialscreen.parse.output import PARSE_KNOWLEDGE, write_parsed
from trialscreen.trials import Trial


def test_every_record_parses_and_round_trips(ctgov_trials: list[Trial], tmp_path: Path) -> None:
    names_vs: set[str] = set()
    names_an: set[str] = set()
    parser = CriteriaParser()  # one sink: the knowledge every record names
    for trial in ctgov_trials:
        parsed = parser.parse_text(trial.eligibility_criteria or "", trial.nct_id)
        criteria = parsed.criteria
        assert criteria.criteria, trial.nct_id
        assert from_data(to_data(criteria)) == criteria
        defs = dict(criteria.definitions)
        for c in criteria.walk():
            for node in (c.rule, c.applies_when):
                for leaf in _leaves(node, defs):
                    if leaf.source is not None and node is c.rule:
                        s, e = leaf.source
                        assert 0 <= s < e <= len(c.text), (trial.nct_id, c.id, leaf)
                    vs = getattr(leaf, "valueset", None)
                    if vs:
                        names_vs.add(vs)
                    an = getattr(leaf, "analyte", None)
                    if an:
                        names_an.add(an)
    # The value sets and analytes every parsed tree names resolve in the built-in knowledge
    # plus the sidecar the parser writes.
    out = tmp_path / "all.yaml"
    everything = ParsedCriteria(criteria, dict(parser.sink.valuesets), set(parser.sink.analytes))
    side = write_parsed(everything, out).knowledge_dir
    assert side is not None
    know = Knowledge(dirs=(DATA_DIR, PARSE_KNOWLEDGE, side))
    assert names_vs <= set(know.valuesets), names_vs - set(know.valuesets)
    assert names_an <= set(know.analytes), names_an - set(know.analytes)
    assert dumps_yaml(criteria)


def _leaves(node: Node | None, defs: dict[str, Node]) -> list[Node]:
    if node is None:
        return []
    if node.kind in ("all", "any"):
        return [leaf for item in node.items for leaf in _leaves(item, defs)]
    if node.kind in ("not", "uncertain"):
        return _leaves(node.item, defs)
    if node.kind == "ref":
        return _leaves(defs.get(node.name), defs)
    return [node]
