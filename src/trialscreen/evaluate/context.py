"""Everything a compiled check reads while screening one patient on one day.

Besides the facts, the context holds what several checks would otherwise each work out
again: which conditions fall in which value set, and each analyte's results up to the as-of
date, newest first. Both are computed on first use and shared by the deciding and the
explaining path of the same screening.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date

from trialscreen.fhir.facts import AnswerFact, ConditionFact, Facts, ObservationFact

ConditionHit = tuple[ConditionFact, str]
"""A condition and the code (or words) that put it in a value set."""

Classifier = Callable[[ConditionFact], tuple[tuple[str, str], ...]]
"""(value-set name, matching code) for each value set of the trial a condition falls in."""

AnalyteResults = Callable[["Context"], list[ObservationFact] | None]


@dataclass(slots=True)
class Context:
    facts: Facts
    as_of: date
    _answers: dict[str, list[AnswerFact]] | None = field(default=None)
    _conditions: dict[str, list[ConditionHit]] | None = field(default=None)
    _results: dict[str, list[ObservationFact] | None] | None = field(default=None)

    @property
    def age_bounds(self) -> tuple[int, int] | None:
        """(youngest, oldest) completed years on the as-of date; two values for a partial birth date."""
        born = self.facts.birth_date
        if born is None or born > self.as_of:
            return None
        latest = min(self.facts.birth_date_latest or born, self.as_of)
        return _years(latest, self.as_of), _years(born, self.as_of)

    @property
    def age(self) -> int | None:
        """Completed years on the as-of date; None when unknown or not exact (partial birth date)."""
        bounds = self.age_bounds
        if bounds is None or bounds[0] != bounds[1]:
            return None
        return bounds[0]

    def condition_hits(self, classify: Classifier) -> dict[str, list[ConditionHit]]:
        """Conditions that began by the as-of date (or have no date), by value set, in record order.

        `classify` is the trial's (one per screener), so the index is built once per patient.
        """
        index = self._conditions
        if index is None:
            index = {}
            as_of = self.as_of
            for cond in self.facts.conditions:
                start = cond.onset or cond.recorded
                if start is not None and start > as_of:
                    continue  # events after the as-of date are ignored
                for name, code in classify(cond):
                    held = index.get(name)
                    if held is None:
                        index[name] = [(cond, code)]
                    else:
                        held.append((cond, code))
            self._conditions = index
        return index

    def analyte_results(self, name: str, gather: AnalyteResults) -> list[ObservationFact] | None:
        """What `gather` says of an analyte's results (once per patient and analyte)."""
        cache = self._results
        if cache is None:
            cache = self._results = {}
        elif name in cache:
            return cache[name]
        found = cache[name] = gather(self)
        return found

    def answer(self, link_id: str, kind: str = "inclusion") -> AnswerFact | None:
        """The latest boolean answer to `link_id` authored on or before the as-of date.

        Answers authored at exactly the same time that disagree tie: the least favourable for
        a criterion of this `kind` counts (false for an inclusion, true for an exclusion), so
        the result never depends on the order of resources.
        """
        if self._answers is None:
            latest: dict[str, list[AnswerFact]] = {}
            for ans in self.facts.answers:
                if ans.authored.date() > self.as_of:
                    continue
                held = latest.get(ans.link_id)
                if held is None or ans.authored > held[0].authored:
                    latest[ans.link_id] = [ans]
                elif ans.authored == held[0].authored:
                    held.append(ans)
            self._answers = latest
        tied = self._answers.get(link_id)
        if not tied:
            return None
        worst = kind != "inclusion"
        return next((a for a in tied if a.value is worst), tied[0])


def _years(born: date, as_of: date) -> int:
    years = as_of.year - born.year
    if (as_of.month, as_of.day) < (born.month, born.day):
        years -= 1
    return years
