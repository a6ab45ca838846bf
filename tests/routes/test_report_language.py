"""Report pages in the reader's language: with ?lang=en (or the cookie it leaves) the overview, commune table,
sector page, item drill-down and public results page show English labels, notes and item texts with the same
figures as in Vietnamese, while the PDF/DOCX/XLSX/CSV exports stay Vietnamese (official reports)."""

from __future__ import annotations

import io
import re

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from survey_app.errors import Message
from survey_app.services import report_frames, report_settings
from tests.routes.test_reports import SIX_MONTH, login
from tests.services.test_reports import PERIOD, Seeded, seed_reports

# Characters of English typography that are not ASCII; any other non-ASCII letter marks Vietnamese text.
TYPOGRAPHY = "–—−×≥“”’·…▲"
NON_ASCII_WORD = re.compile(rf"\S*[^\x00-\x7f{TYPOGRAPHY}\s]\S*")


@pytest.fixture
def seeded(db_session: Session) -> Seeded:
    return seed_reports(db_session)


def main_of(html: str) -> str:
    return html.split("<main>", 1)[1].split("</main>", 1)[0]


def untranslated_words(html: str, data: list[str]) -> set[str]:
    """Non-ASCII words of the main content that are neither data (commune and point names, comments) nor the
    codes of legal documents (1001/QĐ-BNV): on an English page, words left in Vietnamese."""
    text = re.sub(r"<[^>]+>", " ", main_of(html))
    for value in data:
        text = text.replace(value, " ")
    return {w for w in NON_ASCII_WORD.findall(text) if "QĐ-" not in w}


def figures(html: str) -> list[str]:
    """Every figure of the tables and headlines (estimates, intervals, n), in page order."""
    main = main_of(html)
    cells = re.findall(r'<td class="num"[^>]*>(.*?)</td>', main, re.S) + re.findall(r"<strong[^>]*>(.*?)</strong>", main, re.S)
    return [re.sub(r"<[^>]+>|\s+", " ", c).strip() for c in cells]


def data_texts(seeded: Seeded) -> list[str]:
    points = [p.name for p in seeded.points.values()]
    return [c.name for c in seeded.communes] + points + [x["comment"] for x in seeded.rows if x["comment"]]


def both(client: TestClient, url: str) -> tuple[str, str]:
    """The page in Vietnamese, then in English (each asked for explicitly)."""
    vi, en = client.get(f"{url}&lang=vi"), client.get(f"{url}&lang=en")
    assert vi.status_code == en.status_code == 200
    assert '<html lang="vi">' in vi.text and '<html lang="en">' in en.text
    return vi.text, en.text


