"""Accessibility in a real Chromium: axe-core (WCAG 2.0/2.1 A and AA rules) on the citizen form, the
low-literacy form, the enumerator tablet app and the report overview; the citizen form answered with the
keyboard alone; what a screen reader is given (names, groups, error descriptions, alerts); 200% text.

axe-core is not vendored: the `axe_source` fixture fetches the pinned release with `npm pack` from the
npm registry into .pytest_cache/axe-core/ (once per checkout), checks the tarball against the pinned integrity
hash and injects axe.min.js into each page.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey_app.config import PROJECT_ROOT
from survey_app.models import Response, User
from survey_app.questionnaire import ItemType
from survey_app.security import hash_password
from survey_app.services import demo
from tests.services.test_fieldwork import FieldSetup, make_field_setup

from .conftest import CDN_PATTERN, PHONE, LiveServer
from .test_citizen_form import OMITTED, PLAN, QUESTIONNAIRE, REQUIRED_CHOICE_ERROR, SUBMIT, THANKS, Planned, expected_answers

pytestmark = pytest.mark.browser

AXE_VERSION = "4.10.3"
# sha512 of axe-core-4.10.3.tgz as published on registry.npmjs.org (`npm view axe-core@4.10.3 dist.integrity`).
AXE_INTEGRITY = "sha512-Xm7bpRXnDSX2YE2YFfBk2FnF0ep6tmG7xPh8iHee8MIcrgq762Nkce856dYtJYLkuIoYZvGfTs/PbZhideTcEg=="
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING = {"serious", "critical"}
NPM = shutil.which("npm") or "/usr/bin/npm"

DESKTOP = {"viewport": {"width": 1366, "height": 768}}
TABLET = {"viewport": {"width": 600, "height": 960}, "has_touch": True}
ENUMERATOR = "dtv_a11y"
ENUMERATOR_PASSWORD = "mat-khau-a11y-123"
ADMIN = "a11y_admin"
ADMIN_PASSWORD = "mat-khau-a11y-456"


# --- axe-core from the npm registry ------------------------------------------------------------------

def _fetch_axe(cache: Path) -> Path:
    """`npm pack` the pinned axe-core into ``cache`` and extract axe.min.js; verified, atomic, idempotent."""
    target = cache / f"axe-core-{AXE_VERSION}.min.js"
    if target.exists():
        return target
    cache.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=cache) as tmp:
        try:
            done = subprocess.run(
                [NPM, "pack", f"axe-core@{AXE_VERSION}", "--json", "--pack-destination", tmp],
                cwd=tmp, capture_output=True, text=True, timeout=300, check=True,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            detail = getattr(exc, "stderr", "") or ""
            pytest.fail(f"could not fetch axe-core@{AXE_VERSION} from the npm registry: {exc}\n{detail}", pytrace=False)
        tarball = Path(tmp) / json.loads(done.stdout)[0]["filename"]
        algo, _, expected = AXE_INTEGRITY.partition("-")
        actual = base64.b64encode(hashlib.new(algo, tarball.read_bytes()).digest()).decode()
        assert actual == expected, f"axe-core tarball integrity mismatch: {actual} != {expected}"
        with tarfile.open(tarball) as tar:
            member = tar.extractfile("package/axe.min.js")
            assert member is not None, "axe.min.js missing from the axe-core package"
            script = member.read()
        partial = Path(tmp) / "axe.min.js"
        partial.write_bytes(script)
        os.replace(partial, target)  # atomic: parallel workers never see half a file
    return target


@pytest.fixture(scope="session")
def axe_source() -> str:
    # Under .pytest_cache/ (git-ignored) even though the suite runs with -p no:cacheprovider: fetched once per
    # checkout, re-verified against AXE_INTEGRITY whenever it is fetched.
    return _fetch_axe(PROJECT_ROOT / ".pytest_cache" / "axe-core").read_text(encoding="utf-8")


def run_axe(page: Page, axe_source: str) -> dict[str, Any]:
    if not page.evaluate("typeof window.axe !== 'undefined'"):
        page.add_script_tag(content=axe_source)
    assert page.evaluate("axe.version") == AXE_VERSION
    result: dict[str, Any] = page.evaluate(
        "(tags) => axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']})", AXE_TAGS
    )
    assert len(result["passes"]) >= 5, "axe-core checked almost nothing: is the page empty?"
    return result


def describe(violations: list[dict[str, Any]]) -> str:
    lines = []
    for v in violations:
        lines.append(f"- {v['id']} [{v['impact']}] {v['help']} ({v['helpUrl']})")
        for node in v["nodes"][:8]:
            lines.append(f"    {node['target']}: {node.get('failureSummary', '').splitlines()[-1].strip()}")
    return "\n".join(lines)


def assert_no_serious_violations(page: Page, axe_source: str, where: str) -> list[dict[str, Any]]:
    """Fail on serious/critical axe violations; return the minor/moderate ones for the record."""
    result = run_axe(page, axe_source)
    violations: list[dict[str, Any]] = result["violations"]
    blocking = [v for v in violations if v["impact"] in BLOCKING]
    assert not blocking, f"axe-core {AXE_VERSION} on {where}: serious or critical violations\n{describe(blocking)}"
    print(f"axe-core {AXE_VERSION} on {where}: {len(result['passes'])} rules passed, "
          f"{len(result['incomplete'])} to review by hand {[i['id'] for i in result['incomplete']]}, "
          f"{len(violations)} minor/moderate violations")
    if violations:
        print(describe(violations))
    return violations


# --- contexts and data ---------------------------------------------------------------------------------

def new_context(browser: Browser, live: LiveServer, **device: Any) -> BrowserContext:
    # bypass_csp: the app's CSP (rightly) forbids inline scripts, and axe is injected as one.
    ctx = browser.new_context(base_url=live.base_url, locale="vi-VN", bypass_csp=True, **device)
    ctx.set_default_timeout(10_000)
    ctx.route(CDN_PATTERN, lambda route: route.abort("internetdisconnected"))
    return ctx


@pytest.fixture
def phone(chromium_browser: Browser, live_server: LiveServer) -> Iterator[BrowserContext]:
    ctx = new_context(chromium_browser, live_server, **PHONE)
    yield ctx
    ctx.close()


def open_form(ctx: BrowserContext, live: LiveServer, suffix: str = "") -> Page:
    page = ctx.new_page()
    page.goto(live.form_url + suffix)
    if not suffix:  # the citizen form: wait until htmx (local fallback) and form.js are ready
        page.wait_for_function("() => window.htmx !== undefined && document.getElementById('survey').dataset.enhanced")
    return page


def login(ctx: BrowserContext, username: str, password: str, next_path: str) -> Page:
    page = ctx.new_page()
    page.goto(f"/login?next={next_path}")
    page.get_by_label("Tên đăng nhập").fill(username)
    page.get_by_label("Mật khẩu").fill(password)
    page.get_by_role("button", name="Đăng nhập").click()
    page.wait_for_url(f"**{next_path}*")
    return page


@contextlib.contextmanager
def admin_desktop(browser: Browser, live: LiveServer, username: str, path: str) -> Iterator[Page]:
    """A desktop browser logged in as ``username`` on ``path``; closed afterwards."""
    ctx = new_context(browser, live, **DESKTOP)
    try:
        yield login(ctx, username, ADMIN_PASSWORD, path)
    finally:
        ctx.close()


@pytest.fixture(scope="module")
def field(live_server: LiveServer) -> FieldSetup:
    with Session(live_server.engine, expire_on_commit=False) as session:
        return make_field_setup(session, username=ENUMERATOR, password=ENUMERATOR_PASSWORD)


@pytest.fixture(scope="module")
def report_admin(live_server: LiveServer) -> str:
    with Session(live_server.engine) as session:
        demo.seed(session, province_code="14", responses=1500)  # idempotent; the same data as test_report_screens
        if session.scalar(select(User).where(User.username == ADMIN)) is None:
            session.add(User(username=ADMIN, password_hash=hash_password(ADMIN_PASSWORD), role="admin",
                             must_change_password=False))
        session.commit()
    return ADMIN


# --- helpers for the citizen form -------------------------------------------------------------------

FOCUSED = """() => {
  const el = document.activeElement, q = el && el.closest('fieldset.q'), r = el.getBoundingClientRect();
  return {tag: el.tagName.toLowerCase(), type: el.type || '', name: el.name || '', value: el.value || '',
          text: (el.innerText || '').trim(), id: el.id || '', item: q ? q.id.slice(2) : null,
          shown: r.width > 0 && r.height > 0 && getComputedStyle(el).visibility !== 'hidden'};
}"""

SCALE_ORDER = ["1", "2", "3", "4", "5", "na"]


def focused(page: Page) -> dict[str, Any]:
    result: dict[str, Any] = page.evaluate(FOCUSED)
    return result


def next_is_page_heading(page: Page) -> None:
    """After "Tiếp" the new page's heading holds the focus, so a screen reader announces where the user is."""
    f = focused(page)
    assert f["tag"] == "h2" and f["id"].startswith("pt-"), f"focus after 'Tiếp' went to {f}"
    visible_heading = page.locator("section.page:not([hidden]) h2")
    expect(visible_heading).to_be_focused()


