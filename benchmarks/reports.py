"""Benchmark: report pages and exports with 1,000,000 and 10,000,000 synthetic responses in PostgreSQL.

    .venv/bin/python benchmarks/reports.py                       # 1M, then grown to 10M
    .venv/bin/python benchmarks/reports.py --sizes 100000         # quick

Starts a throw-away PostgreSQL server (tests/support/postgres.py), migrates it, loads the catalogue, the
questionnaires and four reception points in every commune of Sơn La, then grows the response table to each size
with one server-side ``INSERT … SELECT generate_series`` (answers drawn per item in SQL). At each size, through the
real app (in this process, so its peak RSS is the server's):

- the one-time SQL ``GROUP BY`` that materialises the sufficient statistics of the new responses;
- the province overview cold (empty cache) and warm, the commune table, a sector page, an item drill-down, the
  XLSX estimate table and the PDF report — all from the sums (whole-month period);
- the overview right after 1,000 new responses arrive (incremental refresh + recompute);
- the comparator: the same overview over a custom period (not whole months), which reads every row into
  Python (``COPY`` + numpy) — the path the sums replace;
- at 1M (and sizes below): the raw CSV export streamed, with its peak-memory growth.

Targets (issues 6 and 9): overview < 1 s warm at 10M, < 5 s cold at 1M; raw export of 1M rows < 60 s with flat
memory. Prints a Markdown table; peak RSS is the process's running maximum (phases are ordered light to heavy).
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import resource
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from fastapi.testclient import TestClient
from sqlalchemy import text
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from survey_app.app import create_app
from survey_app.config import Settings
from survey_app.models import User
from survey_app.questionnaire import ItemType
from survey_app.security import hash_password
from survey_app.services import catalogue, report_aggregates, report_frames, report_periods, report_settings, report_stats
from survey_app.services import points as points_service
from survey_app.services import questionnaires as q_service
from tests.conftest import prepare
from tests.support.postgres import start_temp_postgres

PERIOD = report_periods.six_month(2026)


def setup(url: str) -> Engine:
    engine = prepare(url)
    with Session(engine) as session:
        communes = catalogue.communes_of(session, province_code="14")
        for c in communes:
            for s in report_settings.SECTORS:
                points_service.create_point(session, commune=c, sector=s, name=f"Bench {s} {c.code}")
        session.add(User(username="bench", password_hash=hash_password("bench-password-123"), role="admin",
                         must_change_password=False))
        session.commit()
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE bench_items (sector text PRIMARY KEY, items text[])"))
            for s in report_settings.SECTORS:
                v = q_service.current_for_sector(session, sector=s)
                assert v is not None
                items = [i.id for i in q_service.parsed(v).items if i.type == ItemType.scale5]
                conn.execute(text("INSERT INTO bench_items VALUES (:s, :i)"), {"s": s, "i": items})
    return engine


def grow(engine: Engine, first: int, last: int) -> None:
    """Responses numbered first..last (inclusive), spread over the period's 182 days and every point."""
    lo, _ = PERIOD.bounds_utc()
    sql = text("""
        WITH pts AS (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, commune_id, sector FROM reception_point),
             np AS (SELECT count(*) AS n FROM pts)
        INSERT INTO response (submission_id, questionnaire_version_id, questionnaire_id, questionnaire_version,
                              questionnaire_hash, reception_point_id, commune_id, sector, mode, language,
                              submitted_at, answers, flagged)
        SELECT md5('bench' || g)::uuid::text, v.id, v.questionnaire_id, v.version, v.content_hash, p.id,
               p.commune_id, p.sector, 'qr', 'vi', :lo + (g % 15724800) * interval '1 second',
               (SELECT json_object_agg(item, (1 + floor(random() * 5))::int::text) FROM unnest(b.items) AS item
                WHERE g IS NOT NULL),
               false
        FROM generate_series(CAST(:a AS bigint), CAST(:b AS bigint)) AS g
        CROSS JOIN np
        JOIN pts p ON p.k = (g * 7919) % np.n
        JOIN questionnaire_version v ON v.sector = p.sector AND v.is_current
        JOIN bench_items b ON b.sector = p.sector
    """)
    step = 1_000_000
    for a in range(first, last + 1, step):
        with engine.begin() as conn:
            conn.execute(sql, {"lo": lo, "a": a, "b": min(a + step - 1, last)})
    with engine.connect() as conn:
        conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE response"))


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def rss_mb() -> float:
    with open(f"/proc/{os.getpid()}/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE") / 2**20


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.perf_counter()
    out = fn()
    return time.perf_counter() - t, out


