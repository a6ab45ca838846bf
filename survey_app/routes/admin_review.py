"""Admin: flagged responses (review, confirm or clear) and the audit trail (read-only)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from ..deps import CurrentUser, LanguageDep, SessionDep, require_roles
from ..errors import NotFound, ValidationFailed
from ..i18n import N_
from ..models import ResponseFlag
from ..services import abuse, audit
from ..services.keyset import parse_int
from . import paging
from .csrf import check_same_origin

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_roles("admin"))])


@router.get("/flags", name="admin.flags")
def flags(
    request: Request, session: SessionDep, lang: LanguageDep, user: CurrentUser, status: str = "open",
    before: str | None = None,
) -> Response:
    if status not in abuse.FLAG_STATUSES:
        status = "open"
    rows = abuse.list_flags(session, status=status, before_id=parse_int(before))
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "admin/flags.html",
        {"lang": lang, "user": user, "flags": rows, "status": status, "reasons": abuse.FLAG_REASONS,
         "next_url": paging.next_url(request, "admin.flags", rows, param="before"),
         "first_url": paging.first_url(request, "admin.flags", param="before")},
    )


@router.post("/flags/{flag_id}", name="admin.flags_review", dependencies=[Depends(check_same_origin)])
def review(
    request: Request, flag_id: int, session: SessionDep, user: CurrentUser, decision: str = Form("", max_length=20)
) -> Response:
    flag = session.get(ResponseFlag, flag_id)
    if flag is None:
        raise NotFound()
    if decision not in ("confirmed", "cleared"):
        raise ValidationFailed(N_("Quyết định không hợp lệ."))
    abuse.review_flag(session, actor=user, flag=flag, status=decision)
    session.commit()
    return RedirectResponse(str(request.url_for("admin.flags")), status_code=303)


@router.get("/audit", name="admin.audit")
def audit_trail(
    request: Request, session: SessionDep, lang: LanguageDep, user: CurrentUser, action: str = "", actor: str = "",
    before: str | None = None,
) -> Response:
    events = audit.list_events(session, action=action or None, actor=actor or None, before_id=parse_int(before))
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "admin/audit.html",
        {"lang": lang, "user": user, "events": events, "actions": audit.ACTIONS, "action": action, "actor": actor,
         "next_url": paging.next_url(request, "admin.audit", events, param="before"),
         "first_url": paging.first_url(request, "admin.audit", param="before")},
    )
