"""The citizen flow in a real browser at phone size, with and without JavaScript.

Open the QR link, answer every required question by tapping the option labels, hit a validation
error on the way (one required item left blank: the Vietnamese message must appear next to it and
nothing else may be lost), then send and find exactly what was chosen in the database.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey_app.config import PROJECT_ROOT
from survey_app.models import Response
from survey_app.questionnaire import Item, ItemType, is_visible, load_file

from .conftest import CDN_PATTERN, PHONE, LiveServer

pytestmark = pytest.mark.browser

QUESTIONNAIRE = load_file(PROJECT_ROOT / "questionnaires" / "health.yaml")
SCALE_LABELS = {"1": "Rất không hài lòng", "2": "Không hài lòng", "3": "Bình thường", "4": "Hài lòng", "5": "Rất hài lòng"}
REQUIRED_CHOICE_ERROR = "Vui lòng chọn một câu trả lời."
SUBMIT = "Gửi ý kiến"
THANKS = "Cảm ơn Ông/Bà!"


@dataclass(frozen=True)
class Planned:
    page: int  # 0-based page of the questionnaire
    item: Item
    value: str  # the stored code

    @property
    def label(self) -> str:
        """The visible Vietnamese text the citizen taps (or types, for numbers and text)."""
        if self.item.type == ItemType.scale5:
            return f"{self.value} · {SCALE_LABELS[self.value]}"
        if self.item.type == ItemType.yesno:
            return {"yes": "Có", "no": "Không"}[self.value]
        if self.item.type in (ItemType.single, ItemType.multi):
            return next(o.label.vi for o in self.item.options if o.value == self.value)
        return self.value


def plan() -> list[Planned]:
    """One answer for every required item that is visible given the earlier answers."""
    chosen: dict[str, str | list[str]] = {}
    result: list[Planned] = []
    for index, page in enumerate(QUESTIONNAIRE.pages):
        for item in page.items:
            if not item.required or not is_visible(item, chosen):
                continue
            if item.type == ItemType.scale5:
                value = "4"  # 4 · Hài lòng
            elif item.type == ItemType.yesno:
                value = "yes"  # Có
            elif item.type in (ItemType.single, ItemType.multi):
                value = item.options[0].value
            elif item.type == ItemType.number:
                low = item.min if item.min is not None else 0
                high = item.max if item.max is not None else low + 10
                value = str(int((low + high) // 2))
            else:
                value = "Nhân viên rất tận tình."
            chosen[item.id] = [value] if item.type == ItemType.multi else value
            result.append(Planned(index, item, value))
    return result


PLAN = plan()
# The first required scale item is the one left blank on the first attempt.
OMITTED = next(p for p in PLAN if p.item.type == ItemType.scale5)


def expected_answers() -> dict[str, object]:
    out: dict[str, object] = {}
    for p in PLAN:
        if p.item.type == ItemType.multi:
            out[p.item.id] = [p.value]
        elif p.item.type == ItemType.number:
            out[p.item.id] = int(p.value) if p.item.integer else float(p.value)
        elif p.item.type != ItemType.text:  # free text is stored apart, as a comment
            out[p.item.id] = p.value
    return out


def answer(page: Page, planned: Planned) -> None:
    box = page.locator(f"#q-{planned.item.id}")
    if planned.item.type in (ItemType.number, ItemType.text):
        box.locator("input, textarea").fill(planned.value)
        return
    box.get_by_text(planned.label, exact=True).click()
    expect(box.locator(f"input[value='{planned.value}']")).to_be_checked()


def assert_kept(page: Page, planned: list[Planned]) -> None:
    for p in planned:
        box = page.locator(f"#q-{p.item.id}")
        if p.item.type in (ItemType.number, ItemType.text):
            expect(box.locator("input, textarea")).to_have_value(p.value)
        else:
            expect(box.locator(f"input[value='{p.value}']")).to_be_checked()


def assert_required_error(page: Page, item_id: str) -> None:
    box = page.locator(f"#q-{item_id}")
    expect(box).to_have_class("q q-err")
    expect(box.locator("p.err")).to_have_text(REQUIRED_CHOICE_ERROR)
    expect(box).to_have_attribute("aria-describedby", f"err-{item_id}")
    expect(page.locator("p.err")).to_have_count(1)  # nothing else flagged


def response_count(live: LiveServer) -> int:
    """Responses stored for this test's reception point (other browser tests share the server)."""
    with Session(live.engine) as session:
        return session.scalar(select(func.count()).where(Response.reception_point_id == live.point_id)) or 0


def assert_stored(live: LiveServer, page: Page, before: int) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(THANKS)
    submission_id = parse_qs(urlsplit(page.url).query)["s"][0]
    expect(page.locator("main.thanks b")).to_have_text(submission_id[:8].upper())
    assert response_count(live) == before + 1
    with Session(live.engine) as session:
        row = session.scalar(select(Response).where(Response.submission_id == submission_id))
        assert row is not None
        assert row.mode == "qr"
        assert row.reception_point_id == live.point_id
        assert row.sector == "health"
        assert row.language == "vi"
        assert row.questionnaire_id == QUESTIONNAIRE.id and row.questionnaire_version == QUESTIONNAIRE.version
        assert row.answers == expected_answers()


