"""Allergens that are not medicines (latex, egg, contrast media): read only after an allergy word.

They live in their own table rather than the clause lexicon, so "egg" or "contrast" elsewhere in
a criterion never reads as a term; after "allergy to" they name the substance a patient's
AllergyIntolerance record would carry, matched by its text (and ATC class where one exists).
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

import yaml

from trialscreen.parse.lexicon import DATA, Entry, Hit, key_of, tokens


@lru_cache(maxsize=1)
def allergen_index() -> dict[tuple[str, ...], Entry]:
    rows: list[dict[str, Any]] = yaml.safe_load((DATA / "allergens.yaml").read_text(encoding="utf-8"))
    out: dict[tuple[str, ...], Entry] = {}
    for row in rows:
        entry = Entry("allergen", row["name"], row)
        for term in row["terms"]:
            out.setdefault(key_of(term), entry)
    return out


def allergen_hits(text: str) -> list[Hit]:
    """Non-overlapping allergen terms of `text`, longest first, left to right."""
    index = allergen_index()
    longest = max((len(k) for k in index), default=0)
    toks = tokens(text)
    words = [t for t, _, _ in toks]
    hits: list[Hit] = []
    i = 0
    while i < len(words):
        for n in range(min(longest, len(words) - i), 0, -1):
            entry = index.get(tuple(words[i : i + n]))
            if entry is not None:
                start, end = toks[i][1], toks[i + n - 1][2]
                hits.append(Hit(entry, start, end, text[start:end], False))
                i += n
                break
        else:
            i += 1
    return hits


def allergen_valueset(entry: Entry) -> dict[str, Any]:
    """The parsed value set of an allergen: its ATC class if any, and its names as text."""
    data = entry.data
    include = [{"system": "atc", "codes": [str(c) for c in data["atc"]]}] if data.get("atc") else []
    return {"title": data["terms"][0], "include": include, "text": list(data["text"])}
