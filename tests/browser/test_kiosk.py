"""The desk kiosk in a real Chromium: pair the tablet, lose the connection, take two responses (the
thank-you screen holds the next respondent back for the minimum interval, survives a reload, then the
form starts again empty), reconnect, and find exactly two responses stored with mode kiosk; syncing or
re-sending again stores nothing new."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey_app.models import KioskDevice, KioskSubmission, ReceptionPoint, Response
from survey_app.questionnaire import Questionnaire
from survey_app.security import Signer
from survey_app.services import kiosk as kiosk_service
from survey_app.services import questionnaires as q_service
from tests.services.test_fieldwork import answers_for

from .conftest import BROWSER_SECRET, CDN_PATTERN, LiveServer, fill_items

pytestmark = pytest.mark.browser

TABLET = {"viewport": {"width": 1280, "height": 800}, "has_touch": True}  # 10" landscape at the desk
INTERVAL = 20  # Settings.kiosk_min_interval_seconds (default)


@pytest.fixture(scope="module")
def kiosk(live_server: LiveServer) -> tuple[str, str, int, Questionnaire]:
    """(pairing path, slug, kiosk id, questionnaire) for a new kiosk at the live server's point."""
    with Session(live_server.engine, expire_on_commit=False) as session:
        point = session.get(ReceptionPoint, live_server.point_id)
        assert point is not None
        row = KioskDevice(point_id=point.id, label="Quầy thử nghiệm", slug="quaythu-" + str(int(time.time())))
        session.add(row)
        session.commit()
        version = q_service.current_for_sector(session, sector=point.sector)
        assert version is not None
        ticket = kiosk_service.pairing_ticket(Signer(BROWSER_SECRET), row)
        assert ticket is not None
        return f"/kiosk/ghep/{ticket}", row.slug, row.id, q_service.parsed(version)


@pytest.fixture
def context(chromium_browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = chromium_browser.new_context(base_url=live_server.base_url, locale="vi-VN", **TABLET)
    ctx.route(CDN_PATTERN, lambda route: route.abort())
    yield ctx
    ctx.close()


def stored(live: LiveServer, kiosk_id: int) -> list[Response]:
    with Session(live.engine) as session:
        return list(session.scalars(select(Response).join(KioskSubmission, KioskSubmission.response_id == Response.id)
                                    .where(KioskSubmission.kiosk_id == kiosk_id)))


def answer(page: Page, questionnaire: Questionnaire) -> None:
    form = page.locator("#k-form")
    answers = answers_for(questionnaire)
    for n, page_def in enumerate(questionnaire.pages):
        expect(form.locator(f"section[data-page='{page_def.id}']")).to_be_visible()
        fill_items(form, page_def.items, answers)
        if n < len(questionnaire.pages) - 1:
            form.get_by_role("button", name="Tiếp").click()
    form.get_by_role("button", name="Gửi ý kiến").click()


def test_kiosk_resets_rate_limits_and_syncs_offline_responses_once(
    context: BrowserContext, live_server: LiveServer, kiosk: tuple[str, str, int, Questionnaire]
) -> None:
    pair_path, slug, kiosk_id, questionnaire = kiosk
    page = context.new_page()
    page.goto(pair_path)
    page.get_by_role("button", name="Ghép máy này").click()
    page.wait_for_url(f"**/kiosk/{slug}/")
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function(f"caches.match('/kiosk/{slug}/').then(r => !!r)", polling=200)
    expect(page.locator("#k-form")).to_be_visible()
    expect(page.locator("a")).to_have_count(0)  # nothing to tap that leads away
    page.go_back()  # Back stays on the form
    assert page.url.endswith(f"/kiosk/{slug}/")

    context.set_offline(True)
    answer(page, questionnaire)
    thanks = page.locator("#k-thanks")
    expect(thanks).to_be_visible()
    expect(page.locator("#k-start")).to_be_hidden()
    expect(page.locator("#k-pending")).to_have_text("1")
    saved_at = time.monotonic()
    # Reloading the page (offline: served by the service worker) does not shorten the wait.
    response = page.reload()
    assert response is not None and response.from_service_worker
    expect(thanks).to_be_visible()
    expect(page.locator("#k-start")).to_be_hidden()
    left = int(page.locator("#k-countdown").inner_text())
    assert 1 <= left <= INTERVAL
    # After the interval the form is back at the first question, with nothing of the last answers.
    expect(page.locator("#k-form")).to_be_visible(timeout=(INTERVAL + 5) * 1000)
    assert time.monotonic() - saved_at >= INTERVAL - 1.5
    expect(page.locator(f"section[data-page='{questionnaire.pages[0].id}']")).to_be_visible()
    assert page.locator("#k-form input:checked").count() == 0
    answer(page, questionnaire)
    expect(thanks).to_be_visible()
    expect(page.locator("#k-pending")).to_have_text("2")
    assert stored(live_server, kiosk_id) == []
    payloads = page.evaluate("Kiosk.all().then(rows => rows.map(r => r.payload))")
    assert len(payloads) == 2 and len({p["uuid"] for p in payloads}) == 2

    context.set_offline(False)  # the "online" event starts the sync
    expect(page.locator("#k-pending")).to_have_text("0", timeout=15000)
    rows = stored(live_server, kiosk_id)
    assert len(rows) == 2 and {r.mode for r in rows} == {"kiosk"}
    assert {r.reception_point_id for r in rows} == {live_server.point_id}
    out = page.evaluate("Kiosk.sync('/api/v1/kiosk/responses')")
    assert out["stored"] == 0
    results = page.evaluate(
        """(payloads) => Kiosk.meta('token').then(t => fetch('/api/v1/kiosk/responses', {method: 'POST',
             headers: {'Content-Type': 'application/json', 'Authorization': 'Bearer ' + t.value},
             body: JSON.stringify({responses: payloads})})).then(r => r.json())""",
        payloads,
    )
    assert [r["status"] for r in results["results"]] == ["duplicate"] * 2
    with Session(live_server.engine) as session:  # the retries created no second row (other tests share the server)
        uuids = [p["uuid"] for p in payloads]
        assert session.scalar(select(func.count()).select_from(Response).where(Response.submission_id.in_(uuids))) == 2
    assert len(stored(live_server, kiosk_id)) == 2
