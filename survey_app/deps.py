"""Typed dependencies: database session, settings, language, current user and role guards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from .config import Settings
from .errors import Forbidden, NotAuthenticated
from .i18n import pick_language
from .models import User
from .security import SESSION_COOKIE, SESSION_MAX_AGE, Signer


def get_session(request: Request) -> Iterator[Session]:
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        session.close()


def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def get_signer(request: Request) -> Signer:
    signer: Signer = request.app.state.signer
    return signer


def get_language(request: Request) -> str:
    settings: Settings = request.app.state.settings
    requested = request.query_params.get("lang") or request.cookies.get("lang")
    return pick_language(requested, settings.default_language)


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SignerDep = Annotated[Signer, Depends(get_signer)]
LanguageDep = Annotated[str, Depends(get_language)]


def get_optional_user(request: Request, session: SessionDep, signer: SignerDep) -> User | None:
    data = signer.loads("session", request.cookies.get(SESSION_COOKIE), max_age=SESSION_MAX_AGE)
    if not data or not isinstance(data.get("uid"), int):
        return None
    user = session.get(User, data["uid"])
    if user is None or not user.active:
        return None
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


def get_current_user(user: OptionalUser) -> User:
    if user is None:
        raise NotAuthenticated()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: str) -> Callable[[User], User]:
    """A router- or route-level guard: the user must hold one of ``roles``."""

    def guard(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden()
        return user

    guard.__name__ = f"require_roles_{'_'.join(roles)}"
    return guard
