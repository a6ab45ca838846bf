"""Abuse resistance for public forms: layered, server-side, thresholds from Settings.

Nothing here stores a raw IP address: networks are keyed hashes (HMAC with the secret and a salt that
changes every day, so two days cannot be linked); devices are random first-party cookies, also hashed.
Suspicious responses are kept and flagged; indices exclude open and confirmed flags by default.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, bindparam, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session
from sqlalchemy.sql.selectable import ScalarSelect

from ..i18n import N_
from ..models import Response, ResponseFlag, User, utcnow
from . import audit
from .keyset import PAGE_SIZE, Page, page_of
from .submissions import StoredRow, StoreResult

FLAG_REASONS = {
    "honeypot": N_("Trường ẩn bị điền (khả năng là máy tự động)"),
    "too_fast": N_("Hoàn thành quá nhanh"),
    "staff_burst": N_("Nhiều phiếu từ cùng một mạng tại cùng một điểm trong vài phút (nghi tự đánh giá)"),
    "device_burst": N_("Nhiều phiếu từ cùng một thiết bị"),
    "duplicate_answers": N_("Nhiều phiếu có câu trả lời giống hệt nhau trong thời gian ngắn"),
    "straight_lining": N_("Chọn cùng một mức cho mọi câu"),
}
FLAG_STATUSES = ("open", "confirmed", "cleared")


@dataclass(frozen=True)
class Thresholds:
    device_window: dt.timedelta
    submit_burst_limit: int
    submit_burst_window: dt.timedelta
    min_completion: dt.timedelta
    staff_burst_count: int
    staff_burst_window: dt.timedelta
    duplicate_burst_count: int
    duplicate_burst_window: dt.timedelta
    straight_line_min_items: int


def keyed_hash(secret: str, purpose: str, value: str, *, day: dt.date | None = None) -> str:
    """HMAC-SHA256 of ``value``; with ``day`` the salt rotates daily (unlinkable across days)."""
    salt = f"{purpose}|{day.isoformat()}" if day else purpose
    key = hashlib.sha256(f"{secret}|{salt}".encode()).digest()
    return hmac.new(key, value.encode(), hashlib.sha256).hexdigest()[:40]


def _add_flag(session: Session, response: Response, reason: str, detail: str = "") -> None:
    exists = session.scalar(
        select(ResponseFlag.id).where(ResponseFlag.response_id == response.id, ResponseFlag.reason == reason)
    )
    if exists is None:
        session.add(ResponseFlag(response_id=response.id, reason=reason, detail=detail[:300]))
    response.flagged = True


def straight_lined(answers: dict[str, Any], scale_items: list[str], min_items: int) -> bool:
    values = [answers[i] for i in scale_items if i in answers and answers[i] != "na"]
    return len(values) >= min_items and len(set(values)) == 1


def flag_response(
    session: Session, *, stored: StoreResult, scale_items: list[str], rules: Thresholds, honeypot: bool,
    started_at: dt.datetime | None, now: dt.datetime, counted_before: tuple[int, int, int] | None = None,
) -> list[str]:
    """Run every detector on a freshly stored response; returns the reasons flagged.

    ``counted_before``: the staff, device and duplicate group sizes read just before this response was
    stored in the same transaction (services/intake.py); saves counting again."""
    reasons: list[str] = []
    if honeypot:
        reasons.append("honeypot")
    if started_at is not None and now - started_at < rules.min_completion:
        reasons.append("too_fast")
    if straight_lined(stored.row.answers, scale_items, rules.straight_line_min_items):
        reasons.append("straight_lining")
    for reason in reasons:
        _add_flag(session, stored.response, reason)
    reasons += _flag_bursts(session, response=stored.row, rules=rules, now=now, counted_before=counted_before)
    session.flush()
    return reasons


def group_counts(
    point_id: ColumnElement[int] | InstrumentedAttribute[int],
) -> tuple[ScalarSelect[int], ScalarSelect[int], ScalarSelect[int]]:
    """The staff_burst, device_burst and duplicate_answers group sizes (the order of `checks` in _flag_bursts) as
    scalar subqueries with bind parameters network_hash, device_hash, answers_hash, staff_since and
    duplicate_since; ``point_id`` is a bind parameter here, the point's column in services/intake.py."""
    def count(*conditions: ColumnElement[bool]) -> ScalarSelect[int]:
        return select(func.count()).select_from(Response).where(*conditions).scalar_subquery()

    since = Response.submitted_at
    return (
        count(Response.network_hash == bindparam("network_hash"), Response.reception_point_id == point_id,
              since >= bindparam("staff_since")),
        count(Response.device_hash == bindparam("device_hash"), since >= bindparam("staff_since")),
        count(Response.answers_hash == bindparam("answers_hash"), Response.reception_point_id == point_id,
              since >= bindparam("duplicate_since")),
    )


