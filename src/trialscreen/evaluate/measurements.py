"""The latest result of an analyte, read and held against its threshold.

Selection follows the spec's "latest result": final/amended/corrected (or no status, filtered
when read), effective on or before the as-of date and within the look-back window (its first
day included), most recent by full timestamp, and on an exact tie the least favourable
value. A latest result that cannot be read makes the answer unknown, naming why.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from trialscreen.criteria import duration
from trialscreen.criteria.nodes import Measurement
from trialscreen.evaluate.context import Context
from trialscreen.evaluate.outcome import (
    DECIDED,
    FALSE,
    OP_WORDS,
    TRUE,
    UNKNOWN,
    Outcome,
    bounded_comparison,
    comparison,
    fmt,
    worst_first,
)
from trialscreen.evaluate.registry import Check, Compiler, Decide, Decision, compiles, decides
from trialscreen.fhir.facts import ObservationFact
from trialscreen.knowledge import Analyte, Knowledge
from trialscreen.report.model import Evidence
from trialscreen.units import UnitError, factor_to, ucum_factor

_ROMAN = {"I": 1, "II": 2, "III": 3, "IV": 4, "V": 5}
_CLASS = re.compile(r"^\s*(?:class\s+)?([IV]+|\d)\s*$", re.IGNORECASE)


@dataclass(slots=True)
class Reading:
    """A result read for comparison: a number in the compared unit, or positive/negative."""

    number: float | None = None
    sign: str | None = None  # "positive" | "negative"
    problem: str | None = None
    shown: str = ""
    unit: str | None = None
    comparator: str | None = None
    """Set when the value is only a bound ("<500"): `number` is the bound."""


def _instant(obs: ObservationFact) -> datetime:
    return obs.instant


class AnalyteReader:
    """Reads results of one analyte: which observations, and what their values say."""

    def __init__(self, analyte: Analyte, knowledge: Knowledge, unit: str | None = None) -> None:
        self.analyte = analyte
        self.unit = unit or analyte.unit
        self.codings = knowledge.analyte_codings(analyte.name)
        self.q = knowledge.qualitative
        self.interpretation_uris = knowledge.uris("interpretation")
        self.answers = {
            (uri, coding.code): value
            for coding, value in analyte.answers
            for uri in knowledge.uris(coding.system)
        }
        self.set_aside = [
            (frozenset((uri, r.code) for uri in knowledge.uris(r.system)), r) for r in analyte.set_aside_when_component
        ]
        self.lookback = analyte.lookback
        self.name = analyte.name
        self._factors: dict[str | None, float | UnitError] = {}
        """Factor from each unit met to the compared unit (or why there is none)."""

    def newest(self, ctx: Context, lookback: str) -> list[ObservationFact]:
        """`results(...)`'s newest result and those at exactly the same instant, in the same order.

        Scans the window once without sorting history (what most checks need).
        """
        as_of = ctx.as_of
        first_day = duration.subtract(as_of, lookback)
        observations = ctx.facts.observations
        inside: list[ObservationFact] = []
        for coding in self.codings:
            held = observations.get(coding)
            if held:
                found = [o for o in held if o.when is not None and first_day <= o.when <= as_of]
                if found:
                    inside = found if not inside else inside + found
        n = len(inside)
        if n == 0:
            return inside
        if n > 1 and (inside[0].id == inside[1].id if n == 2 else len({o.id for o in inside}) < n):
            # Results share an id: `results` settles which one counts.
            results = self.results(ctx, lookback)
            return [o for o in results if o.instant == results[0].instant]
        if self.set_aside:
            inside = [o for o in inside if not self._supplemental(o)]
        if len(inside) > 1:
            top = max(o.instant for o in inside)
            inside = [o for o in inside if o.instant == top]
        return inside

    def results(self, ctx: Context, lookback: str) -> list[ObservationFact]:
        """Results in the look-back window, newest first, with set-aside ones removed."""
        first_day = duration.subtract(ctx.as_of, lookback)
        gathered = ctx.analyte_results(self.name, self._gather)
        if gathered is None:
            return self._select(ctx, first_day)
        return [obs for obs in gathered if obs.when >= first_day]  # type: ignore[operator]

    def _gather(self, ctx: Context) -> list[ObservationFact] | None:
        """Every result up to the as-of date, newest first, shared by every look-back.

        None when two different results share an id but not a date: which one counts then
        depends on the window, and `_select` decides per window.
        """
        as_of = ctx.as_of
        seen: dict[str, date] = {}
        out: list[ObservationFact] = []
        observations = ctx.facts.observations
        for coding in self.codings:
            for obs in observations.get(coding, ()):
                when = obs.when
                if when is None or when > as_of:
                    continue
                held = seen.get(obs.id)
                if held is not None:
                    if held != when:
                        return None
                    continue
                seen[obs.id] = when
                if self.set_aside and self._supplemental(obs):
                    continue
                out.append(obs)
        if len(out) > 1:
            out.sort(key=_instant, reverse=True)
        return out

    def _select(self, ctx: Context, first_day: date) -> list[ObservationFact]:
        """Results from `first_day` to the as-of date, newest first, the first of an id counting."""
        seen: set[str] = set()
        out: list[ObservationFact] = []
        observations = ctx.facts.observations
        for coding in self.codings:
            for obs in observations.get(coding, ()):
                if obs.id in seen or obs.when is None or obs.when > ctx.as_of or obs.when < first_day:
                    continue
                seen.add(obs.id)
                if self.set_aside and self._supplemental(obs):
                    continue
                out.append(obs)
        out.sort(key=_instant, reverse=True)
        return out

    def _supplemental(self, obs: ObservationFact) -> bool:
        for codes, quantity in obs.components:
            if quantity is None:
                continue
            for keys, rule in self.set_aside:
                if not keys.intersection(codes):
                    continue
                value = quantity.value
                if rule.unit is not None and quantity.unit is not None and quantity.unit != rule.unit:
                    try:
                        value *= ucum_factor(quantity.unit, rule.unit)
                    except UnitError:
                        return True  # unreadable oxygen: not a room-air result
                if value > rule.above:
                    return True
        return False

    def read(self, obs: ObservationFact, words: bool = True) -> Reading:
        """What the result says in the compared unit; `words=False` leaves `shown` empty (deciding only)."""
        if obs.problem:
            return Reading(problem=obs.problem)
        kind = self.analyte.value
        sign = self._sign(obs)
        if kind == "qualitative":
            if sign is None:
                return Reading(problem="the result is neither positive nor negative")
            return Reading(sign=sign, shown=sign)
        if kind == "ordinal":
            return self._ordinal(obs)
        if obs.quantity is not None:
            q = obs.quantity
            factor = self._factors.get(q.unit)
            if factor is None:
                try:
                    factor = factor_to(self.analyte, q.unit, self.unit)
                except UnitError as exc:
                    factor = exc
                self._factors[q.unit] = factor
            if isinstance(factor, UnitError):
                return Reading(problem=str(factor))
            shown = f"{q.comparator or ''}{fmt(q.value)} {q.unit or ''}".strip() if words else ""
            return Reading(number=q.value * factor, shown=shown, unit=q.unit, comparator=q.comparator)
        if sign is not None:
            return Reading(sign=sign, shown=sign)
        return Reading(problem="the result has no readable value")

    def _sign(self, obs: ObservationFact) -> str | None:
        q = self.q
        if obs.concept:
            if any(c in q.positive_codes for c in obs.concept):
                return "positive"
            if any(c in q.negative_codes for c in obs.concept):
                return "negative"
        if obs.string is not None:
            word = obs.string.strip().lower()
            if word in q.positive_strings:
                return "positive"
            if word in q.negative_strings:
                return "negative"
        for system, code in obs.interpretation:
            if system not in self.interpretation_uris:
                continue  # codes match by system and code together
            if code in q.positive_interpretation:
                return "positive"
            if code in q.negative_interpretation:
                return "negative"
        return None

    def _ordinal(self, obs: ObservationFact) -> Reading:
        value: float | None = None
        if obs.integer is not None:
            value = float(obs.integer)
        elif obs.quantity is not None:
            value = obs.quantity.value
        elif obs.concept:
            for c in obs.concept:
                if c in self.answers:
                    value = self.answers[c]
                    break
        if value is None and self.analyte.roman_numerals:
            for text in (obs.string, obs.concept_text.split(" | ")[0] if obs.concept_text else None):
                if text:
                    m = _CLASS.match(text)
                    token = m.group(1).upper() if m else ""
                    if token in _ROMAN or token.isdigit():
                        value = float(_ROMAN[token]) if token in _ROMAN else float(token)
                        break
        if value is None:
            return Reading(problem="the result has no readable score")
        rng = self.analyte.value_range
        if rng and not (rng[0] <= value <= rng[1]):
            return Reading(problem=f"score {fmt(value)} is outside {fmt(rng[0])}–{fmt(rng[1])}")
        return Reading(number=value, shown=fmt(value))


def uln_of(reader: AnalyteReader, obs: ObservationFact, gender: str | None) -> tuple[float, str] | None:
    """ULN in the compared unit, from the result's reference range or the default, with its source."""
    analyte = reader.analyte
    high = obs.ref_high
    if high is not None:
        unit = high.unit or (obs.quantity.unit if obs.quantity else None)
        try:
            return high.value * factor_to(analyte, unit, reader.unit), "reference range"
        except UnitError:
            pass
    default = analyte.default_uln(gender)
    if default is None or analyte.uln_unit is None:
        return None
    return default * factor_to(analyte, analyte.uln_unit, reader.unit), "default"


