"""POST /api/v1/interviews: the offline tablet app sends completed interviews in batches.

Authentication is a bearer token issued to a signed-in enumerator (POST /enumerator/token), not the
session cookie: a tablet may stay offline for days and must still be able to sync afterwards.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from ..deps import SessionDep, SettingsDep
from ..errors import AppError, PayloadTooLarge
from ..i18n import N_
from ..models import User
from ..services import fieldwork, interviews

router = APIRouter(prefix="/api/v1", tags=["api"])
bearer = HTTPBearer(auto_error=False, description="Mã của ứng dụng thu thập (POST /enumerator/token)")


class TokenRejected(AppError):
    status_code = 401
    public_message = N_("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.")


def token_user(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> User:
    try:
        return interviews.user_for_token(session, token=credentials.credentials if credentials else None)
    except interviews.TokenRefused as exc:
        raise TokenRejected(exc.message) from exc


class GpsIn(BaseModel):
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    accuracy_m: float | None = Field(default=None, ge=0, le=100_000)


class EligibilityIn(BaseModel):
    adult: bool = Field(description="Người trả lời từ 18 tuổi trở lên")
    used_service: bool = Field(description="Đã sử dụng dịch vụ trong 12 tháng qua")


class InterviewIn(BaseModel):
    """One contact attempt recorded on a tablet."""

    model_config = ConfigDict(extra="ignore")

    uuid: str = Field(min_length=32, max_length=36, description="UUID sinh trên máy; gửi lại nhiều lần vẫn an toàn")
    assignment_id: int
    outcome: Literal["completed", "refused", "ineligible", "absent"]
    questionnaire_version_id: int | None = None
    language: str = Field(default="vi", max_length=10)
    answers: dict[str, str | list[str] | float | None] = Field(default_factory=dict, max_length=300)
    started_at: AwareDatetime | None = None
    ended_at: AwareDatetime | None = None
    page_seconds: dict[str, float] = Field(default_factory=dict, max_length=100)
    eligibility: EligibilityIn | None = None
    gps_consent: bool = False
    gps: GpsIn | None = None


# A malformed item falls through to the plain object and gets its own "invalid" result.
BatchItem = Annotated[InterviewIn | dict[str, Any], Field(union_mode="left_to_right")]


class InterviewBatch(BaseModel):
    interviews: list[BatchItem] = Field(description=f"Tối đa {interviews.MAX_BATCH} phiếu mỗi lần")


class ItemResultOut(BaseModel):
    uuid: str
    status: Literal["stored", "duplicate", "conflict", "invalid"] = Field(
        description="stored và duplicate: máy được xoá phiếu; conflict và invalid: giữ lại trên máy để xem lại"
    )
    message: str = ""
    errors: dict[str, str] = Field(default_factory=dict)
    flags: list[str] = Field(default_factory=list)


class SyncResult(BaseModel):
    results: list[ItemResultOut]
    stored: int
    duplicates: int
    conflicts: int
    invalid: int


def _schema_error(raw: dict[str, Any]) -> interviews.ItemResult:
    try:
        InterviewIn.model_validate(raw)
    except ValidationError as exc:
        fields = {".".join(str(p) for p in e["loc"]): "Giá trị không hợp lệ" for e in exc.errors()[:20]}
        return interviews.ItemResult(str(raw.get("uuid") or "")[:36], "invalid", "Dữ liệu phiếu không đúng định dạng.",
                                     fields)
    return interviews.ItemResult(str(raw.get("uuid") or "")[:36], "invalid", "Dữ liệu phiếu không đúng định dạng.")


@router.post(
    "/interviews", name="api.interviews", response_model=SyncResult,
    responses={401: {"description": "Mã đăng nhập thiếu, hết hạn hoặc bị thu hồi"},
               413: {"description": "Quá nhiều phiếu hoặc dữ liệu quá lớn trong một lần gửi"}},
)
def sync_interviews(
    batch: InterviewBatch, session: SessionDep, settings: SettingsDep, user: Annotated[User, Depends(token_user)]
) -> SyncResult:
    """Store a batch of interviews; every item gets its own result, in the order sent."""
    if len(batch.interviews) > interviews.MAX_BATCH:
        raise PayloadTooLarge(
            N_("Mỗi lần đồng bộ tối đa {limit} phiếu (nhận được {count}). Hãy chia nhỏ và gửi lại; không phiếu nào bị mất."),
            limit=interviews.MAX_BATCH, count=len(batch.interviews),
        )
    items = [i.model_dump() if isinstance(i, InterviewIn) else _schema_error(i) for i in batch.interviews]
    rules = fieldwork.QualityRules(straight_line_min_items=settings.straight_line_min_items)
    results = interviews.sync_batch(session, enumerator=user, items=items, rules=rules)
    session.commit()
    out = [ItemResultOut(uuid=r.uuid, status=r.status, message=r.message, errors=r.errors,
                         flags=r.flags) for r in results]
    count = {s: sum(1 for r in results if r.status == s) for s in ("stored", "duplicate", "conflict", "invalid")}
    return SyncResult(results=out, stored=count["stored"], duplicates=count["duplicate"], conflicts=count["conflict"],
                      invalid=count["invalid"])