_BURSTS = select(*group_counts(bindparam("point_id")))


def _flag_bursts(
    session: Session, *, response: StoredRow | Response, rules: Thresholds, now: dt.datetime,
    counted_before: tuple[int, int, int] | None = None,
) -> list[str]:
    """Group detectors: when a burst crosses its threshold, every response in it is flagged.

    Counting comes first (an indexed COUNT); rows are loaded only for a burst over its threshold, and
    only those not flagged for that reason yet, so a long burst does not get slower with every response.
    """
    found: list[str] = []
    checks = [
        ("staff_burst", Response.network_hash, response.network_hash, rules.staff_burst_count, rules.staff_burst_window,
         True),
        ("device_burst", Response.device_hash, response.device_hash, rules.staff_burst_count, rules.staff_burst_window,
         False),
        ("duplicate_answers", Response.answers_hash, response.answers_hash, rules.duplicate_burst_count,
         rules.duplicate_burst_window, True),
    ]
    complete = response.reception_point_id is not None and all(value is not None for _, _, value, *_ in checks)
    active = [check for check in checks if check[2] is not None]
    if not active:
        return found

    def conditions(column: InstrumentedAttribute[str | None], value: str | None, window: dt.timedelta,
                   same_point: bool) -> list[Any]:
        where = [column == value, Response.submitted_at >= now - window]
        if same_point:
            where.append(Response.reception_point_id == response.reception_point_id)
        return where

    # One round trip for the three counts (each an indexed COUNT), or none when the caller counted them.
    if complete and counted_before is not None:
        sizes: Sequence[int | None] = [n + 1 for n in counted_before]  # + this response, a member of each group
    elif complete:
        sizes = session.execute(_BURSTS, {
            "network_hash": response.network_hash, "device_hash": response.device_hash,
            "answers_hash": response.answers_hash, "point_id": response.reception_point_id,
            "staff_since": now - rules.staff_burst_window, "duplicate_since": now - rules.duplicate_burst_window,
        }).one()
    else:
        sizes = session.execute(select(*(
            select(func.count()).select_from(Response).where(*conditions(c, v, w, p)).scalar_subquery()
            for _, c, v, _, w, p in active
        ))).one()
    for (reason, column, value, threshold, window, same_point), size in zip(active, sizes, strict=True):
        if (size or 0) < threshold:
            continue
        already = select(ResponseFlag.response_id).where(ResponseFlag.reason == reason)
        members = select(Response).where(*conditions(column, value, window, same_point), Response.id.not_in(already))
        for member in session.scalars(members):
            _add_flag(session, member, reason, f"{size} phiếu trong {int(window.total_seconds() // 60)} phút")
        found.append(reason)
    return found


def review_flag(session: Session, *, actor: User, flag: ResponseFlag, status: str) -> None:
    if status not in ("confirmed", "cleared"):
        raise ValueError(status)
    flag.status = status
    flag.reviewed_by = actor.username
    flag.reviewed_at = utcnow()
    session.flush()
    still = session.scalar(
        select(func.count()).where(ResponseFlag.response_id == flag.response_id, ResponseFlag.status != "cleared")
    )
    response = session.get(Response, flag.response_id)
    if response is not None:  # an ORM change, so the report stats retract the response (report_stats)
        response.flagged = bool(still)
    audit.record(session, actor=actor, action="flag_reviewed", target_type="response", target_id=flag.response_id,
                 details={"reason": flag.reason, "status": status})


def list_flags(
    session: Session, *, status: str = "open", before_id: int | None = None, limit: int = PAGE_SIZE
) -> Page[ResponseFlag]:
    """Newest first, keyset-paginated by id (index ``(status, id)``)."""
    stmt = select(ResponseFlag).where(ResponseFlag.status == status).order_by(ResponseFlag.id.desc()).limit(limit + 1)
    if before_id is not None:
        stmt = stmt.where(ResponseFlag.id < before_id)
    return page_of(list(session.scalars(stmt)), limit=limit, key=lambda flag: str(flag.id))


def thresholds_from(settings: Any) -> Thresholds:
    return Thresholds(
        device_window=dt.timedelta(hours=settings.device_window_hours),
        submit_burst_limit=settings.submit_burst_limit,
        submit_burst_window=dt.timedelta(minutes=settings.submit_burst_minutes),
        min_completion=dt.timedelta(seconds=settings.min_completion_seconds),
        staff_burst_count=settings.staff_burst_count,
        staff_burst_window=dt.timedelta(minutes=settings.staff_burst_minutes),
        duplicate_burst_count=settings.duplicate_burst_count,
        duplicate_burst_window=dt.timedelta(minutes=settings.duplicate_burst_minutes),
        straight_line_min_items=settings.straight_line_min_items,
    )
