"""Accessibility of the remaining citizen-facing pages in a real Chromium (axe-core, WCAG 2.0/2.1 A and AA,
as in test_accessibility.py): the feedback form, the tracking page (lookup, not found, an answered item with
its rating form), the public results, the thank-you page and the friendly 404; each page's error state (invalid
data sent, then axe again) and each page with the text at 200% on a 360 px phone (no sideways scrolling,
nothing cut off). The desk kiosk is checked in test_kiosk_modes.py.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import BrowserContext, Page, expect
from sqlalchemy.orm import Session

from survey_app.models import FeedbackItem, ReceptionPoint, utcnow
from survey_app.services import demo
from survey_app.services import feedback as feedback_service
from tests.services.test_fieldwork import answers_for

from .conftest import LiveServer
from .test_accessibility import assert_every_control_named, assert_no_serious_violations, axe_source, phone, zoom_text
from .test_citizen_form import QUESTIONNAIRE, THANKS

pytestmark = pytest.mark.browser
__all__ = ["axe_source", "phone"]  # fixtures re-used from test_accessibility.py

# What must stay inside a 360 px screen at 200% text. Wide data tables scroll inside their own box (.scroll),
# which WCAG 1.4.10 allows for content that needs two dimensions; the page itself must not scroll sideways.
CHECKED = ("main h1, main h2, main p, main li, main dt, main dd, main summary, main legend, main label, main button, "
           "main input, main textarea, main select, main a, header.top p, header.top a, header.top button, nav a")

FITS = """([width, selector]) => Array.from(document.querySelectorAll(selector))
  .filter(el => el.getClientRects().length && !el.closest('[hidden], .hp, .scroll, details:not([open]) > :not(summary)'))
  .map(el => ({el, r: el.getBoundingClientRect(), cs: getComputedStyle(el)}))
  .filter(({el, r, cs}) => r.left < -0.5 || r.right > width + 0.5
          || (cs.display !== 'inline' && cs.overflowX !== 'visible' && el.scrollWidth > el.clientWidth + 1)
          || (cs.display !== 'inline' && el.tagName !== 'INPUT' && el.tagName !== 'TEXTAREA' && el.scrollWidth > Math.ceil(r.width) + 1))
  .map(({el, r}) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className} [${Math.round(r.left)}, ${Math.round(r.right)}] "${(el.innerText || el.value || '').slice(0, 40)}"`)"""


def assert_reflows(page: Page, where: str, artifacts: Path | None = None, shot: str = "") -> None:
    """At 200% text: twice the font size, no sideways scrolling at the phone's width, no text cut off."""
    zoom_text(page)
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 32, where
    assert page.viewport_size is not None
    width = min(page.viewport_size["width"], page.evaluate("window.innerWidth"))
    scroll = page.evaluate("document.scrollingElement.scrollWidth")
    if artifacts is not None and shot:
        page.screenshot(path=str(artifacts / shot), full_page=True)
    assert scroll <= width, f"{where} at 200% text: the page scrolls sideways ({scroll}px > {width}px)"
    bad = page.evaluate(FITS, [width, CHECKED])
    assert not bad, f"{where} at 200% text: cut off or outside the viewport:\n" + "\n".join(bad)
    page.evaluate("document.documentElement.style.fontSize = ''")


def check(page: Page, axe_source: str, where: str, artifacts: Path, shot: str) -> list[dict[str, Any]]:
    """axe (no serious or critical violation), every control named, then the 200% text check."""
    page.screenshot(path=str(artifacts / f"{shot}.png"))
    found = assert_no_serious_violations(page, axe_source, where)
    assert_every_control_named(page, where)
    assert_reflows(page, where, artifacts, f"{shot}-200pct.png")
    return found


@pytest.fixture
def point_name(live_server: LiveServer) -> str:
    with Session(live_server.engine) as session:
        point = session.get(ReceptionPoint, live_server.point_id)
        assert point is not None
        return point.name


# --- the feedback form --------------------------------------------------------------------------------

def test_axe_feedback_form_and_its_errors(
    phone: BrowserContext, live_server: LiveServer, axe_source: str, artifacts: Path, point_name: str
) -> None:
    page = phone.new_page()
    page.goto(live_server.form_url + "/gop-y")
    expect(page.get_by_role("heading", level=1)).to_have_text("Góp ý, phản ánh, kiến nghị")
    found = check(page, axe_source, "the feedback form", artifacts, "a11y-feedback-form-360")

    # Invalid: no text, a reply wanted with a phone number that is not one, and no consent.
    page.get_by_label("Tôi muốn được liên hệ trả lời").check()
    page.get_by_role("textbox", name="Số điện thoại").fill("12")
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name="Gửi góp ý").click()
    assert sent.value.status == 422
    expect(page.locator("p.err").first).to_be_visible()
    errors = page.locator("p.err")
    assert errors.count() == 3, errors.all_inner_texts()
    # Each error is an alert and describes the field it belongs to, which is marked invalid.
    for err in errors.all():
        err_id = err.get_attribute("id")
        assert err_id and err.get_attribute("role") == "alert", err.inner_text()
        described = page.locator(f"[aria-describedby~='{err_id}']")
        expect(described).to_have_count(1)
        if described.evaluate("el => el.matches('input, textarea')"):
            expect(described).to_have_attribute("aria-invalid", "true")
    expect(page.get_by_role("textbox", name="Nội dung góp ý, phản ánh")).to_have_accessible_description(
        page.locator("#err-text").inner_text())
    found += check(page, axe_source, "the feedback form after a 422", artifacts, "a11y-feedback-form-360-422")
    print(f"minor/moderate on the feedback form: {[v['id'] for v in found]}")
    assert point_name in page.locator("header.top").inner_text()


# --- the tracking page --------------------------------------------------------------------------------

@pytest.fixture
def answered_code(live_server: LiveServer) -> Iterator[str]:
    """A feedback item with a public answer, not yet rated (what a citizen comes back to look at)."""
    with Session(live_server.engine) as session:
        point = session.get(ReceptionPoint, live_server.point_id)
        assert point is not None
        item = feedback_service.create_item(
            session, text="Phòng chờ của trạm y tế không có đủ ghế, người già phải đứng lâu.", channel="form",
            sector=point.sector, commune=point.commune, point=point)
        item.public_answer = "Trạm đã bổ sung 20 ghế ở phòng chờ từ tuần này. Cảm ơn Ông/Bà đã góp ý."
        item.status, item.answered_at = "answered", utcnow()
        session.commit()
        code, item_id = feedback_service.format_code(item.tracking_code), item.id
    yield code
    with Session(live_server.engine) as session:
        row = session.get(FeedbackItem, item_id)
        assert row is not None and row.rating == "4", "the rating given after the error was not stored"


def test_axe_tracking_page_lookup_not_found_answer_and_rating_error(
    phone: BrowserContext, live_server: LiveServer, axe_source: str, artifacts: Path, answered_code: str
) -> None:
    page = phone.new_page()
    page.goto("/theo-doi")
    check(page, axe_source, "the tracking page", artifacts, "a11y-track-360")

    page.get_by_label("Mã theo dõi").fill("ABCDE-23456")  # well formed, unknown
    with page.expect_navigation():
        page.get_by_role("button", name="Tra cứu").click()
    expect(page.get_by_role("alert")).to_contain_text("Không tìm thấy mã theo dõi này")
    expect(page.get_by_label("Mã theo dõi")).to_have_attribute("aria-invalid", "true")
    check(page, axe_source, "the tracking page, code not found", artifacts, "a11y-track-360-not-found")

    page.get_by_label("Mã theo dõi").fill(answered_code)
    with page.expect_navigation():
        page.get_by_role("button", name="Tra cứu").click()
    expect(page.locator("#result")).to_contain_text("Trạm đã bổ sung 20 ghế")
    check(page, axe_source, "the tracking page with an answer and the rating form", artifacts, "a11y-track-360-answer")

    with page.expect_navigation() as nav:  # no rating chosen
        page.get_by_role("button", name="Gửi đánh giá").click()
    assert nav.value is not None and nav.value.status == 422
    expect(page.get_by_role("alert")).to_contain_text("Vui lòng chọn một mức độ hài lòng.")
    group = page.get_by_role("group", name="Bạn có hài lòng với cách giải quyết?")
    expect(group).to_have_accessible_description("Vui lòng chọn một mức độ hài lòng.")
    check(page, axe_source, "the tracking page after a rating error", artifacts, "a11y-track-360-rating-422")

    page.locator("input[name=rating][value='4']").check()
    with page.expect_navigation():
        page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.get_by_role("status")).to_contain_text("Cảm ơn Ông/Bà đã đánh giá")


# --- public results, thanks, 404 ------------------------------------------------------------------------

@pytest.fixture(scope="module")
def seeded(live_server: LiveServer) -> LiveServer:
    with Session(live_server.engine) as session:
        demo.seed(session, province_code="14", responses=1500)  # idempotent; the data test_report_screens uses
        session.commit()
    return live_server


def test_axe_public_results_and_a_bad_period(
    phone: BrowserContext, seeded: LiveServer, axe_source: str, artifacts: Path
) -> None:
    page = phone.new_page()
    page.goto("/ket-qua?kind=annual&year=2026")
    expect(page.locator("#province tbody tr")).to_have_count(4)
    check(page, axe_source, "the public results", artifacts, "a11y-results-360")
    page.locator("details.method summary").click()
    check(page, axe_source, "the public results with the method note open", artifacts, "a11y-results-360-method")

    response = page.goto("/ket-qua?kind=annual&year=hai-nghin")  # a period that cannot be read
    assert response is not None and response.status == 422
    expect(page.get_by_role("heading", level=1)).to_be_visible()
    check(page, axe_source, "the public results with a bad period", artifacts, "a11y-results-360-bad-period")


def submit_citizen_form(page: Page, live: LiveServer) -> None:
    """A complete answer sent the way a phone without JavaScript sends it (one POST, then the thank-you page)."""
    page.goto(live.form_url)
    page.evaluate(
        """(answers) => {
          for (const [name, value] of Object.entries(answers)) {
            for (const v of [].concat(value)) {
              const box = document.querySelector(`[name="${name}"][value="${v}"]`) ;
              if (box) box.checked = true; else document.querySelector(`[name="${name}"]`).value = v;
            }
          }
          document.getElementById('survey').submit();
        }""",
        answers_for(QUESTIONNAIRE),
    )
    page.wait_for_url("**/cam-on?**")


def test_axe_thanks_page_and_friendly_404(
    phone: BrowserContext, live_server: LiveServer, axe_source: str, artifacts: Path
) -> None:
    page = phone.new_page()
    submit_citizen_form(page, live_server)
    expect(page.get_by_role("heading", level=1)).to_have_text(THANKS)
    check(page, axe_source, "the thank-you page", artifacts, "a11y-thanks-360")

    response = page.goto("/q/ma-qr-khong-ton-tai")
    assert response is not None and response.status == 404
    expect(page.locator("main")).to_contain_text("Mã QR này không còn hiệu lực")
    check(page, axe_source, "the friendly 404", artifacts, "a11y-404-360")
    response = page.goto("/trang-khong-co")
    assert response is not None and response.status == 404
    check(page, axe_source, "the 404 of an unknown address", artifacts, "a11y-404-path-360")
