"""One criterion's words to a node: recognisers, then a check that nothing was left unread.

The parser never guesses. A clause becomes a computable node only when its content words are
all explained by what was recognised (terms, thresholds, windows, cue words). Words that
narrow what was recognised ("clinically significant", "requiring hospitalisation") make the
node `uncertain` (a match needs a person's confirmation, no match still counts). Words that
may widen it ("or other ...") add a manual-review alternative. Anything else is manual review.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

from trialscreen.criteria.nodes import (
    Age,
    Allergy,
    AllOf,
    AnyOf,
    Attestation,
    Condition,
    ConditionTiming,
    Consent,
    Gender,
    Immunization,
    ManualReview,
    Measurement,
    Medication,
    Node,
    Not,
    Procedure,
    Ref,
    Uncertain,
)
from trialscreen.parse.allergens import allergen_hits, allergen_valueset
from trialscreen.parse.conditional import read_conditional
from trialscreen.parse.lexicon import TOKEN, Entry, Hit, folded, icd_description, icd_terms, key_of, lexicon, norm_token
from trialscreen.parse.measures import measurement_at
from trialscreen.parse.notes import read_diagnostic_manual, read_notes
from trialscreen.parse.quantities import Window, find_frequency, find_windows, one_unit_window

Kind = Literal["inclusion", "exclusion"]

# Words that carry no content of their own once the recognised terms are read.
FILLER = frozenset(
    ["do", "does", "did", "a", "an", "the", "and", "or", "of", "with", "without", "to", "in", "on", "at", "for", "by", "from", "as", "be", "is", "are", "was", "were", "been", "being", "has", "have", "had", "having", "must", "should", "shall", "will", "would", "may", "can", "could", "not", "no", "nor", "any", "all", "either", "patient", "patients", "subject", "subjects", "participant", "participants", "person", "persons", "people", "individual", "individuals", "volunteer", "volunteers", "who", "that", "which", "this", "these", "those", "their", "his", "her", "its", "they", "he", "she", "history", "hx", "h", "o", "known", "documented", "evidence", "presence", "present", "presenting", "current", "currently", "active", "prior", "previous", "previously", "past", "ongoing", "diagnosis", "diagnosed", "diagnose", "confirmed", "confirmation", "established", "proven", "definite", "suspected", "suspicion", "following", "following:", "i", "e", "g", "eg", "etc", "ie", "than", "greater", "less", "more", "equal", "least", "within", "last", "before", "prior", "since", "after", "ago", "days", "day", "weeks", "week", "months", "month", "years", "year", "enrollment", "enrolment", "entry", "randomization", "randomisation", "registration", "screening", "study", "treatment", "start", "first", "dose", "baseline", "visit", "day1", "time", "period", "level", "levels", "count", "value", "values", "score", "status", "grade", "class", "de", "novo", "secondary", "type", "new", "onset", "newly", "untreated", "treated", "chronic", "acute", "disease", "diseases", "disorder", "disorders", "condition", "conditions", "syndrome", "due", "also", "only", "other", "such", "like", "including", "include", "includes", "positive", "negative", "test", "result", "results", "serum", "plasma", "blood", "urine", "peripheral", "clinical", "clinically", "evident", "defined", "define", "criteria", "criterion", "per", "mg", "dl", "ml", "min", "l", "g", "ul", "mm3", "x", "uln", "r", "s", "relapse", "relapsed", "refractory", "recurrent", "recurrence", "persistent", "progressive", "use", "using", "used", "receive", "received", "receiving", "require", "requires", "required", "requiring", "requirement", "application", "agent", "agents", "drug", "drugs", "medication", "medications", "medicine", "medicines", "taking", "take", "concurrent", "concomitant", "women", "woman", "men", "man", "male", "males", "female", "females", "adult", "adults", "aged", "age", "old", "surgery", "surgical", "operation", "operations", "procedure", "procedures", "either", "both", "each", "per", "cent", "percent"]
)
# Qualifiers that can only narrow a recognised term (severity, stage, extent): read, they make
# the node `uncertain` (named in its reason) but do not count as words the parser failed to read.
NARROWING = frozenset(
    ["severe", "significant", "clinically", "serious", "moderate", "major", "symptomatic", "uncontrolled", "unstable",
     "stage", "i", "ii", "iii", "iv", "iia", "iib", "iiia", "iiib", "iiic", "iva", "ivb", "ivc", "advanced", "locally",
     "metastatic", "unresectable", "inoperable", "invasive", "localized", "localised", "primary", "grade",
     "poorly", "controlled", "requiring", "hospitalization", "hospitalisation", "life", "threatening", "medically",
     "decompensated", "refractory", "extensive", "limited", "high", "risk", "squamous"]
)  # fmt: skip
# Words that make an inclusion hold under a condition ("ALT ≤ 2.5 × ULN, or ≤ 5 × ULN if liver
# metastases"): the recognised part alone would be too narrow, so a person reads the rest.
_CONDITIONAL = re.compile(
    r"\b(?:if|unless|provided|except|exception|other\s+than|in\s+case\s+of|in\s+the\s+presence\s+of|such\s+as\s+(?=\w+\s+metasta)|"
    r"may|allowed|permitted|acceptable|can\s+be|"
    r"(?:in|for)\s+(?:patients|subjects|participants|those)\s+with)\b",
    re.I,
)
_EXAMPLE_KEYS = ("e.g", "eg", "such as", "for example", "for instance", "includ")
_EXAMPLE_CUE = re.compile(r"\b(?:e\.\s?g\.?|eg|such\s+as|for\s+example|for\s+instance|including|includes?)\b", re.I)
_DURATION = re.compile(r"\bfor\s+(?:at\s+least|more\s+than|over|longer\s+than|≥|>=?)\s*\S+\s*(?:days?|weeks?|months?|years?)\b", re.I)
_PLANNED = re.compile(
    r"\b(?:undergoing|undergo|scheduled|planned|planning|candidates?|awaiting|referred|eligible|indicated|indication|"
    r"requiring|need|needs|require|requires|will\s+have)\s+(?:for\s+|to\s+)?(?:an?\s+|the\s+)?(?:[\w-]+,?\s+){0,8}$",
    re.I,
)
_FUTURE = re.compile(
    r"\b(?:anticipated|anticipate|planned|planning|scheduled|advised|expected\s+to|will\s+(?:need|require|receive|undergo|be\s+treated)|"
    r"candidates?\s+for|preferred\s+treatment)\b",
    re.I,
)
_FAMILY = re.compile(r"\bfamily\s+(?:or\s+personal\s+)?(?:history|members?)|\bfamilial\s+history|\bfirst[- ]degree\s+relatives?|\bparents?\s+or\s+siblings?|\bsiblings?\b", re.I)
_DSM_TITLE = re.compile(r"\bdiagnostic\s+and\s+statistical\s+manual\s+of\s+mental\s+disorders\b", re.I)
# "acquired or congenital immunodeficiency": qualifiers listed before a term cover it either way.
_PAIRED_QUALIFIERS = frozenset(
    ["acquired", "congenital", "hereditary", "inherited", "secondary", "acute", "chronic", "active", "known",
     "suspected", "treated", "untreated", "asymptomatic", "mild", "unilateral", "bilateral", "left", "right",
     "local", "systemic", "recent", "existing", "pre-existing", "preexisting", "current", "past", "prior", "previous"]
)  # fmt: skip
_DEFINED = re.compile(r"\bdefined\s+(?:as|by)\b", re.I)
_BROADEN = re.compile(r"\b(?:or\s+other|and\s+other|other\s+\w+|any\s+other|etc\.?)\b", re.I)
_NEGATION = re.compile(
    r"\b(?:no|not|without|absence\s+of|free\s+of|negative\s+for|never|none|lack\s+of|must\s+not\s+have|denies|devoid\s+of|free\s+from)\b|\bnon(?=[\s-]?smok)",
    re.I,
)
_DOUBLE_NEGATIVE = re.compile(r"\b(?:not|no|non)[\s-]+(?:be\s+)?negative\b", re.I)
_HISTORY = re.compile(r"\b(?:history|hx|h/o|prior|previous|previously|past|ever)\b", re.I)
_ACTIVE = re.compile(
    r"\b(?:active|current|currently|ongoing|presence|present|untreated|symptomatic|uncontrolled|unstable|"
    r"persistent|with|has|have|suffering|known|clinically\s+active)\b",
    re.I,
)
_UNCONTROLLED = re.compile(r"\b(?:uncontrolled|poorly\s+controlled|not\s+(?:well\s+)?controlled|unstable)\b", re.I)
_DIAGNOSIS = re.compile(
    r"\b(?:diagnos\w*|confirmed|proven|documented|(?:histo)?patholog\w*|histolog\w*|cytolog\w*|biopsy[\s-]proven)\b", re.I
)
_RELAPSE = re.compile(r"\b(?:relapsed?|refractory|r/r|recurrent|recurred|recurrence)\b", re.I)
_PAST_USE = re.compile(
    r"\b(?:prior|previous|previously|received|receipt|history|treated\s+with|exposure|exposed|"
    r"had|last|since|before|within)\b",
    re.I,
)
_CURRENT_USE = re.compile(
    r"\b(?:current|currently|concurrent|concomitant|ongoing|receiving|requiring|required|require|"
    r"requires|need|needs|taking|take|takes|on\s+(?:chronic\s+)?|chronic|systemic\s+application|regular\s+use|"
    r"long-term|daily|use\s+of|uses|using|treated\s+with|treatment\s+with|therapy\s+with|under)(?=\W|$)",
    re.I,
)

_CONSENT = re.compile(
    r"\b(?:informed\s+consent|consent\s+form|written\s+consent|give\s+consent|provide\s+consent|"
    r"sign(?:ed)?\s+(?:and\s+date\s+)?(?:the\s+|an\s+|a\s+)?(?:written\s+)?(?:informed\s+)?consent|assent|icf|"
    r"(?:lack|absence|refusal|denied|withdrawal)\s+(?:of\s+)?(?:the\s+)?(?:patient'?s\s+)?consent|consent\s+(?:to|for)\s+(?:participat\w+|the\s+study|inclusion))\b",
    re.I,
)
_CONSENT_REFUSED = re.compile(r"\b(?:unable|unwilling|not\s+able|inability|refus\w*|cannot|can't|lack\w*|denied|deny|withdr\w*|without|absence|no\s+(?:\w+\s+)?consent)\b", re.I)
_JUDGEMENT = re.compile(
    r"(?:opinion\s+of\s+the\s+(?:treating\s+)?(?:investigator|physician|doctor|clinician)|"
    r"investigator'?s?\s+(?:opinion|judge?ment|discretion|assessment)|judged?\s+by\s+the\s+investigator|"
    r"identified\s+by\s+the\s+investigators?|considered\s+by\s+the\s+investigator|"
    r"\b(?:unsuitable|inappropriate)\b|not\s+(?:be\s+)?(?:a\s+)?suitable|"
    r"(?:unwilling|unable)\s+(?:or|and|/)\s+(?:unwilling|unable)|(?:willing|able)\s+(?:and|to)\s+(?:able\s+to\s+)?comply|"
    r"compl(?:y|iance)\s+with\s+(?:the\s+)?(?:study|protocol|scheduled|visit|treatment)|"
    r"interfere\s+with|compromise\s+(?:the\s+)?(?:patient|subject|participant|safety|study)|"
    r"would\s+(?:make|put|place)|jeopardi[sz]e|not\s+(?:be\s+)?(?:an?\s+)?(?:appropriate|good)\s+candidate)",
    re.I,
)
# Every wording of _JUDGEMENT holds one of these (a cheap test before the regex).
_JUDGEMENT_GATE = ("opinion", "investigator", "judg", "identified", "considered", "suitable", "appropriate",
                   "unwilling", "unable", "willing", "able", "compl", "interfere", "compromise", "would", "jeopardi",
                   "candidate")  # fmt: skip
# Further judgement wordings, searched only when one of their key words occurs (speed).
_JUDGEMENT_KEYS = ("investigator", "physician", "doctor", "clinician", "contra", "consent", "complian", "particip", "protocol")
_JUDGEMENT_MORE = re.compile(
    r"(?:determined|assessed|judged|deemed|considered|evaluated)\s+(?:\w+\s+){0,3}by\s+(?:the\s+)?(?:treating\s+|study\s+|principal\s+)?(?:investigators?|physicians?|doctors?|clinicians?|pi)\b|"
    r"(?:investigators?|physicians?)\s+(?:deems?|judges?|considers?|believes?|feels?)\b|"
    r"(?:preclude|impair|prevent|invalidate|limit|hinder|compromise)\w*\s+(?:\w+\s+){0,6}(?:consent|compliance|participation|protocol)|"
    r"\bcontra-?indicat\w*",
    re.I,
)
_RECOVERED = re.compile(
    r"\brecover(?:ed|y)?\s+from\s+(?:the\s+)?(?:acute\s+)?(?:toxic\w*|adverse\s+(?:events|effects))|"
    r"(?:toxicit\w+|adverse\s+events?)\s+(?:of|from)\s+(?:prior|previous)\s+\w+\s+(?:have\s+)?resolved",
    re.I,
)
_LIFE = re.compile(
    r"\b(?:life\s+expectancy|expected\s+survival(?:\s+period)?|survival\s+expectancy|expected\s+to\s+(?:live|survive)|predicted\s+survival|estimated\s+survival|prognosis)\b",
    re.I,
)
_LIFE_AMOUNT = re.compile(
    r"(?P<cmp>≥|>=|>/=|≧|>|at\s+least|not\s+less\s+than|no\s+less\s+than|greater\s+than(?:\s+or\s+equal\s+to)?|more\s+than|of|over|exceeding|longer\s+than|beyond|≤|</=|<|less\s+than|under|below|shorter\s+than)?\s*"
    r"(?P<n>\d+|one|two|three|four|five|six|eight|nine|ten|twelve)\s*(?:\(\d+\)\s*)?(?P<unit>weeks?|months?|years?|days?)",
    re.I,
)
_ALLERGY = re.compile(r"\b(?:hypersensitivity|allerg\w*|anaphyla\w*)(?:\s+reactions?)?", re.I)
_ALLERGY_TO = re.compile(
    r"\s*(?:(?:/\s*|or\s+|and/or\s+)(?:[\w-]+\s+){0,2}?(?:hypersensitiv\w*|allerg\w*|intoleran\w*|sensitiv\w*|"
    r"reactions?|intolerability|idiosyncratic\s+reactions?)\s*)?(?:reactions?\s+)?(?:\(\w+\)\s*)?(?:to|against|towards)\b\s*:?",
    re.I,
)
_ALLERGY_ALLOWED = frozenset(
    ["known", "severe", "reaction", "reactions", "serious", "any", "class", "its", "compounds", "excipients",
     "components", "similar", "chemical", "composition", "hypersensitivity", "hypersensitivities", "allergy",
     "allergies", "allergic", "intolerance", "intolerant", "intolerability", "sensitivity", "sensitive",
     "suspected", "documented", "history", "hypersensitive", "anaphylaxis", "anaphylactic", "idiosyncratic",
     "life", "threatening", "systemic", "immediate", "drugs", "drug", "products", "product", "agents",
     "medications", "medication", "containing", "derived", "based"]
)  # fmt: skip
_EXAMPLES = re.compile(r"\((?:e\.?\s?g\.?|eg|such\s+as|including|i\.?e\.?|for\s+example)[^()]*(?:\([^()]*\)[^()]*)*\)", re.I)
_CONTRACEPTION = re.compile(r"\b(?:contracept\w*|birth\s+control|barrier\s+method|abstinen\w*|condoms?)\b", re.I)
_PREG_TEST = re.compile(r"\b(?:pregnancy\s+test|hcg|β-hcg|beta-hcg|b-hcg|beta\s+hcg)\b", re.I)
_PREG_TEST_WORDS = frozenset(
    ["positive", "negative", "serum", "urine", "urinary", "test", "tests", "testing", "result", "results", "human", "chorionic", "gonadotropin", "hcg", "beta", "b", "pregnancy", "pregnant", "performed", "documented", "laboratory", "sample", "obtained", "confirmed", "within", "prior", "before", "hours", "days", "weeks", "screening", "baseline", "start", "starting", "first", "dose", "dosing", "administration", "treatment", "enrollment", "enrolment", "registration", "randomization", "randomisation", "study", "drug", "day", "cycle", "visit", "entry", "initiation", "women", "woman", "female", "females", "fertile", "wocbp", "childbearing", "child", "bearing", "potential", "reproductive", "post", "menopausal", "postmenopausal", "pre", "premenopausal", "age", "capacity", "sexually", "active", "mature", "must", "have", "has", "be", "are", "is", "who", "all", "if"]
)
"""Words a line that is only about a pregnancy test may hold besides the test itself."""
_PREG_TEST_EXCLUSION_WORDS = frozenset(["lactating", "lactation", "breast", "feeding", "breastfeeding", "nursing"])
_PREGNANT = re.compile(r"\b(?:pregnan\w*|breast[\s-]?feeding|lactat\w*|nursing)\b", re.I)
_WOCBP = re.compile(r"\b(?:child[\s-]?bearing|reproductive\s+(?:potential|capability|age)|wocbp|fertile)\b", re.I)
_MEN = re.compile(r"\b(?:males?|men|man)\b", re.I)
_AGE = [
    re.compile(
        r"\b(?:aged?|ages?)\s*(?:[:=]\s*|of\s*|from\s*|is\s*|between\s*|range\s*|ranging\s*|in\s+the\s+range\s*)*(?P<lo>\d{1,3})\s*(?:-|–|to|and|~)\s*(?P<hi>\d{1,3})\s*(?:years?|yrs?|y)?(?:\s*(?:of\s+age|old))?(?:\s*\(?inclusive\)?)?",
        re.I,
    ),
    re.compile(
        r"\b(?:between\s*)?(?P<lo>\d{1,3})\s*(?:-|–|to|and)\s*(?P<hi>\d{1,3})\s*(?:years?|yrs?)\s*(?:of\s+age|old|of\s+age\s+or\s+older)?(?:\s*,?\s*\(?inclusive\)?)?",
        re.I,
    ),
    re.compile(
        r"\b(?:aged?|ages?)\s*(?:[:=]\s*|of\s*|is\s*)?(?P<cmp>>\s*or\s*=|<\s*or\s*=|>/=|</=|>_|<_|≥|≧|>=|=>|>|≤|≦|<=|=<|<|at\s+least|over|above|older\s+than|greater\s+than(?:\s+or\s+equal\s+to)?|under|younger\s+than|less\s+than|below)\s*(?P<n>\d{1,3})\s*(?:years?|yrs?)?(?:\s*(?:of\s+age|old))?",
        re.I,
    ),
    re.compile(
        r"(?P<cmp>>/=|</=|≥|≧|>=|>|≤|≦|<=|<|at\s+least|over|above|older\s+than|greater\s+than(?:\s+or\s+equal\s+to)?|under|younger\s+than|less\s+than)\s*(?P<n>\d{1,3})\s*(?:years?|yrs?)\s*(?:of\s+age|old)?",
        re.I,
    ),
    re.compile(
        r"\b(?P<n>\d{1,3})\s*(?:years?|yrs?)\s*(?:of\s+age|old)?\s*(?:or|and)\s*(?P<dir>older|over|above|greater|more|younger|under|less|below)\b(?:\s+of\s+age)?",
        re.I,
    ),
    re.compile(
        r"\bbetween\s+(?:the\s+)?ages?\s+(?:of\s+)?(?P<lo>\d{1,3})\s*(?:and|to|-|–)\s*(?P<hi>\d{1,3})\s*(?:years?|yrs?)?(?:\s*(?:of\s+age|old))?(?:\s*\(?inclusive\)?)?",
        re.I,
    ),
    re.compile(
        r"\b(?:aged?|ages?)\s*(?:[:=]|of)?\s*(?P<n>\d{1,3})\s*(?:years?|yrs?)?(?:\s*(?:of\s+age|old))?\s*(?:or|and)\s*(?P<dir>older|over|above|greater|more|younger|under|less|below)\b(?:\s+of\s+age)?",
        re.I,
    ),
    re.compile(r"\b(?P<adult>adults?)\b(?=\s*(?:patients|subjects|participants|men|women|males|females|volunteers|,|$|\.|;|\(|aged))", re.I),
]
_WILLING = re.compile(
    r"^\W*(?:\d+[.)]\s*)?(?:(?:the\s+)?(?:patients?|subjects?|participants?|volunteers?)\s+(?:who\s+(?:is|are)\s+)?"
    r"(?:must\s+(?:be\s+)?|should\s+(?:be\s+)?|is\s+|are\s+|has\s+|have\s+)?)?"
    r"(?:willing|willingness|able|ability|agree|agrees|agreement|capable|understand|understands|understanding|"
    r"unable|unwilling|inability|refus\w*|not\s+able|not\s+willing)\b",
    re.I,
)
_LIST_GAP = re.compile(
    r"\)?\s*(?:\([^()]{1,12}\))?\s*(?:[,/]|,?\s*\band\b|,?\s*\bor\b|and/or|&)?\s*(?:\([^()]{1,12}\))?\s*", re.I
)
_STUDY_PRODUCT = re.compile(
    r"\b(?:study\s+(?:drugs?|treatments?|medications?|interventions?|products?|agents?|vaccines?)|investigational\s+(?:medicinal\s+)?(?:products?|drugs?|agents?)|imp|"
    r"(?:tested|studied|trial|proposed|test)\s+(?:drugs?|medications?|products?|vaccines?|agents?)|vaccine\s+components?|"
    r"any\s+(?:of\s+the\s+)?(?:medications?|drugs?|agents?)\s+(?:\w+\s+)?(?:given|used|administered)\s+in|"
    r"any\s+(?:of\s+the\s+)?(?:components?|ingredients?|excipients?)|excipients?)\b",
    re.I,
)
_OTHER_STUDY = re.compile(
    r"\b(?:(?:another|other|concurrent|an?)\s+(?:active\s+|ongoing\s+)?(?:interventional\s+)?(?:clinical\s+)?(?:trials?|stud(?:y|ies))|"
    r"investigational\s+(?:medicinal\s+)?(?:drugs?|agents?|products?|devices?|therapy|treatment)|clinical\s+trials?)\b",
    re.I,
)
_LANGUAGE = re.compile(
    r"\b(?:english|french|spanish|german|dutch|italian|portuguese|chinese|mandarin|cantonese|japanese|korean|"
    r"hebrew|arabic|danish|swedish|norwegian|finnish|russian|polish|greek|turkish|hindi)\b",
    re.I,
)
_LANGUAGE_USE = re.compile(r"\b(?:speak\w*|read\w*|writ\w*|understand\w*|fluen\w*|literate|proficien\w*|language|communicat\w*)\b", re.I)
_SCHEDULED = re.compile(
    r"^\W*(?:\d+[.)]\s*)?(?:(?:the\s+)?(?:patients?|subjects?|participants?|women|men|adults?)\s+)?(?:who\s+(?:are|is)\s+)?"
    r"(?:scheduled|planned|planning|candidates?|referred|awaiting|listed)\s+(?:for|to)\b",
    re.I,
)
_AVAILABLE = re.compile(
    r"\b(?:available|availability)\s+(?:for|to)\b|\b(?:reside|resides|residing|living|live|lives)\s+(?:in|within|near)\b|"
    r"\baccess\s+to\s+(?:a\s+)?(?:telephone|phone|internet|computer|transportation)",
    re.I,
)
_LEGAL_STATUS = re.compile(
    r"\b(?:social\s+security|health\s*(?:care\s+)?insurance|insured|insurance\s+(?:coverage|plan|scheme)|"
    r"legal\s+(?:guardianship|protection|guardians?\b(?!\s*(?:must|should|is|are|has|have|will|can|who|to)\b))|guardianship|"
    r"curatorship|tutorship|under\s+(?:legal\s+|judicial\s+)?(?:guardianship|curatorship|tutorship|protection)|"
    r"prisoners?|inmates?|incarcerat\w*|deprived\s+of\s+(?:their\s+|his\s+|her\s+)?(?:liberty|freedom)|forfeited\s+(?:his|her|their)\s*(?:/\s*her\s+)?freedom|"
    r"correctional\s+facility|judicial\s+(?:protection|decision)|administrative\s+decision)",
    re.I,
)
_ASA_CLASS = re.compile(
    r"\b(?:ASA(?:[\s-]?PS)?|(?i:American\s+Society\s+(?:of\s+)?Anesthesiolog\w*))(?:\s*\([^()]{0,45}\))?"
    r"(?i:[\s-]*(?:physical[\s-]*(?:health\s+)?(?:status|state)|PS|class(?:ification)?|score|grade|status|risk|system|as|"
    r"\(ASA(?:[\s-]?PS)?\)|of|:|>=?|≥|<=?|≤|=))*\s*(?:[IV]{1,3}|[1-6])\b"
)
_COMPLIANCE = re.compile(
    r"\b(?:non-?complian\w*|poor\s+(?:compliance|adherence)|uncooperative|lack\s+of\s+(?:cooperation|compliance)|"
    r"(?:can\s*not|cannot|can't|could\s+not|unable\s+to|not\s+able\s+to|inability\s+to|able\s+to|difficult\s+to|unlikely\s+to|willing\s+to)\s+"
    r"(?:\w+\s+){0,2}?(?:comply|cooperate|communicate|attend|return|come\s+back|follow|complete|adhere)\w*|"
    r"(?:predicted|expected|anticipated)\s+(?:poor\s+)?(?:adherence|compliance)|lost\s+to\s+follow[- ]?up|inaccessible\s+(?:for|due))",
    re.I,
)
# Screening findings whose only content is the investigator's judgement of their significance.
_SIGNIFICANT_FINDING = re.compile(
    r"\bclinically\s+(?:significant|relevant|important|meaningful)\s+(?:abnormal\w*|findings?|deviations?)\b|"
    r"\babnormal\w*\s+(?:\w+\s+){0,3}(?:judged|considered|deemed)\s+(?:\w+\s+){0,2}clinically\s+(?:significant|relevant)",
    re.I,
)
# Measurable or evaluable disease: the investigator's radiological assessment (RECIST, Lugano,
# RANO, IWG), which no record codes. The words before it may only be a lead-in ("Patients must
# have at least one"), or a named cancer that the clause parser reads on its own.
_MEASURABLE = re.compile(
    r"\b(?:(?:uni|bi)-?dimensional(?:ly)?\s+(?:or\s+(?:uni|bi)-?dimensional(?:ly)?\s+)?|radiologically\s+|radiographically\s+|radiological\s+)?"
    r"(?:un|non-?)?(?:measur(?:e)?able|evaluable)\s+(?:or\s+(?:non-?)?(?:measur(?:e)?able|evaluable)\s+)?"
    r"(?:\([\w.\s-]{0,35}\)\s+)?(?:(?:target|tumou?r|metastatic|[A-Z]{3,6})\s+){0,2}"
    r"(?:disease|lesions?|metastas[ie]s)\b|\b(?:measur(?:e)?able|evaluable)\s+\(i\.e\.,?\s+target\)\s+lesion",
    re.I,
)
_MEASURABLE_LEAD = re.compile(
    r"^\s*(?:\d{1,2}[.)]\s*)?(?:(?:the\s+)?(?:patients?|subjects?|participants?)\s+(?:(?:must\s+|should\s+)?(?:have|has|had)|with)\s+|"
    r"(?:must\s+)?(?:have|has|had)\s+|presence\s+of\s+|absence\s+of\s+|with\s+|no\s+|"
    r"the\s+investigator\s+confirms\s+|all\s+patients\s+must\s+have\s+|"
    r"according\s+to\s+(?:the\s+)?RECIST[^,;]{0,60},\s*(?:there\s+is\s+|the\s+patient\s+(?:must\s+)?(?:has|have)\s+)?|"
    r"at\s+least\s+(?:one|1)\s+(?:site\s+of\s+|ct\s+scan\s+)?)*$",
    re.I,
)
_RECIST_TITLE = re.compile(r"response\s+evaluation\s+criteria\s+in\s+solid\s+tumou?rs?", re.I)
_MEASURABLE_JOIN = re.compile(r"[\s,]*(?:\bwith\b|\band\b|\bhaving\b)?[\s,]*$", re.I)
# A negative test written next to the marker: "HIV-1 antibody negative", "negative HBsAg test",
# "HBsAg (-)", "negative for HIV"; nothing else may stand between them.
_SEROLOGY_NEGATIVE_AFTER = re.compile(
    r"\s*(?:\([^()]{1,20}\)\s*)?(?:(?:antibody|antigen|serology|test|status|result)s?\s+){0,2}(?:is\s+|was\s+)?(?:(?:negative|seronegative|non-?reactive)\b|\(-\))",
    re.I,
)
# "positive serology for HBsAg, HCV or HIV": a positive result stated once for a list of markers
_SEROLOGY_POSITIVE_BEFORE = re.compile(
    r"\b(?:positive|seropositive|reactive)\s+(?:(?:serology|serologies|test|tests|result|results|screen)\s+)?"
    r"(?:(?:at\s+screening\s+)?(?:for|to)\s+)?(?:[\w-]+(?:\s+[\w-]+){0,4}?\s*(?:,|/|\bor\b|\band(?:/or)?\b)\s*){0,4}$",
    re.I,
)
_NUCLEIC_TEST = re.compile(r"\s*(?:\([^()]{1,20}\)\s*)?(?:rna|dna|viral\s+load|by\s+(?:polymerase|pcr|nucleic))\b", re.I)
_SEROLOGY_NEGATIVE_BEFORE = re.compile(
    r"\b(?:negative|seronegative|non-?reactive)\s+(?:(?:serology|test|result|screen)s?\s+)?(?:(?:for|to)\s+)?$", re.I
)
_AGE_HINT = re.compile(r"\d|adult", re.I)
_AGE_NAMED = re.compile(r"\bage\s*(?:of\s*)?\d{1,3}|\b\d{1,3}\s*(?:years?|yrs?)\s*(?:of\s+age|old)\b", re.I)
# An age at an event, not the person's age now: "onset before the age of 50", "gestational age".
_AGE_AT_EVENT = re.compile(
    r"\b(?:before|after|at|by|until|since|from|prior\s+to|under)\s+(?:the\s+)?age\b|\bonset\b|\bdiagnos\w*\s+(?:at|before|after)\b"
    r"|\bat\s+(?:the\s+)?time\s+of\b|\bgestation\w*|\brelatives?\b|\bwhen\b",
    re.I,
)
_GENDER = re.compile(
    r"^\s*(?:(?:both\s+)?(?P<a>males?|females?|men|women|man|woman|boys|girls)(?:\s*(?:or|and|/|&)\s*(?P<b>males?|females?|men|women|non-pregnant\s+females?))?)"
    r"(?:\s+(?:patients?|subjects?|participants?|volunteers?|adults?|individuals?))?\b",
    re.I,
)


@dataclass(slots=True)
class Sink:
    """What the parsed nodes name that the built-in knowledge may lack."""

    valuesets: dict[str, dict[str, Any]] = field(default_factory=dict)
    analytes: set[str] = field(default_factory=set)
    definitions: dict[str, Node] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Parsed:
    """A clause's node, whether a person must look at it, and the words not understood."""

    node: Node
    applies_when: Node | None = None
    not_applicable: str | None = None


