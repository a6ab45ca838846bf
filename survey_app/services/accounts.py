"""Staff accounts: authentication with throttling, passwords, roles and scopes."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ValidationFailed
from ..i18n import N_
from ..models import Commune, User, UserScope
from ..questionnaire import Sector
from ..security import hash_password, verify_password
from . import audit, keyset, ratelimit

ROLES = ("admin", "reviewer", "commune", "enumerator", "viewer")
ROLE_LABELS = {
    "admin": N_("Quản trị (Sở Nội vụ)"),
    "reviewer": N_("Cán bộ sở, ngành"),
    "commune": N_("Cán bộ UBND xã/phường"),
    "enumerator": N_("Điều tra viên"),
    "viewer": N_("Chỉ xem báo cáo"),
}
# A sector reviewer for each department (the default routing of the province).
DEPARTMENT_SECTORS = {
    "Sở Y tế": "health",
    "Sở Giáo dục và Đào tạo": "primary_education",
    "Sở Nông nghiệp và Môi trường": "land_certificate",
    "Văn phòng UBND tỉnh": "one_stop",
}


@dataclass(frozen=True)
class Scope:
    """What a user may see: None means every sector (or every commune) of the province."""

    sectors: frozenset[str] | None
    commune_ids: frozenset[int] | None
    free_text: bool

    def allows(self, *, sector: str | None = None, commune_id: int | None = None) -> bool:
        if sector is not None and self.sectors is not None and sector not in self.sectors:
            return False
        return not (commune_id is not None and self.commune_ids is not None and commune_id not in self.commune_ids)


def scope_of(user: User) -> Scope:
    sectors = frozenset(s.sector for s in user.scopes if s.sector)
    communes = frozenset(s.commune_id for s in user.scopes if s.commune_id is not None)
    if user.role == "admin":
        return Scope(None, None, True)
    if user.role == "reviewer":
        return Scope(sectors or frozenset(), communes or None, True)
    if user.role == "commune":
        return Scope(None, communes or frozenset(), True)
    if user.role == "viewer":
        return Scope(sectors or None, communes or None, False)
    return Scope(frozenset(), frozenset(), False)  # enumerator: no reports


class LoginThrottled(Exception):
    def __init__(self, minutes: int) -> None:
        super().__init__(minutes)
        self.minutes = minutes


@dataclass(frozen=True)
class ThrottleRules:
    max_failures_account: int
    max_failures_client: int
    lock: dt.timedelta


def authenticate(
    session: Session, *, username: str, password: str, client_key: str, account_key: str, rules: ThrottleRules,
    now: dt.datetime,
) -> User | None:
    """Check a password unless the account or the client is throttled (LoginThrottled).

    Failures are counted per account and per client (keyed hashes), in the database so all workers agree.
    """
    for kind, key, limit in (
        ("login_account", account_key, rules.max_failures_account),
        ("login_client", client_key, rules.max_failures_client),
    ):
        if ratelimit.count(session, kind=kind, key=key, window=rules.lock, now=now) >= limit:
            first = ratelimit.oldest_in_window(session, kind=kind, key=key, window=rules.lock, now=now)
            remaining = rules.lock - (now - first) if first else rules.lock
            raise LoginThrottled(max(1, int(remaining.total_seconds() // 60) + 1))
    user = session.scalar(select(User).where(User.username == username))
    if user is None or not user.active or not verify_password(password, user.password_hash):
        ratelimit.hit(session, kind="login_account", key=account_key, now=now)
        ratelimit.hit(session, kind="login_client", key=client_key, now=now)
        audit.record(session, actor=None, actor_name=username[:80] or "?", action="login_failed")
        return None
    ratelimit.clear(session, kind="login_account", key=account_key)
    audit.record(session, actor=user, action="login")
    return user


def check_password_strength(password: str, *, min_length: int, username: str) -> None:
    if len(password) < min_length:
        raise ValidationFailed(N_("Mật khẩu phải có ít nhất {min_length} ký tự."), min_length=min_length)
    if password.lower() == username.lower() or password.lower() in {"1234567890", "matkhau123", "password123"}:
        raise ValidationFailed(N_("Mật khẩu quá dễ đoán."))


def change_password(session: Session, *, user: User, current: str, new: str, min_length: int) -> None:
    if not verify_password(current, user.password_hash):
        raise ValidationFailed(N_("Mật khẩu hiện tại không đúng."))
    if current == new:
        raise ValidationFailed(N_("Mật khẩu mới phải khác mật khẩu hiện tại."))
    check_password_strength(new, min_length=min_length, username=user.username)
    user.password_hash = hash_password(new)
    user.must_change_password = False
    user.session_version += 1
    audit.record(session, actor=user, action="password_changed", target_type="user", target_id=user.id)
    session.flush()


def create_user(
    session: Session, *, actor: User | None, username: str, role: str, password: str, display_name: str = "",
    sectors: list[str] | None = None, commune_codes: list[str] | None = None, min_length: int = 10,
) -> User:
    username = username.strip()
    if not username or len(username) > 80 or not username.replace(".", "").replace("_", "").replace("-", "").isalnum():
        raise ValidationFailed(N_("Tên đăng nhập chỉ gồm chữ, số, '.', '_' và '-' (tối đa 80 ký tự)."))
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise ValidationFailed(N_("Tài khoản {username} đã tồn tại."), username=username)
    check_password_strength(password, min_length=min_length, username=username)
    user = User(username=username, display_name=display_name.strip()[:200], password_hash=hash_password(password),
                role=_check_role(role), must_change_password=True)
    session.add(user)
    session.flush()
    set_scopes(session, user=user, sectors=sectors or [], commune_codes=commune_codes or [])
    audit.record(session, actor=actor, action="user_created", target_type="user", target_id=user.id,
                 details={"username": username, "role": role, "sectors": sectors or [], "communes": commune_codes or []})
    return user


def _check_role(role: str) -> str:
    if role not in ROLES:
        raise ValidationFailed(N_("Vai trò không hợp lệ: {role}"), role=role)
    return role


def set_scopes(session: Session, *, user: User, sectors: list[str], commune_codes: list[str]) -> None:
    valid = {s.value for s in Sector}
    bad = [s for s in sectors if s not in valid]
    if bad:
        raise ValidationFailed(N_("Lĩnh vực không hợp lệ: {sectors}"), sectors=", ".join(bad))
    communes = []
    for code in commune_codes:
        commune = session.scalar(select(Commune).where(Commune.code == code))
        if commune is None:
            raise ValidationFailed(N_("Không tìm thấy xã/phường có mã {code}."), code=code)
        communes.append(commune)
    if user.role == "reviewer" and not sectors:
        raise ValidationFailed(N_("Cán bộ sở, ngành phải được giao ít nhất một lĩnh vực."))
    if user.role == "commune" and not communes:
        raise ValidationFailed(N_("Cán bộ xã/phường phải được giao ít nhất một xã/phường."))
    user.scopes.clear()
    session.flush()
    sector_lines: list[str | None] = list(sorted(set(sectors))) or [None]
    commune_lines: list[int | None] = [c.id for c in communes] or [None]
    for sector in sector_lines:
        for commune_id in commune_lines:
            if sector is not None or commune_id is not None:
                user.scopes.append(UserScope(sector=sector, commune_id=commune_id))
    session.flush()


def update_user(
    session: Session, *, actor: User, user: User, role: str, sectors: list[str], commune_codes: list[str], active: bool
) -> None:
    if user.id == actor.id and (role != "admin" or not active):
        raise ValidationFailed(N_("Không thể tự hạ quyền hoặc khoá tài khoản của chính mình."))
    user.role = _check_role(role)
    set_scopes(session, user=user, sectors=sectors, commune_codes=commune_codes)
    if user.active and not active:
        user.session_version += 1
    user.active = active
    audit.record(session, actor=actor, action="user_updated" if active else "user_disabled", target_type="user",
                 target_id=user.id, details={"role": role, "sectors": sectors, "communes": commune_codes, "active": active})
    session.flush()


def reset_password(session: Session, *, actor: User, user: User, new_password: str, min_length: int) -> None:
    check_password_strength(new_password, min_length=min_length, username=user.username)
    user.password_hash = hash_password(new_password)
    user.must_change_password = True
    user.session_version += 1
    audit.record(session, actor=actor, action="user_updated", target_type="user", target_id=user.id,
                 details={"password_reset": True})
    session.flush()


def page_users(
    session: Session, *, roles: Collection[str] | None = None, after: str | None = None, limit: int = keyset.PAGE_SIZE
) -> keyset.Page[User]:
    """One page in user-name order, keyset by the unique name; ix_app_user_role_username serves a role filter."""
    stmt = select(User).order_by(User.username).limit(limit + 1)  # scopes load in one selectin query
    if roles is not None:
        stmt = stmt.where(User.role.in_(roles))
    if after is not None:
        stmt = stmt.where(User.username > after)
    return keyset.page_of(list(session.scalars(stmt)), limit=limit, key=lambda u: u.username)
