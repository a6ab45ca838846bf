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
    TypeDecorator,
    UniqueConstraint,
    func,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base

CURRENT_CODE_SCHEME = "2025"  # administrative units after 1 July 2025 (two tiers)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC on both backends (SQLite hands back naive values otherwise)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is not None:
            value = value.astimezone(dt.UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


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
    # Deferred: requests use the parsed copy cached by content_hash; decoding the JSON on every load cost
    # more than the query.
    definition: Mapped[dict[str, Any]] = mapped_column(JSON, deferred=True)
    published_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
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
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    token_rotated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    commune: Mapped[Commune] = relationship()


class Response(Base):
    """One completed questionnaire. Anonymous: no IP address, name, phone or address is stored."""

    __tablename__ = "response"
    __table_args__ = (
        Index("ix_response_commune_sector_submitted", "commune_id", "sector", "submitted_at"),
        # The abuse detectors count by these keys within minutes-long windows. The device index carries the
        # point too, so "did this device answer at this point lately?" is one range however busy the point is.
        Index("ix_response_device_point_submitted", "device_hash", "reception_point_id", "submitted_at"),
        Index("ix_response_network_point_submitted", "network_hash", "reception_point_id", "submitted_at"),
        Index("ix_response_answers_point_submitted", "answers_hash", "reception_point_id", "submitted_at"),
        # Raw exports stream one period in (submitted_at, id) order: an index range, not a scan of every row.
        Index("ix_response_submitted_id", "submitted_at", "id"),
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
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    submitted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, server_default=func.now())
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    # Keyed hashes (HMAC with a salt that rotates daily) used only to detect abuse; never a raw address.
    device_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    network_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    answers_hash: Mapped[str | None] = mapped_column(String(64), nullable=True)
    notice_version: Mapped[str | None] = mapped_column(String(20), nullable=True)
    flagged: Mapped[bool] = mapped_column(Boolean, default=False, server_default="0")

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
    # The admin's user list (optionally one role) and the enumerator list: role, then user-name order.
    __table_args__ = (Index("ix_app_user_role_username", "role", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(80), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[str] = mapped_column(String(20))  # admin, reviewer, commune, enumerator, viewer
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    must_change_password: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # Bumped on password change or disable: every older session cookie stops working.
    session_version: Mapped[int] = mapped_column(Integer, default=1, server_default="1")
    # The agency the user works for (e.g. "Sở Y tế"): decides whose feedback inbox they see.
    agency: Mapped[str | None] = mapped_column(String(200), nullable=True)

    scopes: Mapped[list[UserScope]] = relationship(cascade="all, delete-orphan", lazy="selectin")


class UserScope(Base):
    """One scope line of a user: a sector, a commune, or both (a reviewer of health in one commune).
    A user with no scope lines and role admin sees the whole province."""

    __tablename__ = "user_scope"
    __table_args__ = (UniqueConstraint("user_id", "sector", "commune_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    sector: Mapped[str | None] = mapped_column(String(30), nullable=True)
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("commune.id"), nullable=True)


class AuditEvent(Base):
    """Append-only trail; UPDATE and DELETE are refused by database triggers (see the migration)."""

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_action_at", "action", "at"),
        # The audit page lists newest first by id, filtered by action or by actor (keyset pagination).
        Index("ix_audit_event_action_id", "action", "id"),
        Index("ix_audit_event_actor_id", "actor", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(60))
    target_type: Mapped[str | None] = mapped_column(String(40), nullable=True)
    target_id: Mapped[str | None] = mapped_column(String(80), nullable=True)
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class RateEvent(Base):
    """Short-lived counters for throttling (login failures, submission bursts) shared by every worker.
    ``key`` is a keyed hash, never a raw IP address or username."""

    __tablename__ = "rate_event"
    __table_args__ = (Index("ix_rate_event_key_at", "kind", "key", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)


class ResponseFlag(Base):
    """A reason to doubt a response (kept, excluded from indices while open or confirmed)."""

    __tablename__ = "response_flag"
    # The review list pages by status, newest id first (keyset).
    __table_args__ = (UniqueConstraint("response_id", "reason"), Index("ix_response_flag_status_id", "status", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(String(40))
    detail: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(12), default="open")  # open, confirmed, cleared
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    reviewed_by: Mapped[str | None] = mapped_column(String(80), nullable=True)
    reviewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
