"""Abuse controls on the public form: one response per device per point, burst limit, honeypot,
minimum completion time, bursts from one network/device, identical answers, straight-lining, review."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from survey_app.app import create_app
from survey_app.config import Settings
from survey_app.models import FeedbackItem, Response, ResponseFlag
from survey_app.services import abuse
from survey_app.services import questionnaires as q_service
from survey_app.services.demo import synthetic_form
from tests.factories import make_point, make_user


def _client(settings: Settings, session_factory: sessionmaker[Session], **overrides: object) -> TestClient:
    app = create_app(settings.model_copy(update={"min_completion_seconds": 0, **overrides}), session_factory=session_factory)
    return TestClient(app, follow_redirects=False)


@pytest.fixture
def relaxed(settings: Settings, session_factory: sessionmaker[Session]) -> Iterator[TestClient]:
    with _client(settings, session_factory) as c:
        yield c


def _form(db_session: Session, seed: int = 1) -> dict[str, list[str]]:
    version = q_service.current_for_sector(db_session, sector="health")
    assert version is not None
    return synthetic_form(q_service.parsed(version), 0.3, np.random.default_rng(seed))


def _submit(client: TestClient, token: str, data: dict[str, list[str]]) -> object:
    page = client.get(f"/q/{token}")
    match = re.search(r'name="ticket" value="([^"]+)"', page.text)
    if match is None:
        return page
    return client.post(f"/q/{token}", data={**data, "ticket": [match.group(1)]})


def _flags(db_session: Session, response_id: int) -> set[str]:
    return set(db_session.scalars(select(ResponseFlag.reason).where(ResponseFlag.response_id == response_id)))


def _last(db_session: Session) -> Response:
    r = db_session.scalars(select(Response).order_by(Response.id.desc())).first()
    assert r is not None
    return r


def test_one_response_per_device_per_point(relaxed: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    other = make_point(db_session, sector="one_stop")
    assert _submit(relaxed, point.token, _form(db_session)).status_code == 303  # type: ignore[attr-defined]
    again = relaxed.get(f"/q/{point.token}")
    assert again.status_code == 200 and "Thiết bị này đã gửi ý kiến cho điểm tiếp nhận này gần đây" in again.text
    assert 'name="ticket"' not in again.text
    assert relaxed.get(f"/q/{other.token}").status_code == 200  # another point is fine
    assert 'name="ticket"' in relaxed.get(f"/q/{other.token}").text


def test_device_window_is_configurable(settings: Settings, session_factory: sessionmaker[Session], db_session: Session) -> None:
    point = make_point(db_session)
    with _client(settings, session_factory, device_window_hours=0) as c:
        assert _submit(c, point.token, _form(db_session, 1)).status_code == 303  # type: ignore[attr-defined]
        assert _submit(c, point.token, _form(db_session, 2)).status_code == 303  # type: ignore[attr-defined]


def test_burst_limit_per_network_keeps_answers(settings: Settings, session_factory: sessionmaker[Session], db_session: Session) -> None:
    point = make_point(db_session)
    before = db_session.scalar(select(func.count()).select_from(Response))
    with _client(settings, session_factory, device_window_hours=0, submit_burst_limit=2) as c:
        assert _submit(c, point.token, _form(db_session, 1)).status_code == 303  # type: ignore[attr-defined]
        assert _submit(c, point.token, _form(db_session, 2)).status_code == 303  # type: ignore[attr-defined]
        data = _form(db_session, 3)
        third = _submit(c, point.token, data)
        assert third.status_code == 429  # type: ignore[attr-defined]
        assert "Có quá nhiều phiếu được gửi từ mạng này" in third.text  # type: ignore[attr-defined]
        first_scale = next(k for k, v in data.items() if v[0] in "12345")
        assert f'value="{data[first_scale][0]}" checked' in third.text.split(f'id="q-{first_scale}"')[1]  # type: ignore[attr-defined]
    assert db_session.scalar(select(func.count()).select_from(Response)) == (before or 0) + 2


def test_honeypot_and_too_fast_are_flagged_not_dropped(settings: Settings, session_factory: sessionmaker[Session], db_session: Session) -> None:
    point = make_point(db_session)
    with _client(settings, session_factory, min_completion_seconds=600) as c:
        assert _submit(c, point.token, {**_form(db_session), "website": ["http://spam.example"]}).status_code == 303  # type: ignore[attr-defined]
    stored = _last(db_session)
    assert stored.flagged and {"honeypot", "too_fast"} <= _flags(db_session, stored.id)


def test_staff_self_rating_burst_flags_every_response(settings: Settings, session_factory: sessionmaker[Session], db_session: Session) -> None:
    point = make_point(db_session)
    with _client(settings, session_factory, device_window_hours=0, staff_burst_count=3) as c:
        for seed in range(3):
            assert _submit(c, point.token, _form(db_session, 10 + seed)).status_code == 303  # type: ignore[attr-defined]
    burst = db_session.scalars(select(Response).order_by(Response.id.desc()).limit(3)).all()
    assert all("staff_burst" in _flags(db_session, r.id) for r in burst)
    assert all(r.flagged for r in burst)


def test_burst_member_with_a_comment_is_flagged_and_routed(settings: Settings, session_factory: sessionmaker[Session], db_session: Session) -> None:
    # The burst detector loads the new response itself (a member of the burst) before the comment routing asks
    # for the stored response: both must be the same object, flagged, with the comment in the agency inbox.
    point = make_point(db_session)
    with _client(settings, session_factory, device_window_hours=0, staff_burst_count=3) as c:
        for seed in range(3):
            data = {**_form(db_session, 20 + seed), "H18b": [f"Góp ý số {seed}: phòng chờ chật."]}
            assert _submit(c, point.token, data).status_code == 303  # type: ignore[attr-defined]
    last = _last(db_session)
    assert last.flagged and "staff_burst" in _flags(db_session, last.id)
    texts = db_session.scalars(select(FeedbackItem.text).where(FeedbackItem.channel == "questionnaire_comment")).all()
    assert sorted(texts) == [f"Góp ý số {seed}: phòng chờ chật." for seed in range(3)]


def test_unflagged_submission_stays_unflagged(relaxed: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    assert _submit(relaxed, point.token, _form(db_session, 31)).status_code == 303  # type: ignore[attr-defined]
    last = _last(db_session)
    assert not last.flagged and _flags(db_session, last.id) == set()


def test_identical_answers_in_a_burst(settings: Settings, session_factory: sessionmaker[Session], db_session: Session) -> None:
    point = make_point(db_session)
    data = _form(db_session, 5)
    for _ in range(3):  # three different phones, three different networks: only the identical answers link them
        with _client(settings, session_factory, duplicate_burst_count=3) as c:
            assert _submit(c, point.token, data).status_code == 303  # type: ignore[attr-defined]
    last = _last(db_session)
    assert "duplicate_answers" in _flags(db_session, last.id)


def test_straight_lining() -> None:
    items = [f"i{k}" for k in range(10)]
    assert abuse.straight_lined({i: "5" for i in items}, items, 8)
    assert not abuse.straight_lined({**{i: "5" for i in items}, "i3": "4"}, items, 8)
    assert not abuse.straight_lined({i: "5" for i in items[:5]}, items, 8)


def test_admin_reviews_flags(relaxed: TestClient, settings: Settings, session_factory: sessionmaker[Session], db_session: Session) -> None:
    point = make_point(db_session)
    with _client(settings, session_factory, min_completion_seconds=600) as c:
        _submit(c, point.token, _form(db_session))
    stored = _last(db_session)
    flag = db_session.scalar(select(ResponseFlag).where(ResponseFlag.response_id == stored.id))
    assert flag is not None
    make_user(db_session)
    relaxed.post("/login", data={"username": "admin1", "password": "mat-khau-dai-123"})
    page = relaxed.get("/admin/flags")
    assert page.status_code == 200 and f"#{stored.id}" in page.text and "Hoàn thành quá nhanh" in page.text
    assert relaxed.post(f"/admin/flags/{flag.id}", data={"decision": "cleared"}).status_code == 303
    db_session.refresh(stored)
    db_session.refresh(flag)
    assert flag.status == "cleared" and flag.reviewed_by == "admin1" and not stored.flagged


def test_keyed_hash_rotates_daily_and_hides_the_address() -> None:
    a = abuse.keyed_hash("secret", "network", "203.0.113.7", day=dt.date(2026, 1, 1))
    b = abuse.keyed_hash("secret", "network", "203.0.113.7", day=dt.date(2026, 1, 2))
    assert a != b and "203" not in a and len(a) == 40
    assert a == abuse.keyed_hash("secret", "network", "203.0.113.7", day=dt.date(2026, 1, 1))
