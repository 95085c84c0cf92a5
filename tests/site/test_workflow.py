"""The workspace's actions through its JSON API, checked against the evaluator and the stored rows."""

from __future__ import annotations

import csv
import io
import logging
import re
from datetime import timedelta

import orjson
import pytest
import sqlalchemy
from fastapi import FastAPI
from fastapi.testclient import TestClient

from trialscreen.criteria.builtin import builtin_criteria
from trialscreen.evaluate import Screener
from trialscreen.fhir.read import PatientRecord
from trialscreen.web.site.accounts import Staff, login

from .site_support import AS_OF, SEED, bearer, candidate_record, day, statuses

ALL_THREE = {"inc-4": True, "inc-5.survival": True, "exc-16": False}


def _candidate(client: TestClient, app: FastAPI, headers: dict[str, str], which: str = "seed") -> str:
    response = client.post(f"/site/api/applications/{app.state.applications[which]}/candidate", headers=headers)
    return str(response.json()["candidate_id"])


def test_the_report_is_the_command_lines(app: FastAPI, client: TestClient) -> None:
    coord = bearer(client, "coord")
    cid = _candidate(client, app, coord)
    builder = candidate_record()
    response = client.post(f"/site/api/candidates/{cid}/record", headers=coord, json={"bundle": builder.bundle()})
    assert response.status_code == 201, response.text
    criteria = builtin_criteria(SEED)
    assert criteria is not None
    expected = Screener(criteria).screen(PatientRecord.from_resources(builder.resources()), AS_OF).to_json()
    assert response.json()["report"] == orjson.loads(orjson.dumps(expected))
    report = response.json()["report"]
    assert report["verdict"] == "needs_review"
    unknown = {k for k, v in statuses(report).items() if v == "unknown"}
    assert unknown == {"inc-1", "inc-4", "inc-5", "inc-5.survival", "exc-16"}
    inc1 = next(c for c in report["criteria"] if c["id"] == "inc-1")
    assert inc1["reason"] == "consent not yet recorded" and inc1["missing"]


def test_ndjson_upload_and_bad_uploads(app: FastAPI, client: TestClient) -> None:
    coord = bearer(client, "coord")
    cid = _candidate(client, app, coord)
    ndjson = "\n".join(orjson.dumps(r).decode() for r in candidate_record().resources())
    ok = client.post(f"/site/api/candidates/{cid}/record", headers=coord, json={"ndjson": ndjson})
    assert ok.status_code == 201 and ok.json()["verdict"] == "needs_review"
    for body, words in (
        ({"ndjson": "{not json"}, "line 1 is not JSON"),
        ({"bundle": {"resourceType": "Bundle", "entry": []}}, "expected one Patient"),
        ({"ndjson": ""}, "empty"),
        ({}, "exactly one of"),
    ):
        bad = client.post(f"/site/api/candidates/{cid}/record", headers=coord, json=body)
        assert bad.status_code == 422 and words in bad.json()["detail"], bad.text
    someone_else = candidate_record("pat-2").bundle()
    clash = client.post(f"/site/api/candidates/{cid}/record", headers=coord, json={"bundle": someone_else})
    assert clash.status_code == 409 and "Patient/pat-2" in clash.json()["detail"]
    assert len(client.get(f"/site/api/candidates/{cid}/screenings", headers=coord).json()) == 1


