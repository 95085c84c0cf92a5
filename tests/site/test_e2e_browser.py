"""The site's recruitment in real headless Chromium (Debian's package, driven by Playwright):
a coordinator logs in, opens an application, uploads the record and records consent; an
investigator signs the attestations; the coordinator enrols the patient and exports the
log. Screenshots go to artifacts/screenshots/site-*.png."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest

from trialscreen.web import Settings, create_app

from ..browser_support import SHOTS, chromium
from .site_support import AS_OF, PASSWORD, SEED, add_users, apply, candidate_record, day, served

pytest.importorskip("playwright.sync_api")


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture
def site(tmp_path: Path) -> Iterator[str]:
    """The real `trialscreen serve` on a database with staff and one application."""
    db = f"sqlite:///{tmp_path / 'e2e.db'}"
    app = create_app(Settings(db_url=db, as_of=AS_OF))
    add_users(app)
    apply(app, SEED, "Ann Seedapplicant", "needs_review")
    app.state.engine.dispose()
    with served(db, tmp_path / "server.log") as url:
        yield url


def log_in(page: Any, url: str, user: str) -> None:
    page.goto(f"{url}/site/login")
    page.get_by_label("Username").fill(user)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/site/applications")


def log_out(page: Any) -> None:
    page.get_by_role("button", name="Log out").click()
    page.wait_for_url("**/site/login")


def test_recruitment_from_application_to_enrolment(browser: Any, site: str, tmp_path: Path) -> None:
    url = site
    record = tmp_path / "ann.json"
    record.write_bytes(orjson.dumps(candidate_record().bundle()))
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"{m.text} {m.location.get('url')}") if m.type == "error" else None)
    page.on("response", lambda r: problems.append(f"{r.status} {r.url}") if r.status >= 400 else None)

    # without a session the workspace sends you to the login page
    page.goto(f"{url}/site/applications")
    assert page.url.endswith("/site/login")

    log_in(page, url, "coord")
    page.screenshot(path=str(SHOTS / "site-1-applications.png"), full_page=True)
    page.get_by_role("link", name="Ann Seedapplicant").click()
    page.wait_for_url("**/site/candidates/*")
    candidate_url = page.url
    page.get_by_label("FHIR R4 record (Bundle .json or NDJSON)").set_input_files(str(record))
    page.get_by_role("button", name="Upload and screen").click()
    page.wait_for_url("**?done=screened")
    assert page.locator("#verdict").inner_text().startswith("NEEDS REVIEW")
    assert "consent not yet recorded" in page.locator('[id="crit-inc-1"]').inner_text()

    page.get_by_label("Date the patient signed").fill(day(3))
    page.get_by_role("button", name="Record consent").click()
    page.wait_for_url("**?done=consent")
    assert "pass" in page.locator('[id="crit-inc-1"] .ws-badge').first.inner_text()
    assert page.locator("#flags li").count() > 0  # labs dated before the consent are flagged
    assert page.locator("#attest-form").count() == 0  # a coordinator gets no attestation form
    page.screenshot(path=str(SHOTS / "site-2-consent.png"), full_page=True)
    log_out(page)

    log_in(page, url, "inv")
    page.goto(candidate_url)
    for cid, value in (("inc-4", "yes"), ("inc-5.survival", "yes"), ("exc-16", "no")):
        page.locator(f'[id="{cid}-{value}"]').check()
    page.get_by_role("button", name="Sign and record").click()
    page.wait_for_url("**?done=attested")
    assert page.locator("#verdict").inner_text().startswith("ELIGIBLE")
    assert page.locator("#attest-state").inner_text() == "inc-4: yes; inc-5.survival: yes; exc-16: no"
    assert page.locator("#history li").count() == 3
    assert page.locator('[id="exc-16-no"]').is_checked()  # the form shows what is on record
    page.screenshot(path=str(SHOTS / "site-3-attested.png"), full_page=True)
    log_out(page)

    log_in(page, url, "coord")
    page.goto(candidate_url)
    page.get_by_label("Enrolled").check()
    page.get_by_role("button", name="Record decision").click()
    page.wait_for_url("**?done=decided")
    assert page.locator("#status").inner_text() == "enrolled"

    page.set_viewport_size({"width": 390, "height": 844})  # a phone: no sideways scrolling of the page
    page.reload()
    assert page.evaluate("document.documentElement.scrollWidth") <= 390
    page.screenshot(path=str(SHOTS / "site-3b-enrolled-phone.png"))
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{url}/site/trials/{SEED}/log")
    with page.expect_download() as download_info:
        page.locator("#export-log").click()
    rows = list(csv.DictReader(io.StringIO(Path(download_info.value.path()).read_text(encoding="utf-8"))))
    assert [(r["outcome"], r["latest_verdict"], r["screenings"]) for r in rows] == [("enrolled", "eligible", "3")]
    flow = page.locator(".ws-flow img")
    assert flow.evaluate("img => img.complete && img.naturalWidth > 0")
    assert "1 enrolled" in (flow.get_attribute("alt") or "")
    page.screenshot(path=str(SHOTS / "site-4-log.png"), full_page=True)
    log_out(page)

    log_in_admin(page, url)
    page.screenshot(path=str(SHOTS / "site-5-audit.png"), full_page=True)
    actions = page.locator("#audit tbody tr td:nth-child(3)").all_inner_texts()
    for action in ("upload_record", "record_consent", "record_attestation", "decide", "export_log"):
        assert action in actions
    # no CSP violations, script errors or failed loads (the browser's own favicon.ico probe aside)
    assert not [p for p in problems if not p.endswith("/favicon.ico")], problems
    context.close()
    server_log = (tmp_path / "server.log").read_text(errors="replace")
    assert "POST /site/candidates/{candidate_id}/consent 303" in server_log  # route templates only
    for secret in ("Seedapplicant", "ann@example.org", "pat-1", "1980-06-15", candidate_url.rsplit("/", 1)[1]):
        assert secret not in server_log


def log_in_admin(page: Any, url: str) -> None:
    page.goto(f"{url}/site/login")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url("**/site/admin/users")
    page.get_by_role("link", name="Audit log").click()
    page.wait_for_url("**/site/admin/audit")
