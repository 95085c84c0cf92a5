"""ClinicalTrials.gov API v2 trial records: model, loader, built-in registry, text views."""

from trialscreen.trials.ages import age_in_years
from trialscreen.trials.errors import TrialRecordError, UnknownTrialError
from trialscreen.trials.loader import load_trials, trials_from_json
from trialscreen.trials.model import Trial
from trialscreen.trials.registry import builtin_trials, get_trial, normalize_nct_id

__all__ = [
    "Trial",
    "TrialRecordError",
    "UnknownTrialError",
    "age_in_years",
    "builtin_trials",
    "get_trial",
    "load_trials",
    "normalize_nct_id",
    "trials_from_json",
]
