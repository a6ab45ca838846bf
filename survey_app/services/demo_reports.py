"""Synthetic demo data for reports: population margins, transaction volumes, targets, and Sơn La's published
PAPI axis scores. Margins and volumes are SYNTHETIC (is_synthetic=True, source says so); the PAPI scores are the
published figures from the domain brief (PAPI 2023 and 2024 reports)."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import OfficialScore, PopulationMargin, ReceptionPoint, ReportTarget, TransactionVolume
from . import report_periods
from .report_settings import DEFAULT_TARGETS, TARGET_SOURCE

SYNTHETIC = "Số liệu giả lập cho bản demo — không phải số liệu thật"
SEXES = ("nam", "nu")
AGES = ("18_24", "25_34", "35_49", "50_60", "60_plus")
PAPI_SON_LA = {  # axis: (2024, 2023)
    "1": ("Tham gia của người dân ở cấp cơ sở", 5.2045, 4.8918),
    "2": ("Công khai, minh bạch", 5.3610, 5.1034),
    "3": ("Trách nhiệm giải trình với người dân", 4.4623, 4.3282),
    "4": ("Kiểm soát tham nhũng trong khu vực công", 7.0628, 6.6088),
    "5": ("Thủ tục hành chính công", 7.1390, 7.3132),
    "6": ("Cung ứng dịch vụ công", 7.4601, 7.5906),
    "7": ("Quản trị môi trường", 3.8144, 3.4311),
    "8": ("Quản trị điện tử", 3.3835, 3.1295),
}
PAPI_SOURCE = "Báo cáo PAPI 2023 và 2024 (UNDP, CECODES, MTTQ Việt Nam), điểm trục nội dung của Sơn La"


def seed_reports(session: Session, *, province_code: str, commune_ids: list[int], seed: int = 20260602) -> None:
    """Idempotent: adds what is missing."""
    rng = np.random.default_rng(seed)
    year = dt.date.today().year
    for cid in commune_ids:
        if session.scalar(select(PopulationMargin.id).where(PopulationMargin.commune_id == cid)) is not None:
            continue
        size = float(rng.uniform(6000, 25000))
        for sex in SEXES:
            for age, share in zip(AGES, (0.16, 0.24, 0.27, 0.18, 0.15), strict=True):
                session.add(PopulationMargin(commune_id=cid, reference_year=year, sex=sex, age_group=age, ethnicity="",
                                             population=int(size * share * 0.5 * rng.uniform(0.9, 1.1)),
                                             source=SYNTHETIC, is_synthetic=True))
    points = session.scalars(select(ReceptionPoint).where(ReceptionPoint.commune_id.in_(commune_ids))).all()
    today = dt.datetime.now(report_periods.VN_TZ).date()
    periods = [report_periods.six_month(today.year), report_periods.six_month(today.year + 1),
               report_periods.annual(today.year), report_periods.annual(today.year + 1)]
    for point in points:
        for period in periods:
            if session.scalar(select(TransactionVolume.id).where(
                    TransactionVolume.reception_point_id == point.id, TransactionVolume.period_start == period.start,
                    TransactionVolume.period_end == period.end)) is None:
                months = (period.end - period.start).days / 30.4
                session.add(TransactionVolume(reception_point_id=point.id, period_start=period.start, period_end=period.end,
                                              transactions=int(rng.uniform(150, 900) * months), source=SYNTHETIC,
                                              is_synthetic=True))
    for sector, target in DEFAULT_TARGETS.items():
        if session.scalar(select(ReportTarget.id).where(ReportTarget.sector == sector)) is None:
            session.add(ReportTarget(sector=sector, target_percent=target, source=TARGET_SOURCE))
    for axis, (label, v2024, v2023) in PAPI_SON_LA.items():
        for y, v in ((2024, v2024), (2023, v2023)):
            if session.scalar(select(OfficialScore.id).where(
                    OfficialScore.index_name == "PAPI", OfficialScore.province_code == province_code,
                    OfficialScore.year == y, OfficialScore.component == axis)) is None:
                session.add(OfficialScore(index_name="PAPI", province_code=province_code, year=y, component=axis,
                                          label=f"Trục {axis}: {label}", value=v, unit="điểm (1–10)",
                                          source=PAPI_SOURCE, entered_by="demo"))
    session.flush()
