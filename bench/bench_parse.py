"""Parser coverage and speed on real criteria: Chia lines and ClinicalTrials.gov records.

Usage: .venv/bin/python bench/bench_parse.py [--json OUT]

Coverage: the share of criterion lines that become computable (no manual-review node),
partly computable (some), or manual review only. A ClinicalTrials.gov line is a leaf
criterion of the split (a compound criterion counts by its parts); a Chia line is one line
of a `NCT..._inc.txt` / `_exc.txt` file, parsed as one criterion of that kind.
Speed: Chia lines parsed per second on one core (one process, one thread), wall-clock and per
CPU second (the latter is what a busy machine does not distort), after the vocabulary is loaded
(load time reported apart).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".." / "shared" / "data"


def chia_lines(chia: Path) -> list[tuple[str, str]]:
    out = []
    for txt in sorted(chia.glob("NCT*_*.txt")):
        kind = "exclusion" if txt.stem.endswith("_exc") else "inclusion"
        for line in txt.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append((kind, line.strip()))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)
    from trialscreen.parse.build import CriteriaParser
    from trialscreen.parse.lexicon import icd_terms, lexicon
    from trialscreen.parse.stats import attested_only, status, summary
    from trialscreen.trials import load_trials

    t0 = time.perf_counter()
    lexicon()
    icd_terms()
    load_s = time.perf_counter() - t0

    lines = chia_lines(DATA / "chia" / "chia_with_scope")
    parser = CriteriaParser()
    counts = {"computable": 0, "partial": 0, "manual": 0, "attested": 0}
    t1 = time.perf_counter()
    c1 = time.process_time()
    crits = [parser.parse_item(line, kind, f"c-{i}", None) for i, (kind, line) in enumerate(lines)]  # type: ignore[arg-type]
    chia_s = time.perf_counter() - t1
    chia_cpu = time.process_time() - c1
    for crit in crits:
        for leaf in crit.walk():
            if not leaf.parts:
                st = status(leaf.rule, {})
                counts[st] += 1
                counts["attested"] += st == "computable" and attested_only(leaf.rule, {})
    chia_total = counts["computable"] + counts["partial"] + counts["manual"]

    trials = [t for t in load_trials(DATA / "ctgov") if t.eligibility_criteria]
    seen: set[str] = set()
    ct = {"computable": 0, "partial": 0, "manual": 0, "attested": 0}
    for trial in trials:
        if trial.nct_id in seen:
            continue
        seen.add(trial.nct_id)
        s = summary(CriteriaParser().parse_text(trial.eligibility_criteria or "", trial.nct_id).criteria)
        ct["computable"] += s.computable
        ct["partial"] += s.partial
        ct["manual"] += s.manual
        ct["attested"] += s.attested
    ct_total = ct["computable"] + ct["partial"] + ct["manual"]
    result = {
        "vocabulary_load_s": round(load_s, 2),
        "chia": {"lines": len(lines), "criteria": chia_total, **counts,
                 "computable_share": counts["computable"] / chia_total,
                 "computable_without_attestations_share": (counts["computable"] - counts["attested"]) / chia_total,
                 "computable_or_partial_share": (counts["computable"] + counts["partial"]) / chia_total,
                 "seconds": round(chia_s, 2), "lines_per_second": round(len(lines) / chia_s),
                 "cpu_seconds": round(chia_cpu, 2), "lines_per_cpu_second": round(len(lines) / chia_cpu)},
        "ctgov": {"trials": len(seen), "criteria": ct_total, **ct,
                  "computable_share": ct["computable"] / ct_total,
                  "computable_without_attestations_share": (ct["computable"] - ct["attested"]) / ct_total,
                  "computable_or_partial_share": (ct["computable"] + ct["partial"]) / ct_total},
    }  # fmt: skip
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    raise SystemExit(main())
