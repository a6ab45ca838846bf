"""Desk kiosks: pairing a tablet with a reception point, its bearer token, and storing its responses.

A kiosk syncs with the same protocol as the enumerator app (client UUIDs, per-item results stored /
duplicate / conflict / invalid, each item in its own SAVEPOINT). Being one shared device, it is exempt
from the public form's one-response-per-device rule; instead responses closer together than a minimum
interval (by the tablet's clock, since offline responses arrive in batches) are refused, and a kiosk
producing many responses in a short window gets them flagged for review.
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ..errors import ValidationFailed
from ..i18n import N_
from ..models import KioskDevice, KioskSubmission, ReceptionPoint, Response, ResponseFlag, User, utcnow
from ..security import Signer
from . import abuse, audit, feedback, submissions
from . import questionnaires as q_service
from .interviews import ItemResult, as_form, store_once, token_digest
from .keyset import PAGE_SIZE, Page, page_of

PAIRING_PURPOSE = "kiosk-pair"
PAIRING_LIFETIME = dt.timedelta(days=7)
MAX_BATCH = 50
TOKEN_PREFIX = "kiosk_"  # noqa: S105  (a prefix, not a secret)

abuse.FLAG_REASONS.setdefault("kiosk_burst", "Nhiều phiếu từ cùng một máy kiosk trong thời gian ngắn (nghi tự đánh giá)")


@dataclass(frozen=True)
class Rules:
    min_interval: dt.timedelta
    burst_count: int
    burst_window: dt.timedelta
    abuse: abuse.Thresholds


def rules_from(settings: Any) -> Rules:
    return Rules(
        min_interval=dt.timedelta(seconds=settings.kiosk_min_interval_seconds),
        burst_count=settings.kiosk_burst_count,
        burst_window=dt.timedelta(minutes=settings.kiosk_burst_minutes),
        abuse=abuse.thresholds_from(settings),
    )


_digest = token_digest


# --- administration ------------------------------------------------------------------------------------
def create_kiosk(session: Session, *, actor: User, point: ReceptionPoint, label: str) -> KioskDevice:
    label = " ".join(label.split())
    if not label or len(label) > 100:
        raise ValidationFailed(N_("Tên máy kiosk phải có từ 1 đến 100 ký tự (ví dụ: “Quầy số 1”)."))
    if not point.active:
        raise ValidationFailed(N_("Điểm tiếp nhận đã bị thu hồi; không thể ghép máy kiosk."))
    kiosk = KioskDevice(point_id=point.id, label=label, slug=secrets.token_urlsafe(12), created_by_id=actor.id)
    kiosk.point = point
    session.add(kiosk)
    session.flush()
    audit.record(session, actor=actor, action="kiosk_created", target_type="kiosk", target_id=kiosk.id,
                 details={"point": point.code, "label": label})
    return kiosk


def list_kiosks(
    session: Session, *, point_id: int | None = None, before_id: int | None = None, limit: int = PAGE_SIZE
) -> Page[KioskDevice]:
    """Newest first, keyset-paginated by id; the points are loaded with the page (the list shows them)."""
    stmt = (select(KioskDevice).options(joinedload(KioskDevice.point)).order_by(KioskDevice.id.desc())
            .limit(limit + 1))
    if point_id is not None:
        stmt = stmt.where(KioskDevice.point_id == point_id)
    if before_id is not None:
        stmt = stmt.where(KioskDevice.id < before_id)
    return page_of(list(session.scalars(stmt)), limit=limit, key=lambda kiosk: str(kiosk.id))


def pairing_ticket(signer: Signer, kiosk: KioskDevice) -> str | None:
    """The signed pairing link's secret part, while the kiosk waits to be paired (None otherwise)."""
    if kiosk.paired_at is not None or kiosk.revoked_at is not None:
        return None
    return signer.dumps(PAIRING_PURPOSE, {"k": kiosk.id, "v": kiosk.pairing_version})


def kiosk_for_ticket(session: Session, *, signer: Signer, ticket: str) -> KioskDevice:
    data = signer.loads(PAIRING_PURPOSE, ticket, max_age=int(PAIRING_LIFETIME.total_seconds()))
    kiosk = session.get(KioskDevice, data.get("k")) if data and isinstance(data.get("k"), int) else None
    if kiosk is None or data is None or data.get("v") != kiosk.pairing_version or kiosk.paired_at is not None:
        raise ValidationFailed(N_("Liên kết ghép máy không hợp lệ, đã hết hạn hoặc đã được dùng. "
                               "Vui lòng xin quản trị viên một liên kết mới."))
    if not kiosk.active:
        raise ValidationFailed(N_("Máy kiosk này đã bị thu hồi."))
    return kiosk


