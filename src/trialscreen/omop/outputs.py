"""What a population screen leaves behind: persons.parquet, funnel.json, the funnel chart.

Everything is written into a fresh directory beside DIR and renamed into place at the end,
so an interrupted or failed run (a full disk) leaves DIR as it was: never half an output.
"""

from __future__ import annotations

import contextlib
import os
import secrets
import shutil
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import orjson
import pyarrow as pa
import pyarrow.parquet as pq
from matplotlib.figure import Figure
from rich.console import Console
from rich.table import Table

from trialscreen.omop.funnel import Funnel
from trialscreen.omop.sources import PopulationError, UsageError

OUTPUT_FILES = ("persons.parquet", "funnel.json", "funnel.png", "funnel.svg")

# Okabe-Ito: distinguishable with the common colour-vision deficiencies, and in greyscale.
DECIDED_COLOUR = "#0072B2"
REVIEW_COLOUR = "#E69F00"
REMOVED_COLOUR = "#999999"


class OutputError(PopulationError):
    """The output directory cannot be written (full disk, no permission)."""


def check_out_dir(out: Path) -> None:
    """Refuse, before any work, a DIR that is a file or holds something other than our output."""
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out}: exists and is not a directory")
    if out.is_dir():
        foreign = [p.name for p in out.iterdir() if p.name not in OUTPUT_FILES]
        if foreign:
            raise UsageError(
                f"--out {out}: holds files that are not a population output "
                f"({', '.join(sorted(foreign)[:3])}); choose a new or empty directory"
            )
    parent = out.resolve().parent
    if not parent.is_dir():
        raise UsageError(f"--out {out}: the parent directory {parent} does not exist")


def write_outputs(out: Path, persons: pa.Table, funnel: Funnel) -> None:
    """Write every output file into `out` atomically (all of them, or none)."""
    out = out.resolve()
    staging = out.parent / f".{out.name}.partial-{os.getpid()}-{secrets.token_hex(3)}"
    try:
        staging.mkdir()
        _write_all(staging, persons, funnel)
        _swap_in(staging, out)
    except OSError as exc:
        shutil.rmtree(staging, ignore_errors=True)
        reason = exc.strerror or str(exc)
        raise OutputError(f"--out {out}: cannot write the results ({reason})") from None
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


Writer = Callable[[Path, pa.Table, Funnel], None]


def _write_persons(directory: Path, persons: pa.Table, funnel: Funnel) -> None:
    pq.write_table(persons, directory / "persons.parquet", compression="zstd")


def _write_json(directory: Path, persons: pa.Table, funnel: Funnel) -> None:
    data = orjson.dumps(funnel.to_json_data(), option=orjson.OPT_INDENT_2)
    (directory / "funnel.json").write_bytes(data + b"\n")


def _write_chart(directory: Path, persons: pa.Table, funnel: Funnel) -> None:
    figure = funnel_figure(funnel)
    figure.savefig(directory / "funnel.png", dpi=150)
    figure.savefig(directory / "funnel.svg")


WRITERS: tuple[Writer, ...] = (_write_persons, _write_json, _write_chart)

IN_BACKGROUND: frozenset[Writer] = frozenset({_write_persons})
"""Writers that spend their time in Arrow's C++ with the GIL released: they run in a thread
while the others (the chart, pure Python) run, so the two overlap on a second core."""


def _write_all(directory: Path, persons: pa.Table, funnel: Funnel) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        background = [pool.submit(w, directory, persons, funnel) for w in WRITERS if w in IN_BACKGROUND]
        for writer in WRITERS:
            if writer not in IN_BACKGROUND:
                writer(directory, persons, funnel)
        for job in background:
            job.result()  # its error, if any, raised here (the pool has waited for it)


def _swap_in(staging: Path, out: Path) -> None:
    """Replace `out` by `staging`; a previous output is removed only once the new one is in."""
    if not out.exists():
        staging.rename(out)
        return
    old = out.parent / f".{out.name}.old-{secrets.token_hex(3)}"
    out.rename(old)
    try:
        staging.rename(out)
    except OSError:
        with contextlib.suppress(OSError):
            old.rename(out)
        raise
    shutil.rmtree(old, ignore_errors=True)


# --- the chart ------------------------------------------------------------------------------