def answer_with_keys(page: Page, planned: Planned, f: dict[str, Any]) -> bool:
    """Answer the focused control of ``planned`` with the keyboard; False when this control is not the one to use."""
    item = planned.item
    if item.type in (ItemType.number, ItemType.text):
        page.keyboard.type(planned.value)
        return True
    if item.type == ItemType.multi:
        if f["value"] != planned.value:
            return False
        page.keyboard.press("Space")
        return True
    # A radio group: Tab lands on its first radio when none is checked; Space checks it, arrows move and check.
    values = page.locator(f"#q-{item.id} input[type=radio]").evaluate_all("els => els.map(e => e.value)")
    assert f["value"] == values[0], f"Tab entered the group {item.id} on {f['value']}, not on its first option"
    steps = values.index(planned.value)
    if steps == 0:
        page.keyboard.press("Space")
    for _ in range(steps):
        page.keyboard.press("ArrowDown")
    return True


def keyboard_walk(page: Page, answering: list[Planned], *, max_keys: int = 600) -> None:
    """Tab through the form answering ``answering`` with keys, Enter on "Tiếp", and finally Enter on the submit
    button. Checks on the way: focus is never on something invisible, and Shift+Tab goes back."""
    todo = {p.item.id: p for p in answering}
    shift_tab_checked = False
    f = focused(page)
    for _ in range(max_keys):
        if f["item"] in todo and f["tag"] in ("input", "textarea") and answer_with_keys(page, todo[f["item"]], f):
            p = todo.pop(f["item"])
            box = page.locator(f"#q-{p.item.id}")
            if p.item.type in (ItemType.number, ItemType.text):
                expect(box.locator("input, textarea")).to_have_value(p.value)
            else:
                expect(box.locator(f"input[value='{p.value}']")).to_be_checked()
            if not shift_tab_checked:  # Shift+Tab leaves the control backwards and Tab comes back to it
                here = focused(page)
                page.keyboard.press("Shift+Tab")
                back = focused(page)
                assert (back["name"], back["value"], back["tag"]) != (here["name"], here["value"], here["tag"])
                page.keyboard.press("Tab")
                assert focused(page)["name"] == here["name"]
                shift_tab_checked = True
        elif f["tag"] == "button" and f["text"] == "Tiếp":
            page.keyboard.press("Enter")
            next_is_page_heading(page)
        elif f["tag"] == "button" and f["text"] == SUBMIT:
            assert not todo, f"reached the submit button with questions left unanswered: {sorted(todo)}"
            page.keyboard.press("Enter")
            return
        page.keyboard.press("Tab")
        f = focused(page)
        assert f["tag"] == "body" or f["shown"], f"the keyboard focus went to something invisible: {f}"
    raise AssertionError(f"the submit button was not reached with {max_keys} key presses; left: {sorted(todo)}")