def _span(m: re.Match[str], offset: int = 0) -> tuple[int, int]:
    return (m.start() + offset, m.end() + offset)


def _leftover(text: str, used: list[tuple[int, int]]) -> list[str]:
    words = []
    for m in TOKEN.finditer(text):
        if any(s <= m.start() and m.end() <= e for s, e in used):
            continue
        w = norm_token(m.group())
        if w in FILLER or w.isdigit():
            continue
        words.append(m.group())
    return words


def _manual(text: str, source: tuple[int, int] | None = None, why: str | None = None) -> ManualReview:
    return ManualReview(text=text.strip(), source=source, label=why)


CHILDBEARING = "childbearing_potential"


def childbearing_definition() -> Node:
    """A woman who may become pregnant (female, under 55, no hysterectomy/oophorectomy/menopause)."""
    return AllOf(
        label="a woman who may become pregnant",
        items=(
            Gender(values=("female",)),
            Not(item=Age(min=55)),
            Not(
                item=AnyOf(
                    items=(
                        Condition(valueset="no_childbearing_potential", timing="ever"),
                        Procedure(valueset="no_childbearing_potential"),
                    )
                )
            ),
        ),
    )


class ClauseParser:
    """Turns criterion text into nodes; collects the value sets and analytes they name."""

    def __init__(self, sink: Sink) -> None:
        self.sink = sink
        self.lex = lexicon()

    # --- whole-criterion recognisers ---------------------------------------------------

    def parse(self, text: str, kind: Kind, *, whole: bool = True) -> Parsed:
        found = self.whole(text, kind) if whole else None
        return found or Parsed(self.clause(text, kind, 0))

    def whole(self, text: str, kind: Kind) -> Parsed | None:
        """A recogniser that reads the whole criterion (consent, age, pregnancy ...), if any."""
        for recogniser in self._whole:
            found = recogniser(self, text, kind)
            if found is not None:
                return found
        return None

    def _consent(self, text: str, kind: Kind) -> Parsed | None:
        m = _CONSENT.search(text)
        if not m:
            return None
        rest = _leftover(text, [_span(m)])
        allowed = {"sign", "signed", "date", "dated", "initiating", "specific", "activities", "give", "provide",
                   "able", "willing", "obtain", "obtained", "written", "understand", "voluntarily", "legally",
                   "acceptable", "representative", "guardian", "parent", "prior", "any", "related", "performing",
                   "signing", "capable", "giving", "document", "ability", "personally", "obtaining", "procedures",
                   "given", "their", "his", "her", "voluntary", "participate", "participating", "participation",
                   "trial", "this", "freely", "agree", "agreed", "form", "forms", "signature", "documented",
                   "enrollment", "entry", "screening", "informed", "consent", "assent", "dates",
                   "understood", "comply", "requirements", "adequate", "information", "having", "after", "received",
                   "signs", "icf", "provision", "provided", "approved", "institutional", "review",
                   "board", "irb", "ethics", "committee", "iec", "erb", "accordance", "guidelines", "federal",
                   "local", "regulations", "writing", "fully", "designee", "authorized", "authorised", "surrogate",
                   "caregiver", "caregivers", "enrolling", "indicates", "nature", "investigational", "applicable",
                   "performed", "initiation", "study", "protocol", "required",
                   "willingness", "patient", "patients", "subject", "subjects", "parents", "parental", "legal",
                   "representatives", "family", "member", "according", "gcp", "ich",
                   "permission", "witnessed", "impartial", "witness", "understands", "language"}  # fmt: skip
        if len([w for w in rest if w.lower() not in allowed]) > 2:
            return None
        node: Node = Consent(source=_span(m))
        if _CONSENT_REFUSED.search(text):
            node = Not(item=node, source=(0, len(text)))
        return Parsed(node)

    def _judgement(self, text: str, kind: Kind) -> Parsed | None:
        lowered = text.lower()
        if not (any(k in lowered for k in _JUDGEMENT_GATE) and _JUDGEMENT.search(text)) and not (
            any(k in lowered for k in _JUDGEMENT_KEYS) and _JUDGEMENT_MORE.search(text)
        ):
            return None
        question = text.strip().rstrip(";.").strip()
        return Parsed(Attestation(question=question[:1].upper() + question[1:] + ".", source=(0, len(text))))

    def _recovered(self, text: str, kind: Kind) -> Parsed | None:
        if not _RECOVERED.search(text):
            return None
        q = re.sub(r"^(?:the\s+)?(?:patients?|subjects?)\s+(?:has|have|must\s+have)\s+", "", text.strip().rstrip(";."), flags=re.I)
        return Parsed(Attestation(question=f"The patient has {q}." if not q.lower().startswith("the patient") else q + ".", source=(0, len(text))))

    def _life(self, text: str, kind: Kind) -> Parsed | None:
        m = _LIFE.search(text)
        if not m:
            return None
        a = _LIFE_AMOUNT.search(text, m.end())
        if not a or a.start() - m.end() > 30:
            return None
        allowed = {"expected", "estimated", "survival", "period", "expectancy", "life", "anticipated", "minimum",
                   "opinion", "investigator", "greater", "weeks", "months", "predicted", "live", "survive"}  # fmt: skip
        if [w for w in _leftover(text, [_span(m), _span(a)]) if w.lower() not in allowed]:
            return None
        cmp_ = (a.group("cmp") or "").lower()
        n, unit = a.group("n"), a.group("unit").lower().rstrip("s")
        count = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "eight": 8, "nine": 9, "ten": 10, "twelve": 12}.get(n.lower()) or int(n)
        plural = "" if count == 1 else "s"
        if cmp_.startswith(("≤", "<", "less", "under", "below", "shorter")):
            question = f"The patient's life expectancy is less than {count} {unit}{plural}."
            node: Node = Attestation(question=question, source=(m.start(), a.end()))
            return Parsed(node)
        word = "more than" if cmp_ in (">", "more than", "greater than", "over", "exceeding", "longer than", "beyond") else "at least"
        if cmp_ in ("≥", ">=", ">/=", "≧"):
            word = "at least"
        question = f"The patient's expected survival is {word} {count} {unit}{plural}."
        return Parsed(Attestation(question=question, source=(m.start(), a.end())))

    def _contraception(self, text: str, kind: Kind) -> Parsed | None:
        m = _CONTRACEPTION.search(text)
        if not m or _PREG_TEST.search(text):
            return None
        men = bool(_MEN.search(text))
        women = bool(_WOCBP.search(text) or re.search(r"\b(?:females?|women|woman)\b", text, re.I))
        self.sink.definitions[CHILDBEARING] = childbearing_definition()
        applies: Node | None
        if men and women:
            applies = AnyOf(items=(Gender(values=("male",)), Ref(name=CHILDBEARING)))
            na = "neither a man nor a woman of childbearing potential"
        elif women:
            applies, na = Ref(name=CHILDBEARING), "not of childbearing potential"
        elif men:
            applies, na = Gender(values=("male",)), "not a man"
        else:
            applies, na = None, None
        q = text.strip().rstrip(";.")
        if kind == "exclusion":
            node: Node = Not(item=Attestation(who="patient", question=f"Agrees to the contraception the criterion asks: {q}."), source=(0, len(text)))
        else:
            node = Attestation(who="patient", question=f"{q[:1].upper()}{q[1:]}.", source=(0, len(text)))
        return Parsed(node, applies, na)

    def _pregnancy_test(self, text: str, kind: Kind) -> Parsed | None:
        m = _PREG_TEST.search(text)
        if not m:
            return None
        expect: Literal["positive", "negative"] = "positive" if re.search(r"\bpositive\b", text, re.I) else "negative"
        if not re.search(r"\b(?:negative|positive)\b", text, re.I):
            return None
        allowed = set(_PREG_TEST_WORDS)
        if kind == "exclusion":
            allowed |= _PREG_TEST_EXCLUSION_WORDS  # read below as pregnant or lactating
        if [w for w in _leftover(text, [_span(m)]) if w.lower() not in allowed]:
            return None  # more than the test (contraception, other tests ...): read clause by clause
        self.sink.definitions[CHILDBEARING] = childbearing_definition()
        node: Node = Measurement(analyte="hcg", expect=expect, source=_span(m))
        rest = text[: m.start()] + text[m.end() :]
        if kind == "exclusion" and _PREGNANT.search(rest):
            node = AnyOf(items=(node, self._pregnant_node(text)), source=(0, len(text)))
        return Parsed(node, Ref(name=CHILDBEARING), "not of childbearing potential")

    def _pregnant_node(self, text: str) -> Node:
        items: list[Node] = []
        if re.search(r"\bpregnan", text, re.I):
            items.append(self._condition("pregnancy", "active", None, None))
        if re.search(r"\b(?:breast[\s-]?feeding|lactat\w*|nursing)\b", text, re.I):
            items.append(self._condition("lactation", "active", None, None))
        return items[0] if len(items) == 1 else AnyOf(items=tuple(items))

    def _pregnant(self, text: str, kind: Kind) -> Parsed | None:
        if not _PREGNANT.search(text) or _CONTRACEPTION.search(text):
            return None
        words = _leftover(text, [_span(m) for m in _PREGNANT.finditer(text)])
        allowed = {"planning", "plan", "plans", "intending", "intend", "become", "breastfeed", "lactating",
                   "nursing", "mothers", "intends", "wish", "wishing", "course", "during", "period", "expecting",
                   "actively", "trying", "conceive"}  # fmt: skip
        planning_words = {"father", "child", "children", "projected", "duration", "through", "throughout", "after",
                          "last", "dose", "trial", "starting", "visit", "end", "completion", "months", "weeks", "days",
                          "following", "including", "participation", "conception", "parenting", "donate", "eggs",
                          "ova", "sperm", "within", "woman", "women", "female", "females"}  # fmt: skip
        planning = re.search(r"\b(?:plan\w*|intend\w*|become|trying|wish\w*|conceive|expecting|father)\b", text, re.I)
        wocbp = _WOCBP.search(text)
        used = [_span(m) for m in _PREGNANT.finditer(text)] + ([_span(wocbp)] if wocbp else [])
        words = _leftover(text, used)
        if wocbp:
            allowed |= {"potential", "age", "capacity"}
        if [w for w in words if w.lower() not in allowed and not (planning and w.lower() in planning_words)]:
            return None
        if wocbp and (kind == "inclusion" or not re.search(r"\bor\b|,", text[: wocbp.start()])):
            return None  # "pregnant women of childbearing potential": left to the contraception rules
        node = self._pregnant_node(text)
        if planning:
            question = "The patient plans a pregnancy, to breastfeed or to father a child in the period the criterion names."
            node = AnyOf(items=(node, Attestation(who="patient", question=question)))
        if wocbp:
            # "pregnant, lactating, or of child-bearing potential": any woman who may become pregnant
            self.sink.definitions[CHILDBEARING] = childbearing_definition()
            node = AnyOf(items=(node, Ref(name=CHILDBEARING, source=_span(wocbp))))
        if kind == "inclusion":
            node = Not(item=node, source=(0, len(text)))
        return Parsed(node)

    def _childbearing(self, text: str, kind: Kind) -> Parsed | None:
        """'Women of childbearing potential' alone: the shared definition (female, under 55, ...)."""
        lowered = text.lower()
        if not any(map(lowered.__contains__, ("bearing", "reproductive", "wocbp", "fertile"))):
            return None
        m = _WOCBP.search(text)
        if not m or _CONTRACEPTION.search(text) or _PREG_TEST.search(text) or _PREGNANT.search(text):
            return None
        allowed = {"women", "woman", "female", "females", "girls", "potential", "capacity", "childbearing", "bearing",
                   "child", "age", "fertile", "premenopausal", "pre", "menopausal", "sexually", "mature"}  # fmt: skip
        if [w for w in _leftover(text, [_span(m)]) if w.lower() not in allowed]:
            return None
        age = self._age(text)
        self.sink.definitions[CHILDBEARING] = childbearing_definition()
        node: Node = Ref(name=CHILDBEARING, source=_span(m))
        negated = bool(_NEGATION.search(text[: m.start()]))
        if negated:
            node = Not(item=node, source=(0, len(text)))
        if age is not None:  # "female subjects aged 18 or over and of reproductive age"
            node = AllOf(items=(age[0], node), source=(0, len(text)))
        return Parsed(node)

    def _demographic(self, text: str, kind: Kind) -> Parsed | None:
        """Items that are only about age and/or sex."""
        nodes: list[Node] = []
        used: list[tuple[int, int]] = []
        age = self._age(text)
        if age is not None:
            nodes.append(age[0])
            used.append(age[1])
        g = _GENDER.search(text)
        if g and not _WOCBP.search(text):
            values = set()
            for part in (g.group("a"), g.group("b")):
                if not part:
                    continue
                p = part.lower()
                values.add("female" if p.startswith(("fem", "wom", "girl", "non-preg")) else "male")
            nodes.append(Gender(values=tuple(sorted(values)), source=_span(g)))  # type: ignore[arg-type]
            used.append(_span(g))
        if not nodes:
            return None
        extra = {"inclusive", "healthy", "older", "younger", "time", "signing", "informed", "consent",
                 "giving", "over", "above", "under", "the", "y", "yo", "yrs", "children", "child", "adolescents",
                 "adolescent", "pediatric", "paediatric", "ranging", "range", "inclusion", "gender", "sex",
                 "limitation", "between", "race", "races", "ethnicity", "ethnic", "origin", "both", "genders", "sexes",
                 "limit", "limits", "limited", "unlimited", "restriction", "restrictions", "regardless", "irrespective",
                 "either", "eligible", "birth"}  # fmt: skip
        if [w for w in _leftover(text, used) if w.lower() not in extra]:
            return None
        node = nodes[0] if len(nodes) == 1 else AllOf(items=tuple(nodes), source=(0, len(text)))
        return Parsed(node)

    def _age(self, text: str) -> tuple[Node, tuple[int, int]] | None:
        lowered = text.lower()
        if not any(k in lowered for k in ("age", "year", "yr", "adult")) or not _AGE_HINT.search(text):
            return None  # every age pattern names an age, years or adults (a cheap test first)
        for pattern in _AGE:
            m = pattern.search(text)
            if not m:
                continue
            groups = m.groupdict()
            if groups.get("adult"):
                return Age(min=18, source=_span(m), label="adult (18 or older)"), _span(m)
            if groups.get("lo"):
                lo, hi = int(m.group("lo")), int(m.group("hi"))
                if lo >= hi or hi > 120:
                    continue
                return Age(min=lo, max=hi, source=_span(m)), _span(m)
            n = int(m.group("n"))
            if n > 120:
                continue
            if groups.get("dir"):
                up = m.group("dir").lower() in ("older", "over", "above", "greater", "more")
                return (Age(min=n, source=_span(m)) if up else Age(max=n, source=_span(m))), _span(m)
            c = m.group("cmp").lower()
            c = re.sub(r"\s+", " ", c).replace("> or =", ">=").replace("< or =", "<=").replace("=>", ">=").replace("=<", "<=")
            c = {">/=": ">=", ">_": ">=", "≧": ">=", "</=": "<=", "<_": "<=", "≦": "<="}.get(c, c)
            if c in ("≥", ">=", "at least"):
                return Age(min=n, source=_span(m)), _span(m)
            if c in (">", "over", "above", "older than", "greater than"):
                return Age(min=n, source=_span(m), label=f"older than {n} (read in completed years as {n} or older)"), _span(m)
            if c.startswith("greater than or"):
                return Age(min=n, source=_span(m)), _span(m)
            if c in ("≤", "<="):
                return Age(max=n, source=_span(m)), _span(m)
            return Age(max=n - 1, source=_span(m), label=f"younger than {n}"), _span(m)
        return None

    def _allergy(self, text: str, kind: Kind) -> Parsed | None:
        m = _ALLERGY.search(text)
        if not m:
            return None
        to = _ALLERGY_TO.match(text, m.end())
        if to:
            return self._allergy_to(text, kind, m, to.end())
        if re.search(r"\b(?:to|against)\b", text[m.end():], re.I):
            return None
        named = self._allergy_named_before(text, kind, m)
        if named is not None:
            return named
        allowed = {"severe", "reaction", "reactions", "serious", "life", "threatening", "drug"}
        if [w for w in _leftover(text, [_span(m)]) if w.lower() not in allowed]:
            return None
        severe = bool(re.search(r"\b(?:severe|serious|life[\s-]threatening|anaphyla\w*)\b", text, re.I))
        if not severe:
            return None
        node: Node = AnyOf(
            items=(
                Allergy(criticality=("high",), severity=("severe",), source=_span(m)),
                Condition(valueset="severe_hypersensitivity", timing="ever", source=_span(m)),
            ),
            source=(0, len(text)),
        )
        return Parsed(Not(item=node) if kind == "inclusion" else node)

    def _allergy_to(self, text: str, kind: Kind, m: re.Match[str], start: int) -> Parsed | None:
        """'Known hypersensitivity to rituximab': an allergy whose substance is a known medicine."""
        if _STUDY_PRODUCT.search(text[start:]):
            q = text.strip().rstrip(";.")
            return Parsed(Attestation(who="either", question=q[:1].upper() + q[1:] + ".", source=(0, len(text)),
                                      label="allergy to the study treatment: the record cannot name its ingredients"))
        if re.search(r"\b(?:study|investigational|trial)\b", text, re.I):
            return None
        return self._allergy_node(text, kind, m, self._allergy_substances(text[start:], start))

    def _allergy_named_before(self, text: str, kind: Kind, m: re.Match[str]) -> Parsed | None:
        """'Known levetiracetam allergy', 'latex allergy': the substance named before the word."""
        hits = self._allergy_substances(text[: m.start()], 0)
        if not hits or re.search(r"\b(?:study|investigational|trial)\b", text, re.I):
            return None
        return self._allergy_node(text, kind, m, hits)

    def _allergy_substances(self, text: str, offset: int) -> list[Hit]:
        """Medicines (lexicon and drug dictionary) and other allergens named in `text`."""
        meds = [h for h in self.lex.scan(text, icd=False) if h.entry.category == "medication"]
        others = [h for h in allergen_hits(text) if not any(h.start < x.end and x.start < h.end for x in meds)]
        return [Hit(h.entry, h.start + offset, h.end + offset, h.text, h.short) for h in sorted(meds + others, key=lambda h: h.start)]

    def _allergy_node(self, text: str, kind: Kind, m: re.Match[str], hits: list[Hit]) -> Parsed | None:
        """One allergy per named substance (any of them); negated only when the words say so."""
        if not hits or any(h.short and not h.text.isupper() for h in hits):
            return None
        used = [_span(m)] + [(h.start, h.end) for h in hits]
        used += [_span(x) for x in _ALLERGY.finditer(text)]
        if [w for w in _leftover(text, used) if w.lower() not in _ALLERGY_ALLOWED]:
            return None
        negated = bool(_NEGATION.search(text[: m.start()]))
        if negated == (kind == "exclusion"):
            return None  # "no allergy to X" as an exclusion, or "allergy to X" required: left to a person
        items: list[Node] = []
        for h in hits:
            if h.entry.category == "allergen":
                self.sink.valuesets.setdefault(h.entry.name, allergen_valueset(h.entry))
            else:
                self._medication_valueset(h)
            items.append(
                Allergy(
                    valueset=h.entry.name,
                    criticality=("low", "high", "unable-to-assess"),
                    severity=("mild", "moderate", "severe"),
                    source=(h.start, h.end),
                )
            )
        node: Node = items[0] if len(items) == 1 else AnyOf(items=tuple(items), source=(0, len(text)))
        return Parsed(Not(item=node) if negated else node)

    def _other_study(self, text: str, kind: Kind) -> Parsed | None:
        """Taking part in another trial, or investigational products: facts a person attests."""
        m = _OTHER_STUDY.search(text)
        if not m:
            return None
        allowed = {"currently", "enrolled", "enrollment", "participation", "participating", "participate",
                   "another", "clinical", "trial", "trials", "study", "studies", "investigational", "drug", "drugs",
                   "agent", "agents", "device", "devices", "product", "products", "medicinal", "interventional",
                   "concurrent", "simultaneous", "research", "half", "lives", "life", "whichever", "longer",
                   "dose", "first", "last", "use", "used", "treatment", "received", "receiving", "therapy",
                   "intervention", "involving", "experimental", "unapproved", "other", "any", "planned",
                   "plan", "plans", "intend", "intends", "during", "course", "period", "entry", "randomization",
                   "screening", "visit", "prior", "previous", "before", "within", "since", "current",
                   "participated", "date", "initial", "approximately", "receipt", "still",
                   "exclusion", "into", "entering", "earlier", "performed", "completion", "completed", "days",
                   "weeks", "months", "three", "four", "two", "one", "six", "twelve", "thirty", "administration",
                   "randomisation", "registration", "baseline", "start", "starting", "active", "concurrently",
                   "simultaneously", "unmarketed", "marketed", "registered", "approved", "medical", "ongoing",
                   "modality", "modalities", "biomedical", "protocol", "either", "drug's", "five",
                   "half-lives", "halflives", "shorter", "whatever", "10", "30", "90"}  # fmt: skip
        if [w for w in _leftover(text, [_span(m)]) if w.lower() not in allowed]:
            return None
        q = text.strip().rstrip(";.")
        return Parsed(Attestation(who="either", question=q[:1].upper() + q[1:] + ".", source=(0, len(text))))

    def _logistics(self, text: str, kind: Kind) -> Parsed | None:
        """Study logistics a person states: languages spoken, a scheduled procedure, availability,
        and the ASA physical status an anaesthetist grades.

        Languages and availability are the patient's to say; what is scheduled, the site's.
        """
        asa = ("ASA" in text or "nesthesiolog" in text) and _ASA_CLASS.search(text)
        if not (_LANGUAGE.search(text) or _SCHEDULED.match(text) or _AVAILABLE.search(text) or asa):
            return None
        if any(h.entry.category != "procedure" for h in self.lex.scan(text)):
            return None  # clinical terms too: the clause parser reads them
        q = text.strip().rstrip(";.")
        question = q[:1].upper() + q[1:] + "."
        if _LANGUAGE.search(text) and _LANGUAGE_USE.search(text) and len(q) < 200:
            return Parsed(Attestation(who="patient", question=question, source=(0, len(text)), label="language"))
        if _SCHEDULED.match(text) and len(q) < 200:
            return Parsed(Attestation(who="investigator", question=question, source=(0, len(text)), label="scheduled care"))
        if _AVAILABLE.search(text) and len(q) < 200:
            return Parsed(Attestation(who="patient", question=question, source=(0, len(text)), label="availability"))
        if asa and len(q) < 200:
            # the ASA physical status is an anaesthetist's grade, not a coded result here
            return Parsed(Attestation(who="investigator", question=question, source=(0, len(text)), label="ASA physical status"))
        return None

    def _legal_status(self, text: str, kind: Kind) -> Parsed | None:
        """Health insurance, guardianship, detention: an administrative status the patient states.

        Only when the item names nothing clinical (those words go to the clause parser).
        """
        if not any(map(text.lower().__contains__, _LEGAL_KEYS)):
            return None
        if not _LEGAL_STATUS.search(text) or len(text) > 250:
            return None
        if any(h.entry.category != "procedure" for h in self.lex.scan(text)):
            return None
        q = text.strip().rstrip(";.,")
        return Parsed(Attestation(who="patient", question=q[:1].upper() + q[1:] + ".", source=(0, len(text)), label="legal or insurance status"))

    def _compliance(self, text: str, kind: Kind) -> Parsed | None:
        """Whether the patient can cooperate, communicate and keep to the visits: the patient's or
        the investigator's answer, when the item names nothing clinical."""
        if not any(map(text.lower().__contains__, _COMPLIANCE_KEYS)):
            return None
        if not _COMPLIANCE.search(text) or len(text) > 200:
            return None
        if any(h.entry.category != "procedure" for h in self.lex.scan(text)):
            return None
        q = text.strip().rstrip(";.,")
        return Parsed(Attestation(who="either", question=q[:1].upper() + q[1:] + ".", source=(0, len(text)), label="compliance"))

    def _significant_finding(self, text: str, kind: Kind) -> Parsed | None:
        """'Clinically significant abnormal laboratory values or ECG': which abnormality counts is the
        investigator's call, when no condition, medicine or threshold is named."""
        lowered = text.lower()
        if "clinically" not in lowered and "abnormal" not in lowered:
            return None
        if not _SIGNIFICANT_FINDING.search(text) or len(text) > 200:
            return None
        if any(h.entry.category != "procedure" for h in self.lex.scan(text)):
            return None
        q = text.strip().rstrip(";.,")
        return Parsed(Attestation(who="investigator", question=q[:1].upper() + q[1:] + ".", source=(0, len(text)),
                                  label="clinical significance judged by the investigator"))

    def _measurable(self, text: str, kind: Kind) -> Parsed | None:
        """'Measurable disease per RECIST 1.1': the investigator's radiological assessment, asked in
        the criterion's own words; a named cancer before it stays a condition, beside the question."""
        if "easur" not in text and "valuab" not in text:
            return None
        m = _MEASURABLE.search(text)
        if not m or len(text) > 400:
            return None
        title = _RECIST_TITLE.search(text) if "riteria" in text else None
        clinical = [h for h in self.lex.scan(text) if h.entry.category != "procedure" and not (title and title.start() <= h.start < title.end())]
        q = text.strip().rstrip(";.,；")
        question = Attestation(who="investigator", question=q[:1].upper() + q[1:] + ".", source=(0, len(text)),
                               label="measurable disease (investigator's radiological assessment)")
        if not clinical:
            return Parsed(question) if _MEASURABLE_LEAD.match(text[: m.start()]) else None
        if kind != "inclusion" or any(h.start >= m.end() for h in clinical):
            return None
        # the cancer named before the measurability words ("NSCLC with measurable disease") or inside
        # them ("measurable NSCLC disease") is a condition the clause parser reads
        head = text[: m.start()]
        head = head[: _MEASURABLE_JOIN.search(head).start()]  # type: ignore[union-attr]
        pieces = [(0, head)] if any(h.start < m.start() for h in clinical) else []
        if pieces and not head.strip():
            return None
        if not pieces and not _MEASURABLE_LEAD.match(text[: m.start()]):
            return None
        pieces += [(h.start, text[h.start : h.end]) for h in clinical if h.start >= m.start() and h.entry.category == "condition"]
        if len(pieces) != (1 if any(h.start < m.start() for h in clinical) else 0) + sum(h.start >= m.start() for h in clinical):
            return None  # a medicine or threshold inside the measurability words: not read here
        nodes = [self.clause(piece, kind, start) for start, piece in pieces]
        if any(isinstance(leaf, ManualReview) for n in nodes for leaf in _leaf_nodes(n)):
            return None
        return Parsed(AllOf(items=(*nodes, question), source=(0, len(text))))

    def _willing(self, text: str, kind: Kind) -> Parsed | None:
        """What the patient must be willing or able to do: the patient attests it."""
        if not _WILLING.match(text):
            return None
        q = text.strip().rstrip(";.")
        return Parsed(Attestation(who="patient", question=q[:1].upper() + q[1:] + ".", source=(0, len(text))))

    _whole: tuple[Callable[[ClauseParser, str, Kind], Parsed | None], ...] = (
        _demographic,
        _allergy,
        _consent,
        _pregnancy_test,
        _contraception,
        _pregnant,
        _childbearing,
        _recovered,
        _life,
        _willing,
        _measurable,
        _logistics,
        _legal_status,
        _compliance,
        _significant_finding,
        _other_study,
        _judgement,
    )

    # --- clauses ---------------------------------------------------------------------------

    def clause(self, text: str, kind: Kind, offset: int, *, exceptions: bool = True) -> Node:
        """A clause (no top-level ';'): terms and thresholds, combined by the words between them.

        A threshold with an exception ('< 5 × ULN if liver metastases') is read first, apart.
        """
        if exceptions:
            excepted = read_conditional(self, text, kind)
            if excepted is not None:
                return _shift(excepted, offset)
        hits = _fold_abbreviations(text, self.lex.scan(text))
        dsm = _DSM_TITLE.search(text) if "anual" in text else None
        if dsm:  # "the Diagnostic and Statistical Manual of Mental Disorders": a title, not a disorder
            hits = [h for h in hits if not (dsm.start() <= h.start < dsm.end())]
        hits = _distributed(text, hits, self.lex)
        windows = find_windows(text)
        win = windows[0] if windows else one_unit_window(text)
        if len({w.duration for w in windows}) > 1:
            # "anticoagulants within 7 days or antiplatelets within 21 days": the one window
            # read would be given to every term
            return _manual(text, (offset, offset + len(text)), "more than one time window: each term's own is not read")
        if win and find_frequency(text):
            # "smokes on 25 days of the past 30 days": a count within a period, not a window
            return _manual(text, (offset, offset + len(text)), "not read: a frequency within a period")
        examples = [_span(m) for m in _EXAMPLES.finditer(text)]
        used: list[tuple[int, int]] = []
        found: list[tuple[tuple[int, int], Node]] = []
        waiting: list[Hit] = []  # analytes listed before a shared threshold: "AST/ALT ≤ 3 × ULN"
        # "Carbamazepine, phenytoin, phenobarbital": an exclusion that only names medicines
        # excludes their current use (no tense word is needed)
        bare = kind == "exclusion" and bool(hits) and all(h.entry.category == "medication" for h in hits) and not _NEGATION.search(text) and not [
            w for w in _leftover(text, [(h.start, h.end) for h in hits]) if w.lower() not in ("therapy", "therapies")
        ]
        for hit in hits:
            if any(s <= hit.start < e for s, e in used):
                continue
            if waiting and not _LIST_GAP.fullmatch(text[waiting[-1].end : hit.start]):
                waiting = []
            if hit.short and not hit.text.isupper() and not (
                # "Hb < 9 g/dL", "CCr ≥ 50 mL/min": a capitalised abbreviation followed by its threshold
                hit.entry.category == "measurement" and hit.text[:1].isupper() and measurement_at(text, hit) is not None
            ):
                continue
            if found and re.search(r"\bother\s+(?:\w+\s+){0,3}$", text[max(0, hit.start - 40) : hit.start], re.I):
                continue
            if any(s <= hit.start < e for s, e in examples) and found:
                continue
            node = self._hit_node(text, hit, kind, win, bare)
            if node is None:
                if hit.entry.category == "measurement" and hit.entry.data.get("analyte") and not hit.entry.data.get("pair"):
                    waiting.append(hit)
                continue
            span, n = node
            if isinstance(n, Medication) or (isinstance(n, Uncertain) and isinstance(n.item, Medication)):
                before_m = re.search(r"systemic\s+(?:\w+\s+)?$", text[: span[0]], re.I)
                after_m = re.match(r"\s*(?:therapy|therapies|treatment|use)\b", text[span[1] :], re.I)
                span = (before_m.start() if before_m else span[0], span[1] + (after_m.end() if after_m else 0))
            if waiting and isinstance(n, Measurement):
                shared = [n.model_copy(update={"analyte": w.entry.name, "source": (w.start, w.end)}) for w in waiting]
                for w in waiting:
                    self.sink.analytes.add(w.entry.name)
                gap = text[waiting[0].start : hit.start].lower()
                # "AST and/or ALT ≤ 2.5 × ULN" in an inclusion: each of them must stay under the limit
                either = re.search(r"\bor\b", gap) and not (kind == "inclusion" and re.fullmatch(r"[^o]*\band/or\b[^o]*", gap))
                any_of = either or (kind == "exclusion" and ("/" in gap or ("," in gap and not re.search(r"\band\b", gap))))
                group = (*shared, n)
                span = (waiting[0].start, span[1])
                n = AnyOf(items=group, source=span) if any_of else AllOf(items=group, source=span)
                waiting = []
            if isinstance(n, Measurement) and n.value is not None:
                span, n = _second_threshold(text, hit, span, n)
            found.append((span, n))
            used.append(span)
        if win:
            used.append(win.span)
        if found:
            used.extend(examples)
            # "adequate renal function as evidenced by", "(may be transfused to meet this level)"
            used.extend(read_notes(text, [n for _, n in found], kind))
            used.extend(read_diagnostic_manual(text, [n for _, n in found]))
        if not found:
            return _manual(text, (offset, offset + len(text)), "no computable term recognised")
        cue_spans = [_span(m) for rx in (_HISTORY, _ACTIVE, _DIAGNOSIS, _RELAPSE, _NEGATION, _CURRENT_USE) for m in rx.finditer(text)]
        left = _leftover(text, used + cue_spans)
        duration = _DURATION.search(text) if ("for" in text or "For" in text) else None
        if duration:
            left.append(duration.group().strip())  # "for at least 6 months": a duration the record may not show
        # "patients aged 30-80 with type 2 diabetes": its words are all filler, so the age would
        # be dropped in silence. An inclusion holds only for that age; elsewhere, or an age at
        # some event ("onset before the age of 50"), a person reads it.
        lowered = text.lower()
        named_age = any(w in lowered for w in ("age", "old", "yo", "adult", "year", "yr"))
        age = self._age(text) if named_age and not any(isinstance(n, Age) for _, n in found) else None
        if age is not None and not _is_persons_age(text, age[1]):
            age = None  # "diabetes duration > 12 years": a duration, not an age
        age_node: Node | None = None
        if age is not None:
            if kind == "inclusion" and not _AGE_AT_EVENT.search(text):
                age_node = _shift(age[0], offset)
            else:
                left.append(text[age[1][0] : age[1][1]].strip())
        elif named_age and not any(isinstance(n, Age) for _, n in found):
            named = _AGE_NAMED.search(text)
            if named:  # "before the age of 60 years": an age no pattern reads
                left.append(named.group().strip())
        found = _join_adjacent(text, sorted(found, key=lambda f: f[0][0]))
        defined = _DEFINED.search(text) if "defined" in text else None
        if defined and _short_label(text[: defined.start()]) and any(s >= defined.end() and _is_measure(n) for (s, _), n in found):
            # "Anaemia, defined as Hb < 9 g/dL": the threshold is the definition, the name only its label
            found = [(sp, n) for sp, n in found if sp[0] >= defined.end()]
            used.append((0, defined.end()))
            left = _leftover(text, used + cue_spans)
        nodes = [n for _, n in found]
        if len(nodes) == 1:
            combined = nodes[0]
        else:
            joined = self._connector(text, [s for s, _ in sorted(found, key=lambda f: f[0][0])], kind, nodes)
            combined = joined
        broad = _BROADEN.search(text)
        head = self._unread_head(text, [s for s, _ in found], examples, used + cue_spans)
        left = left + [w for w in head if w not in left]
        if sum(w.lower() not in NARROWING for w in left) > 6:
            return _manual(text, (offset, offset + len(text)), "recognised terms, but too many words unread: " + " ".join(left[:8]))
        if broad and kind == "exclusion" and (left or broad.group().lower().startswith("etc")) and not head:
            combined = AnyOf(items=(combined, _manual(text[broad.start():].strip(" ,;.()"), (offset + broad.start(), offset + len(text)))))
        elif left:
            trailing = self._trailing_alternative(text, [s for s, _ in found], kind, used + cue_spans)
            trailing += self._leading_alternative(text, [s for s, _ in found], kind, used + cue_spans)
            trailing += head
            if isinstance(combined, AnyOf):
                # "cardiac, digestive, hematological disease": an unread member of the list is one
                # more alternative, and without it "false" would be wrong
                trailing += [w for w in self._interior_alternative(text, [s for s, _ in found], used + cue_spans) if w not in trailing]
            if kind == "inclusion" and _CONDITIONAL.search(text) and not trailing:
                trailing = [w for w in left if _CONDITIONAL.fullmatch(w)] or ["(condition)"]
            inner = [w for w in left if w not in trailing]
            if inner:
                combined = Uncertain(item=combined, reason="confirm: " + " ".join(inner))
            if trailing:
                # "hepatitis B or C": what follows the last term as another alternative may widen
                # the criterion, so a person reads it; the recognised part still decides "true"
                combined = AnyOf(items=(combined, _manual(text, (0, len(text)), "not read: " + " ".join(trailing))))
        if _FAMILY.search(text) and any(isinstance(n, Condition) or (isinstance(n, (Not, Uncertain)) and isinstance(n.item, Condition)) for n in nodes):
            # a relative's disease is not in the patient's record: a person reads it
            combined = AnyOf(items=(combined, _manual(text, (0, len(text)), "not read: family history")))
        elif (
            kind == "inclusion"
            and len(nodes) > 1
            and any(_is_measure(n) for n in nodes)
            and any(isinstance(n, Condition) for n in nodes)
            and not (isinstance(combined, AllOf) and _disease_with_threshold(text, found))
        ):
            # "ALT ≤ 2.5 × ULN, ≤ 5 × ULN with liver metastases": a condition beside a threshold of
            # an inclusion usually states when another threshold applies
            combined = AnyOf(items=(combined, _manual(text, (0, len(text)), "not read: a condition beside the thresholds")))
        combined = _shift(combined, offset)
        if age_node is not None:
            combined = AllOf(items=(age_node, combined), source=(offset, offset + len(text)))
        return combined

    @staticmethod
    def _interior_alternative(text: str, spans: list[tuple[int, int]], used: list[tuple[int, int]]) -> list[str]:
        """Unread words listed between two recognised terms ('cardiac, digestive, hematological disease')."""
        words: list[str] = []
        ordered = sorted(spans)
        for (_, end), (start, _) in zip(ordered, ordered[1:], strict=False):
            gap = text[end:start]
            if not (_LIST_OPEN.match(gap) and _LIST_SEPARATOR.search(gap)):
                continue
            inside = _leftover(gap, [(s - end, e - end) for s, e in used if end <= s and e <= start])
            words += [w for w in inside if w.lower() not in NARROWING]
        return words

    @staticmethod
    def _leading_alternative(text: str, spans: list[tuple[int, int]], kind: Kind, used: list[tuple[int, int]]) -> list[str]:
        """'medical/psychiatric condition', 'liver and renal dysfunction' (an exclusion): unread words
        joined to the first term as another alternative."""
        if not spans:
            return []
        first = min(s for s, _ in spans)
        head = text[:first]
        joined = r"(?:,|/|\bor\b|\band/or\b" + (r"|\band\b|&" if kind == "exclusion" else "") + r")\s*$"
        if not re.search(joined, head, re.I):
            return []
        words = [w for w in _leftover(head, [(s, e) for s, e in used if e <= first]) if w.lower() not in NARROWING]
        return [] if all(w.lower() in _PAIRED_QUALIFIERS for w in words) else words

    @staticmethod
    def _unread_head(text: str, spans: list[tuple[int, int]], examples: list[tuple[int, int]], used: list[tuple[int, int]]) -> list[str]:
        """'Chronic diseases, e.g. cerebral palsy': terms that are only examples of an unread head
        decide 'true', never 'false', so the head goes to a person."""
        if not spans:
            return []
        first = min(s for s, _ in spans)
        if examples and all(any(a <= s < b for a, b in examples) for s, _ in spans):
            cue_start = min(a for a, _ in examples)
        else:
            lowered = text.lower()
            cue = _EXAMPLE_CUE.search(text) if ("e" in lowered and any(map(lowered.__contains__, _EXAMPLE_KEYS))) else None
            if not cue or cue.start() > first:
                return []
            cue_start = cue.start()
        head_used = [(s, e) for s, e in used if e <= cue_start]
        generic = {"disease", "diseases", "disorder", "disorders", "condition", "conditions", "illness", "illnesses",
                   "syndrome", "drugs", "drug", "medications", "medication", "medicines", "agents", "therapy",
                   "treatment", "treatments", "procedures", "surgery", "infections"}  # fmt: skip
        words = _leftover(text[:cue_start], head_used)
        for m in TOKEN.finditer(text[:cue_start]):
            if m.group().lower() in generic and not any(s <= m.start() < e for s, e in head_used):
                words.append(m.group())
        return words

    @staticmethod
    def _trailing_alternative(text: str, spans: list[tuple[int, int]], kind: Kind, used: list[tuple[int, int]]) -> list[str]:
        """Unread words after the last recognised term, joined to it as an alternative."""
        if not spans:
            return []
        last = max(e for _, e in spans)
        tail = text[last:]
        joined = r"\s*(?:,|;|/|\bor\b|\band/or\b" + (r"|\band\b" if kind == "exclusion" else "") + r")"
        m = re.match(r"(?:\s*\([^()]*\))?" + joined, tail, re.I)
        if not m:
            return []
        return _leftover(tail, [(s - last, e - last) for s, e in used if s >= last])

    def _connector(self, text: str, spans: list[tuple[int, int]], kind: Kind, nodes: list[Node]) -> Node:
        between = " ".join(text[spans[i][1] : spans[i + 1][0]] for i in range(len(spans) - 1)).lower()
        if all(isinstance(n, Not) for n in nodes):
            # "no A or B", "do not take A, B or C": none of them (De Morgan), never "one is absent"
            return Not(item=AnyOf(items=tuple(n.item for n in nodes if isinstance(n, Not))))
        all_measure = all(_is_measure(n) for n in nodes)
        if re.search(r"\bor\b|/", between) and not (all_measure and re.search(r"\band\b|;|,", between) and not re.search(r"\bor\b", between)):
            return AnyOf(items=tuple(nodes))
        if all_measure or kind == "inclusion":
            return AllOf(items=tuple(nodes))
        return AnyOf(items=tuple(nodes))  # exclusion lists: any of them excludes

    def _hit_node(self, text: str, hit: Hit, kind: Kind, win: Window | None, bare: bool = False) -> tuple[tuple[int, int], Node] | None:
        cat = hit.entry.category
        before = text[max(0, hit.start - 60) : hit.start]
        if cat == "measurement":
            found = measurement_at(text, hit)
            if found is None:
                return None
            if hit.entry.data.get("pair"):
                self.sink.analytes.update(hit.entry.data["pair"])
            elif hit.entry.data.get("analyte"):
                self.sink.analytes.add(hit.entry.name)
            if hit.entry.name in ("karnofsky", "lansky"):
                self.sink.analytes.add("ecog")
            return found.span, found.node
        window = win.duration if win else None
        if _DOUBLE_NEGATIVE.search(before):
            return None  # "not negative for HIV": a double negative is left to a person
        negated = bool(_NEGATION.search(before)) and not re.search(r"\bnot\s+(?:be\s+)?(?:less|more)\b", before, re.I)
        if "non" in before.lower() and _NON_USER.search(before):
            return None  # "non-users of opioids": never their use; a person reads it
        if _NON_PREFIX.search(before):
            if not _non_state(text, hit):
                return None  # "non-opioid analgesics", "non-STEMI": something else, neither the term nor its absence
            negated = True  # "non-smokers", "non-diabetic subjects": the person's state is absent
        node: Node
        if cat == "condition":
            if text[hit.end : hit.end + 12].lstrip(" -").lower().startswith(("vaccin", "immuni")):
                return None  # "zoster vaccine", "hepatitis B vaccination": a vaccine, not the disease
            node = self._condition_hit(text, hit, kind, before, win)
        elif cat == "procedure":
            if _PLANNED.search(text[max(0, hit.start - 90) : hit.start]) or _FUTURE.search(before):
                return None  # "scheduled for / undergoing kidney transplantation": not yet a record
            if win and win.at_least and _RECEIPT_REQUIRED.search(text[: hit.start]):
                # "must have undergone X at least 3 months before": the model has no "done before"
                node = Uncertain(item=self._procedure(hit, None), reason=f"confirm: {_span_text(text, win.span)}")
            else:
                node = self._procedure(hit, window)
                if win and win.at_least:
                    node = Not(item=node)  # "at least 4 weeks since surgery": none inside the window
        elif cat == "serology":
            after = text[hit.end : hit.end + 60]
            marker = r"\b(?:positive|seropositive|reactive|(?:co-?)?infection|(?:co-?)?infected|carriers?)\b"
            if "onor" in text and re.search(r"\bdonors?\b", text, re.I):
                return None  # a donor's serology is not the patient's
            neg_after = _SEROLOGY_NEGATIVE_AFTER.match(after)
            # a positive result stated once before a list: exclusions only ("positive ... are ineligible"
            # written as an inclusion is left to a person)
            listed = bool(re.search(r"\b(?:positive|seropositive|reactive)\s*$", before, re.I)) or (
                kind == "exclusion" and "egative" not in text and bool(_SEROLOGY_POSITIVE_BEFORE.search(before))
            )
            if neg_after or not (re.search(marker, after, re.I) or listed):
                neg_before = None if neg_after else _SEROLOGY_NEGATIVE_BEFORE.search(before)
                if not (neg_after or neg_before) or _NUCLEIC_TEST.match(after):
                    return None  # "negative for HCV by PCR": an RNA test, not the antibody
                if _NEGATION.search(before[: len(before) - len(neg_before.group())] if neg_before else before):
                    return None  # "not negative for HIV": a double negative is left to a person
                # "HIV-1 antibody negative", "negative HBsAg test": the test's negative result
                self.sink.analytes.add(hit.entry.data["analyte"])
                span = (hit.start, hit.end + neg_after.end()) if neg_after else (hit.start - len(neg_before.group()) if neg_before else hit.start, hit.end)
                return span, Measurement(analyte=hit.entry.data["analyte"], expect="negative", source=span)
            data = hit.entry.data
            self.sink.analytes.add(data["analyte"])
            src = (hit.start, hit.end)
            node = AnyOf(
                items=(
                    Condition(valueset=data["condition"], timing=data["timing"], source=src),
                    Measurement(analyte=data["analyte"], expect="positive", source=src),
                ),
                source=src,
            )
        elif cat == "immunization":
            node = Immunization(valueset="live_vaccine", window=window, source=(hit.start, hit.end))
        elif cat == "medication":
            med = self._medication(text, hit, before, win, bare)
            if med is None:
                return None
            node = med
        else:
            return None
        if negated:
            node = Not(item=node)
        return (hit.start, hit.end), node

    def _condition_hit(self, text: str, hit: Hit, kind: Kind, before: str, win: Window | None) -> Node:
        data = hit.entry.data
        window = win.duration if win else None
        name = hit.entry.name
        phase = None
        timing: ConditionTiming
        if _HISTORY.search(before) or re.search(r"\bhistory\b", text[: hit.start], re.I):
            timing = "ever"
        elif _DIAGNOSIS.search(before):
            timing = "present" if kind == "inclusion" else "ever"
        elif _ACTIVE.search(before):
            timing = "active"
        else:
            timing = "present" if kind == "inclusion" else "active"
        vs = self._condition_valueset(name, data)
        if vs == "aml" and _RELAPSE.search(text):
            phase, timing = "relapsed", "present"
        acute = bool(data.get("acute")) or name in ("acute_mi", "stroke", "tia", "dvt_pe")
        if win and win.at_least and not (acute and _since_event(text, win, hit)):
            # "diagnosis of type 2 diabetes at least 180 days before": an onset before the window,
            # which the model cannot say; the disease on record is needed, its date a person checks
            return Uncertain(
                item=Condition(valueset=vs, timing="ever", phase=phase, source=(hit.start, hit.end)),  # type: ignore[arg-type]
                reason=f"confirm: {_span_text(text, win.span)}",
            )
        if window:
            timing = "onset_within" if acute else "active_or_within"
        node: Node = Condition(valueset=vs, timing=timing, window=window, phase=phase, source=(hit.start, hit.end))  # type: ignore[arg-type]
        if win and win.at_least:
            node = Not(item=node)  # "at least 6 months since myocardial infarction": no onset inside the window
        if _UNCONTROLLED.search(before):
            node = Uncertain(item=Condition(valueset=vs, timing="active", source=(hit.start, hit.end)), reason="confirm the disease is uncontrolled")
        elif qualifier := _unsaid_qualifier(text, hit.start):
            node = Uncertain(item=node, reason=f"confirm: {qualifier}")  # "untreated", "chronic": the record cannot say
        return node

    def _condition(self, name: str, timing: ConditionTiming, window: str | None, source: tuple[int, int] | None) -> Condition:
        entry = self.lex.entries[("condition", name)]
        return Condition(valueset=self._condition_valueset(name, entry.data), timing=timing, window=window, source=source)

    def _condition_valueset(self, name: str, data: dict[str, Any]) -> str:
        if name.startswith("icd10:"):
            code = name.split(":", 1)[1]
            vs = "icd10_" + code.replace(".", "_").lower()
            self.sink.valuesets.setdefault(vs, _icd_valueset(icd_description(code), [code]))
            return vs
        codes = data.get("codes")
        if codes:
            self.sink.valuesets.setdefault(name, _icd_valueset(data["terms"][0], codes))
        return name

    def _procedure(self, hit: Hit, window: str | None) -> Node:
        data = hit.entry.data
        src = (hit.start, hit.end)
        if data.get("category"):
            exclude = "minor_procedure" if hit.entry.name == "major_surgery" else None
            return Procedure(category="surgical_procedure_category", exclude=exclude, window=window, source=src, label=hit.text)
        name = hit.entry.name
        if data.get("cpt") or data.get("snomed"):
            include = []
            cpt = [str(c) for c in data.get("cpt", [])]
            if cpt:
                include.append({"system": "cpt", **_codes_or_ranges(cpt)})
            if data.get("snomed"):
                include.append({"system": "snomed", "codes": [str(c) for c in data["snomed"]]})
            self.sink.valuesets.setdefault(name, {"title": data["terms"][0], "include": include})
        node: Node = Procedure(valueset=name, window=window, source=src)
        if name == "solid_organ_transplant":
            node = AnyOf(items=(Condition(valueset=name, timing="ever", source=src), node), source=src)
        elif data.get("status") and window is None:
            # the state the procedure leaves (transplant status, acquired absence) is coded too;
            # it carries no date of the procedure, so only an unwindowed criterion reads it
            status = f"{name}_status"
            self.sink.valuesets.setdefault(status, _icd_valueset(f"{data['terms'][0]} (status)", [str(c) for c in data["status"]]))
            node = AnyOf(items=(Condition(valueset=status, timing="ever", source=src), node), source=src)
        return node

    def _medication_valueset(self, hit: Hit) -> None:
        data = hit.entry.data
        name = hit.entry.name
        if data.get("atc") or data.get("text"):
            include = [{"system": "atc", "codes": [str(c) for c in data.get("atc", [])]}] if data.get("atc") else []
            vs: dict[str, Any] = {"title": data["terms"][0], "include": include}
            if data.get("text"):
                vs["text"] = list(data["text"])
            self.sink.valuesets.setdefault(name, vs)

    def _medication(self, text: str, hit: Hit, before: str, win: Window | None, bare: bool = False) -> Node | None:
        if _FUTURE.search(before):
            return None  # "anticipated need for anticoagulation": not yet in the record
        name = hit.entry.name
        self._medication_valueset(hit)
        src = (hit.start, hit.end)
        current = _CURRENT_USE.search(before) or _CURRENT_USE.search(text[hit.end : hit.end + 25])
        past = _PAST_USE.search(before) or win is not None
        if past:
            # Any use inside the window (an ongoing one included), else any use ever; "at least
            # 4 weeks since the last chemotherapy" is no use inside the 4 weeks.
            if win is None:
                return Medication(valueset=name, timing="ever", source=src)
            if win.at_least and _RECEIPT_REQUIRED.search(text[: hit.start]):
                # "must have received at least 2 cycles ... more than 6 months before": a use
                # before the window is required, which the model cannot say; a person checks the date
                return Uncertain(item=Medication(valueset=name, timing="ever", source=src), reason=f"confirm: {_span_text(text, win.span)}")
            node: Node = Medication(valueset=name, window=win.duration, source=src)
            return Not(item=node) if win.at_least else node
        if not current and not bare:
            return None
        node = Medication(valueset=name, source=src)
        if name in ("antimicrobial", "antibiotic", "antifungal", "antiviral") and re.search(r"\bfor\s+(?:management|treatment)\b|\btreat", text, re.I):
            node = Uncertain(item=Medication(valueset=name, unless_reason="prophylaxis", source=src), reason="confirm prophylaxis or treatment")
        return node


