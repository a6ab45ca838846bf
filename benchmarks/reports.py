"""Benchmark: the province overview with N synthetic responses in PostgreSQL, cold (empty cache) and warm.

    .venv/bin/python benchmarks/reports.py [--responses 1000000]

Starts a throw-away PostgreSQL server (tests/support/postgres.py), migrates it, loads the catalogue, the
questionnaires and reception points in every commune of Sơn La, bulk-loads the responses with COPY, then
renders GET /reports (admin) through the real app. Targets: warm < 1 s, cold < 5 s. Prints a table.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
import time
import uuid
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from survey_app.app import create_app
from survey_app.config import Settings
from survey_app.models import ReceptionPoint, User
from survey_app.questionnaire import ItemType
from survey_app.security import hash_password
from survey_app.services import catalogue, report_periods
from survey_app.services import points as points_service
from survey_app.services import questionnaires as q_service
from survey_app.services import reports as svc
from tests.conftest import prepare
from tests.support.postgres import start_temp_postgres


def load(url: str, n: int) -> None:
    engine = prepare(url)
    rng = np.random.default_rng(1)
    with Session(engine) as session:
        communes = catalogue.communes_of(session, province_code="14")
        versions = {s: q_service.current_for_sector(session, sector=s) for s in svc.SECTORS}
        for c in communes:
            for s in svc.SECTORS:
                points_service.create_point(session, commune=c, sector=s, name=f"Bench {s} {c.code}")
        session.add(User(username="bench", password_hash=hash_password("bench-password-123"), role="admin",
                         must_change_password=False))
        session.commit()
        points = [(p.id, p.commune_id, p.sector) for p in session.query(ReceptionPoint).all()]
        scale = {s: [i.id for i in q_service.parsed(v).items if i.type == ItemType.scale5] for s, v in versions.items() if v}
    period = report_periods.six_month(2026)
    lo, _ = period.bounds_utc()
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        cols = ("submission_id, questionnaire_version_id, questionnaire_id, questionnaire_version, questionnaire_hash, "
                "reception_point_id, commune_id, sector, mode, language, submitted_at, answers, flagged")
        with cur.copy(f"COPY response ({cols}) FROM STDIN") as copy:  # type: ignore[attr-defined]
            pick = rng.integers(0, len(points), n)
            for k in range(n):
                pid, cid, sector = points[int(pick[k])]
                v = versions[sector]
                assert v is not None
                codes = rng.integers(1, 6, len(scale[sector]))
                answers = json.dumps({item: str(int(c)) for item, c in zip(scale[sector], codes, strict=True)})
                when = lo + dt.timedelta(seconds=int(rng.integers(0, 180 * 86400)))
                copy.write_row((str(uuid.UUID(int=k + 1)), v.id, v.questionnaire_id, v.version, v.content_hash,
                                pid, cid, sector, "qr", "vi", when, answers, False))
        raw.commit()
        cur.execute("ANALYZE response")
        raw.commit()
    finally:
        raw.close()
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--responses", type=int, default=1_000_000)
    args = parser.parse_args()
    server = start_temp_postgres()
    try:
        url = server.create_database("bench_reports")
        t0 = time.perf_counter()
        load(url, args.responses)
        t_load = time.perf_counter() - t0
        settings = Settings(environment="test", secret_key="benchmark-secret-key-0123456789-abcdefgh", database_url=url)
        app = create_app(settings)
        with TestClient(app) as client:
            client.post("/login", data={"username": "bench", "password": "bench-password-123"})
            rows = []
            for label in ("cold", "warm", "warm"):
                if label == "cold":
                    svc.clear_cache()
                t = time.perf_counter()
                r = client.get("/reports?kind=six_month&year=2026")
                rows.append((label, time.perf_counter() - t, r.status_code))
        print(f"responses: {args.responses:,}   load (generate + COPY): {t_load:.1f} s")
        print(f"{'overview':<10}{'seconds':>10}{'status':>8}")
        for label, sec, status in rows:
            print(f"{label:<10}{sec:>10.3f}{status:>8}")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
