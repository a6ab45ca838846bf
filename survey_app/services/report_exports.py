"""Exports of report figures: CSV and XLSX estimate tables (with a settings and method sheet), the report as
PDF (embedded DejaVu font, Vietnamese diacritics intact) and DOCX, raw responses streamed as CSV, and SPSS
(.sav) / Stata (.dta) files with Vietnamese variable and value labels, design variables and weights.

Every figure comes from services/reports.py and report_aggregates.py; nothing here computes a statistic."""

from __future__ import annotations

import csv
import io
import os
import tempfile
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from ..models import Commune, Province, Response
from . import report_aggregates, report_frames, report_settings
from . import reports as svc
from .accounts import DEPARTMENT_SECTORS, Scope
from .report_periods import Period

FONT_DIR = Path(__file__).resolve().parent.parent / "fonts"
TABLES = ("overview", "communes", "sector")
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
SECTOR_AGENCY = {sector: agency for agency, sector in DEPARTMENT_SECTORS.items()}


def _num(value: float | None, digits: int = 1) -> float | None:
    return None if value is None else round(value, digits + 2)


def _estimate_cols(prefix: str, e: report_aggregates.Estimate) -> dict[str, Any]:
    shown = e.shown
    return {
        f"{prefix} (%)": _num(e.estimate) if shown else None,
        f"{prefix}: cận dưới KTC (%)": _num(e.ci_low) if shown else None,
        f"{prefix}: cận trên KTC (%)": _num(e.ci_high) if shown else None,
        f"{prefix}: số phiếu (n)": e.n,
        f"{prefix}: CV": _num(e.cv, 3) if shown else None,
        f"{prefix}: ghi chú": ("Không công bố (ít phiếu)" if e.suppressed else
                               ("Cần thận trọng (CV cao)" if e.cv_flag else "")) + (
                                   "; mô hình Fay–Herriot" if e.source != "direct" else ""),
    }


def estimate_frame(
    session: Session, *, table: str, period: Period, previous: Period, settings: report_settings.ReportSettings,
    province_id: int, scope: Scope, sectors: Sequence[str], sector: str | None = None,
) -> pd.DataFrame:
    """One estimate table of the report, as shown on screen, with Vietnamese column names."""
    rows: list[dict[str, Any]] = []
    if table == "overview":
        ov = svc.overview(session, period=period, previous_period=previous, settings=settings,
                          province_id=province_id, sectors=sectors)
        for r in ov.rows:
            rows.append({"Lĩnh vực": r.label, **_estimate_cols(report_settings.INDEX_OVERALL, r.overall),
                         **_estimate_cols(report_settings.INDEX_SIPAS, r.sipas), "Chỉ tiêu (%)": r.target,
                         "Thay đổi so với kỳ trước (điểm %)": _num(r.change)})
    elif table == "communes":
        ct = svc.commune_table(session, period=period, settings=settings, province_id=province_id, sectors=sectors,
                               commune_ids=scope.commune_ids)
        for cid, name in ct.communes:
            for s in ct.sectors:
                cell = ct.cells.get((cid, s))
                if cell is not None:
                    rows.append({"Xã/phường": name, "Lĩnh vực": report_settings.sector_label(s),
                                 **_estimate_cols(report_settings.INDEX_OVERALL, cell.value),
                                 "Loại ước lượng": cell.value.source_label})
    else:
        assert sector is not None
        view = svc.sector_view(session, period=period, settings=settings, province_id=province_id, sector=sector,
                               commune_ids=scope.commune_ids)
        for _, label, e in view.elements:
            rows.append({"Loại": "Yếu tố SIPAS", "Nội dung": label, **_estimate_cols("Tỷ lệ hài lòng", e)})
        for it in view.items:
            rows.append({"Loại": "Câu hỏi " + it.item.id, "Nội dung": it.item.text, **_estimate_cols("Tỷ lệ hài lòng", it.value)})
        for p in view.points:
            rows.append({"Loại": "Điểm tiếp nhận", "Nội dung": f"{p.name} ({p.commune})",
                         **_estimate_cols("Tỷ lệ hài lòng", p.value)})
    return pd.DataFrame(rows)


def settings_rows(period: Period, settings: report_settings.ReportSettings) -> list[tuple[str, str]]:
    return [("Kỳ báo cáo", period.label), *settings.describe()]


def to_csv(frame: pd.DataFrame) -> bytes:
    return frame.to_csv(index=False).encode("utf-8-sig")  # BOM: Excel opens Vietnamese text correctly


def to_xlsx(frame: pd.DataFrame, meta: Sequence[tuple[str, str]], notes: Sequence[str]) -> bytes:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = "Ước lượng"
    ws.append(list(frame.columns))
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for values in frame.itertuples(index=False):
        ws.append([None if (isinstance(v, float) and v != v) else v for v in values])
    info = wb.create_sheet("Thiết lập và phương pháp")
    info.append(["Thiết lập", "Giá trị"])
    for label, value in meta:
        info.append([label, value])
    info.append([])
    info.append(["Ghi chú phương pháp"])
    for note in notes:
        info.append([note])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------- document
