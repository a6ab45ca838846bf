"""Sufficient statistics of the reports, computed next to the data with SQL ``GROUP BY`` and kept up to date
incrementally (tables in models/report_stats.py).

Why: a linearised domain estimate (Hájek mean, SIPAS index, answer distribution) of an uncalibrated design
depends on the responses only through sums per PSU × domain; with strata = communes and PSUs = reception points
(or fieldwork PSUs), those are sums per *cell* (month × commune × sector × mode × point × stratum × PSU ×
flagged). So a report over millions of responses reads a few thousand sums, never the raw rows; and the same
SQL runs unchanged on a distributed PostgreSQL (Citus) if one server is ever not enough.

How it stays exact:
- a database trigger queues every new response in ``report_pending`` (any insert path, even COPY);
  :func:`refresh` moves queued responses into the sums in batches and dequeues them in the same transaction
  (PostgreSQL: the queue rows are locked ``FOR UPDATE`` and refreshers are serialised by an advisory lock;
  SQLite: one writer at a time);
- a change of ``flagged`` after aggregation first subtracts the response's old contributions and queues it
  again (a ``before_flush`` hook, so every code path that flags or clears a response is covered);
- the element stats use the current questionnaires' SIPAS elements; publishing a version with other items
  changes the catalogue signature and the next refresh rebuilds the sums.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pandas as pd
from sqlalchemy import CursorResult, delete, event, func, insert, inspect, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from ..db import begin_write
from ..models import Commune, ReportCell, ReportCellStat, ReportPending, ReportStatState, Response
from .report_frames import SectorItems, sector_items  # the catalogue the element stats are built with

VALID = ("1", "2", "3", "4", "5")
STAT_ALL = "*"
STAT_WEIGHTED = "dw"
BATCH = 250_000
LOCK_KEY = 0x5E_57A7  # PostgreSQL advisory lock serialising refreshers
KEY_COLUMNS = ("month", "commune_id", "sector", "mode", "point_id", "stratum", "psu", "flagged")


def answer_stat(item: str, value: str) -> str:
    return f"a:{item}={value}"


def members(catalogue: Mapping[str, SectorItems]) -> list[tuple[str, str, str]]:
    """(sector, stat, item): ``a`` = an item whose answers are counted; ``e:<element>`` = the item belongs to
    the element (``e:@index`` = any scale item of the sector: the SIPAS index's respondents)."""
    rows: set[tuple[str, str, str]] = set()
    for sector, c in catalogue.items():
        if c.overall:
            rows.add((sector, "a", c.overall))
        for it in c.items:
            rows.add((sector, "a", it.id))
            rows.add((sector, "e:@index", it.id))
            if it.element:
                rows.add((sector, f"e:{it.element}", it.id))
    return sorted(rows)


def signature(catalogue: Mapping[str, SectorItems]) -> str:
    return hashlib.sha256(repr(members(catalogue)).encode()).hexdigest()


def _state(session: Session) -> ReportStatState:
    state = session.get(ReportStatState, 1)
    if state is None:
        state = ReportStatState(id=1, version=0, signature="")
        session.add(state)
        session.flush()
    return state


def version(session: Session) -> int:
    state = session.get(ReportStatState, 1)
    return 0 if state is None else int(state.version)


def pending(session: Session) -> bool:
    """Whether some response is not yet in the sums (an index-only probe of the partial index)."""
    # By the primary key: after a large refresh the table is all dead rows until vacuumed, which a plain
    # LIMIT 1 would scan (measured: 18 ms at 200k, seconds at 10M).
    return session.scalar(select(ReportPending.response_id).order_by(ReportPending.response_id).limit(1)) is not None


# ---------------------------------------------------------------------------------------------- SQL
def _dialect(session: Session) -> str:
    return session.get_bind().dialect.name


def _sql(session: Session) -> dict[str, str]:
    if _dialect(session) == "postgresql":
        return {
            "month": "(date_trunc('month', (r.submitted_at AT TIME ZONE 'UTC') + interval '7 hours'))::date",
            "lock": " FOR UPDATE",
            "each": ("CROSS JOIN LATERAL json_each_text(CASE WHEN json_typeof(b.answers) = 'object' "
                     "THEN b.answers ELSE '{}'::json END) AS j(key, value)"),
            "value": "j.value",
            "ok": "true",
            "json": "json",
        }
    return {
        "month": "date(r.submitted_at, '+7 hours', 'start of month')",
        "lock": "",
        "each": "JOIN json_each(b.answers) AS j ON json_type(b.answers) = 'object'",
        "value": "CAST(j.value AS TEXT)",
        "ok": "j.type IN ('text', 'integer')",
        "json": "text",
    }


# The SQL below is assembled from this module's constants only; every value is a bound parameter.
_UPSERT = (" ON CONFLICT (cell_id, stat) DO UPDATE SET n = report_cell_stat.n + excluded.n, "
           "w = report_cell_stat.w + excluded.w")
_CELL_JOIN = " AND ".join(f"c.{k} = b.{k}" for k in KEY_COLUMNS)
_WORK_TABLES = ("stat_batch", "stat_answer", "stat_resp", "stat_item")


def item_bits(catalogue: Mapping[str, SectorItems]) -> tuple[list[str], dict[tuple[str, str], int]]:
    """The element stats (``e:…``) in a fixed order, and per (sector, item) a bit mask of the elements the item
    belongs to: a response answered an element if the OR of its answered items' masks has the element's bit."""
    rows = members(catalogue)
    elements = sorted({stat for _, stat, _ in rows if stat != "a"})
    bits: dict[tuple[str, str], int] = {}
    for sector, stat, item in rows:
        bits.setdefault((sector, item), 0)
        if stat != "a":
            bits[(sector, item)] |= 1 << elements.index(stat)
    return elements, bits


def _create_work_tables(session: Session, q: Mapping[str, str], catalogue: Mapping[str, SectorItems]) -> list[str]:
    _drop_work_tables(session)
    elements, bits = item_bits(catalogue)
    flags = ", ".join(f"b{k} integer" for k in range(len(elements)))
    session.execute(text(
        "CREATE TEMP TABLE stat_batch (id bigint PRIMARY KEY, month date, commune_id integer, sector varchar(30), "
        "mode varchar(12), point_id integer, stratum varchar(60), psu varchar(60), flagged boolean, "
        f"dw double precision, answers {q['json']}, cell_id integer)"))
    session.execute(text("CREATE TEMP TABLE stat_answer (id bigint, cell_id integer, item varchar(40), "
                         "value varchar(20), dw double precision, bits integer)"))
    session.execute(text("CREATE TEMP TABLE stat_resp (id bigint, cell_id integer, dw double precision"
                         + (f", {flags}" if flags else "") + ")"))
    session.execute(text("CREATE TEMP TABLE stat_item (sector varchar(30), item varchar(40), bits integer, "
                         "PRIMARY KEY (sector, item))"))
    rows = [{"s": s, "i": i, "b": b} for (s, i), b in bits.items()]
    if rows:
        session.execute(text("INSERT INTO stat_item (sector, item, bits) VALUES (:s, :i, :b)"), rows)
    _analyze(session, "stat_item")
    return elements


def _drop_work_tables(session: Session) -> None:
    for name in _WORK_TABLES:
        session.execute(text(f"DROP TABLE IF EXISTS {name}"))


def _analyze(session: Session, table: str) -> None:
    """Temporary tables have no statistics until analysed; without them PostgreSQL picks nested loops."""
    if _dialect(session) == "postgresql":
        session.execute(text(f"ANALYZE {table}"))


def _aggregate_batch(session: Session, q: Mapping[str, str], elements: Sequence[str]) -> None:
    """Add the rows of ``stat_batch`` to the sums: cells first, then each kind of stat with one GROUP BY."""
    keys = ", ".join(KEY_COLUMNS)
    session.execute(text(
        f"INSERT INTO report_cell ({keys}) SELECT DISTINCT {keys} FROM stat_batch b WHERE true "
        f"ON CONFLICT ({keys}) DO NOTHING"))
    session.execute(text(f"UPDATE stat_batch AS b SET cell_id = c.id FROM report_cell c WHERE {_CELL_JOIN}"))
    session.execute(text(
        f"INSERT INTO report_cell_stat (cell_id, stat, n, w) SELECT cell_id, '{STAT_ALL}', count(*), "
        "coalesce(sum(dw), 0) FROM stat_batch GROUP BY cell_id" + _UPSERT))
    session.execute(text(
        f"INSERT INTO report_cell_stat (cell_id, stat, n, w) SELECT cell_id, '{STAT_WEIGHTED}', count(*), sum(dw) "
        "FROM stat_batch WHERE dw IS NOT NULL GROUP BY cell_id" + _UPSERT))
    # One pass over the JSON: every valid answer to a catalogue item (the only JSON parsing).
    session.execute(text("DELETE FROM stat_answer"))
    session.execute(text(
        f"INSERT INTO stat_answer (id, cell_id, item, value, dw, bits) SELECT b.id, b.cell_id, j.key, {q['value']}, "
        f"b.dw, i.bits FROM stat_batch b {q['each']} JOIN stat_item i ON i.sector = b.sector AND i.item = j.key "
        f"WHERE {q['ok']} AND {q['value']} IN ('1', '2', '3', '4', '5')"))
    _analyze(session, "stat_answer")
    session.execute(text(
        "INSERT INTO report_cell_stat (cell_id, stat, n, w) SELECT cell_id, 'a:' || item || '=' || value, "
        "count(*), coalesce(sum(dw), 0) FROM stat_answer GROUP BY cell_id, item, value" + _UPSERT))
    if not elements:
        return
    # Per response: which elements it answered (bit k of any answered item's mask); then per cell and element.
    session.execute(text("DELETE FROM stat_resp"))
    flags = ", ".join(f"b{k}" for k in range(len(elements)))
    maxes = ", ".join(f"max(bits & {1 << k})" for k in range(len(elements)))
    session.execute(text(f"INSERT INTO stat_resp (id, cell_id, dw, {flags}) SELECT id, cell_id, max(dw), {maxes} "
                         "FROM stat_answer GROUP BY id, cell_id"))
    for k, stat in enumerate(elements):
        session.execute(text(
            "INSERT INTO report_cell_stat (cell_id, stat, n, w) SELECT cell_id, :stat, count(*), coalesce(sum(dw), 0) "
            f"FROM stat_resp WHERE b{k} > 0 GROUP BY cell_id" + _UPSERT), {"stat": stat})


TIDY_AFTER = 50_000  # responses added by one refresh; the probe took 1.96 s after 10M, 0.3 s after 2M


def tidy_queue(engine: Engine) -> None:
    """VACUUM the queue after a large refresh, so that the next "anything pending?" probe does not walk the dead
    index entries of every dequeued row (308 ms after 2M rows until autovacuum came by: docs/scale.md).
    PostgreSQL only (SQLite has no dead entries to skip); VACUUM cannot run inside a transaction."""
    if engine.dialect.name != "postgresql":
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM (ANALYZE) report_pending"))


def refresh(session: Session, catalogue: Mapping[str, SectorItems], *, batch: int = BATCH) -> int:
    """Move every queued response into the sums (rebuilding them first if the catalogue changed); returns the
    number of responses added. Runs in the caller's transaction; the caller commits."""
    q = _sql(session)
    if _dialect(session) == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": LOCK_KEY})
    state = _state(session)
    sig = signature(catalogue)
    if state.signature != sig:
        session.execute(delete(ReportCellStat))
        session.execute(delete(ReportCell))
        # NOT EXISTS plans as an anti-join (NOT IN with a large subquery is quadratic in PostgreSQL).
        session.execute(text("INSERT INTO report_pending (response_id) SELECT r.id FROM response r WHERE NOT EXISTS "
                             "(SELECT 1 FROM report_pending p WHERE p.response_id = r.id)"))
        state.signature = sig
        state.version += 1
    elements = _create_work_tables(session, q, catalogue)
    added = 0
    try:
        while True:
            session.execute(text("DELETE FROM stat_batch"))
            result: CursorResult[Any] = session.execute(text(  # type: ignore[assignment]
                "INSERT INTO stat_batch (id, month, commune_id, sector, mode, point_id, stratum, psu, flagged, dw, "
                f"answers) SELECT r.id, {q['month']}, r.commune_id, r.sector, r.mode, "
                "coalesce(r.reception_point_id, 0), coalesce(r.stratum, ''), coalesce(r.psu, ''), r.flagged, "
                "r.design_weight, r.answers FROM response r JOIN (SELECT response_id FROM report_pending "
                f"ORDER BY response_id LIMIT :lim{q['lock']}) AS p ON p.response_id = r.id"), {"lim": batch})
            got = result.rowcount
            if not got:
                break
            session.execute(text("DELETE FROM report_pending WHERE response_id IN (SELECT id FROM stat_batch)"))
            _analyze(session, "stat_batch")
            _aggregate_batch(session, q, elements)
            added += got
    finally:
        _drop_work_tables(session)
    if added:
        state.version += 1
        state.updated_at = dt.datetime.now(dt.UTC)
    session.flush()
    return added


def ensure_fresh(session: Session, catalogue: Mapping[str, SectorItems]) -> None:
    """Bring the sums up to date before a report reads them, committed at once like a cache fill (a report
    request otherwise only reads). A session holding unsaved changes is left alone: the caller's transaction
    decides, and the next report request catches up."""
    state = session.get(ReportStatState, 1)
    if state is not None and state.signature == signature(catalogue) and not pending(session):
        return
    if session.new or session.dirty or session.deleted:
        return
    session.commit()  # end the read transaction so SQLite can take the write lock up front
    begin_write(session)
    added = refresh(session, catalogue)
    session.commit()
    bind = session.get_bind()
    if added >= TIDY_AFTER and isinstance(bind, Engine):
        tidy_queue(bind)  # else every later report pays for the dead queue entries until autovacuum


# ---------------------------------------------------------------------------------------------- retraction
# The columns the sums are keyed or counted by (as the refresh reads them).
WATCHED = ("submitted_at", "commune_id", "sector", "mode", "reception_point_id", "stratum", "psu", "flagged",
           "design_weight", "answers")

def response_stats(response: Mapping[str, Any], member_rows: Iterable[tuple[str, str, str]]) -> Counter[str]:
    """The stats one response contributes (counts), as the SQL computes them; used to subtract a response."""
    answers = response.get("answers")
    answers = answers if isinstance(answers, dict) else {}
    sector = response["sector"]
    valid = {k for k, v in answers.items() if not isinstance(v, bool) and str(v) in VALID}
    out: Counter[str] = Counter({STAT_ALL: 1})
    if response.get("design_weight") is not None:
        out[STAT_WEIGHTED] = 1
    for s, stat, item in member_rows:
        if s != sector or item not in valid:
            continue
        if stat == "a":
            out[answer_stat(item, str(answers[item]))] = 1
        else:
            out[stat] = 1
    return out


def _month(at: dt.datetime) -> dt.date:
    local = at.astimezone(dt.UTC).replace(tzinfo=None) + dt.timedelta(hours=7)
    return local.date().replace(day=1)


def retract(session: Session, responses: Sequence[Mapping[str, Any]], member_rows: Sequence[tuple[str, str, str]]) -> None:
    """Subtract the contributions of aggregated responses (given with their state *as aggregated*)."""
    for r in responses:
        key = {"month": _month(r["submitted_at"]), "commune_id": r["commune_id"], "sector": r["sector"],
               "mode": r["mode"], "point_id": r["reception_point_id"] or 0, "stratum": r["stratum"] or "",
               "psu": r["psu"] or "", "flagged": bool(r["flagged"])}
        cell_id = session.connection().scalar(select(ReportCell.id).filter_by(**key))
        if cell_id is None:
            continue
        dw = float(r["design_weight"]) if r.get("design_weight") is not None else 0.0
        for stat, count in response_stats(r, member_rows).items():
            session.connection().execute(
                update(ReportCellStat)
                .where(ReportCellStat.cell_id == cell_id, ReportCellStat.stat == stat)
                .values(n=ReportCellStat.n - count, w=ReportCellStat.w - dw * count))


@event.listens_for(Session, "before_flush")
def _retract_reflagged(session: Session, flush_context: Any, instances: Any) -> None:
    """A response changed after aggregation (flagged or cleared, or any value the sums are keyed or counted by)
    leaves the sums under its old state, read from the database, and becomes pending."""
    changed = []
    for obj in session.dirty:
        if not isinstance(obj, Response):
            continue
        attrs = inspect(obj).attrs
        if not any(attrs[name].history.has_changes() for name in WATCHED if name in attrs):
            continue
        # Queued means not in the sums. Lock the queue row: a concurrent refresh may be aggregating this very
        # response; after it commits the row is gone and the response counts as aggregated (PostgreSQL).
        queued = session.connection().execute(
            select(ReportPending.response_id).where(ReportPending.response_id == obj.id).with_for_update()
        ).one_or_none()
        if queued is not None:
            continue
        row = session.connection().execute(
            select(*(getattr(Response, name) for name in WATCHED)).where(Response.id == obj.id)
        ).one_or_none()
        if row is not None:
            changed.append((dict(zip(WATCHED, row, strict=True)), obj))
    if not changed:
        return
    state = session.get(ReportStatState, 1)
    catalogue = sector_items(session)
    if state is None or state.signature != signature(catalogue):
        return  # the next refresh rebuilds everything anyway
    retract(session, [c for c, _ in changed], members(catalogue))
    for _, obj in changed:
        session.connection().execute(insert(ReportPending).values(response_id=obj.id))
    state.version += 1


# ---------------------------------------------------------------------------------------------- reading
def read(
    session: Session, *, months: tuple[dt.date, dt.date], modes: Sequence[str], include_flagged: bool,
    province_id: int,
) -> pd.DataFrame:
    """Sums per cell (months merged) and stat, for months in [first, last): one SQL GROUP BY. Columns: commune_id,
    sector, mode, point_id, stratum, psu, stat, n, w."""
    c, s = ReportCell, ReportCellStat
    keys = (c.commune_id, c.sector, c.mode, c.point_id, c.stratum, c.psu)
    conds = [c.month >= months[0], c.month < months[1], c.mode.in_(list(modes)), Commune.province_id == province_id]
    if not include_flagged:
        conds.append(c.flagged.is_(False))
    stmt = (select(*keys, s.stat, func.sum(s.n), func.sum(s.w)).join(s, s.cell_id == c.id)
            .join(Commune, Commune.id == c.commune_id).where(*conds).group_by(*keys, s.stat))
    rows = session.execute(stmt).all()
    frame = pd.DataFrame(rows, columns=["commune_id", "sector", "mode", "point_id", "stratum", "psu", "stat", "n", "w"])
    frame["n"] = frame["n"].astype("int64")
    frame["w"] = frame["w"].astype("float64")
    return frame