_NON_PREFIX = re.compile(r"\bnon[\s-]?$", re.I)
# A treatment the criterion requires to have happened (not a washout since the last one).
_RECEIPT_REQUIRED = re.compile(
    r"\b(?:must\s+have\s+(?:had|received|undergone|completed|been\s+(?:treated|diagnosed))|diagnos\w*"
    r"|at\s+least\s+(?:\d+|one|two|three|four|five|six)\s+(?:cycles?|courses?|doses?|lines?|regimens?))\b",
    re.I,
)
_SINCE_TAIL = re.compile(r"(?:since|from|after)\s*$", re.I)


_UNSAID = re.compile(r"\b(?:untreated|chronic)\b", re.I)
_ACUTE_OR_CHRONIC = re.compile(r"\bacute\s*(?:,|/|or|and|and/or)\s*chronic\b|\bchronic\s*(?:,|/|or|and|and/or)\s*acute\b", re.I)
_WORDS_BEFORE = re.compile(r"(?:[A-Za-z][\w-]*[\s,]+){0,2}$")


def _unsaid_qualifier(text: str, start: int) -> str | None:
    """'untreated' or 'chronic' before a condition (or before the list it ends), which narrows it in a
    way no computable timing says; 'acute or chronic' narrows nothing."""
    prefix = text[max(0, start - 80) : start]
    if "hronic" not in prefix and "ntreated" not in prefix:
        return None  # a cheap test before the regexes
    listed = _listed_before(prefix)
    head = prefix[: len(prefix) - len(listed)]
    near = head[_WORDS_BEFORE.search(head).start() :] + listed  # type: ignore[union-attr]
    if _ACUTE_OR_CHRONIC.search(text, max(0, start - 80), start + 8):  # "chronic or acute hepatitis B": both
        return None
    found = _UNSAID.search(near)
    return found.group().lower() if found else None