@dataclass
class Section:
    heading: str
    header: list[str]
    rows: list[list[str]]
    intro: str = ""


@dataclass
class ReportDocument:
    title: str
    subtitle: str
    agency: str
    settings: list[tuple[str, str]]
    sections: list[Section] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)


def _pct(e: report_aggregates.Estimate) -> str:
    if not e.shown or e.estimate is None:
        return "—"
    return f"{e.estimate:.1f}".replace(".", ",")


def _ci(e: report_aggregates.Estimate) -> str:
    if not e.shown or e.ci_low is None or e.ci_high is None:
        return "—"
    return f"{e.ci_low:.1f} – {e.ci_high:.1f}".replace(".", ",") + ("*" if e.cv_flag else "")


def build_document(
    session: Session, *, period: Period, previous: Period, settings: report_settings.ReportSettings, province: Province,
    sectors: Sequence[str], scope: Scope,
) -> ReportDocument:
    """The six-month / annual satisfaction report of a province for the given sectors."""
    agencies = [SECTOR_AGENCY.get(s, "") for s in sectors]
    agency = agencies[0] if len(sectors) == 1 and agencies[0] else "Sở Nội vụ"
    names = ", ".join(report_settings.sector_label(s).lower() for s in sectors)
    doc = ReportDocument(
        title=f"Báo cáo kết quả khảo sát sự hài lòng của người dân — {names}",
        subtitle=f"{province.name}, {period.label}", agency=agency, settings=settings_rows(period, settings),
    )
    ov = svc.overview(session, period=period, previous_period=previous, settings=settings, province_id=province.id,
                      sectors=sectors)
    doc.sections.append(Section(
        "1. Chỉ số hài lòng toàn tỉnh theo lĩnh vực",
        ["Lĩnh vực", "Hài lòng chung (%)", f"KTC {settings.level:.0%}", "n", "SIPAS (%)", "KTC SIPAS", "Chỉ tiêu", "Thay đổi"],
        [[r.label, _pct(r.overall), _ci(r.overall), str(r.overall.n), _pct(r.sipas), _ci(r.sipas), f"≥ {r.target:.0f}%",
          "—" if r.change is None else f"{r.change:+.1f}".replace(".", ",")] for r in ov.rows],
        intro=f"Tổng số phiếu hợp lệ trong kỳ: {ov.n_total}. Kỳ so sánh: {ov.previous_period.label}.",
    ))
    k = 2
    for s in sectors:
        view = svc.sector_view(session, period=period, settings=settings, province_id=province.id, sector=s,
                               commune_ids=scope.commune_ids)
        doc.sections.append(Section(
            f"{k}. {view.label}: năm yếu tố SIPAS", ["Yếu tố", "Tỷ lệ hài lòng (%)", "KTC", "n"],
            [[label, _pct(e), _ci(e), str(e.n)] for _, label, e in view.elements]))
        doc.sections.append(Section(
            f"{k}. {view.label}: các nội dung có tỷ lệ hài lòng thấp nhất", ["Câu hỏi", "Tỷ lệ hài lòng (%)", "KTC", "n"],
            [[f"{i.item.id}. {i.item.text}", _pct(i.value), _ci(i.value), str(i.value.n)] for i in view.weakest]))
        k += 1
    ct = svc.commune_table(session, period=period, settings=settings, province_id=province.id, sectors=sectors,
                           commune_ids=scope.commune_ids)
    doc.sections.append(Section(
        f"{k}. Tỷ lệ hài lòng chung theo xã/phường", ["Xã/phường", "Lĩnh vực", "Tỷ lệ (%)", "KTC", "n", "Loại"],
        [[name, report_settings.sector_label(s), _pct(c.value), _ci(c.value), str(c.value.n), c.value.source_label]
         for cid, name in ct.communes for s in ct.sectors if (c := ct.cells.get((cid, s))) is not None],
        intro="“—”: không công bố vì ít hơn số phiếu tối thiểu; “*”: hệ số biến thiên trên ngưỡng, cần thận trọng."))
    doc.notes = report_settings.method_notes(settings, weight_note=ov.weight_note)
    return doc


