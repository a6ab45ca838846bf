"""The whole feedback path in a real browser: a citizen sends a complaint from the QR page and gets a
tracking code, Sở Y tế answers it from its inbox, the citizen looks the code up and rates the handling."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey_app.models import FeedbackItem, User, UserScope
from survey_app.security import hash_password
from survey_app.services import feedback

from .conftest import CDN_PATTERN, PHONE, LiveServer

pytestmark = pytest.mark.browser

PASSWORD = "mat-khau-dai-123"
COMPLAINT = "Trạm y tế đóng cửa lúc 15 giờ, tôi chờ lâu mà không ai tiếp. Gọi tôi: 0912 345 678."
ANSWER = "Sở Y tế đã yêu cầu trạm mở cửa đến 17 giờ và nhắc nhở cán bộ trực."


def _context(browser: Browser, **kwargs: object) -> BrowserContext:
    context = browser.new_context(locale="vi-VN", **kwargs)  # type: ignore[arg-type]
    context.set_default_timeout(10_000)
    context.route(CDN_PATTERN, lambda route: route.abort("internetdisconnected"))
    return context


@pytest.fixture
def citizen(chromium_browser: Browser) -> Iterator[BrowserContext]:
    context = _context(chromium_browser, **PHONE)
    yield context
    context.close()


@pytest.fixture
def officer(chromium_browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    with Session(live_server.engine) as session:
        if session.scalar(select(User).where(User.username == "syt_browser")) is None:
            user = User(username="syt_browser", password_hash=hash_password(PASSWORD), role="reviewer",
                        must_change_password=False, display_name="Cán bộ Sở Y tế")
            user.scopes.append(UserScope(sector="health"))
            session.add(user)
            session.commit()
    context = _context(chromium_browser, viewport={"width": 1280, "height": 900})
    yield context
    context.close()


def test_feedback_tracking_answer_and_rating(
    citizen: BrowserContext, officer: BrowserContext, live_server: LiveServer, artifacts: Path
) -> None:
    # 1. The citizen opens the QR link and follows the feedback link.
    page = citizen.new_page()
    page.goto(live_server.form_url)
    page.get_by_role("link", name="Gửi góp ý, phản ánh, kiến nghị").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Góp ý, phản ánh, kiến nghị")
    page.get_by_label("Nội dung góp ý, phản ánh").fill(COMPLAINT)
    page.wait_for_timeout(3200)  # the form refuses posts faster than a person can type
    page.get_by_role("button", name="Gửi góp ý").click()
    expect(page.locator("p.notice")).to_contain_text("Đã gửi góp ý")
    code = page.locator("b.code").inner_text()
    assert feedback.normalise_code(code), code
    expect(page.locator("dd.status")).to_have_text("Đã chuyển cơ quan xử lý")
    expect(page.get_by_text("Bạn có hài lòng với cách giải quyết?")).to_have_count(0)
    page.screenshot(path=str(artifacts / "feedback-sent.png"), full_page=True)

    # 2. Sở Y tế logs in, finds the item in its inbox and answers it.
    staff = officer.new_page()
    staff.goto(f"{live_server.base_url}/login")
    staff.get_by_label("Tên đăng nhập").fill("syt_browser")
    staff.get_by_label("Mật khẩu").fill(PASSWORD)
    staff.get_by_role("button", name="Đăng nhập").click()
    staff.goto(f"{live_server.base_url}/phan-anh")
    staff.get_by_role("link", name=code).click()
    expect(staff.locator("p.fb-text")).to_have_text(COMPLAINT)  # full text: this is the responsible agency
    expect(staff.locator("td.agency")).to_have_text("Sở Y tế")
    staff.get_by_label("Nội dung trả lời").fill(ANSWER)
    staff.get_by_role("button", name="Gửi trả lời").click()
    expect(staff.locator("td.status")).to_contain_text("Đã trả lời")
    staff.screenshot(path=str(artifacts / "feedback-agency.png"), full_page=True)

    # 3. The citizen looks the code up (typed in lower case, with spaces), reads the answer and rates it.
    page.goto(f"{live_server.base_url}/theo-doi")
    page.get_by_label("Mã theo dõi").fill(code.lower().replace("-", " "))
    page.get_by_role("button", name="Tra cứu").click()
    expect(page.locator("dd.status")).to_have_text("Đã trả lời")
    expect(page.locator("p.answer")).to_have_text(ANSWER)
    expect(page.get_by_text("0912 345 678")).to_have_count(0)
    expect(page.get_by_text("Trạm y tế đóng cửa")).to_have_count(0)  # the complaint itself is never shown
    page.get_by_text("4 · Hài lòng", exact=True).click()
    page.get_by_role("button", name="Gửi đánh giá").click()
    expect(page.locator("p.notice")).to_have_text("Cảm ơn Ông/Bà đã đánh giá cách giải quyết.")
    expect(page.locator("input[name=rating]")).to_have_count(0)
    page.screenshot(path=str(artifacts / "feedback-rated.png"), full_page=True)

    with Session(live_server.engine) as session:
        item = session.scalar(select(FeedbackItem).where(FeedbackItem.tracking_code == feedback.normalise_code(code)))
        assert item is not None
        assert (item.channel, item.agency, item.status, item.rating) == ("form", "Sở Y tế", "answered", "4")
        assert item.public_answer == ANSWER and item.reception_point_id == live_server.point_id