def stored_answers(live: LiveServer, page: Page) -> dict[str, Any]:
    submission_id = dict(part.split("=", 1) for part in urlsplit(page.url).query.split("&"))["s"]
    with Session(live.engine) as session:
        row = session.scalar(select(Response).where(Response.submission_id == submission_id))
        assert row is not None, "no response stored for the thank-you page's submission id"
        return dict(row.answers)


def ax_tree(page: Page) -> list[dict[str, Any]]:
    """Chromium's own accessibility tree (what a screen reader gets), without ignored nodes."""
    cdp = page.context.new_cdp_session(page)
    try:
        nodes: list[dict[str, Any]] = cdp.send("Accessibility.getFullAXTree")["nodes"]
    finally:
        cdp.detach()
    return [n for n in nodes if not n.get("ignored")]


def ax_value(node: dict[str, Any], key: str) -> str:
    return str((node.get(key) or {}).get("value") or "").strip()


INTERACTIVE = {"button", "link", "radio", "checkbox", "textbox", "combobox", "spinbutton", "searchbox", "menuitem"}


def assert_every_control_named(page: Page, where: str) -> None:
    unnamed = [(ax_value(n, "role"), n.get("backendDOMNodeId")) for n in ax_tree(page)
               if ax_value(n, "role") in INTERACTIVE and not ax_value(n, "name")]
    assert not unnamed, f"{where}: controls without an accessible name: {unnamed}"


