"""The append-only audit trail: who did what, when. Never store answers, comments or contact details here."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..models import AuditEvent, User
from .keyset import PAGE_SIZE, Page, page_of

ACTIONS = (
    "login", "login_failed", "logout", "password_changed",
    "user_created", "user_updated", "user_disabled",
    "point_created", "point_rotated", "point_revoked",
    "flag_reviewed", "export", "comments_viewed", "report_published", "retention_applied", "audio_uploaded",
    "feedback_viewed", "feedback_reassigned", "feedback_settings_changed",
    "villages_imported", "sample_drawn", "village_replaced", "assignment_changed", "api_token_issued",
    "api_token_revoked", "paper_entered", "paper_resolved", "backcheck_drawn", "backcheck_recorded",
    "kiosk_created", "kiosk_paired", "kiosk_repaired", "kiosk_revoked",
)


def record(
    session: Session,
    *,
    actor: User | None,
    action: str,
    target_type: str | None = None,
    target_id: str | int | None = None,
    details: dict[str, Any] | None = None,
    actor_name: str | None = None,
) -> AuditEvent:
    if action not in ACTIONS:
        raise ValueError(f"unknown audit action {action}")
    event = AuditEvent(
        actor_id=actor.id if actor else None,
        actor=actor.username if actor else (actor_name or "system"),
        action=action,
        target_type=target_type,
        target_id=str(target_id) if target_id is not None else None,
        details=details or {},
    )
    session.add(event)
    session.flush()
    return event


def list_events(
    session: Session, *, action: str | None = None, actor: str | None = None, before_id: int | None = None,
    limit: int = PAGE_SIZE,
) -> Page[AuditEvent]:
    """Newest first, keyset-paginated by id (``before_id`` is the last id of the previous page); the indexes
    ``(action, id)`` and ``(actor, id)`` serve the filters."""
    stmt = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit + 1)
    if action:
        stmt = stmt.where(AuditEvent.action == action)
    if actor:
        stmt = stmt.where(AuditEvent.actor == actor)
    if before_id is not None:
        stmt = stmt.where(AuditEvent.id < before_id)
    return page_of(list(session.scalars(stmt)), limit=limit, key=lambda event: str(event.id))
