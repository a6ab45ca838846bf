"""Citizen feedback: intake from every channel, the tracking page and the citizen's rating. The agency's inbox and
workflow are in feedback_inbox.py, the counts for reports in feedback_summary.py.

Who sees what: an item belongs to one agency (routing.py). Users of that agency see the full text and the
contact details, and each such view is written to the audit trail; everyone else allowed to see the item
(the admin) sees masked text. The tracking page shows only status, dates and the (masked) public answer.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ..errors import Message, ValidationFailed
from ..i18n import N_
from ..models import (
    Comment,
    Commune,
    FeedbackContact,
    FeedbackEvent,
    FeedbackItem,
    QuestionnaireVersion,
    ReceptionPoint,
    Response,
    ResponseFlag,
    User,
    utcnow,
)
from ..questionnaire import ItemRole
from . import masking, routing, workdays
from . import questionnaires as q_service

CHANNELS = {
    "form": N_("Biểu mẫu góp ý (mã QR)"),
    "hotline": N_("Đường dây nóng"),
    "box": N_("Hòm thư góp ý"),
    "enumerator": N_("Điều tra viên"),
    "questionnaire_comment": N_("Ý kiến trong phiếu khảo sát"),
}
STAFF_CHANNELS = ("hotline", "box", "enumerator")
STATUSES = {
    "received": N_("Đã tiếp nhận"),
    "assigned": N_("Đã chuyển cơ quan xử lý"),
    "in_progress": N_("Đang xử lý"),
    "answered": N_("Đã trả lời"),
    "closed": N_("Đã đóng"),
}
OPEN_STATUSES = ("received", "assigned", "in_progress")
TRANSITIONS = {
    "received": ("assigned",),
    "assigned": ("in_progress", "answered"),
    "in_progress": ("answered",),
    "answered": ("closed", "in_progress"),
    "closed": ("in_progress",),
}
RATING_LABELS = {
    "1": N_("Rất không hài lòng"), "2": N_("Không hài lòng"), "3": N_("Bình thường"), "4": N_("Hài lòng"),
    "5": N_("Rất hài lòng"),
}
SATISFIED = ("4", "5")
MAX_TEXT = 2000
MAX_ANSWER = 4000
# Tracking codes: read aloud over the phone, so no 0/O, 1/I/L; 31^10 ≈ 8·10^14 possibilities.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 10
_CONTROL_CHARS = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")
_PHONE_OK = re.compile(r"^\+?[0-9 .\-()]{9,20}$")
_EMAIL_OK = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")


def new_tracking_code() -> str:
    return "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))


def normalise_code(value: str) -> str:
    """What a citizen types ("abcde-fghjk", with spaces) → the stored form; "" when it cannot be a code."""
    code = re.sub(r"[\s\-.]", "", value or "").upper()
    return code if len(code) == CODE_LENGTH and all(ch in CODE_ALPHABET for ch in code) else ""


def format_code(code: str) -> str:
    return f"{code[:5]}-{code[5:]}"


def clean_text(value: str, *, limit: int = MAX_TEXT) -> str:
    return _CONTROL_CHARS.sub("", value or "").strip()[: limit + 1]


@dataclass(frozen=True)
class Contact:
    phone: str | None
    email: str | None


@dataclass
class Submission:
    """A validated public or staff entry; ``errors`` maps a field to its message (translated where shown)."""

    text: str
    wants_reply: bool
    contact: Contact | None
    errors: dict[str, Message] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.errors


def validate_submission(*, text: str, wants_reply: bool, phone: str, email: str, consent: bool) -> Submission:
    """Contact details are kept only when the citizen asked for a reply AND ticked the consent box."""
    errors: dict[str, Message] = {}
    body = clean_text(text)
    if len(body) < 5:
        errors["text"] = Message(N_("Vui lòng nhập nội dung góp ý, phản ánh (ít nhất 5 ký tự)."))
    elif len(body) > MAX_TEXT:
        errors["text"] = Message(N_("Nội dung quá dài (tối đa {max} ký tự)."), max=MAX_TEXT)
    phone = " ".join((phone or "").split())
    email = (email or "").strip()
    contact: Contact | None = None
    if phone or email:
        if not wants_reply:
            errors["contact"] = Message(N_("Chỉ để lại số điện thoại hoặc email khi Ông/Bà muốn được trả lời trực tiếp."))
        elif not consent:
            errors["consent"] = Message(N_("Vui lòng đánh dấu đồng ý để cơ quan có trách nhiệm liên hệ trả lời."))
        if phone and not _PHONE_OK.match(phone):
            errors["phone"] = Message(N_("Số điện thoại không hợp lệ."))
        if email and (len(email) > 200 or not _EMAIL_OK.match(email)):
            errors["email"] = Message(N_("Địa chỉ email không hợp lệ."))
        contact = Contact(phone or None, email or None)
    return Submission(text=body, wants_reply=wants_reply, contact=contact, errors=errors)


def record_event(session: Session, item: FeedbackItem, *, actor: str, kind: str, from_value: str | None = None,
           to_value: str | None = None, reason: str = "") -> None:
    session.add(FeedbackEvent(item_id=item.id, actor=actor[:80], kind=kind, from_value=from_value,
                              to_value=to_value, reason=reason[:500]))


def create_item(
    session: Session,
    *,
    text: str,
    channel: str,
    sector: str | None,
    commune: Commune | None,
    point: ReceptionPoint | None = None,
    contact: Contact | None = None,
    wants_reply: bool = False,
    actor: User | None = None,
    received_at: dt.datetime | None = None,
    comment_id: int | None = None,
    submission_id: str | None = None,
) -> FeedbackItem:
    """Store one item, suggest its category, route it and set its deadline (N working days from receipt)."""
    if channel not in CHANNELS:
        raise ValueError(f"unknown channel {channel}")
    if submission_id is not None:
        existing = session.scalar(select(FeedbackItem).where(FeedbackItem.submission_id == submission_id))
        if existing is not None:
            return existing
    suggestion = routing.suggest(session, text=text)
    if (sector is None or sector == "other") and suggestion.sector:
        sector = suggestion.sector
    sector = sector if sector in routing.SECTOR_LABELS else "other"
    decision = routing.route(session, sector=sector, commune=commune, point=point)
    now = received_at or utcnow()
    item = FeedbackItem(
        tracking_code=new_tracking_code(), submission_id=submission_id, channel=channel, received_at=now,
        text=text, category=suggestion.category, sector=sector, commune_id=commune.id if commune else None,
        reception_point_id=point.id if point else None, comment_id=comment_id, wants_reply=wants_reply,
        created_by=actor.username if actor else None, status="received",
        deadline=workdays.deadline_for(session, received=now, days=decision.deadline_days),
    )
    if contact is not None and wants_reply:
        item.contact = FeedbackContact(phone=contact.phone, email=contact.email, consent_at=now)
    try:
        with session.begin_nested():
            session.add(item)
            session.flush()
    except IntegrityError:
        if submission_id is not None:  # the same form posted twice at once
            existing = session.scalar(select(FeedbackItem).where(FeedbackItem.submission_id == submission_id))
            if existing is not None:
                return existing
        raise
    who = actor.username if actor else "người dân"
    record_event(session, item, actor=who, kind="created", to_value=channel)
    if decision.agency:
        item.agency, item.status, item.assigned_at = decision.agency, "assigned", now
        record_event(session, item, actor="định tuyến", kind="assigned", to_value=decision.agency,
               reason=f"Theo bảng phân công (quy tắc #{decision.rule_id})")
    session.flush()
    return item


def create_from_response(session: Session, *, response: Response) -> list[FeedbackItem]:
    """The questionnaire's comment item (role ``comment``) becomes a feedback item; idempotent."""
    version = session.get(QuestionnaireVersion, response.questionnaire_version_id)
    honeypot = session.scalar(
        select(ResponseFlag.id).where(ResponseFlag.response_id == response.id, ResponseFlag.reason == "honeypot")
    )
    if version is None or honeypot is not None:  # a bot's text must not reach an agency's inbox
        return []
    item_def = q_service.parsed(version).item_by_role(ItemRole.comment)
    if item_def is None:
        return []
    comments = session.scalars(
        select(Comment).where(Comment.response_id == response.id, Comment.item_id == item_def.id)
    )
    created = []
    for comment in comments:
        if not comment.text.strip():
            continue
        if session.scalar(select(FeedbackItem.id).where(FeedbackItem.comment_id == comment.id)) is not None:
            continue
        created.append(create_item(
            session, text=comment.text, channel="questionnaire_comment", sector=response.sector,
            commune=session.get(Commune, response.commune_id), point=response.reception_point,
            received_at=response.submitted_at, comment_id=comment.id,
        ))
    return created


