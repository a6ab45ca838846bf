"""Fieldwork: survey rounds, the village frame, multi-stage PPS selections, assignments, interviews
(paradata), enumerator API tokens, paper double entry and back-checks.

Design variables are also written onto every Response (``stratum``, ``psu``, ``design_weight``,
``interviewer_id``) so the reports can use them without knowing about fieldwork tables. They are
attached to the core Response model here, and created by this module's migration.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import InstrumentedAttribute, Mapped, mapped_column, relationship

from ..db import Base
from .core import Commune, Response, User, UTCDateTime, utcnow

# --- design variables on Response -------------------------------------------------------------------
# Attached after the class is declared (declarative adds them to the table and the mapper).
DESIGN_COLUMNS = ("stratum", "psu", "design_weight", "interviewer_id")
Response.stratum = mapped_column(String(60), nullable=True)
Response.psu = mapped_column(String(60), nullable=True)
Response.design_weight = mapped_column(Float, nullable=True)
Response.interviewer_id = mapped_column(ForeignKey("app_user.id", ondelete="SET NULL"), nullable=True)
response_stratum: InstrumentedAttribute[str | None] = Response.stratum  # type: ignore[attr-defined]
response_psu: InstrumentedAttribute[str | None] = Response.psu  # type: ignore[attr-defined]
response_design_weight: InstrumentedAttribute[float | None] = Response.design_weight  # type: ignore[attr-defined]
response_interviewer_id: InstrumentedAttribute[int | None] = Response.interviewer_id  # type: ignore[attr-defined]
# Only interviews have an interviewer: citizens' responses (most rows) stay out of the index. Its one reader is
# the foreign key's ON DELETE SET NULL ("interviewer_id = $1" implies NOT NULL, so the partial index serves it).
_WITH_INTERVIEWER = response_interviewer_id.is_not(None)
Index("ix_response_interviewer_id", response_interviewer_id, postgresql_where=_WITH_INTERVIEWER,
      sqlite_where=_WITH_INTERVIEWER)


def set_design(response: Response, **values: Any) -> None:
    """Write design variables onto a Response (only the names in DESIGN_COLUMNS)."""
    for key, value in values.items():
        if key not in DESIGN_COLUMNS:
            raise KeyError(key)
        setattr(response, key, value)


def design_of(response: Response) -> dict[str, Any]:
    return {key: getattr(response, key) for key in DESIGN_COLUMNS}


# --- frame and sample -------------------------------------------------------------------------------
class Village(Base):
    """A village / hamlet (thôn, bản, tổ dân phố): the primary sampling unit; households = measure of size."""

    __tablename__ = "village"
    __table_args__ = (UniqueConstraint("commune_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"), index=True)
    name: Mapped[str] = mapped_column(String(120))
    households: Mapped[int] = mapped_column(Integer)
    # Optional centre of the village, to flag interviews recorded far away (GPS with consent only).
    lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    commune: Mapped[Commune] = relationship()


class SurveyRound(Base):
    """One face-to-face survey round (đợt khảo sát) of one questionnaire sector."""

    __tablename__ = "survey_round"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    sector: Mapped[str] = mapped_column(String(30))
    seed: Mapped[str] = mapped_column(String(60))
    double_entry: Mapped[bool] = mapped_column(Boolean, default=False)
    backcheck_rate: Mapped[float] = mapped_column(Float, default=0.10)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # The parameters the plan was drawn with, kept so the draw can be reproduced and documented.
    parameters: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class SampleCommune(Base):
    """Stage 1: a commune selected in a round, with its stratum, size and inclusion probability."""

    __tablename__ = "sample_commune"
    __table_args__ = (UniqueConstraint("round_id", "commune_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id", ondelete="CASCADE"), index=True)
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"))
    stratum: Mapped[str] = mapped_column(String(60))
    size: Mapped[float] = mapped_column(Float)
    probability: Mapped[float] = mapped_column(Float)
    certainty: Mapped[bool] = mapped_column(Boolean, default=False)

    commune: Mapped[Commune] = relationship()


class SampleVillage(Base):
    """Stage 2 (villages) and 3 (households within a village). ``rank`` is set for replacement villages
    (1 = first to use); ``status``: selected, replacement, replaced (dropped), active (a used replacement)."""

    __tablename__ = "sample_village"
    # The round page lists the sample in drawing order, keyset by id.
    __table_args__ = (UniqueConstraint("round_id", "village_id"), Index("ix_sample_village_round_id_id", "round_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id", ondelete="CASCADE"), index=True)
    sample_commune_id: Mapped[int] = mapped_column(ForeignKey("sample_commune.id", ondelete="CASCADE"), index=True)
    village_id: Mapped[int] = mapped_column(ForeignKey("village.id"))
    size: Mapped[float] = mapped_column(Float)
    prob_commune: Mapped[float] = mapped_column(Float)
    prob_village: Mapped[float] = mapped_column(Float)  # conditional on the commune
    prob_household: Mapped[float] = mapped_column(Float)  # conditional on the village
    design_weight: Mapped[float] = mapped_column(Float)  # 1 / product of the three
    certainty: Mapped[bool] = mapped_column(Boolean, default=False)
    target: Mapped[int] = mapped_column(Integer)
    status: Mapped[str] = mapped_column(String(12), default="selected")
    rank: Mapped[int | None] = mapped_column(Integer, nullable=True)
    replaces_id: Mapped[int | None] = mapped_column(ForeignKey("sample_village.id"), nullable=True)
    issued: Mapped[int] = mapped_column(Integer, default=0)  # paper questionnaires handed out

    village: Mapped[Village] = relationship()
    sample_commune: Mapped[SampleCommune] = relationship()


class Assignment(Base):
    """A supervisor gives an enumerator a village and a target number of interviews."""

    __tablename__ = "assignment"
    __table_args__ = (UniqueConstraint("sample_village_id", "enumerator_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sample_village_id: Mapped[int] = mapped_column(ForeignKey("sample_village.id", ondelete="CASCADE"), index=True)
    enumerator_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    target: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    sample_village: Mapped[SampleVillage] = relationship()
    enumerator: Mapped[User] = relationship()


class Interview(Base):
    """One contact attempt by an enumerator (completed, refused, ineligible, not at home) with paradata.

    ``uuid`` is generated on the tablet; ``payload_hash`` tells a harmless re-send (same content) from a
    conflict (same uuid, different content). A completed interview has a Response with the same uuid.
    """

    __tablename__ = "interview"
    __table_args__ = (Index("ix_interview_enumerator_ended", "enumerator_id", "ended_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    uuid: Mapped[str] = mapped_column(String(36), unique=True)
    payload_hash: Mapped[str] = mapped_column(String(64))
    assignment_id: Mapped[int | None] = mapped_column(ForeignKey("assignment.id"), nullable=True, index=True)
    enumerator_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id", ondelete="SET NULL"), nullable=True,
                                                     unique=True)
    outcome: Mapped[str] = mapped_column(String(16))  # completed, refused, ineligible, absent
    mode: Mapped[str] = mapped_column(String(12), default="enumerator")
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    ended_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    page_seconds: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    eligibility: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # GPS only with the respondent's consent (sensitive location data).
    gps_consent: Mapped[bool] = mapped_column(Boolean, default=False)
    gps_lat: Mapped[float | None] = mapped_column(Float, nullable=True)
    gps_lon: Mapped[float | None] = mapped_column(Float, nullable=True)
    gps_accuracy_m: Mapped[float | None] = mapped_column(Float, nullable=True)
    received_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)

    assignment: Mapped[Assignment | None] = relationship()


class ApiToken(Base):
    """A bearer token of the offline app: long-lived, revocable, stored only as a SHA-256 hash."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("app_user.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # A password change or reset bumps the user's session_version and so ends the token too.
    session_version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    expires_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)

    user: Mapped[User] = relationship()


