"""Small factories for test data."""

from __future__ import annotations

from sqlalchemy.orm import Session

from survey_app.models import ReceptionPoint, User
from survey_app.security import hash_password
from survey_app.services import catalogue
from survey_app.services import points as points_service

CHIENG_AN = "03667"  # Phường Chiềng An, Sơn La


def make_point(
    session: Session, *, sector: str = "health", commune_code: str = CHIENG_AN, name: str | None = None
) -> ReceptionPoint:
    commune = catalogue.get_commune(session, commune_code)
    assert commune is not None
    point = points_service.create_point(
        session, commune=commune, sector=sector, name=name or f"Điểm thử {sector} {commune.name}"
    )
    session.commit()
    return point


def make_user(session: Session, *, username: str = "admin1", role: str = "admin", password: str = "mat-khau-dai-123") -> User:
    user = User(username=username, password_hash=hash_password(password), role=role, must_change_password=False)
    session.add(user)
    session.commit()
    return user
