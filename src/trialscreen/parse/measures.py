"""Thresholds of labs, vitals and performance scales: 'AST ≤ 3 × ULN', 'ECOG 0-2', 'KPS ≥ 70'.

Each finder starts at a term hit of the lexicon and reads the threshold that follows it.
Units are written in UCUM and converted to the analyte's compared unit where the conversion
is exact (g/dL to g/L, /mm³ to 10⁹/L); a quantity without a unit is refused (manual review).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from trialscreen.criteria.nodes import AllOf, AnyOf, Comparator, Derived, Measurement, Node
from trialscreen.parse.lexicon import Hit, lexicon
from trialscreen.parse.quantities import _NUM, COMPARATOR, comparator_of, to_number

_ULN = (
    r"(?:(?:[x×*]|times|-?fold)\s*)?(?:the\s+)?(?:institutional\s+|upper\s+)?"
    r"(?:of\s+(?:the\s+)?)?(?:upper\s+limits?\s+(?:of\s+)?(?:the\s+)?normal(?:\s+(?:range|values?))?|i?uln|unl|(?:normal\s+upper|upper\s+normal)\s+limit)"
    r"(?:\s*\((?:i?uln|unl)\))?(?:\s+for\s+(?:the\s+)?(?:institution|laboratory|lab))?"
)
_COUNT_UNIT = (
    r"(?:[x×*]\s*10\s*(?:\\?\^|\*|e|exp)?\s*(?P<exp>\d{1,2})|(?:[x×*]\s*)?(?P<exp9>10⁹|10³|10\^?[³⁹]))\s*"
    r"(?:cells\s*)?/\s*(?P<per>l|[µμ]\s*l|ul|mm\^?3|mm³|mcl|microliter|cumm|cu\.?\s*mm|liter|litre)\b"
)
_UNITS = {
    "g/dl": "g/dL", "g/l": "g/L", "mg/dl": "mg/dL", "mg/l": "mg/L", "µmol/l": "umol/L",
    "μmol/l": "umol/L", "umol/l": "umol/L", "mmol/l": "mmol/L", "meq/l": "mEq/L",
    "ml/min/1.73m2": "mL/min/{1.73_m2}", "ml/min/1.73 m2": "mL/min/{1.73_m2}",
    "ml/min/1.73m²": "mL/min/{1.73_m2}", "ml/min/1.73 m²": "mL/min/{1.73_m2}",
    "ml/min": "mL/min", "ml/minute": "mL/min", "milliliters/minute": "mL/min", "%": "%",
    "/mm3": "/mm3", "/mm³": "/mm3", "/µl": "/uL", "/μl": "/uL", "/ul": "/uL", "/mcl": "/uL",
    "cells/mm3": "/mm3", "cells/mm³": "/mm3", "cells/µl": "/uL", "cells/ul": "/uL",
    "u/l": "U/L", "iu/l": "U/L", "copies/ml": "{copies}/mL", "copies /ml": "{copies}/mL",
    "ms": "ms", "msec": "ms", "mmhg": "mm[Hg]", "mm hg": "mm[Hg]", "kg/m2": "kg/m2",
    "kg/m²": "kg/m2", "kg": "kg", "bpm": "/min", "k/ul": "10*9/L", "k/µl": "10*9/L",
    "ng/ml": "ng/mL", "ng/dl": "ng/dL", "seconds": "s", "sec": "s", "miu/l": "m[IU]/L",
    "µiu/ml": "m[IU]/L", "uiu/ml": "m[IU]/L", "mg/24h": "mg/(24.h)", "°c": "Cel",
}  # fmt: skip
_UNITS.update({"ml/mn": "mL/min", "gms/dl": "g/dL", "gm/dl": "g/dL", "pg/ml": "pg/mL", "iu/ml": "[IU]/mL",
               "lbs": "[lb_av]", "lb": "[lb_av]", "℃": "Cel", "° c": "Cel", "degrees c": "Cel", "degrees celsius": "Cel"})
_UNITS.update({"/cumm": "/mm3", "cells/cumm": "/mm3", "k/cumm": "10*9/L", "/cu mm": "/mm3", "mm3": "/mm3"})


def _unit_key(text: str) -> str:
    """A unit as written, folded: case, spaces, micro signs, carets and superscripts."""
    t = re.sub(r"\s+", "", text.lower()).replace("μ", "µ").replace("\\", "").replace("^", "").replace("³", "3").replace("²", "2")
    return t


_UNIT_BY_KEY = {_unit_key(k): v for k, v in _UNITS.items()}


def _unit_pattern(key: str) -> str:
    out = []
    for ch in key:
        if ch == "µ":
            out.append("[µμ]")
        elif ch == "3":
            out.append(r"(?:\\?\^?3|³)")
        elif ch == "2":
            out.append(r"(?:\\?\^?2|²)")
        else:
            out.append(re.escape(ch))
    return r"\s*".join(out)


_UNIT = "|".join(_unit_pattern(k) for k in sorted(_UNIT_BY_KEY, key=len, reverse=True))
_CONNECT = r"(?:\s*(?:\([^()]{0,40}\)|\[[^\[\]]{0,20}\]|\)|counts?|level|levels|value|values|concentration|score|rate|of|(?:performance|physical)\s+(?:status|score)|status|ps|must\s+be|should\s+be|is|are|:|=|,|-|ratio|\(ULN\)|serum|in\s+(?:the\s+)?blood|in\s+peripheral\s+blood|on\s+room\s+air|at\s+rest))*\s*"
THRESHOLD = re.compile(
    _CONNECT
    + rf"(?:(?P<cmp>{COMPARATOR.pattern})\s*)?(?P<num>{_NUM})\s*(?:(?P<uln>{_ULN})|(?P<count>{_COUNT_UNIT})|(?P<unit>{_UNIT})(?![a-z]))?"
    + r"(?:\s+of\s+body\s+surface\s+area)?"  # "mL/min/1.73 m2 of body surface area"
    + r"(?:\s*(?:or|and)\s+(?P<post>higher|greater|more|above|over|less|lower|below|fewer|under)\b)?",
    re.IGNORECASE,
)
NORMAL = re.compile(
    _CONNECT + r"(?P<normal>within\s+(?:the\s+)?(?:institutional\s+)?normal\s+(?:limits|range)|(?:≤|<=|at\s+or\s+below|(?P<strict>below|less\s+than|lower\s+than|<))\s*"
    r"(?:the\s+)?(?:institutional\s+)?(?:uln|upper\s+limit\s+of\s+(?:the\s+)?normal(?:\s+range)?(?:\s*\(\s*i?uln\s*\))?))(?!\s*[x×*]?\s*\d)",
    re.IGNORECASE,
)
_SCALE = re.compile(
    _CONNECT
    + r"(?:(?P<cmp>" + COMPARATOR.pattern + r")\s*(?:class\s*)?(?P<n>\d{1,3}|[ivx]{1,4})\b"
    r"|(?:class\s*)?(?P<lo>\d{1,3}|[ivx]{1,4})\s*(?:-|–|~|to|through)\s*(?P<hi>\d{1,3}|[ivx]{1,4})\b"
    r"|(?:class\s*)?(?P<list>(?:(?:\d{1,3}|[ivx]{1,4})\s*(?:,\s*|or\s+|/\s*|and\s+)+)+(?:\d{1,3}|[ivx]{1,4}))\b"
    r"|(?:class\s*)?(?P<one>\d{1,3}|[ivx]{1,4})\s+or\s+(?P<dir>less|lower|better|below|greater|higher|more|worse|above)\b)",
    re.IGNORECASE,
)
_ROMAN = {"i": 1, "ii": 2, "iii": 3, "iv": 4, "v": 5}
RANGE = re.compile(
    _CONNECT
    + rf"(?:between\s+|from\s+)?(?P<lo>{_NUM})\s*(?P<u1>{_UNIT})?(?![a-z])\s*(?:-|–|to|and)\s*(?P<hi>{_NUM})\s*(?P<u2>{_UNIT})?(?![a-z])"
    r"(?:\s*,?\s*\(?inclusive(?:ly)?\)?)?",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Found:
    node: Node
    span: tuple[int, int]


def _scale_value(text: str) -> int | None:
    t = text.lower()
    if t in _ROMAN:
        return _ROMAN[t]
    return int(t) if t.isdigit() else None


def _convert(analyte: str, value: float, unit: str | None, count: re.Match[str] | None) -> tuple[float, str | None]:
    """Value in the analyte's compared unit where the conversion is exact."""
    know = lexicon()
    del know
    count_analytes = {"platelets", "anc", "wbc", "lymphocytes"}
    if count is not None:
        exp_text = count.group("exp") or {"10⁹": "9", "10³": "3"}.get(count.group("exp9") or "", "")
        if not exp_text and count.group("exp9"):
            exp_text = "9" if "9" in count.group("exp9") else "3"
        exp = int(exp_text or 0)
        per = count.group("per").lower()
        per_litre = per in ("l", "liter", "litre")
        if analyte in count_analytes:
            power = exp - 9 if per_litre else exp - 3
            return round(value * 10**power, 6), "10*9/L"
        return value, f"10*{exp}/L" if per_litre else f"10*{exp}/uL"
    if unit is None:
        return value, None
    if analyte in count_analytes and unit in ("/mm3", "/uL"):
        return round(value / 1000, 6), "10*9/L"
    if analyte == "hemoglobin" and unit == "g/dL":
        return round(value * 10, 6), "g/L"
    if analyte == "weight" and unit == "[lb_av]":
        return round(value * 0.45359237, 3), "kg"  # the avoirdupois pound is defined as 0.45359237 kg
    if analyte == "albumin" and unit == "g/L":
        return round(value / 10, 6), "g/dL"
    return value, unit


