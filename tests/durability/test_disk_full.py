"""Disk full and read-only database (SQLite): a clear 503 that keeps the citizen's answers, no corruption,
nothing already stored is lost. Disk full is simulated with SQLite's max_page_count (SQLITE_FULL), read-only
with a read-only connection (file permissions do not stop root, who runs CI)."""

from __future__ import annotations

import re
import sqlite3
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import event
from sqlalchemy.orm import Session

from survey_app.app import create_app
from survey_app.config import Settings
from survey_app.db import make_engine, make_sessionmaker
from survey_app.services import catalogue
from survey_app.services import points as points_service
from survey_app.services import questionnaires as q_service
from survey_app.services.demo import synthetic_form
from tests.conftest import TEST_SECRET, prepare


def _count(path: Path) -> int:
    with sqlite3.connect(path) as c:
        return int(c.execute("SELECT count(*) FROM response").fetchone()[0])


@pytest.mark.parametrize("fault", ["disk_full", "read_only"])
def test_write_failure_is_clear_and_harmless(fault: str, tmp_path: Path) -> None:
    path = tmp_path / "full.sqlite3"
    url = f"sqlite:///{path}"
    setup = prepare(url)
    with Session(setup) as s:
        commune = catalogue.get_commune(s, "03667")
        assert commune is not None
        token = points_service.create_point(s, commune=commune, sector="health", name="Trạm thử").token
        q = q_service.parsed(q_service.current_for_sector(s, sector="health"))  # type: ignore[arg-type]
        s.commit()
    setup.dispose()
    settings = Settings(environment="test", secret_key=TEST_SECRET, database_url=url, base_url="http://testserver",
                        min_completion_seconds=0, device_window_hours=0)
    engine = make_engine(url)

    def ok(client: TestClient, seed: int) -> int:
        page = client.get(f"/q/{token}")
        ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
        assert ticket
        data = {**synthetic_form(q, 0.4, np.random.default_rng(seed)), "ticket": [ticket.group(1)]}
        return client.post(f"/q/{token}", data=data).status_code

    with TestClient(create_app(settings, session_factory=make_sessionmaker(engine)), follow_redirects=False) as c:
        assert ok(c, 1) == 303
    stored_before = _count(path)

    @event.listens_for(engine, "connect")
    def _fault(dbapi_connection: Any, _record: Any) -> None:
        cursor = dbapi_connection.cursor()
        if fault == "disk_full":
            pages = cursor.execute("PRAGMA page_count").fetchone()[0]
            cursor.execute(f"PRAGMA max_page_count = {pages}")
        else:
            cursor.execute("PRAGMA query_only = ON")
        cursor.close()

    engine.dispose()  # new connections get the fault
    with TestClient(create_app(settings, session_factory=make_sessionmaker(engine)), follow_redirects=False) as c:
        statuses = [ok(c, seed) for seed in range(2, 40)]  # fill until it fails (disk full) or fail at once
        assert 503 in statuses, statuses
        failed = c.post(f"/q/{token}", data={"ticket": ["x"], "H19": ["4"]})
        assert failed.status_code in (422, 503)
    engine.dispose()
    with sqlite3.connect(path) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert _count(path) >= stored_before  # nothing already saved was lost
    # and once the fault is gone the same database takes submissions again
    healthy = make_engine(url)
    with TestClient(create_app(settings, session_factory=make_sessionmaker(healthy)), follow_redirects=False) as c:
        assert ok(c, 99) == 303
    healthy.dispose()
