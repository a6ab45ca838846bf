"""Admin: staff accounts, roles and scopes."""

from __future__ import annotations

import secrets
from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from ..deps import CurrentUser, LanguageDep, SessionDep, SettingsDep, require_roles
from ..errors import NotFound, ValidationFailed
from ..models import User
from ..questionnaire import SECTOR_LABELS
from ..services import accounts, catalogue, keyset
from . import paging
from .csrf import check_same_origin

router = APIRouter(prefix="/admin/users", tags=["admin"], dependencies=[Depends(require_roles("admin"))])


def _codes(raw: str) -> list[str]:
    return [c for c in raw.replace(";", ",").replace(" ", ",").split(",") if c]


def _page(
    request: Request, session: SessionDep, settings: SettingsDep, lang: str, user: CurrentUser,
    error: str | None = None, created: dict[str, str] | None = None, status: int = 200, role: str = "",
    after: str = "",
) -> Response:
    page = accounts.page_users(session, roles=(role,) if role in accounts.ROLE_LABELS else None,
                               after=keyset.parse_text(after, max_length=80))
    users = page.rows
    codes = {c.id: c.code for c in catalogue.communes_of(session, province_code=settings.province_code)}
    scope_codes = {
        u.id: ",".join(sorted({codes.get(s.commune_id, "") for s in u.scopes if s.commune_id is not None})) for u in users
    }
    context: dict[str, Any] = {
        "lang": lang, "user": user, "users": users, "roles": accounts.ROLE_LABELS, "sectors": SECTOR_LABELS,
        "scope_codes": scope_codes, "error": error, "created": created, "filter_role": role,
        "next_url": paging.next_url(request, "admin.users", page, param="after"),
        "first_url": paging.first_url(request, "admin.users", param="after"),
    }
    templates = request.app.state.templates
    return templates.TemplateResponse(request, "admin/users.html", context, status_code=status)  # type: ignore[no-any-return]


@router.get("", name="admin.users")
def list_users(
    request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    role: str = "", after: str = "",
) -> Response:
    return _page(request, session, settings, lang, user, role=role[:20], after=after)


@router.post("", name="admin.users_create", dependencies=[Depends(check_same_origin)])
def create_user(
    request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    username: str = Form("", max_length=100), display_name: str = Form("", max_length=200),
    role: str = Form("", max_length=20), sectors: list[str] = Form(default_factory=list),
    commune_codes: str = Form("", max_length=2000),
) -> Response:
    password = secrets.token_urlsafe(12)
    try:
        accounts.create_user(
            session, actor=user, username=username, role=role, password=password, display_name=display_name,
            sectors=sectors, commune_codes=_codes(commune_codes), min_length=settings.min_password_length,
        )
    except ValidationFailed as exc:
        session.rollback()
        return _page(request, session, settings, lang, user, error=exc.translated(lang), status=422)
    session.commit()
    # The initial password is shown once, to the admin who hands it over; it must be changed at first login.
    return _page(request, session, settings, lang, user, created={"username": username.strip(), "password": password})


@router.post("/{user_id}", name="admin.users_update", dependencies=[Depends(check_same_origin)])
def update_user(
    request: Request, user_id: int, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    role: str = Form("", max_length=20), sectors: list[str] = Form(default_factory=list),
    commune_codes: str = Form("", max_length=2000), active: str = Form(""),
) -> Response:
    target = session.get(User, user_id)
    if target is None:
        raise NotFound()
    try:
        accounts.update_user(session, actor=user, user=target, role=role, sectors=sectors,
                             commune_codes=_codes(commune_codes), active=active == "1")
    except ValidationFailed as exc:
        session.rollback()
        return _page(request, session, settings, lang, user, error=exc.translated(lang), status=422)
    session.commit()
    return RedirectResponse(str(request.url_for("admin.users")), status_code=303)


@router.post("/{user_id}/reset-password", name="admin.users_reset", dependencies=[Depends(check_same_origin)])
def reset_password(
    request: Request, user_id: int, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser
) -> Response:
    target = session.get(User, user_id)
    if target is None:
        raise NotFound()
    password = secrets.token_urlsafe(12)
    accounts.reset_password(session, actor=user, user=target, new_password=password, min_length=settings.min_password_length)
    session.commit()
    return _page(request, session, settings, lang, user, created={"username": target.username, "password": password})