def measurement_at(text: str, hit: Hit) -> Found | None:
    """The threshold stated right after a measurement term, as a node."""
    row = hit.entry.data
    name = hit.entry.name
    rest = text[hit.end :]
    if row.get("scale"):
        return _scale_at(text, hit)
    if row.get("pair"):
        return _pair_at(text, hit)
    normal = NORMAL.match(rest)
    if normal and not row.get("derived"):
        normal_op: Comparator = "<" if normal.group("strict") else "<="  # "below the ULN" is under it
        node = Measurement(analyte=name, op=normal_op, uln_multiple=1.0, source=(hit.start, hit.end + normal.end()))
        return Found(node, (hit.start, hit.end + normal.end()))
    m = THRESHOLD.match(rest)
    if not m or not (m.group("cmp") or m.group("post")) or (m.group("cmp") and m.group("post")):
        return _range_at(text, hit)
    value = to_number(m.group("num"))
    if value is None:
        return None
    op: Comparator
    if m.group("post"):
        op = ">=" if m.group("post").lower() in ("higher", "greater", "more", "above", "over") else "<="
    else:
        op = comparator_of_text(m.group("cmp"))
    span = (hit.start, hit.end + m.end())
    if m.group("uln"):
        if row.get("derived"):
            return None
        return Found(Measurement(analyte=name, op=op, uln_multiple=value, source=span), span)
    unit = _unit_of(m.group("unit"))
    count = re.match(_COUNT_UNIT, m.group("count"), re.IGNORECASE) if m.group("count") else None
    value, unit = _convert(name, value, unit, count)
    if unit is None and not m.group("uln") and not count:
        unit = row.get("unit_if_missing")  # a unit the analyte is only ever written in (BMI in kg/m2)
    if row.get("derived"):
        if unit not in ("mL/min", "mL/min/{1.73_m2}"):
            return None
        return Found(Derived(quantity="creatinine_clearance", op=op, value=value, unit="mL/min", source=span), span)
    if unit is None and name not in ("inr", "ecog", "nyha"):
        return None  # a quantity without its unit is not guessed
    if unit == "{copies}/mL" and op in (">", ">="):
        # a viral load reported only as "not detected" is below any positive threshold;
        # "detected" without a number says nothing about the threshold
        node = Measurement(analyte=name, op=op, value=value, unit=unit, if_negative="false", if_positive="unknown", source=span)
        return Found(node, span)
    return Found(Measurement(analyte=name, op=op, value=value, unit=unit, source=span), span)