@compiles("measurement")
def _measurement(node: Measurement, polarity: str, c: Compiler) -> Check:
    analyte = c.knowledge.analyte(node.analyte)
    reader = AnalyteReader(analyte, c.knowledge, node.unit)
    lookback = node.lookback or analyte.lookback
    label = node.label or analyte.label
    rank = worst_first(polarity)
    op, value, multiple, expect = node.op, node.value, node.uln_multiple, node.expect
    if_missing, if_neg, if_pos = node.if_missing, node.if_negative, node.if_positive
    unit = reader.unit or ""
    words = duration.words(lookback)
    target: str
    if expect is not None:
        target = str(expect)
    elif multiple is not None:
        target = f"{OP_WORDS[op or '<=']} {fmt(multiple)} × ULN"
    else:
        target = f"{OP_WORDS[op or '<=']} {fmt(value or 0)} {unit}".strip()

    def judge(ctx: Context, obs: ObservationFact) -> Outcome:
        reading = reader.read(obs)
        when = obs.when.isoformat() if obs.when else None
        if reading.problem:
            ev = Evidence(obs.ref, label, None, None, when, target, note=reading.problem)
            return Outcome(
                UNKNOWN,
                f"latest {label} ({obs.when}) cannot be read: {reading.problem}",
                [ev],
                missing=[f"a readable {label} result"],
                warnings=[f"{obs.ref}: {reading.problem}"],
            )
        if reading.sign is not None and expect is None:
            truth = if_neg if reading.sign == "negative" else if_pos
            ev = Evidence(obs.ref, label, reading.sign, None, when, target)
            if truth is None or truth == UNKNOWN:
                return Outcome(UNKNOWN, f"latest {label} is {reading.sign} with no quantity", [ev], missing=[f"a quantified {label} result"])
            return Outcome(truth, f"latest {label} is {reading.sign} ({obs.when})", [ev])
        if expect is not None:
            if reading.sign is None:
                return Outcome(UNKNOWN, f"latest {label} ({obs.when}) is neither positive nor negative", missing=[f"a readable {label} result"])
            ok = reading.sign == expect
            ev = Evidence(obs.ref, label, reading.sign, None, when, target)
            return Outcome(TRUE if ok else FALSE, f"latest {label} is {reading.sign} ({obs.when})", [ev])
        assert reading.number is not None and op is not None
        if multiple is not None:
            uln = uln_of(reader, obs, ctx.facts.gender)
            if uln is None:
                return Outcome(UNKNOWN, f"no upper limit of normal for {label}", missing=[f"{label} reference range"])
            limit = multiple * uln[0]
            threshold = f"{target} (ULN {fmt(uln[0])} {unit} from {uln[1]}) = {fmt(limit)} {unit}"
        else:
            limit = float(value or 0.0)
            threshold = target
        decided = bounded_comparison(reading.number, reading.comparator, op, limit)
        shown = reading.shown
        number = fmt(reading.number)
        if reading.unit and reading.unit != unit:
            shown = f"{shown} = {reading.comparator or ''}{number} {unit}"
        if decided is None:
            ev = Evidence(obs.ref, label, round(reading.number, 6), unit, when, threshold, note=f"only a bound: {shown}")
            return Outcome(
                UNKNOWN,
                f"latest {label} {shown} on {obs.when} is only a bound, which does not decide {threshold}",
                [ev],
                missing=[f"an exact {label} result"],
            )
        ok = decided
        ev = Evidence(obs.ref, label, round(reading.number, 6), unit, when, threshold, note=None if shown == f"{number} {unit}" else f"as recorded: {shown}")
        verb = "meets" if ok else "does not meet"
        return Outcome(TRUE if ok else FALSE, f"latest {label} {shown} on {when} {verb} {threshold}", [ev])

    def run(ctx: Context) -> Outcome:
        tied = reader.newest(ctx, lookback)
        if not tied:
            reason = f"no {label} result in the {words} before {ctx.as_of}"
            if if_missing == UNKNOWN:
                return Outcome(UNKNOWN, reason, missing=[f"{label} result within {words}"])
            return Outcome(if_missing, reason)
        if len(tied) == 1:
            return judge(ctx, tied[0])
        outcomes = [judge(ctx, o) for o in tied]
        outcomes.sort(key=lambda o: rank[o.truth])
        worst = outcomes[0]
        worst.reason += f" (least favourable of {len(tied)} results at the same time)"
        return worst

    return run


