"""What the site's staff do, independent of HTML or JSON: every function checks the user's
role and trials, writes in one transaction with its audit event, and returns plain rows.

A change is acknowledged only after its commit returns (SQLite in WAL with synchronous FULL,
or PostgreSQL), so an acknowledged write survives a crash.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from typing import Any

import orjson
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from trialscreen.criteria.builtin import builtin_criteria
from trialscreen.evaluate import Screener
from trialscreen.fhir.read import PatientRecord, RecordError
from trialscreen.web.db import Application, as_utc
from trialscreen.web.site import audit, records
from trialscreen.web.site.accounts import Staff
from trialscreen.web.site.models import DECISIONS, Candidate, Decision, RecordResource, Screening

STATUSES = ("new", "screened", *DECISIONS)


class WorkspaceError(Exception):
    """A refused action: `status` is the HTTP status, the message says why (no patient data)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


def forbid(message: str) -> WorkspaceError:
    return WorkspaceError(403, message)


@dataclass(slots=True)
class ApplicationRow:
    id: str
    trial: str
    name: str
    email: str | None
    phone: str | None
    prescreen_result: str | None
    created_at: datetime
    age_days: int
    status: str
    candidate_id: str | None
    verdict: str | None


@dataclass(slots=True)
class CandidateView:
    candidate: Candidate
    application: Application | None
    screenings: list[Screening]
    decisions: list[Decision]
    has_consent: bool
    attested: dict[str, bool] = field(default_factory=dict)

    @property
    def latest(self) -> Screening | None:
        return self.screenings[0] if self.screenings else None

    @property
    def report(self) -> dict[str, Any] | None:
        return orjson.loads(self.latest.report) if self.latest else None

    @property
    def flags(self) -> list[dict[str, str]]:
        return orjson.loads(self.latest.flags) if self.latest else []


@dataclass(frozen=True, slots=True)
class LogRow:
    candidate_id: str
    trial: str
    source: str
    first_contact: date
    screenings: int
    verdict: str | None
    eligible_from: date | None
    outcome: str
    reasons: tuple[str, ...]
    decided_on: date | None