def assert_fits(page: Page, where: str) -> None:
    """No sideways scrolling, and every visible question, label and button lies inside the viewport width
    with its text not clipped."""
    # The configured width, not innerWidth: a mobile layout viewport widens itself to fit overflowing content.
    assert page.viewport_size is not None
    width = min(page.viewport_size["width"], page.evaluate("window.innerWidth"))
    scroll = page.evaluate("document.scrollingElement.scrollWidth")
    assert scroll <= width, f"{where}: the page scrolls sideways ({scroll}px > {width}px)"
    bad = page.evaluate(
        """(width) => Array.from(document.querySelectorAll('main fieldset.q, main legend, main label, main button, main h1, main h2, header.top a'))
             .filter(el => el.getClientRects().length && !el.closest('[hidden], .hp'))
             .map(el => ({el, r: el.getBoundingClientRect()}))
             .filter(({el, r}) => r.left < -0.5 || r.right > width + 0.5 || el.scrollWidth > el.clientWidth + 1)
             .map(({el, r}) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}.${el.className} [${Math.round(r.left)}, ${Math.round(r.right)}] "${el.innerText.slice(0, 40)}"`)""",
        width,
    )
    assert not bad, f"{where}: cut off or outside the viewport:\n" + "\n".join(bad)


def zoom_text(page: Page) -> None:
    page.evaluate("document.documentElement.style.fontSize = '200%'")


# --- the tests ----------------------------------------------------------------------------------------

def test_axe_catches_a_planted_violation(phone: BrowserContext, live_server: LiveServer, axe_source: str) -> None:
    """The checker itself: an unnamed field and pale-grey text planted in the form must be reported."""
    page = open_form(phone, live_server)
    page.evaluate("""() => {
        const f = document.createElement('input'); f.id = 'planted'; document.querySelector('main').prepend(f);
        const p = document.createElement('p'); p.id = 'pale'; p.textContent = 'Chữ quá nhạt';
        p.style.color = '#d0d0d0'; document.querySelector('main').prepend(p);
    }""")
    with pytest.raises(AssertionError) as caught:
        assert_no_serious_violations(page, axe_source, "the citizen form with planted faults")
    assert "label" in str(caught.value) and "#planted" in str(caught.value)
    assert "color-contrast" in str(caught.value) and "#pale" in str(caught.value)


def test_low_literacy_form_with_the_keyboard(phone: BrowserContext, live_server: LiveServer) -> None:
    """Arrow keys change the chosen answer without leaving the question (only a tap moves on by itself);
    "Tiếp" with Enter moves on and puts the focus on the next question."""
    page = open_form(phone, live_server, "/de-dang")
    first = page.locator(".eq:visible")
    first_id = first.get_attribute("id")
    for _ in range(20):
        page.keyboard.press("Tab")
        if focused(page)["type"] == "radio":
            break
    f = focused(page)
    assert f["type"] == "radio" and f"q-{f['item']}" == first_id, f
    page.keyboard.press("ArrowDown")
    page.wait_for_timeout(1200)  # longer than the tap auto-advance delay
    expect(page.locator(".eq:visible")).to_have_attribute("id", first_id or "")
    expect(first.locator("input[type=radio]").nth(1)).to_be_checked()
    expect(first.locator("input[type=radio]").nth(1)).to_be_focused()
    for _ in range(20):
        page.keyboard.press("Tab")
        if focused(page)["text"] == "Tiếp":
            break
    page.keyboard.press("Enter")
    second = page.locator(".eq:visible")
    expect(second).not_to_have_attribute("id", first_id or "")
    expect(second.locator("legend")).to_be_focused()


