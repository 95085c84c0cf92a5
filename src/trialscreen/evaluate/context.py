"""Everything a compiled check reads while screening one patient on one day."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

from trialscreen.fhir.facts import AnswerFact, Facts


@dataclass(slots=True)
class Context:
    facts: Facts
    as_of: date
    _answers: dict[str, AnswerFact] | None = field(default=None)

    @property
    def age(self) -> int | None:
        """Completed years on the as-of date."""
        born = self.facts.birth_date
        if born is None or born > self.as_of:
            return None
        years = self.as_of.year - born.year
        if (self.as_of.month, self.as_of.day) < (born.month, born.day):
            years -= 1
        return years

    def answer(self, link_id: str) -> AnswerFact | None:
        """The latest boolean answer to `link_id` authored on or before the as-of date."""
        if self._answers is None:
            latest: dict[str, AnswerFact] = {}
            for ans in self.facts.answers:
                if ans.authored.date() > self.as_of:
                    continue
                held = latest.get(ans.link_id)
                if held is None or ans.authored >= held.authored:
                    latest[ans.link_id] = ans
            self._answers = latest
        return self._answers.get(link_id)
