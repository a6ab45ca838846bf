"""SQLAlchemy 2.0 typed models. The schema is created only by Alembic migrations."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from .db import Base

CURRENT_CODE_SCHEME = "2025"  # administrative units after 1 July 2025 (two tiers)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class Province(Base):
    __tablename__ = "province"
    __table_args__ = (UniqueConstraint("code_scheme", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_scheme: Mapped[str] = mapped_column(String(10), default=CURRENT_CODE_SCHEME)
    code: Mapped[str] = mapped_column(String(10))
    name: Mapped[str] = mapped_column(String(120))
    name_ascii: Mapped[str] = mapped_column(String(120), index=True)
    division_type: Mapped[str] = mapped_column(String(40))

    communes: Mapped[list[Commune]] = relationship(back_populates="province")


class Commune(Base):
    """A commune-level unit (xã, phường, đặc khu); official code unique within its code scheme."""

    __tablename__ = "commune"
    __table_args__ = (UniqueConstraint("code_scheme", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    code_scheme: Mapped[str] = mapped_column(String(10), default=CURRENT_CODE_SCHEME)
    code: Mapped[str] = mapped_column(String(10))
    province_id: Mapped[int] = mapped_column(ForeignKey("province.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    name_ascii: Mapped[str] = mapped_column(String(120), index=True)
    division_type: Mapped[str] = mapped_column(String(40))

    province: Mapped[Province] = relationship(back_populates="communes")


class QuestionnaireVersion(Base):
    """A published questionnaire version; its definition and hash never change once stored."""

    __tablename__ = "questionnaire_version"
    __table_args__ = (UniqueConstraint("questionnaire_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    questionnaire_id: Mapped[str] = mapped_column(String(40))
    version: Mapped[int] = mapped_column(Integer)
    sector: Mapped[str] = mapped_column(String(30), index=True)
    content_hash: Mapped[str] = mapped_column(String(64))
    definition: Mapped[dict[str, Any]] = mapped_column(JSON)
    published_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    is_current: Mapped[bool] = mapped_column(Boolean, default=True)


class ReceptionPoint(Base):
    """A place where citizens are served and a QR poster hangs (điểm tiếp nhận)."""

    __tablename__ = "reception_point"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"), index=True)
    sector: Mapped[str] = mapped_column(String(30), index=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    token_rotated_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)

    commune: Mapped[Commune] = relationship()


class Response(Base):
    """One completed questionnaire. Anonymous: no IP address, name, phone or address is stored."""

    __tablename__ = "response"
    __table_args__ = (
        Index("ix_response_commune_sector_submitted", "commune_id", "sector", "submitted_at"),
        Index("ix_response_point_submitted", "reception_point_id", "submitted_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(36), unique=True)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    questionnaire_id: Mapped[str] = mapped_column(String(40))
    questionnaire_version: Mapped[int] = mapped_column(Integer)
    questionnaire_hash: Mapped[str] = mapped_column(String(64))
    reception_point_id: Mapped[int | None] = mapped_column(ForeignKey("reception_point.id"), nullable=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"))
    sector: Mapped[str] = mapped_column(String(30))
    mode: Mapped[str] = mapped_column(String(12))  # qr, enumerator, paper, kiosk
    language: Mapped[str] = mapped_column(String(10))
    started_at: Mapped[dt.datetime | None] = mapped_column(DateTime(timezone=True), nullable=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow, server_default=func.now())
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)

    reception_point: Mapped[ReceptionPoint | None] = relationship()


class Comment(Base):
    """Free text kept apart from the answers so that access to it can be scoped and audited."""

    __tablename__ = "comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"), index=True)
    item_id: Mapped[str] = mapped_column(String(40))
    text: Mapped[str] = mapped_column(Text)


class User(Base):
    """A staff account. Roles and scopes are enforced on the server for every route."""

    __tablename__ = "app_user"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))  # admin, reviewer, commune, enumerator, viewer
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
