"""Staff login and logout (signed, HttpOnly session cookie)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ..deps import LanguageDep, SessionDep, SettingsDep, SignerDep
from ..models import User
from ..security import SESSION_COOKIE, SESSION_MAX_AGE, verify_password
from .csrf import check_same_origin

router = APIRouter(tags=["auth"])
ACCESS_RULE = "public"


def _safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link borrow our domain.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin"


@router.get("/login", name="auth.login_form")
def login_form(request: Request, lang: LanguageDep, next: str | None = None) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "auth/login.html", {"lang": lang, "next": _safe_next(next), "error": None}
    )


@router.post("/login", name="auth.login", dependencies=[Depends(check_same_origin)])
def login(
    request: Request,
    session: SessionDep,
    signer: SignerDep,
    settings: SettingsDep,
    lang: LanguageDep,
    username: str = Form("", max_length=200),
    password: str = Form("", max_length=500),
    next: str = Form("/admin", max_length=500),
) -> Response:
    user = session.scalar(select(User).where(User.username == username.strip()))
    if user is None or not user.active or not verify_password(password, user.password_hash):
        templates = request.app.state.templates
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request,
            "auth/login.html",
            {"lang": lang, "next": _safe_next(next), "error": "Tên đăng nhập hoặc mật khẩu không đúng."},
            status_code=422,
        )
    response = RedirectResponse(_safe_next(next), status_code=303)
    response.set_cookie(
        SESSION_COOKIE,
        signer.dumps("session", {"uid": user.id}),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=settings.environment == "production",
    )
    return response


@router.post("/logout", name="auth.logout", dependencies=[Depends(check_same_origin)])
def logout(request: Request) -> Response:
    response = RedirectResponse(str(request.url_for("auth.login_form")), status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