def _short(text: str, width: int = 48) -> str:
    text = " ".join(text.split()).rstrip(";.")
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def funnel_figure(funnel: Funnel) -> Figure:
    """A horizontal funnel: persons remaining after each criterion, split decided / to review."""
    texts = {c.id: c.text for c in funnel.criteria}
    labels = ["All persons"] + [f"{s.id}  {_short(texts.get(s.id, ''))}" for s in funnel.steps]
    remaining = [funnel.persons] + [s.remaining for s in funnel.steps]
    review = [0] + [s.remaining_with_unknown for s in funnel.steps]
    decided = [r - u for r, u in zip(remaining, review, strict=True)]
    removed = [0] + [s.removed for s in funnel.steps]

    height = 1.2 + 0.34 * len(labels)
    figure = Figure(figsize=(11, height))  # no pyplot: no global state
    # fixed margins (labels are cut to 48 characters): a layout engine costs seconds
    figure.subplots_adjust(left=0.34, right=0.98, top=1 - 0.45 / height, bottom=0.55 / height)
    axis = figure.subplots()
    positions = list(range(len(labels)))
    axis.barh(
        positions, decided, color=DECIDED_COLOUR, label="remaining, every criterion so far met"
    )
    axis.barh(
        positions,
        review,
        left=decided,
        color=REVIEW_COLOUR,  # (no hatching: it doubled the drawing time; the two colours differ in greyscale too)
        label="remaining, some criterion so far needs review",
    )
    axis.set_yticks(positions, labels, fontsize=8)
    axis.invert_yaxis()
    top = max(remaining) if remaining else 0
    smallest = min((r for r in remaining if r > 0), default=1)
    log = top / smallest > 50  # a steep funnel: on a linear axis the tail would vanish
    if log:
        axis.set_xscale("log")
        axis.set_xlim(0.8, max(top, 1) * 8)
    else:
        axis.set_xlim(0, max(top, 1) * 1.22)
    for y, (count, gone) in enumerate(zip(remaining, removed, strict=True)):
        note = f"{count:,}" + (f"   (−{gone:,})" if gone else "")
        where = max(count, 0.8) * 1.08 if log else count + max(top, 1) * 0.01
        axis.text(where, y, note, va="center", fontsize=8)
    axis.set_xlabel(
        "persons remaining (a failed criterion removes the person)" + (", log scale" if log else "")
    )
    axis.set_title(
        f"{funnel.trial}: eligibility funnel over {funnel.persons:,} persons "
        f"(as of {funnel.as_of}, {funnel.engine}, OMOP CDM v{funnel.cdm_version})",
        fontsize=10,
    )
    v = funnel.verdicts
    axis.text(
        0.99,
        0.02,
        f"eligible {v.get('eligible', 0):,} · needs review {v.get('needs_review', 0):,} · "
        f"ineligible {v.get('ineligible', 0):,}",
        transform=axis.transAxes,
        ha="right",
        va="bottom",
        fontsize=8,
    )
    axis.spines[["top", "right"]].set_visible(False)
    axis.legend(loc="lower right", bbox_to_anchor=(1.0, 0.06), fontsize=8, frameon=False)
    return figure


# --- the terminal table ---------------------------------------------------------------------


NUMBER_HEADERS = ("remaining", "removed", "review", "fails", "alone", "unknown")


def funnel_table(funnel: Funnel, width: int = 120) -> Table:
    """The funnel as a Rich table, one row per criterion of the listing, fit to `width`.

    The criterion's words get what the numbers leave, and are dropped below 12 characters.
    """
    numbers = sum(len(h) + 3 for h in NUMBER_HEADERS) + 11 + 4
    text_width = min(60, width - numbers - 3)
    by_id = {c.id: c for c in funnel.criteria}
    table = Table(
        title=f"{funnel.trial} – {funnel.persons:,} persons, as of {funnel.as_of}",
        caption=(
            f"eligible {funnel.verdicts.get('eligible', 0):,} · needs review "
            f"{funnel.verdicts.get('needs_review', 0):,} · ineligible "
            f"{funnel.verdicts.get('ineligible', 0):,}"
        ),
    )
    table.add_column("criterion", no_wrap=True, min_width=8)
    if text_width >= 12:
        table.add_column("", no_wrap=True, overflow="ellipsis", width=text_width, style="dim")
    for header in NUMBER_HEADERS:
        table.add_column(header, justify="right", no_wrap=True, min_width=len(header))
    for step in funnel.steps:
        counts = by_id[step.id]
        words = [_short(counts.text, text_width)] if text_width >= 12 else []
        table.add_row(
            step.id,
            *words,
            f"{step.remaining:,}",
            f"{step.removed:,}",
            f"{step.remaining_with_unknown:,}",
            f"{counts.failed:,}",
            f"{counts.fails_alone:,}",
            f"{counts.unknown:,}",
        )
    return table


def what_if_table(funnel: Funnel) -> Table:
    table = Table(title="What if")
    table.add_column("change")
    table.add_column("eligible", justify="right")
    table.add_column("gain", justify="right")
    table.add_column("eligible or review", justify="right")
    table.add_column("gain", justify="right")
    for row in funnel.what_if:
        table.add_row(
            row["what_if"],
            f"{row['eligible']:,}",
            f"{row['gain_eligible']:+,}",
            f"{row['eligible_or_review']:,}",
            f"{row['gain_eligible_or_review']:+,}",
        )
    return table


def print_summary(funnel: Funnel, console: Console) -> None:
    console.print(funnel_table(funnel, console.width))
    if funnel.what_if:
        console.print(what_if_table(funnel))
