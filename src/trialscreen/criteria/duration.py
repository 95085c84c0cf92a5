"""ISO 8601 durations (P28D, P4W, P3M, P12M, P1Y) with calendar arithmetic.

Windows in the criteria are calendar windows: 3 months after 2026-11-30 is 2027-02-28.
Kept as the ISO string in files so a reviewer reads what a clinician wrote.
"""

from __future__ import annotations

import re
from datetime import date
from functools import lru_cache
from typing import Annotated

from dateutil.relativedelta import relativedelta
from pydantic import AfterValidator

_PATTERN = re.compile(r"^P(\d+)([DWMY])$")
_UNIT_WORDS = {"D": "day", "W": "week", "M": "month", "Y": "year"}


def _check(value: str) -> str:
    if not _PATTERN.match(value):
        raise ValueError(f"duration {value!r} is not of the form P<n>D, P<n>W, P<n>M or P<n>Y")
    return value


Duration = Annotated[str, AfterValidator(_check)]


@lru_cache(maxsize=256)
def delta(duration: str) -> relativedelta:
    """The calendar offset of a duration."""
    match = _PATTERN.match(duration)
    if not match:
        raise ValueError(f"duration {duration!r} is not valid")
    n, unit = int(match.group(1)), match.group(2)
    if unit == "D":
        return relativedelta(days=n)
    if unit == "W":
        return relativedelta(weeks=n)
    if unit == "M":
        return relativedelta(months=n)
    return relativedelta(years=n)


@lru_cache(maxsize=65536)
def add(day: date, duration: str) -> date:
    """`day` plus `duration`, clipping to the month's last day (dateutil semantics)."""
    result: date = day + delta(duration)
    return result


@lru_cache(maxsize=4096)
def subtract(day: date, duration: str) -> date:
    result: date = day - delta(duration)
    return result


def words(duration: str) -> str:
    """'P3M' -> '3 months'."""
    match = _PATTERN.match(duration)
    if not match:
        return duration
    n, unit = int(match.group(1)), _UNIT_WORDS[match.group(2)]
    return f"{n} {unit}{'' if n == 1 else 's'}"


def parts(duration: str) -> tuple[int, str]:
    """(count, unit letter) for engines that build their own date arithmetic."""
    match = _PATTERN.match(duration)
    if not match:
        raise ValueError(f"duration {duration!r} is not valid")
    return int(match.group(1)), match.group(2)