# --- dates ----------------------------------------------------------------------------------------------

def local_today(now: dt.datetime | None = None) -> dt.date:
    return workdays.local_date(now or utcnow())


def local_time_text(moment: dt.datetime) -> str:
    """Staff pages show Vietnamese local time (dates decide deadlines, so UTC would mislead)."""
    return moment.astimezone(workdays.VIETNAM_TZ).strftime("%d/%m/%Y %H:%M")


def is_overdue(item: FeedbackItem, *, today: dt.date) -> bool:
    return item.status in OPEN_STATUSES and item.deadline is not None and today > item.deadline


def answered_on_time(item: FeedbackItem) -> bool | None:
    if item.answered_at is None or item.deadline is None:
        return None
    return workdays.local_date(item.answered_at) <= item.deadline


# --- the citizen's side ---------------------------------------------------------------------------------

def find_by_code(session: Session, *, code: str) -> FeedbackItem | None:
    normal = normalise_code(code)
    if not normal:
        return None
    return session.scalar(select(FeedbackItem).where(FeedbackItem.tracking_code == normal))


@dataclass(frozen=True)
class PublicStatus:
    """Everything the tracking page may show: no text, no agency notes, no contacts, no category."""

    code: str
    status: str
    status_label: str
    received_on: dt.date
    deadline: dt.date | None
    answered_on: dt.date | None
    closed_on: dt.date | None
    public_answer: str
    can_rate: bool
    rating: str | None


