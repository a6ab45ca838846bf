"""Staff login and logout: signed HttpOnly session cookie, throttled failures (per account and per client)."""

from __future__ import annotations

import datetime as dt

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from ..deps import LanguageDep, OptionalUser, SessionDep, SettingsDep, SignerDep
from ..i18n import N_
from ..models import User, utcnow
from ..security import SESSION_COOKIE, SESSION_MAX_AGE, Signer
from ..services import abuse, accounts, audit
from .csrf import check_same_origin

router = APIRouter(tags=["auth"])


def safe_next(target: str | None) -> str:
    # Only local paths: an open redirect would let a phishing link borrow our domain.
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return "/admin"


def start_session(response: Response, *, signer: Signer, user: User, secure: bool) -> None:
    response.set_cookie(
        SESSION_COOKIE,
        signer.dumps("session", {"uid": user.id, "sv": user.session_version}),
        max_age=SESSION_MAX_AGE,
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def _login_page(request: Request, lang: str, next_: str, error: str | None, status: int = 200, **params: int) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "auth/login.html", {"lang": lang, "next": safe_next(next_), "error": error, "params": params},
        status_code=status,
    )


@router.get("/login", name="auth.login_form")
def login_form(request: Request, lang: LanguageDep, next: str | None = None) -> Response:
    return _login_page(request, lang, next or "/admin", None)


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
    now = utcnow()
    host = request.client.host if request.client else "unknown"
    rules = accounts.ThrottleRules(
        settings.login_max_failures_account, settings.login_max_failures_client,
        dt.timedelta(minutes=settings.login_lock_minutes),
    )
    try:
        user = accounts.authenticate(
            session, username=username.strip(), password=password, now=now, rules=rules,
            account_key=abuse.keyed_hash(settings.secret_key, "login-account", username.strip().lower()),
            client_key=abuse.keyed_hash(settings.secret_key, "network", host, day=now.date()),
        )
    except accounts.LoginThrottled as exc:
        session.commit()
        return _login_page(request, lang, next, N_("Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau {minutes} phút."),
                           429, minutes=exc.minutes)
    session.commit()
    if user is None:
        return _login_page(request, lang, next, N_("Tên đăng nhập hoặc mật khẩu không đúng."), 422)
    target = str(request.url_for("account.password_form")) if user.must_change_password else safe_next(next)
    response = RedirectResponse(target, status_code=303)
    start_session(response, signer=signer, user=user, secure=settings.environment == "production")
    return response


@router.post("/logout", name="auth.logout", dependencies=[Depends(check_same_origin)])
def logout(request: Request, session: SessionDep, user: OptionalUser) -> Response:
    if user is not None:
        audit.record(session, actor=user, action="logout")
        session.commit()
    response = RedirectResponse(str(request.url_for("auth.login_form")), status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response
