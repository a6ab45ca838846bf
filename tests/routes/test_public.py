"""The citizen form over HTTP: render, validate, store once, thank; friendly errors, no personal data."""

from __future__ import annotations

import re

import numpy as np
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import func, inspect, select
from sqlalchemy.orm import Session

from survey_app.models import Response
from survey_app.services import points as points_service
from survey_app.services import questionnaires as q_service
from survey_app.services.demo import synthetic_form
from tests.factories import make_point


def _ticket(html: str) -> str:
    match = re.search(r'name="ticket" value="([^"]+)"', html)
    assert match, "form has no ticket"
    return match.group(1)


def _valid_form(db_session: Session, sector: str = "health", seed: int = 3) -> dict[str, list[str]]:
    version = q_service.current_for_sector(db_session, sector=sector)
    assert version is not None
    return synthetic_form(q_service.parsed(version), 0.5, np.random.default_rng(seed))


def _count(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(Response)) or 0


def test_form_renders_every_item_in_vietnamese(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    r = client.get(f"/q/{point.token}")
    assert r.status_code == 200
    assert r.headers["cache-control"] == "no-store"
    assert "HX-Request" in r.headers["vary"]
    q = q_service.parsed(q_service.current_for_sector(db_session, sector="health"))  # type: ignore[arg-type]
    for item in q.items:
        assert f'id="q-{item.id}"' in r.text
    assert "Rất hài lòng" in r.text and "Gửi ý kiến" in r.text and point.name in r.text
    assert '<html lang="vi">' in r.text


def test_language_switch_to_english(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    r = client.get(f"/q/{point.token}?lang=en")
    assert '<html lang="en">' in r.text and "Very satisfied" in r.text and "Submit" in r.text
    assert client.cookies.get("lang") == "en"


def test_submit_stores_once_and_thanks(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    before = _count(db_session)
    ticket = _ticket(client.get(f"/q/{point.token}").text)
    data = {**_valid_form(db_session), "ticket": [ticket], "lang": ["vi"]}
    r1 = client.post(f"/q/{point.token}", data=data)
    assert r1.status_code == 303
    r2 = client.post(f"/q/{point.token}", data=data)  # double tap, retry after a lost response
    assert r2.status_code == 303 and r2.headers["location"] == r1.headers["location"]
    assert _count(db_session) == before + 1
    page = client.get(r1.headers["location"])
    assert page.status_code == 200 and "Cảm ơn Ông/Bà!" in page.text
    stored = db_session.scalars(select(Response).order_by(Response.id.desc())).first()
    assert stored is not None
    assert (stored.mode, stored.sector, stored.reception_point_id, stored.commune_id) == ("qr", "health", point.id, point.commune_id)
    assert stored.language == "vi" and stored.started_at is not None and stored.questionnaire_hash


def test_invalid_submission_shows_errors_and_stores_nothing(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    before = _count(db_session)
    ticket = _ticket(client.get(f"/q/{point.token}").text)
    data = _valid_form(db_session)
    q = q_service.parsed(q_service.current_for_sector(db_session, sector="health"))  # type: ignore[arg-type]
    required_scale = next(i for i in q.items if i.type == "scale5" and i.required and not i.show_if)
    data[required_scale.id] = ["9"]
    r = client.post(f"/q/{point.token}", data={**data, "ticket": [ticket]})
    assert r.status_code == 422
    block = r.text.split(f'id="q-{required_scale.id}"')[1].split("</fieldset>")[0]
    assert "Câu trả lời không hợp lệ." in block
    assert _count(db_session) == before
    # the other answers are still there, checked
    other = next(i for i in q.items if i.type == "scale5" and i.id != required_scale.id and i.id in data)
    other_block = r.text.split(f'id="q-{other.id}"')[1].split("</fieldset>")[0]
    assert f'value="{data[other.id][0]}" checked' in other_block


def test_htmx_request_gets_the_partial(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    ticket = _ticket(client.get(f"/q/{point.token}").text)
    r = client.post(f"/q/{point.token}", data={"ticket": ticket}, headers={"HX-Request": "true"})
    assert r.status_code == 422 and r.text.lstrip().startswith("<form") and "<html" not in r.text
    ok = client.post(f"/q/{point.token}", data={**_valid_form(db_session), "ticket": [ticket]}, headers={"HX-Request": "true"})
    assert ok.status_code == 204 and "/cam-on" in ok.headers["HX-Redirect"]


def test_tampered_or_missing_ticket_keeps_answers(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    before = _count(db_session)
    data = _valid_form(db_session)
    r = client.post(f"/q/{point.token}", data={**data, "ticket": ["forged.ticket"]})
    assert r.status_code == 422 and "Phiên làm phiếu đã hết hạn" in r.text
    assert _count(db_session) == before
    fresh = _ticket(r.text)
    assert client.post(f"/q/{point.token}", data={**data, "ticket": [fresh]}).status_code == 303


def test_unknown_and_revoked_tokens_get_a_friendly_404(client: TestClient, db_session: Session) -> None:
    r = client.get("/q/this-token-does-not-exist")
    assert r.status_code == 404 and "Mã QR này không còn hiệu lực" in r.text and "Traceback" not in r.text
    point = make_point(db_session)
    points_service.revoke(db_session, point=point)
    db_session.commit()
    assert client.get(f"/q/{point.token}").status_code == 404
    assert client.post(f"/q/{point.token}", data={"ticket": "x"}).status_code == 404


def test_thanks_page_needs_a_real_submission(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    assert client.get(f"/q/{point.token}/cam-on?s=00000000-0000-0000-0000-000000000000").status_code == 404
    assert client.get(f"/q/{point.token}/cam-on?s=garbage").status_code == 404


def test_oversized_body_is_refused(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    r = client.post(f"/q/{point.token}", content=b"a=" + b"x" * 400_000,
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


def test_no_ip_address_or_personal_columns(db_session: Session) -> None:
    columns = {c["name"] for c in inspect(db_session.get_bind()).get_columns("response")}
    assert not {"ip", "ip_address", "remote_addr", "user_agent", "name", "phone", "email", "address"} & columns


def test_security_headers(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    r = client.get(f"/q/{point.token}")
    assert "frame-ancestors 'none'" in r.headers["content-security-policy"]
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer"


def test_route_path_equals_url_for(app: FastAPI) -> None:
    from starlette.requests import Request

    from survey_app.routes.urls import route_path

    scope = {"type": "http", "app": app, "router": app.router, "scheme": "https", "server": ("khaosat.example.vn", 443),
             "path": "/", "root_path": "/son-la", "headers": [], "query_string": b""}
    request = Request(scope)
    for name, params in (("public.thanks", {"token": "AbC_12-xyz"}), ("public.form", {"token": "t0ken-2"}),
                         ("feedback_public.track", {})):
        absolute = request.url_for(name, **params)
        assert "https://khaosat.example.vn" + route_path(request, name, **params) == str(absolute)
        assert route_path(request, name, query={"s": "x y", "lang": "en"}, **params) == (
            absolute.path + "?s=x+y&lang=en")
    assert route_path(request, "public.thanks", token="a b/c") == "/son-la/q/a%20b%2Fc/cam-on"  # quoted
