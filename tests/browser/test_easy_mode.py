"""Low-literacy mode in a real browser on a phone: the health questionnaire answered with taps only."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Browser
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey_app.models import Response
from tests.browser.conftest import CDN_PATTERN, PHONE, LiveServer


def _count(live: LiveServer) -> int:
    with Session(live.engine) as s:
        return s.scalar(select(func.count()).select_from(Response).where(Response.reception_point_id == live.point_id)) or 0


def test_easy_mode_with_taps_only(live_server: LiveServer, chromium_browser: Browser, artifacts: Path) -> None:
    before = _count(live_server)
    context = chromium_browser.new_context(**PHONE)
    context.route(CDN_PATTERN, lambda route: route.abort())
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.goto(f"{live_server.form_url}/de-dang")
    page.screenshot(path=str(artifacts / "easy-mode-360.png"))
    taps = 0
    for _ in range(60):
        send = page.locator(".send button")
        if send.is_visible():
            with page.expect_navigation():
                send.tap()
            break
        q = page.locator(".eq:visible")
        assert q.count() == 1, "one question per screen"
        if q.locator(".faces").count():
            q.locator(".fc.f4").tap()  # "Hài lòng"
            page.wait_for_timeout(800)  # auto-advance
        elif q.locator("label.big").count() and q.locator("input[type=radio]").count():
            q.locator("label.big").first.tap()
            page.wait_for_timeout(800)
        else:
            q.locator(".pager button.primary").tap()  # optional free text: skip it
        taps += 1
    if "/cam-on" not in page.url:
        page.screenshot(path=str(artifacts / "easy-mode-failed.png"), full_page=True)
        raise AssertionError(page.locator(".err, .notice").all_inner_texts())
    assert "Cảm ơn Ông/Bà!" in page.content()
    assert _count(live_server) == before + 1
    assert taps >= 15 and not errors
    with Session(live_server.engine) as s:
        stored = s.scalars(select(Response).order_by(Response.id.desc())).first()
        assert stored is not None and stored.answers["H19"] == "4" and stored.mode == "qr"
    context.close()