def pair(session: Session, *, kiosk: KioskDevice, now: dt.datetime | None = None) -> str:
    """Bind the tablet: a new bearer token (only its hash is kept); the pairing link stops working."""
    plain = TOKEN_PREFIX + secrets.token_urlsafe(32)
    kiosk.token_hash = _digest(plain)
    kiosk.paired_at = now or utcnow()
    session.flush()
    audit.record(session, actor=None, actor_name=f"kiosk:{kiosk.id}", action="kiosk_paired", target_type="kiosk",
                 target_id=kiosk.id, details={"point": kiosk.point.code})
    return plain


def reset_pairing(session: Session, *, actor: User, kiosk: KioskDevice) -> None:
    """A replaced or wiped tablet: the old token stops, a new pairing link is issued."""
    if kiosk.revoked_at is not None:
        raise ValidationFailed(N_("Máy kiosk đã bị thu hồi."))
    kiosk.token_hash = None
    kiosk.paired_at = None
    kiosk.pairing_version += 1
    session.flush()
    audit.record(session, actor=actor, action="kiosk_repaired", target_type="kiosk", target_id=kiosk.id)


def revoke(session: Session, *, actor: User, kiosk: KioskDevice, now: dt.datetime | None = None) -> None:
    kiosk.revoked_at = kiosk.revoked_at or now or utcnow()
    kiosk.token_hash = None
    session.flush()
    audit.record(session, actor=actor, action="kiosk_revoked", target_type="kiosk", target_id=kiosk.id)


def get_by_slug(session: Session, *, slug: str) -> KioskDevice | None:
    kiosk = session.scalar(select(KioskDevice).where(KioskDevice.slug == slug)) if len(slug) <= 32 else None
    return kiosk if kiosk is not None and kiosk.active else None


class TokenRefused(Exception):
    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


def kiosk_for_token(session: Session, *, token: str | None, now: dt.datetime | None = None) -> KioskDevice:
    if not token or not token.startswith(TOKEN_PREFIX):
        raise TokenRefused(N_("Thiếu mã của máy kiosk. Vui lòng ghép lại máy; phiếu trên máy vẫn được giữ."))
    # Lock the kiosk row (PostgreSQL) so two syncs of one tablet check the minimum interval one after the other.
    kiosk = session.scalar(select(KioskDevice).where(KioskDevice.token_hash == _digest(token)).with_for_update())
    if kiosk is None or not kiosk.active:
        raise TokenRefused(N_("Máy kiosk đã bị thu hồi hoặc được ghép lại. Vui lòng ghép lại máy; phiếu trên máy vẫn được giữ."))
    now = now or utcnow()
    if kiosk.last_seen_at is None or now - kiosk.last_seen_at > dt.timedelta(minutes=5):
        kiosk.last_seen_at = now
    return kiosk


# --- sync ----------------------------------------------------------------------------------------------
def _existing(session: Session, *, item_uuid: str, digest: str, kiosk: KioskDevice) -> ItemResult | None:
    known = session.scalar(select(KioskSubmission).where(KioskSubmission.uuid == item_uuid))
    if known is not None:
        if known.payload_hash == digest and known.kiosk_id == kiosk.id:
            return ItemResult(item_uuid, "duplicate", "Phiếu đã được lưu trước đó.")
        return ItemResult(item_uuid, "conflict", "Mã phiếu đã có trên máy chủ với nội dung khác.")
    if submissions.get_by_submission_id(session, submission_id=item_uuid) is not None:
        return ItemResult(item_uuid, "conflict", "Mã phiếu đã được dùng cho một phiếu khác.")
    return None


def sync_item(
    session: Session, *, kiosk: KioskDevice, item: Mapping[str, Any], rules: Rules, notice_version: str | None,
    now: dt.datetime | None = None,
) -> ItemResult:
    now = now or utcnow()
    return store_once(
        session,
        item=item,
        existing=lambda item_uuid, digest: _existing(session, item_uuid=item_uuid, digest=digest, kiosk=kiosk),
        store=lambda item_uuid, digest: _store(session, kiosk=kiosk, item=item, item_uuid=item_uuid, digest=digest,
                                               rules=rules, notice_version=notice_version, now=now),
    )


