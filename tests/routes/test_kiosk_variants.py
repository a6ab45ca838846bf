"""The desk kiosk's language switch and low-literacy variant, as served (the offline behaviour is checked in a real
browser in tests/browser/test_kiosk_modes.py), and language-aware labels in the staff and report templates."""

from __future__ import annotations

import re
from pathlib import Path

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from survey_app.i18n import LANGUAGE_NAMES
from survey_app.questionnaire import SECTOR_LABELS, SIPAS_LABELS
from survey_app.services import questionnaires as q_service
from survey_app.templating import TEMPLATE_DIR
from tests.factories import make_point
from tests.routes.test_kiosk import _create, _login_admin, _paired
from tests.test_i18n import zz_installed

__all__ = ["zz_installed"]  # fixture from tests/test_i18n.py


def _switch(html: str) -> list[tuple[str, str]]:
    """(code, name) of each language button of the kiosk's switch."""
    nav = re.search(r'<nav class="langs"[^>]*>(.*?)</nav>', html, re.S)
    assert nav, "no language switch on the kiosk page"
    return re.findall(r'<button type="submit" name="lang" value="([^"]+)" lang="[^"]+">([^<]+)</button>', nav.group(1))


def test_kiosk_offers_the_citizen_forms_languages_and_defaults_to_vietnamese(
    client: TestClient, db_session: Session
) -> None:
    _point, _token, slug = _paired(client, db_session)
    version = q_service.current_for_sector(db_session, sector="health")
    assert version is not None
    questionnaire = q_service.parsed(version)

    vi = client.get(f"/kiosk/{slug}/")
    assert vi.status_code == 200 and '<html lang="vi">' in vi.text and 'data-lang="vi"' in vi.text
    assert _switch(vi.text) == [("en", "English")]
    assert 'data-langs="en"' in vi.text  # what the service worker keeps for offline use
    assert questionnaire.title.vi in vi.text

    en = client.get(f"/kiosk/{slug}/?lang=en")
    assert '<html lang="en">' in en.text and 'data-lang="en"' in en.text
    assert _switch(en.text) == [("vi", "Tiếng Việt")]
    assert questionnaire.title.get("en") in en.text and "Public health care" in en.text
    assert "Page 1 of" in en.text and "Submit" in en.text  # the interface in English too
    assert 'data-msg-missing="A required question is not answered yet (marked)."' in en.text
    body = en.text.split("<body", 1)[1]
    assert "<a " not in body  # the switch is made of buttons: still no link leads away from the form

    # A shared device: the language cookie of a past visit to the citizen form does not choose the kiosk's language.
    client.cookies.set("lang", "en")
    assert '<html lang="vi">' in client.get(f"/kiosk/{slug}/").text
    assert '<html lang="vi">' in client.get(f"/kiosk/{slug}/?lang=xx").text  # no catalog: Vietnamese


def test_kiosk_language_with_a_partial_translation_falls_back_per_item(
    zz_installed: str, client: TestClient, db_session: Session
) -> None:
    _point, _token, slug = _paired(client, db_session)
    assert ("zz", LANGUAGE_NAMES["zz"]) in _switch(client.get(f"/kiosk/{slug}/").text)
    for path in (f"/kiosk/{slug}/?lang=zz", f"/kiosk/{slug}/de-dang/?lang=zz"):
        html = client.get(path).text
        assert '<html lang="zz">' in html
        assert "ZZ-SUBMIT" in html and "Gửi ý kiến" not in html  # interface string from the zz catalog
        assert "ZZ-HEALTH-TITLE" in html and "ZZ-H1A" in html  # questionnaire texts given in zz
        assert "Ông/Bà có sử dụng thẻ bảo hiểm y tế" in html  # H1b not translated: Vietnamese, per item


