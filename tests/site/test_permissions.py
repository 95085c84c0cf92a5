"""Every /site/ route refuses the anonymous; roles and trials are checked on each action."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient

from .site_support import OTHER, PASSWORD, SEED, bearer, candidate_record

OPEN = {"/site/login", "/site/workspace.css", "/site/api/login"}
SAMPLE = {"candidate_id": "00000000-0000-0000-0000-000000000000", "application_id": "x", "nct_id": SEED, "user_id": "1"}


def site_routes() -> list[tuple[str, str]]:
    from trialscreen.web.site import api, pages

    out: list[tuple[str, str]] = []
    for route in [*api.router.routes, *pages.router.routes]:
        if isinstance(route, APIRoute) and route.path.startswith("/site") and route.path not in OPEN:
            out.extend((method, route.path) for method in sorted((route.methods or set()) - {"HEAD"}))
    return out


def concrete(path: str) -> str:
    return re.sub(r"\{(\w+)\}", lambda m: SAMPLE[m.group(1)], path)


def test_every_site_route_needs_a_session(app: FastAPI, client: TestClient) -> None:
    routes = site_routes()
    assert len(routes) >= 30, "the workspace's routes were not found"
    for method, path in routes:
        response = client.request(method, concrete(path), follow_redirects=False, json={} if method != "GET" else None)
        if path.startswith("/site/api/"):
            assert response.status_code == 401, (method, path, response.status_code)
            assert response.json() == {"detail": "log in first"}
        else:
            assert response.status_code == 303, (method, path, response.status_code)
            assert response.headers["location"] == "/site/login"
        assert "Seedapplicant" not in response.text


def test_a_made_up_or_expired_token_is_no_session(app: FastAPI, client: TestClient) -> None:
    assert client.get("/site/api/me", headers={"Authorization": "Bearer nonsense"}).status_code == 401
    headers = bearer(client, "coord")
    assert client.get("/site/api/me", headers=headers).json()["username"] == "coord"
    with app.state.engine.begin() as conn:
        conn.exec_driver_sql("UPDATE site_sessions SET expires_at = '2000-01-01 00:00:00'")
    assert client.get("/site/api/me", headers=headers).status_code == 401


def test_logout_ends_the_session(client: TestClient) -> None:
    headers = bearer(client, "coord")
    assert client.post("/site/api/logout", headers=headers).status_code == 204
    assert client.get("/site/api/me", headers=headers).status_code == 401


def test_wrong_password_and_unknown_user_look_alike(client: TestClient) -> None:
    a = client.post("/site/api/login", json={"username": "coord", "password": "wrong password!"})
    b = client.post("/site/api/login", json={"username": "nobody", "password": PASSWORD})
    assert a.status_code == b.status_code == 401
    assert a.json() == b.json()


def test_the_public_pages_stay_public_and_show_nothing_of_the_workspace(client: TestClient) -> None:
    for path in ("/", f"/trials/{SEED}", f"/trials/{SEED}/prescreen", "/api/trials"):
        response = client.get(path)
        assert response.status_code == 200, path
        assert "Seedapplicant" not in response.text


def _open(client: TestClient, app: FastAPI, headers: dict[str, str], which: str = "seed") -> str:
    response = client.post(f"/site/api/applications/{app.state.applications[which]}/candidate", headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["candidate_id"])


def test_a_coordinator_sees_only_the_applicants_of_their_trials(app: FastAPI, client: TestClient) -> None:
    seed, other = bearer(client, "coord"), bearer(client, "other")
    names = {r["name"] for r in client.get("/site/api/applications", headers=seed).json()}
    assert names == {"Ann Seedapplicant", "Bob Secondapplicant"}
    names = {r["name"] for r in client.get("/site/api/applications", headers=other).json()}
    assert names == {"Olga Otherapplicant"}
    assert client.get(f"/site/api/applications?trial={SEED}", headers=other).status_code == 403
    assert "Seedapplicant" not in client.get("/site/api/applications/export", headers=other).text
    cid = _open(client, app, seed)
    client.post(f"/site/api/candidates/{cid}/record", headers=seed, json={"bundle": candidate_record().bundle()})
    refused: list[tuple[str, str, Any]] = [
        ("POST", f"/site/api/applications/{app.state.applications['seed']}/candidate", None),
        ("GET", f"/site/api/candidates/{cid}", None),
        ("GET", f"/site/api/candidates/{cid}/screenings", None),
        ("POST", f"/site/api/candidates/{cid}/record", {"bundle": candidate_record().bundle()}),
        ("POST", f"/site/api/candidates/{cid}/screen", None),
        ("POST", f"/site/api/candidates/{cid}/consent", {"date": "2026-11-20"}),
        ("POST", f"/site/api/candidates/{cid}/decision", {"decision": "withdrawn"}),
    ]
    for method, path, body in refused:
        response = client.request(method, path, headers=other, json=body)
        assert response.status_code == 404, (method, path, response.status_code)
        assert "Seedapplicant" not in response.text
    other_inv = bearer(client, "otherinv")
    response = client.post(f"/site/api/candidates/{cid}/attestations", headers=other_inv,
                           json={"answers": {"inc-4": True}})
    assert response.status_code == 404
    for path in (f"/site/api/trials/{SEED}/screening-log", f"/site/api/trials/{SEED}/flow.svg"):
        assert client.get(path, headers=other).status_code == 403
    assert client.get("/site/api/candidates", headers=other).json() == []
    assert client.post("/site/api/candidates", headers=other, json={"trial": SEED, "label": "x"}).status_code == 403
    # ... and the pages say the same
    client.cookies.clear()
    _page_login(client, "other")
    assert client.get(f"/site/candidates/{cid}").status_code == 404
    assert "Seedapplicant" not in client.get("/site/applications").text
    assert client.get(f"/site/trials/{SEED}/log.csv").status_code == 403


def test_a_coordinator_cannot_record_the_investigators_attestations(app: FastAPI, client: TestClient) -> None:
    coord = bearer(client, "coord")
    cid = _open(client, app, coord)
    client.post(f"/site/api/candidates/{cid}/record", headers=coord, json={"bundle": candidate_record().bundle()})
    body = {"answers": {"inc-4": True, "inc-5.survival": True, "exc-16": False}}
    assert client.post(f"/site/api/candidates/{cid}/attestations", headers=coord, json=body).status_code == 403
    admin = bearer(client, "admin")
    assert client.post(f"/site/api/candidates/{cid}/attestations", headers=admin, json=body).status_code == 403
    detail = client.get(f"/site/api/candidates/{cid}", headers=coord).json()
    assert detail["attested"] == {}
    assert len(detail["screenings"]) == 1  # nothing was screened again
    # the page form, with a valid CSRF token, is refused too
    _page_login(client, "coord")
    token = _csrf(client, f"/site/candidates/{cid}")
    response = client.post(f"/site/candidates/{cid}/attestations", data={"csrf_token": token, "inc-4": "yes"})
    assert response.status_code == 403


def test_admin_only_routes(client: TestClient) -> None:
    for user in ("coord", "inv"):
        headers = bearer(client, user)
        assert client.get("/site/api/audit", headers=headers).status_code == 403
        assert client.get("/site/api/users", headers=headers).status_code == 403
        body = {"username": "mallory", "password": PASSWORD, "role": "admin", "trials": [SEED]}
        assert client.post("/site/api/users", headers=headers, json=body).status_code == 403
        assert client.patch("/site/api/users/1", headers=headers, json={"role": "admin"}).status_code == 403
    admin = bearer(client, "admin")
    assert client.get("/site/api/audit", headers=admin).status_code == 200
    # admins manage users but do not screen
    assert client.post("/site/api/candidates", headers=admin, json={"trial": SEED, "label": "x"}).status_code == 403


def test_admin_manages_users(app: FastAPI, client: TestClient) -> None:
    admin = bearer(client, "admin")
    body = {"username": "newcoord", "password": PASSWORD, "role": "coordinator", "trials": [OTHER]}
    created = client.post("/site/api/users", headers=admin, json=body)
    assert created.status_code == 201 and created.json()["trials"] == [OTHER]
    assert client.post("/site/api/users", headers=admin, json=body).status_code == 422  # taken
    new = bearer(client, "newcoord")
    assert {r["trial"] for r in client.get("/site/api/applications", headers=new).json()} == {OTHER}
    uid = created.json()["id"]
    assert client.patch(f"/site/api/users/{uid}", headers=admin, json={"trials": [SEED]}).json()["trials"] == [SEED]
    assert {r["trial"] for r in client.get("/site/api/applications", headers=new).json()} == {SEED}
    assert client.patch(f"/site/api/users/{uid}", headers=admin, json={"active": False}).status_code == 200
    assert client.get("/site/api/me", headers=new).status_code == 401  # sessions end with the account
    assert client.post("/site/api/login", json={"username": "newcoord", "password": PASSWORD}).status_code == 401
    me = app.state.user_ids["admin"]
    assert client.patch(f"/site/api/users/{me}", headers=admin, json={"active": False}).status_code == 409


def _csrf(client: TestClient, path: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', client.get(path).text)
    assert found, path
    return found.group(1)


def _page_login(client: TestClient, user: str) -> None:
    token = _csrf(client, "/site/login")
    response = client.post("/site/login", data={"csrf_token": token, "username": user, "password": PASSWORD},
                           follow_redirects=False)
    assert response.status_code == 303, response.text
    cookie = response.headers["set-cookie"]
    assert "HttpOnly" in cookie and "SameSite=strict" in cookie and "Path=/site" in cookie


def test_forms_and_cookie_writes_need_the_csrf_token(app: FastAPI, client: TestClient) -> None:
    token = _csrf(client, "/site/login")
    stolen = client.post("/site/login", data={"csrf_token": "x" * 40, "username": "coord", "password": PASSWORD})
    assert stolen.status_code == 403
    _page_login(client, "coord")
    assert client.post("/site/candidates", data={"trial": SEED, "label": "no token"}).status_code == 403
    # the JSON API with the session cookie needs the X-CSRF-Token header
    assert client.post("/site/api/candidates", json={"trial": SEED, "label": "x"}).status_code == 403
    token = client.cookies.get("trialscreen_csrf") or ""
    ok = client.post("/site/api/candidates", json={"trial": SEED, "label": "x"}, headers={"X-CSRF-Token": token})
    assert ok.status_code == 201


@pytest.mark.parametrize("secure_flag", [True])
def test_secure_cookies_behind_https(tmp_path: Any, secure_flag: bool) -> None:
    from trialscreen.web import Settings, create_app
    from trialscreen.web.site.accounts import add_user

    app = create_app(Settings(db_url=f"sqlite:///{tmp_path / 's.db'}", secure_cookies=secure_flag))
    add_user(app.state.engine, "coord", PASSWORD, "coordinator", [SEED])
    with TestClient(app, base_url="https://testserver") as c:
        token = _csrf(c, "/site/login")
        r = c.post("/site/login", data={"csrf_token": token, "username": "coord", "password": PASSWORD},
                   follow_redirects=False)
        assert r.status_code == 303
        assert "Secure" in r.headers["set-cookie"] and "HttpOnly" in r.headers["set-cookie"]


def test_password_guessing_is_slowed_down(client: TestClient) -> None:
    codes = [client.post("/site/api/login", json={"username": "coord", "password": f"guess {n:04d}"}).status_code
             for n in range(12)]
    assert codes[:10] == [401] * 10 and codes[10:] == [429, 429]
    assert client.post("/site/api/login", json={"username": "coord", "password": PASSWORD}).status_code == 429


def test_every_page_renders_for_the_roles_that_may_see_it(app: FastAPI, client: TestClient) -> None:
    coord = bearer(client, "coord")
    cid = client.post(f"/site/api/applications/{app.state.applications['seed']}/candidate",
                      headers=coord).json()["candidate_id"]
    client.post(f"/site/api/candidates/{cid}/record", headers=coord, json={"bundle": candidate_record().bundle()})
    pages = {
        "/site/applications": {"coord", "inv", "admin"},  # an admin sees the trials assigned to them
        "/site/applications.csv": {"coord", "inv", "admin"},
        "/site/candidates": {"coord", "inv", "admin"},
        f"/site/candidates/{cid}": {"coord", "inv", "admin"},
        "/site/rescreen": {"coord", "inv", "admin"},
        f"/site/trials/{SEED}/log": {"coord", "inv", "admin"},
        f"/site/trials/{SEED}/flow.svg": {"coord", "inv", "admin"},
        "/site/admin/users": {"admin"},
        "/site/admin/audit": {"admin"},
    }
    for user in ("coord", "inv", "admin"):
        client.cookies.clear()
        _page_login(client, user)
        for path, allowed in pages.items():
            response = client.get(path)
            assert response.status_code == (200 if user in allowed else 403), (user, path, response.status_code)
            if response.headers["content-type"].startswith("text/html"):
                assert response.headers["cache-control"] == "no-store"
                assert "Content-Security-Policy" in response.headers
        page = client.get(f"/site/candidates/{cid}").text
        assert ('id="attest-form"' in page) == (user == "inv")
        assert ('action="/site/candidates/' + cid + '/record"' in page) == (user != "admin")


def test_an_admin_adds_and_deactivates_a_user_in_the_pages(app: FastAPI, client: TestClient) -> None:
    _page_login(client, "admin")
    token = _csrf(client, "/site/admin/users")
    form = {"csrf_token": token, "username": "carol", "password": PASSWORD, "role": "investigator", "trials": SEED}
    assert client.post("/site/admin/users", data=form, follow_redirects=False).status_code == 303
    again = client.post("/site/admin/users", data=form)
    assert again.status_code == 422 and "already taken" in again.text
    carol = {u.username: u.id for u, _ in __import__("trialscreen.web.site.accounts", fromlist=["x"]).list_users(
        app.state.engine)}["carol"]
    other = TestClient(app)
    assert other.post("/site/api/login", json={"username": "carol", "password": PASSWORD}).status_code == 200
    change = {"csrf_token": token, "trials": SEED, "active": "no"}
    assert client.post(f"/site/admin/users/{carol}", data=change, follow_redirects=False).status_code == 303
    assert other.post("/site/api/login", json={"username": "carol", "password": PASSWORD}).status_code == 401


def test_upload_through_the_page_form(app: FastAPI, client: TestClient) -> None:
    _page_login(client, "coord")
    cid = client.post("/site/api/candidates", json={"trial": SEED, "label": "form upload"},
                      headers={"X-CSRF-Token": client.cookies.get("trialscreen_csrf") or ""}).json()["candidate_id"]
    token = _csrf(client, f"/site/candidates/{cid}")
    data = __import__("orjson").dumps(candidate_record().bundle())
    ok = client.post(f"/site/candidates/{cid}/record", data={"csrf_token": token},
                     files={"record": ("ann.json", data, "application/json")}, follow_redirects=False)
    assert ok.status_code == 303 and ok.headers["location"].endswith("?done=screened")
    assert "NEEDS REVIEW" in client.get(ok.headers["location"]).text
    missing = client.post(f"/site/candidates/{cid}/record", data={"csrf_token": token})
    assert missing.status_code == 422 and "choose a FHIR Bundle" in missing.text
    bad = client.post(f"/site/candidates/{cid}/record", data={"csrf_token": token},
                      files={"record": ("x.ndjson", b"nonsense", "application/x-ndjson")})
    assert bad.status_code == 422 and "x.ndjson: line 1 is not JSON" in bad.text
