"""A patient's journey in real headless Chromium (Debian's package, driven by Playwright):
searching, reading the trial page, the questionnaire to each of the three results, applying.
Screenshots go to artifacts/screenshots/. Also checks keyboard use, labels and contrast."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from trialscreen.criteria.builtin import builtin_criteria
from trialscreen.questionnaire import Questionnaire, build_questionnaire

from ..browser_support import SHOTS, chromium
from ..questionnaire.seed_answers import qualifying
from .conftest import AS_OF, SEED, free_port

pytest.importorskip("playwright.sync_api")
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1280, "height": 900}


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    with chromium() as b:
        yield b


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """The real `trialscreen serve`, in its own process, on a fresh SQLite file."""
    db = tmp_path_factory.mktemp("e2e") / "web.db"
    port = free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "trialscreen.cli.app", "serve", "--port", str(port), "--db", f"sqlite:///{db}",
         "--as-of", AS_OF.isoformat(), "--apply-per-minute", "600"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + "/healthz", timeout=1).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline or server.poll() is not None:
                raise RuntimeError("trialscreen serve did not start")
            time.sleep(0.1)
        yield url
    finally:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=20)


@pytest.fixture(scope="module")
def questionnaire() -> Questionnaire:
    criteria = builtin_criteria(SEED)
    assert criteria is not None
    return build_questionnaire(criteria)


def _by_id(page: Any, element_id: str) -> Any:
    return page.locator(f'[id="{element_id}"]')


def answer(page: Any, q: Questionnaire, answers: dict[str, Any]) -> None:
    """Answer like a person: in order, only the questions the page shows."""
    for question in q.questions:
        link = question.link_id
        if link not in answers or not _by_id(page, f"q-{link}").is_visible():
            continue
        value = answers[link]
        if question.type == "choice":
            _by_id(page, f"{link}--{value}").check()
        elif isinstance(value, dict):
            _by_id(page, f"field-{link}").fill(str(value["value"]))
            _by_id(page, f"{link}:unit").select_option(value["unit"])
        else:
            _by_id(page, f"field-{link}").fill(str(value))


def test_search_and_read_the_trial(browser: Any, site: str) -> None:
    for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
        page = browser.new_page(viewport=viewport)
        page.goto(site + "/")
        page.get_by_label("Condition").fill("myeloid leukemia")
        page.get_by_label("Age (years)").fill("45")
        page.get_by_role("button", name="Search").click()
        page.wait_for_url("**/?condition=*")
        page.screenshot(path=str(SHOTS / f"search-{name}.png"), full_page=True)
        page.get_by_role("link", name="Administration of Anti Tim-3/CD123").click()
        assert page.locator("h1").inner_text().startswith("Administration of Anti Tim-3/CD123")
        for heading in ("Trial information", "Summary in plain words", "Who can take part", "Contacts", "Locations",
                        "Trial officials", "Timeline", "Interested?"):
            assert page.get_by_role("heading", name=heading).is_visible(), heading
        assert page.get_by_text("patients applied").is_visible()
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= viewport["width"], "no sideways scrolling"
        page.screenshot(path=str(SHOTS / f"trial-{name}.png"), full_page=False)
        page.screenshot(path=str(SHOTS / f"trial-{name}-full.png"), full_page=True)
        action = page.get_by_role("link", name="Check whether you may qualify")
        assert action.bounding_box()["y"] < viewport["height"] * 2, "the next step is near the top"
        page.close()


def test_skip_logic_in_the_browser(browser: Any, site: str, questionnaire: Questionnaire) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(site + f"/trials/{SEED}/prescreen")
    hcg = _by_id(page, "q-test.hcg")
    _by_id(page, "field-age").fill("30")
    _by_id(page, "sex--male").check()
    assert not hcg.is_visible()
    _by_id(page, "sex--female").check()
    assert _by_id(page, "q-history.no_childbearing_potential").is_visible()
    assert not hcg.is_visible()  # asked once hysterectomy and menopause are answered
    _by_id(page, "history.no_childbearing_potential--no").check()
    assert hcg.is_visible()
    _by_id(page, "field-age").fill("60")
    assert not hcg.is_visible()
    crcl = _by_id(page, "q-test.creatinine_clearance")
    assert crcl.is_visible()  # creatinine not answered yet
    _by_id(page, "field-test.creatinine").fill("0.8")
    assert not crcl.is_visible()
    _by_id(page, "field-test.creatinine").fill("3.1")
    assert crcl.is_visible()
    page.close()


@pytest.mark.parametrize(
    ("result", "overrides", "words"),
    [
        ("may_qualify", {}, "You may qualify"),
        ("not_qualify", {"test.hemoglobin": {"value": "5.2", "unit": "g/dL"}}, "You do not qualify"),
        ("site_check", {"history.cns_disorder": "unknown", "test.lvef": None}, "needs to check"),
    ],
)
def test_questionnaire_to_each_result(browser: Any, site: str, questionnaire: Questionnaire, result: str,
                                      overrides: dict[str, Any], words: str) -> None:
    page = browser.new_page(viewport=PHONE if result == "site_check" else DESKTOP)
    page.goto(site + f"/trials/{SEED}/prescreen")
    answers = qualifying(questionnaire, **overrides)
    answer(page, questionnaire, answers)
    if "test.lvef" not in answers:
        _by_id(page, "test.lvef:unknown").check()
    page.screenshot(path=str(SHOTS / f"prescreen-{result}.png"), full_page=False)
    page.get_by_role("button", name="See what my answers mean").click()
    box = page.locator("#result")
    assert box.get_attribute("data-result") == result
    assert words in box.inner_text()
    page.screenshot(path=str(SHOTS / f"result-{result}.png"), full_page=True)
    if result == "not_qualify":
        link = page.get_by_role("link", name="“Hemoglobin ≥60g/L”")
        link.click()
        assert page.url.endswith("#crit-inc-6.hemoglobin")
        assert page.locator('[id="crit-inc-6.hemoglobin"]').is_visible()
    if result == "site_check":
        assert page.get_by_role("heading", name="The site needs to check").is_visible()
    page.close()


def test_apply_after_prescreening(browser: Any, site: str, questionnaire: Questionnaire) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(site + f"/trials/{SEED}")
    before = int(page.locator("#applied-count").inner_text())
    page.goto(site + f"/trials/{SEED}/prescreen")
    answer(page, questionnaire, qualifying(questionnaire))
    page.get_by_role("button", name="See what my answers mean").click()
    page.get_by_role("link", name="Apply to be contacted by the trial site").click()
    page.get_by_role("button", name="Send my application").click()  # empty: messages
    assert page.get_by_text("This is required.").first.is_visible()
    page.screenshot(path=str(SHOTS / "apply-errors.png"), full_page=True)
    page.get_by_label("Your name").fill("Mei Example")
    page.get_by_label("E-mail").fill("mei@example.org")
    page.get_by_label("I agree that the trial site may contact me").check()
    page.get_by_role("button", name="Send my application").click()
    assert page.get_by_role("heading", name="Application received").is_visible()
    reference = page.locator("#reference").inner_text()
    page.screenshot(path=str(SHOTS / "applied.png"), full_page=True)
    page.goto(site + f"/trials/{SEED}")
    assert int(page.locator("#applied-count").inner_text()) == before + 1
    page.goto(site + f"/trials/{SEED}/apply")
    page.get_by_label("Your name").fill("Mei Example")
    page.get_by_label("E-mail").fill("MEI@example.org")
    page.get_by_label("I agree that the trial site may contact me").check()
    page.get_by_role("button", name="Send my application").click()
    assert page.get_by_role("heading", name="We already had your application").is_visible()
    assert page.locator("#reference").inner_text() == reference
    page.close()


def test_keyboard_only(browser: Any, site: str) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(site + f"/trials/{SEED}/prescreen")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent") == "Skip to main content"
    page.keyboard.press("Enter")
    for _ in range(40):  # Tab on to the first radio group (sex), choose with the arrow keys
        page.keyboard.press("Tab")
        if page.evaluate("document.activeElement.name") == "sex":
            break
    page.keyboard.press("Space")
    assert page.evaluate("document.querySelector('input[name=sex]:checked') !== null")
    page.close()


CONTRAST_JS = """
() => {
  function rgb(s) { const m = s.match(/[\\d.]+/g) || ['0','0','0','0']; return m.map(Number); }
  function lum(c) { const a = c.slice(0, 3).map(v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); });
                    return 0.2126 * a[0] + 0.7152 * a[1] + 0.0722 * a[2]; }
  function bg(el) { for (; el; el = el.parentElement) { const c = rgb(getComputedStyle(el).backgroundColor);
                    if (c.length < 4 || c[3] > 0) return c; } return [255, 255, 255]; }
  const bad = [];
  for (const el of document.querySelectorAll('body *')) {
    if (!el.offsetParent || ![...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim())) continue;
    const s = getComputedStyle(el), f = lum(rgb(s.color)), b = lum(bg(el));
    const ratio = (Math.max(f, b) + 0.05) / (Math.min(f, b) + 0.05);
    const large = parseFloat(s.fontSize) >= 24 || (parseFloat(s.fontSize) >= 18.66 && parseInt(s.fontWeight) >= 700);
    if (ratio < (large ? 3 : 4.5)) bad.push(el.tagName + ' ' + ratio.toFixed(2) + ' ' + el.textContent.trim().slice(0, 30));
  }
  return bad;
}
"""

LABELS_JS = """
() => [...document.querySelectorAll('input:not([type=hidden]), select, textarea')].filter(el =>
  !(el.labels && el.labels.length) && !el.getAttribute('aria-label')).map(el => el.name)
"""


@pytest.mark.parametrize("path", ["/", f"/trials/{SEED}", f"/trials/{SEED}/prescreen", f"/trials/{SEED}/apply"])
def test_contrast_and_labels(browser: Any, site: str, path: str) -> None:
    page = browser.new_page(viewport=DESKTOP)
    page.goto(site + path)
    assert page.evaluate(CONTRAST_JS) == []
    assert page.evaluate(LABELS_JS) == []
    assert page.locator("html").get_attribute("lang") == "en"
    page.close()