def public_status(item: FeedbackItem) -> PublicStatus:
    answered = item.status in ("answered", "closed") and item.answered_at is not None
    return PublicStatus(
        code=format_code(item.tracking_code), status=item.status, status_label=STATUSES[item.status],
        received_on=workdays.local_date(item.received_at), deadline=item.deadline,
        answered_on=workdays.local_date(item.answered_at) if item.answered_at else None,
        closed_on=workdays.local_date(item.closed_at) if item.closed_at else None,
        public_answer=masking.mask(item.public_answer) if answered else "",
        can_rate=answered and item.rating is None, rating=item.rating,
    )


def rate(session: Session, *, item: FeedbackItem, rating: str, now: dt.datetime | None = None) -> None:
    """The citizen's answer to "Bạn có hài lòng với cách giải quyết?" — once, after the answer."""
    if rating not in RATING_LABELS:
        raise ValidationFailed(N_("Vui lòng chọn một mức độ hài lòng."))
    if item.status not in ("answered", "closed") or item.answered_at is None:
        raise ValidationFailed(N_("Phản ánh chưa được trả lời nên chưa thể đánh giá."))
    if item.rating is not None:
        raise ValidationFailed(N_("Ông/Bà đã đánh giá cách giải quyết phản ánh này. Cảm ơn Ông/Bà!"))
    item.rating, item.rated_at = rating, now or utcnow()
    record_event(session, item, actor="người dân", kind="rated", to_value=rating)
    session.flush()


def purge_contacts(session: Session, *, retention_days: int, now: dt.datetime | None = None) -> int:
    """Empty phone and e-mail left more than ``retention_days`` ago; the row stays to show one existed."""
    now = now or utcnow()
    cutoff = now - dt.timedelta(days=retention_days)
    rows = list(session.scalars(
        select(FeedbackContact).where(FeedbackContact.consent_at < cutoff, FeedbackContact.purged_at.is_(None))
    ))
    for contact in rows:
        contact.phone = contact.email = None
        contact.purged_at = now
    session.flush()
    return len(rows)


def assigned_agencies(session: Session) -> list[str]:
    return sorted(a for a in session.scalars(select(FeedbackItem.agency).distinct()) if a)


def known_agencies(session: Session, *, province_communes: Sequence[Commune]) -> list[str]:
    """Choices for reassignment: provincial departments, agencies in the routing table, commune UBNDs."""
    names = set(routing.PROVINCIAL_AGENCIES)
    names |= {r.agency for r in routing.list_routing_rules(session) if r.agency != routing.COMMUNE_AGENCY}
    return sorted(names) + [routing.commune_agency(c) for c in province_communes]
