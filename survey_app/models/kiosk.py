"""Desk kiosks: a tablet paired with one reception point, and the responses it synced.

The sync token is stored only as a SHA-256 hash. The pairing link is not stored at all: it is signed
with the application secret over (kiosk id, pairing_version), so bumping the version ends every old link.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, Index, Integer, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..db import Base
from .core import ReceptionPoint, UTCDateTime, utcnow


class KioskDevice(Base):
    """One tablet standing at a desk (máy tính bảng tại quầy), bound to one reception point."""

    __tablename__ = "kiosk_device"

    id: Mapped[int] = mapped_column(primary_key=True)
    point_id: Mapped[int] = mapped_column(ForeignKey("reception_point.id", ondelete="CASCADE"), index=True)
    label: Mapped[str] = mapped_column(String(100))
    # Public, unguessable id of the kiosk page (/kiosk/{slug}/): the page shows only the public form.
    slug: Mapped[str] = mapped_column(String(32), unique=True)
    token_hash: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    pairing_version: Mapped[int] = mapped_column(Integer, default=1)
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    paired_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_seen_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    point: Mapped[ReceptionPoint] = relationship()

    @property
    def active(self) -> bool:
        return self.revoked_at is None and self.point.active


class KioskSubmission(Base):
    """One response synced by a kiosk; ``payload_hash`` tells a harmless re-send from a conflict."""

    __tablename__ = "kiosk_submission"
    __table_args__ = (Index("ix_kiosk_submission_kiosk_ended", "kiosk_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    payload_hash: Mapped[str] = mapped_column(String(64))
    kiosk_id: Mapped[int] = mapped_column(ForeignKey("kiosk_device.id", ondelete="CASCADE"))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id", ondelete="SET NULL"), nullable=True,
                                                     unique=True)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())  # the tablet's clock: responses may sync hours later
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