class Workspace:
    """The screening workspace over one database; `today` is the site's screening day."""

    def __init__(self, engine: Engine, as_of: date | None = None) -> None:
        self.engine = engine
        self.fixed_day = as_of
        self._screeners: dict[str, Screener] = {}

    # -- time --------------------------------------------------------------------------------

    def today(self) -> date:
        return self.fixed_day or datetime.now(UTC).date()

    def now(self) -> datetime:
        """Now, on the site's day: a server run `--as-of` a day acts as if it were that day."""
        moment = datetime.now(UTC)
        return moment if self.fixed_day is None else datetime.combine(self.fixed_day, moment.time(), UTC)

    # -- access ------------------------------------------------------------------------------

    def screener(self, trial: str) -> Screener:
        if trial not in self._screeners:
            criteria = builtin_criteria(trial)
            if criteria is None:
                raise WorkspaceError(409, f"trial {trial} has no computable criteria to screen with")
            self._screeners[trial] = Screener(criteria)
        return self._screeners[trial]

    @staticmethod
    def check_trial(staff: Staff, trial: str) -> None:
        if trial not in staff.trials:
            raise forbid(f"you are not assigned to {trial[:16]}")

    def _candidate(self, session: Session, staff: Staff, candidate_id: str) -> Candidate:
        row = session.get(Candidate, candidate_id[:36])
        if row is None or row.trial not in staff.trials:
            # Another trial's candidate looks exactly like a missing one.
            raise WorkspaceError(404, "no such candidate among your trials")
        return row

    # -- applications --------------------------------------------------------------------------

    def applications(
        self,
        staff: Staff,
        trial: str | None = None,
        status: str | None = None,
        prescreen: str | None = None,
        min_age_days: int | None = None,
    ) -> list[ApplicationRow]:
        """Applications to the user's trials, oldest first, with their screening status."""
        trials = sorted(staff.trials if trial is None else staff.trials & {trial})
        if trial is not None and trial not in staff.trials:
            raise forbid(f"you are not assigned to {trial[:16]}")
        today = self.today()
        with Session(self.engine) as session, session.begin():
            latest = (
                select(Screening.candidate_id, func.max(Screening.id).label("sid"))
                .group_by(Screening.candidate_id)
                .subquery()
            )
            rows = session.execute(
                select(Application, Candidate, Screening.verdict)
                .outerjoin(Candidate, Candidate.application_id == Application.id)
                .outerjoin(latest, latest.c.candidate_id == Candidate.id)
                .outerjoin(Screening, Screening.id == latest.c.sid)
                .where(Application.trial.in_(trials))
                .order_by(Application.created_at)
            ).all()
            out = []
            for app, cand, verdict in rows:
                row = ApplicationRow(
                    id=app.id, trial=app.trial, name=app.name, email=app.email, phone=app.phone,
                    prescreen_result=app.prescreen_result, created_at=as_utc(app.created_at),
                    age_days=(today - as_utc(app.created_at).date()).days,
                    status=cand.status if cand else "new", candidate_id=cand.id if cand else None,
                    verdict=verdict,
                )
                if status and row.status != status:
                    continue
                if prescreen and (row.prescreen_result or "") != prescreen:
                    continue
                if min_age_days is not None and row.age_days < min_age_days:
                    continue
                out.append(row)
            audit.record(session, staff, "list_applications", trial=trial, detail=f"{len(out)} rows")
            return out

    def open_application(self, staff: Staff, application_id: str) -> str:
        """The candidate of an application (made on first opening); its id."""
        with Session(self.engine) as session, session.begin():
            app = session.get(Application, application_id[:36])
            if app is None or app.trial not in staff.trials:
                raise WorkspaceError(404, "no such application among your trials")
            found = session.scalars(select(Candidate).where(Candidate.application_id == app.id)).first()
            if found is not None:
                return found.id
            cand = Candidate(
                id=str(uuid.uuid4()), trial=app.trial, application_id=app.id, label=app.name,
                patient_id=None, status="new", created_at=datetime.now(UTC),
            )
            session.add(cand)
            audit.record(session, staff, "open_application", trial=app.trial, candidate_id=cand.id,
                         application_id=app.id)
            return cand.id

    def new_candidate(self, staff: Staff, trial: str, label: str) -> str:
        self.check_trial(staff, trial)
        if staff.role == "admin":
            raise forbid("admins manage users; coordinators and investigators screen candidates")
        label = " ".join(label.split())[:200]
        if not label:
            raise WorkspaceError(422, "label: give a name or reference for the candidate")
        with Session(self.engine) as session, session.begin():
            cand = Candidate(
                id=str(uuid.uuid4()), trial=trial, application_id=None, label=label, patient_id=None,
                status="new", created_at=datetime.now(UTC),
            )
            session.add(cand)
            audit.record(session, staff, "new_candidate", trial=trial, candidate_id=cand.id)
            return cand.id

    # -- one candidate -------------------------------------------------------------------------

    def view(self, staff: Staff, candidate_id: str, audited: bool = True) -> CandidateView:
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            cand = self._candidate(session, staff, candidate_id)
            app = session.get(Application, cand.application_id) if cand.application_id else None
            screenings = list(
                session.scalars(select(Screening).where(Screening.candidate_id == cand.id).order_by(Screening.id.desc()))
            )
            decisions = list(
                session.scalars(select(Decision).where(Decision.candidate_id == cand.id).order_by(Decision.id.desc()))
            )
            types = set(
                session.scalars(select(RecordResource.resource_type).where(
                    RecordResource.candidate_id == cand.id, RecordResource.upload == 0))
            )
            if audited:
                audit.record(session, staff, "view_candidate", trial=cand.trial, candidate_id=cand.id)
            view = CandidateView(cand, app, screenings, decisions, has_consent="Consent" in types)
            view.attested = self._attested(session, cand.id)
            return view

    @staticmethod
    def _attested(session: Session, candidate_id: str) -> dict[str, bool]:
        rows = session.scalars(
            select(RecordResource.body).where(
                RecordResource.candidate_id == candidate_id,
                RecordResource.upload == 0,
                RecordResource.resource_type == "QuestionnaireResponse",
            ).order_by(RecordResource.id)
        )
        out: dict[str, bool] = {}
        for body in rows:
            for item in orjson.loads(body).get("item", []):
                out[item["linkId"]] = bool(item["answer"][0]["valueBoolean"])
        return out

    def _resources(self, session: Session, candidate_id: str) -> list[dict[str, Any]]:
        bodies = session.scalars(
            select(RecordResource.body).where(RecordResource.candidate_id == candidate_id).order_by(RecordResource.id)
        )
        return records.latest_resources(orjson.loads(b) for b in bodies)

    def _screen(self, session: Session, staff: Staff, cand: Candidate) -> Screening:
        """Screen everything stored for the candidate; adds a report to the history."""
        resources = self._resources(session, cand.id)
        if not any(r.get("resourceType") == "Patient" for r in resources):
            raise WorkspaceError(409, "no record yet: upload the patient's FHIR record first")
        try:
            record = PatientRecord.from_resources(resources, source=f"candidate {cand.id}")
        except RecordError as exc:
            raise WorkspaceError(422, str(exc)) from None
        today = self.today()
        report = self.screener(cand.trial).screen(record, today)
        flags: list[dict[str, str]] = []
        consents = [
            date.fromisoformat(str(r["dateTime"])[:10])
            for r in resources
            if r.get("resourceType") == "Consent" and r.get("status") == "active" and r.get("dateTime")
        ]
        consents = [d for d in consents if d <= today]
        if consents:
            flags = records.before_consent(resources, min(consents))
        row = Screening(
            candidate_id=cand.id, as_of=today, verdict=report.verdict, eligible_from=report.eligible_from,
            report=orjson.dumps(report.to_json()).decode(), flags=orjson.dumps(flags).decode(),
            created_by=staff.id, created_at=datetime.now(UTC),
        )
        session.add(row)
        if cand.status == "new":
            cand.status = "screened"
        session.flush()
        return row

    def _writer(self, staff: Staff) -> None:
        if staff.role not in ("coordinator", "investigator"):
            raise forbid("only coordinators and investigators work on candidates")

    def _store(self, session: Session, staff: Staff, cand: Candidate, upload: int,
               resources: Iterable[dict[str, Any]]) -> None:
        now = datetime.now(UTC)
        session.add_all(
            RecordResource(candidate_id=cand.id, upload=upload, resource_type=str(r["resourceType"])[:40],
                           body=orjson.dumps(r).decode(), created_by=staff.id, created_at=now)
            for r in resources
        )

    def upload(self, staff: Staff, candidate_id: str, name: str, data: bytes) -> Screening:
        """Attach a FHIR record (Bundle or NDJSON) and screen; earlier reports stay."""
        self._writer(staff)
        try:
            resources = records.read_upload(name[:100] or "upload", data)
        except RecordError as exc:
            raise WorkspaceError(422, str(exc)) from None
        pid = records.patient_id(resources)
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            cand = self._candidate(session, staff, candidate_id)
            if cand.patient_id is not None and cand.patient_id != pid:
                raise WorkspaceError(
                    409, f"{name[:100]}: this record is of Patient/{pid[:64]}, the candidate's is "
                    f"Patient/{cand.patient_id}"
                )
            cand.patient_id = pid
            uploads = session.scalar(
                select(func.coalesce(func.max(RecordResource.upload), 0)).where(RecordResource.candidate_id == cand.id)
            )
            self._store(session, staff, cand, int(uploads or 0) + 1, resources)
            session.flush()
            row = self._screen(session, staff, cand)
            audit.record(session, staff, "upload_record", trial=cand.trial, candidate_id=cand.id,
                         detail=f"{len(resources)} resources")
            return row

    def rescreen(self, staff: Staff, candidate_id: str) -> Screening:
        self._writer(staff)
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            cand = self._candidate(session, staff, candidate_id)
            row = self._screen(session, staff, cand)
            audit.record(session, staff, "screen", trial=cand.trial, candidate_id=cand.id)
            return row

    def record_consent(self, staff: Staff, candidate_id: str, signed: date) -> Screening:
        """A FHIR Consent (active, research scope) signed on `signed`, then a new report."""
        self._writer(staff)
        if signed > self.today():
            raise WorkspaceError(422, f"date: the consent date {signed} is after today ({self.today()})")
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            cand = self._candidate(session, staff, candidate_id)
            if cand.patient_id is None:
                raise WorkspaceError(409, "no record yet: upload the patient's FHIR record first")
            self._store(session, staff, cand, 0, [records.consent(cand.patient_id, signed, staff.username)])
            session.flush()
            row = self._screen(session, staff, cand)
            audit.record(session, staff, "record_consent", trial=cand.trial, candidate_id=cand.id,
                         detail=f"signed {signed}")
            return row

    def record_attestations(self, staff: Staff, candidate_id: str, answers: dict[str, bool]) -> Screening:
        """The investigator's signed QuestionnaireResponse for inc-4, inc-5.survival, exc-16."""
        if staff.role != "investigator":
            raise forbid("only an investigator can record the investigator's attestations")
        unknown = sorted(set(answers) - set(records.INVESTIGATOR_ITEMS))
        if unknown:
            raise WorkspaceError(422, f"answers: {unknown[0][:20]!r} is not an investigator's statement")
        if not answers:
            raise WorkspaceError(422, "answers: give at least one of " + ", ".join(records.INVESTIGATOR_ITEMS))
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            cand = self._candidate(session, staff, candidate_id)
            if cand.patient_id is None:
                raise WorkspaceError(409, "no record yet: upload the patient's FHIR record first")
            response = records.attestation(cand.patient_id, answers, staff.id, staff.username, self.now())
            self._store(session, staff, cand, 0, [response])
            session.flush()
            row = self._screen(session, staff, cand)
            audit.record(session, staff, "record_attestation", trial=cand.trial, candidate_id=cand.id,
                         detail=",".join(f"{k}={'yes' if v else 'no'}" for k, v in answers.items()))
            return row

    def decide(self, staff: Staff, candidate_id: str, decision: str, note: str | None = None) -> Decision:
        """Enrolled (needs an eligible latest report), screen failure (its failed criteria), withdrawn."""
        self._writer(staff)
        if decision not in DECISIONS:
            raise WorkspaceError(422, f"decision: one of {', '.join(DECISIONS)}")
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            cand = self._candidate(session, staff, candidate_id)
            latest = session.scalars(
                select(Screening).where(Screening.candidate_id == cand.id).order_by(Screening.id.desc())
            ).first()
            reasons: list[str] = []
            if decision == "enrolled":
                if latest is None or latest.verdict != "eligible":
                    raise WorkspaceError(409, "only a candidate whose latest report is eligible can be enrolled")
            elif decision == "screen_failure":
                reasons = failed_criteria(orjson.loads(latest.report)) if latest else []
                if not reasons:
                    raise WorkspaceError(409, "a screen failure needs a report with failed criteria")
            row = Decision(
                candidate_id=cand.id, decision=decision, reasons=orjson.dumps(reasons).decode(),
                note=" ".join((note or "").split())[:500] or None, screening_id=latest.id if latest else None,
                created_by=staff.id, created_at=datetime.now(UTC),
            )
            session.add(row)
            cand.status = decision
            session.flush()
            audit.record(session, staff, "decide", trial=cand.trial, candidate_id=cand.id, detail=decision)
            return row

    # -- lists and reports -----------------------------------------------------------------------

    def candidates(self, staff: Staff, trial: str | None = None) -> list[tuple[Candidate, Screening | None]]:
        trials = sorted(staff.trials if trial is None else staff.trials & {trial})
        with Session(self.engine, expire_on_commit=False) as session, session.begin():
            latest = (
                select(Screening.candidate_id, func.max(Screening.id).label("sid"))
                .group_by(Screening.candidate_id)
                .subquery()
            )
            rows = session.execute(
                select(Candidate, Screening)
                .outerjoin(latest, latest.c.candidate_id == Candidate.id)
                .outerjoin(Screening, Screening.id == latest.c.sid)
                .where(Candidate.trial.in_(trials))
                .order_by(Candidate.created_at)
            ).all()
            audit.record(session, staff, "list_candidates", trial=trial, detail=f"{len(rows)} rows")
            return [(c, s) for c, s in rows]

    def rescreen_list(self, staff: Staff) -> list[tuple[Candidate, Screening, bool]]:
        """Candidates whose only failures lapse with time: (candidate, report, due today)."""
        today = self.today()
        out = []
        for cand, screening in self.candidates(staff):
            if screening is None or screening.eligible_from is None or cand.status in ("enrolled", "withdrawn"):
                continue
            out.append((cand, screening, screening.eligible_from <= today))
        out.sort(key=lambda item: item[1].eligible_from or today)
        return out

    def screening_log(self, staff: Staff, trial: str, action: str = "view_log") -> list[LogRow]:
        """Every candidate of the trial and their outcome, from the stored rows (audited as `action`)."""
        self.check_trial(staff, trial)
        with Session(self.engine) as session, session.begin():
            cands = list(session.scalars(select(Candidate).where(Candidate.trial == trial).order_by(Candidate.created_at)))
            ids = [c.id for c in cands]
            screenings: dict[str, list[Screening]] = {}
            for s in session.scalars(select(Screening).where(Screening.candidate_id.in_(ids)).order_by(Screening.id)):
                screenings.setdefault(s.candidate_id, []).append(s)
            decisions: dict[str, Decision] = {}
            for d in session.scalars(select(Decision).where(Decision.candidate_id.in_(ids)).order_by(Decision.id)):
                decisions[d.candidate_id] = d
            apps = {
                a.id: a for a in session.scalars(
                    select(Application).where(Application.id.in_([c.application_id for c in cands if c.application_id])))
            }
            rows = []
            for cand in cands:
                history = screenings.get(cand.id, [])
                last = history[-1] if history else None
                dec = decisions.get(cand.id)
                first = apps[cand.application_id].created_at if cand.application_id in apps else cand.created_at
                rows.append(LogRow(
                    candidate_id=cand.id, trial=cand.trial,
                    source="application" if cand.application_id else "site",
                    first_contact=as_utc(first).date(), screenings=len(history),
                    verdict=last.verdict if last else None,
                    eligible_from=last.eligible_from if last else None,
                    outcome=dec.decision if dec else ("in screening" if last else "not screened"),
                    reasons=tuple(orjson.loads(dec.reasons)) if dec else (),
                    decided_on=as_utc(dec.created_at).date() if dec else None,
                ))
            audit.record(session, staff, action, trial=trial, detail=f"{len(rows)} candidates")
            return rows


def failed_criteria(report: dict[str, Any]) -> list[str]:
    """The failed criteria of a report: the deepest failed parts, else the criterion itself."""
    out: list[str] = []

    def walk(node: dict[str, Any]) -> None:
        if node["status"] != "fail":
            return
        failed_parts = [p for p in node.get("parts", []) if p["status"] == "fail"]
        if failed_parts:
            for part in failed_parts:
                walk(part)
        else:
            out.append(str(node["id"]))

    for criterion in report.get("criteria", []):
        walk(criterion)
    return out


def unique(values: Sequence[str]) -> list[str]:
    return list(dict.fromkeys(values))