@decides("measurement")
def _decide_measurement(node: Measurement, polarity: str, c: Compiler) -> Decide:
    """The check's decision, without its words (kept in step with `_measurement`)."""
    analyte = c.knowledge.analyte(node.analyte)
    reader = AnalyteReader(analyte, c.knowledge, node.unit)
    lookback = node.lookback or analyte.lookback
    rank = worst_first(polarity)
    op, value, multiple, expect = node.op, node.value, node.uln_multiple, node.expect
    if_missing = DECIDED[node.if_missing]
    if_neg, if_pos = node.if_negative, node.if_positive
    fixed_limit = float(value or 0.0)

    quantitative = analyte.value == "quantity"
    factors = reader._factors

    def truth(ctx: Context, obs: ObservationFact) -> str:
        q = obs.quantity
        if quantitative and q is not None and not obs.problem:
            # `reader.read` of a quantity, without building a Reading.
            factor = factors.get(q.unit)
            if factor is None:
                reader.read(obs, words=False)  # learns the factor (or why there is none)
                factor = factors[q.unit]
            if isinstance(factor, UnitError) or expect is not None:
                return UNKNOWN
            number, comparator = q.value * factor, q.comparator
        else:
            reading = reader.read(obs, words=False)
            if reading.problem:
                return UNKNOWN
            sign = reading.sign
            if expect is not None:
                if sign is None:
                    return UNKNOWN
                return TRUE if sign == expect else FALSE
            if sign is not None:
                said = if_neg if sign == "negative" else if_pos
                return UNKNOWN if said is None else said
            assert reading.number is not None
            number, comparator = reading.number, reading.comparator
        assert op is not None
        if multiple is not None:
            uln = uln_of(reader, obs, ctx.facts.gender)
            if uln is None:
                return UNKNOWN
            limit = multiple * uln[0]
        else:
            limit = fixed_limit
        if comparator is None:
            return TRUE if comparison(number, op, limit) else FALSE
        decided = bounded_comparison(number, comparator, op, limit)
        if decided is None:
            return UNKNOWN
        return TRUE if decided else FALSE

    def run(ctx: Context) -> Decision:
        tied = reader.newest(ctx, lookback)
        if not tied:
            return if_missing
        if len(tied) == 1:
            return DECIDED[truth(ctx, tied[0])]
        return DECIDED[min((truth(ctx, o) for o in tied), key=rank.__getitem__)]

    return run