def _unit_of(text: str | None) -> str | None:
    if not text:
        return None
    return _UNIT_BY_KEY.get(_unit_key(text))


def _range_at(text: str, hit: Hit) -> Found | None:
    """'HbA1c between 7.1% and 11.0%', 'BMI 25-35 kg/m2': at least the low end and at most the high end."""
    row = hit.entry.data
    name = hit.entry.name
    if row.get("derived") or row.get("scale"):
        return None
    m = RANGE.match(text[hit.end :])
    if not m:
        return None
    lo, hi = to_number(m.group("lo")), to_number(m.group("hi"))
    u1, u2 = _unit_of(m.group("u1")), _unit_of(m.group("u2"))
    if lo is None or hi is None or lo >= hi or (u1 and u2 and u1 != u2):
        return None
    unit = u2 or u1 or row.get("unit_if_missing")
    if unit is None:
        return None  # a quantity without its unit is not guessed
    lo, unit_lo = _convert(name, lo, unit, None)
    hi, unit_hi = _convert(name, hi, unit, None)
    span = (hit.start, hit.end + m.end())
    items = (
        Measurement(analyte=name, op=">=", value=lo, unit=unit_lo, source=span),
        Measurement(analyte=name, op="<=", value=hi, unit=unit_hi, source=span),
    )
    return Found(AllOf(items=items, source=span), span)


