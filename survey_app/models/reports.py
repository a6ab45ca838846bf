"""Auxiliary data for reports: population margins and transaction volumes for weighting, targets, and the
official published scores shown beside (never mixed with) our own estimates.

Every row says where it came from (``source``) and whether it is synthetic demo data (``is_synthetic``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from .core import UTCDateTime, utcnow


class PopulationMargin(Base):
    """Population of one commune in one sex × age group (× ethnicity, when known) cell."""

    __tablename__ = "population_margin"
    __table_args__ = (UniqueConstraint(
        "commune_id", "reference_year", "sex", "age_group", "ethnicity", name="uq_population_margin_cell"
    ),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"), index=True)
    reference_year: Mapped[int] = mapped_column(Integer)
    sex: Mapped[str] = mapped_column(String(20))
    age_group: Mapped[str] = mapped_column(String(20))
    ethnicity: Mapped[str] = mapped_column(String(20), default="")  # "" = all ethnic groups together
    population: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(300))
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class TransactionVolume(Base):
    """Number of transactions (dossiers, visits) served at a reception point in a period."""

    __tablename__ = "transaction_volume"
    __table_args__ = (UniqueConstraint("reception_point_id", "period_start", "period_end", name="uq_transaction_volume_period"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reception_point_id: Mapped[int] = mapped_column(ForeignKey("reception_point.id"), index=True)
    period_start: Mapped[dt.date] = mapped_column(Date)
    period_end: Mapped[dt.date] = mapped_column(Date)
    transactions: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(300))
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    imported_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ReportTarget(Base):
    """The province's target satisfaction rate for a sector, in percent (configurable)."""

    __tablename__ = "report_target"

    id: Mapped[int] = mapped_column(primary_key=True)
    sector: Mapped[str] = mapped_column(String(30), unique=True)
    target_percent: Mapped[float] = mapped_column(Float)
    source: Mapped[str] = mapped_column(String(300))
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class OfficialScore(Base):
    """A published figure (PAPI axis score, SIPAS percentage, PAR INDEX sub-score) as the publisher gave it."""

    __tablename__ = "official_score"
    __table_args__ = (UniqueConstraint("index_name", "province_code", "year", "component"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    index_name: Mapped[str] = mapped_column(String(20))  # PAPI, SIPAS, PAR_SIPAS
    province_code: Mapped[str] = mapped_column(String(10))
    year: Mapped[int] = mapped_column(Integer)
    component: Mapped[str] = mapped_column(String(40))  # e.g. "1" … "8" for PAPI axes, "total"
    label: Mapped[str] = mapped_column(String(200))
    value: Mapped[float] = mapped_column(Float)
    unit: Mapped[str] = mapped_column(String(30))
    source: Mapped[str] = mapped_column(String(300))
    is_synthetic: Mapped[bool] = mapped_column(Boolean, default=False)
    entered_by: Mapped[str] = mapped_column(String(80), default="")
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
