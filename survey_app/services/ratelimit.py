"""Sliding-window counters in the database, so every web worker sees the same counts."""

from __future__ import annotations

import datetime as dt
from typing import cast

from sqlalchemy import Table, delete, func, insert, select
from sqlalchemy.orm import Session

from ..models import RateEvent, utcnow


def hit(session: Session, *, kind: str, key: str, now: dt.datetime | None = None) -> None:
    session.execute(_HIT, {"kind": kind, "key": key, "at": now or utcnow()})


_HIT = insert(cast(Table, RateEvent.__table__))  # Core: the ORM bulk path costs more than the row


def count(session: Session, *, kind: str, key: str, window: dt.timedelta, now: dt.datetime | None = None) -> int:
    since = (now or utcnow()) - window
    return session.scalar(
        select(func.count()).where(RateEvent.kind == kind, RateEvent.key == key, RateEvent.at >= since)
    ) or 0


def oldest_in_window(
    session: Session, *, kind: str, key: str, window: dt.timedelta, now: dt.datetime | None = None
) -> dt.datetime | None:
    since = (now or utcnow()) - window
    return session.scalar(
        select(func.min(RateEvent.at)).where(RateEvent.kind == kind, RateEvent.key == key, RateEvent.at >= since)
    )


def clear(session: Session, *, kind: str, key: str) -> None:
    session.execute(delete(RateEvent).where(RateEvent.kind == kind, RateEvent.key == key))


def purge(session: Session, *, older_than: dt.timedelta, now: dt.datetime | None = None) -> int:
    result = session.execute(delete(RateEvent).where(RateEvent.at < (now or utcnow()) - older_than))
    return int(getattr(result, "rowcount", 0) or 0)
