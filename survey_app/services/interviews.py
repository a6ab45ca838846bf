"""Storing interviews from the field: the tablet sync (with its bearer tokens) and paper data entry.

Sync is idempotent per interview UUID: the tablet sends the same UUID until the server confirms it.
The server keeps a hash of the content it stored; the same UUID with the same content is acknowledged
as already stored ("duplicate"), the same UUID with other content is refused as a "conflict" (the
tablet keeps it for review). Every item is stored in its own SAVEPOINT, so one bad item never
costs the others.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import uuid
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import ValidationFailed
from ..i18n import N_
from ..models import ApiToken, Assignment, Interview, PaperEntry, Response, SampleVillage, SurveyRound, User, utcnow
from ..models.fieldwork import set_design
from . import audit, fieldwork, submissions
from . import questionnaires as q_service
from .sampling import psu_code

TOKEN_LIFETIME = dt.timedelta(days=30)
MAX_BATCH = 50
FIELD_ROLES = ("enumerator", "admin")


# --- tokens --------------------------------------------------------------------------------------------
def token_digest(token: str) -> str:
    """Bearer tokens (enumerator and kiosk) are stored as SHA-256 digests only."""
    return hashlib.sha256(token.encode()).hexdigest()


_digest = token_digest


def issue_token(session: Session, *, user: User, now: dt.datetime | None = None) -> tuple[str, ApiToken]:
    """A new bearer token for the offline app; only its hash is stored, the plain value is shown once."""
    if user.role not in FIELD_ROLES:
        raise ValidationFailed(N_("Chỉ điều tra viên và giám sát viên được dùng ứng dụng thu thập."))
    now = now or utcnow()
    plain = "dtv_" + secrets.token_urlsafe(32)
    row = ApiToken(user_id=user.id, token_hash=_digest(plain), created_at=now, expires_at=now + TOKEN_LIFETIME,
                   session_version=user.session_version)
    session.add(row)
    session.flush()
    audit.record(session, actor=user, action="api_token_issued", target_type="api_token", target_id=row.id)
    return plain, row


def revoke_tokens(session: Session, *, actor: User, user: User, now: dt.datetime | None = None) -> int:
    rows = list(session.scalars(select(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))))
    for row in rows:
        row.revoked_at = now or utcnow()
    session.flush()
    audit.record(session, actor=actor, action="api_token_revoked", target_type="user", target_id=user.id,
                 details={"tokens": len(rows)})
    return len(rows)


class TokenRefused(Exception):
    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.message = message


def user_for_token(session: Session, *, token: str | None, now: dt.datetime | None = None) -> User:
    """The field user behind a bearer token, or TokenRefused (missing, unknown, expired, revoked)."""
    now = now or utcnow()
    if not token:
        raise TokenRefused("missing", N_("Thiếu mã đăng nhập của ứng dụng. Vui lòng đăng nhập lại."))
    row = session.scalar(select(ApiToken).where(ApiToken.token_hash == _digest(token)))
    if row is None:
        raise TokenRefused("invalid", N_("Mã đăng nhập không hợp lệ. Vui lòng đăng nhập lại."))
    user = row.user
    if row.revoked_at is not None or not user.active or row.session_version != user.session_version:
        raise TokenRefused("revoked", N_("Mã đăng nhập đã bị thu hồi. Vui lòng đăng nhập lại; phiếu trên máy vẫn được giữ."))
    if row.expires_at <= now:
        raise TokenRefused("expired", N_("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại; phiếu trên máy vẫn được giữ."))
    if user.role not in FIELD_ROLES or user.must_change_password:
        raise TokenRefused("forbidden", N_("Tài khoản không được dùng ứng dụng thu thập."))
    if row.last_used_at is None or now - row.last_used_at > dt.timedelta(minutes=5):
        row.last_used_at = now
    return user


# --- sync ----------------------------------------------------------------------------------------------
@dataclass
class ItemResult:
    uuid: str
    status: str  # stored, duplicate, conflict, invalid
    message: str = ""
    errors: dict[str, str] = field(default_factory=dict)
    flags: list[str] = field(default_factory=list)


def payload_hash(item: Mapping[str, Any]) -> str:
    """Canonical JSON of what the tablet sent (key order and whitespace do not matter)."""
    return hashlib.sha256(json.dumps(item, sort_keys=True, ensure_ascii=False, default=str).encode()).hexdigest()


def as_form(answers: Mapping[str, Any]) -> dict[str, list[str]]:
    """Tablet answers (string, list of strings, number or null) in the shape validate_answers takes."""
    form: dict[str, list[str]] = {}
    for key, value in answers.items():
        if value is None:
            continue
        values = value if isinstance(value, list) else [value]
        form[str(key)] = [str(v) for v in values if isinstance(v, str | int | float) and not isinstance(v, bool)]
    return form


def _existing(session: Session, *, item_uuid: str, digest: str, enumerator: User) -> ItemResult | None:
    interview = session.scalar(select(Interview).where(Interview.uuid == item_uuid))
    if interview is not None:
        if interview.payload_hash == digest and interview.enumerator_id == enumerator.id:
            return ItemResult(item_uuid, "duplicate", "Phiếu đã được lưu trước đó.")
        return ItemResult(item_uuid, "conflict", "Mã phiếu đã có trên máy chủ với nội dung khác. Phiếu được giữ trên máy "
                                                 "để giám sát viên xem lại.")
    if submissions.get_by_submission_id(session, submission_id=item_uuid) is not None:
        return ItemResult(item_uuid, "conflict", "Mã phiếu đã được dùng cho một phiếu khác.")
    return None


def sync_item(
    session: Session, *, enumerator: User, item: Mapping[str, Any], rules: fieldwork.QualityRules,
    now: dt.datetime | None = None,
) -> ItemResult:
    """Store one interview from a tablet. ``item`` is the validated JSON (see routes/api_interviews.py)."""
    now = now or utcnow()
    return store_once(
        session,
        item=item,
        existing=lambda item_uuid, digest: _existing(session, item_uuid=item_uuid, digest=digest, enumerator=enumerator),
        store=lambda item_uuid, digest: _store(session, enumerator=enumerator, item=item, item_uuid=item_uuid,
                                               digest=digest, rules=rules, now=now),
    )


def store_once(
    session: Session,
    *,
    item: Mapping[str, Any],
    existing: Callable[[str, str], ItemResult | None],
    store: Callable[[str, str], ItemResult],
) -> ItemResult:
    """The idempotent core of every offline sync (enumerator tablets, desk kiosks): a UUID already stored with
    the same content is a duplicate, with other content a conflict; otherwise ``store`` runs in its own
    savepoint, so an invalid item leaves nothing behind and never costs the other items of the batch."""
    item_uuid = submissions.parse_submission_id(str(item.get("uuid") or ""))
    if item_uuid is None:
        return ItemResult(str(item.get("uuid") or "")[:36], "invalid", "Mã phiếu (UUID) không hợp lệ.")
    digest = payload_hash(item)
    known = existing(item_uuid, digest)
    if known is not None:
        return known
    try:
        with session.begin_nested():
            result = store(item_uuid, digest)
            if result.status != "stored":
                raise _Rollback(result)
    except _Rollback as rollback:
        return rollback.result
    except IntegrityError:
        # Another sync stored the same UUID between our check and our insert.
        known = existing(item_uuid, digest)
        if known is None:
            raise
        return known
    return result


class _Rollback(Exception):
    def __init__(self, result: ItemResult) -> None:
        super().__init__(result.status)
        self.result = result


def _store(
    session: Session, *, enumerator: User, item: Mapping[str, Any], item_uuid: str, digest: str,
    rules: fieldwork.QualityRules, now: dt.datetime,
) -> ItemResult:
    assignment = session.get(Assignment, item.get("assignment_id") or 0)
    if assignment is None or assignment.enumerator_id != enumerator.id:
        return ItemResult(item_uuid, "invalid", "Phân công không tồn tại hoặc không phải của điều tra viên này.")
    sample_village = assignment.sample_village
    survey_round = session.get(SurveyRound, sample_village.round_id)
    assert survey_round is not None
    outcome = str(item.get("outcome"))
    started, ended = item.get("started_at"), item.get("ended_at")
    if isinstance(started, dt.datetime) and isinstance(ended, dt.datetime) and ended < started:
        return ItemResult(item_uuid, "invalid", "Thời điểm kết thúc trước thời điểm bắt đầu.")
    if isinstance(ended, dt.datetime) and ended > now + dt.timedelta(minutes=10):
        return ItemResult(item_uuid, "invalid", "Thời điểm kết thúc ở tương lai: kiểm tra đồng hồ của máy tính bảng.")
    gps = item.get("gps") or {}
    consent = bool(item.get("gps_consent"))
    interview = Interview(
        uuid=item_uuid, payload_hash=digest, assignment_id=assignment.id, enumerator_id=enumerator.id,
        outcome=outcome, mode="enumerator", started_at=started, ended_at=ended,
        page_seconds=dict(item.get("page_seconds") or {}), eligibility=dict(item.get("eligibility") or {}),
        gps_consent=consent, gps_lat=gps.get("lat") if consent else None, gps_lon=gps.get("lon") if consent else None,
        gps_accuracy_m=gps.get("accuracy_m") if consent else None, received_at=now,
    )
    interview.assignment = assignment
    if outcome != "completed":
        session.add(interview)
        session.flush()
        return ItemResult(item_uuid, "stored")
    eligibility = item.get("eligibility") or {}
    if not (eligibility.get("adult") and eligibility.get("used_service")):
        return ItemResult(item_uuid, "invalid", "Người trả lời không đủ điều kiện (phải từ 18 tuổi và đã sử dụng dịch vụ); "
                                                "hãy ghi kết quả “Không đủ điều kiện”.")
    version = q_service.get_version(session, version_id=int(item.get("questionnaire_version_id") or 0))
    if version is None or version.sector != survey_round.sector:
        return ItemResult(item_uuid, "invalid", "Bảng hỏi không đúng với đợt khảo sát.")
    questionnaire = q_service.parsed(version)
    validated = submissions.validate_answers(questionnaire, as_form(item.get("answers") or {}))
    if not validated.ok:
        return ItemResult(item_uuid, "invalid", "Phiếu còn câu trả lời chưa hợp lệ.",
                          {k: e.message.format(**e.params) for k, e in validated.errors.items()})
    language = str(item.get("language") or "vi")
    stored = submissions.store_response(
        session, submission_id=item_uuid, version=version, validated=validated,
        commune_id=sample_village.sample_commune.commune_id, sector=survey_round.sector, mode="enumerator",
        language=language if language in questionnaire.languages else "vi",
        started_at=started if isinstance(started, dt.datetime) else None,
        submitted_at=ended if isinstance(ended, dt.datetime) else now,
    )
    if not stored.created:
        return ItemResult(item_uuid, "conflict", "Mã phiếu đã được dùng cho một phiếu khác.")
    response = stored.response
    set_design(response, stratum=sample_village.sample_commune.stratum, psu=psu_code(sample_village),
               design_weight=sample_village.design_weight, interviewer_id=enumerator.id)
    interview.response_id = response.id
    session.add(interview)
    session.flush()
    flags = fieldwork.flag_interview(
        session, interview=interview, response=response, estimated_minutes=questionnaire.estimated_minutes,
        scale_items=[i.id for i in questionnaire.items if i.type == "scale5"], rules=rules,
    )
    return ItemResult(item_uuid, "stored", flags=flags)


def sync_batch(
    session: Session, *, enumerator: User, items: Sequence[Mapping[str, Any] | ItemResult],
    rules: fieldwork.QualityRules, now: dt.datetime | None = None,
) -> list[ItemResult]:
    """Per-item results in request order; ItemResults passed in (items that failed schema checks) pass through."""
    if len(items) > MAX_BATCH:
        raise ValidationFailed(N_("Mỗi lần đồng bộ tối đa {limit} phiếu."), limit=MAX_BATCH)
    # A UUID repeated inside one batch is handled like a re-send: same content duplicate, else conflict.
    return [item if isinstance(item, ItemResult) else sync_item(session, enumerator=enumerator, item=item, rules=rules,
                                                                  now=now) for item in items]


# --- paper entry ---------------------------------------------------------------------------------------
PAPER_NAMESPACE = uuid.UUID("6f0c9a52-3b3e-4c1e-9d7a-5c0f2b7e9a11")


@dataclass(frozen=True)
class PaperOutcome:
    entry: PaperEntry
    response: Response | None
    differences: list[str]


def paper_submission_id(survey_round: SurveyRound, sheet_code: str) -> str:
    """One sheet of one round is one response, however often it is typed."""
    return str(uuid.uuid5(PAPER_NAMESPACE, f"{survey_round.id}|{sheet_code}"))


def _clean_sheet(code: str) -> str:
    code = code.strip().upper()
    if not code or len(code) > 40 or not code.replace("-", "").replace("/", "").isalnum():
        raise ValidationFailed(N_("Số hiệu phiếu chỉ gồm chữ, số, '-' và '/' (tối đa 40 ký tự)."))
    return code


def enter_paper(
    session: Session, *, actor: User, survey_round: SurveyRound, sample_village: SampleVillage, sheet_code: str,
    validated: submissions.ValidatedAnswers, version_id: int,
) -> PaperOutcome:
    """Type in one paper questionnaire. Without double entry it is stored at once; with double entry the
    second typing (by another person) is compared with the first and stored when they agree."""
    sheet_code = _clean_sheet(sheet_code)
    if sample_village.round_id != survey_round.id:
        raise ValidationFailed(N_("Thôn không thuộc đợt khảo sát này."))
    entries = list(session.scalars(select(PaperEntry).where(
        PaperEntry.round_id == survey_round.id, PaperEntry.sheet_code == sheet_code).order_by(PaperEntry.entry_no)))
    if any(e.response_id for e in entries) or (entries and not survey_round.double_entry):
        raise ValidationFailed(N_("Phiếu số {sheet_code} đã được nhập."), sheet_code=sheet_code)
    if len(entries) >= 2:
        raise ValidationFailed(N_("Phiếu số {sheet_code} đã được nhập đủ hai lần; chờ giám sát viên đối chiếu."),
                               sheet_code=sheet_code)
    if entries and entries[0].entered_by_id == actor.id:
        raise ValidationFailed(N_("Lần nhập thứ hai phải do người khác thực hiện."))
    if entries and entries[0].sample_village_id != sample_village.id:
        raise ValidationFailed(N_("Lần nhập thứ hai ghi thôn khác với lần nhập thứ nhất."))
    entry = PaperEntry(round_id=survey_round.id, sample_village_id=sample_village.id, sheet_code=sheet_code,
                       entry_no=len(entries) + 1, questionnaire_version_id=version_id, answers=validated.answers,
                       texts=validated.texts, entered_by_id=actor.id)
    session.add(entry)
    session.flush()
    audit.record(session, actor=actor, action="paper_entered", target_type="paper_entry", target_id=entry.id,
                 details={"sheet": sheet_code, "entry": entry.entry_no})
    if survey_round.double_entry and entry.entry_no == 1:
        return PaperOutcome(entry, None, [])
    if survey_round.double_entry:
        differences = compare_entries(entries[0], entry)
        if differences:
            return PaperOutcome(entry, None, differences)
    response = _store_paper(session, survey_round=survey_round, sample_village=sample_village, sheet_code=sheet_code,
                            version_id=version_id, validated=validated)
    for e in [*entries, entry]:
        e.response_id = response.id
    session.flush()
    return PaperOutcome(entry, response, [])


def compare_entries(first: PaperEntry, second: PaperEntry) -> list[str]:
    """Item ids whose values differ between two typings (answers and free texts)."""
    a = {**first.answers, **first.texts}
    b = {**second.answers, **second.texts}
    if first.questionnaire_version_id != second.questionnaire_version_id:
        return sorted(set(a) | set(b))
    return sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k))


def resolve_paper(
    session: Session, *, actor: User, survey_round: SurveyRound, sheet_code: str, validated: submissions.ValidatedAnswers,
) -> Response:
    """Store the values a supervisor chose on the comparison screen."""
    entries = list(session.scalars(select(PaperEntry).where(
        PaperEntry.round_id == survey_round.id, PaperEntry.sheet_code == sheet_code).order_by(PaperEntry.entry_no)))
    if len(entries) != 2 or entries[0].response_id is not None:
        raise ValidationFailed(N_("Không có phiếu cần đối chiếu với số hiệu này."))
    response = _store_paper(session, survey_round=survey_round, sample_village=entries[0].sample_village,
                            sheet_code=sheet_code, version_id=entries[0].questionnaire_version_id, validated=validated)
    for e in entries:
        e.response_id = response.id
    session.flush()
    audit.record(session, actor=actor, action="paper_resolved", target_type="response", target_id=response.id,
                 details={"sheet": sheet_code})
    return response


def pending_comparisons(session: Session, *, survey_round: SurveyRound) -> list[tuple[PaperEntry, PaperEntry, list[str]]]:
    entries = list(session.scalars(select(PaperEntry).where(
        PaperEntry.round_id == survey_round.id, PaperEntry.response_id.is_(None)).order_by(PaperEntry.sheet_code,
                                                                                          PaperEntry.entry_no)))
    pairs: dict[str, list[PaperEntry]] = {}
    for e in entries:
        pairs.setdefault(e.sheet_code, []).append(e)
    return [(p[0], p[1], compare_entries(p[0], p[1])) for p in pairs.values() if len(p) == 2]


def _store_paper(
    session: Session, *, survey_round: SurveyRound, sample_village: SampleVillage, sheet_code: str, version_id: int,
    validated: submissions.ValidatedAnswers,
) -> Response:
    version = q_service.get_version(session, version_id=version_id)
    if version is None or version.sector != survey_round.sector:
        raise ValidationFailed(N_("Bảng hỏi không đúng với đợt khảo sát."))
    stored = submissions.store_response(
        session, submission_id=paper_submission_id(survey_round, sheet_code), version=version, validated=validated,
        commune_id=sample_village.sample_commune.commune_id, sector=survey_round.sector, mode="paper", language="vi",
        started_at=None,
    )
    set_design(stored.response, stratum=sample_village.sample_commune.stratum, psu=psu_code(sample_village),
               design_weight=sample_village.design_weight, interviewer_id=None)
    session.flush()
    return stored.response
