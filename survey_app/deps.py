"""Typed dependencies: database session, settings, language, current user and role guards."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated

from fastapi import Depends, Request
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from .config import Settings
from .errors import Forbidden, NotAuthenticated, PasswordChangeRequired
from .i18n import pick_language
from .models import User
from .security import SESSION_COOKIE, SESSION_MAX_AGE, Signer

# The dependencies below do no I/O when they start, so they are `async`: FastAPI runs a plain `def`
# dependency in the thread pool, a hop that cost more than the work (measured on the citizen form).


async def get_session(request: Request) -> AsyncIterator[Session]:
    session: Session = request.app.state.sessionmaker()
    try:
        yield session
    finally:
        if session.in_transaction():
            await run_in_threadpool(session.close)  # a ROLLBACK over the network: not on the event loop
        else:
            session.close()


async def get_settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def get_signer(request: Request) -> Signer:
    signer: Signer = request.app.state.signer
    return signer


def language_of(request: Request) -> str:
    """The reader's language: ?lang=, then the cookie, then the default."""
    settings: Settings = request.app.state.settings
    requested = request.query_params.get("lang") or request.cookies.get("lang")
    return pick_language(requested, settings.default_language)


async def get_language(request: Request) -> str:
    return language_of(request)


SessionDep = Annotated[Session, Depends(get_session)]
SettingsDep = Annotated[Settings, Depends(get_settings)]
SignerDep = Annotated[Signer, Depends(get_signer)]
LanguageDep = Annotated[str, Depends(get_language)]


def get_optional_user(request: Request, session: SessionDep, signer: SignerDep) -> User | None:
    data = signer.loads("session", request.cookies.get(SESSION_COOKIE), max_age=SESSION_MAX_AGE)
    if not data or not isinstance(data.get("uid"), int):
        return None
    user = session.get(User, data["uid"])
    if user is None or not user.active or data.get("sv") != user.session_version:
        return None  # a password change, reset or disable ends every older session
    return user


OptionalUser = Annotated[User | None, Depends(get_optional_user)]


PASSWORD_ROUTES = ("account.password_form", "account.password")


async def get_current_user(request: Request, user: OptionalUser) -> User:
    if user is None:
        raise NotAuthenticated()
    route = request.scope.get("route")
    if user.must_change_password and getattr(route, "name", None) not in PASSWORD_ROUTES:
        raise PasswordChangeRequired()
    return user


CurrentUser = Annotated[User, Depends(get_current_user)]


def require_roles(*roles: str) -> Callable[[User], Awaitable[User]]:
    """A router- or route-level guard: the user must hold one of ``roles``."""

    async def guard(user: CurrentUser) -> User:
        if user.role not in roles:
            raise Forbidden()
        return user

    guard.__name__ = f"require_roles_{'_'.join(roles)}"
    guard.roles = frozenset(roles)  # type: ignore[attr-defined]  # read by the route-table test
    return guard


async def require_login(user: CurrentUser) -> User:
    """Any signed-in staff member (e.g. their own account page)."""
    return user


require_login.roles = frozenset({"admin", "reviewer", "commune", "enumerator", "viewer"})  # type: ignore[attr-defined]
