"""The citizen's two statements stay cheap at a busy reception point, before PostgreSQL has statistics.

A point that took thousands of responses since the last ANALYZE (a new deployment, a busy morning) once
made PostgreSQL read every one of them to answer "did this device answer here lately?": it chose the
(point, submitted_at) index and filtered by device (benchmarks/submit.py, 2 ms of database CPU per
request). Counted here as buffers read by EXPLAIN ANALYZE, which does not depend on the machine's speed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import uuid
from typing import Any

import pytest
from sqlalchemy import insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from survey_app.models import QuestionnaireVersion, Response
from survey_app.services import intake
from tests.factories import make_point

BUSY = 3000  # responses at the point within the device window, none from the device asking
ANSWERS = {f"q{k}": str(k % 5 + 1) for k in range(25)}


def _hash(purpose: str, i: int) -> str:
    return hashlib.sha1(f"{purpose}{i}".encode()).hexdigest()


def _buffers(session: Session, statement: Any, params: dict[str, Any]) -> int:
    compiled = statement.compile(dialect=session.get_bind().dialect)
    sql = f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {compiled}"
    plan = session.connection().exec_driver_sql(sql, {**compiled.params, **params}).scalar_one()
    plan = json.loads(plan) if isinstance(plan, str) else plan
    return int(plan[0]["Plan"]["Shared Hit Blocks"]) + int(plan[0]["Plan"]["Shared Read Blocks"])


def test_device_check_reads_a_few_pages_at_a_busy_point(engine: Engine, db_session: Session) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("buffer counts are PostgreSQL's; SQLite has no EXPLAIN ANALYZE")
    point = make_point(db_session)
    version = db_session.scalars(select(QuestionnaireVersion).where(QuestionnaireVersion.sector == "health",
                                                                    QuestionnaireVersion.is_current.is_(True))).first()
    assert version is not None
    now = dt.datetime.now(dt.UTC)
    # Rows as wide as real ones (answers, 40-character keyed hashes): the planner's guess of the row count
    # comes from the table's size, and with narrow rows the mistake did not show.
    db_session.execute(insert(Response), [{
        "submission_id": str(uuid.uuid4()), "questionnaire_version_id": version.id,
        "questionnaire_id": version.questionnaire_id, "questionnaire_version": version.version,
        "questionnaire_hash": version.content_hash, "reception_point_id": point.id, "commune_id": point.commune_id,
        "sector": "health", "mode": "qr", "language": "vi", "submitted_at": now - dt.timedelta(seconds=i),
        "answers": ANSWERS, "device_hash": _hash("device", i), "network_hash": _hash("network", i),
        "answers_hash": _hash("answers", i),
    } for i in range(BUSY)])
    db_session.flush()

    since = now - dt.timedelta(hours=12)
    form = _buffers(db_session, intake.FORM_VIEW_STATEMENT, {"token": point.token, "device_hash": "a-new-phone",
                                                     "device_since": since})
    submission = _buffers(db_session, intake.PREFLIGHT_STATEMENT, {
        "token": point.token, "version_id": version.id, "submission_id": str(uuid.uuid4()),
        "device_hash": "a-new-phone", "network_hash": "a-new-network", "answers_hash": "new-answers",
        "device_since": since, "burst_since": now - dt.timedelta(minutes=10),
        "staff_since": now - dt.timedelta(minutes=10), "duplicate_since": now - dt.timedelta(hours=1),
    })
    # A few index pages per lookup; scanning the point's responses read 300+ pages per 3,000 rows.
    assert form < 30, form
    assert submission < 60, submission