_NON_USER = re.compile(r"\bnon[\s-]?(?:users?|consumers?|drinkers?)\s+of\b[^.;]*$", re.I)
# States of the person that "non-" negates ("non-smokers", "non-pregnant"); before any other
# term "non-" names something else ("non-STEMI", "non-opioid analgesics").
_NON_STATE = re.compile(
    r"(?:smok\w*|pregnant|lactating|nursing|breast[\s-]?feeding|diabetics?|hypertensives?|obese|drinkers?|users?)"
    r"(?:\s+(?:women|woman|females?|mothers?|subjects?|patients?|persons?|individuals?))?$",
    re.I,
)
_PERSON_OR_LINK = frozenset(
    ["subjects", "subject", "patients", "patient", "women", "woman", "men", "man", "females", "female", "males",
     "male", "participants", "participant", "volunteers", "volunteer", "individuals", "individual", "adults", "adult",
     "persons", "person", "people", "children", "controls", "control", "healthy", "or", "and", "for", "of", "with",
     "without", "at", "in", "within", "who", "during", "since", "as", "by", "status", "state"]
)  # fmt: skip
_NEXT_WORD = re.compile(r"\s*([A-Za-z][\w-]*)")


def _non_state(text: str, hit: Hit) -> bool:
    """'non-<state>' of the person itself, not 'non-<term>' qualifying a noun ('non-diabetic nephropathy')."""
    if not _NON_STATE.search(hit.text):
        return False
    following = _NEXT_WORD.match(text, hit.end)
    return following is None or following.group(1).lower() in _PERSON_OR_LINK