def test_overview_in_english_with_the_same_figures(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    login(client, db_session, "admin1", "admin")
    vi, en = both(client, f"/reports?{SIX_MONTH}")
    assert figures(en) == figures(vi) and any(f.endswith("%") for f in figures(en))
    main = main_of(en)
    for english in ("First six months of 2026", "Collection modes", "Excluded", "Responses flagged as suspect are excluded.",
                    "Standard errors by Taylor linearisation over strata and PSUs", "commune × mode"):
        assert english in main, english
    for vietnamese in ("6 tháng đầu năm", "Hình thức thu thập", "Loại trừ", "Phiếu bị gắn cờ", "Thiết kế mẫu", "hài lòng"):
        assert vietnamese not in main, vietnamese
    chart = main.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "Public health care" in chart and "Y tế công lập" not in chart  # the bar labels built by the route
    assert not untranslated_words(en, data_texts(seeded))
    assert "Thiết kế mẫu" in main_of(vi) and "Sample design" not in main_of(vi)


def test_language_switch_and_cookie(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    login(client, db_session, "admin1", "admin")
    vi = client.get(f"/reports/communes?{SIX_MONTH}&sort=health")
    switch = re.search(r'<a href="([^"]+)" hreflang="en" lang="en">English</a>', vi.text)
    assert switch is not None
    href = switch.group(1).replace("&amp;", "&")
    assert "lang=en" in href and "kind=six_month" in href and "sort=health" in href  # the same page, same settings
    en = client.get(f"/reports/communes{href}")
    assert '<html lang="en">' in en.text and "lang=en" in en.headers["set-cookie"]
    # The report links do not carry the language: the cookie keeps it on the next page, and on the admin pages.
    assert '<html lang="en">' in client.get(f"/reports?{SIX_MONTH}").text
    assert '<html lang="en">' in client.get("/admin/points").text
    back = client.get(f"/reports?{SIX_MONTH}&lang=vi")
    assert '<html lang="vi">' in back.text and "lang=vi" in back.headers["set-cookie"]
    assert '<html lang="vi">' in client.get(f"/reports/communes?{SIX_MONTH}").text


def test_commune_officer_redirect_keeps_the_language(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    own = seeded.communes[0]
    login(client, db_session, "xa1", "commune", commune_id=own.id)
    r = client.get(f"/reports?{SIX_MONTH}&lang=en")
    assert r.status_code == 303 and f"/reports/communes/{own.code}" in r.headers["location"]
    assert "lang=en" in r.headers["location"]
    vi, en = both(client, f"/reports/communes/{own.code}?{SIX_MONTH}")
    assert figures(en) == figures(vi)
    assert "Access to the service" in main_of(en) and "Tiếp cận dịch vụ" not in main_of(en)
    assert not untranslated_words(en, data_texts(seeded))


def test_commune_table_in_english_with_the_sae_note(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    login(client, db_session, "admin1", "admin")
    vi, en = both(client, f"/reports/communes?{SIX_MONTH}&sae=1")
    assert figures(en) == figures(vi) and figures(en)
    main = main_of(en)
    # Only the two seeded sectors have communes with data: the other two fall back to direct estimates.
    assert "Public primary education: too few communes have data for the Fay–Herriot model; direct estimates only." in main
    assert "quá ít xã có số liệu" not in main and "quá ít xã có số liệu" in main_of(vi)
    assert "Small-area estimation (Fay–Herriot)" in main and "On" in re.sub(r"<[^>]+>", " ", main).split()
    assert not untranslated_words(en, data_texts(seeded))


def test_sector_page_in_english(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    login(client, db_session, "admin1", "admin")
    vi, en = both(client, f"/reports/sectors/health?{SIX_MONTH}")
    assert figures(en) == figures(vi) and figures(en)
    main = main_of(en)
    catalogue = report_frames.sector_items(db_session)["health"]
    weakest = re.findall(r"/reports/sectors/health/items/(\w+)\?", main)
    assert weakest
    for item_id in weakest:
        info = catalogue.item(item_id)
        assert info is not None and info.text.translated("en") != str(info.text)
        assert info.text.translated("en") in main and str(info.text) not in main
        assert str(info.text) in main_of(vi)
    elements = main.split('id="elements"', 1)[0].rsplit("<svg", 1)[1]  # the element chart built by the route
    assert "Access to the service" in elements and "Tiếp cận dịch vụ" not in elements
    assert not untranslated_words(en, data_texts(seeded))


def test_item_drilldown_in_english(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    login(client, db_session, "admin1", "admin")
    info = next(i for i in report_frames.sector_items(db_session)["health"].items if i.element)
    vi, en = both(client, f"/reports/sectors/health/items/{info.id}?{SIX_MONTH}")
    assert figures(en) == figures(vi) and figures(en)
    title = re.search(r"<h1>(.*?)</h1>", main_of(en), re.S)
    assert title is not None and title.group(1) == f"{info.id}. {info.text.translated('en')}"
    assert f"<h1>{info.id}. {info.text}</h1>" in main_of(vi)
    assert "Very satisfied" in main_of(en) and "Rất hài lòng" not in main_of(en)
    assert not untranslated_words(en, data_texts(seeded))


def test_item_text_falls_back_to_vietnamese(db_session: Session, seeded: Seeded) -> None:
    info = report_frames.sector_items(db_session)["health"].items[0]
    assert info.text.translated("zz") == str(info.text) == info.text.texts["vi"]
    assert set(info.text.texts) >= {"vi", "en"}


def test_public_results_in_english(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    url = f"/ket-qua?kind=six_month&year={PERIOD.year}"
    vi, en = both(client, url)
    assert figures(en) == figures(vi) and any(f.endswith("%") for f in figures(en))
    main = main_of(en)
    for english in ("First six months of 2026", "Responses flagged as suspect are excluded.", "Sample design: strata"):
        assert english in main, english
    for vietnamese in ("6 tháng đầu năm", "Phiếu bị gắn cờ", "Thiết kế mẫu", "hài lòng", "Y tế công lập"):
        assert vietnamese not in main, vietnamese
    chart = main.split("<svg", 1)[1].split("</svg>", 1)[0]
    assert "Public health care" in chart and "Y tế công lập" not in chart
    assert 'href="?kind=six_month&amp;year=2025&amp;lang=en"' in main  # the period links keep the language
    assert not untranslated_words(en, data_texts(seeded))

    explicit = client.get(f"{url}&lang=en")
    assert "set-cookie" not in explicit.headers  # a public, cacheable page sets no cookie
    assert explicit.headers["cache-control"] == "public, max-age=300" and "Cookie" not in explicit.headers["vary"]
    client.cookies.set("lang", "en")
    from_cookie = client.get(url)
    assert '<html lang="en">' in from_cookie.text and "Cookie" in from_cookie.headers["vary"]
    switch = re.search(r'<a href="([^"]+)" hreflang="vi" lang="vi">Tiếng Việt</a>', from_cookie.text)
    assert switch is not None and "lang=vi" in switch.group(1) and "kind=six_month" in switch.group(1)


def test_exports_stay_vietnamese_for_an_english_reader(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    from docx import Document
    from openpyxl import load_workbook
    from pypdf import PdfReader

    login(client, db_session, "admin1", "admin")
    assert '<html lang="en">' in client.get(f"/reports?{SIX_MONTH}&lang=en").text  # the reader now reads English

    pdf = client.get(f"/reports/export/report.pdf?{SIX_MONTH}&sector=health")
    assert pdf.status_code == 200
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "hài lòng" in text and "Hình thức thu thập" in text and "Y tế công lập" in text
    assert "Collection modes" not in text and "satisfaction" not in text.lower()

    docx = Document(io.BytesIO(client.get(f"/reports/export/report.docx?{SIX_MONTH}&sector=health").content))
    paragraphs = [p.text for p in docx.paragraphs]
    cells = [c.text for t in docx.tables for row in t.rows for c in row.cells]
    assert any(p.startswith("Thiết kế mẫu: tầng = xã/phường") for p in paragraphs)
    assert "Hình thức thu thập" in cells and "Loại trừ" in cells
    assert not any("Sample design" in p for p in paragraphs) and "Collection modes" not in cells

    book = load_workbook(io.BytesIO(client.get(f"/reports/export/tables/communes.xlsx?{SIX_MONTH}").content))
    values = [str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row if v is not None]
    assert "Trực tiếp" in values and "Y tế công lập" in values and "Hình thức thu thập" in values
    assert any(v.startswith("Thiết kế mẫu: tầng = xã/phường") for v in values)
    assert not any(v in ("Direct", "Public health care", "Collection modes") for v in values)


@pytest.mark.parametrize("weighting", ["unweighted", "design", "transactions"])
def test_method_notes_state_the_design_of_each_weighting(weighting: str) -> None:
    settings = report_settings.ReportSettings(modes=("enumerator", "paper") if weighting == "design" else ("qr",), weighting=weighting)
    notes = report_settings.method_notes(settings)
    assert all(isinstance(n, Message) for n in notes)
    design = next(n for n in notes if n.startswith("Thiết kế mẫu"))
    english = design.translated("en") if isinstance(design, Message) else ""
    if weighting == "design":
        assert "thôn/bản được chọn" in design and "trọng số thiết kế của mỗi phiếu = 1 /" in design
        assert "trọng số 1" not in design and "ban đầu" not in design
        assert "the selected villages" in english
    else:
        assert "trọng số ban đầu của mỗi phiếu là 1" in design and "xã × hình thức" in design
        assert "starts with weight 1" in english
    variance = next(n for n in notes if n.startswith("Gia quyền: "))
    assert WEIGHTING_NAMES[weighting] in variance
    assert ("svyrecvar" in variance) == (weighting == "transactions")
    assert isinstance(variance, Message) and variance.translated("en").startswith("Weighting: " + ENGLISH_WEIGHTINGS[weighting])


WEIGHTING_NAMES = {"unweighted": "Không gia quyền", "design": "Trọng số thiết kế", "transactions": "Hiệu chỉnh (raking)"}
ENGLISH_WEIGHTINGS = {"unweighted": "Unweighted", "design": "Design weights", "transactions": "Calibration (raking)"}


def test_settings_and_labels_are_vietnamese_strings_translated_on_pages() -> None:
    settings = report_settings.ReportSettings(modes=("qr", "paper"), sae=True)
    rows: dict[str, str] = dict(settings.describe())
    assert rows["Hình thức thu thập"] == "Mã QR, Phiếu giấy" and rows["Ước lượng cho địa bàn nhỏ (Fay–Herriot)"] == "Bật"
    translated = {label.translated("en"): value.translated("en") if isinstance(value, Message) else value
                  for label, value in settings.describe()}
    assert translated["Small-area estimation (Fay–Herriot)"] == "On"
    assert translated["Collection modes"] == "QR code, Paper questionnaire"
    assert report_settings.sector_label("health") == "Y tế công lập" and report_settings.sector_label("health").translated("en") == "Public health care"
    assert PERIOD.label == "6 tháng đầu năm 2026 (01/12/2025 – 31/05/2026)"
    assert PERIOD.label.translated("en") == "First six months of 2026 (01/12/2025 – 31/05/2026)"
