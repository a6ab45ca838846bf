"""Citizen feedback (góp ý, phản ánh, kiến nghị): items, their history, contacts, routing and calendars."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from .core import Commune, ReceptionPoint, UTCDateTime, utcnow


class FeedbackItem(Base):
    """One piece of feedback, from any channel, with its workflow state.

    ``text`` is what the citizen wrote (it may contain personal data: shown in full only to the
    responsible agency). Contact details live apart, in ``feedback_contact``.
    """

    __tablename__ = "feedback_item"
    __table_args__ = (
        Index("ix_feedback_item_agency_status", "agency", "status"),
        Index("ix_feedback_item_sector_received", "sector", "received_at"),
        # The inbox pages, keyset by (deadline, id): one status (or the few open ones) in deadline order, and
        # every status ("Tất cả") walked in deadline order instead of sorting the whole table per page.
        Index("ix_feedback_item_status_deadline_id", "status", "deadline", "id"),
        Index("ix_feedback_item_deadline_id", "deadline", "id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    tracking_code: Mapped[str] = mapped_column(String(12), unique=True)
    # Client submission id of the public form: a repeated post returns the stored item (idempotent).
    submission_id: Mapped[str | None] = mapped_column(String(36), nullable=True, unique=True)
    channel: Mapped[str] = mapped_column(String(24))  # form, hotline, box, enumerator, questionnaire_comment
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    text: Mapped[str] = mapped_column(Text)
    category: Mapped[str] = mapped_column(String(30), default="other")
    sector: Mapped[str] = mapped_column(String(30))
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("commune.id"), nullable=True, index=True)
    reception_point_id: Mapped[int | None] = mapped_column(ForeignKey("reception_point.id"), nullable=True)
    # One item per questionnaire comment, so the hook can run twice without duplicating.
    comment_id: Mapped[int | None] = mapped_column(
        ForeignKey("comment.id", ondelete="SET NULL"), nullable=True, unique=True
    )
    agency: Mapped[str | None] = mapped_column(String(200), nullable=True)
    status: Mapped[str] = mapped_column(String(16), default="received")
    deadline: Mapped[dt.date | None] = mapped_column(Date, nullable=True)
    assigned_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    answered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    public_answer: Mapped[str | None] = mapped_column(Text, nullable=True)
    wants_reply: Mapped[bool] = mapped_column(Boolean, default=False)
    rating: Mapped[str | None] = mapped_column(String(1), nullable=True)  # "1".."5", SIPAS scale
    rated_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    created_by: Mapped[str | None] = mapped_column(String(80), nullable=True)  # staff entry (hotline, box)

    commune: Mapped[Commune | None] = relationship()
    reception_point: Mapped[ReceptionPoint | None] = relationship()
    contact: Mapped[FeedbackContact | None] = relationship(
        back_populates="item", cascade="all, delete-orphan", uselist=False
    )


class FeedbackContact(Base):
    """Phone or email left with explicit consent; purged (fields emptied) after the retention period."""

    __tablename__ = "feedback_contact"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("feedback_item.id", ondelete="CASCADE"), unique=True)
    phone: Mapped[str | None] = mapped_column(String(30), nullable=True)
    email: Mapped[str | None] = mapped_column(String(200), nullable=True)
    consent_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    purged_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    item: Mapped[FeedbackItem] = relationship(back_populates="contact")


class FeedbackEvent(Base):
    """The item's own history: creation, assignment, reassignment (with reason), status changes, rating."""

    __tablename__ = "feedback_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("feedback_item.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(80))
    kind: Mapped[str] = mapped_column(String(20))
    from_value: Mapped[str | None] = mapped_column(String(200), nullable=True)
    to_value: Mapped[str | None] = mapped_column(String(200), nullable=True)
    reason: Mapped[str] = mapped_column(String(500), default="")


class FeedbackNote(Base):
    """An internal note of the agency; never shown to the citizen."""

    __tablename__ = "feedback_note"

    id: Mapped[int] = mapped_column(primary_key=True)
    item_id: Mapped[int] = mapped_column(ForeignKey("feedback_item.id", ondelete="CASCADE"), index=True)
    at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    author: Mapped[str] = mapped_column(String(80))
    text: Mapped[str] = mapped_column(Text)


class RoutingRule(Base):
    """Which agency answers feedback of a sector, optionally only in one commune or at matching points.

    ``agency`` "@ubnd_xa" means the People's Committee of the item's own commune. ``point_match`` is a
    folded (accent-free, lower-case) fragment of the reception point's name, e.g. the provincial centre.
    """

    __tablename__ = "feedback_routing_rule"

    id: Mapped[int] = mapped_column(primary_key=True)
    sector: Mapped[str] = mapped_column(String(30), index=True)
    commune_id: Mapped[int | None] = mapped_column(ForeignKey("commune.id"), nullable=True)
    point_match: Mapped[str | None] = mapped_column(String(120), nullable=True)
    agency: Mapped[str] = mapped_column(String(200))
    deadline_days: Mapped[int] = mapped_column(Integer, default=15)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    commune: Mapped[Commune | None] = relationship()


class KeywordRule(Base):
    """Accent-insensitive keyword → suggested category (and sector, when the channel does not give one)."""

    __tablename__ = "feedback_keyword_rule"
    __table_args__ = (UniqueConstraint("keyword", "category"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    keyword: Mapped[str] = mapped_column(String(100))  # stored folded
    category: Mapped[str] = mapped_column(String(30))
    sector: Mapped[str | None] = mapped_column(String(30), nullable=True)
    priority: Mapped[int] = mapped_column(Integer, default=0)


class Holiday(Base):
    """A public holiday (a concrete date; the lunar calendar is not computed, the admin edits the list)."""

    __tablename__ = "holiday"

    id: Mapped[int] = mapped_column(primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, unique=True)
    name: Mapped[str] = mapped_column(String(120))
