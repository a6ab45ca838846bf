"""A signed-in user's own account: change password (forced after an initial or reset password)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from ..deps import CurrentUser, LanguageDep, SessionDep, SettingsDep, SignerDep, require_login
from ..errors import ValidationFailed
from ..i18n import N_
from ..services import accounts
from .auth import start_session
from .csrf import check_same_origin

router = APIRouter(prefix="/account", tags=["account"], dependencies=[Depends(require_login)])


def _page(request: Request, lang: str, user: CurrentUser, error: str | None = None, status: int = 200) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "auth/password.html", {"lang": lang, "user": user, "error": error}, status_code=status
    )


@router.get("/password", name="account.password_form")
def password_form(request: Request, lang: LanguageDep, user: CurrentUser) -> Response:
    return _page(request, lang, user)


@router.post("/password", name="account.password", dependencies=[Depends(check_same_origin)])
def change_password(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    signer: SignerDep,
    lang: LanguageDep,
    user: CurrentUser,
    current: str = Form("", max_length=500),
    new: str = Form("", max_length=500),
    repeat: str = Form("", max_length=500),
) -> Response:
    try:
        if new != repeat:
            raise ValidationFailed(N_("Hai mật khẩu mới không khớp."))
        accounts.change_password(session, user=user, current=current, new=new, min_length=settings.min_password_length)
    except ValidationFailed as exc:
        session.rollback()
        return _page(request, lang, user, exc.translated(lang), 422)
    session.commit()
    response = RedirectResponse("/admin" if user.role == "admin" else "/", status_code=303)
    start_session(response, signer=signer, user=user, secure=settings.environment == "production")
    return response