class Rows(list[tuple[str, str, str]]):
    """Printed as they are measured (a long run keeps what it measured if it stops early)."""

    def __init__(self, size: int) -> None:
        super().__init__()
        self.size = size

    def append(self, row: tuple[str, str, str]) -> None:
        super().append(row)
        print(f"| {self.size:,} | {row[0]} | {row[1]} | {row[2]} |", flush=True)


def measure(client: TestClient, engine: Engine, size: int, *, raw_export: bool, row_path: bool) -> list[tuple[str, str, str]]:
    rows = Rows(size)
    q = "kind=six_month&year=2026"

    def get(path: str, label: str, *, cold: bool = False, target: str = "") -> None:
        if cold:
            report_aggregates.clear_cache()
        sec, r = timed(lambda: client.get(path))
        assert r.status_code == 200, (path, r.status_code, r.text[:300])
        rows.append((label, f"{sec:.3f} s", f"{target} · peak RSS {peak_mb():,.0f} MB".strip(" ·")))

    with Session(engine) as session:
        sec, added = timed(lambda: (report_stats.refresh(session, report_frames.sector_items(session)), session.commit())[0])
        cells = session.execute(text("SELECT count(*) FROM report_cell")).scalar()
        stats = session.execute(text("SELECT count(*) FROM report_cell_stat")).scalar()
    rows.append((f"SQL GROUP BY of the {added:,} new responses into sufficient statistics (one-time)",
                 f"{sec:.1f} s", f"{cells:,} cells, {stats:,} sums"))
    get(f"/reports?{q}", "overview, cold (empty cache; from the sums)", cold=True, target="target < 5 s at 1M")
    get(f"/reports?{q}", "overview, warm", target="target < 1 s")
    get(f"/reports?{q}", "overview, warm (again)", target="target < 1 s")
    get(f"/reports/communes?{q}", "commune × sector table (heat map)")
    get(f"/reports/sectors/health?{q}", "health sector page (points, elements, items)")
    get(f"/reports/export/tables/communes.xlsx?{q}", "XLSX estimate table (communes)")
    get(f"/reports/export/report.pdf?{q}", "PDF report (province)")
    with Session(engine) as session:
        grow(engine, size + 1, size + 1000)
        session.commit()
    get(f"/reports?{q}", "overview after 1,000 new responses (incremental refresh + recompute)")
    if raw_export:
        before = rss_mb()
        t = time.perf_counter()
        total = 0
        with client.stream("GET", f"/reports/export/responses.csv?{q}") as r:
            assert r.status_code == 200
            for chunk in r.iter_bytes():
                total += len(chunk)
        sec = time.perf_counter() - t
        rows.append((f"raw responses CSV, streamed ({total / 2**20:,.0f} MB)", f"{sec:.1f} s",
                     f"target < 60 s; RSS {before:,.0f} → {rss_mb():,.0f} MB"))
    if row_path:
        start, end = PERIOD.start + dt.timedelta(days=1), PERIOD.end
        get(f"/reports?kind=custom&start={start}&end={end}",
            "comparator: overview over rows (custom period: COPY every row into Python)", cold=True)
    return rows


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", type=lambda s: [int(x) for x in s.split(",")], default=[1_000_000, 10_000_000])
    parser.add_argument("--rows", type=int, help="a single size (alias used by run_all --quick)")
    parser.add_argument("--no-row-path", action="store_true", help="skip the row-path comparator")
    args = parser.parse_args()
    sizes = [args.rows] if args.rows else args.sizes
    server = start_temp_postgres()
    try:
        url = server.create_database("bench_reports")
        engine = setup(url)
        settings = Settings(environment="test", secret_key="benchmark-secret-key-0123456789-abcdefgh", database_url=url)
        app = create_app(settings)
        loaded = 0
        print("| responses | what | time | notes |")
        print("|---|---|---|---|", flush=True)
        with TestClient(app) as client:
            client.post("/login", data={"username": "bench", "password": "bench-password-123"})
            for size in sizes:
                sec, _ = timed(lambda size=size, first=loaded + 1: grow(engine, first, size))
                print(f"| {size:,} | insert {size - loaded:,} responses (server-side INSERT … SELECT) + VACUUM ANALYZE "
                      f"| {sec:.0f} s | |", flush=True)
                measure(client, engine, size, raw_export=size <= 1_000_000, row_path=not args.no_row_path)
                loaded = size + 1000
    finally:
        server.stop()


if __name__ == "__main__":
    main()
