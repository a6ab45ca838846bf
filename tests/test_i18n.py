"""Interface catalogs: complete English, matching placeholders, and a language added by import becomes
selectable on the citizen form (made-up test language "zz"; no real language's text is invented here)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy.orm import Session

from survey_app import i18n
from survey_app.services import questionnaires as q_service
from survey_app.services import translations as tr
from tests.factories import make_point

PROJECT_ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def extracted() -> dict[str, list[tuple[str, int]]]:
    return tr.extract_messages(PROJECT_ROOT)


def test_every_interface_string_has_an_english_translation(extracted: dict[str, list[tuple[str, int]]]) -> None:
    english = i18n.read_catalog(i18n.catalog_path("en"))
    missing = {msgid: locs[0] for msgid, locs in extracted.items() if not english.get(msgid, "").strip()}
    assert not missing, f"add these to survey_app/locale/en/LC_MESSAGES/messages.po: {missing}"
    obsolete = sorted(set(english) - set(extracted))
    assert not obsolete, f"no longer used anywhere; remove from the catalog: {obsolete}"
    assert len(extracted) > 80  # the extractor really sees templates and Python


def test_extraction_covers_templates_python_and_n_markers(extracted: dict[str, list[tuple[str, int]]]) -> None:
    files = {f for locs in extracted.values() for f, _ in locs}
    assert any(f.endswith(".html") for f in files) and any(f.endswith(".py") for f in files)
    assert "Vui lòng chọn một câu trả lời." in extracted  # N_() in services/submissions.py
    assert "Có" in extracted  # N_() inside a template literal


@pytest.mark.parametrize("lang", sorted(p.parent.parent.name for p in i18n.LOCALE_DIR.glob("*/LC_MESSAGES/messages.po")))
def test_placeholders_match_the_message_id(lang: str) -> None:
    for msgid, text in i18n.read_catalog(i18n.catalog_path(lang)).items():
        assert tr.placeholders(text) == tr.placeholders(msgid), f"{lang}: {msgid!r} → {text!r}"


def test_gettext_translates_formats_and_falls_back() -> None:
    assert i18n.gettext("Gửi ý kiến", "en") == "Submit"
    assert i18n.gettext("Trang {page} / {pages}", "en", page=2, pages=5) == "Page 2 of 5"
    assert i18n.gettext("Trang {page} / {pages}", "vi", page=2, pages=5) == "Trang 2 / 5"
    assert i18n.gettext("Chuỗi chưa có trong danh mục", "en") == "Chuỗi chưa có trong danh mục"
    assert i18n.gettext("Gửi ý kiến", "zz") == "Gửi ý kiến"
    assert i18n.LANGUAGE_NAMES["en"] == "English" and i18n.LANGUAGE_NAMES["vi"] == "Tiếng Việt"
    assert i18n.pick_language("en") == "en" and i18n.pick_language("zz") == "vi" and i18n.pick_language(None) == "vi"


@pytest.fixture
def zz_installed(tmp_path: Path, db_session: Session) -> Iterator[str]:
    """Import a translated workbook for "zz" into private copies, publish, and load its catalog."""
    qdir = tmp_path / "questionnaires"
    shutil.copytree(PROJECT_ROOT / "questionnaires", qdir)
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR / "en", locale / "en")
    path = tmp_path / "zz.xlsx"
    tr.export_workbook(path, lang="zz", questionnaire_dir=qdir, locale_dir=locale)
    wb = load_workbook(path)
    texts = {
        tr.INTERFACE_SHEET: {i18n.LANGUAGE_NAME_ID: "Zedish (made-up test language)", "Gửi ý kiến": "ZZ-SUBMIT"},
        "health": {"title": "ZZ-HEALTH-TITLE", "H1a.text": "ZZ-H1A"},
    }
    for sheet, given in texts.items():
        for row in wb[sheet].iter_rows(min_row=2):
            if row[0].value in given:
                row[3].value = given[row[0].value]
    wb.save(path)
    tr.import_workbook(path, questionnaire_dir=qdir, locale_dir=locale)
    q_service.sync_questionnaires(db_session, directory=qdir)
    db_session.commit()
    i18n.load_catalogs(locale)
    try:
        yield "zz"
    finally:
        i18n.load_catalogs()


def test_imported_language_is_selectable_on_the_form(zz_installed: str, db_session: Session, client: TestClient) -> None:
    point = make_point(db_session, sector="health")
    page = client.get(f"/q/{point.token}?lang=zz")
    assert page.status_code == 200
    html = page.text
    assert '<html lang="zz">' in html
    assert "ZZ-SUBMIT" in html and "Gửi ý kiến" not in html  # interface string from the zz catalog
    assert "ZZ-HEALTH-TITLE" in html and "ZZ-H1A" in html  # questionnaire texts given in zz
    assert "Ông/Bà có sử dụng thẻ bảo hiểm y tế" in html  # H1b not translated: Vietnamese, per item
    assert "Phiếu khảo sát ẩn danh: không thu thập" in html  # untranslated interface string stays Vietnamese

    vi_page = client.get(f"/q/{point.token}?lang=vi").text
    assert 'href="?lang=zz"' in vi_page and "Zedish (made-up test language)" in vi_page


def test_unknown_language_is_not_selectable(db_session: Session, client: TestClient) -> None:
    point = make_point(db_session, sector="health")
    html = client.get(f"/q/{point.token}?lang=zz").text
    assert '<html lang="vi">' in html and 'href="?lang=zz"' not in html
