"""Parser coverage and speed on real criteria: Chia lines and ClinicalTrials.gov records.

Usage: .venv/bin/python bench/bench_parse.py [--json OUT] [--gaps N]

Coverage: the share of criterion lines that become computable (no manual-review node),
partly computable (some), or manual review only. A ClinicalTrials.gov line is a leaf
criterion of the split (a compound criterion counts by its parts); a Chia line is one line
of a `NCT..._inc.txt` / `_exc.txt` file, parsed as one criterion of that kind.
Speed: Chia lines parsed per second on one core (one process, one thread), wall-clock and per
CPU second (the latter is what a busy machine does not distort), after the vocabulary is loaded
(load time reported apart).
Gaps (`--gaps N`): the N largest groups of lines that stay manual review, by the reason the
parser gives and by the unread words, on the Chia train split only (the first 80 % of trials by
NCT id, so the test split of `chia_eval.py` is never looked at) and the ClinicalTrials.gov
records: what to widen next.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from trialscreen.criteria.criterion import Criterion

REPO = Path(__file__).resolve().parents[1]
DATA = REPO / ".." / "shared" / "data"


def chia_lines(chia: Path) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    for txt in sorted(chia.glob("NCT*_*.txt")):
        kind = "exclusion" if txt.stem.endswith("_exc") else "inclusion"
        for line in txt.read_text(encoding="utf-8").splitlines():
            if line.strip():
                out.append((kind, line.strip()))
    return out


def chia_train_lines(chia: Path) -> list[tuple[str, str]]:
    """Lines of the trials whose NCT ids sort into the first 80 % (the test split stays unseen)."""
    ids = sorted({p.name.split("_")[0] for p in chia.glob("NCT*_*.txt")})
    train = set(ids[: int(len(ids) * 0.8)])
    out: list[tuple[str, str]] = []
    for txt in sorted(chia.glob("NCT*_*.txt")):
        if txt.name.split("_")[0] in train:
            kind = "exclusion" if txt.stem.endswith("_exc") else "inclusion"
            out.extend((kind, line.strip()) for line in txt.read_text(encoding="utf-8").splitlines() if line.strip())
    return out


def gaps(criteria: Iterable[Criterion], top: int) -> dict[str, object]:
    """Manual-review leaf criteria grouped by the parser's reason, and the unread words most often left."""
    from collections import Counter

    from trialscreen.criteria.nodes import ManualReview
    from trialscreen.parse.compare import leaves
    from trialscreen.parse.stats import status

    reasons: Counter[str] = Counter()
    words: Counter[str] = Counter()
    examples: dict[str, list[str]] = {}
    for crit in criteria:
        for leaf in crit.walk():
            if leaf.parts or status(leaf.rule, {}) == "computable":
                continue
            for _, node in leaves(leaf.rule, {}):
                if isinstance(node, ManualReview):
                    label = node.label or ""
                    reason = label.split(":")[0] or "(no reason)"
                    reasons[reason] += 1
                    examples.setdefault(reason, [])
                    if len(examples[reason]) < 3:
                        examples[reason].append(leaf.text[:160])
                    if ":" in label:
                        words.update(w.lower() for w in label.split(":", 1)[1].split())
    return {
        "reasons": [{"reason": r, "lines": n, "examples": examples[r]} for r, n in reasons.most_common(top)],
        "unread_words": words.most_common(top * 5),
    }


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--gaps", type=int, default=0, help="also list the N largest manual-review groups (Chia train split, ctgov)")
    args = ap.parse_args(argv)
    from trialscreen.parse.build import CriteriaParser
    from trialscreen.parse.lexicon import drug_terms, icd_terms, lexicon
    from trialscreen.parse.stats import attested_only, status, summary
    from trialscreen.trials import load_trials

    t0 = time.perf_counter()
    lexicon()
    icd_terms()
    drug_terms()  # the drug dictionary is vocabulary too (it was read inside the first timed parse)
    _ = lexicon().prefixes
    load_s = time.perf_counter() - t0

    lines = chia_lines(DATA / "chia" / "chia_with_scope")
    parser = CriteriaParser()
    counts = {"computable": 0, "partial": 0, "manual": 0, "attested": 0}
    t1 = time.perf_counter()
    c1 = time.process_time()
    crits = [parser.parse_item(line, "exclusion" if kind == "exclusion" else "inclusion", f"c-{i}", None) for i, (kind, line) in enumerate(lines)]
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
    if args.gaps:
        gap_parser = CriteriaParser()
        chia_train = [
            gap_parser.parse_item(line, "exclusion" if kind == "exclusion" else "inclusion", f"g-{i}", None)
            for i, (kind, line) in enumerate(chia_train_lines(DATA / "chia" / "chia_with_scope"))
        ]
        by_id = {t.nct_id: t for t in trials}
        ct_criteria = [c for t in by_id.values() for c in CriteriaParser().parse_text(t.eligibility_criteria or "", t.nct_id).criteria.criteria]
        result["gaps"] = {"chia_train": gaps(chia_train, args.gaps), "ctgov": gaps(ct_criteria, args.gaps)}
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    raise SystemExit(main())