def _store(
    session: Session, *, kiosk: KioskDevice, item: Mapping[str, Any], item_uuid: str, digest: str, rules: Rules,
    notice_version: str | None, now: dt.datetime,
) -> ItemResult:
    point = kiosk.point
    started, ended = item.get("started_at"), item.get("ended_at")
    if not isinstance(ended, dt.datetime):
        return ItemResult(item_uuid, "invalid", "Thiếu thời điểm hoàn thành phiếu.")
    if isinstance(started, dt.datetime) and ended < started:
        return ItemResult(item_uuid, "invalid", "Thời điểm kết thúc trước thời điểm bắt đầu.")
    if ended > now + dt.timedelta(minutes=10):
        return ItemResult(item_uuid, "invalid", "Thời điểm hoàn thành ở tương lai: kiểm tra đồng hồ của máy kiosk.")
    version = q_service.get_version(session, version_id=int(item.get("questionnaire_version_id") or 0))
    if version is None or version.sector != point.sector:
        return ItemResult(item_uuid, "invalid", "Bảng hỏi không đúng với lĩnh vực của điểm tiếp nhận.")
    seconds = int(rules.min_interval.total_seconds())
    too_close = session.scalar(select(KioskSubmission.id).where(
        KioskSubmission.kiosk_id == kiosk.id,
        KioskSubmission.ended_at > ended - rules.min_interval,
        KioskSubmission.ended_at < ended + rules.min_interval,
    ).limit(1))
    if too_close is not None:
        return ItemResult(item_uuid, "invalid", f"Phiếu được gửi quá sát phiếu trước (dưới {seconds} giây) trên cùng "
                                                "máy kiosk nên không được ghi nhận.")
    questionnaire = q_service.parsed(version)
    validated = submissions.validate_answers(questionnaire, as_form(item.get("answers") or {}))
    if not validated.ok:
        return ItemResult(item_uuid, "invalid", "Phiếu còn câu trả lời chưa hợp lệ.",
                          {k: e.message.format(**e.params) for k, e in validated.errors.items()})
    language = str(item.get("language") or "vi")
    stored = submissions.store_response(
        session, submission_id=item_uuid, version=version, validated=validated, commune_id=point.commune_id,
        sector=point.sector, mode="kiosk", language=language if language in questionnaire.languages else "vi",
        started_at=started if isinstance(started, dt.datetime) else None, point=point, submitted_at=ended,
        notice_version=notice_version,
    )
    if not stored.created:
        return ItemResult(item_uuid, "conflict", "Mã phiếu đã được dùng cho một phiếu khác.")
    response = stored.response
    session.add(KioskSubmission(uuid=item_uuid, payload_hash=digest, kiosk_id=kiosk.id, response_id=response.id,
                                started_at=started if isinstance(started, dt.datetime) else None, ended_at=ended,
                                received_at=now))
    session.flush()
    # Timed detectors measure on the tablet's clock: the response may arrive long after it was given.
    flags = abuse.flag_response(
        session, stored=stored, rules=rules.abuse, honeypot=False, now=ended,
        started_at=started if isinstance(started, dt.datetime) else None,
        scale_items=[i.id for i in questionnaire.items if i.type == "scale5"],
    )
    flags += _flag_burst(session, kiosk=kiosk, ended=ended, rules=rules)
    feedback.create_from_response(session, response=response)
    return ItemResult(item_uuid, "stored", flags=flags)


def _flag_burst(session: Session, *, kiosk: KioskDevice, ended: dt.datetime, rules: Rules) -> list[str]:
    """Many responses from one kiosk within the window: flag every one of them (kept, excluded by default)."""
    window = (KioskSubmission.kiosk_id == kiosk.id, KioskSubmission.ended_at > ended - rules.burst_window,
              KioskSubmission.ended_at <= ended)
    size = session.scalar(select(func.count()).select_from(KioskSubmission).where(*window)) or 0
    if size < rules.burst_count:
        return []
    already = select(ResponseFlag.response_id).where(ResponseFlag.reason == "kiosk_burst")
    members = session.scalars(select(Response).join(KioskSubmission, KioskSubmission.response_id == Response.id)
                              .where(*window, Response.id.not_in(already)))
    detail = f"{size} phiếu trong {int(rules.burst_window.total_seconds() // 60)} phút từ máy “{kiosk.label}”"
    for response in members:
        session.add(ResponseFlag(response_id=response.id, reason="kiosk_burst", detail=detail[:300]))
        response.flagged = True
    session.flush()
    return ["kiosk_burst"]


def sync_batch(
    session: Session, *, kiosk: KioskDevice, items: Sequence[Mapping[str, Any] | ItemResult], rules: Rules,
    notice_version: str | None, now: dt.datetime | None = None,
) -> list[ItemResult]:
    if len(items) > MAX_BATCH:
        raise ValidationFailed(N_("Mỗi lần đồng bộ tối đa {limit} phiếu."), limit=MAX_BATCH)
    return [item if isinstance(item, ItemResult) else sync_item(session, kiosk=kiosk, item=item, rules=rules,
                                                                  notice_version=notice_version, now=now)
            for item in items]


def stored_counts(session: Session, *, kiosk_ids: Sequence[int]) -> dict[int, int]:
    """Responses stored per kiosk (for the admin list)."""
    if not kiosk_ids:
        return {}
    rows = session.execute(select(KioskSubmission.kiosk_id, func.count()).where(KioskSubmission.kiosk_id.in_(kiosk_ids))
                           .group_by(KioskSubmission.kiosk_id))
    return {int(k): int(n) for k, n in rows}
