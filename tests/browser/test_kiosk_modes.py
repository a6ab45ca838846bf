"""The desk kiosk's language switch and its low-literacy variant in a real Chromium, offline.

Language: the kiosk offers the citizen form's languages (those of the questionnaire that have an interface
catalog). Choice made here, and tested: every language's page is kept on the tablet by the service worker when
it is paired, so the switch works offline; a language whose page is not kept is hidden while offline. Answers
given before a switch are carried over. After each response the kiosk goes back to Vietnamese: it is a shared
device at a Vietnamese one-stop desk, and the next person must not find the form in the last person's language.

The thank-you screen holds the next respondent back for the minimum interval (20 s). Instead of sleeping, the
tests drive the page's clock (Playwright's clock: timers and Date) past the interval, so they never depend on
how fast the machine is.
"""

from __future__ import annotations

import secrets
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey_app.config import Settings
from survey_app.models import KioskDevice, KioskSubmission, ReceptionPoint, Response
from survey_app.questionnaire import ItemType, Questionnaire
from survey_app.security import Signer
from survey_app.services import kiosk as kiosk_service
from survey_app.services import questionnaires as q_service
from survey_app.services.audio import prompt_key
from tests.services.test_fieldwork import answers_for

from .conftest import BROWSER_SECRET, CDN_PATTERN, PHONE, LiveServer, fill_items
from .test_accessibility import axe_source, new_context
from .test_accessibility_pages import check

pytestmark = pytest.mark.browser
__all__ = ["axe_source"]  # fixture re-used from test_accessibility.py

TABLET: dict[str, Any] = {"viewport": {"width": 1280, "height": 800}, "has_touch": True}  # 10" landscape at the desk
INTERVAL_MS = Settings.model_fields["kiosk_min_interval_seconds"].default * 1000


@dataclass(frozen=True)
class NewKiosk:
    pair_path: str
    slug: str
    kiosk_id: int
    questionnaire: Questionnaire


def new_kiosk(live: LiveServer, label: str) -> NewKiosk:
    """A kiosk of its own for each test: the minimum interval between responses counts per kiosk."""
    with Session(live.engine, expire_on_commit=False) as session:
        point = session.get(ReceptionPoint, live.point_id)
        assert point is not None
        row = KioskDevice(point_id=point.id, label=label, slug="k" + secrets.token_urlsafe(9))
        session.add(row)
        session.commit()
        version = q_service.current_for_sector(session, sector=point.sector)
        assert version is not None
        ticket = kiosk_service.pairing_ticket(Signer(BROWSER_SECRET), row)
        assert ticket is not None
        return NewKiosk(f"/kiosk/ghep/{ticket}", row.slug, row.id, q_service.parsed(version))