def _span_text(text: str, span: tuple[int, int]) -> str:
    return text[span[0] : span[1]].strip()


def _since_event(text: str, win: Window, hit: Hit) -> bool:
    """'at least 6 months since/from/after <the event>': the window counts back from the event named after it."""
    return win.span[1] <= hit.start and bool(_SINCE_TAIL.search(text[win.span[0] : win.span[1]]))
# Key words one of which every wording of a recogniser holds (a cheap test before its regex).
_COMPLIANCE_KEYS = ("compl", "cooperat", "communicat", "attend", "return", "come back", "follow", "adher", "inaccessible")
_LEGAL_KEYS = ("secur", "insur", "guardian", "protection", "curator", "tutor", "prison", "inmate", "incarcer",
               "deprived", "freedom", "correctional", "judicial", "administrative")  # fmt: skip
_WORD = re.compile(r"[A-Za-z][A-Za-z-]*")
_LIST_SEPARATOR = re.compile(r"\s*(?:,|/|&|\bor\b|\band/or\b|\band\b)\s*$", re.I)
_LIST_OPEN = re.compile(r"\s*(?:,|/|&|\bor\b|\band/or\b|\band\b)", re.I)
_LAST_WORD = re.compile(r"[A-Za-z][A-Za-z-]*$")