def test_axe_citizen_form_every_page_and_after_422(
    phone: BrowserContext, live_server: LiveServer, axe_source: str, artifacts: Path
) -> None:
    page = open_form(phone, live_server)
    page.screenshot(path=str(artifacts / "a11y-citizen-form-360.png"))
    n_pages = len(QUESTIONNAIRE.pages)
    for index in range(n_pages):
        assert_no_serious_violations(page, axe_source, f"the citizen form, page {index + 1}/{n_pages}")
        for p in PLAN:
            if p.page == index and p is not OMITTED:
                box = page.locator(f"#q-{p.item.id}")
                if p.item.type in (ItemType.number, ItemType.text):
                    box.locator("input, textarea").fill(p.value)
                else:
                    box.locator(f"input[value='{p.value}']").check()
        if index < n_pages - 1:
            page.get_by_role("button", name="Tiếp", exact=True).click()
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name=SUBMIT).click()
    assert sent.value.status == 422
    expect(page.locator("p.err")).to_have_text(REQUIRED_CHOICE_ERROR)
    page.screenshot(path=str(artifacts / "a11y-citizen-form-360-422.png"))
    assert_no_serious_violations(page, axe_source, "the citizen form after a 422 (error shown)")


def test_citizen_form_keyboard_only_through_an_error_to_thanks(
    phone: BrowserContext, live_server: LiveServer, axe_source: str, artifacts: Path
) -> None:
    page = open_form(phone, live_server)
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.on("request", lambda r: r.method == "POST" and errors.append("") if False else None)
    page.mouse.move(0, 0)  # no clicks and no taps from here on: only the keyboard

    with page.expect_response(lambda r: r.request.method == "POST") as first:
        keyboard_walk(page, [p for p in PLAN if p is not OMITTED])
    assert first.value.status == 422
    # form.js moves the focus to the first question with an error; the error is announced and associated.
    group = page.locator(f"#q-{OMITTED.item.id}")
    expect(group.locator("input").first).to_be_focused()
    expect(page.get_by_role("alert").filter(has_text=REQUIRED_CHOICE_ERROR)).to_have_count(1)
    expect(page.get_by_role("group", name=OMITTED.item.text.vi)).to_have_accessible_description(REQUIRED_CHOICE_ERROR)

    with page.expect_navigation(url="**/cam-on?**"):
        keyboard_walk(page, [OMITTED])
    expect(page.get_by_role("heading", level=1)).to_have_text(THANKS)
    page.screenshot(path=str(artifacts / "a11y-citizen-thanks-360.png"))
    assert stored_answers(live_server, page) == expected_answers()
    assert_no_serious_violations(page, axe_source, "the thank-you page")
    assert errors == []


def test_citizen_form_screen_reader_structure(phone: BrowserContext, live_server: LiveServer) -> None:
    page = open_form(phone, live_server)
    # Every question is a fieldset named by its legend; every option a radio/checkbox named by its label.
    for page_def in QUESTIONNAIRE.pages:
        for item in page_def.items:
            fieldset = page.locator(f"fieldset#q-{item.id}")
            expect(fieldset.locator("> legend")).to_have_count(1)
            expect(fieldset.locator("> legend")).to_contain_text(item.text.vi)
            if item.type in (ItemType.scale5, ItemType.single, ItemType.yesno, ItemType.multi):
                controls = fieldset.locator("input[type=radio], input[type=checkbox]")
                names = controls.evaluate_all("els => els.map(e => e.labels.length ? e.labels[0].innerText.trim() : '')")
                assert names and all(names), f"{item.id}: an option without a label: {names}"
    for index in range(len(QUESTIONNAIRE.pages)):
        assert_every_control_named(page, f"citizen form page {index + 1}")
        groups = [ax_value(n, "name") for n in ax_tree(page) if ax_value(n, "role") == "group"]
        shown = [i.text.vi for i in QUESTIONNAIRE.pages[index].items
                 if page.locator(f"#q-{i.id}").is_visible()]
        for text in shown:
            assert any(g.startswith(text) for g in groups), f"no group named {text!r} in {groups}"
        for item in QUESTIONNAIRE.pages[index].items:  # typed answers carry the question as their name
            if item.type in (ItemType.number, ItemType.text) and page.locator(f"#q-{item.id}").is_visible():
                expect(page.locator(f"#q-{item.id}").locator("input, textarea")).to_have_accessible_name(item.text.vi)
        if index < len(QUESTIONNAIRE.pages) - 1:
            page.get_by_role("button", name="Tiếp", exact=True).click()

    # Errors: the group and, for typed answers, the field itself are described by the error, which is an alert.
    # A comment over the length limit (typed past maxlength) gives a typed field an error too.
    text_item = next(i for i in QUESTIONNAIRE.items if i.type == ItemType.text and i.max_length)
    page.locator(f"#q-{text_item.id} textarea").evaluate(
        "(el, n) => { el.removeAttribute('maxlength'); el.value = 'x'.repeat(n + 1); }", text_item.max_length)
    with page.expect_response(lambda r: r.request.method == "POST") as sent:
        page.get_by_role("button", name=SUBMIT).click()
    assert sent.value.status == 422
    errs = page.locator("p.err")
    expect(errs.first).to_be_visible()  # the swap has happened
    expect(page.locator(f"#err-{text_item.id}")).to_have_count(1)
    checked_typed = 0
    for err in errs.all():
        err_id = err.get_attribute("id")
        assert err_id and err.get_attribute("role") == "alert"
        fieldset = page.locator(f"fieldset[aria-describedby~='{err_id}']")
        expect(fieldset).to_have_count(1)
        typed_fields = fieldset.locator("input.num, textarea").all()
        checked_typed += len(typed_fields)
        for field in typed_fields:
            expect(field).to_have_attribute("aria-describedby", err_id)
            expect(field).to_have_attribute("aria-invalid", "true")
    assert checked_typed >= 1
    first_err = page.locator("fieldset.q-err").first
    expect(first_err).to_be_visible()
    desc = first_err.evaluate("el => el.getAttribute('aria-describedby')")
    expect(page.get_by_role("group", name=first_err.locator("> legend").inner_text().split("(")[0].strip())
           ).to_have_accessible_description(page.locator(f"#{desc}").inner_text())
    expect(page.locator("p.notice[role=alert]")).to_be_visible()


