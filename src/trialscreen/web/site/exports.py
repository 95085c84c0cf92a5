"""The screening log as CSV and the CONSORT-style flow diagram as SVG, both from stored rows."""

from __future__ import annotations

import csv
import io
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from trialscreen.web.site.workspace import ApplicationRow, LogRow

LOG_COLUMNS = (
    "candidate_id", "trial", "source", "first_contact", "screenings", "latest_verdict", "eligible_from",
    "outcome", "reasons", "decided_on",
)
APPLICATION_COLUMNS = (
    "application_id", "trial", "name", "email", "phone", "applied_at", "age_days", "prescreen_result",
    "status", "latest_verdict", "candidate_id",
)


def _safe(value: object) -> str:
    """A cell that a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def _csv(header: Sequence[str], rows: Iterable[Sequence[object]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows([_safe(v) for v in row] for row in rows)
    return out.getvalue()


def log_csv(rows: Iterable[LogRow]) -> str:
    return _csv(LOG_COLUMNS, (
        (r.candidate_id, r.trial, r.source, r.first_contact, r.screenings, r.verdict, r.eligible_from, r.outcome,
         ";".join(r.reasons), r.decided_on)
        for r in rows
    ))


def applications_csv(rows: Iterable[ApplicationRow]) -> str:
    return _csv(APPLICATION_COLUMNS, (
        (r.id, r.trial, r.name, r.email, r.phone, r.created_at.isoformat(), r.age_days, r.prescreen_result,
         r.status, r.verdict, r.candidate_id)
        for r in rows
    ))


@dataclass(frozen=True, slots=True)
class Flow:
    """The counts of the diagram: every candidate falls in exactly one of the last four boxes."""

    assessed: int
    excluded: int
    reasons: tuple[tuple[str, int], ...]
    """Screen failures by criterion (a patient failing two criteria counts under each)."""
    withdrawn: int
    enrolled: int
    pending: int


def flow(rows: Sequence[LogRow]) -> Flow:
    assessed = [r for r in rows if r.screenings > 0]
    failed = [r for r in assessed if r.outcome == "screen_failure"]
    reasons = Counter(reason for r in failed for reason in r.reasons)
    return Flow(
        assessed=len(assessed),
        excluded=len(failed),
        reasons=tuple(sorted(reasons.items(), key=lambda kv: (-kv[1], kv[0]))),
        withdrawn=sum(r.outcome == "withdrawn" for r in assessed),
        enrolled=sum(r.outcome == "enrolled" for r in assessed),
        pending=sum(r.outcome not in ("screen_failure", "withdrawn", "enrolled") for r in assessed),
    )


LINE = ' stroke="#1b1b1b" stroke-width="1.5"'
"""Presentation attributes, not a <style> element: the site's CSP allows no inline styles."""


def _box(x: int, y: int, w: int, lines: Sequence[str], ident: str) -> tuple[str, int]:
    h = 16 + 20 * len(lines)
    bold = ' font-weight="bold"'
    text = "".join(
        f'<text x="{x + 12}" y="{y + 26 + 20 * i}"{bold if i == 0 else ""}>{escape(line)}</text>'
        for i, line in enumerate(lines)
    )
    rect = f'<rect x="{x}" y="{y}" width="{w}" height="{h}" rx="4" fill="#fff" stroke="#1b1b1b" stroke-width="1.5"/>'
    return f'<g id="{ident}">{rect}{text}</g>', h


def _arrow(x1: int, y1: int, x2: int, y2: int) -> str:
    return f'<line x1="{x1}" y1="{y1}" x2="{x2}" y2="{y2}"{LINE} marker-end="url(#arrow)"/>'


def consort_svg(trial: str, f: Flow) -> str:
    """Assessed → excluded (by criterion) / withdrawn → enrolled, plus those still in screening."""
    parts: list[str] = []
    left, right, width = 20, 400, 340
    y = 50
    box, h = _box(left, y, width, [f"Assessed for eligibility (n={f.assessed})"], "assessed")
    parts.append(box)
    y_mid = y + h
    reasons = [f"  {rid}: {n}" for rid, n in f.reasons] or ["  (none)"]
    ex_lines = [f"Excluded: screen failure (n={f.excluded})", "Failed criteria:", *reasons]
    ex_y = y_mid + 30
    box, ex_h = _box(right, ex_y, width, ex_lines, "excluded")
    parts.append(box)
    parts.append(_arrow(left + width // 2, ex_y + 20, right, ex_y + 20))
    wd_y = ex_y + ex_h + 20
    box, wd_h = _box(right, wd_y, width, [f"Withdrawn (n={f.withdrawn})"], "withdrawn")
    parts.append(box)
    parts.append(_arrow(left + width // 2, wd_y + 18, right, wd_y + 18))
    pend_y = wd_y + wd_h + 20
    box, pend_h = _box(right, pend_y, width, [f"Still in screening (n={f.pending})"], "pending")
    parts.append(box)
    parts.append(_arrow(left + width // 2, pend_y + 18, right, pend_y + 18))
    en_y = pend_y + pend_h + 40
    box, en_h = _box(left, en_y, width, [f"Enrolled (n={f.enrolled})"], "enrolled")
    parts.append(box)
    parts.append(f'<line x1="{left + width // 2}" y1="{y_mid}" x2="{left + width // 2}" y2="{en_y - 8}"{LINE}/>')
    parts.append(_arrow(left + width // 2, en_y - 10, left + width // 2, en_y))
    total_h = en_y + en_h + 20
    total_w = right + width + 20
    title = f"Screening flow, {trial}"
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_w}" height="{total_h}" '
        f'viewBox="0 0 {total_w} {total_h}" role="img" aria-labelledby="consort-title">'
        f'<title id="consort-title">{escape(title)}</title>'
        '<defs><marker id="arrow" viewBox="0 0 10 10" refX="10" refY="5" markerWidth="8" markerHeight="8" '
        'orient="auto-start-reverse"><path d="M 0 0 L 10 5 L 0 10 z" fill="#1b1b1b"/></marker></defs>'
        '<g font-family="sans-serif" font-size="15" fill="#1b1b1b">'
        f'<text x="{left}" y="28" font-weight="bold">{escape(title)}</text>'
        + "".join(parts)
        + "</g></svg>"
    )
