"""Generate a trial's pre-screening questionnaire from its criteria tree.

Driven only by node kinds and the knowledge names they hold: one question per distinct fact
(the same analyte or value set asked once), plain words from `wording.yaml`, units people
know. Skip logic follows the tree: a question is shown only while its answer can still
change the result (a pregnancy test only if the person may be a woman of childbearing
potential; creatinine clearance only while creatinine is not answered within limits).
Criteria no patient can answer (consent at the site, the investigators' judgement) are
listed as site checks instead of being asked.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import replace

from trialscreen.criteria import (
    Age,
    Allergy,
    AllOf,
    AnyOf,
    Attestation,
    Condition,
    CriteriaSet,
    Criterion,
    Derived,
    Gender,
    Immunization,
    Measurement,
    Medication,
    Node,
    Not,
    Procedure,
    Ref,
    Uncertain,
)
from trialscreen.criteria.duration import words as duration_words
from trialscreen.knowledge import Analyte, Knowledge, knowledge
from trialscreen.questionnaire.model import (
    ALWAYS,
    NO,
    SECTION_ORDER,
    UNKNOWN,
    YES,
    EnableWhen,
    Guard,
    Option,
    Quantity,
    Question,
    Questionnaire,
)
from trialscreen.questionnaire.wording import Wordings, wordings

DONT_KNOW = Option(UNKNOWN, "I don't know")
YES_NO = (Option(YES, "Yes"), Option(NO, "No"), DONT_KNOW)
SEXES = ("female", "male", "other")
PHASE_OPTIONS = (
    Option("relapsed", "Yes, and it has come back after treatment (relapsed)"),
    Option("refractory", "Yes, and it has not responded to treatment (refractory)"),
    Option("remission", "Yes, and it is in remission now"),
    Option(NO, "No"),
    DONT_KNOW,
)
_NEGATE = {"<": ">=", "<=": ">", ">": "<=", ">=": "<"}


def combine(*guards: Guard) -> Guard:
    """Both guards must hold. FHIR cannot nest all/any, so an `any` guard that cannot be
    joined is dropped: the question is then shown more often, never less."""
    conds: list[EnableWhen] = []
    anys: list[Guard] = []
    for g in guards:
        if g.behavior == "all" or len(g.conditions) == 1:
            conds.extend(c for c in g.conditions if c not in conds)
        else:
            anys.append(g)
    if not conds and len(anys) == 1:
        return anys[0]
    return Guard(tuple(conds), "all")


def merge(a: Guard, b: Guard) -> Guard:
    """A question reached from two places is shown when either place would show it."""
    if a == b:
        return a
    if a.always or b.always or a.behavior != "all" or b.behavior != "all":
        return ALWAYS
    common = tuple(c for c in a.conditions if c in b.conditions)
    return Guard(common, "all")


class _Builder:
    def __init__(self, criteria: CriteriaSet, kb: Knowledge) -> None:
        self.criteria = criteria
        self.kb = kb
        self.words: Wordings = wordings(kb)
        self.questions: dict[str, Question] = {}
        self.site_checks: list[str] = []

    # --- walking the tree --------------------------------------------------------------

    def criterion(self, c: Criterion) -> None:
        if c.parts:
            for part in c.parts:
                self.criterion(part)
            return
        context = ALWAYS
        if c.applies_when is not None:
            self.node(c.applies_when, ALWAYS, c.id)
            context = self.guard(c.applies_when, True)
        assert c.rule is not None
        asked_rule = self.node(c.rule, context, c.id)
        if not asked_rule:
            self.site_checks.append(c.id)

    def node(self, n: Node, context: Guard, cid: str) -> bool:
        """Ask the questions of `n` under `context`; True when any question was asked."""
        if isinstance(n, AllOf | AnyOf):
            asked = False
            for i, item in enumerate(n.items):
                want = isinstance(
                    n, AllOf
                )  # later items matter only while earlier ones can be true (all) / false (any)
                ctx = combine(context, *(self.guard(prev, want) for prev in n.items[:i]))
                asked = self.node(item, ctx, cid) or asked
            return asked
        if isinstance(n, Not | Uncertain):
            return self.node(n.item, context, cid)
        if isinstance(n, Ref):
            return self.node(self.criteria.definitions[n.name], context, cid)
        asked_any = False
        for q in self.ask(n, cid):
            self.add(q, context, cid)
            asked_any = True
        return asked_any

    def add(self, q: Question, context: Guard, cid: str) -> None:
        have = self.questions.get(q.link_id)
        enable = combine(context, q.enable)
        if have is None:
            q.enable = enable
            self.questions[q.link_id] = q
            have = q
        else:
            have.enable = merge(have.enable, enable)
        if cid not in have.criteria:
            have.criteria.append(cid)

    # --- the question for one leaf -------------------------------------------------------

    def link_id(self, n: Node, cid: str) -> str | None:
        if isinstance(n, Age):
            return "age"
        if isinstance(n, Gender):
            return "sex"
        if isinstance(n, Condition):
            asked_as = self.words.valueset(n.valueset).asked_as
            if asked_as:
                return asked_as
            if n.timing == "ever" and not n.phase:
                return f"history.{n.valueset}"  # shared with a procedure of the same set
            suffix = "" if n.timing in ("present", "active") and not n.window else f".{n.timing}"
            return f"condition.{n.valueset}{suffix}"
        if isinstance(n, Procedure):
            if n.valueset and not n.window and not n.category:
                return f"history.{n.valueset}"
            return f"procedure.{n.valueset or n.category}"
        if isinstance(n, Medication):
            return f"medication.{n.valueset}" + ("" if n.timing == "current" else f".{n.window or n.timing}")
        if isinstance(n, Immunization):
            return f"immunization.{n.valueset}"
        if isinstance(n, Allergy):
            return "allergy." + "-".join(n.severity or n.criticality)
        if isinstance(n, Measurement):
            return f"test.{n.analyte}"
        if isinstance(n, Derived):
            return f"test.{n.quantity}" if n.quantity in self.kb.analytes else None
        if isinstance(n, Attestation) and n.who in ("patient", "either"):
            return f"agree.{n.link_id or cid}"
        return None  # consent, investigators' judgement, free text: the site checks

    def ask(self, n: Node, cid: str) -> list[Question]:
        link = self.link_id(n, cid)
        if link is None:
            return []
        if isinstance(n, Age):
            return [
                Question(
                    link,
                    "How old are you?",
                    "integer",
                    "about",
                    n,
                    help="In whole years. Filling this in for someone else? Answer for them.",
                )
            ]
        if isinstance(n, Gender):
            options = (
                Option("female", "Female"),
                Option("male", "Male"),
                Option("other", "Other"),
                Option(UNKNOWN, "I don't know or prefer not to say"),
            )
            return [Question(link, "What is your sex?", "choice", "about", n, options=options)]
        if isinstance(n, Condition):
            return [self._condition(link, n, cid)]
        if isinstance(n, Procedure):
            w = self.words.valueset(n.valueset or n.category or "")
            when = (
                f"In the last {duration_words(n.window)}, have you had"
                if n.window
                else "Have you ever had"
            )
            return [
                Question(
                    link,
                    f"{when} {w.plain}?",
                    "choice",
                    w.section or "history",
                    n,
                    help=_examples(w.examples),
                    options=YES_NO,
                )
            ]
        if isinstance(n, Medication):
            return self._medication(link, n)
        if isinstance(n, Immunization):
            w = self.words.valueset(n.valueset)
            when = (
                f"In the last {duration_words(n.window)}, have you had"
                if n.window
                else "Have you ever had"
            )
            return [
                Question(
                    link,
                    f"{when} {w.plain}?",
                    "choice",
                    w.section or "medicines",
                    n,
                    help=_examples(w.examples),
                    options=YES_NO,
                )
            ]
        if isinstance(n, Allergy):
            return [
                Question(
                    link,
                    "Have you ever had a severe allergic reaction?",
                    "choice",
                    "history",
                    n,
                    help="For example anaphylaxis: trouble breathing, swelling of the throat "
                    "or collapse after a medicine, food or sting.",
                    options=YES_NO,
                )
            ]
        if isinstance(n, Measurement | Derived):
            name = n.analyte if isinstance(n, Measurement) else n.quantity
            return [self._measurement(link, n, self.kb.analyte(name))]
        if isinstance(n, Attestation):
            statement = n.question.strip()
            for third, second in (
                ("The patient agrees", "You agree"),
                ("The patient's", "Your"),
                ("The patient", "You"),
            ):
                if statement.startswith(third):
                    statement = second + statement[len(third) :]
                    break
            return [
                Question(
                    link,
                    f"Is this true for you? “{statement}”",
                    "choice",
                    "agreements",
                    n,
                    options=YES_NO,
                    attest=n.link_id or cid,
                )
            ]
        return []

    def _condition(self, link: str, n: Condition, cid: str) -> Question:
        w = self.words.valueset(n.valueset)
        criterion = self.criteria.by_id()[cid]
        section = w.section or ("diagnosis" if criterion.kind == "inclusion" else "history")
        if n.phase == "relapsed":
            return Question(
                link,
                f"Have you been diagnosed with {w.plain}? If so, how is it now?",
                "choice",
                section,
                n,
                help=_examples(w.examples),
                options=PHASE_OPTIONS,
                attest=cid,
            )
        window = duration_words(n.window) if n.window else None
        if n.timing == "ever":
            text = f"Have you ever had {w.plain}?"
        elif n.timing == "active":
            text = f"Do you have {w.plain} now?"
        elif n.timing == "present":
            text = f"Have you been diagnosed with {w.plain}?"
        elif n.timing == "onset_within":
            text = f"In the last {window}, have you had {w.plain}?"
        else:
            text = f"Do you have {w.plain} now, or have you had it in the last {window}?"
        return Question(
            link, text, "choice", section, n, help=_examples(w.examples), options=YES_NO
        )

    def _medication(self, link: str, n: Medication) -> list[Question]:
        w = self.words.valueset(n.valueset)
        main = Question(
            link,
            {
                "current": f"Do you take {w.plain} at the moment?",
                "ever": f"Have you ever taken {w.plain}?",
                "within": f"In the last {duration_words(n.window or '')}, have you taken {w.plain}?",
            }[n.timing],
            "choice",
            w.section or "medicines",
            n,
            help=_examples(w.examples),
            options=YES_NO,
        )
        if n.unless_reason is None:
            return [main]
        reason = self.words.valueset(n.unless_reason)
        follow = Question(
            f"{link}.reason",
            f"Do you take it {reason.plain}?",
            "choice",
            main.section,
            n,
            options=YES_NO,
            enable=Guard((EnableWhen(link, "=", YES),)),
        )
        return [main, follow]

    def _measurement(self, link: str, n: Measurement | Derived, analyte: Analyte) -> Question:
        w = self.words.analyte(analyte.name)
        lookback = n.lookback if isinstance(n, Measurement) and n.lookback else analyte.lookback
        recent = f"from a test in the last {duration_words(lookback)}"
        section = w.section or "tests"
        if analyte.value == "ordinal":
            levels = w.levels or tuple((int(v), str(int(v))) for v in _ordinal_values(analyte))
            options = tuple(Option(str(v), text) for v, text in levels) + (DONT_KNOW,)
            text = w.plain if w.plain.endswith("?") else f"What is your most recent {w.plain}?"
            return Question(
                link,
                text,
                "choice",
                w.section or "daily",
                n,
                help=f"Choose what fits best {recent.replace('from a test ', '')}.",
                options=options,
            )
        if analyte.value == "qualitative":
            options = (
                Option("positive", "Positive"),
                Option("negative", "Negative"),
                Option(UNKNOWN, "I don't know, or no test yet"),
            )
            return Question(
                link,
                f"What was the result of your most recent {w.plain}?",
                "choice",
                section,
                n,
                help=f"Only a result {recent}.",
                options=options,
            )
        units = self.words.units(analyte)
        choose = " Choose the unit printed on your report." if len(units) > 1 else ""
        return Question(
            link,
            f"What was your most recent {w.plain}?",
            "quantity",
            section,
            n,
            help=f"Only a result {recent}.{choose}",
            units=units,
        )

    # --- when can a node still be true / false -------------------------------------------

    def guard(self, n: Node, want: bool) -> Guard:
        """Answers under which `n` can still come out `want` (unanswered questions hide)."""
        if isinstance(n, Not):
            return self.guard(n.item, not want)
        if isinstance(n, Ref):
            return self.guard(self.criteria.definitions[n.name], want)
        if isinstance(n, Uncertain):
            return self.guard(n.item, True) if want else ALWAYS
        if isinstance(n, AllOf | AnyOf):
            joins = isinstance(n, AllOf) == want  # all-true and any-false join their items
            if joins:
                return combine(*(self.guard(i, want) for i in n.items))
            return self.guard(n.items[0], want) if len(n.items) == 1 else ALWAYS
        link = self.link_id(n, "")
        if link is None or link not in self.questions:
            return ALWAYS
        q = self.questions[link]
        if isinstance(n, Gender):
            bad = [s for s in SEXES if (s in n.values) != want]
            return Guard(tuple(EnableWhen(link, "!=", s) for s in bad))
        if isinstance(n, Age):
            if want:
                conds = [EnableWhen(link, ">=", n.min)] if n.min is not None else []
                conds += [EnableWhen(link, "<=", n.max)] if n.max is not None else []
                return Guard(tuple(conds))
            outside = [EnableWhen(link, "<", n.min)] if n.min is not None else []
            outside += [EnableWhen(link, ">", n.max)] if n.max is not None else []
            return Guard(tuple(outside), "any")
        if isinstance(n, Condition) and n.phase == "relapsed":
            blocked = (NO, "remission") if want else ("relapsed", "refractory")
            return Guard(tuple(EnableWhen(link, "!=", b) for b in blocked))
        if isinstance(n, Measurement):
            return self._measurement_guard(n, q, want)
        if q.options == YES_NO:
            return Guard((EnableWhen(link, "!=", NO if want else YES),))
        return ALWAYS

    def _measurement_guard(self, n: Measurement, q: Question, want: bool) -> Guard:
        analyte = self.kb.analyte(n.analyte)
        if analyte.value == "qualitative" and n.expect:
            other = "positive" if n.expect == "negative" else "negative"
            return Guard((EnableWhen(q.link_id, "!=", other if want else n.expect),))
        if analyte.value == "ordinal" and n.op and n.value is not None:
            blocked = [
                o.code
                for o in q.options
                if o.code != UNKNOWN and _compare(float(o.code), n.op, n.value) != want
            ]
            return Guard(tuple(EnableWhen(q.link_id, "!=", b) for b in blocked))
        threshold = _threshold(n, analyte)
        if analyte.value == "quantity" and n.op and threshold is not None:
            op = n.op if want else _NEGATE[n.op]
            conds = [
                EnableWhen(q.link_id, op, Quantity(_round(threshold / u.factor), u.code))  # type: ignore[arg-type]
                for u in q.units
            ]
            conds.append(EnableWhen(q.link_id, "exists", False))
            return Guard(tuple(conds), "any")
        return ALWAYS


def _threshold(n: Measurement, analyte: Analyte) -> float | None:
    """The limit in the analyte's compared unit; for a multiple of the ULN, the lowest default
    ULN over genders, so the question is shown whenever the limit might be exceeded."""
    if n.value is not None:
        return n.value
    if n.uln_multiple is not None:
        ulns = [u for u in (analyte.uln, *analyte.uln_by_gender.values()) if u is not None]
        return n.uln_multiple * min(ulns) if ulns else None
    return None


def _ordinal_values(analyte: Analyte) -> Iterable[float]:
    low, high = analyte.value_range or (0.0, 5.0)
    return range(int(low), int(high) + 1)


def _compare(a: float, op: str, b: float) -> bool:
    return {"<": a < b, "<=": a <= b, ">": a > b, ">=": a >= b}[op]


def _round(x: float) -> float:
    return float(f"{x:.4g}")


def _examples(text: str | None) -> str | None:
    return f"For example: {text}." if text else None


def _ordered(questions: list[Question]) -> list[Question]:
    """By section, then first mention; a question never comes before one it depends on."""
    rank = {s: i for i, s in enumerate(SECTION_ORDER)}
    ordered = sorted(questions, key=lambda q: rank.get(q.section, len(rank)))
    moved = True
    while moved:
        moved = False
        for i, q in enumerate(ordered):
            deps = {c.question for c in q.enable.conditions}
            later = [j for j, other in enumerate(ordered) if other.link_id in deps and j > i]
            if later:
                q.section = ordered[max(later)].section  # shown beside what it depends on
                ordered.insert(max(later), ordered.pop(i))
                moved = True
                break
    return ordered


def build_questionnaire(criteria: CriteriaSet, kb: Knowledge | None = None) -> Questionnaire:
    """The questionnaire of a trial, from its criteria alone."""
    builder = _Builder(criteria, kb or knowledge())
    for c in criteria.criteria:
        builder.criterion(c)
    questions = [replace(q) for q in builder.questions.values()]
    return Questionnaire(
        trial=criteria.trial,
        version=criteria.version,
        title=criteria.title or criteria.trial,
        questions=_ordered(questions),
        site_checks=builder.site_checks,
    )
