"""Admin screens for reception points: login required, role checked, CSRF refused, posters with QR."""

from __future__ import annotations

import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey_app.models import ReceptionPoint
from tests.factories import make_point, make_user


def login(client: TestClient, username: str = "admin1", password: str = "mat-khau-dai-123") -> None:
    r = client.post("/login", data={"username": username, "password": password, "next": "/admin/points"})
    assert r.status_code == 303, r.text


def test_admin_requires_login(client: TestClient) -> None:
    r = client.get("/admin/points")
    assert r.status_code == 303 and r.headers["location"].startswith("http://testserver/login?next=")


def test_wrong_password_is_a_vietnamese_message(client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    r = client.post("/login", data={"username": "admin1", "password": "sai"})
    assert r.status_code == 422 and "Tên đăng nhập hoặc mật khẩu không đúng." in r.text


def test_non_admin_gets_403(client: TestClient, db_session: Session) -> None:
    make_user(db_session, username="xem", role="viewer")
    login(client, "xem")
    assert client.get("/admin/points").status_code == 403


def test_open_redirect_is_refused(client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    r = client.post("/login", data={"username": "admin1", "password": "mat-khau-dai-123", "next": "//evil.example/x"})
    assert r.headers["location"] == "/admin"


def test_create_rotate_revoke_and_posters(client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    login(client)
    r = client.post("/admin/points", data={"name": "Trạm Y tế phường Chiềng An", "commune_code": "03667", "sector": "health"})
    assert r.status_code == 303
    point = db_session.scalar(select(ReceptionPoint).where(ReceptionPoint.name == "Trạm Y tế phường Chiềng An"))
    assert point is not None
    poster = client.get(f"/admin/points/{point.id}/poster")
    assert poster.status_code == 200
    assert "Quét mã QR để đánh giá mức độ hài lòng" in poster.text and "<svg" in poster.text
    assert f"testserver/q/{point.token}" in poster.text
    assert client.get(f"/admin/points/{point.id}/qr.png").headers["content-type"] == "image/png"
    assert client.get(f"/admin/points/{point.id}/qr.svg").text.startswith("<svg")
    old = point.token
    assert client.post(f"/admin/points/{point.id}/rotate").status_code == 303
    db_session.refresh(point)
    assert point.token != old
    assert client.get(f"/q/{old}").status_code == 404
    assert client.post(f"/admin/points/{point.id}/revoke").status_code == 303
    assert client.get(f"/q/{point.token}").status_code == 404


def test_commune_posters_print_every_active_point(client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    a = make_point(db_session, sector="health")
    b = make_point(db_session, sector="one_stop")
    login(client)
    r = client.get("/admin/communes/03667/posters")
    assert r.status_code == 200
    assert r.text.count('class="poster"') >= 2 and a.name in r.text and b.name in r.text
    assert client.get("/admin/communes/99999/posters").status_code == 404


def test_invalid_point_form_is_422_with_message(client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    login(client)
    r = client.post("/admin/points", data={"name": "", "commune_code": "03667", "sector": "health"})
    assert r.status_code == 422 and "Tên điểm tiếp nhận" in r.text
    r = client.post("/admin/points", data={"name": "X", "commune_code": "00000", "sector": "health"})
    assert r.status_code == 422 and "Không tìm thấy xã/phường" in r.text


def test_cross_site_post_is_refused(client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    point = make_point(db_session)
    login(client)
    r = client.post(f"/admin/points/{point.id}/revoke", headers={"Origin": "https://evil.example"})
    assert r.status_code == 403
    r = client.post(f"/admin/points/{point.id}/revoke", headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403
    db_session.refresh(point)
    assert point.active


def test_logout(client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    login(client)
    assert client.post("/logout").status_code == 303
    assert client.get("/admin/points").status_code == 303


def test_session_cookie_flags(client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    r = client.post("/login", data={"username": "admin1", "password": "mat-khau-dai-123"})
    cookie = r.headers["set-cookie"]
    assert "HttpOnly" in cookie and re.search("samesite=lax", cookie, re.I)