@pytest.fixture
def tablet(chromium_browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = chromium_browser.new_context(base_url=live_server.base_url, locale="vi-VN", **TABLET)
    ctx.set_default_timeout(15_000)
    ctx.route(CDN_PATTERN, lambda route: route.abort())
    yield ctx
    ctx.close()


def pair(page: Page, kiosk: NewKiosk, *, easy: bool) -> str:
    """Pair the tablet (choosing the variant with a tap) and wait until the service worker keeps every page."""
    page.goto(kiosk.pair_path)
    page.get_by_label("Phiếu dễ dùng" if easy else "Phiếu thường", exact=False).tap()
    page.get_by_role("button", name="Ghép máy này").tap()
    shell = f"/kiosk/{kiosk.slug}/" + ("de-dang/" if easy else "")
    page.wait_for_url(f"**{shell}")
    page.evaluate("navigator.serviceWorker.ready")
    for key in (shell, f"{shell}?lang=en"):
        page.wait_for_function(f"caches.match('{key}').then(r => !!r)", polling=200)
    return shell


def stored(live: LiveServer, kiosk_id: int) -> list[Response]:
    with Session(live.engine) as session:
        return list(session.scalars(select(Response).join(KioskSubmission, KioskSubmission.response_id == Response.id)
                                    .where(KioskSubmission.kiosk_id == kiosk_id)))


def fill_page(page: Page, questionnaire: Questionnaire, index: int, answers: dict[str, Any]) -> None:
    fill_items(page.locator("#k-form"), questionnaire.pages[index].items, answers)


def past_the_interval(page: Page) -> None:
    page.clock.run_for(INTERVAL_MS + 1000)


def test_kiosk_language_switch_offline_carries_answers_and_resets_to_vietnamese(
    tablet: BrowserContext, live_server: LiveServer, artifacts: Path
) -> None:
    kiosk = new_kiosk(live_server, "Quầy ngôn ngữ")
    q = kiosk.questionnaire
    answers = answers_for(q)
    page = tablet.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.clock.install()
    shell = pair(page, kiosk, easy=False)
    switch = page.get_by_role("navigation", name="Ngôn ngữ / Language")
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(switch.get_by_role("button")).to_have_text(["English"])
    expect(switch.get_by_role("button", name="English")).to_have_attribute("lang", "en")

    tablet.set_offline(True)
    fill_page(page, q, 0, answers)  # the first page answered in Vietnamese, then the switch
    with page.expect_navigation() as nav:
        switch.get_by_role("button", name="English").tap()
    response = nav.value
    assert response is not None and response.from_service_worker and page.url.endswith(f"{shell}?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    expect(page.get_by_role("heading", level=1).first).to_have_text(q.title.get("en"))
    first_item = next(i for i in q.pages[0].items if i.id in answers and i.type != ItemType.number)
    expect(page.locator(f"#q-{first_item.id} input[value='{answers[first_item.id]}']")).to_be_checked()  # carried
    expect(page.locator(f"#q-{first_item.id} legend")).to_contain_text(first_item.text.get("en"))
    expect(switch.get_by_role("button")).to_have_text(["Tiếng Việt"])
    page.screenshot(path=str(artifacts / "kiosk-english-offline-1280.png"))

    for index in range(1, len(q.pages)):
        page.locator("#k-form .next").tap()
        fill_page(page, q, index, answers)
    expect(page.locator("#k-form .finish")).to_have_text("Submit")
    page.locator("#k-form .finish").tap()
    thanks = page.locator("#k-thanks")
    expect(thanks.get_by_role("heading", level=1)).to_have_text("Thank you!")
    expect(switch).to_be_hidden()  # nobody changes the language on the thank-you screen

    # After the interval: the next respondent gets the Vietnamese page (kept on the device), empty.
    with page.expect_navigation() as nav:
        past_the_interval(page)
    assert nav.value is not None and nav.value.from_service_worker and page.url.endswith(shell)
    expect(page.locator("html")).to_have_attribute("lang", "vi")
    expect(page.locator("#k-form")).to_be_visible()
    expect(page.locator(f"section[data-page='{q.pages[0].id}']")).to_be_visible()
    assert page.locator("#k-form input:checked").count() == 0
    expect(switch.get_by_role("button")).to_have_text(["English"])
    expect(page.locator("#k-pending")).to_have_text("1")

    tablet.set_offline(False)  # the "online" event starts the sync
    expect(page.locator("#k-pending")).to_have_text("0")
    rows = stored(live_server, kiosk.kiosk_id)
    assert [(r.mode, r.language) for r in rows] == [("kiosk", "en")]
    assert {k: v for k, v in rows[0].answers.items() if v is not None} == answers

    # A language whose page is not kept on the device is not offered offline (and comes back online).
    page.evaluate(f"caches.keys().then(ks => Promise.all(ks.map(k => caches.open(k).then(c => c.delete('{shell}?lang=en')))))")
    tablet.set_offline(True)
    expect(switch.get_by_role("button", name="English")).to_be_hidden()
    tablet.set_offline(False)
    expect(switch.get_by_role("button", name="English")).to_be_visible()
    assert errors == []


@pytest.fixture
def audio_for(live_server: LiveServer) -> Iterator[Callable[[str], str]]:
    """Gives a Vietnamese prompt a (silent) synthetic recording, so the low-literacy kiosk has audio to show and keep.

    Each test records a different prompt: tests running at the same time on other workers never remove a file
    another one relies on (they may see an extra play button, which changes nothing they check)."""
    audio_dir = Settings(environment="test", secret_key=BROWSER_SECRET).audio_dir  # what the live server uses
    made: list[Path] = []
    new_dirs = [d for d in (audio_dir, audio_dir / "synthetic") if not d.exists()]

    def record(text: str) -> str:
        key = prompt_key(text, "vi")
        path = audio_dir / "synthetic" / f"{key}.wav"
        if not path.exists():  # a recording already there (a developer's var/audio) is used and left alone
            path.parent.mkdir(parents=True, exist_ok=True)
            with wave.open(str(path), "wb") as w:
                w.setnchannels(1)
                w.setsampwidth(2)
                w.setframerate(8000)
                w.writeframes(b"\0\0" * 800)
            made.append(path)
        return f"/audio/{key}"

    yield record
    for path in made:
        path.unlink(missing_ok=True)
    for d in reversed(new_dirs):
        if d.exists() and not any(d.iterdir()):
            d.rmdir()


def test_kiosk_low_literacy_variant_with_taps_only_offline_then_reset(
    tablet: BrowserContext, live_server: LiveServer, audio_for: Callable[[str], str], artifacts: Path
) -> None:
    kiosk = new_kiosk(live_server, "Quầy dễ dùng")
    first_prompt_audio = audio_for(kiosk.questionnaire.items[0].text.vi)
    page = tablet.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.clock.install()
    shell = pair(page, kiosk, easy=True)
    expect(page.locator(".eq:visible")).to_have_count(1)
    expect(page.locator(".eq:visible .faces, .eq:visible label.big").first).to_be_visible()
    expect(page.locator(".eq:visible .play")).to_have_attribute("data-src", f"{live_server.base_url}{first_prompt_audio}")
    page.wait_for_function(f"caches.match('{first_prompt_audio}').then(r => !!r)", polling=200)

    tablet.set_offline(True)
    # The question's audio plays offline: kept by the service worker with the page.
    assert page.evaluate(f"fetch('{first_prompt_audio}').then(r => r.status)") == 200
    page.locator(".eq:visible .play").tap()
    page.screenshot(path=str(artifacts / "kiosk-easy-offline-1280.png"))
    taps = 0
    for _ in range(80):
        send = page.locator(".send button")
        if send.is_visible():
            send.tap()
            break
        q = page.locator(".eq:visible")
        expect(q).to_have_count(1)
        current = q.get_attribute("id")
        if q.locator(".faces").count():
            q.locator(".fc.f4").tap()  # "Hài lòng": the kiosk moves on by itself after a tap
        elif q.locator("input[type=radio]").count():
            q.locator("label.big").first.tap()
        else:
            q.locator(".pager button.primary").tap()  # a number or free text: skip with "Tiếp"
        taps += 1
        if not page.locator(".send button").is_visible():
            expect(page.locator(".eq:visible")).not_to_have_id(current or "")
    thanks = page.locator("#k-thanks")
    expect(thanks).to_be_visible()
    expect(page.locator("#k-pending")).to_have_text("1")
    assert taps >= 10

    past_the_interval(page)  # Vietnamese already: the form restarts in place
    expect(page.locator("#k-start")).to_be_visible()
    first = page.locator(".eq").first
    expect(page.locator(".eq:visible")).to_have_id(first.get_attribute("id") or "")
    assert page.locator("#k-form input:checked").count() == 0
    assert page.url.endswith(shell)

    tablet.set_offline(False)
    expect(page.locator("#k-pending")).to_have_text("0")
    rows = stored(live_server, kiosk.kiosk_id)
    assert len(rows) == 1 and rows[0].mode == "kiosk" and rows[0].language == "vi"
    scale_items = [i.id for i in kiosk.questionnaire.items if i.type == ItemType.scale5 and i.id in rows[0].answers]
    assert scale_items and all(rows[0].answers[i] == "4" for i in scale_items)
    assert errors == []


# --- accessibility (axe-core and 200% text, as in test_accessibility_pages.py) ----------------------------

@pytest.fixture
def kiosk_phone(chromium_browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    """The smallest screen a kiosk page may meet (360 px), where 200% text is hardest to fit."""
    ctx = new_context(chromium_browser, live_server, **PHONE)
    yield ctx
    ctx.close()


def test_axe_kiosk_form_pairing_pages_missing_answer_thanks_and_unpaired(
    kiosk_phone: BrowserContext, chromium_browser: Browser, live_server: LiveServer, axe_source: str, artifacts: Path
) -> None:
    kiosk = new_kiosk(live_server, "Quầy kiểm tra a11y")
    q = kiosk.questionnaire
    page = kiosk_phone.new_page()
    page.clock.install()
    page.goto(kiosk.pair_path)
    check(page, axe_source, "the kiosk pairing page", artifacts, "a11y-kiosk-pair-360")
    pair(page, kiosk, easy=False)
    expect(page.locator("#k-form")).to_be_visible()
    for index, page_def in enumerate(q.pages):
        expect(page.locator(f"section[data-page='{page_def.id}']")).to_be_visible()
        check(page, axe_source, f"the kiosk form, page {index + 1}", artifacts, f"a11y-kiosk-form-360-p{index + 1}")
        if index < len(q.pages) - 1:
            page.locator("#k-form .next").tap()
            expect(page.locator(f"#pt-{q.pages[index + 1].id}")).to_be_focused()  # the new page is announced

    # Sent with nothing answered: the first required question is marked, described by the alert and focused.
    page.locator("#k-form .finish").tap()
    missing = page.locator("fieldset.q-err")
    expect(missing).to_have_count(1)
    message = "Còn câu bắt buộc chưa trả lời (được đánh dấu)."
    expect(page.get_by_role("alert").filter(has_text=message)).to_have_count(1)
    expect(page.get_by_role("group", name=q.items[0].text.vi)).to_have_accessible_description(message)
    expect(missing.locator("input").first).to_be_focused()
    check(page, axe_source, "the kiosk form with a required answer missing", artifacts, "a11y-kiosk-form-360-missing")

    answers = answers_for(q)
    for index in range(len(q.pages)):
        fill_page(page, q, index, answers)
        page.locator("#k-form .finish" if index == len(q.pages) - 1 else "#k-form .next").tap()
    expect(page.locator("#k-thanks")).to_be_visible()
    expect(page.locator("#k-thanks h1")).to_be_focused()
    check(page, axe_source, "the kiosk thank-you screen", artifacts, "a11y-kiosk-thanks-360")
    past_the_interval(page)
    expect(page.locator("#k-start")).to_be_visible()

    page.goto(f"/kiosk/{kiosk.slug}/?lang=en")
    expect(page.locator("html")).to_have_attribute("lang", "en")
    check(page, axe_source, "the kiosk form in English", artifacts, "a11y-kiosk-form-360-en")

    other = new_context(chromium_browser, live_server, **PHONE)
    try:  # a tablet that was never paired shows only the staff notice
        fresh = other.new_page()
        fresh.goto(f"/kiosk/{kiosk.slug}/")
        expect(fresh.locator("#k-unpaired")).to_be_visible()
        expect(fresh.locator("#k-start")).to_be_hidden()
        check(fresh, axe_source, "the kiosk before pairing", artifacts, "a11y-kiosk-unpaired-360")
    finally:
        other.close()


def test_axe_kiosk_low_literacy_screens_and_missing_answer(
    kiosk_phone: BrowserContext, live_server: LiveServer, audio_for: Callable[[str], str], axe_source: str,
    artifacts: Path,
) -> None:
    kiosk = new_kiosk(live_server, "Quầy dễ dùng a11y")
    # A question with its play button beside it: the tightest line at 200% text.
    spoken = next(i for i in kiosk.questionnaire.items if i.type == ItemType.scale5)
    audio_for(spoken.text.vi)
    page = kiosk_phone.new_page()
    pair(page, kiosk, easy=True)
    screens = 0
    while page.locator(".pager button.primary").is_visible() and screens < 60:
        current = page.locator(".eq:visible").get_attribute("id") or ""
        check(page, axe_source, f"the low-literacy kiosk, screen {screens + 1}", artifacts,
              f"a11y-kiosk-easy-360-s{screens + 1}")
        page.locator(".pager button.primary").tap()  # on without answering
        expect(page.locator(".eq:visible")).not_to_have_id(current)
        screens += 1
    assert screens >= 10, f"only {screens} screens walked"
    expect(page.locator(f"#q-{spoken.id} .play")).to_have_count(1)
    last = page.locator(".eq:visible")
    if last.locator("input[type=radio]").count():
        last.locator("label").first.tap()
    send = page.locator(".send button")
    expect(send).to_be_visible()
    send.tap()
    # Back at the first unanswered required question, marked, described and focused; nothing was stored.
    missing = page.locator("fieldset.q-err")
    expect(missing).to_have_count(1)
    expect(missing).to_be_visible()
    expect(missing).to_have_accessible_description("Còn câu bắt buộc chưa trả lời (được đánh dấu).")
    expect(missing.locator("legend")).to_be_focused()
    expect(page.locator("#k-thanks")).to_be_hidden()
    check(page, axe_source, "the low-literacy kiosk with a required answer missing", artifacts,
          "a11y-kiosk-easy-360-missing")