def _listed_before(prefix: str) -> str:
    """The words listed right before a term ('hepatic or ' of 'hepatic or renal disease'), read
    backwards one separator and word at a time (a regex anchored at the end would rescan)."""
    end = len(prefix)
    start = end
    while True:
        sep = _LIST_SEPARATOR.search(prefix, 0, start)
        if not sep:
            break
        word = _LAST_WORD.search(prefix, 0, sep.start())
        if not word:
            break
        start = word.start()
    return prefix[start:end]


def _distributed(text: str, hits: list[Hit], lex: Any) -> list[Hit]:
    """'hepatic or renal disease', 'gastric/duodenal ulcer': words listed before a condition term
    share its head noun; each word with that head is looked up as a term of its own."""
    extra: list[Hit] = []
    for hit in hits:
        if hit.entry.category != "condition":
            continue
        tail = text[max(0, hit.start - 12) : hit.start].lower()
        if not ("," in tail or "/" in tail or " or " in tail or " and " in tail or "&" in tail):
            continue  # a cheap test before the regex: the listed word ends right before the term
        key = key_of(hit.text)
        if len(key) < 2:
            continue
        prefix = text[max(0, hit.start - 80) : hit.start]
        listed = _listed_before(prefix)
        if not listed:
            continue
        base = hit.start - len(listed)
        for w in _WORD.finditer(listed):
            word = w.group()
            if word.lower() in ("or", "and", "and/or"):
                continue
            start = base + w.start()
            if any(h.start <= start < h.end for h in hits):
                continue
            new_key = (folded(word), *key[1:])
            entries = lex.index.get(new_key)
            if not entries:
                code = icd_terms().get(new_key)
                entries = [Entry("condition", f"icd10:{code}", {"codes": [code]})] if code else []
            for entry in entries:
                if entry.category == "condition":
                    extra.append(Hit(entry, start, start + len(word), word, len(word) <= 3))
                    break
    return sorted(hits + extra, key=lambda h: h.start) if extra else hits


