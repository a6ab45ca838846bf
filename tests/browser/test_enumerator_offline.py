"""The offline tablet scenario in a real Chromium: log in, lose the connection, complete three interviews,
reload (the service worker serves the app shell), see three unsynced, reconnect, and find exactly three
interviews on the server; syncing again, or re-sending the same interviews, stores nothing new."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey_app.models import Interview, Response
from tests.services.test_fieldwork import FieldSetup, answers_for, make_field_setup

from .conftest import CDN_PATTERN, LiveServer, fill_items

pytestmark = pytest.mark.browser

USERNAME = "dtv_offline"
PASSWORD = "mat-khau-dai-123"
TABLET = {"viewport": {"width": 600, "height": 960}, "has_touch": True}  # 7" portrait


@pytest.fixture(scope="module")
def field(live_server: LiveServer) -> FieldSetup:
    with Session(live_server.engine, expire_on_commit=False) as session:
        setup = make_field_setup(session, username=USERNAME, password=PASSWORD)
        return setup


@pytest.fixture
def context(chromium_browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = chromium_browser.new_context(base_url=live_server.base_url, locale="vi-VN", **TABLET)
    ctx.route(CDN_PATTERN, lambda route: route.abort())
    yield ctx
    ctx.close()


def stored(live: LiveServer, enumerator_id: int) -> int:
    with Session(live.engine) as session:
        return session.scalar(select(func.count()).select_from(Response).where(
            Response.mode == "enumerator", Response.submission_id.in_(
                select(Interview.uuid).where(Interview.enumerator_id == enumerator_id)))) or 0


def do_interview(page: Page, field: FieldSetup) -> None:
    page.get_by_role("button", name="Bắt đầu phỏng vấn").click()
    form = page.locator(f"#iv-{field.version.id}")
    expect(form).to_be_visible()
    form.get_by_text("Người trả lời từ 18 tuổi trở lên").click()
    form.locator("input[name='_used']").check()
    answers = answers_for(field.questionnaire)
    for page_def in field.questionnaire.pages:
        form.get_by_role("button", name="Tiếp").click()
        expect(form.locator(f"section[data-page='{page_def.id}']")).to_be_visible()
        fill_items(form, page_def.items, answers)
    finish = form.get_by_role("button", name="Hoàn thành phỏng vấn")
    expect(finish).to_be_visible()
    finish.click()
    expect(form).to_be_hidden()
    expect(page.get_by_role("heading", name="Phân công của tôi")).to_be_visible()


def test_three_interviews_offline_then_synced_exactly_once(
    context: BrowserContext, live_server: LiveServer, field: FieldSetup
) -> None:
    page = context.new_page()
    page.goto("/login?next=/enumerator/")
    page.get_by_label("Tên đăng nhập").fill(USERNAME)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/enumerator/")
    # The service worker is installed, the shell cached and the sync token stored before going offline.
    page.wait_for_function("navigator.serviceWorker.controller !== null || navigator.serviceWorker.ready")
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("caches.match('/enumerator/').then(r => !!r)", polling=200)
    page.wait_for_function("DieuTra.meta('token').then(t => !!t)", polling=200)
    before = stored(live_server, field.enumerator.id)
    assert before == 0

    context.set_offline(True)
    assert page.evaluate("fetch('/enumerator/sw.js', {cache: 'no-store'}).then(() => 'online', () => 'offline')") == "offline"
    for _ in range(3):
        do_interview(page, field)
    expect(page.locator("#unsynced")).to_have_text("3")

    worker_net: list[tuple[str, str]] = []  # what the service worker itself tried on the network
    context.on("requestfinished", lambda r: r.service_worker and worker_net.append(("ok", r.url)))
    context.on("requestfailed", lambda r: r.service_worker and worker_net.append(("failed", r.url)))
    response = page.reload()
    assert response is not None and response.from_service_worker  # the cached app shell, not the server
    expect(page.get_by_role("heading", name="Phân công của tôi")).to_be_visible()
    expect(page.locator("#unsynced")).to_have_text("3")
    expect(page.locator("#net")).to_have_text("Mất mạng")
    assert ("failed", f"{live_server.base_url}/enumerator/") in worker_net  # really offline: served from the cache
    assert not [u for status, u in worker_net if status == "ok"]
    page.get_by_role("button", name="Đồng bộ ngay").click()  # trying while offline loses nothing
    expect(page.locator("#sync-status")).to_contain_text("Chưa có mạng")
    expect(page.locator("#unsynced")).to_have_text("3")
    assert stored(live_server, field.enumerator.id) == 0
    payloads = page.evaluate("DieuTra.all().then(rows => rows.map(r => r.payload))")
    assert len(payloads) == 3 and len({p["uuid"] for p in payloads}) == 3

    context.set_offline(False)  # the "online" event starts the sync
    expect(page.locator("#unsynced")).to_have_text("0", timeout=15000)
    assert stored(live_server, field.enumerator.id) == 3
    expect(page.locator("#sync-status")).to_contain_text("Đã đồng bộ")

    page.get_by_role("button", name="Đồng bộ ngay").click()
    expect(page.locator("#sync-status")).to_have_text("Đã đồng bộ: 0 phiếu mới, 0 phiếu đã có.")
    # Re-sending the very same interviews (as a tablet that never got the answer would) is acknowledged.
    results = page.evaluate(
        """(payloads) => DieuTra.meta('token').then(t => fetch('/api/v1/interviews', {method: 'POST',
             headers: {'Content-Type': 'application/json', 'Authorization': 'Bearer ' + t.value},
             body: JSON.stringify({interviews: payloads})})).then(r => r.json())""",
        payloads,
    )
    assert [r["status"] for r in results["results"]] == ["duplicate"] * 3
    assert stored(live_server, field.enumerator.id) == 3
    with Session(live_server.engine) as session:
        rows = list(session.scalars(select(Response).where(Response.submission_id.in_([p["uuid"] for p in payloads]))))
        assert {r.mode for r in rows} == {"enumerator"}
        assert all(r.design_weight and r.stratum and r.psu for r in rows)  # type: ignore[attr-defined]


def test_expired_login_while_offline_keeps_the_interviews(
    context: BrowserContext, live_server: LiveServer, field: FieldSetup
) -> None:
    page = context.new_page()
    page.goto("/login?next=/enumerator/")
    page.get_by_label("Tên đăng nhập").fill(USERNAME)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/enumerator/")
    page.wait_for_function("DieuTra.meta('token').then(t => !!t)", polling=200)
    before = stored(live_server, field.enumerator.id)
    context.set_offline(True)
    do_interview(page, field)
    expect(page.locator("#unsynced")).to_have_text("1")
    # While offline both the session cookie and the token die (expired, then revoked on the server).
    context.clear_cookies()
    page.evaluate("u => DieuTra.setMeta({key: 'token', value: 'dtv_expired', user: u})", USERNAME)
    context.set_offline(False)
    expect(page.locator("#login-again")).to_be_visible(timeout=15000)
    expect(page.locator("#unsynced")).to_have_text("1")
    assert stored(live_server, field.enumerator.id) == before
    # Logging in again gets a new token and the kept interview goes through.
    page.get_by_role("link", name="Đăng nhập lại").click()
    page.get_by_label("Tên đăng nhập").fill(USERNAME)
    page.get_by_label("Mật khẩu").fill(PASSWORD)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url("**/enumerator/")
    expect(page.locator("#sync-status")).to_have_text("Đã đồng bộ: 1 phiếu mới, 0 phiếu đã có.", timeout=15000)
    expect(page.locator("#unsynced")).to_have_text("0")
    expect(page.locator("#review-wrap")).to_be_hidden()
    expect(page.locator("#login-again")).to_be_hidden()
    assert stored(live_server, field.enumerator.id) == before + 1
