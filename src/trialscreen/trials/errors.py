"""Errors raised when reading trial records, with messages fit to show a user."""

from __future__ import annotations

from collections.abc import Sequence


class TrialRecordError(ValueError):
    """A trial record (file or JSON value) cannot be read as ClinicalTrials.gov API v2 data.

    The message always names the source (usually a file path) and, when known, the
    field path inside the record, so a user can find and fix the input.
    """

    def __init__(self, source: str, problem: str, field: str | None = None) -> None:
        self.source = source
        self.problem = problem
        self.field = field
        where = f"{source}: {field}" if field else source
        super().__init__(f"{where}: {problem}")


class UnknownTrialError(LookupError):
    """No known trial has the requested NCT id; the message lists the ids that are known."""

    MAX_LISTED = 20

    def __init__(self, nct_id: str, known_ids: Sequence[str]) -> None:
        self.nct_id = nct_id
        self.known_ids = tuple(known_ids)
        listed = ", ".join(self.known_ids[: self.MAX_LISTED]) or "none"
        more = len(self.known_ids) - self.MAX_LISTED
        if more > 0:
            listed += f" and {more} more"
        super().__init__(f"unknown trial {nct_id!r}; known trials: {listed}")

    def __str__(self) -> str:  # LookupError would otherwise quote the message
        return str(self.args[0])
