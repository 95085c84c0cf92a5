"""The parser's vocabulary: curated term tables (data files), ICD-10-CM descriptions, drug names.

Terms are looked up as token n-grams (lower-case alphanumeric runs), longest first, so a
clause is scanned once whatever the size of the vocabulary. Curated tables win over the
ICD-10-CM descriptions of `simple-icd-10-cm`, which only fill in conditions nobody listed,
and over the drug dictionary of `drug-named-entity-recognition` (generic and brand names to
the ingredient's name), which only fills in medicines nobody listed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import yaml

DATA = Path(__file__).parent / "data"
TOKEN = re.compile(r"[A-Za-z0-9]+")

_SPELLING = {
    "leukaemia": "leukemia", "leukaemias": "leukemias", "tumour": "tumor", "tumours": "tumors",
    "haemoglobin": "hemoglobin", "anaemia": "anemia", "oesophageal": "esophageal",
    "haematological": "hematological", "haemorrhage": "hemorrhage", "oedema": "edema",
    "haematologic": "hematologic", "paediatric": "pediatric", "haemophilia": "hemophilia",
    "ischaemic": "ischemic", "oestrogen": "estrogen", "centre": "center", "fibre": "fiber",
}  # fmt: skip

# ICD-10-CM descriptions that read as words of a criterion only by accident.
_ICD_SKIP_PREFIXES = (
    "other", "unspecified", "encounter", "personal history", "family history", "sequelae",
    "underdosing", "poisoning", "adverse effect", "person ", "contact with", "exposure to",
    "problems related", "need for", "body mass index", "pedestrian", "car ", "bus ", "fall ",
)  # fmt: skip


_NARROWING = re.compile(r"\b(?:unspecified|other|initial|subsequent|sequela|encounter)\b")


def norm_token(token: str) -> str:
    t = token.lower()
    return _SPELLING.get(t, t)


def stem(token: str) -> str:
    """A crude plural fold applied to terms and text alike ('tumors' and 'tumor' meet)."""
    if len(token) > 3:
        if token.endswith("ies"):
            return token[:-3] + "y"
        if token.endswith("s") and not token.endswith("ss"):
            return token[:-1]
    return token


_FOLDED: dict[str, str] = {}


def folded(token: str) -> str:
    """stem(norm_token(token)), remembered: criteria reuse a small vocabulary of words."""
    out = _FOLDED.get(token)
    if out is None:
        out = stem(norm_token(token))
        if len(_FOLDED) < 200_000:
            _FOLDED[token] = out
    return out


def tokens(text: str) -> list[tuple[str, int, int]]:
    return [(folded(m.group()), m.start(), m.end()) for m in TOKEN.finditer(text)]


def key_of(term: str) -> tuple[str, ...]:
    return tuple(stem(norm_token(t)) for t in TOKEN.findall(term))


@dataclass(frozen=True, slots=True)
class Entry:
    """One concept of a curated table, or one ICD-10-CM code."""

    category: str  # condition | medication | procedure | measurement | immunization
    name: str
    data: dict[str, Any] = field(default_factory=dict, hash=False, compare=False)


@dataclass(frozen=True, slots=True)
class Hit:
    entry: Entry
    start: int
    end: int
    text: str
    short: bool
    """A term of three letters or fewer (an abbreviation): trusted only in capitals."""


def _read(name: str) -> Any:
    return yaml.safe_load((DATA / name).read_text(encoding="utf-8"))


class Lexicon:
    def __init__(self) -> None:
        self.index: dict[tuple[str, ...], list[Entry]] = {}
        self.entries: dict[tuple[str, str], Entry] = {}
        for category, fname in (
            ("serology", "serology.yaml"),
            ("condition", "conditions.yaml"),
            ("medication", "medications.yaml"),
            ("procedure", "procedures.yaml"),
        ):
            for row in _read(fname):
                self._add(Entry(category, row["name"], row), row["terms"])
        for row in _read("measurements.yaml"):
            name = row.get("analyte") or row["derived"]
            self._add(Entry("measurement", name, row), row["terms"])
        self._add(
            Entry("immunization", "live_vaccine", {}),
            ["live vaccine", "live vaccines", "live attenuated vaccine", "live attenuated vaccines",
             "live virus vaccine", "live-virus vaccine", "live vaccination", "live viral vaccine",
             "attenuated vaccine", "attenuated vaccines", "live-attenuated vaccine", "live-attenuated vaccines",
             "live or attenuated vaccine", "live or attenuated vaccines", "live or live attenuated vaccines",
             "live or live-attenuated vaccines", "live/attenuated vaccine", "live/attenuated vaccines",
             "attenuated live vaccine", "attenuated live vaccines", "live attenuated virus vaccine"],
        )  # fmt: skip
        self.scales: dict[str, Any] = _read("scales.yaml")
        self._first: dict[str, int] | None = None
        self._first_icd: dict[str, int] | None = None
        self._first_drug: dict[str, int] | None = None
        self._prefixes: frozenset[tuple[str, ...]] | None = None

    def _add(self, entry: Entry, terms: list[str]) -> None:
        self.entries[(entry.category, entry.name)] = entry
        for term in terms:
            key = key_of(term)
            if key:
                bucket = self.index.setdefault(key, [])
                if entry not in bucket:
                    bucket.append(entry)

    def scan(self, text: str, *, icd: bool = True) -> list[Hit]:
        """Non-overlapping term hits, longest first, left to right.

        From each token, n-grams grow while they are the prefix of some term (so the work per
        token is the length of what is there, not of the longest term in the vocabulary).
        """
        toks = tokens(text)
        hits: list[Hit] = []
        index = self.index
        icd_index = icd_terms() if icd else {}
        drugs = drug_terms()
        prefixes = self.prefixes
        words = [t for t, _, _ in toks]
        count = len(words)
        i = 0
        while i < count:
            found = None
            n = 1
            key: tuple[str, ...] = (words[i],)
            while key in prefixes:
                entries = index.get(key)
                if not entries and icd:
                    code = icd_index.get(key)
                    if code:
                        entries = [Entry("condition", f"icd10:{code}", {"codes": [code]})]
                if not entries:
                    drug = drugs.get(key)
                    if drug:
                        entries = [drug]
                if entries:
                    found = (n, entries)
                if i + n >= count:
                    break
                key = (*key, words[i + n])
                n += 1
            if found:
                n, entries = found
                start, end = toks[i][1], toks[i + n - 1][2]
                short = sum(len(t) for t in words[i : i + n]) <= 3
                for entry in entries:
                    hits.append(Hit(entry, start, end, text[start:end], short))
                i += n
            else:
                i += 1
        return hits

    @property
    def prefixes(self) -> frozenset[tuple[str, ...]]:
        """Every leading part of every term (curated, ICD-10-CM and drug names)."""
        if self._prefixes is None:
            out: set[tuple[str, ...]] = set()
            for keys in (self.index, icd_terms(), drug_terms()):
                for key in keys:
                    for n in range(1, len(key) + 1):
                        out.add(key[:n])
            self._prefixes = frozenset(out)
        return self._prefixes

    @property
    def first(self) -> dict[str, int]:
        """First token of a curated term -> the longest such term, in tokens."""
        if self._first is None:
            self._first = _first_tokens(self.index)
        return self._first

    @property
    def first_drug(self) -> dict[str, int]:
        """First tokens of curated terms and drug names."""
        if self._first_drug is None:
            merged = dict(self.first)
            for word, n in _first_tokens(drug_terms()).items():
                merged[word] = max(n, merged.get(word, 0))
            self._first_drug = merged
        return self._first_drug

    @property
    def first_icd(self) -> dict[str, int]:
        if self._first_icd is None:
            merged = dict(self.first_drug)
            for word, n in _first_tokens(icd_terms()).items():
                merged[word] = max(n, merged.get(word, 0))
            self._first_icd = merged
        return self._first_icd


def _first_tokens(index: dict[tuple[str, ...], Any]) -> dict[str, int]:
    out: dict[str, int] = {}
    for key in index:
        out[key[0]] = max(len(key), out.get(key[0], 0))
    return out


@lru_cache(maxsize=1)
def lexicon() -> Lexicon:
    return Lexicon()


@lru_cache(maxsize=1)
def icd_terms() -> dict[tuple[str, ...], str]:
    """ICD-10-CM descriptions -> code (the shortest code wins).

    Categories and subcategories, and full codes of up to six characters whose description is a
    plain name (no comma, not "unspecified" / "other" / an encounter).
    """
    import simple_icd_10_cm as cm

    out: dict[tuple[str, ...], str] = {}
    for code in cm.get_all_codes(with_dots=True):
        if "-" in code or not code[:1].isalpha():
            continue
        desc = cm.get_description(code).lower()
        # A full code names its own disease ("claustrophobia" F40.240); its "unspecified" or
        # episode-of-care variants would narrow the term, so only plain names are read.
        full = len(code.replace(".", "")) > 4
        if full and ("," in desc or len(code.replace(".", "")) > 6 or _NARROWING.search(desc)):
            continue
        desc = re.sub(r",\s*(unspecified|not elsewhere classified|nec)\b.*$", "", desc)
        if desc.startswith(_ICD_SKIP_PREFIXES) or "," in desc:
            continue
        bare = re.sub(r"\s*[(\[][^)\]]*[)\]]", "", desc)
        variants = {desc, bare, re.sub(r"[()\[\]]", "", desc)}
        variants.update(m.strip() for m in re.findall(r"\[([^\]]+)\]", desc))  # "[scleroderma]"
        if not re.search(r"\b(?:unspecified|other)\b", desc):
            # Inclusion terms name the same disease ("intermittent claudication"); "NOS" terms
            # say where an unqualified word is coded, which would narrow it, so they are left out.
            for term in (*cm.get_inclusion_term(code), *cm.get_includes(code)):
                t = term.lower()
                if "nos" in t.split() or "," in t or ";" in t:
                    continue
                variants.add(re.sub(r"\s*[(\[][^)\]]*[)\]]", "", t))
        for v in variants:
            key = key_of(v)
            if not key or (len(key) == 1 and len(key[0]) < 6):
                continue
            if key not in out or len(code) < len(out[key]):
                out[key] = code
    return out


def drug_slug(name: str) -> str:
    """A value-set name for an ingredient: 'rx_' and its words joined by '_'."""
    return "rx_" + "_".join(TOKEN.findall(name.lower()))


@lru_cache(maxsize=1)
def drug_terms() -> dict[tuple[str, ...], Entry]:
    """Drug names (generic and brand) -> an entry for the single ingredient they name.

    From the dictionary `drug-named-entity-recognition` ships, the medicines with a MedlinePlus
    drug page (marketed medicines, not classes or research compounds); combination products, words listed in `data/drug_names_skipped.yaml` (common
    words, substances of abuse, nutrients, analytes) and names of three letters or fewer are
    left out. Without the package the parser has its curated medicines only.
    """
    import bz2
    import importlib.util
    import pickle

    spec = importlib.util.find_spec("drug_named_entity_recognition")
    if spec is None or not spec.submodule_search_locations:
        return {}
    path = Path(next(iter(spec.submodule_search_locations))) / "drug_ner_dictionary.pkl.bz2"
    if not path.exists():
        return {}
    with bz2.open(path, "rb") as fh:
        data = pickle.load(fh)  # noqa: S301 - the installed package's own data file
    skipped = _read("drug_names_skipped.yaml")
    skip_words = {stem(norm_token(w)) for w in skipped["words"]}
    skip_names = {w.lower() for w in skipped["names"]}
    out: dict[tuple[str, ...], Entry] = {}
    entries: dict[str, Entry] = {}
    about = data["drug_canonical_to_data"]
    for variant, canonicals in data["drug_variant_to_canonical"].items():
        if len(canonicals) != 1:
            continue
        canonical = canonicals[0].lower()
        if not about.get(canonicals[0], {}).get("medline_plus_id"):
            continue  # classes, enzymes, antigens and research compounds: no MedlinePlus drug page
        if "," in canonical or " and " in canonical or canonical in skip_names or variant.lower() in skip_names:
            continue
        key = key_of(variant)
        if not key or len(key) > 4 or sum(len(t) for t in key) <= 3:
            continue
        if key[0].isdigit() or (len(key) == 1 and key[0] in skip_words):
            continue
        entry = entries.get(canonical)
        if entry is None:
            entry = Entry("medication", drug_slug(canonical), {"terms": [canonical], "text": [canonical], "dictionary": True})
            entries[canonical] = entry
        out.setdefault(key, entry)
    return out


def icd_description(code: str) -> str:
    import simple_icd_10_cm as cm

    try:
        return str(cm.get_description(code))
    except ValueError:
        return code
