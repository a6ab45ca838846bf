"""The agency's side of citizen feedback: who may see an item, the inbox (most urgent first, keyset pages),
the item view (full text and contacts only for the responsible agency, each view audited; masked for the
others) and the workflow (status, answer, notes, reassignment)."""

from __future__ import annotations

import datetime as dt
import heapq
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, select, tuple_
from sqlalchemy.orm import Session, joinedload

from ..errors import Forbidden, Message, NotFound, ValidationFailed
from ..i18n import N_
from ..models import (
    FeedbackEvent,
    FeedbackItem,
    FeedbackNote,
    User,
    utcnow,
)
from . import audit, keyset, masking, routing
from .accounts import scope_of
from .feedback import (
    MAX_ANSWER,
    MAX_TEXT,
    OPEN_STATUSES,
    STATUSES,
    TRANSITIONS,
    answered_on_time,
    clean_text,
    is_overdue,
    local_today,
    normalise_code,
    record_event,
)

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
    record_event(session, item, actor=user.username, kind="status", from_value=item.status, to_value=status)
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
        record_event(session, item, actor=user.username, kind="status", from_value=item.status, to_value="answered")
        item.status, item.answered_at = "answered", now
    else:
        record_event(session, item, actor=user.username, kind="answer_edited")
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
    record_event(session, item, actor=user.username, kind="reassigned", from_value=previous, to_value=agency, reason=reason)
    audit.record(session, actor=user, action="feedback_reassigned", target_type="feedback", target_id=item.id,
                 details={"from": previous, "to": agency, "reason": reason})
    item.agency, item.assigned_at = agency, now
    if item.status in ("received", "in_progress"):
        item.status = "assigned"
    session.flush()