def test_citizen_form_at_200_percent_text(phone: BrowserContext, live_server: LiveServer, artifacts: Path) -> None:
    page = open_form(phone, live_server)
    zoom_text(page)
    assert page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)") >= 32  # really twice as large
    n_pages = len(QUESTIONNAIRE.pages)
    for index in range(n_pages):
        assert_fits(page, f"citizen form page {index + 1} at 200% text")
        for q in page.locator("section.page:not([hidden]) fieldset.q:not([hidden])").all():
            q.scroll_into_view_if_needed()
            expect(q).to_be_in_viewport()
        if index == 0:
            page.screenshot(path=str(artifacts / "a11y-citizen-form-360-200pct.png"))
        if index < n_pages - 1:
            nxt = page.get_by_role("button", name="Tiếp", exact=True)
            nxt.scroll_into_view_if_needed()
            expect(nxt).to_be_in_viewport()
            nxt.click()
    submit = page.get_by_role("button", name=SUBMIT)
    submit.scroll_into_view_if_needed()
    expect(submit).to_be_in_viewport()


def test_axe_low_literacy_form_and_200_percent_text(
    phone: BrowserContext, live_server: LiveServer, axe_source: str, artifacts: Path
) -> None:
    page = open_form(phone, live_server, "/de-dang")
    expect(page.locator(".eq:visible")).to_have_count(1)
    page.screenshot(path=str(artifacts / "a11y-easy-form-360.png"))
    screens = 0
    while page.locator(".pager button.primary").is_visible() and screens < 60:
        assert_no_serious_violations(page, axe_source, f"the low-literacy form, screen {screens + 1}")
        assert_every_control_named(page, f"the low-literacy form, screen {screens + 1}")
        page.locator(".pager button.primary").click()
        screens += 1
    assert screens >= 10, f"only {screens} screens walked"

    page.goto(live_server.form_url + "/de-dang")
    zoom_text(page)
    screens = 0
    while True:
        assert_fits(page, f"low-literacy screen {screens + 1} at 200% text")
        if screens == 0:
            page.screenshot(path=str(artifacts / "a11y-easy-form-360-200pct.png"))
        nxt = page.locator(".pager button.primary")
        if not nxt.is_visible() or screens > 60:
            break
        nxt.click()
        screens += 1

    # A 422 re-render (nothing answered) is checked too.
    page.goto(live_server.form_url + "/de-dang")
    page.evaluate("document.querySelectorAll('.eq, .send').forEach(n => n.hidden = false)")
    with page.expect_navigation():
        page.locator(".send button").click()
    expect(page.locator("p.err").first).to_be_attached()
    assert_no_serious_violations(page, axe_source, "the low-literacy form after a 422")


