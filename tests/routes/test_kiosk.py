"""Desk kiosk mode: pairing, the kiosk page, and POST /api/v1/kiosk/responses (mode kiosk, minimum
interval between responses, burst flags, same per-item results as the enumerator sync)."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey_app.models import AuditEvent, KioskDevice, KioskSubmission, Response, ResponseFlag, User
from survey_app.services import keyset
from survey_app.services import kiosk as kiosk_service
from survey_app.services import questionnaires as q_service
from tests.factories import make_point, make_user
from tests.services.test_fieldwork import answers_for

URL = "/api/v1/kiosk/responses"
T0 = dt.datetime(2026, 3, 10, 2, 0, tzinfo=dt.UTC)


def _login_admin(client: TestClient, session: Session) -> None:
    make_user(session, username="qt_kiosk", role="admin")
    assert client.post("/login", data={"username": "qt_kiosk", "password": "mat-khau-dai-123"}).status_code == 303


def _create(client: TestClient, point_id: int, label: str = "Quầy số 1") -> str:
    """Create a kiosk through the admin page and return its pairing path (read from the page)."""
    r = client.post("/admin/kiosks", data={"point_id": str(point_id), "label": label})
    assert r.status_code == 303 and r.headers["location"].endswith(f"/admin/points/{point_id}/kiosk")
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and label in page.text
    links = re.findall(r'value="(http[^"]*/kiosk/ghep/[^"]+)"', page.text)
    assert len(links) == 1
    return "/kiosk/ghep/" + html.unescape(links[0]).split("/kiosk/ghep/", 1)[1]


def _paired(client: TestClient, session: Session) -> tuple[Any, str, str]:
    point = make_point(session, sector="health")
    _login_admin(client, session)
    pair_path = _create(client, point.id)
    client.cookies.clear()  # the tablet has no staff session
    assert client.get(pair_path).status_code == 200
    r = client.post(pair_path)
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    return point, str(body["token"]), str(body["kiosk"])


def _item(session: Session, *, ended: dt.datetime, minutes: float = 3, **changes: Any) -> dict[str, Any]:
    version = q_service.current_for_sector(session, sector="health")
    assert version is not None
    item = {"uuid": str(uuid.uuid4()), "questionnaire_version_id": version.id, "language": "vi",
            "answers": answers_for(q_service.parsed(version)),
            "started_at": (ended - dt.timedelta(minutes=minutes)).isoformat(), "ended_at": ended.isoformat()}
    item.update(changes)
    return item


def _post(client: TestClient, token: str, *items: dict[str, Any]) -> Any:
    return client.post(URL, json={"responses": list(items)}, headers={"Authorization": f"Bearer {token}"})


def _kiosk_count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Response).where(Response.mode == "kiosk")) or 0


def test_pairing_link_gives_a_hashed_token_once(client: TestClient, db_session: Session) -> None:
    point, token, slug = _paired(client, db_session)
    kiosk = db_session.scalar(select(KioskDevice).where(KioskDevice.slug == slug))
    assert kiosk is not None and kiosk.point_id == point.id and kiosk.paired_at is not None
    assert token.startswith("kiosk_") and kiosk.token_hash and token not in kiosk.token_hash
    actions = set(db_session.scalars(select(AuditEvent.action).where(AuditEvent.target_type == "kiosk")))
    assert {"kiosk_created", "kiosk_paired"} <= actions
    # The link is used up: neither the page nor the exchange works a second time.
    signer = client.app.state.signer  # type: ignore[attr-defined]
    old = signer.dumps(kiosk_service.PAIRING_PURPOSE, {"k": kiosk.id, "v": kiosk.pairing_version})
    again = client.post(f"/kiosk/ghep/{old}")
    assert again.status_code == 410 and "đã được dùng" in again.json()["detail"]
    assert "đã được dùng" in client.get(f"/kiosk/ghep/{old}").text
    assert client.post("/kiosk/ghep/not-a-signed-ticket").status_code == 410


def test_kiosk_page_is_the_point_form_with_no_way_out(client: TestClient, db_session: Session) -> None:
    point, _token, slug = _paired(client, db_session)
    r = client.get(f"/kiosk/{slug}/")
    assert r.status_code == 200 and point.name in r.text
    version = q_service.current_for_sector(db_session, sector="health")
    assert version is not None
    for item in q_service.parsed(version).items:
        assert f'id="q-{item.id}"' in r.text  # the citizen form's own fields macro
    body = r.text.split("<body", 1)[1]
    assert "<a " not in body  # no link leads away from the form
    assert 'data-interval="20"' in r.text
    manifest = client.get(f"/kiosk/{slug}/manifest.webmanifest").json()
    assert manifest["display"] == "fullscreen" and manifest["start_url"] == f"/kiosk/{slug}/"
    sw = client.get("/kiosk/sw.js")
    assert sw.status_code == 200 and sw.headers["service-worker-allowed"] == "/kiosk/"
    assert client.get("/kiosk/unknown-slug/").status_code == 404


def test_responses_are_stored_once_as_kiosk_mode(client: TestClient, db_session: Session) -> None:
    point, token, _slug = _paired(client, db_session)
    items = [_item(db_session, ended=T0), _item(db_session, ended=T0 + dt.timedelta(seconds=30))]
    r = _post(client, token, *items)
    assert r.status_code == 200
    body = r.json()
    assert [x["status"] for x in body["results"]] == ["stored", "stored"] and body["stored"] == 2
    rows = list(db_session.scalars(select(Response).where(Response.submission_id.in_([i["uuid"] for i in items]))))
    assert {r.mode for r in rows} == {"kiosk"} and {r.reception_point_id for r in rows} == {point.id}
    assert {r.device_hash for r in rows} == {None}  # one shared device: the per-device rule does not apply
    assert sorted(r.submitted_at for r in rows) == [T0, T0 + dt.timedelta(seconds=30)]
    again = _post(client, token, *items).json()
    assert [x["status"] for x in again["results"]] == ["duplicate", "duplicate"] and again["stored"] == 0
    changed = dict(items[0], answers={**items[0]["answers"], next(iter(items[0]["answers"])): "1"})
    assert _post(client, token, changed).json()["results"][0]["status"] == "conflict"
    assert _kiosk_count(db_session) == 2


def test_responses_closer_than_the_interval_are_refused(client: TestClient, db_session: Session) -> None:
    _point, token, _slug = _paired(client, db_session)
    first = _item(db_session, ended=T0)
    close = _item(db_session, ended=T0 + dt.timedelta(seconds=12))
    before = _item(db_session, ended=T0 - dt.timedelta(seconds=5))  # synced later but given just before
    fine = _item(db_session, ended=T0 + dt.timedelta(seconds=20))
    results = _post(client, token, first, close, before, fine).json()["results"]
    assert [x["status"] for x in results] == ["stored", "invalid", "invalid", "stored"]
    assert "quá sát phiếu trước (dưới 20 giây)" in results[1]["message"]
    assert _kiosk_count(db_session) == 2
    assert db_session.scalar(select(func.count()).select_from(KioskSubmission)) == 2


def test_interval_and_burst_come_from_settings(db_session: Session, settings: Any) -> None:
    point = make_point(db_session, sector="health")
    admin = make_user(db_session, username="qt_rules", role="admin")
    kiosk = kiosk_service.create_kiosk(db_session, actor=admin, point=point, label="Quầy 2")
    settings.kiosk_min_interval_seconds = 60
    settings.kiosk_burst_count = 3
    rules = kiosk_service.rules_from(settings)
    now = T0 + dt.timedelta(hours=1)
    items = [_item(db_session, ended=T0 + dt.timedelta(seconds=s)) for s in (0, 45, 60, 120)]
    results = kiosk_service.sync_batch(db_session, kiosk=kiosk, items=[_wire(i) for i in items], rules=rules,
                                       notice_version=None, now=now)
    assert [r.status for r in results] == ["stored", "invalid", "stored", "stored"]
    assert "dưới 60 giây" in results[1].message
    # The third stored response within ten minutes crosses the burst threshold: all three are flagged.
    assert "kiosk_burst" in results[3].flags and "kiosk_burst" not in results[2].flags
    flagged = db_session.scalars(select(ResponseFlag.response_id).where(ResponseFlag.reason == "kiosk_burst"))
    assert len(set(flagged)) == 3


def _wire(item: dict[str, Any]) -> dict[str, Any]:
    out = dict(item)
    for key in ("started_at", "ended_at"):
        out[key] = dt.datetime.fromisoformat(item[key])
    return out


def test_bad_items_do_not_cost_the_others(client: TestClient, db_session: Session) -> None:
    _point, token, _slug = _paired(client, db_session)
    school = q_service.current_for_sector(db_session, sector="education")
    good = _item(db_session, ended=T0)
    wrong_sector = _item(db_session, ended=T0 + dt.timedelta(minutes=5),
                         questionnaire_version_id=school.id if school else 999999)
    missing = _item(db_session, ended=T0 + dt.timedelta(minutes=10), answers={})
    future = _item(db_session, ended=dt.datetime.now(dt.UTC) + dt.timedelta(days=1))
    malformed = {"uuid": str(uuid.uuid4()), "answers": "x"}
    results = _post(client, token, good, wrong_sector, missing, future, malformed).json()["results"]
    assert [x["status"] for x in results] == ["stored", "invalid", "invalid", "invalid", "invalid"]
    assert results[2]["errors"] and "tương lai" in results[3]["message"]
    assert _kiosk_count(db_session) == 1


def test_revoked_or_repaired_kiosk_token_is_refused(client: TestClient, db_session: Session) -> None:
    point, token, slug = _paired(client, db_session)
    assert _post(client, "kiosk_wrong", _item(db_session, ended=T0)).status_code == 401
    assert client.post(URL, json={"responses": []}).status_code == 401
    kiosk = db_session.scalar(select(KioskDevice).where(KioskDevice.slug == slug))
    assert kiosk is not None
    _login_admin_again(client)
    assert client.post(f"/admin/kiosks/{kiosk.id}/repair").status_code == 303
    r = _post(client, token, _item(db_session, ended=T0))
    assert r.status_code == 401 and "ghép lại" in r.json()["detail"]
    new_link = _create_link_for(client, point.id)
    client.cookies.clear()
    new_token = client.post(new_link).json()["token"]
    assert _post(client, new_token, _item(db_session, ended=T0)).json()["stored"] == 1
    _login_admin_again(client)
    assert client.post(f"/admin/kiosks/{kiosk.id}/revoke").status_code == 303
    assert _post(client, new_token, _item(db_session, ended=T0 + dt.timedelta(minutes=1))).status_code == 401
    assert client.get(f"/kiosk/{slug}/").status_code == 404
    assert _kiosk_count(db_session) == 1


def _create_link_for(client: TestClient, point_id: int) -> str:
    page = client.get(f"/admin/points/{point_id}/kiosk").text
    links = re.findall(r'value="(http[^"]*/kiosk/ghep/[^"]+)"', page)
    assert len(links) == 1
    return "/kiosk/ghep/" + html.unescape(links[0]).split("/kiosk/ghep/", 1)[1]


def _login_admin_again(client: TestClient) -> None:
    assert client.post("/login", data={"username": "qt_kiosk", "password": "mat-khau-dai-123"}).status_code == 303


def test_kiosk_needs_a_label_and_an_active_point(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    _login_admin(client, db_session)
    r = client.post("/admin/kiosks", data={"point_id": str(point.id), "label": "   "})
    assert r.status_code == 422 and "Tên máy kiosk" in r.text
    r = client.post("/admin/kiosks", data={"point_id": "999999", "label": "Quầy 1"})
    assert r.status_code == 422 and "chọn điểm tiếp nhận" in r.text
    assert db_session.scalar(select(func.count()).select_from(KioskDevice)) == 0


def test_kiosk_list_pages_and_a_kiosk_added_by_point_code(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    _login_admin(client, db_session)
    admin = db_session.scalar(select(User).where(User.username == "qt_kiosk"))
    assert admin is not None
    for k in range(keyset.PAGE_SIZE + 3):
        kiosk_service.create_kiosk(db_session, actor=admin, point=point, label=f"Quầy {k:02d}")
    db_session.commit()
    page = client.get("/admin/kiosks")
    assert "<select" not in page.text  # no drop-down of every point in the province
    labels: list[str] = []
    url: str | None = "/admin/kiosks"
    while url:
        page = client.get(url)
        assert page.status_code == 200
        labels += re.findall(r"<td>(Quầy \d\d)</td>", page.text)
        found = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        url = html.unescape(found.group(1)) if found else None
    assert labels == [f"Quầy {k:02d}" for k in reversed(range(keyset.PAGE_SIZE + 3))]  # newest first, each once
    assert client.get("/admin/kiosks?before=x1").status_code == 422

    r = client.post("/admin/kiosks", data={"point_code": "99999-YT-09", "label": "Quầy mới"})
    assert r.status_code == 422 and "Không có điểm tiếp nhận mã “99999-YT-09”" in html.unescape(r.text)
    assert 'value="99999-YT-09"' in r.text  # what was typed is kept
    r = client.post("/admin/kiosks", data={"point_code": point.code.lower(), "label": "Quầy mới"})
    assert r.status_code == 303 and r.headers["location"].endswith(f"/admin/points/{point.id}/kiosk")
    assert "Quầy mới" in client.get(r.headers["location"]).text