_THEN = re.compile(r"\s*,?\s*(?:or|and)\s*(?=[<>≤≥]|less|more|greater|lower|higher|below|above|under|over)", re.I)


def _second_threshold(text: str, hit: Hit, span: tuple[int, int], first: Measurement) -> tuple[tuple[int, int], Node]:
    """'BMI < 18.5 kg/m2 or > 25 kg/m2': a second threshold of the same analyte. Opposite bounds
    with the lower below the upper are a range (both); the other way round, outside it (either)."""
    then = _THEN.match(text, span[1])
    if not then:
        return span, first
    found = measurement_at(text, Hit(hit.entry, span[0], then.end(), text[span[0] : then.end()], False))
    second = found.node if found else None
    if not isinstance(second, Measurement) or second.value is None or first.value is None or second.unit != first.unit:
        return span, first
    up = {">": True, ">=": True, "<": False, "<=": False}
    if first.op not in up or second.op not in up or up[first.op] == up[second.op]:
        return span, first
    low, high = (first, second) if up[first.op] else (second, first)
    assert low.value is not None and high.value is not None
    whole = (span[0], found.span[1]) if found else span
    if low.value < high.value:
        return whole, AllOf(items=(first, second), source=whole)  # between the two
    return whole, AnyOf(items=(first, second), source=whole)  # below the one or above the other


