"""Chia entity recognition: a CRF trained on the train split, scored on the test split.

Usage: .venv/bin/python bench/chia_eval.py [--dev] [--chia DIR] [--max-iterations N] [--o-max P] [--json OUT]

Split: trials sorted by NCT id; the last 20 % are the test split (never used for training
or tuning). Entities: Condition, Drug, Procedure, Measurement, Value, Temporal, Person,
Negation. Scores: precision, recall and F1, exact spans (type, start and end equal) and
overlapping spans (same type, spans overlap; each gold and each prediction counts once).
Discontinuous gold entities count with their outer span (a tagger cannot produce them, so
they lower exact recall, honestly). Features: word shape and affixes, three neighbours each
side, word kinds (negation cue, time unit, time cue, unit, comparator, number), the parser's
own lexicon (which category of term a token is part of: curated tables, ICD-10-CM, drug names)
and a gazetteer of entity phrases annotated in the training documents (built from the other
folds for each training document, so its features look as they will on unseen text).
Settings (iterations, c1/c2, --o-max) are chosen with `--dev` (train on 90 % of the train
split, score its last 10 %). Needs python-crfsuite.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import time
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
CHIA = REPO / ".." / "shared" / "data" / "chia" / "chia_with_scope"
TYPES = ("Condition", "Drug", "Procedure", "Measurement", "Value", "Temporal", "Person", "Negation")
TOKEN = re.compile(r"\w+|[^\w\s]")


@dataclass(frozen=True, slots=True)
class Entity:
    doc: str
    type: str
    start: int
    end: int


def read_doc(txt: Path) -> tuple[str, list[Entity]]:
    text = txt.read_bytes().decode("utf-8")  # brat offsets count "\r" too
    ann = txt.with_suffix(".ann")
    ents: list[Entity] = []
    if ann.exists():
        for line in ann.read_text(encoding="utf-8").splitlines():
            if not line.startswith("T"):
                continue
            parts = line.split("\t")
            if len(parts) < 2:
                continue
            head = parts[1].split(" ", 1)
            if head[0] not in TYPES or len(head) < 2:
                continue
            nums = [int(x) for x in re.findall(r"\d+", head[1])]
            if not nums:
                continue
            ents.append(Entity(txt.stem, head[0], min(nums), max(nums)))
    return text, ents


def split_ids(chia: Path) -> tuple[list[str], list[str]]:
    ids = sorted({p.name.split("_")[0] for p in chia.glob("NCT*_*.txt")})
    cut = int(len(ids) * 0.8)
    return ids[:cut], ids[cut:]


def docs_of(chia: Path, ids: list[str]) -> list[Path]:
    return [chia / f"{i}_{part}.txt" for i in ids for part in ("inc", "exc") if (chia / f"{i}_{part}.txt").exists()]


# --- features ------------------------------------------------------------------------------


def _shape(w: str) -> str:
    s = re.sub(r"[A-Z]", "X", w)
    s = re.sub(r"[a-z]", "x", s)
    s = re.sub(r"\d", "d", s)
    return re.sub(r"(.)\1+", r"\1\1", s)


def lexicon_tags(line: str) -> dict[int, str]:
    """Char offset of each token start -> the parser lexicon category covering it (B-/I-)."""
    from trialscreen.parse.lexicon import lexicon

    out: dict[int, str] = {}
    for hit in lexicon().scan(line):
        first = True
        for m in TOKEN.finditer(line, hit.start, hit.end):
            if m.end() > hit.end:
                break
            out[m.start()] = ("B-" if first else "I-") + hit.entry.category
            first = False
    return out


_NEG = frozenset(["no", "not", "without", "never", "none", "absence", "absent", "negative", "non", "free", "lack", "denies", "nor", "neither", "cannot", "unable"])
_TIME_UNIT = re.compile(r"^(?:second|minute|hour|hr|h|day|d|week|wk|w|month|mo|mos|year|yr|y)s?$")
_TIME_CUE = frozenset(
    ["within", "prior", "before", "after", "during", "since", "past", "last", "ago", "previous", "previously", "preceding", "current", "currently", "recent", "recently", "until", "following", "history", "ongoing", "first", "time", "period", "duration", "months", "weeks", "days", "years"]
)
_UNIT = re.compile(r"^(?:mg|g|kg|ml|l|dl|mmol|umol|µmol|mol|iu|u|mm|cm|mmhg|bpm|ng|pg|mcg|µg|ug|meq|uln|x|%)$", re.I)
_COMPARE = frozenset(["<", ">", "=", "≤", "≥", "±", "greater", "less", "more", "than", "above", "below", "over", "under", "least", "most", "equal", "exceed", "exceeding"])


Gazetteer = dict[tuple[str, ...], str]


def gazetteer(paths: list[Path], min_count: int = 2) -> Gazetteer:
    """Token n-grams annotated in `paths` (training documents only) -> their majority type.

    Kept when seen at least `min_count` times and annotated as that type in more than half of
    its occurrences as an entity.
    """
    counts: dict[tuple[str, ...], dict[str, int]] = defaultdict(lambda: defaultdict(int))
    for p in paths:
        text, ents = read_doc(p)
        for e in ents:
            key = tuple(m.group().lower() for m in TOKEN.finditer(text, e.start, e.end))
            if 0 < len(key) <= 6:
                counts[key][e.type] += 1
    out: Gazetteer = {}
    for key, by_type in counts.items():
        typ, n = max(by_type.items(), key=lambda kv: kv[1])
        if n >= min_count and n * 2 > sum(by_type.values()):
            out[key] = typ
    return out


def gazetteer_tags(words: list[str], gaz: Gazetteer) -> list[str]:
    """B-/I-type of the longest gazetteer phrase covering each token, left to right."""
    tags = ["O"] * len(words)
    lower = [w.lower() for w in words]
    i = 0
    while i < len(words):
        for n in range(min(6, len(words) - i), 0, -1):
            typ = gaz.get(tuple(lower[i : i + n]))
            if typ:
                tags[i] = "B-" + typ
                for k in range(i + 1, i + n):
                    tags[k] = "I-" + typ
                i += n
                break
        else:
            i += 1
    return tags


def _kind(w: str) -> str:
    lw = w.lower()
    if lw in _NEG:
        return "neg"
    if _TIME_UNIT.match(lw):
        return "tunit"
    if lw in _TIME_CUE:
        return "tcue"
    if _UNIT.match(lw):
        return "unit"
    if lw in _COMPARE:
        return "cmp"
    if re.fullmatch(r"\d+(?:[.,]\d+)?", w):
        return "num"
    if not w.isalnum():
        return "punct"
    return "w"


def sentence_features(line: str, toks: list[re.Match[str]], gaz: Gazetteer | None = None) -> list[dict[str, object]]:
    lex = lexicon_tags(line)
    words = [t.group() for t in toks]
    gz = gazetteer_tags(words, gaz) if gaz is not None else None
    kinds = [_kind(w) for w in words]
    depth = 0
    feats = []
    for i, t in enumerate(toks):
        w = words[i]
        lw = w.lower()
        f: dict[str, object] = {
            "b": 1.0,
            "w": lw,
            "p3": lw[:3],
            "s3": lw[-3:],
            "s2": lw[-2:],
            "p4": lw[:4],
            "s4": lw[-4:],
            "sh": _shape(w),
            "up": w.isupper(),
            "ti": w.istitle(),
            "dg": any(c.isdigit() for c in w),
            "lex": lex.get(t.start(), "O"),
            "k": kinds[i],
            "pos": min(i, 3),
            "par": depth > 0,
        }
        if w in "([":
            depth += 1
        elif w in ")]":
            depth = max(0, depth - 1)
        if gz is not None:
            f["gz"] = gz[i]
        for d in (-3, -2, -1, 1, 2, 3):
            j = i + d
            if 0 <= j < len(toks):
                f[f"{d}w"] = words[j].lower()
                f[f"{d}k"] = kinds[j]
                if abs(d) <= 2:
                    f[f"{d}sh"] = _shape(words[j])
                    f[f"{d}lex"] = lex.get(toks[j].start(), "O")
                    if gz is not None:
                        f[f"{d}gz"] = gz[j]
            else:
                f[f"{d}w"] = "<s>" if d < 0 else "</s>"
        if i > 0:
            f["-1w|w"] = words[i - 1].lower() + "|" + lw
        if i + 1 < len(toks):
            f["w|+1w"] = lw + "|" + words[i + 1].lower()
        if i > 1:
            f["-2k|-1k"] = kinds[i - 2] + "|" + kinds[i - 1]
        if i + 2 < len(toks):
            f["+1k|+2k"] = kinds[i + 1] + "|" + kinds[i + 2]
        feats.append(f)
    return feats


def sentences(text: str) -> list[tuple[int, str]]:
    out, pos = [], 0
    for line in text.split("\n"):
        if line.strip():
            out.append((pos, line))
        pos += len(line) + 1
    return out


def bio(toks: list[re.Match[str]], offset: int, ents: list[Entity]) -> list[str]:
    """BIO labels; among overlapping gold entities the longest wins."""
    labels = ["O"] * len(toks)
    for e in sorted(ents, key=lambda e: -(e.end - e.start)):
        idx = [i for i, t in enumerate(toks) if t.start() + offset >= e.start and t.end() + offset <= e.end]
        if not idx or any(labels[i] != "O" for i in idx):
            continue
        for k, i in enumerate(idx):
            labels[i] = ("B-" if k == 0 else "I-") + e.type
    return labels


def decode(doc: str, toks: list[re.Match[str]], offset: int, labels: list[str]) -> list[Entity]:
    out: list[Entity] = []
    cur: list[int] | None = None
    cur_type = ""
    for i, lab in enumerate([*labels, "O"]):
        if cur is not None and (lab == "O" or lab.startswith("B-") or lab[2:] != cur_type):
            out.append(Entity(doc, cur_type, toks[cur[0]].start() + offset, toks[cur[-1]].end() + offset))
            cur = None
        if lab.startswith("B-") or (lab.startswith("I-") and cur is None):
            cur, cur_type = [i], lab[2:]
        elif lab.startswith("I-") and cur is not None:
            cur.append(i)
    return out


Row = tuple[str, int, list[re.Match[str]], list[dict[str, object]], list[str]]


def recall_labels(tagger: object, feats: list[dict[str, object]], o_max: float) -> list[str]:
    """Viterbi labels, then tokens tagged O whose marginal P(O) is below `o_max` take their most
    likely entity label (I- continues an entity of the same type, else B-). `o_max` 0 is Viterbi.

    A flat CRF under-predicts entities (its recall trails its precision); the threshold trades
    some precision back for recall and is chosen on the dev split.
    """
    labels: list[str] = list(tagger.tag(feats))  # type: ignore[attr-defined]
    if o_max <= 0:
        return labels
    names = [n for n in tagger.labels() if n != "O"]  # type: ignore[attr-defined]
    for i, lab in enumerate(labels):
        if lab != "O" or tagger.marginal("O", i) >= o_max:  # type: ignore[attr-defined]
            continue
        best = max(names, key=lambda n: tagger.marginal(n, i))  # type: ignore[attr-defined]
        typ = best[2:]
        prev = labels[i - 1] if i > 0 else "O"
        labels[i] = ("I-" if prev != "O" and prev[2:] == typ else "B-") + typ
    return labels


def build(paths: list[Path], gaz: Gazetteer | None = None) -> list[Row]:
    rows = []
    for p in paths:
        text, ents = read_doc(p)
        for offset, line in sentences(text):
            toks = list(TOKEN.finditer(line))
            if not toks:
                continue
            rows.append((p.stem, offset, toks, sentence_features(line, toks, gaz), bio(toks, offset, ents)))
    return rows


def build_training(paths: list[Path], folds: int) -> list[Row]:
    """Training rows whose gazetteer features come from the other folds (as unseen text would)."""
    if folds <= 1:
        return build(paths)
    rows: list[Row] = []
    for k in range(folds):
        held = paths[k::folds]
        rest = [p for i, p in enumerate(paths) if i % folds != k]
        rows.extend(build(held, gazetteer(rest)))
    return rows


def _prf(tp_pred: int, tp_gold: int, n_pred: int, n_gold: int) -> tuple[float, float, float]:
    pr = tp_pred / n_pred if n_pred else 0.0
    rc = tp_gold / n_gold if n_gold else 0.0
    return pr, rc, (2 * pr * rc / (pr + rc) if pr + rc else 0.0)


def score(gold: list[Entity], pred: list[Entity]) -> dict[str, dict[str, float]]:
    result: dict[str, dict[str, float]] = {}
    for typ in (*TYPES, "overall"):
        g = [e for e in gold if typ in ("overall", e.type)]
        p = [e for e in pred if typ in ("overall", e.type)]
        gset = set(g)
        exact_tp = sum(1 for e in set(p) if e in gset)
        by_doc: dict[tuple[str, str], list[Entity]] = defaultdict(list)
        for e in g:
            by_doc[(e.doc, e.type)].append(e)
        matched_pred = sum(
            1 for e in p if any(o.start < e.end and e.start < o.end for o in by_doc[(e.doc, e.type)])
        )
        pred_by_doc: dict[tuple[str, str], list[Entity]] = defaultdict(list)
        for e in p:
            pred_by_doc[(e.doc, e.type)].append(e)
        matched_gold = sum(
            1 for e in g if any(o.start < e.end and e.start < o.end for o in pred_by_doc[(e.doc, e.type)])
        )

        ep, er, ef = _prf(exact_tp, exact_tp, len(p), len(g))
        op, orc, of = _prf(matched_pred, matched_gold, len(p), len(g))
        result[typ] = {
            "gold": len(g), "pred": len(p),
            "exact_p": ep, "exact_r": er, "exact_f1": ef,
            "overlap_p": op, "overlap_r": orc, "overlap_f1": of,
        }  # fmt: skip
    return result


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--chia", type=Path, default=CHIA)
    ap.add_argument("--max-iterations", type=int, default=300)
    ap.add_argument("--json", type=Path, default=None)
    ap.add_argument("--model", type=Path, default=Path("/tmp/trialscreen-chia.crfsuite"))
    ap.add_argument("--dev", action="store_true", help="tune: train on 90 %% of the train split, score its last 10 %%")
    ap.add_argument("--c1", type=float, default=0.05)
    ap.add_argument("--c2", type=float, default=0.05)
    ap.add_argument("--o-max", type=float, default=0.0, help="an O token whose P(O) is below this takes its best entity label")
    ap.add_argument("--reuse", action="store_true", help="tag with an existing --model instead of training")
    ap.add_argument("--folds", type=int, default=5, help="gazetteer folds over the training documents (1: no gazetteer)")
    args = ap.parse_args(argv)
    try:
        import pycrfsuite
    except ImportError:
        print("chia_eval: needs python-crfsuite (pip install python-crfsuite)", file=sys.stderr)
        return 2
    if not args.chia.is_dir():
        print(f"chia_eval: {args.chia}: no such directory", file=sys.stderr)
        return 2
    train_ids, test_ids = split_ids(args.chia)
    if args.dev:  # the test split stays unseen while choosing settings
        cut = int(len(train_ids) * 0.9)
        train_ids, test_ids = train_ids[:cut], train_ids[cut:]
    t0 = time.perf_counter()
    train_docs = docs_of(args.chia, train_ids)
    gaz = gazetteer(train_docs) if args.folds > 1 else None
    if not (args.reuse and args.model.exists()):
        train = build_training(train_docs, args.folds)
        trainer = pycrfsuite.Trainer(verbose=False)
        for _, _, _, feats, labels in train:
            trainer.append(feats, labels)
        trainer.set_params({"c1": args.c1, "c2": args.c2, "max_iterations": args.max_iterations,
                            "feature.possible_transitions": True})  # fmt: skip
        trainer.train(str(args.model))
    train_s = time.perf_counter() - t0
    tagger = pycrfsuite.Tagger()
    tagger.open(str(args.model))
    gold: list[Entity] = []
    pred: list[Entity] = []
    for p in docs_of(args.chia, test_ids):
        gold.extend(read_doc(p)[1])
    t1 = time.perf_counter()
    test = build(docs_of(args.chia, test_ids), gaz)
    for doc, offset, toks, feats, _ in test:
        tagger.set(feats)
        pred.extend(decode(doc, toks, offset, recall_labels(tagger, feats, args.o_max)))
    tag_s = time.perf_counter() - t1
    scores = score(gold, pred)
    split = "dev: last 10 % of the train split" if args.dev else "test: last 20 % by NCT id"
    print(f"train trials {len(train_ids)}, scored trials {len(test_ids)} ({split}); "
          f"train {train_s:.0f} s, tag {len(test)} lines in {tag_s:.1f} s")  # fmt: skip
    print(f"{'type':<12}{'gold':>6}{'pred':>6}  {'exact P':>8}{'R':>7}{'F1':>7}  {'overlap P':>10}{'R':>7}{'F1':>7}")
    for typ, s in scores.items():
        print(f"{typ:<12}{s['gold']:>6.0f}{s['pred']:>6.0f}  {s['exact_p']:>8.3f}{s['exact_r']:>7.3f}{s['exact_f1']:>7.3f}"
              f"  {s['overlap_p']:>10.3f}{s['overlap_r']:>7.3f}{s['overlap_f1']:>7.3f}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"train_trials": len(train_ids), "test_trials": len(test_ids), "scores": scores}, indent=2))
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(REPO / "src"))
    raise SystemExit(main())