def test_consent_attestations_and_enrolment(app: FastAPI, client: TestClient) -> None:
    coord, inv = bearer(client, "coord"), bearer(client, "inv")
    cid = _candidate(client, app, coord)
    client.post(f"/site/api/candidates/{cid}/record", headers=coord, json={"bundle": candidate_record().bundle()})
    future = client.post(f"/site/api/candidates/{cid}/consent", headers=coord,
                         json={"date": (AS_OF + timedelta(days=1)).isoformat()})
    assert future.status_code == 422 and "after today" in future.json()["detail"]
    early = client.post(f"/site/api/candidates/{cid}/decision", headers=coord, json={"decision": "enrolled"})
    assert early.status_code == 409
    consent = client.post(f"/site/api/candidates/{cid}/consent", headers=coord, json={"date": day(3)})
    assert consent.status_code == 201
    assert statuses(consent.json()["report"])["inc-1"] == "pass"
    flagged = {f["resource"] for f in consent.json()["flags"]}
    # every Observation of the record is dated 5 days back, before a consent 3 days back
    assert flagged and all(r.startswith("Observation/") for r in flagged)
    assert all(f["date"] < day(3) for f in consent.json()["flags"])
    attested = client.post(f"/site/api/candidates/{cid}/attestations", headers=inv, json={"answers": ALL_THREE})
    assert attested.status_code == 201
    assert attested.json()["verdict"] == "eligible"
    assert {k: statuses(attested.json()["report"])[k] for k in ALL_THREE} == {
        "inc-4": "pass", "inc-5.survival": "pass", "exc-16": "pass"}
    # the stored FHIR resources: a research Consent and a signed QuestionnaireResponse by the investigator
    with app.state.engine.connect() as conn:
        rows = conn.execute(sqlalchemy.text(
            "SELECT resource_type, body, created_by FROM site_resources WHERE candidate_id = :c AND upload = 0"
        ), {"c": cid}).all()
    by_type = {t: orjson.loads(b) for t, b, _ in rows}
    assert by_type["Consent"]["status"] == "active" and by_type["Consent"]["dateTime"] == day(3)
    assert by_type["Consent"]["scope"]["coding"][0]["code"] == "research"
    qr = by_type["QuestionnaireResponse"]
    assert qr["status"] == "completed" and qr["author"]["display"] == "inv"
    assert qr["authored"].startswith(AS_OF.isoformat())
    signature = qr["extension"][0]["valueSignature"]
    assert signature["who"] == qr["author"] and signature["when"] == qr["authored"]
    assert {i["linkId"]: i["answer"][0]["valueBoolean"] for i in qr["item"]} == ALL_THREE
    enrolled = client.post(f"/site/api/candidates/{cid}/decision", headers=coord, json={"decision": "enrolled"})
    assert enrolled.status_code == 201
    detail = client.get(f"/site/api/candidates/{cid}", headers=coord).json()
    assert detail["status"] == "enrolled" and detail["has_consent"] and detail["attested"] == ALL_THREE
    assert len(detail["screenings"]) == 3  # upload, consent, attestations: every report kept
    history = client.get(f"/site/api/candidates/{cid}/screenings", headers=coord).json()
    assert [h["verdict"] for h in history] == ["eligible", "needs_review", "needs_review"]
    apps = {a["id"]: a for a in client.get("/site/api/applications", headers=coord).json()}
    assert apps[app.state.applications["seed"]]["status"] == "enrolled"
    assert apps[app.state.applications["seed"]]["latest_verdict"] == "eligible"


def test_unsuitable_is_a_screen_failure_with_its_reason(app: FastAPI, client: TestClient) -> None:
    coord, inv = bearer(client, "coord"), bearer(client, "inv")
    cid = _candidate(client, app, coord)
    client.post(f"/site/api/candidates/{cid}/record", headers=coord, json={"bundle": candidate_record().bundle()})
    answer = client.post(f"/site/api/candidates/{cid}/attestations", headers=inv,
                         json={"answers": {"exc-16": True}})
    assert answer.json()["verdict"] == "ineligible"
    assert client.post(f"/site/api/candidates/{cid}/decision", headers=coord,
                       json={"decision": "enrolled"}).status_code == 409
    failed = client.post(f"/site/api/candidates/{cid}/decision", headers=coord,
                         json={"decision": "screen_failure", "note": "investigator"})
    assert failed.status_code == 201 and failed.json()["reasons"] == ["exc-16"]