_PAIR = re.compile(
    _CONNECT + rf"(?P<cmp>{COMPARATOR.pattern})\s*(?P<a>\d{{2,3}})\s*/\s*(?P<b>\d{{2,3}})\s*(?P<unit>mm\s*hg)\b", re.IGNORECASE
)


def _pair_at(text: str, hit: Hit) -> Found | None:
    """'BP ≥ 140/90 mmHg': systolic or diastolic above (either one suffices), or both below."""
    m = _PAIR.match(text[hit.end :])
    if not m:
        return None
    op = comparator_of_text(m.group("cmp"))
    systolic, diastolic = hit.entry.data["pair"]
    span = (hit.start, hit.end + m.end())
    items = (
        Measurement(analyte=systolic, op=op, value=float(m.group("a")), unit="mm[Hg]", source=span),
        Measurement(analyte=diastolic, op=op, value=float(m.group("b")), unit="mm[Hg]", source=span),
    )
    node: Node = AnyOf(items=items, source=span) if op in (">", ">=") else AllOf(items=items, source=span)
    return Found(node, span)


def comparator_of_text(text: str) -> Comparator:
    m = COMPARATOR.fullmatch(text.strip()) or COMPARATOR.match(text.strip())
    if m is None:
        raise ValueError(text)
    return comparator_of(m)


def _scale_at(text: str, hit: Hit) -> Found | None:
    name = hit.entry.name
    rest = text[hit.end :]
    m = _SCALE.match(rest)
    if not m:
        return None
    span = (hit.start, hit.end + m.end())
    lo: int | None = None
    hi: int | None = None
    op: Comparator | None = None
    value: int | None = None
    if m.group("n"):
        op, value = comparator_of_text(m.group("cmp")), _scale_value(m.group("n"))
    elif m.group("lo"):
        lo, hi = _scale_value(m.group("lo")), _scale_value(m.group("hi"))
    elif m.group("list"):
        values = [v for v in (_scale_value(x) for x in re.findall(r"\d{1,3}|[ivx]{1,4}", m.group("list"), re.I)) if v is not None]
        if not values:
            return None
        lo, hi = min(values), max(values)
        if sorted(values) != list(range(lo, hi + 1)):
            return None
    else:
        value = _scale_value(m.group("one"))
        worse = m.group("dir").lower() in ("greater", "higher", "more", "worse", "above")
        op = ">=" if worse else "<="
    if value is None and (lo is None or hi is None):
        return None
    if op is None and lo is not None and hi is not None:
        base = 1 if name == "nyha" else 0
        top = {"nyha": 4, "ecog": 5}.get(name, 100)
        if lo <= base:
            op, value = "<=", hi
        elif hi >= top:
            op, value = ">=", lo
        else:
            return None
    assert op is not None and value is not None
    node: Node = Measurement(analyte=name, op=op, value=value, source=span)
    if name in ("karnofsky", "lansky") and op in (">=", ">"):
        ecog = _ecog_equivalent(value + (1 if op == ">" else 0))
        if ecog is not None:
            node = AnyOf(
                items=(node, Measurement(analyte="ecog", op="<=", value=ecog, label=f"ECOG equivalent of {hit.text} {op} {value}")),
                source=span,
            )
    return Found(node, span)


def _ecog_equivalent(minimum: int) -> int | None:
    for row in lexicon().scales["karnofsky_to_ecog"]:
        if minimum >= row["min"]:
            return int(row["ecog"])
    return None