def to_pdf(doc: ReportDocument) -> bytes:
    from fpdf import FPDF
    from fpdf.fonts import FontFace

    pdf = FPDF(orientation="P", unit="mm", format="A4")
    pdf.add_font("DejaVu", "", str(FONT_DIR / "DejaVuSans.ttf"))
    pdf.add_font("DejaVu", "B", str(FONT_DIR / "DejaVuSans-Bold.ttf"))
    pdf.set_title(doc.title)
    pdf.set_author(doc.agency)
    pdf.set_auto_page_break(True, margin=15)
    pdf.add_page()
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(0, 6, doc.agency.upper(), new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "B", 14)
    pdf.multi_cell(0, 7, doc.title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 11)
    pdf.multi_cell(0, 6, doc.subtitle, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(3)
    pdf.set_font("DejaVu", "", 9)
    with pdf.table(col_widths=(60, 120), headings_style=FontFace(emphasis="BOLD")) as table:
        table.row(["Thiết lập", "Giá trị"])
        for label, value in doc.settings:
            table.row([label, value])
    for section in doc.sections:
        pdf.ln(4)
        pdf.set_font("DejaVu", "B", 11)
        pdf.multi_cell(0, 6, section.heading, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("DejaVu", "", 8)
        if section.intro:
            pdf.multi_cell(0, 5, section.intro, new_x="LMARGIN", new_y="NEXT")
        if not section.rows:
            pdf.multi_cell(0, 5, "Không có số liệu.", new_x="LMARGIN", new_y="NEXT")
            continue
        with pdf.table(headings_style=FontFace(emphasis="BOLD")) as table:
            table.row(section.header)
            for row in section.rows:
                table.row(row)
    pdf.ln(4)
    pdf.set_font("DejaVu", "B", 11)
    pdf.multi_cell(0, 6, "Ghi chú phương pháp", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("DejaVu", "", 8)
    for note in doc.notes:
        pdf.multi_cell(0, 4.5, "• " + note, new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())


def to_docx(doc: ReportDocument) -> bytes:
    from docx import Document

    d = Document()
    d.add_paragraph(doc.agency.upper()).runs[0].bold = True
    d.add_heading(doc.title, level=1)
    d.add_paragraph(doc.subtitle)
    t = d.add_table(rows=1, cols=2)
    t.style = "Table Grid"
    t.rows[0].cells[0].text, t.rows[0].cells[1].text = "Thiết lập", "Giá trị"
    for label, value in doc.settings:
        cells = t.add_row().cells
        cells[0].text, cells[1].text = label, value
    for section in doc.sections:
        d.add_heading(section.heading, level=2)
        if section.intro:
            d.add_paragraph(section.intro)
        table = d.add_table(rows=1, cols=len(section.header))
        table.style = "Table Grid"
        for cell, text in zip(table.rows[0].cells, section.header, strict=True):
            cell.text = text
        for row in section.rows:
            for cell, text in zip(table.add_row().cells, row, strict=True):
                cell.text = text
    d.add_heading("Ghi chú phương pháp", level=2)
    for note in doc.notes:
        d.add_paragraph(note, style="List Bullet")
    buf = io.BytesIO()
    d.save(buf)
    return buf.getvalue()


# ---------------------------------------------------------------------------------------------- raw data
RAW_BASE = ["ma_phieu", "thoi_diem_nop", "ma_xa", "linh_vuc", "hinh_thuc", "ma_diem", "tang", "psu", "trong_so_thiet_ke",
            "bi_gan_co", "tang_mau", "psu_mau"]
RAW_LABELS = {
    "ma_phieu": "Mã phiếu", "thoi_diem_nop": "Thời điểm nộp (UTC)", "ma_xa": "Mã xã/phường", "linh_vuc": "Lĩnh vực",
    "hinh_thuc": "Hình thức thu thập", "ma_diem": "Mã điểm tiếp nhận", "tang": "Tầng (xã/phường)",
    "psu": "Đơn vị mẫu bậc một (PSU)", "trong_so_thiet_ke": "Trọng số thiết kế", "bi_gan_co": "Phiếu bị gắn cờ (1 = có)",
    "trong_so": "Trọng số của báo cáo (sau hiệu chỉnh)",
    "tang_mau": "Tầng của mẫu điều tra hộ", "psu_mau": "Đơn vị mẫu bậc một của mẫu điều tra hộ",
}


def _raw_items(session: Session) -> list[tuple[str, str, str]]:
    """(column, sector, item id) of every scale5 and single-choice item; free text is never exported."""
    out: list[tuple[str, str, str]] = []
    for sector, items in report_frames.sector_items(session).items():
        for item_id in items.options:
            out.append((f"{sector[:6]}_{item_id}"[:32], sector, item_id))
    return out


def _raw_query(period: Period, settings: report_settings.ReportSettings, province_id: int, scope: Scope) -> Any:
    stmt = (select(Response.id, Response.submitted_at, Commune.code, Response.sector, Response.mode,
                   Response.reception_point_id, Response.commune_id, Response.flagged, Response.answers,
                   Response.stratum, Response.psu, Response.design_weight)  # type: ignore[attr-defined]
            .join(Commune, Commune.id == Response.commune_id)
            .where(Commune.province_id == province_id, *report_frames.response_filters(period, settings))
            .order_by(Response.submitted_at, Response.id))  # ix_response_submitted_id: an index range
    if scope.sectors is not None:
        stmt = stmt.where(Response.sector.in_(scope.sectors))
    if scope.commune_ids is not None:
        stmt = stmt.where(Response.commune_id.in_(scope.commune_ids))
    return stmt


def _raw_record(row: Any, items: Sequence[tuple[str, str, str]]) -> list[Any]:
    rid, at, code, sector, mode, point, cid, flagged, answers, f_stratum, f_psu, weight = row
    psu = f"p{point}" if point is not None and mode in report_settings.SELF_SELECTED else f"c{cid}-{mode}"
    rec: list[Any] = [rid, at.isoformat(), code, sector, mode, point or "", cid, psu,
                      weight if weight is not None else 1, int(bool(flagged)), f_stratum or "",
                      f"{f_stratum}/{f_psu}" if f_psu else ""]
    for _, s, item_id in items:
        rec.append((answers or {}).get(item_id, "") if s == sector else "")
    return rec


def stream_responses_csv(
    factory: sessionmaker[Session], *, period: Period, settings: report_settings.ReportSettings, province_id: int, scope: Scope,
    batch: int = 5000,
) -> Iterator[bytes]:
    """Raw responses as CSV, streamed from a server-side cursor in batches (never all rows in memory)."""
    with factory() as session:
        items = _raw_items(session)
        buf = io.StringIO()
        writer = csv.writer(buf)
        writer.writerow(RAW_BASE + [c for c, _, _ in items])
        yield ("\ufeff" + buf.getvalue()).encode("utf-8")
        stmt = _raw_query(period, settings, province_id, scope)
        result = session.execute(stmt.execution_options(yield_per=batch, stream_results=True))
        for part in result.partitions():
            buf = io.StringIO()
            writer = csv.writer(buf)
            for row in part:
                writer.writerow(_raw_record(row, items))
            yield buf.getvalue().encode("utf-8")


def to_stat_file(
    session: Session, *, fmt: str, period: Period, settings: report_settings.ReportSettings, province_id: int, scope: Scope,
) -> bytes:
    """SPSS .sav or Stata .dta of the raw responses with Vietnamese labels, design variables and the report's
    weights (raked if the settings say so)."""
    import pyreadstat

    items = _raw_items(session)
    catalogue = report_frames.sector_items(session)
    rows = [_raw_record(r, items) for r in session.execute(_raw_query(period, settings, province_id, scope))]
    frame = pd.DataFrame(rows, columns=RAW_BASE + [c for c, _, _ in items])
    agg = report_aggregates.aggregates(session, period=period, settings=settings, province_id=province_id)
    frame["trong_so"] = agg.weight_of(frame["ma_phieu"], pd.to_numeric(frame["trong_so_thiet_ke"], errors="coerce"))
    labels = dict(RAW_LABELS)
    value_labels: dict[str, dict[int | float, str]] = {}
    sector_codes = {s: k for k, s in enumerate(report_settings.SECTORS, start=1)}
    mode_codes = {m: k for k, m in enumerate(report_settings.MODES, start=1)}
    frame["linh_vuc"] = frame["linh_vuc"].map(sector_codes)
    frame["hinh_thuc"] = frame["hinh_thuc"].map(mode_codes)
    value_labels["linh_vuc"] = {k: str(report_settings.sector_label(s)) for s, k in sector_codes.items()}  # pyreadstat: exact str
    value_labels["hinh_thuc"] = {k: report_settings.MODE_LABELS[m] for m, k in mode_codes.items()}
    frame["ma_diem"] = pd.to_numeric(frame["ma_diem"], errors="coerce")
    frame["tang"] = frame["tang"].astype("int64")
    for col, sector, item_id in items:
        opts = catalogue[sector].options[item_id]
        info = catalogue[sector].item(item_id)
        labels[col] = (info.text if info else item_id)[:80]
        codes = {code: k for k, code in enumerate(opts, start=1)}
        if info is not None:  # scale5: keep 1–5 as the codes; "na" = 9
            codes = {c: (9 if c == "na" else int(c)) for c in opts}
        frame[col] = frame[col].map(lambda v, codes=codes: codes.get(v) if isinstance(v, str) else None).astype("float64")
        value_labels[col] = {k: opts[c][:80] for c, k in codes.items()}
    column_labels: list[str | None] = [labels.get(c, c)[:80] for c in frame.columns]
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, f"out.{fmt}")
        if fmt == "sav":
            pyreadstat.write_sav(frame, path, column_labels=column_labels, variable_value_labels=value_labels)
        else:
            pyreadstat.write_dta(frame, path, column_labels=column_labels, variable_value_labels=value_labels)
        return Path(path).read_bytes()