def test_failures_that_lapse_put_the_patient_on_the_rescreen_list(app: FastAPI, client: TestClient) -> None:
    coord = bearer(client, "coord")
    lapsing = _candidate(client, app, coord)
    report = client.post(f"/site/api/candidates/{lapsing}/record", headers=coord,
                         json={"bundle": candidate_record(auto_sct_days_ago=20).bundle()}).json()
    assert statuses(report["report"])["exc-8"] == "fail"
    sct_day = AS_OF - timedelta(days=20)
    assert report["rescreen_on"] == report["eligible_from"] == report["report"]["eligible_from"]
    exc8 = next(c for c in report["report"]["criteria"] if c["id"] == "exc-8")
    assert report["rescreen_on"] == exc8["eligible_from"] > AS_OF.isoformat() > sct_day.isoformat()
    # a patient failing for good is not on it
    cured_never = client.post("/site/api/candidates", headers=coord, json={"trial": SEED, "label": "APL"}).json()
    b = candidate_record("pat-apl")
    b.condition("C92.40", onset="2025-01-01")
    client.post(f"/site/api/candidates/{cured_never['candidate_id']}/record", headers=coord,
                json={"bundle": b.bundle()})
    listed = client.get("/site/api/rescreen", headers=coord).json()
    assert [(r["id"], r["rescreen_due"]) for r in listed] == [(lapsing, False)]
    # on that date the same stored report makes it due: a server run as of that day
    from trialscreen.web.site.workspace import Workspace

    later = Workspace(app.state.engine, as_of=AS_OF + timedelta(days=120))
    staff = _staff(app, "coord")
    assert [(c.id, due) for c, _, due in later.rescreen_list(staff)] == [(lapsing, True)]
    page = client.get("/site/rescreen", headers=coord)
    assert page.status_code == 200


def _staff(app: FastAPI, name: str) -> Staff:

    from .site_support import PASSWORD

    found = login(app.state.engine, name, PASSWORD)
    assert found is not None
    return found[1]


def test_log_and_flow_are_made_from_stored_data(app: FastAPI, client: TestClient) -> None:
    coord, inv = bearer(client, "coord"), bearer(client, "inv")
    outcomes = {}
    for n, fate in enumerate(("enrolled", "screen_failure", "withdrawn", "pending", "unscreened")):
        cid = client.post("/site/api/candidates", headers=coord, json={"trial": SEED, "label": f"c{n}"}).json()[
            "candidate_id"]
        outcomes[cid] = fate
        if fate == "unscreened":
            continue
        b = candidate_record(f"p{n}", auto_sct_days_ago=10 if fate == "screen_failure" else None)
        client.post(f"/site/api/candidates/{cid}/record", headers=coord, json={"bundle": b.bundle()})
        if fate == "enrolled":
            client.post(f"/site/api/candidates/{cid}/consent", headers=coord, json={"date": day(1)})
            client.post(f"/site/api/candidates/{cid}/attestations", headers=inv, json={"answers": ALL_THREE})
        if fate in ("enrolled", "screen_failure", "withdrawn"):
            r = client.post(f"/site/api/candidates/{cid}/decision", headers=coord, json={"decision": fate})
            assert r.status_code == 201, r.text
    text = client.get(f"/site/api/trials/{SEED}/screening-log", headers=coord).text
    rows = {r["candidate_id"]: r for r in csv.DictReader(io.StringIO(text))}
    assert set(rows) == set(outcomes)
    for cid, fate in outcomes.items():
        want = {"pending": "in screening", "unscreened": "not screened"}.get(fate, fate)
        assert rows[cid]["outcome"] == want
    failure = next(r for c, r in rows.items() if outcomes[c] == "screen_failure")
    assert failure["reasons"] == "exc-8"
    svg = client.get(f"/site/api/trials/{SEED}/flow.svg", headers=coord)
    assert svg.headers["content-type"].startswith("image/svg+xml")
    body = svg.text
    assert "Assessed for eligibility (n=4)" in body and "Enrolled (n=1)" in body
    assert "Excluded: screen failure (n=1)" in body and "exc-8: 1" in body and "Withdrawn (n=1)" in body
    assert "Still in screening (n=1)" in body
    import xml.etree.ElementTree as ET

    ET.fromstring(body)  # well-formed


def test_applications_filters_and_csv(app: FastAPI, client: TestClient) -> None:
    coord = bearer(client, "coord")
    every = client.get("/site/api/applications", headers=coord).json()
    assert [a["age_days"] for a in every] == [0, 0]
    only = client.get("/site/api/applications?prescreen=eligible", headers=coord).json()
    assert [a["name"] for a in only] == ["Bob Secondapplicant"]
    cid = _candidate(client, app, coord, "seed2")
    client.post(f"/site/api/candidates/{cid}/record", headers=coord, json={"bundle": candidate_record().bundle()})
    screened = client.get("/site/api/applications?status=screened", headers=coord).json()
    assert [(a["name"], a["latest_verdict"]) for a in screened] == [("Bob Secondapplicant", "needs_review")]
    assert client.get("/site/api/applications?min_age_days=1", headers=coord).json() == []
    text = client.get("/site/api/applications/export?prescreen=eligible", headers=coord).text
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["name"] for r in rows] == ["Bob Secondapplicant"] and rows[0]["prescreen_result"] == "eligible"