@pytest.fixture
def phone(chromium_browser: Browser, request: pytest.FixtureRequest) -> Iterator[BrowserContext]:
    js: bool = request.param
    context = chromium_browser.new_context(java_script_enabled=js, locale="vi-VN", **PHONE)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    # No internet here (nor at many communes): the pinned CDN copy of htmx fails fast, the local copy loads.
    context.route(CDN_PATTERN, lambda route: route.abort("internetdisconnected"))
    yield context
    context.close()


@pytest.mark.parametrize("phone", [True], indirect=True, ids=["js"])
def test_citizen_form_with_javascript(phone: BrowserContext, live_server: LiveServer, artifacts: Path) -> None:
    page = phone.new_page()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    console_errors: list[str] = []
    page.on("pageerror", lambda exc: console_errors.append(str(exc)))
    before = response_count(live_server)

    page.goto(live_server.form_url)
    page.wait_for_function("() => window.htmx !== undefined && document.getElementById('survey').dataset.enhanced")
    assert any(u.endswith("/static/vendor/htmx.min.js") for u in requested), "htmx did not come from the local fallback"
    assert any(u.startswith("https://cdn.jsdelivr.net/") for u in requested), "the CDN copy was not even tried"
    assert page.evaluate("() => typeof htmx.version") == "string"
    page.screenshot(path=str(artifacts / "citizen-form-360.png"))

    pages = page.locator("section.page")
    n_pages = len(QUESTIONNAIRE.pages)
    expect(pages).to_have_count(n_pages)
    submit = page.get_by_role("button", name=SUBMIT)
    next_button = page.get_by_role("button", name="Tiếp", exact=True)

    def walk(answering: list[Planned]) -> None:
        """From the first page to the last: answer, then "Tiếp", one page at a time."""
        for index in range(n_pages):
            for j in range(n_pages):  # form.js shows exactly one page
                if j == index:
                    expect(pages.nth(j)).to_be_visible()
                else:
                    expect(pages.nth(j)).to_be_hidden()
            for p in answering:
                if p.page == index:
                    answer(page, p)
            if index < n_pages - 1:
                expect(submit).to_be_hidden()
                next_button.click()
        expect(submit).to_be_visible()

    # First attempt: one required item left blank.
    walk([p for p in PLAN if p is not OMITTED])
    with page.expect_response(lambda r: r.request.method == "POST") as first:
        submit.click()
    assert first.value.status == 422
    assert first.value.request.headers.get("hx-request") == "true", "the form was not sent by htmx"
    assert urlsplit(page.url).path == urlsplit(live_server.form_url).path  # swapped in place, no navigation
    expect(pages.nth(OMITTED.page)).to_be_visible()  # form.js opens the page with the error
    assert_required_error(page, OMITTED.item.id)
    assert_kept(page, [p for p in PLAN if p is not OMITTED])
    expect(page.locator("p.notice")).to_contain_text("1 câu cần sửa")
    page.screenshot(path=str(artifacts / "citizen-form-360-error.png"))
    assert response_count(live_server) == before

    # Second attempt: fill the gap, go through the remaining pages, send.
    for index in range(OMITTED.page):
        next_button.click()
    answer(page, OMITTED)
    for _ in range(OMITTED.page, n_pages - 1):
        next_button.click()
    with page.expect_response(lambda r: r.request.method == "POST") as second:
        submit.click()
    assert second.value.status == 204 and "cam-on" in (second.value.headers.get("hx-redirect") or "")
    page.wait_for_url("**/cam-on?**")
    page.screenshot(path=str(artifacts / "citizen-thanks-360.png"))
    assert_stored(live_server, page, before)
    assert console_errors == []


@pytest.mark.parametrize("phone", [False], indirect=True, ids=["nojs"])
def test_citizen_form_without_javascript(phone: BrowserContext, live_server: LiveServer, artifacts: Path) -> None:
    page = phone.new_page()
    before = response_count(live_server)
    page.goto(live_server.form_url)

    # Every page is shown at once; there are no "Tiếp" buttons and the submit button is always there.
    for j in range(len(QUESTIONNAIRE.pages)):
        expect(page.locator("section.page").nth(j)).to_be_visible()
    expect(page.get_by_role("button", name="Tiếp", exact=True)).to_have_count(0)
    submit = page.get_by_role("button", name=SUBMIT)
    expect(submit).to_be_visible()

    for p in PLAN:
        if p is not OMITTED:
            answer(page, p)
    page.screenshot(path=str(artifacts / "citizen-form-360-nojs.png"), full_page=True)
    with page.expect_navigation() as first:  # a plain form POST
        submit.click()
    assert first.value is not None and first.value.status == 422
    assert first.value.request.method == "POST" and first.value.request.headers.get("hx-request") is None
    assert_required_error(page, OMITTED.item.id)
    assert_kept(page, [p for p in PLAN if p is not OMITTED])
    assert response_count(live_server) == before

    answer(page, OMITTED)
    with page.expect_navigation(url="**/cam-on?**") as second:  # POST, 303, GET the thank-you page
        submit.click()
    assert second.value is not None and second.value.status == 200
    assert_stored(live_server, page, before)