class PaperEntry(Base):
    """One typing of a paper questionnaire (entry 1 or 2). With double entry the response is stored only
    when both entries agree or a supervisor resolved the differences."""

    __tablename__ = "paper_entry"
    __table_args__ = (UniqueConstraint("round_id", "sheet_code", "entry_no"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id", ondelete="CASCADE"), index=True)
    sample_village_id: Mapped[int] = mapped_column(ForeignKey("sample_village.id"))
    sheet_code: Mapped[str] = mapped_column(String(40))
    entry_no: Mapped[int] = mapped_column(Integer)
    questionnaire_version_id: Mapped[int] = mapped_column(ForeignKey("questionnaire_version.id"))
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    texts: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    entered_by_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"))
    entered_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    response_id: Mapped[int | None] = mapped_column(ForeignKey("response.id", ondelete="SET NULL"), nullable=True)

    sample_village: Mapped[SampleVillage] = relationship()


class BackCheck(Base):
    """A completed interview drawn for re-contact by a supervisor (phúc tra) and its outcome."""

    __tablename__ = "back_check"
    # The back-check page lists a round's checks in drawing order, keyset by id.
    __table_args__ = (UniqueConstraint("response_id"), Index("ix_back_check_round_id_id", "round_id", "id"))

    id: Mapped[int] = mapped_column(primary_key=True)
    round_id: Mapped[int] = mapped_column(ForeignKey("survey_round.id", ondelete="CASCADE"), index=True)
    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"))
    enumerator_id: Mapped[int] = mapped_column(ForeignKey("app_user.id"), index=True)
    drawn_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
    # pending, confirmed (interview happened, answers match), mismatch, not_interviewed, unreachable
    outcome: Mapped[str] = mapped_column(String(20), default="pending")
    checked_answers: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    note: Mapped[str] = mapped_column(Text, default="")
    checked_by_id: Mapped[int | None] = mapped_column(ForeignKey("app_user.id"), nullable=True)
    checked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), nullable=True)
