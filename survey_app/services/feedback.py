"""Citizen feedback: intake from every channel, workflow, masking-aware views, tracking and rating.

Who sees what: an item belongs to one agency (routing.py). Users of that agency see the full text and the
contact details, and each such view is written to the audit trail; everyone else allowed to see the item
(the admin) sees masked text. The tracking page shows only status, dates and the (masked) public answer.
"""

from __future__ import annotations

import datetime as dt
import heapq
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload

from ..errors import Forbidden, Message, NotFound, ValidationFailed
from ..i18n import N_
from ..models import (
    Comment,
    Commune,
    FeedbackContact,
    FeedbackEvent,
    FeedbackItem,
    FeedbackNote,
    QuestionnaireVersion,
    ReceptionPoint,
    Response,
    ResponseFlag,
    User,
    utcnow,
)
from ..questionnaire import ItemRole
from . import audit, keyset, masking, routing, workdays
from . import questionnaires as q_service
from .accounts import Scope, scope_of

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


def _event(session: Session, item: FeedbackItem, *, actor: str, kind: str, from_value: str | None = None,
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
    _event(session, item, actor=who, kind="created", to_value=channel)
    if decision.agency:
        item.agency, item.status, item.assigned_at = decision.agency, "assigned", now
        _event(session, item, actor="định tuyến", kind="assigned", to_value=decision.agency,
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


# --- access ---------------------------------------------------------------------------------------------

def is_responsible(session: Session, *, user: User, item: FeedbackItem) -> bool:
    """A user of the agency the item is assigned to (the only people who see full text and contacts)."""
    return item.agency is not None and item.agency in routing.agencies_of(session, user)


def can_see(session: Session, *, user: User, item: FeedbackItem) -> bool:
    if user.role == "admin":
        return True
    if user.role not in ("reviewer", "commune") or not is_responsible(session, user=user, item=item):
        return False
    communes = scope_of(user).commune_ids
    return user.role != "reviewer" or communes is None or item.commune_id in communes


def get_visible(session: Session, *, user: User, item_id: int) -> FeedbackItem:
    item = session.get(FeedbackItem, item_id)
    if item is None or not can_see(session, user=user, item=item):
        raise NotFound()  # existence itself is sensitive
    return item


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


@dataclass(frozen=True)
class InboxFilters:
    status: str = "open"  # open, all, or one status
    category: str = ""
    sector: str = ""
    commune_id: int | None = None
    overdue: bool = False
    agency: str = ""  # admin only
    code: str = ""


@dataclass(frozen=True)
class InboxRow:
    item: FeedbackItem
    snippet: str  # always masked: full text only on the (audited) detail page
    overdue: bool


def inbox(
    session: Session, *, user: User, filters: InboxFilters, after: tuple[dt.date | None, int] | None = None,
    limit: int = keyset.PAGE_SIZE,
) -> keyset.Page[InboxRow]:
    """One page, most urgent first: deadline ascending, the oldest item first on the same day, items without a
    deadline last. Keyset by (deadline, id); ``after`` is the last row of the previous page."""
    stmt = select(FeedbackItem).options(joinedload(FeedbackItem.commune), joinedload(FeedbackItem.reception_point))
    if user.role == "admin":
        if filters.agency == "-":
            stmt = stmt.where(FeedbackItem.agency.is_(None))
        elif filters.agency:
            stmt = stmt.where(FeedbackItem.agency == filters.agency)
    else:
        agencies = routing.agencies_of(session, user)
        if not agencies or user.role not in ("reviewer", "commune"):
            return keyset.Page([], None)
        stmt = stmt.where(FeedbackItem.agency.in_(sorted(agencies)))
        communes = scope_of(user).commune_ids
        if user.role == "reviewer" and communes is not None:
            stmt = stmt.where(FeedbackItem.commune_id.in_(sorted(communes)))
    # The statuses asked for; None = every status.
    statuses: set[str] | None = None
    if filters.status == "open":
        statuses = set(OPEN_STATUSES)
    elif filters.status in STATUSES:
        statuses = {filters.status}
    if filters.category in routing.CATEGORY_LABELS:
        stmt = stmt.where(FeedbackItem.category == filters.category)
    if filters.sector in routing.SECTOR_LABELS:
        stmt = stmt.where(FeedbackItem.sector == filters.sector)
    if filters.commune_id is not None:
        stmt = stmt.where(FeedbackItem.commune_id == filters.commune_id)
    today = local_today()
    if filters.overdue:
        statuses = set(OPEN_STATUSES) & (statuses if statuses is not None else set(OPEN_STATUSES))
        stmt = stmt.where(FeedbackItem.deadline < today)
    code = normalise_code(filters.code)
    if filters.code and code:
        stmt = stmt.where(FeedbackItem.tracking_code == code)
    if statuses is None:  # every status: one walk of ix_feedback_item_deadline_id
        items = _by_deadline(session, stmt, after=after, limit=limit)
    else:
        # One ordered range of ix_feedback_item_status_deadline_id per status, merged: with "status IN (...)"
        # the planner walks the deadline index through years of closed items to find the few open ones.
        runs = [_by_deadline(session, stmt.where(FeedbackItem.status == s), after=after, limit=limit)
                for s in sorted(statuses)]
        items = list(heapq.merge(*runs, key=_deadline_key))[: limit + 1]
    rows = [InboxRow(i, _snippet(masking.mask(i.text)), is_overdue(i, today=today)) for i in items]
    return keyset.page_of(rows, limit=limit, key=lambda r: keyset.date_id(r.item.deadline, r.item.id))


def _deadline_key(item: FeedbackItem) -> tuple[bool, dt.date, int]:
    return item.deadline is None, item.deadline or dt.date.min, item.id


def _by_deadline(
    session: Session, stmt: Select[Any], *, after: tuple[dt.date | None, int] | None, limit: int,
) -> list[FeedbackItem]:
    """Up to ``limit + 1`` items after the cursor in (deadline, id) order, items without a deadline last. Two
    ordered range reads instead of one OR: a row-value bound on (deadline, id) is an index range on both
    backends, and the NULL deadlines (none are written today) are read after the dated ones."""
    items: list[FeedbackItem] = []
    if after is None or after[0] is not None:
        dated = stmt.where(FeedbackItem.deadline.is_not(None))
        if after is not None:
            dated = dated.where(tuple_(FeedbackItem.deadline, FeedbackItem.id) > tuple_(after[0], after[1]))
        items = list(session.scalars(dated.order_by(FeedbackItem.deadline, FeedbackItem.id).limit(limit + 1)))
    if len(items) <= limit:
        undated = stmt.where(FeedbackItem.deadline.is_(None))
        if after is not None and after[0] is None:
            undated = undated.where(FeedbackItem.id > after[1])
        items += session.scalars(undated.order_by(FeedbackItem.id).limit(limit + 1 - len(items)))
    return items


def _snippet(text: str, length: int = 140) -> str:
    return text if len(text) <= length else text[: length - 1].rstrip() + "…"


@dataclass(frozen=True)
class ItemView:
    """What one user may see of one item. ``full`` says whether text, notes and contacts are unmasked."""

    item: FeedbackItem
    full: bool
    text: str
    public_answer: str
    notes: list[tuple[FeedbackNote, str]]
    contact_phone: str
    contact_email: str
    has_contact: bool
    events: list[FeedbackEvent]
    overdue: bool
    on_time: bool | None


def view_item(session: Session, *, user: User, item: FeedbackItem) -> ItemView:
    """Render-ready view; an unmasked view (text or contacts) is recorded in the audit trail."""
    full = is_responsible(session, user=user, item=item)
    contact = item.contact
    has_contact = contact is not None and contact.purged_at is None and bool(contact.phone or contact.email)
    show = (lambda s: s or "") if full else masking.mask
    notes = list(session.scalars(select(FeedbackNote).where(FeedbackNote.item_id == item.id).order_by(FeedbackNote.id)))
    events = list(session.scalars(select(FeedbackEvent).where(FeedbackEvent.item_id == item.id).order_by(FeedbackEvent.id)))
    if full:
        audit.record(session, actor=user, action="feedback_viewed", target_type="feedback", target_id=item.id,
                     details={"unmasked": True, "contact": has_contact})
    phone = email = ""
    if has_contact and contact is not None:
        phone = (contact.phone or "") if full else masking.mask_phone(contact.phone)
        email = (contact.email or "") if full else masking.mask_email(contact.email)
    return ItemView(
        item=item, full=full, text=show(item.text), public_answer=show(item.public_answer),
        notes=[(n, show(n.text)) for n in notes], contact_phone=phone, contact_email=email, has_contact=has_contact,
        events=events, overdue=is_overdue(item, today=local_today()), on_time=answered_on_time(item),
    )


# --- workflow -------------------------------------------------------------------------------------------

def _status_label(status: str) -> Message | str:
    return Message(STATUSES[status]) if status in STATUSES else status


def _require_responsible(session: Session, user: User, item: FeedbackItem) -> None:
    if not is_responsible(session, user=user, item=item):
        raise Forbidden(N_("Chỉ cơ quan được giao xử lý mới thực hiện được thao tác này."))


def change_status(session: Session, *, user: User, item: FeedbackItem, status: str, now: dt.datetime | None = None) -> None:
    _require_responsible(session, user, item)
    if status not in TRANSITIONS.get(item.status, ()):
        raise ValidationFailed(N_("Không thể chuyển từ “{current}” sang “{target}”."),
                               current=_status_label(item.status), target=_status_label(status))
    if status == "answered" and not (item.public_answer or "").strip():
        raise ValidationFailed(N_("Vui lòng nhập nội dung trả lời trước khi chuyển sang “Đã trả lời”."))
    now = now or utcnow()
    _event(session, item, actor=user.username, kind="status", from_value=item.status, to_value=status)
    item.status = status
    if status == "answered":
        item.answered_at = now
    elif status == "closed":
        item.closed_at = now
    elif status == "in_progress":
        item.closed_at = None
    session.flush()


def answer(session: Session, *, user: User, item: FeedbackItem, text: str, now: dt.datetime | None = None) -> None:
    """Publish (or correct) the public answer; the first answer moves the item to "answered"."""
    _require_responsible(session, user, item)
    body = clean_text(text, limit=MAX_ANSWER)
    if len(body) < 5:
        raise ValidationFailed(N_("Vui lòng nhập nội dung trả lời (ít nhất 5 ký tự)."))
    if len(body) > MAX_ANSWER:
        raise ValidationFailed(N_("Nội dung trả lời quá dài (tối đa {limit} ký tự)."), limit=MAX_ANSWER)
    if item.status == "closed":
        raise ValidationFailed(N_("Phản ánh đã đóng; mở lại (chuyển sang “Đang xử lý”) trước khi sửa câu trả lời."))
    item.public_answer = body
    if item.status != "answered":
        now = now or utcnow()
        _event(session, item, actor=user.username, kind="status", from_value=item.status, to_value="answered")
        item.status, item.answered_at = "answered", now
    else:
        _event(session, item, actor=user.username, kind="answer_edited")
    session.flush()


def add_note(session: Session, *, user: User, item: FeedbackItem, text: str) -> FeedbackNote:
    _require_responsible(session, user, item)
    body = clean_text(text)
    if not body:
        raise ValidationFailed(N_("Vui lòng nhập nội dung ghi chú."))
    if len(body) > MAX_TEXT:
        raise ValidationFailed(N_("Ghi chú quá dài (tối đa {limit} ký tự)."), limit=MAX_TEXT)
    note = FeedbackNote(item_id=item.id, author=user.username, text=body)
    session.add(note)
    session.flush()
    return note


def reassign(session: Session, *, user: User, item: FeedbackItem, agency: str, reason: str,
             now: dt.datetime | None = None) -> None:
    """Move the item to another agency (the reason is kept in its history and the audit trail)."""
    if user.role != "admin":
        _require_responsible(session, user, item)
    agency = " ".join((agency or "").split())
    reason = clean_text(reason, limit=500)
    if not agency or len(agency) > 200 or agency == routing.COMMUNE_AGENCY:
        raise ValidationFailed(N_("Vui lòng chọn cơ quan nhận (tối đa 200 ký tự)."))
    if agency == item.agency:
        raise ValidationFailed(N_("Phản ánh đã thuộc cơ quan này."))
    if len(reason) < 5:
        raise ValidationFailed(N_("Vui lòng ghi lý do chuyển (ít nhất 5 ký tự)."))
    if len(reason) > 500:
        raise ValidationFailed(N_("Lý do quá dài (tối đa 500 ký tự)."))
    if item.status == "closed":
        raise ValidationFailed(N_("Không thể chuyển phản ánh đã đóng."))
    now = now or utcnow()
    previous = item.agency
    _event(session, item, actor=user.username, kind="reassigned", from_value=previous, to_value=agency, reason=reason)
    audit.record(session, actor=user, action="feedback_reassigned", target_type="feedback", target_id=item.id,
                 details={"from": previous, "to": agency, "reason": reason})
    item.agency, item.assigned_at = agency, now
    if item.status in ("received", "in_progress"):
        item.status = "assigned"
    session.flush()


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
    _event(session, item, actor="người dân", kind="rated", to_value=rating)
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


# --- reporting ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedbackSummaryRow:
    """Counts for one (category, sector, agency, commune) cell; a list of these is a tidy DataFrame."""

    category: str
    sector: str
    agency: str  # "" when not yet assigned
    commune_id: int | None
    commune_name: str
    received: int
    answered: int
    due: int
    answered_on_time: int
    overdue_open: int
    ratings: int
    satisfied: int


@dataclass(frozen=True)
class FeedbackSummary:
    """Feedback received in [start, end] (local dates, inclusive) within a scope.

    ``on_time_share`` = answered_on_time / due, where an item is *due* when it has been answered or its
    deadline passed before ``end`` (so an unanswered overdue item counts against the agency).
    ``satisfaction_share`` = ratings "4" Hài lòng or "5" Rất hài lòng / all ratings of the handling.
    Both are None when their denominator is 0; numerators and denominators are kept to recompute them.
    """

    start: dt.date
    end: dt.date
    total: int
    by_category: dict[str, int]
    by_agency: dict[str, int]
    by_commune: dict[str, int]
    due: int
    answered: int
    answered_on_time: int
    ratings: int
    satisfied: int
    rows: tuple[FeedbackSummaryRow, ...]

    @property
    def on_time_share(self) -> float | None:
        return self.answered_on_time / self.due if self.due else None

    @property
    def satisfaction_share(self) -> float | None:
        return self.satisfied / self.ratings if self.ratings else None

    def records(self) -> list[dict[str, object]]:
        """``pandas.DataFrame(summary.records())`` gives one row per cell."""
        return [dict(row.__dict__) for row in self.rows]


def _local_midnight_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=workdays.VIETNAM_TZ).astimezone(dt.UTC)


def feedback_summary(session: Session, *, start: dt.date, end: dt.date, scope: Scope | None = None) -> FeedbackSummary:
    """Counts by category, agency and commune, share answered on time and satisfaction with the handling.

    ``scope`` is an :class:`~survey_app.services.accounts.Scope` (``sectors``/``commune_ids``, None = all);
    None means the whole province.
    """
    if end < start:
        raise ValidationFailed(N_("Ngày kết thúc phải sau ngày bắt đầu."))
    stmt = select(FeedbackItem, Commune.name).outerjoin(Commune, Commune.id == FeedbackItem.commune_id).where(
        FeedbackItem.received_at >= _local_midnight_utc(start),
        FeedbackItem.received_at < _local_midnight_utc(end + dt.timedelta(days=1)),
    )
    sectors = scope.sectors if scope is not None else None
    communes = scope.commune_ids if scope is not None else None
    if sectors is not None:
        stmt = stmt.where(FeedbackItem.sector.in_(sorted(sectors)))
    if communes is not None:
        stmt = stmt.where(FeedbackItem.commune_id.in_(sorted(communes)))
    cells: dict[tuple[str, str, str, int | None, str], list[int]] = {}
    for item, commune_name in session.execute(stmt):
        key = (item.category, item.sector, item.agency or "", item.commune_id, commune_name or "")
        counts = cells.setdefault(key, [0] * 7)
        on_time = answered_on_time(item)
        is_due = item.answered_at is not None or (item.deadline is not None and item.deadline < end)
        counts[0] += 1
        counts[1] += item.answered_at is not None
        counts[2] += is_due
        counts[3] += bool(on_time)
        counts[4] += item.status in OPEN_STATUSES and item.deadline is not None and item.deadline < end
        counts[5] += item.rating is not None
        counts[6] += item.rating in SATISFIED
    rows = tuple(FeedbackSummaryRow(*key, *counts) for key, counts in sorted(cells.items(), key=lambda kv: str(kv[0])))
    by_category: dict[str, int] = {}
    by_agency: dict[str, int] = {}
    by_commune: dict[str, int] = {}
    for row in rows:
        by_category[row.category] = by_category.get(row.category, 0) + row.received
        by_agency[row.agency] = by_agency.get(row.agency, 0) + row.received
        by_commune[row.commune_name] = by_commune.get(row.commune_name, 0) + row.received
    return FeedbackSummary(
        start=start, end=end, total=sum(r.received for r in rows), by_category=by_category, by_agency=by_agency,
        by_commune=by_commune, due=sum(r.due for r in rows), answered=sum(r.answered for r in rows),
        answered_on_time=sum(r.answered_on_time for r in rows), ratings=sum(r.ratings for r in rows),
        satisfied=sum(r.satisfied for r in rows), rows=rows,
    )
