"""The report for a person: the verdict first, then failures, unknowns with what is missing, passes."""

from __future__ import annotations

from rich.console import Group, RenderableType
from rich.padding import Padding
from rich.panel import Panel
from rich.text import Text

from trialscreen.report.model import CriterionResult, Evidence, PatientReport

ICON = {"fail": ("✗", "bold red"), "unknown": ("?", "bold yellow"), "pass": ("✓", "green")}
VERDICT = {
    "eligible": ("ELIGIBLE", "bold white on dark_green"),
    "ineligible": ("NOT ELIGIBLE", "bold white on red3"),
    "needs_review": ("NEEDS REVIEW", "bold black on yellow"),
}
SECTIONS = (("fail", "Stands in the way"), ("unknown", "Cannot be decided from the record"), ("pass", "Met"))


def _evidence_line(ev: Evidence) -> Text:
    line = Text("• ", style="dim")
    line.append(ev.resource, style="cyan")
    line.append(f"  {ev.what}")
    if ev.value is not None:
        line.append(f": {ev.value}{' ' + ev.unit if ev.unit else ''}")
    if ev.date:
        line.append(f"  on {ev.date}", style="dim")
    if ev.threshold:
        line.append(f"  against {ev.threshold}", style="dim")
    if ev.note:
        line.append(f"  ({ev.note})", style="dim italic")
    return line


def _at(indent: int, text: Text) -> Padding:
    """Indent every wrapped line, not just the first."""
    return Padding(text, (0, 0, 0, indent))


def _criterion(result: CriterionResult, indent: int = 0, detail: bool = True) -> list[RenderableType]:
    icon, style = ICON[result.status]
    head = Text()
    head.append(f"{icon} ", style=style)
    head.append(result.id, style="bold")
    head.append(f"  {result.text}")
    out: list[RenderableType] = [_at(indent, head)]
    inner = indent + 4
    if not result.parts:
        out.append(_at(inner, Text(result.reason, style="italic")))
        if result.missing and result.status == "unknown":
            out.append(_at(inner, Text("missing: " + "; ".join(result.missing), style="yellow")))
        if result.eligible_from:
            out.append(_at(inner, Text(f"eligible from {result.eligible_from}", style="bold magenta")))
        if detail:
            out.extend(_at(inner, _evidence_line(ev)) for ev in result.evidence)
    for part in result.parts:
        out.extend(_criterion(part, inner, detail=detail and part.status != "pass"))
    return out


def render(report: PatientReport, *, source: str | None = None) -> RenderableType:
    label, style = VERDICT[report.verdict]
    title = Text()
    title.append(f"Patient {report.patient}", style="bold")
    title.append(f"  ·  {report.trial}  ·  as of {report.as_of}")
    if source:
        title.append(f"  ·  {source}", style="dim")
    verdict = Text(f" {label} ", style=style)
    if report.eligible_from:
        verdict.append(f"  eligible from {report.eligible_from} if nothing else changes", style="bold magenta")
    body: list[RenderableType] = [verdict]
    for status, heading in SECTIONS:
        chosen = [c for c in report.criteria if c.status == status]
        if not chosen:
            continue
        body.append(Text(f"\n{heading} ({len(chosen)})", style="bold underline"))
        for result in chosen:
            body.extend(_criterion(result, 0, detail=status != "pass"))
    if report.warnings:
        body.append(Text("\nNotes on the record", style="bold underline"))
        body.extend(_at(2, Text("! " + w, style="yellow")) for w in report.warnings)
    return Panel(Padding(Group(*body), (0, 1)), title=title, title_align="left", border_style="blue")
