"""The JSON API and the pages' server side: search, listing, questionnaire, prescreen, apply."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient

from trialscreen.web import Settings, create_app

from ..questionnaire.seed_answers import qualifying
from .conftest import AS_OF, SEED, SHARED_CTGOV


def _questionnaire(client: TestClient):
    from trialscreen.criteria.builtin import builtin_criteria
    from trialscreen.questionnaire import build_questionnaire

    criteria = builtin_criteria(SEED)
    assert criteria is not None
    return build_questionnaire(criteria)


@pytest.fixture
def many(tmp_path: Path) -> TestClient:
    """A site listing the shared ClinicalTrials.gov records beside the built-in trial."""
    app = create_app(Settings(db_url=f"sqlite:///{tmp_path / 'many.db'}", trials=(SHARED_CTGOV,), as_of=AS_OF))
    return TestClient(app)


def test_search_filters(many: TestClient) -> None:
    everything = many.get("/api/trials").json()
    assert everything["count"] > 50
    aml = many.get("/api/trials", params={"condition": "myeloid leukemia"}).json()
    assert SEED in [t["nct_id"] for t in aml["trials"]]
    assert all("myeloid leukemia" in (t["title"] + " ".join(t["conditions"])).lower() for t in aml["trials"])
    china = many.get("/api/trials", params={"location": "xuzhou"}).json()
    assert SEED in [t["nct_id"] for t in china["trials"]] and len(china["trials"]) < everything["count"]
    assert all(any("xuzhou" in p.lower() for p in t["places"]) for t in china["trials"])
    too_old = many.get("/api/trials", params={"condition": "myeloid leukemia", "age": 75}).json()
    assert SEED not in [t["nct_id"] for t in too_old["trials"]]
    recruiting = many.get("/api/trials", params={"status": "RECRUITING"}).json()
    assert recruiting["count"] and all(t["status"] == "RECRUITING" for t in recruiting["trials"])
    female_only = [t for t in everything["trials"] if t["sex"] == "FEMALE"]
    if female_only:
        men = {t["nct_id"] for t in many.get("/api/trials", params={"sex": "male"}).json()["trials"]}
        assert not men & {t["nct_id"] for t in female_only}


def test_search_rejects_bad_input_clearly(client: TestClient) -> None:
    r = client.get("/api/trials", params={"age": "old"})
    assert r.status_code == 422 and "query.age" in r.json()["problems"]
    assert "old" not in r.text  # the input is not echoed
    page = client.get("/", params={"age": "-3"})
    assert page.status_code == 422 and "Enter an age in whole years" in page.text


def test_trial_detail_has_every_section_of_the_listing(client: TestClient) -> None:
    t = client.get(f"/api/trials/{SEED}").json()
    assert t["title"].startswith("Administration of Anti Tim-3/CD123")
    assert t["sponsor"] == "XUZHOU MEDICAL UNIVERSITY" and t["status"] == "RECRUITING"
    assert t["current_as_of"] == "2025-07-09" and t["sex"] == "ALL"
    assert t["summary"].startswith("This clinical trial is studying")
    assert t["about_sponsor"].startswith("Xuzhou Medical University is")
    assert t["contacts"][0]["name"] == "Jennifer Cobb"
    assert t["locations"][0]["place"] == "Xuzhou, Jiangsu, China"
    assert t["officials"][0]["name"].startswith("Kailin Xu")
    assert set(t["timeline"]) == {"first_submitted", "trial_launched", "trial_updated", "estimated_completion"}
    assert [c["id"] for c in t["criteria"]][:2] == ["inc-1", "inc-2"]
    assert t["patients_applied"] == 0


def test_trial_page_shows_the_sections(client: TestClient) -> None:
    html = client.get(f"/trials/{SEED}").text
    for heading in ("Trial information", "Keywords", "Summary in plain words", "Sex", "Eligibility criteria",
                    "About XUZHOU MEDICAL UNIVERSITY", "Contacts", "Locations", "Trial officials", "Timeline",
                    "patients applied", "Current as of", "Estimated completion"):
        assert heading in html, heading
    assert 'id="crit-inc-6.hemoglobin"' in html
    assert client.get("/trials/nct06125652", follow_redirects=False).status_code == 308


def test_unknown_trial(client: TestClient) -> None:
    assert client.get("/api/trials/NCT99999999").status_code == 404
    assert client.get("/trials/NCT99999999").status_code == 404
    assert client.get("/trials/NCT99999999/Questionnaire").status_code == 404


def test_fhir_questionnaire_endpoint(client: TestClient) -> None:
    r = client.get(f"/trials/{SEED}/Questionnaire")
    assert r.headers["content-type"].startswith("application/fhir+json")
    body = r.json()
    assert body["resourceType"] == "Questionnaire"
    assert any("enableWhen" in item for item in body["item"])


@pytest.mark.parametrize(
    ("overrides", "result"),
    [
        ({}, "may_qualify"),
        ({"age": "75"}, "not_qualify"),
        ({"history.cns_disorder": "unknown"}, "site_check"),
    ],
)
def test_prescreen_json(client: TestClient, overrides: dict, result: str) -> None:
    q = _questionnaire(client)
    r = client.post(f"/api/trials/{SEED}/prescreen", json={"answers": qualifying(q, **overrides)})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["result"] == result
    assert body["questionnaire_response"]["resourceType"] == "QuestionnaireResponse"
    assert body["as_of"] == AS_OF.isoformat()


def test_prescreen_json_names_bad_answers(client: TestClient) -> None:
    r = client.post(f"/api/trials/{SEED}/prescreen", json={"answers": {"test.hemoglobin": {"value": 9, "unit": "kg"}}})
    assert r.status_code == 422
    assert "test.hemoglobin" in r.json()["problems"]


def _csrf(client: TestClient, path: str) -> str:
    html = client.get(path).text
    match = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert match
    return match.group(1)


def test_prescreen_form_to_result_page(client: TestClient) -> None:
    q = _questionnaire(client)
    token = _csrf(client, f"/trials/{SEED}/prescreen")
    form: dict[str, str] = {"csrf_token": token}
    for link, value in qualifying(q, **{"test.hemoglobin": {"value": "5", "unit": "g/dL"}}).items():
        if isinstance(value, dict):
            form[link], form[f"{link}:unit"] = value["value"], value["unit"]
        else:
            form[link] = value
    page = client.post(f"/trials/{SEED}/prescreen", data=form)
    assert page.status_code == 200
    assert 'data-result="not_qualify"' in page.text
    assert page.headers["cache-control"] == "no-store"
    assert f'href="/trials/{SEED}#crit-inc-6.hemoglobin"' in page.text
    assert "Hemoglobin ≥60g/L" in page.text


def test_forms_need_the_csrf_token(client: TestClient) -> None:
    r = client.post(f"/trials/{SEED}/apply", data={"name": "A", "email": "a@example.org", "consent": "yes"})
    assert r.status_code == 403
    _csrf(client, f"/trials/{SEED}/apply")  # sets the cookie
    r = client.post(f"/trials/{SEED}/apply", data={"name": "A", "email": "a@example.org", "consent": "yes",
                                                   "csrf_token": "forged-token-forged-token"})
    assert r.status_code == 403
    assert client.get(f"/api/trials/{SEED}").json()["patients_applied"] == 0


def test_apply_form_confirmation_duplicate_and_count(client: TestClient) -> None:
    token = _csrf(client, f"/trials/{SEED}/apply")
    form = {"csrf_token": token, "name": "Ada Example", "email": "ada@example.org", "phone": "", "consent": "yes"}
    first = client.post(f"/trials/{SEED}/apply", data=form, follow_redirects=False)
    assert first.status_code == 303
    confirmation = client.get(first.headers["location"])
    assert "Application received" in confirmation.text
    again = client.post(f"/trials/{SEED}/apply", data={**form, "name": "  ada   EXAMPLE ", "email": "ADA@example.org"},
                        follow_redirects=False)
    assert again.headers["location"].split("?")[0] == first.headers["location"]
    assert "We already had your application" in client.get(again.headers["location"]).text
    assert client.get(f"/api/trials/{SEED}").json()["patients_applied"] == 1
    assert "<strong id=\"applied-count\">1</strong>" in client.get(f"/trials/{SEED}").text


def test_apply_form_messages(client: TestClient) -> None:
    token = _csrf(client, f"/trials/{SEED}/apply")
    r = client.post(f"/trials/{SEED}/apply", data={"csrf_token": token, "name": "", "email": "not-an-address"})
    assert r.status_code == 422
    assert "This is required." in r.text and "does not look like an e-mail address" in r.text
    r = client.post(f"/trials/{SEED}/apply", data={"csrf_token": token, "name": "Bo", "phone": "+44 20 7946 0000"})
    assert r.status_code == 422 and "agree to be contacted" in r.text


def test_apply_json(client: TestClient) -> None:
    body = {"name": "Jo Example", "phone": "+86 516 8580 2000", "consent": True, "prescreen_result": "may_qualify"}
    first = client.post(f"/api/trials/{SEED}/applications", json=body)
    assert first.status_code == 201 and first.json()["duplicate"] is False
    second = client.post(f"/api/trials/{SEED}/applications", json=body)
    assert second.status_code == 200 and second.json() == {**first.json(), "duplicate": True}
    bad = client.post(f"/api/trials/{SEED}/applications", json={**body, "consent": False})
    assert bad.status_code == 422 and "agree to be contacted" in bad.text
    assert client.get(f"/api/trials/{SEED}").json()["patients_applied"] == 1


def test_rate_limit_on_applying(tmp_path: Path) -> None:
    client = TestClient(create_app(Settings(db_url=f"sqlite:///{tmp_path / 'rl.db'}", apply_per_minute=1, apply_burst=2)))
    codes = [
        client.post(f"/api/trials/{SEED}/applications",
                    json={"name": f"Person {i}", "email": f"p{i}@example.org", "consent": True}).status_code
        for i in range(4)
    ]
    assert codes == [201, 201, 429, 429]
    token = _csrf(client, f"/trials/{SEED}/apply")
    page = client.post(f"/trials/{SEED}/apply", data={"csrf_token": token, "name": "X", "email": "x@example.org",
                                                      "consent": "yes"})
    assert page.status_code == 429 and "Too many applications" in page.text


def test_security_headers(client: TestClient) -> None:
    for path in ("/", f"/trials/{SEED}", f"/api/trials/{SEED}", "/static/site.css"):
        headers = client.get(path).headers
        assert "script-src 'self'" in headers["content-security-policy"], path
        assert headers["x-content-type-options"] == "nosniff"
        assert headers["x-frame-options"] == "DENY"
        assert headers["referrer-policy"] == "no-referrer"


def test_pages_have_no_inline_script_or_style(client: TestClient) -> None:
    for path in ("/", f"/trials/{SEED}", f"/trials/{SEED}/prescreen", f"/trials/{SEED}/apply"):
        html = client.get(path).text
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert "style=" not in html and "<style" not in html and "onclick" not in html


def test_nothing_a_patient_typed_reaches_the_logs(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    secret = "Zebulon-Quartermain"
    client.get("/", params={"condition": secret, "location": secret})
    token = _csrf(client, f"/trials/{SEED}/apply")
    client.post(f"/trials/{SEED}/apply", data={"csrf_token": token, "name": secret, "email": f"{secret}@example.org",
                                               "consent": "yes"})
    client.post(f"/api/trials/{SEED}/applications", json={"name": secret, "email": "bad", "consent": True})
    client.post(f"/api/trials/{SEED}/prescreen", json={"answers": {"age": secret}})
    server_side = "\n".join(r.getMessage() for r in caplog.records if r.name != "httpx")  # httpx is the test's client
    assert "/trials/{nct_id}/apply" in server_side  # requests are logged by route template, not URL
    assert secret not in server_side


def test_openapi_documents_every_action(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/api/trials", "/api/trials/{nct_id}", "/trials/{nct_id}/Questionnaire",
            "/api/trials/{nct_id}/prescreen", "/api/trials/{nct_id}/applications"} <= set(paths)


def test_what_people_type_is_escaped(client: TestClient) -> None:
    html = client.get("/", params={"condition": '"><script>alert(1)</script>'}).text
    assert "<script>alert(1)</script>" not in html and "&lt;script&gt;" in html


def test_prescreen_page_names_bad_answers(client: TestClient) -> None:
    token = _csrf(client, f"/trials/{SEED}/prescreen")
    page = client.post(f"/trials/{SEED}/prescreen", data={"csrf_token": token, "age": "forty",
                                                          "test.hemoglobin": "9", "test.hemoglobin:unit": "kg"})
    assert page.status_code == 422
    assert "Please check 2 answers" in page.text
    assert "How old are you?: enter a whole number" in page.text
    assert 'value="forty"' in page.text  # what was typed is kept for correcting


@pytest.mark.parametrize("overrides", [{}, {"test.hemoglobin": {"value": "5", "unit": "g/dL"}},
                                       {"history.cns_disorder": "unknown"}])
def test_a_questionnaire_response_round_trips(client: TestClient, overrides: dict) -> None:
    """The FHIR QuestionnaireResponse a screening returns, posted back, gives the same result."""
    q = _questionnaire(client)
    first = client.post(f"/api/trials/{SEED}/prescreen", json={"answers": qualifying(q, **overrides)}).json()
    again = client.post(f"/api/trials/{SEED}/prescreen",
                        json={"questionnaire_response": first["questionnaire_response"]})
    assert again.status_code == 200, again.text
    body = again.json()
    for key in ("result", "failed", "to_check", "site_checks", "passed"):
        assert body[key] == first[key], key


def test_prescreen_takes_answers_or_a_response(client: TestClient) -> None:
    both = client.post(f"/api/trials/{SEED}/prescreen", json={"answers": {"age": 40},
                                                               "questionnaire_response": {"resourceType": "Patient"}})
    assert both.status_code == 422
    wrong = client.post(f"/api/trials/{SEED}/prescreen", json={"questionnaire_response": {"resourceType": "Patient"}})
    assert wrong.status_code == 422 and "QuestionnaireResponse" in wrong.text


def test_docs_describe_every_endpoint(client: TestClient) -> None:
    from .conftest import REPO_ROOT

    docs = (REPO_ROOT / "docs" / "web.md").read_text(encoding="utf-8").replace("{nct}", "{nct_id}")
    for path in client.get("/openapi.json").json()["paths"]:
        if path.startswith("/site/"):
            continue  # the site workspace is documented by its own docs
        assert path in docs, f"docs/web.md does not mention {path}"


def test_an_unexpected_error_is_a_plain_message(app: FastAPI) -> None:
    def broken(trial: str) -> int:
        raise RuntimeError(f"database gone while counting {trial}")

    app.state.store.count = broken
    client = TestClient(app, raise_server_exceptions=False)
    page = client.get(f"/trials/{SEED}")
    assert page.status_code == 500 and "Something went wrong on our side" in page.text
    assert "database gone" not in page.text and "Traceback" not in page.text
    api = client.get(f"/api/trials/{SEED}")
    assert api.status_code == 500 and api.json() == {"detail": api.json()["detail"]}
    assert "database gone" not in api.text