def test_axe_enumerator_app(
    chromium_browser: Browser, live_server: LiveServer, field: FieldSetup, axe_source: str, artifacts: Path
) -> None:
    ctx = new_context(chromium_browser, live_server, **TABLET)
    try:
        page = login(ctx, ENUMERATOR, ENUMERATOR_PASSWORD, "/enumerator/")
        expect(page.get_by_role("heading", name="Phân công của tôi")).to_be_visible()
        expect(page.locator("#unsynced")).not_to_have_text("…")
        page.screenshot(path=str(artifacts / "a11y-enumerator-600.png"))
        assert_no_serious_violations(page, axe_source, "the enumerator app (assignments)")
        assert_every_control_named(page, "the enumerator app (assignments)")
        page.get_by_role("button", name="Bắt đầu phỏng vấn").click()
        form = page.locator(f"#iv-{field.version.id}")
        expect(form).to_be_visible()
        assert_no_serious_violations(page, axe_source, "the enumerator interview (respondent selection)")
        form.get_by_text("Người trả lời từ 18 tuổi trở lên").click()
        form.locator("input[name='_used']").check()
        for page_def in field.questionnaire.pages:
            form.get_by_role("button", name="Tiếp").click()
            expect(form.locator(f"section[data-page='{page_def.id}']")).to_be_visible()
            assert_no_serious_violations(page, axe_source, f"the enumerator interview, page {page_def.id}")
            assert_every_control_named(page, f"the enumerator interview, page {page_def.id}")
        page.screenshot(path=str(artifacts / "a11y-enumerator-interview-600.png"))
    finally:
        ctx.close()


def test_axe_report_overview(
    chromium_browser: Browser, live_server: LiveServer, report_admin: str, axe_source: str, artifacts: Path
) -> None:
    with admin_desktop(chromium_browser, live_server, report_admin, "/reports") as page:
        page.goto("/reports?kind=annual&year=2026")
        assert page.locator("#overview").count() == 1, page.locator("main").inner_text()[:2000]
        expect(page.locator("#overview tbody tr")).to_have_count(4)
        page.screenshot(path=str(artifacts / "a11y-reports-overview-1366x768.png"))
        assert_no_serious_violations(page, axe_source, "the report overview")
        assert_every_control_named(page, "the report overview")
        page.locator("details.method summary").click()  # the method note, opened
        assert_no_serious_violations(page, axe_source, "the report overview with the method note open")


def test_axe_feedback_settings_and_a_staff_agency_saved_with_the_keyboard(
    chromium_browser: Browser, live_server: LiveServer, report_admin: str, axe_source: str
) -> None:
    """The admin editors, with a form in every staff row: every control named, no serious violation, and an
    agency set from the keyboard alone lands back on the settings page with the change shown."""
    with admin_desktop(chromium_browser, live_server, report_admin, "/phan-anh/cai-dat") as page:
        assert_no_serious_violations(page, axe_source, "the feedback settings")
        assert_every_control_named(page, "the feedback settings")
        field = page.get_by_label(f"Cơ quan của {report_admin}")
        field.fill("Văn phòng UBND tỉnh")
        field.press("Enter")
        page.wait_for_url("**/phan-anh/cai-dat")
        expect(page.get_by_label(f"Cơ quan của {report_admin}")).to_have_value("Văn phòng UBND tỉnh")


def test_axe_round_page_and_revoking_an_enumerator_by_name(
    chromium_browser: Browser, live_server: LiveServer, report_admin: str, field: FieldSetup, axe_source: str
) -> None:
    path = f"/admin/fieldwork/rounds/{field.survey_round.id}"
    with admin_desktop(chromium_browser, live_server, report_admin, path) as page:
        assert_no_serious_violations(page, axe_source, "a survey round")
        assert_every_control_named(page, "a survey round")
        page.get_by_label("Điều tra viên", exact=True).last.fill(field.enumerator.username)
        page.get_by_role("button", name="Thu hồi mã").click()
        expect(page.get_by_role("status")).to_contain_text(f"Đã thu hồi mã đồng bộ của {field.enumerator.username}.")
        assert_no_serious_violations(page, axe_source, "a survey round after a revocation")
