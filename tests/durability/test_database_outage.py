"""PostgreSQL stops during traffic: citizens get a friendly 503 that keeps their answers in the page; the
service recovers by itself when the database returns (no restart of the web app)."""

from __future__ import annotations

import re
from html.parser import HTMLParser

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey_app.app import create_app
from survey_app.config import Settings
from survey_app.models import Response
from survey_app.services import points as points_service
from survey_app.services import questionnaires as q_service
from survey_app.services.demo import synthetic_form
from tests.conftest import TEST_SECRET, prepare
from tests.support.postgres import start_temp_postgres


class _Fields(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.fields: list[tuple[str, str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "input" and a.get("type") == "hidden" and a.get("name"):
            self.fields.append((a["name"] or "", a.get("value") or ""))


def test_database_outage_keeps_answers_and_recovers() -> None:
    server = start_temp_postgres()  # its own server: this test stops it
    try:
        url = server.create_database("outage")
        engine = prepare(url)
        with Session(engine) as s:
            from survey_app.services import catalogue

            point = points_service.create_point(s, commune=catalogue.get_commune(s, "03667"), sector="health", name="Trạm thử")  # type: ignore[arg-type]
            token = point.token
            q = q_service.parsed(q_service.current_for_sector(s, sector="health"))  # type: ignore[arg-type]
            s.commit()
        engine.dispose()
        settings = Settings(environment="test", secret_key=TEST_SECRET, database_url=url, base_url="http://testserver",
                            min_completion_seconds=0)
        app = create_app(settings)
        with TestClient(app, follow_redirects=False) as client:
            page = client.get(f"/q/{token}")
            ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
            assert ticket
            answers = synthetic_form(q, 0.4, np.random.default_rng(7))
            comment = next(i.id for i in q.items if i.role == "comment")
            answers[comment] = ['Phòng chờ "quá đông" <b>&</b> nóng']
            server.pause()
            down = client.post(f"/q/{token}", data={**answers, "ticket": [ticket.group(1)]})
            assert down.status_code == 503 and down.headers["retry-after"] == "30"
            assert "Hệ thống tạm thời gián đoạn" in down.text and "Traceback" not in down.text
            parser = _Fields()
            parser.feed(down.text)
            kept = parser.fields
            for key, values in answers.items():
                for v in values:
                    assert (key, v) in kept, (key, v)
            assert client.get("/api/v1/health").status_code == 503
            server.resume()
            resend: dict[str, list[str]] = {}
            for key, value in kept:
                resend.setdefault(key, []).append(value)
            again = client.post(f"/q/{token}", data=resend)  # the citizen presses "Gửi lại"
            assert again.status_code == 303
        check = prepare(url)
        with Session(check) as s:
            stored = s.scalars(select(Response)).all()
            assert len(stored) == 1
            assert s.scalar(select(func.count()).select_from(Response)) == 1
        check.dispose()
        app.state.engine.dispose()
    finally:
        server.stop()
