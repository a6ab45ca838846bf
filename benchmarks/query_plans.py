"""Query plans at scale, and whether partitioning ``response`` by month helps.

    .venv/bin/python benchmarks/query_plans.py --rows 10000000

Loads N synthetic responses spread over 24 months into a throw-away PostgreSQL (same generator as
benchmarks/reports.py), builds the report sums, then prints ``EXPLAIN (ANALYZE, BUFFERS)`` summaries of the
queries the application runs on large tables — each with the index it uses and its time — and a partitioning
study: the same period queries on a copy of ``response`` partitioned by month (declarative range partitions).
Prints Markdown.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from sqlalchemy import text
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session
from sqlalchemy.sql import ClauseElement

from benchmarks.reports import setup
from survey_app.services import intake, report_frames, report_periods, report_settings, report_stats
from survey_app.services import reports as svc
from tests.support.postgres import start_temp_postgres

START = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
SECONDS = 730 * 86400  # two years


def md5(value: str) -> str:
    return hashlib.md5(value.encode()).hexdigest()  # the generator's md5('d' || k) keys, made in Python


def grow(conn: Connection, first: int, last: int) -> None:
    conn.execute(text("""
        WITH pts AS (SELECT row_number() OVER (ORDER BY id) - 1 AS k, id, commune_id, sector FROM reception_point),
             np AS (SELECT count(*) AS n FROM pts)
        INSERT INTO response (submission_id, questionnaire_version_id, questionnaire_id, questionnaire_version,
                              questionnaire_hash, reception_point_id, commune_id, sector, mode, language,
                              submitted_at, answers, flagged, device_hash, network_hash)
        SELECT md5('plan' || g)::uuid::text, v.id, v.questionnaire_id, v.version, v.content_hash, p.id,
               p.commune_id, p.sector, 'qr', 'vi', :lo + ((g * 104729) % :secs) * interval '1 second',
               (SELECT json_object_agg(item, (1 + floor(random() * 5))::int::text) FROM unnest(b.items) AS item
                WHERE g IS NOT NULL),
               (g % 997) = 0, md5('d' || (g % 200000)), md5('n' || (g % 50000))
        FROM generate_series(CAST(:a AS bigint), CAST(:b AS bigint)) AS g
        CROSS JOIN np
        JOIN pts p ON p.k = (g * 7919) % np.n
        JOIN questionnaire_version v ON v.sector = p.sector AND v.is_current
        JOIN bench_items b ON b.sector = p.sector
    """), {"lo": START, "secs": SECONDS, "a": first, "b": last})


def explain(conn: Connection, sql: str, params: dict[str, object]) -> tuple[float, str]:
    return summarise(conn.execute(text("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + sql), params).scalar())


def explain_statement(conn: Connection, statement: ClauseElement, values: dict[str, object]) -> tuple[float, str]:
    """The application's own statement object (built once in its module), compiled for PostgreSQL."""
    compiled = statement.compile(dialect=conn.dialect, compile_kwargs={"render_postcompile": True})
    params = {**compiled.params, **values}
    return summarise(conn.exec_driver_sql("EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) " + str(compiled), params).scalar())


