"""Passwords, throttling, forced change, session invalidation and the append-only audit trail."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text
from sqlalchemy.exc import DatabaseError
from sqlalchemy.orm import Session

from survey_app.models import AuditEvent, User
from survey_app.services import accounts
from tests.factories import make_user

PASSWORD = "mat-khau-dai-123"


def _login(client: TestClient, username: str = "admin1", password: str = PASSWORD) -> int:
    return client.post("/login", data={"username": username, "password": password}).status_code


def test_password_is_hashed_with_argon2(db_session: Session) -> None:
    user = make_user(db_session)
    assert user.password_hash.startswith("$argon2id$") and PASSWORD not in user.password_hash


def test_account_is_throttled_after_repeated_failures(client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    for _ in range(5):
        assert _login(client, password="sai-mat-khau") == 422
    r = client.post("/login", data={"username": "admin1", "password": PASSWORD})
    assert r.status_code == 429
    assert "Đăng nhập sai quá nhiều lần. Vui lòng thử lại sau" in r.text and "phút" in r.text
    assert db_session.scalar(select(AuditEvent.id).where(AuditEvent.action == "login_failed")) is not None


def test_client_is_throttled_across_accounts(client: TestClient, db_session: Session) -> None:
    make_user(db_session, username="real")
    for i in range(20):
        assert _login(client, username=f"guess{i}", password="x") == 422
    assert _login(client, username="real") == 429


def test_success_resets_the_account_counter(client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    for _ in range(4):
        _login(client, password="sai")
    assert _login(client) == 303
    for _ in range(4):
        _login(client, password="sai")
    assert _login(client) == 303


def test_initial_password_must_be_changed(client: TestClient, db_session: Session) -> None:
    user = accounts.create_user(db_session, actor=None, username="moi", role="admin", password="ban-dau-12345")
    db_session.commit()
    r = client.post("/login", data={"username": "moi", "password": "ban-dau-12345"})
    assert r.status_code == 303 and r.headers["location"].endswith("/account/password")
    assert client.get("/admin/points").headers["location"].endswith("/account/password")
    bad = client.post("/account/password", data={"current": "ban-dau-12345", "new": "ngan", "repeat": "ngan"})
    assert bad.status_code == 422 and "ít nhất 10 ký tự" in bad.text
    mismatch = client.post("/account/password", data={"current": "ban-dau-12345", "new": "mat-khau-moi-1", "repeat": "khac-hoan-toan"})
    assert mismatch.status_code == 422 and "không khớp" in mismatch.text
    ok = client.post("/account/password", data={"current": "ban-dau-12345", "new": "mat-khau-moi-1", "repeat": "mat-khau-moi-1"})
    assert ok.status_code == 303
    assert client.get("/admin/points").status_code == 200
    db_session.refresh(user)
    assert not user.must_change_password


def test_password_change_ends_other_sessions(app: object, client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    other = TestClient(app, follow_redirects=False)  # type: ignore[arg-type]
    assert _login(client) == 303 and _login(other) == 303
    assert client.post("/account/password", data={"current": PASSWORD, "new": "mat-khau-moi-1", "repeat": "mat-khau-moi-1"}).status_code == 303
    assert client.get("/admin/points").status_code == 200  # the session that changed it was renewed
    assert other.get("/admin/points").status_code == 303  # the other one is logged out


def test_disabled_user_is_logged_out(client: TestClient, db_session: Session) -> None:
    admin = make_user(db_session)
    make_user(db_session, username="bi_khoa", role="viewer")
    assert _login(client) == 303
    target = db_session.scalar(select(User).where(User.username == "bi_khoa"))
    assert target is not None
    r = client.post(f"/admin/users/{target.id}", data={"role": "viewer", "commune_codes": "", "active": ""})
    assert r.status_code == 303
    db_session.refresh(target)
    assert not target.active
    assert _login(client, "bi_khoa") == 422
    events = db_session.scalars(select(AuditEvent.action).where(AuditEvent.actor_id == admin.id)).all()
    assert "user_disabled" in events


def test_admin_creates_scoped_reviewer(client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    _login(client)
    r = client.post("/admin/users", data={"username": "syt", "role": "reviewer", "sectors": ["health"], "commune_codes": ""})
    assert r.status_code == 200 and "Mật khẩu ban đầu của" in r.text
    user = db_session.scalar(select(User).where(User.username == "syt"))
    assert user is not None and user.must_change_password
    assert accounts.scope_of(user).sectors == frozenset({"health"})
    r = client.post("/admin/users", data={"username": "nobody", "role": "reviewer", "commune_codes": ""})
    assert r.status_code == 422 and "ít nhất một lĩnh vực" in r.text


def test_scopes() -> None:
    scope = accounts.Scope(frozenset({"health"}), None, True)
    assert scope.allows(sector="health", commune_id=5) and not scope.allows(sector="one_stop")
    commune = accounts.Scope(None, frozenset({7}), True)
    assert commune.allows(sector="one_stop", commune_id=7) and not commune.allows(commune_id=8)


def test_audit_trail_is_append_only(db_session: Session) -> None:
    make_user(db_session)
    event = db_session.scalar(select(AuditEvent).limit(1))
    if event is None:
        from survey_app.services import audit

        event = audit.record(db_session, actor=None, action="export")
        db_session.commit()
    with pytest.raises(DatabaseError), db_session.begin_nested():
        db_session.execute(text("UPDATE audit_event SET actor = 'someone else' WHERE id = :id"), {"id": event.id})
    with pytest.raises(DatabaseError), db_session.begin_nested():
        db_session.execute(text("DELETE FROM audit_event WHERE id = :id"), {"id": event.id})


def test_admin_can_browse_the_audit_trail(client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    _login(client)
    r = client.get("/admin/audit?action=login")
    assert r.status_code == 200 and "admin1" in r.text and "<td>login</td>" in r.text
