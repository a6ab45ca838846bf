"""Read-only JSON API over public data: the administrative catalogue, current questionnaires, health.
(The enumerators' sync API lives in api_interviews.py and needs a token.)"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Query
from pydantic import BaseModel
from sqlalchemy import text

from ..deps import SessionDep, SettingsDep
from ..errors import NotFound
from ..i18n import N_
from ..questionnaire import Sector
from ..services import catalogue
from ..services import questionnaires as q_service

router = APIRouter(prefix="/api/v1", tags=["api"])


class CommuneOut(BaseModel):
    code: str
    name: str
    division_type: str
    province_code: str


class ErrorOut(BaseModel):
    detail: str


class HealthOut(BaseModel):
    status: str
    database: str


class QuestionnaireOut(BaseModel):
    id: str
    version: int
    content_hash: str
    definition: dict[str, Any]


@router.get("/health", name="api.health", response_model=HealthOut)
def health(session: SessionDep) -> HealthOut:
    session.execute(text("SELECT 1"))
    return HealthOut(status="ok", database="ok")


@router.get("/communes", name="api.communes", response_model=list[CommuneOut])
def communes(
    session: SessionDep,
    settings: SettingsDep,
    q: str = Query("", max_length=100, description="tên xã/phường, có hoặc không dấu"),
    province: str | None = Query(None, pattern=r"^\d{2}$", description="mã tỉnh (mặc định: tỉnh của hệ thống)"),
    limit: int = Query(20, ge=1, le=100),
) -> list[CommuneOut]:
    rows = catalogue.search_communes(session, query=q, province_code=province or settings.province_code, limit=limit)
    return [
        CommuneOut(code=c.code, name=c.name, division_type=c.division_type, province_code=c.province.code) for c in rows
    ]


@router.get(
    "/questionnaires/{sector}", name="api.questionnaire", response_model=QuestionnaireOut,
    responses={404: {"model": ErrorOut, "description": "Chưa có bảng hỏi cho lĩnh vực này"}},
)
def questionnaire(sector: Sector, session: SessionDep) -> QuestionnaireOut:
    row = q_service.current_for_sector(session, sector=sector.value)
    if row is None:
        raise NotFound(N_("Chưa có bảng hỏi cho lĩnh vực này."))
    return QuestionnaireOut(id=row.questionnaire_id, version=row.version, content_hash=row.content_hash,
                            definition=row.definition)