def test_csv_cells_are_not_formulas(app: FastAPI, client: TestClient) -> None:
    app.state.store.add(SEED, "=HYPERLINK(1)", "x@example.org", None, True, None)
    text = client.get("/site/api/applications/export", headers=bearer(client, "coord")).text
    assert "'=HYPERLINK(1)" in text and "\n=HYPERLINK" not in text.replace(",", "\n")


def test_audit_records_who_saw_and_changed_what_and_cannot_be_changed(app: FastAPI, client: TestClient) -> None:
    coord = bearer(client, "coord")
    cid = _candidate(client, app, coord)
    client.post(f"/site/api/candidates/{cid}/record", headers=coord, json={"bundle": candidate_record().bundle()})
    client.get(f"/site/api/candidates/{cid}", headers=coord)
    events = client.get(f"/site/api/audit?candidate_id={cid}", headers=bearer(client, "admin")).json()
    assert [(e["username"], e["action"]) for e in reversed(events)] == [
        ("coord", "open_application"), ("coord", "upload_record"), ("coord", "view_candidate")]
    assert all(e["at"].endswith("Z") or "+00:00" in e["at"] for e in events)
    for statement in ("UPDATE site_audit SET username = 'x'", "DELETE FROM site_audit"):
        with pytest.raises(sqlalchemy.exc.DatabaseError, match="append-only"), app.state.engine.begin() as conn:
            conn.exec_driver_sql(statement)
    assert len(client.get("/site/api/audit", headers=bearer(client, "admin")).json()) >= len(events)


def test_passwords_are_argon2_and_sessions_stored_hashed(app: FastAPI, client: TestClient) -> None:
    headers = bearer(client, "coord")
    token = headers["Authorization"].split()[1]
    with app.state.engine.connect() as conn:
        hashes = [h for (h,) in conn.exec_driver_sql("SELECT password_hash FROM site_users")]
        sessions = [t for (t,) in conn.exec_driver_sql("SELECT token_hash FROM site_sessions")]
    assert all(h.startswith("$argon2id$") for h in hashes)
    assert token not in sessions and len(sessions) >= 1 and all(re.fullmatch(r"[0-9a-f]{64}", s) for s in sessions)


def test_no_patient_data_in_the_server_log(app: FastAPI, client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    coord = bearer(client, "coord")
    cid = _candidate(client, app, coord)
    client.post(f"/site/api/candidates/{cid}/record", headers=coord, json={"bundle": candidate_record().bundle()})
    client.get("/site/api/applications", headers=coord)
    client.get("/site/api/applications/export?prescreen=eligible", headers=coord)
    client.post(f"/site/api/candidates/{cid}/record", headers=coord, json={"ndjson": "{Seedapplicant secret"})
    server = [r for r in caplog.records if r.name.startswith(("trialscreen", "uvicorn", "sqlalchemy", "alembic"))]
    assert any("/site/api/candidates/{candidate_id}/record" in r.getMessage() for r in server)
    logged = "\n".join(r.getMessage() for r in server)
    for secret in ("Seedapplicant", "ann@example.org", "pat-1", "1980-06-15", "C92.02", cid):
        assert secret not in logged


def test_every_json_action_is_in_the_openapi_schema(client: TestClient) -> None:
    from trialscreen.web.site import api

    paths = client.get("/openapi.json").json()["paths"]
    for route in api.router.routes:
        path = getattr(route, "path", "")
        for method in getattr(route, "methods", set()) - {"HEAD"}:
            assert method.lower() in paths.get(path, {}), f"{method} {path} is not in /openapi.json"


def test_docs_describe_every_site_endpoint(client: TestClient) -> None:
    from .site_support import REPO_ROOT

    docs = (REPO_ROOT / "docs" / "site.md").read_text(encoding="utf-8")
    for path in client.get("/openapi.json").json()["paths"]:
        if path.startswith("/site/"):
            assert path in docs, f"docs/site.md does not mention {path}"