def _fold_abbreviations(text: str, hits: list[Hit]) -> list[Hit]:
    """'alanine aminotransferase (ALT)': the abbreviation in brackets is the same term."""
    out: list[Hit] = []
    for hit in hits:
        if out and hit.entry == out[-1].entry and hit.start > out[-1].start:
            prev = out[-1]
            close = re.match(r"\s*\)", text[hit.end :])
            if re.fullmatch(r"\s*\(\s*", text[prev.end : hit.start]) and close:
                end = hit.end + close.end()
                out[-1] = Hit(prev.entry, prev.start, end, text[prev.start : end], prev.short)
                continue
        out.append(hit)
    return out


def _join_adjacent(text: str, found: list[tuple[tuple[int, int], Node]]) -> list[tuple[tuple[int, int], Node]]:
    """'NYHA class II or greater heart failure': a scale right before a condition qualifies it."""
    out: list[tuple[tuple[int, int], Node]] = []
    for span, node in found:
        if out:
            (ps, pe), prev = out[-1]
            gap = text[pe : span[0]]
            if len(gap) <= 3 and not re.search(r"[,;/]|\bor\b", gap) and (
                isinstance(prev, Measurement) and isinstance(node, Condition)
            ):
                out[-1] = ((ps, span[1]), AllOf(items=(node, prev), source=(ps, span[1])))
                continue
        out.append((span, node))
    return out


_WITH = re.compile(r"\s*,?\s*with\s+(?:an?\s+|the\s+)?", re.I)
_EXCEPTION_CUE = re.compile(r"\b(?:if|when|unless|except|provided|patients|subjects|participants|presence|case)\b", re.I)


def _disease_with_threshold(text: str, found: list[tuple[tuple[int, int], Node]]) -> bool:
    """'Type 2 diabetes mellitus with HbA1c > 7.5 %': one disease first, then 'with' and its
    thresholds, which all hold (no second threshold for some patients, no cue of an exception)."""
    ordered = sorted(found, key=lambda f: f[0][0])
    (_, first_end), first = ordered[0]
    rest = ordered[1:]
    if not isinstance(first, Condition) or not rest or not all(_is_measure(n) for _, n in rest):
        return False
    if _EXCEPTION_CUE.search(text) or _THEN_OR.search(text[first_end:]):
        return False
    return bool(_WITH.fullmatch(text[first_end : rest[0][0][0]]))


_THEN_OR = re.compile(r"\bor\b", re.I)


def _short_label(head: str) -> bool:
    """'Anaemia, defined as …': a name of a few words before the definition (a longer head,
    'surgically sterilized (…) at least 6 months before, or be postmenopausal (defined as …)',
    says more than the label, so it is not dropped)."""
    words = [w.lower() for w in TOKEN.findall(head)]
    return len(words) <= 8 and not any(w in ("without", "unless", "except") for w in words)


def _is_measure(node: Node) -> bool:
    if isinstance(node, Measurement):
        return True
    if isinstance(node, (AnyOf, AllOf)):
        return all(_is_measure(i) for i in node.items)
    from trialscreen.criteria.nodes import Derived

    return isinstance(node, Derived)


def _codes_or_ranges(codes: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for c in codes:
        out.setdefault("ranges" if "-" in c else "codes", []).append(c)
    return out


def _icd_valueset(title: str, codes: list[str]) -> dict[str, Any]:
    return {"title": title, "include": [{"system": "icd10cm", **_codes_or_ranges([str(c) for c in codes])}]}


_PERSON_BEFORE = re.compile(
    r"\b(?:women|woman|men|man|males?|females?|patients?|subjects?|participants?|children|child|adults?|volunteers?|"
    r"adolescents?|persons?|people|individuals?|girls?|boys?|neonates|infants?)\s*[(,]?\s*(?:aged?\s*)?$",
    re.I,
)


def _is_persons_age(text: str, span: tuple[int, int]) -> bool:
    """Does the matched age name the person's age ("aged 30-80", "18 years old", "women 18-65 years")?"""
    words = text[span[0] : span[1]]
    if re.search(r"\bages?d?\b|\bold\b|\byo\b|\badults?\b", words, re.I):
        return True
    return bool(_PERSON_BEFORE.search(text[max(0, span[0] - 40) : span[0]]))


def _shift(node: Node, offset: int) -> Node:
    """Move every source span by `offset` (clause positions to criterion positions)."""
    if offset == 0:
        return node
    updates: dict[str, Any] = {}
    if node.source is not None:
        updates["source"] = (node.source[0] + offset, node.source[1] + offset)
    if isinstance(node, (AllOf, AnyOf)):
        updates["items"] = tuple(_shift(i, offset) for i in node.items)
    elif isinstance(node, (Not, Uncertain)):
        updates["item"] = _shift(node.item, offset)
    return node.model_copy(update=updates)


__all__ = ["Allergy", "ClauseParser", "Parsed", "Sink", "childbearing_definition"]


def _leaf_nodes(node: Node) -> list[Node]:
    """The leaves of a node (its combinators opened)."""
    if isinstance(node, (AllOf, AnyOf)):
        return [leaf for item in node.items for leaf in _leaf_nodes(item)]
    if isinstance(node, (Not, Uncertain)):
        return _leaf_nodes(node.item)
    return [node]
