"""POST /api/v1/interviews: bearer tokens, per-item results, duplicates, conflicts, partial failure, limits."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey_app.models import ApiToken, Interview, Response
from survey_app.services import interviews
from tests.services.test_fieldwork import FieldSetup, interview_item, make_field_setup

URL = "/api/v1/interviews"


def _token(client: TestClient, username: str = "dtv1") -> str:
    r = client.post("/login", data={"username": username, "password": "mat-khau-dai-123", "next": "/enumerator/"})
    assert r.status_code == 303 and r.headers["location"] == "/enumerator/"
    r = client.post("/enumerator/token")
    assert r.status_code == 200 and r.headers["cache-control"] == "no-store"
    body = r.json()
    assert body["user"] == username
    client.cookies.clear()  # the API must work with the token alone
    return str(body["token"])


def _wire(item: dict[str, Any]) -> dict[str, Any]:
    return json.loads(json.dumps(item, default=lambda v: v.isoformat()))


def _post(client: TestClient, token: str, *items: dict[str, Any]) -> Any:
    return client.post(URL, json={"interviews": [_wire(i) for i in items]}, headers={"Authorization": f"Bearer {token}"})


def _count(session: Session) -> int:
    return session.scalar(select(func.count()).select_from(Response).where(Response.mode == "enumerator")) or 0


def _setup(session: Session, client: TestClient) -> tuple[FieldSetup, str]:
    setup = make_field_setup(session)
    return setup, _token(client)


def test_batch_is_stored_once_and_resending_is_acknowledged(client: TestClient, db_session: Session) -> None:
    setup, token = _setup(db_session, client)
    items = [interview_item(setup, ended=dt.datetime(2026, 3, 10, 2 + i, tzinfo=dt.UTC)) for i in range(3)]
    r = _post(client, token, *items)
    assert r.status_code == 200
    body = r.json()
    assert [x["status"] for x in body["results"]] == ["stored"] * 3
    assert [x["uuid"] for x in body["results"]] == [i["uuid"] for i in items]
    assert (body["stored"], body["duplicates"]) == (3, 0)
    assert _count(db_session) == 3
    again = _post(client, token, *items).json()
    assert [x["status"] for x in again["results"]] == ["duplicate"] * 3 and again["stored"] == 0
    assert _count(db_session) == 3
    # Key order and timestamp spelling do not matter: the content is compared, not the bytes.
    reordered = dict(reversed(list(_wire(items[0]).items())))
    reordered["ended_at"] = reordered["ended_at"].replace("+00:00", "Z")
    r = client.post(URL, json={"interviews": [reordered]}, headers={"Authorization": f"Bearer {token}"})
    assert r.json()["results"][0]["status"] == "duplicate"


def test_same_uuid_with_other_content_is_a_conflict(client: TestClient, db_session: Session) -> None:
    setup, token = _setup(db_session, client)
    item = interview_item(setup)
    assert _post(client, token, item).json()["results"][0]["status"] == "stored"
    changed = dict(item, answers={**item["answers"], next(iter(item["answers"])): "1"})
    result = _post(client, token, changed).json()["results"][0]
    assert result["status"] == "conflict" and "giữ trên máy" in result["message"]
    response = db_session.scalar(select(Response).where(Response.submission_id == item["uuid"]))
    assert response is not None and response.answers == item["answers"]  # the stored one is untouched
    # Two different contents under one UUID inside one batch: the second is a conflict too.
    twin = interview_item(setup)
    other = dict(twin, page_seconds={"p1": 1.0})
    assert [x["status"] for x in _post(client, token, twin, other).json()["results"]] == ["stored", "conflict"]


def test_partial_failure_stores_the_good_items(client: TestClient, db_session: Session) -> None:
    setup, token = _setup(db_session, client)
    good1 = interview_item(setup, ended=dt.datetime(2026, 3, 10, 2, tzinfo=dt.UTC))
    missing_answer = interview_item(setup, ended=dt.datetime(2026, 3, 10, 3, tzinfo=dt.UTC))
    first_key = next(iter(missing_answer["answers"]))
    missing_answer["answers"] = {k: v for k, v in missing_answer["answers"].items() if k != first_key}
    ineligible = interview_item(setup, eligibility={"adult": True, "used_service": False})
    wrong_assignment = interview_item(setup, assignment_id=999999)
    malformed = {"uuid": "not-a-uuid-but-36-characters-long-xx", "outcome": "done"}
    good2 = interview_item(setup, ended=dt.datetime(2026, 3, 10, 4, tzinfo=dt.UTC))
    body = _post(client, token, good1, missing_answer, ineligible, wrong_assignment, malformed, good2).json()
    statuses = [x["status"] for x in body["results"]]
    assert statuses == ["stored", "invalid", "invalid", "invalid", "invalid", "stored"]
    assert first_key in body["results"][1]["errors"]
    assert body["results"][1]["errors"][first_key] in ("Vui lòng chọn một câu trả lời.", "Vui lòng trả lời câu hỏi này.")
    assert "không đủ điều kiện" in body["results"][2]["message"]
    assert "Phân công" in body["results"][3]["message"]
    assert body["results"][4]["message"] == "Dữ liệu phiếu không đúng định dạng."
    assert _count(db_session) == 2
    assert db_session.scalar(select(func.count()).select_from(Interview)) == 2  # nothing half-stored


def test_refusals_are_recorded_without_a_response(client: TestClient, db_session: Session) -> None:
    setup, token = _setup(db_session, client)
    refused = interview_item(setup, outcome="refused", answers={}, questionnaire_version_id=None, eligibility=None)
    assert _post(client, token, refused).json()["results"][0]["status"] == "stored"
    assert _count(db_session) == 0
    stored = db_session.scalar(select(Interview).where(Interview.uuid == refused["uuid"]))
    assert stored is not None and stored.outcome == "refused" and stored.response_id is None


def test_missing_invalid_expired_and_revoked_tokens(client: TestClient, db_session: Session) -> None:
    setup, token = _setup(db_session, client)
    item = interview_item(setup)
    r = client.post(URL, json={"interviews": [_wire(item)]})
    assert r.status_code == 401 and "đăng nhập" in r.json()["detail"]
    assert _post(client, "dtv_wrong", item).status_code == 401
    row = db_session.scalar(select(ApiToken))
    assert row is not None and row.token_hash != token  # stored hashed
    row.expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    db_session.commit()
    r = _post(client, token, item)
    assert r.status_code == 401 and "hết hạn" in r.json()["detail"] and "vẫn được giữ" in r.json()["detail"]
    row.expires_at = dt.datetime.now(dt.UTC) + dt.timedelta(days=1)
    interviews.revoke_tokens(db_session, actor=setup.admin, user=setup.enumerator)
    db_session.commit()
    r = _post(client, token, item)
    assert r.status_code == 401 and "thu hồi" in r.json()["detail"]
    # A password reset ends the token as well.
    fresh = _token(client)
    setup.enumerator.session_version += 1
    db_session.commit()
    assert _post(client, fresh, item).status_code == 401
    assert _count(db_session) == 0


def test_oversized_batches_get_a_clear_error(client: TestClient, db_session: Session) -> None:
    setup, token = _setup(db_session, client)
    items = [interview_item(setup) for _ in range(interviews.MAX_BATCH + 1)]
    r = _post(client, token, *items)
    assert r.status_code == 413
    assert "tối đa 50 phiếu" in r.json()["detail"] and "không phiếu nào bị mất" in r.json()["detail"]
    assert _count(db_session) == 0
    huge = interview_item(setup, answers={"x" * 30: "y" * 2000 for _ in range(1)} | {f"k{i}": "v" * 1000 for i in range(290)})
    r = _post(client, token, huge)
    assert r.status_code == 413 and "quá lớn" in r.text
    r = client.post(URL, content=b"{not json", headers={"Authorization": f"Bearer {token}",
                                                         "Content-Type": "application/json"})
    assert r.status_code in (400, 422) and "detail" in r.json()


def test_openapi_documents_the_sync_api(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    op = schema["paths"]["/api/v1/interviews"]["post"]
    assert "401" in op["responses"] and "413" in op["responses"]
    assert op["security"] == [{"HTTPBearer": []}]
    body_ref = op["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert body_ref.endswith("/InterviewBatch")
    assert "InterviewIn" in schema["components"]["schemas"]
    assert set(schema["components"]["schemas"]["ItemResultOut"]["properties"]["status"]["enum"]) == {
        "stored", "duplicate", "conflict", "invalid"}


def test_token_needs_a_field_role(client: TestClient, db_session: Session) -> None:
    from tests.factories import make_user

    make_user(db_session, username="xem", role="viewer")
    client.post("/login", data={"username": "xem", "password": "mat-khau-dai-123"})
    assert client.post("/enumerator/token").status_code == 403
