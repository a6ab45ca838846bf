"""Import of weighting data and official scores from CSV or XLSX, with a message per bad row (translated where shown).

Kinds and columns (first row = header):

- ``population``: ma_xa, nam, gioi_tinh, nhom_tuoi, [dan_toc], dan_so, nguon
- ``volumes``: ma_diem, tu_ngay, den_ngay, so_giao_dich, nguon
- ``official``: chi_so (PAPI, SIPAS, PAR_SIPAS), nam, thanh_phan, ten, gia_tri, don_vi, nguon

A file with any bad row changes nothing (the route rolls back) and every bad row is listed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..errors import Message, ValidationFailed
from ..i18n import N_
from ..models import OfficialScore, PopulationMargin, ReceptionPoint, TransactionVolume
from . import catalogue

KINDS = {
    "population": ("ma_xa", "nam", "gioi_tinh", "nhom_tuoi", "dan_so", "nguon"),
    "volumes": ("ma_diem", "tu_ngay", "den_ngay", "so_giao_dich", "nguon"),
    "official": ("chi_so", "nam", "thanh_phan", "ten", "gia_tri", "don_vi", "nguon"),
}
KIND_LABELS = {"population": N_("Dân số theo giới tính × nhóm tuổi"), "volumes": N_("Số giao dịch theo điểm tiếp nhận và kỳ"),
               "official": N_("Điểm số công bố chính thức (PAPI, SIPAS)")}
INDEX_NAMES = {"PAPI": "PAPI", "SIPAS": "SIPAS (%)", "PAR_SIPAS": "SIPAS trong PAR INDEX (thang 10)"}
MAX_ROWS = 50_000


@dataclass
class ImportResult:
    kind: str
    created: int = 0
    updated: int = 0
    errors: list[Message] = field(default_factory=list)


def parse_number(value: str, name: Message) -> float:
    try:
        return float(str(value).strip().replace(",", "."))
    except ValueError:
        raise ValidationFailed(N_("{name} phải là một số."), name=name) from None


def read_rows(filename: str, content: bytes) -> list[dict[str, str]]:
    """Rows of a CSV (UTF-8) or XLSX file as header → text."""
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook

        try:
            wb = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # openpyxl raises many types for a broken file
            raise ValidationFailed(N_("Không đọc được tệp XLSX.")) from exc
        ws = wb.worksheets[0]
        values = [["" if v is None else (v.isoformat()[:10] if isinstance(v, dt.datetime | dt.date) else str(v)) for v in row]
                  for row in ws.iter_rows(values_only=True)]
    else:
        try:
            text = content.decode("utf-8-sig")
        except UnicodeDecodeError:
            raise ValidationFailed(N_("Tệp CSV phải ở mã UTF-8.")) from None
        values = list(csv.reader(io.StringIO(text)))
    if not values:
        raise ValidationFailed(N_("Tệp trống."))
    header = [h.strip().lower() for h in values[0]]
    if len(values) - 1 > MAX_ROWS:
        raise ValidationFailed(N_("Tệp có quá nhiều dòng (tối đa {limit})."), limit=MAX_ROWS)
    return [dict(zip(header, [c.strip() for c in row], strict=False)) for row in values[1:] if any(c.strip() for c in row)]


def _int(row: Mapping[str, str], key: str, label: Message, lo: int = 0) -> int:
    try:
        value = int(float(row.get(key, "").replace(",", ".")))
    except (ValueError, OverflowError):  # OverflowError: "1e999" parses as infinity
        raise ValidationFailed(N_("{label} “{value}” không phải là số nguyên"), label=label, value=row.get(key, "")) from None
    if value < lo:
        raise ValidationFailed(N_("{label} phải ≥ {lo}"), label=label, lo=lo)
    return value


def _date(row: Mapping[str, str], key: str, label: Message) -> dt.date:
    raw = row.get(key, "")
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise ValidationFailed(N_("{label} “{value}” không đúng định dạng (YYYY-MM-DD hoặc DD/MM/YYYY)"), label=label, value=raw)


def import_file(
    session: Session, *, kind: str, filename: str, content: bytes, province_code: str, is_synthetic: bool = False,
) -> ImportResult:
    if kind not in KINDS:
        raise ValidationFailed(N_("Loại dữ liệu không hợp lệ."))
    result = ImportResult(kind)
    try:
        rows = read_rows(filename, content)
    except ValidationFailed as exc:
        result.errors.append(exc.message)
        return result
    missing = [c for c in KINDS[kind] if rows and c not in rows[0]]
    if missing or not rows:
        result.errors.append(Message(N_("Thiếu cột: {columns}"), columns=", ".join(missing)) if missing
                             else Message(N_("Tệp không có dòng dữ liệu nào.")))
        return result
    for number, row in enumerate(rows, start=2):
        try:
            created = _import_row(session, kind=kind, row=row, province_code=province_code, is_synthetic=is_synthetic)
        except ValidationFailed as exc:
            result.errors.append(Message(N_("Dòng {row}: {error}."), row=number, error=exc.message))
            continue
        if created:
            result.created += 1
        else:
            result.updated += 1
    session.flush()
    return result


def _import_row(session: Session, *, kind: str, row: Mapping[str, str], province_code: str, is_synthetic: bool) -> bool:
    source = row.get("nguon", "").strip()[:300]
    if not source:
        raise ValidationFailed(N_("thiếu nguồn số liệu (cột nguon)"))
    if kind == "population":
        commune = catalogue.get_commune(session, row.get("ma_xa", ""))
        if commune is None:
            raise ValidationFailed(N_("không có xã/phường mã “{code}”"), code=row.get("ma_xa", ""))
        year = _int(row, "nam", Message(N_("Năm")), 1990)
        sex, age, eth = row.get("gioi_tinh", ""), row.get("nhom_tuoi", ""), row.get("dan_toc", "")
        if not sex or not age:
            raise ValidationFailed(N_("thiếu giới tính hoặc nhóm tuổi"))
        population = _int(row, "dan_so", Message(N_("Dân số")))
        existing = session.scalar(select(PopulationMargin).where(
            PopulationMargin.commune_id == commune.id, PopulationMargin.reference_year == year,
            PopulationMargin.sex == sex, PopulationMargin.age_group == age, PopulationMargin.ethnicity == eth))
        if existing is not None:
            existing.population, existing.source, existing.is_synthetic = population, source, is_synthetic
            return False
        session.add(PopulationMargin(commune_id=commune.id, reference_year=year, sex=sex, age_group=age, ethnicity=eth,
                                     population=population, source=source, is_synthetic=is_synthetic))
        return True
    if kind == "volumes":
        point = session.scalar(select(ReceptionPoint).where(ReceptionPoint.code == row.get("ma_diem", "")))
        if point is None:
            raise ValidationFailed(N_("không có điểm tiếp nhận mã “{code}”"), code=row.get("ma_diem", ""))
        start, end = _date(row, "tu_ngay", Message(N_("Từ ngày"))), _date(row, "den_ngay", Message(N_("Đến ngày")))
        if end < start:
            raise ValidationFailed(N_("“đến ngày” trước “từ ngày”"))
        count = _int(row, "so_giao_dich", Message(N_("Số giao dịch")))
        existing_v = session.scalar(select(TransactionVolume).where(
            TransactionVolume.reception_point_id == point.id, TransactionVolume.period_start == start,
            TransactionVolume.period_end == end))
        if existing_v is not None:
            existing_v.transactions, existing_v.source, existing_v.is_synthetic = count, source, is_synthetic
            return False
        session.add(TransactionVolume(reception_point_id=point.id, period_start=start, period_end=end,
                                      transactions=count, source=source, is_synthetic=is_synthetic))
        return True
    return _save_score(session, province_code=province_code, index_name=row.get("chi_so", ""), year=row.get("nam", ""),
                       component=row.get("thanh_phan", ""), label=row.get("ten", ""), value=row.get("gia_tri", ""),
                       unit=row.get("don_vi", ""), source=source, actor="", is_synthetic=is_synthetic)


def _save_score(
    session: Session, *, province_code: str, index_name: str, year: str, component: str, label: str, value: str,
    unit: str, source: str, actor: str, is_synthetic: bool = False,
) -> bool:
    index_name = index_name.strip().upper()
    if index_name not in INDEX_NAMES:
        raise ValidationFailed(N_("chỉ số phải là PAPI, SIPAS hoặc PAR_SIPAS"))
    try:
        y = int(year)
    except ValueError:
        raise ValidationFailed(N_("năm “{year}” không hợp lệ"), year=year) from None
    if not 2000 <= y <= 2100:
        raise ValidationFailed(N_("năm phải từ 2000 đến 2100"))
    try:
        v = float(str(value).replace(",", "."))
    except ValueError:
        raise ValidationFailed(N_("giá trị “{value}” không phải là số"), value=value) from None
    limit = 100.0 if index_name == "SIPAS" else (80.0 if component.strip().lower() == "total" else 10.0)
    if not 0 <= v <= limit:
        raise ValidationFailed(N_("giá trị phải từ 0 đến {limit:g}"), limit=limit)
    component = component.strip()[:40]
    if not component or not source.strip():
        raise ValidationFailed(N_("thiếu thành phần hoặc nguồn"))
    row = session.scalar(select(OfficialScore).where(
        OfficialScore.index_name == index_name, OfficialScore.province_code == province_code, OfficialScore.year == y,
        OfficialScore.component == component))
    if row is None:
        session.add(OfficialScore(index_name=index_name, province_code=province_code, year=y, component=component,
                                  label=label.strip()[:200], value=v, unit=unit.strip()[:30], source=source.strip()[:300],
                                  is_synthetic=is_synthetic, entered_by=actor))
        return True
    row.label, row.value, row.unit = label.strip()[:200], v, unit.strip()[:30]
    row.source, row.entered_by = source.strip()[:300], actor
    return False


def save_official_score(session: Session, **kwargs: Any) -> None:
    """Enter one published figure by hand (admin)."""
    try:
        _save_score(session, **kwargs)
    except ValidationFailed as exc:
        raise ValidationFailed(N_("Chưa lưu được điểm số: {error}."), error=exc.message) from exc
    session.flush()


def official_scores(session: Session) -> list[OfficialScore]:
    return list(session.scalars(select(OfficialScore).order_by(OfficialScore.index_name, OfficialScore.component,
                                                                  OfficialScore.year)))


def summary(session: Session) -> dict[str, Any]:
    pop = session.execute(select(func.count(PopulationMargin.id), func.max(PopulationMargin.reference_year))).one()
    vol = session.execute(select(func.count(TransactionVolume.id), func.min(TransactionVolume.period_start),
                                 func.max(TransactionVolume.period_end))).one()
    synthetic = {
        "population": bool(session.scalar(
            select(func.count(PopulationMargin.id)).where(PopulationMargin.is_synthetic.is_(True)))),
        "volumes": bool(session.scalar(select(func.count(TransactionVolume.id)).where(TransactionVolume.is_synthetic.is_(True)))),
    }
    communes = session.scalar(select(func.count(func.distinct(PopulationMargin.commune_id)))) or 0
    return {"population_rows": pop[0], "population_year": pop[1], "population_communes": communes,
            "volume_rows": vol[0], "volume_from": vol[1], "volume_to": vol[2], "synthetic": synthetic,
            "kinds": KIND_LABELS, "columns": KINDS}
