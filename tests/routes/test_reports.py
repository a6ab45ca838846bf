"""Report routes: figures equal the analysis library's, role scoping on views and exports, exports read back,
public page suppression, and the end-to-end six-month health report of a Sở Y tế reviewer (PDF and DOCX)."""

from __future__ import annotations

import io
import re
from urllib.parse import urlencode

import pandas as pd
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from analysis import quality_flags
from survey_app.models import AuditEvent, UserScope
from tests.factories import make_user
from tests.services.test_reports import PERIOD, PREVIOUS, Seeded, direct_design, expected_frame, seed_reports

SIX_MONTH = urlencode({"kind": "six_month", "year": PERIOD.year})


@pytest.fixture
def seeded(db_session: Session) -> Seeded:
    return seed_reports(db_session)


def login(client: TestClient, db_session: Session, username: str, role: str, *, sector: str | None = None,
          commune_id: int | None = None) -> None:
    user = make_user(db_session, username=username, role=role)
    if sector or commune_id:
        user.scopes.append(UserScope(sector=sector, commune_id=commune_id))
        db_session.commit()
    r = client.post("/login", data={"username": username, "password": "mat-khau-dai-123"})
    assert r.status_code == 303


def fmt(x: float) -> str:
    return f"{x:.1f}"


def test_overview_shows_analysis_figures(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    login(client, db_session, "admin1", "admin")
    r = client.get(f"/reports?{SIX_MONTH}")
    assert r.status_code == 200
    frame, _, _ = expected_frame(seeded, db_session)
    table = direct_design(frame).mean("overall", by="sector")
    for _, row in table.iterrows():
        cells = re.search(rf'data-sector="{row["sector"]}">(.*?)</tr>', r.text, re.S)
        assert cells is not None
        html = cells.group(1)
        assert f"{fmt(100 * row['estimate'])}%" in html
        assert f"{fmt(100 * row['ci_low'])}–{fmt(100 * row['ci_high'])}" in html
        assert f">{int(row['n'])}<" in html
    assert "<svg" in r.text and "Thiết lập và phương pháp" in r.text


def test_heat_map_suppresses_small_cells_and_links_communes(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    login(client, db_session, "admin1", "admin")
    r = client.get(f"/reports/communes?{SIX_MONTH}&sort=health")
    assert r.status_code == 200
    frame, _, _ = expected_frame(seeded, db_session)
    table = quality_flags(direct_design(frame).mean("overall", by=["commune_id", "sector"]), min_n=30)
    for _, row in table.iterrows():
        if row["suppress"]:
            assert f'data-n="{int(row["n"])}"' in r.text
        else:
            assert f"{fmt(100 * row['estimate'])}%" in r.text
    assert 'class="h-na"' in r.text  # the small commune is marked
    assert f"/reports/communes/{seeded.communes[0].code}" in r.text


def test_reviewer_scoping(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    login(client, db_session, "yte", "reviewer", sector="health")
    assert client.get(f"/reports/sectors/health?{SIX_MONTH}").status_code == 200
    assert client.get(f"/reports/sectors/one_stop?{SIX_MONTH}").status_code == 403
    assert client.get(f"/reports/export/tables/sector.csv?{SIX_MONTH}&sector=one_stop").status_code == 403
    assert client.get(f"/reports/export/report.pdf?{SIX_MONTH}&sector=one_stop").status_code == 403
    r = client.get(f"/reports?{SIX_MONTH}")
    assert "Bộ phận Một cửa" not in r.text.split("<main>")[1]
    csv_text = client.get(f"/reports/export/tables/communes.csv?{SIX_MONTH}").content.decode("utf-8-sig")
    assert "Y tế công lập" in csv_text and "Bộ phận Một cửa" not in csv_text
    raw = client.get(f"/reports/export/responses.csv?{SIX_MONTH}").content.decode("utf-8-sig")
    assert ",health," in raw and ",one_stop," not in raw


def test_commune_officer_sees_only_their_commune(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    own, other = seeded.communes[0], seeded.communes[1]
    login(client, db_session, "xa1", "commune", commune_id=own.id)
    r = client.get(f"/reports?{SIX_MONTH}")
    assert r.status_code == 303 and f"/reports/communes/{own.code}" in r.headers["location"]
    assert client.get(f"/reports/communes/{own.code}?{SIX_MONTH}").status_code == 200
    assert client.get(f"/reports/communes/{other.code}?{SIX_MONTH}").status_code == 403
    heat = client.get(f"/reports/communes?{SIX_MONTH}")
    assert own.name in heat.text and other.name not in heat.text
    assert client.get(f"/reports/export/tables/overview.csv?{SIX_MONTH}").status_code == 403
    raw = client.get(f"/reports/export/responses.csv?{SIX_MONTH}").content.decode("utf-8-sig").splitlines()
    expected = [x for x in seeded.rows if x["commune_id"] == own.id and not x["previous"] and not x["flagged"]]
    assert len(raw) - 1 == len(expected)


def test_viewer_gets_no_comments_reviewer_does_with_audit(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    comment = next(x["comment"] for x in seeded.rows if x["comment"] and x["sector"] == "health" and not x["previous"]
                   and not x["flagged"])
    login(client, db_session, "xem", "viewer")
    r = client.get(f"/reports/sectors/health?{SIX_MONTH}")
    assert r.status_code == 200 and comment not in r.text and 'id="comments"' not in r.text
    assert client.get(f"/reports/export/responses.csv?{SIX_MONTH}").status_code == 403
    client.post("/logout")
    login(client, db_session, "yte", "reviewer", sector="health")
    r = client.get(f"/reports/sectors/health?{SIX_MONTH}")
    assert comment in r.text
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "comments_viewed", AuditEvent.actor == "yte"))


def test_item_drilldown_page(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    login(client, db_session, "admin1", "admin")
    frame, elements, _ = expected_frame(seeded, db_session)
    col = next(iter(elements["health"].values()))[0]
    item_id = col.split(":", 1)[1]
    frame["code"] = pd.to_numeric(frame[col], errors="coerce")
    table = direct_design(frame).proportion("code", by="sector", levels=[1.0, 2.0, 3.0, 4.0, 5.0])
    r = client.get(f"/reports/sectors/health/items/{item_id}?{SIX_MONTH}")
    assert r.status_code == 200
    for _, row in table[table["sector"] == "health"].iterrows():
        html = re.search(rf'data-code="{int(row["level"])}">(.*?)</tr>', r.text, re.S)
        assert html is not None and f"{fmt(100 * row['estimate'])}%" in html.group(1)
    assert client.get(f"/reports/sectors/health/items/NOPE?{SIX_MONTH}").status_code == 422


def test_item_drilldown_is_scoped_to_the_commune_officers_commune(client: TestClient, db_session: Session,
                                                                    seeded: Seeded) -> None:
    """A commune officer sees the item's distribution in their commune only (a domain of the full design)."""
    own, other = seeded.communes[0], seeded.communes[1]
    frame, elements, _ = expected_frame(seeded, db_session)
    col = next(iter(elements["health"].values()))[0]
    item_id = col.split(":", 1)[1]
    frame["code"] = pd.to_numeric(frame[col], errors="coerce")
    table = direct_design(frame).proportion("code", by=["sector", "commune_id"], levels=[1.0, 2.0, 3.0, 4.0, 5.0])
    mine = table[(table["sector"] == "health") & (table["commune_id"] == own.id)]
    province = direct_design(frame).proportion("code", by="sector", levels=[1.0, 2.0, 3.0, 4.0, 5.0])
    login(client, db_session, "xa1", "commune", commune_id=own.id)
    r = client.get(f"/reports/sectors/health/items/{item_id}?{SIX_MONTH}")
    assert r.status_code == 200 and own.name in r.text
    differs = False
    for _, row in mine.iterrows():
        html = re.search(rf'data-code="{int(row["level"])}">(.*?)</tr>', r.text, re.S)
        assert html is not None and f"{fmt(100 * row['estimate'])}%" in html.group(1)
        whole = province[(province["sector"] == "health") & (province["level"] == row["level"])].iloc[0]
        differs |= fmt(100 * whole["estimate"]) != fmt(100 * row["estimate"])
    assert differs  # really the commune's figures, not the province's
    assert client.get(f"/reports/sectors/health/items/{item_id}?{SIX_MONTH}&commune={other.code}").status_code == 403
    assert client.get(f"/reports/sectors/health/items/{item_id}?{SIX_MONTH}&commune={own.code}").status_code == 200


def test_heat_map_is_an_inline_svg_beside_its_table(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    login(client, db_session, "admin1", "admin")
    r = client.get(f"/reports/communes?{SIX_MONTH}")
    svg = r.text.split('class="chart heat"')[1].split("</svg>")[0]
    frame, _, _ = expected_frame(seeded, db_session)
    table = quality_flags(direct_design(frame).mean("overall", by=["commune_id", "sector"]), min_n=30)
    shown = table[~table["suppress"].astype(bool)]
    assert svg.count("<rect") == len(table) and 'class="h-na"' in svg
    for _, row in shown.iterrows():
        assert f">{100 * row['estimate']:.0f}%</text>" in svg
    assert 'id="heatmap"' in r.text  # the data table stays beside the chart


def test_xlsx_export_reads_back_with_settings_sheet(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    from openpyxl import load_workbook

    login(client, db_session, "admin1", "admin")
    r = client.get(f"/reports/export/tables/overview.xlsx?{SIX_MONTH}")
    assert r.status_code == 200
    wb = load_workbook(io.BytesIO(r.content))
    assert wb.sheetnames == ["Ước lượng", "Thiết lập và phương pháp"]
    rows = list(wb["Ước lượng"].iter_rows(values_only=True))
    header = rows[0]
    frame, _, _ = expected_frame(seeded, db_session)
    table = direct_design(frame).mean("overall", by="sector")
    est_col = header.index("Tỷ lệ hài lòng chung (câu hỏi đánh giá chung) (%)")
    health = next(r for r in rows[1:] if r[0] == "Y tế công lập")
    assert health[est_col] == pytest.approx(100 * table[table["sector"] == "health"]["estimate"].iloc[0], abs=1e-3)
    settings_text = " ".join(str(c) for row in wb["Thiết lập và phương pháp"].iter_rows(values_only=True) for c in row if c)
    assert "Gia quyền" in settings_text and "SIPAS" in settings_text
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.target_type == "overview"))


def test_spss_and_stata_exports_have_vietnamese_labels(client: TestClient, db_session: Session, seeded: Seeded, tmp_path) -> None:
    import pyreadstat

    login(client, db_session, "admin1", "admin")
    for ext, reader in (("sav", pyreadstat.read_sav), ("dta", pyreadstat.read_dta)):
        r = client.get(f"/reports/export/responses.{ext}?{SIX_MONTH}")
        assert r.status_code == 200
        path = tmp_path / f"x.{ext}"
        path.write_bytes(r.content)
        df, meta = reader(str(path))
        expected = [x for x in seeded.rows if not x["previous"] and not x["flagged"]]
        assert len(df) == len(expected)
        assert {"tang", "psu", "trong_so", "trong_so_thiet_ke"} <= set(df.columns)
        labels = dict(zip(meta.column_names, meta.column_labels, strict=True))
        assert labels["trong_so"] == "Trọng số của báo cáo (sau hiệu chỉnh)"
        assert "Y tế công lập" in meta.variable_value_labels["linh_vuc"].values()
        scale_col = next(c for c in df.columns if c.startswith("health_H"))
        assert "Rất hài lòng" in meta.variable_value_labels[scale_col].values()


def test_bad_import_rows_are_listed_in_vietnamese(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    login(client, db_session, "admin1", "admin")
    point = seeded.points[(0, "health")]
    body = ("ma_diem,tu_ngay,den_ngay,so_giao_dich,nguon\n"
            f"{point.code},2025-12-01,2026-05-31,1200,Sổ khám bệnh\n"
            "KHONG-CO,2025-12-01,2026-05-31,10,x\n"
            f"{point.code},2026-13-01,2026-05-31,abc,x\n")
    r = client.post("/reports/data", data={"kind": "volumes"}, files={"upload": ("v.csv", body.encode(), "text/csv")},
                    headers={"origin": "http://testserver"})
    assert r.status_code == 422
    assert "Dòng 3: không có điểm tiếp nhận mã “KHONG-CO”." in r.text and "Dòng 4:" in r.text
    good = "ma_diem,tu_ngay,den_ngay,so_giao_dich,nguon\n" + f"{point.code},01/12/2025,31/05/2026,1200,Sổ khám bệnh\n"
    r = client.post("/reports/data", data={"kind": "volumes"}, files={"upload": ("v.csv", good.encode(), "text/csv")},
                    headers={"origin": "http://testserver"})
    assert r.status_code == 200 and "1 dòng mới" in r.text


def test_public_results_suppress_small_cells_without_login(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    r = client.get(f"/ket-qua?{SIX_MONTH}")
    assert r.status_code == 200
    frame, _, _ = expected_frame(seeded, db_session)
    table = quality_flags(direct_design(frame).mean("overall", by=["commune_id", "sector"]), min_n=30)
    small = table[table["suppress"]]
    assert not small.empty
    communes_html = r.text.split('id="communes"')[1]
    for _, row in small.iterrows():
        assert f"n={int(row['n'])}<" not in communes_html  # neither the count nor the figure of a small cell
    for _, row in table[~table["suppress"]].iterrows():
        assert f"{fmt(100 * row['estimate'])}%" in communes_html
    assert not any(x["comment"] and x["comment"] in r.text for x in seeded.rows)
    assert "Điểm health" not in r.text  # no reception-point rankings
    assert "Phương pháp" in r.text


def test_reviewer_of_health_produces_six_month_report_pdf_and_docx(client: TestClient, db_session: Session, seeded: Seeded) -> None:
    """Done means: a Sở Y tế reviewer, logged in, produces the six-month health report as PDF and DOCX with the
    correct weighted figures and intervals."""
    from docx import Document
    from pypdf import PdfReader

    from survey_app.models import TransactionVolume

    for (k, _s), point in seeded.points.items():
        db_session.add(TransactionVolume(reception_point_id=point.id, period_start=PERIOD.start, period_end=PERIOD.end,
                                         transactions=500 * (k + 1), source="Sổ khám bệnh", is_synthetic=True))
    db_session.commit()
    login(client, db_session, "yte", "reviewer", sector="health")
    query = urlencode({"kind": "six_month", "year": PERIOD.year, "modes": "qr", "weighting": "transactions", "sector": "health"})
    frame, _, _ = expected_frame(seeded, db_session, modes=("qr",))
    raked = direct_design(frame).rake({"psu": {f"p{p.id}": 500.0 * (k + 1) for (k, _s), p in seeded.points.items()}})
    exp = raked.mean("overall", by="sector")
    exp = exp[exp["sector"] == "health"].iloc[0]
    figure = f"{100 * exp['estimate']:.1f}".replace(".", ",")
    interval = f"{100 * exp['ci_low']:.1f} – {100 * exp['ci_high']:.1f}".replace(".", ",")

    pdf = client.get(f"/reports/export/report.pdf?{query}")
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    text = "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf.content)).pages)
    assert "Sở Y tế" in text.replace("\n", " ") or "SỞ Y TẾ" in text
    assert "Sở Y tế" in text or "SỞ Y TẾ" in text
    assert "hài lòng" in text
    assert figure in text and interval in text
    assert "số giao dịch" in text  # the weighting is stated

    docx = client.get(f"/reports/export/report.docx?{query}")
    assert docx.status_code == 200
    d = Document(io.BytesIO(docx.content))
    cells = [c.text for t in d.tables for row in t.rows for c in row.cells]
    assert figure in cells and interval in cells
    assert any("hài lòng" in p.text for p in d.paragraphs) and any("SỞ Y TẾ" in p.text for p in d.paragraphs)
    events = db_session.scalars(select(AuditEvent).where(AuditEvent.action == "export", AuditEvent.actor == "yte")).all()
    assert {e.target_id for e in events} >= {"pdf", "docx"}
    assert PREVIOUS.kind == "six_month"
