"""Free-text eligibility criteria to computable criteria trees (deterministic, explainable).

`parse_text` splits a ClinicalTrials.gov eligibility text into criteria and parses each into
the criteria model; words it cannot make computable stay as manual-review nodes.
"""

from trialscreen.parse.build import ParsedCriteria, parse_text

__all__ = ["ParsedCriteria", "parse_text"]