def summarise(plan: object) -> tuple[float, str]:
    root = (plan if isinstance(plan, list) else json.loads(str(plan)))[0]
    nodes: list[str] = []

    def walk(node: dict[str, object]) -> None:
        label = str(node["Node Type"])
        if "Index Name" in node:
            label += f" {node['Index Name']}"
        elif "Relation Name" in node:
            label += f" {node['Relation Name']}"
        nodes.append(label)
        for child in node.get("Plans", []):  # type: ignore[union-attr]
            walk(child)  # type: ignore[arg-type]

    walk(root["Plan"])
    return float(root["Execution Time"]) / 1000, " → ".join(dict.fromkeys(nodes))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=10_000_000)
    args = parser.parse_args()
    server = start_temp_postgres()
    try:
        url = server.create_database("bench_plans")
        engine = setup(url)
        t = time.perf_counter()
        step = 1_000_000
        for a in range(1, args.rows + 1, step):
            with engine.begin() as conn:
                grow(conn, a, min(a + step - 1, args.rows))
        with engine.begin() as conn:  # one response in 20 carries a comment (the generator writes none)
            conn.execute(text("INSERT INTO comment (response_id, item_id, text) SELECT id, 'comment', "
                              "'Góp ý số ' || id FROM response WHERE id % 20 = 0"))
        with engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE response, comment"))
        load = time.perf_counter() - t
        t = time.perf_counter()
        with Session(engine) as session:
            report_stats.refresh(session, report_frames.sector_items(session))
            session.commit()
        build = time.perf_counter() - t
        period = report_periods.six_month(2026)
        lo, hi = period.bounds_utc()
        with engine.connect() as conn:
            size = conn.execute(text("SELECT pg_size_pretty(pg_total_relation_size('response')), "
                                     "pg_size_pretty(pg_total_relation_size('report_cell_stat'))")).one()
            print(f"{args.rows:,} responses over 24 months: load {load:.0f} s; sums built in {build:.0f} s; "
                  f"response table + indexes {size[0]}, sums {size[1]}\n")
            queries = [
                ("report: sums of a six-month period (province)",
                 "SELECT c.commune_id, c.sector, c.mode, c.point_id, c.stratum, c.psu, s.stat, sum(s.n), sum(s.w) "
                 "FROM report_cell c JOIN report_cell_stat s ON s.cell_id = c.id JOIN commune co ON co.id = c.commune_id "
                 "WHERE c.month >= :m0 AND c.month < :m1 AND co.province_id = (SELECT province_id FROM commune LIMIT 1) "
                 "AND NOT c.flagged GROUP BY 1, 2, 3, 4, 5, 6, 7", {"m0": period.start, "m1": period.end + dt.timedelta(days=1)}),
                ("report: anything pending? (every report request)",
                 "SELECT response_id FROM report_pending ORDER BY response_id LIMIT 1", {}),
                ("raw export: one period's responses (server-side cursor, as report_exports orders them)",
                 "SELECT id, submitted_at, commune_id, sector, answers FROM response WHERE submitted_at >= :lo "
                 "AND submitted_at < :hi ORDER BY submitted_at, id", {"lo": lo, "hi": hi}),
                ("the same in id order (before ix_response_submitted_id)",
                 "SELECT id, submitted_at, commune_id, sector, answers FROM response WHERE submitted_at >= :lo "
                 "AND submitted_at < :hi ORDER BY id", {"lo": lo, "hi": hi}),
                ("raw export, one commune (commune officer)",
                 "SELECT id FROM response WHERE commune_id = (SELECT min(commune_id) FROM response) AND sector = 'health' "
                 "AND submitted_at >= :lo AND submitted_at < :hi", {"lo": lo, "hi": hi}),
                ("abuse detector: same device in the last 10 minutes",
                 "SELECT count(*) FROM response WHERE device_hash = md5('d1') AND submitted_at > :hi - interval '10 minutes'",
                 {"hi": hi}),
                ("abuse detector: same network at a point in the last 10 minutes",
                 "SELECT count(*) FROM response WHERE network_hash = md5('n1') AND reception_point_id = "
                 "(SELECT min(id) FROM reception_point) AND submitted_at > :hi - interval '10 minutes'", {"hi": hi}),
                ("duplicate submission check (UNIQUE submission_id)",
                 "SELECT id FROM response WHERE submission_id = md5('plan12345')::uuid::text", {}),
                ("flag review list, keyset page",
                 "SELECT id FROM response_flag WHERE status = 'open' AND id < 2147483647 ORDER BY id DESC LIMIT 50", {}),
                ("a report over rows (the comparator path): period scan",
                 "SELECT count(*) FROM response WHERE submitted_at >= :lo AND submitted_at < :hi AND mode = 'qr' "
                 "AND flagged = false", {"lo": lo, "hi": hi}),
            ]
            print("| query | time | plan (nodes, indexes) |")
            print("|---|---|---|")
            for label, sql, params in queries:
                sec, plan = explain(conn, sql, params)
                print(f"| {label} | {sec * 1000:,.1f} ms | {plan} |")
            conn.commit()
            report_stats.tidy_queue(engine)  # as `survey-app reports refresh` and a large inline refresh do
            sec, plan = explain(conn, "SELECT response_id FROM report_pending ORDER BY response_id LIMIT 1", {})
            print(f"| the same probe after VACUUM of the queue (report_stats.tidy_queue) | {sec * 1000:,.1f} ms | {plan} |")
            # The citizen's two requests, as services/intake.py builds them.
            token, version_id = conn.execute(text(
                "SELECT p.token, v.id FROM reception_point p JOIN questionnaire_version v ON v.sector = p.sector "
                "AND v.is_current ORDER BY p.id LIMIT 1")).one()
            at = hi - dt.timedelta(minutes=1)
            hashes = {"device_hash": md5("d1"), "network_hash": md5("n1"), "answers_hash": md5("a1")}
            for label, statement, values in (
                ("citizen form: point, current version, device answered here lately (one statement)",
                 intake.FORM_VIEW_STATEMENT, {"token": token, "device_hash": hashes["device_hash"],
                                     "device_since": at - dt.timedelta(hours=12)}),
                ("citizen submission: point, version, stored id, device, network and group counts (one statement)",
                 intake.PREFLIGHT_STATEMENT, {**hashes, "token": token, "version_id": version_id,
                                     "submission_id": "00000000-0000-4000-8000-000000000000",
                                     "device_since": at - dt.timedelta(hours=12),
                                     "burst_since": at - dt.timedelta(minutes=10),
                                     "staff_since": at - dt.timedelta(minutes=15),
                                     "duplicate_since": at - dt.timedelta(minutes=60)}),
            ):
                sec, plan = explain_statement(conn, statement, values)
                print(f"| {label} | {sec * 1000:,.1f} ms | {plan} |")
            # The report's comment list (newest first, 200 a page), province-wide and for one commune's officer.
            busiest = conn.execute(text("SELECT commune_id FROM response GROUP BY 1 ORDER BY count(*) DESC LIMIT 1")).scalar()
            settings = report_settings.ReportSettings()
            for label, communes in (("report comments, one sector, province (first page)", None),
                                    ("report comments, one sector, one commune (first page)", frozenset({busiest}))):
                statement = svc.comments_statement(period=period, settings=settings, sector="health",
                                                   commune_ids=communes, limit=200, before=None)
                sec, plan = explain_statement(conn, statement, {})
                print(f"| {label} | {sec * 1000:,.1f} ms | {plan} |")
            # Partitioning study: a copy of the table partitioned by month.
            conn.execute(text("CREATE TABLE response_part (LIKE response INCLUDING DEFAULTS) PARTITION BY RANGE (submitted_at)"))
            month = dt.date(2024, 12, 1)
            while month < dt.date(2027, 2, 1):
                nxt = (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)
                conn.execute(text(f"CREATE TABLE response_p{month:%Y%m} PARTITION OF response_part FOR VALUES FROM "
                                  f"('{month}') TO ('{nxt}')"))
                month = nxt
            t = time.perf_counter()
            conn.execute(text("INSERT INTO response_part SELECT * FROM response"))
            conn.execute(text("CREATE INDEX ON response_part (commune_id, sector, submitted_at)"))
            conn.execute(text("CREATE INDEX ON response_part (id)"))
            conn.commit()
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("ANALYZE response_part"))
            copy_sec = time.perf_counter() - t
            print(f"\nPartitioning study (copy into 26 monthly partitions: {copy_sec:.0f} s)\n")
            print("| query | plain table | partitioned by month |")
            print("|---|---|---|")
            study = [
                ("count one six-month period", "SELECT count(*) FROM {t} WHERE submitted_at >= :lo AND submitted_at < :hi"),
                ("one period, one commune × sector",
                 "SELECT count(*) FROM {t} WHERE commune_id = (SELECT min(commune_id) FROM response) AND sector = 'health' "
                 "AND submitted_at >= :lo AND submitted_at < :hi"),
                ("one response by id", "SELECT answers FROM {t} WHERE id = 4242"),
            ]
            for label, sql in study:
                a, _ = explain(conn, sql.format(t="response"), {"lo": lo, "hi": hi})
                b, plan = explain(conn, sql.format(t="response_part"), {"lo": lo, "hi": hi})
                print(f"| {label} | {a * 1000:,.1f} ms | {b * 1000:,.1f} ms ({plan[:80]}) |")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