def test_low_literacy_kiosk_reuses_the_easy_form(client: TestClient, db_session: Session) -> None:
    point, _token, slug = _paired(client, db_session)
    r = client.get(f"/kiosk/{slug}/de-dang/")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-cache"
    html = r.text
    assert 'data-ui="easy"' in html and 'class="public kiosk easy"' in html
    assert 'class="easy-form"' in html and "/static/js/easy.js" in html and "/static/css/easy.css" in html
    assert html.index("/static/js/easy.js") < html.index("/static/js/kiosk/app.js")
    assert f'data-shell="/kiosk/{slug}/de-dang/"' in html
    version = q_service.current_for_sector(db_session, sector=point.sector)
    assert version is not None
    for item in q_service.parsed(version).items:  # the same fieldsets as /q/{token}/de-dang
        assert re.search(rf'<fieldset class="q eq" id="q-{re.escape(item.id)}"', html), item.id
    easy_public = client.get(f"/q/{point.token}/de-dang").text
    assert easy_public.count('class="fc f') == html.count('class="fc f') > 0  # the large faces
    assert "<a " not in html.split("<body", 1)[1]
    assert 'action=' not in html.split('id="k-form"', 1)[1].split(">", 1)[0]  # kept on the device, never posted
    manifest = client.get(f"/kiosk/{slug}/manifest.webmanifest?ui=easy").json()
    assert manifest["start_url"] == f"/kiosk/{slug}/de-dang/" and manifest["scope"] == f"/kiosk/{slug}/"
    assert f'/kiosk/{slug}/manifest.webmanifest?ui=easy' in html
    assert client.get("/kiosk/unknown-slug/de-dang/").status_code == 404


def test_pairing_offers_both_variants(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session, sector="health")
    _login_admin(client, db_session)
    pair_path = _create(client, point.id)
    client.cookies.clear()
    page = client.get(pair_path).text
    assert 'name="ui" value="form" checked' in page and 'name="ui" value="easy"' in page
    body = client.post(pair_path).json()
    assert body["url"].endswith(f"/kiosk/{body['kiosk']}/") and body["easy_url"].endswith(f"/kiosk/{body['kiosk']}/de-dang/")


# --- labels in the page's language ------------------------------------------------------------------------

PRINTED_VI = re.compile(r"\{\{[^}]*?(\.vi|\[[\"']vi[\"']\])\s*(\|[^}]*)?\}\}")


def test_no_template_prints_a_vietnamese_only_field() -> None:
    """`label.vi`, `text.vi` or `x["vi"]` printed as such ignore the page's language; only as a fallback is it fine."""
    found = []
    for path in sorted(Path(TEMPLATE_DIR).rglob("*.html")):
        for match in PRINTED_VI.finditer(path.read_text(encoding="utf-8")):
            found.append(f"{path.relative_to(TEMPLATE_DIR)}: {match.group(0)}")
    assert not found, "print these in the page's language (label.get(lang, label.vi), text.get(lang)):\n" + "\n".join(found)
    assert PRINTED_VI.search("{{ label.vi }}") and PRINTED_VI.search('{{ s["vi"] | upper }}')
    assert not PRINTED_VI.search("{{ label.get(lang, label.vi) }}")


def test_report_labels_follow_the_language(app: FastAPI) -> None:
    env = app.state.templates.env
    for lang in ("vi", "en", "zz"):
        named = env.get_template("reports/_macros.html").make_module({"lang": lang}).named
        expected = "vi" if lang == "zz" else lang
        assert str(named(SECTOR_LABELS, "health")) == SECTOR_LABELS["health"][expected]
        assert str(named(SIPAS_LABELS, "access")) == SIPAS_LABELS["access"][expected]
        assert str(named(SECTOR_LABELS, "no_such_sector")) == "no_such_sector"


def test_staff_pages_show_sectors_in_the_chosen_language(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session, sector="health")
    _login_admin(client, db_session)
    _create(client, point.id)  # the kiosk list names each kiosk's sector
    for path in ("/admin/points", "/admin/users", "/admin/kiosks", "/admin/fieldwork"):
        english = client.get(path, params={"lang": "en"})
        assert english.status_code == 200, path
        assert SECTOR_LABELS["health"]["en"] in english.text, path
        vietnamese = client.get(path, params={"lang": "vi"}).text
        assert SECTOR_LABELS["health"]["vi"] in vietnamese and SECTOR_LABELS["health"]["en"] not in vietnamese, path
