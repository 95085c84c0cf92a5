"""Rebuild the built-in API v2 record of the seed trial from its public listing text.

The shipped ``data/NCT06125652.json`` is this module's output for
``shared/seed/trial-listing.txt``; a test checks that they agree, so the record is
reproducible. Run ``python -m trialscreen.trials.seed_record LISTING [OUT]`` to rewrite it.

The listing lacks a few registry facts (study id, phases, enrollment, study type, condition);
they come from the ClinicalTrials.gov entry and are kept in :data:`REGISTRY_FACTS`.
"""

from __future__ import annotations

import re
import sys
from datetime import datetime
from pathlib import Path
from typing import Any

import orjson

from trialscreen.trials.model import EXTENSIONS_KEY

SEED_NCT_ID = "NCT06125652"

#: Facts about the seed trial that the listing does not state (ClinicalTrials.gov entry).
REGISTRY_FACTS: dict[str, Any] = {
    "orgStudyId": "XYFY2023-KL358-01",
    "studyType": "INTERVENTIONAL",
    "phases": ["PHASE1", "PHASE2"],
    "enrollment": {"count": 20, "type": "ESTIMATED"},
    "conditions": ["Acute Myeloid Leukemia"],
}

#: Section headings of a ClinConnect listing, in the order they appear.
HEADINGS = (
    "Trial Information",
    "Keywords",
    "ClinConnect Summary",
    "Gender",
    "Eligibility criteria",
    "About",
    "Contacts",
    "Locations",
    "Trial Officials",
    "Timeline",
)

#: Listing labels that carry no data of their own (page chrome).
LABELS_WITHOUT_DATA = frozenset({"Patients applied"})

_LAUNCHED_RE = re.compile(r"^Launched by (?P<sponsor>.+?) · (?P<date>\w{3} \d{1,2}, \d{4})$")
_CURRENT_RE = re.compile(r"^Current as of (?P<date>\w+ \d{1,2}, \d{4})$")
_AGE_RANGE_RE = re.compile(r"age of (?P<low>\d+)-(?P<high>\d+) years", re.IGNORECASE)

#: stdAges buckets as ClinicalTrials.gov defines them (inclusive lower, upper in years).
STD_AGE_GROUPS = (("CHILD", 0, 17), ("ADULT", 18, 64), ("OLDER_ADULT", 65, None))


class ListingFormatError(ValueError):
    """The listing text does not have the layout this builder knows."""


def split_sections(lines: list[str]) -> dict[str, list[str]]:
    """Group listing lines under their headings; the lines before the first go under ''."""
    sections: dict[str, list[str]] = {"": []}
    current = ""
    for line in lines:
        heading = _heading(line)
        if heading is not None:
            current = heading
            sections[current] = [line] if heading == "About" else []
        else:
            sections[current].append(line)
    missing = [h for h in HEADINGS if h not in sections]
    if missing:
        raise ListingFormatError(f"listing lacks section(s): {', '.join(missing)}")
    return sections


def _heading(line: str) -> str | None:
    if line in HEADINGS:
        return line
    if line.startswith("About ") and len(line.split()) <= 8:
        return "About"
    return None


