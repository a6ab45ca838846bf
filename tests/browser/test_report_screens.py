"""Screenshots of the province overview (1366×768, signed in) and of the public results page on a phone
(360×740), on a live server loaded with the synthetic demo data. Saved under test-artifacts/."""

from __future__ import annotations

from pathlib import Path

import pytest
from playwright.sync_api import Browser, expect
from sqlalchemy.orm import Session

from survey_app.models import User
from survey_app.security import hash_password
from survey_app.services import demo
from tests.browser.conftest import PHONE, LiveServer

pytestmark = pytest.mark.browser
PASSWORD = "mat-khau-bao-cao-123"


@pytest.fixture(scope="module")
def demo_data(live_server: LiveServer) -> LiveServer:
    with Session(live_server.engine) as session:
        demo.seed(session, province_code="14", responses=1500)
        if session.query(User).filter_by(username="baocao_admin").first() is None:
            session.add(User(username="baocao_admin", password_hash=hash_password(PASSWORD), role="admin",
                             must_change_password=False))
        session.commit()
    return live_server


def test_overview_screenshot(demo_data: LiveServer, chromium_browser: Browser, artifacts: Path) -> None:
    context = chromium_browser.new_context(viewport={"width": 1366, "height": 768}, base_url=demo_data.base_url)
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    page = context.new_page()
    page.goto("/login")
    page.get_by_label("Tên đăng nhập").fill("baocao_admin")
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.goto("/reports?kind=annual&year=2026")
    expect(page.locator("h1")).to_contain_text("Chỉ số hài lòng toàn tỉnh")
    expect(page.locator("#overview tbody tr")).to_have_count(4)
    expect(page.locator("svg.chart")).to_be_visible()
    page.screenshot(path=str(artifacts / "reports-overview-1366x768.png"))
    context.close()


def test_public_results_phone_screenshot(demo_data: LiveServer, chromium_browser: Browser, artifacts: Path) -> None:
    context = chromium_browser.new_context(**PHONE, base_url=demo_data.base_url)
    context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
    page = context.new_page()
    page.goto("/ket-qua?kind=annual&year=2026")
    expect(page.locator("#province tbody tr")).to_have_count(4)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 360 + 1, f"the page scrolls sideways on a phone ({width}px)"
    page.screenshot(path=str(artifacts / "public-results-360x740.png"))
    context.close()
