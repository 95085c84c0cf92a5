"""`trialscreen parse`: a trial's free-text criteria to a criteria file for a person to review."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from trialscreen.cli.common import error, fail


def parse_command(
    target: Annotated[str, typer.Argument(help="NCT id (built in or in --records), or a ClinicalTrials.gov JSON record file.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", help="Criteria file to write (.yaml or .json); default <NCT id>.yaml.")] = None,
    trial_id: Annotated[str | None, typer.Option("--trial", help="Which study of a file that holds several.")] = None,
    records: Annotated[list[Path] | None, typer.Option("--records", help="Where else to look for the trial's record.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file that differs (reviewed criteria are still kept).")] = False,
) -> None:
    """Parse a trial's eligibility criteria into a criteria file (manual-review items kept)."""
    from trialscreen.criteria.files import CriteriaFileError
    from trialscreen.parse import parse_text
    from trialscreen.parse.output import write_parsed
    from trialscreen.parse.stats import summary
    from trialscreen.trials import TrialRecordError, UnknownTrialError, get_trial, load_trials

    try:
        if Path(target).suffix.lower() == ".json" or Path(target).is_file():
            studies = load_trials(Path(target))
            if trial_id:
                studies = [t for t in studies if t.nct_id == trial_id.strip().upper()]
            if not studies:
                fail(f"{target}: no study{' ' + trial_id if trial_id else ''} in the file")
                return
            if len(studies) > 1:
                ids = ", ".join(t.nct_id for t in studies[:10])
                fail(f"{target}: holds {len(studies)} studies ({ids}{', ...' if len(studies) > 10 else ''}); choose one with --trial")
                return
            trial = studies[0]
        else:
            trial = get_trial(target, records or ())
    except (TrialRecordError, UnknownTrialError) as exc:
        fail(str(exc))
        return
    text = trial.eligibility_criteria
    if not text or not text.strip():
        fail(f"{trial.nct_id}: the record has no eligibility criteria text (protocolSection.eligibilityModule.eligibilityCriteria)")
        return
    parsed = parse_text(text, trial.nct_id, trial.title)
    path = out or Path(f"{trial.nct_id}.yaml")
    if path.suffix.lower() not in (".yaml", ".yml", ".json"):
        raise typer.BadParameter(f"{path}: give a .yaml, .yml or .json file name", param_hint="--out")
    try:
        result = write_parsed(parsed, path, force=force)
    except CriteriaFileError as exc:
        fail(f"{exc}; not overwritten (use --force to replace it)")
        return
    except OSError as exc:
        fail(f"{path}: cannot write ({exc.strerror})")
        return
    stats = summary(parsed.criteria)
    line = (
        f"{trial.nct_id}: {stats.criteria} criteria, {stats.computable} computable, "
        f"{stats.partial} partly, {stats.manual} for manual review"
    )
    if result.outcome == "new":
        error(f"{path} differs from the new parse and may hold a person's edits: kept it; wrote {result.path} (use --force to replace)")
    kept = f"; kept reviewed {', '.join(result.kept_reviewed)}" if result.kept_reviewed else ""
    if result.outcome == "unchanged":
        typer.echo(f"{line}; {path} unchanged{kept}")
        return
    side = f" (+ {result.knowledge_dir})" if result.knowledge_dir else ""
    typer.echo(f"{line}; wrote {result.path}{side}{kept}")


def register(app: typer.Typer) -> None:
    app.command("parse")(parse_command)