def build_seed_record(listing_text: str) -> dict[str, Any]:
    """API v2 study JSON for the seed trial, built from its listing text."""
    lines = listing_text.splitlines()
    sections = split_sections(lines)
    header = sections[""]
    title = header[0]
    launched = _LAUNCHED_RE.match(header[1])
    if launched is None:
        raise ListingFormatError(f"second line is not 'Launched by SPONSOR · DATE': {header[1]!r}")
    info = sections["Trial Information"]
    current = _CURRENT_RE.match(info[0])
    if current is None:
        raise ListingFormatError(f"'Trial Information' lacks 'Current as of DATE': {info!r}")
    status = info[1].strip().upper().replace(" ", "_")

    criteria_lines = sections["Eligibility criteria"]
    criteria = "\n".join(criteria_lines)
    ages = _AGE_RANGE_RE.search(criteria)
    if ages is None:
        raise ListingFormatError("eligibility criteria state no 'age of N-M years'")
    low, high = int(ages["low"]), int(ages["high"])

    about = sections["About"]
    contacts = sections["Contacts"]
    officials = sections["Trial Officials"]
    location_lines = [ln for ln in sections["Locations"] if ln not in LABELS_WITHOUT_DATA]

    return {
        "protocolSection": {
            "identificationModule": {
                "nctId": SEED_NCT_ID,
                "orgStudyIdInfo": {"id": REGISTRY_FACTS["orgStudyId"]},
                "briefTitle": title,
            },
            "statusModule": {
                "overallStatus": status,
                "startDateStruct": {"date": _iso_date(launched["date"], "%b %d, %Y")},
                "lastUpdatePostDateStruct": {
                    "date": _iso_date(current["date"], "%B %d, %Y"),
                    "type": "ACTUAL",
                },
            },
            "sponsorCollaboratorsModule": {"leadSponsor": {"name": launched["sponsor"]}},
            "descriptionModule": {"briefSummary": "\n".join(sections["ClinConnect Summary"])},
            "conditionsModule": {
                "conditions": list(REGISTRY_FACTS["conditions"]),
                "keywords": [ln for ln in sections["Keywords"] if ln.strip()],
            },
            "designModule": {
                "studyType": REGISTRY_FACTS["studyType"],
                "phases": list(REGISTRY_FACTS["phases"]),
                "enrollmentInfo": dict(REGISTRY_FACTS["enrollment"]),
            },
            "eligibilityModule": {
                "eligibilityCriteria": criteria,
                "sex": sections["Gender"][0].strip(),
                "minimumAge": f"{low} Years",
                "maximumAge": f"{high} Years",
                "stdAges": std_ages(low, high),
            },
            "contactsLocationsModule": {
                "centralContacts": [{"name": contacts[0], "role": "CONTACT"}],
                "overallOfficials": [
                    {
                        "name": officials[0],
                        "affiliation": officials[2],
                        "role": officials[1].strip().upper().replace(" ", "_"),
                    }
                ],
                "locations": [_location(line) for line in location_lines],
            },
        },
        EXTENSIONS_KEY: {
            "aboutSponsor": "\n".join(about[1:]),
            "currentAsOf": _iso_date(current["date"], "%B %d, %Y"),
            "contactNotes": [{"name": contacts[0], "affiliation": contacts[1]}],
        },
    }


def std_ages(low: int, high: int | None) -> list[str]:
    """The registry's age groups overlapping [low, high] years."""
    return [
        name
        for name, group_low, group_high in STD_AGE_GROUPS
        if (group_high is None or low <= group_high) and (high is None or high >= group_low)
    ]


def _iso_date(text: str, fmt: str) -> str:
    return datetime.strptime(text, fmt).date().isoformat()


def _location(line: str) -> dict[str, str]:
    parts = [part.strip() for part in line.split(",")]
    if len(parts) != 3:
        raise ListingFormatError(f"location is not 'City, State, Country': {line!r}")
    city, state, country = parts
    return {"city": city, "state": state, "country": country}


def render_json(record: dict[str, Any]) -> bytes:
    """The exact bytes shipped: indented, keys in build order, trailing newline."""
    return orjson.dumps(record, option=orjson.OPT_INDENT_2) + b"\n"


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    if not 1 <= len(args) <= 2:
        print("usage: python -m trialscreen.trials.seed_record LISTING [OUT]", file=sys.stderr)
        return 2
    try:
        record = build_seed_record(Path(args[0]).read_text(encoding="utf-8"))
    except (OSError, ListingFormatError) as error:
        print(f"{args[0]}: {error}", file=sys.stderr)
        return 1
    if len(args) == 2:
        Path(args[1]).write_bytes(render_json(record))
    else:
        sys.stdout.buffer.write(render_json(record))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
