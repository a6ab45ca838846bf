"""Keyset pagination shared by every list that grows with the data.

A page is fetched with ``limit + 1`` rows: the extra row only says that another page exists, so the last page
never shows an empty "next page" link. The cursor is the key of the page's last row, written into the link
as text; a cursor a user edited into something unreadable is a clear Vietnamese 422, never a 500.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..errors import ValidationFailed
from ..i18n import N_

T = TypeVar("T")

PAGE_SIZE = 50
MAX_CURSOR = 120  # longer than any key written here (an ISO timestamp, a separator and an id)


@dataclass(frozen=True)
class Page(Generic[T]):
    rows: list[T]
    next_key: str | None  # the cursor of the next page; None on the last page

    # A page reads like its rows, so callers that only iterate need not know about paging.
    def __iter__(self) -> Iterator[T]:
        return iter(self.rows)

    def __len__(self) -> int:
        return len(self.rows)


def page_of(rows: Sequence[T], *, limit: int, key: Callable[[T], str]) -> Page[T]:
    """``rows`` were fetched with ``limit + 1``."""
    shown = list(rows[:limit])
    return Page(shown, key(shown[-1]) if len(rows) > limit and shown else None)


def bad_cursor(raw: str) -> ValidationFailed:
    return ValidationFailed(
        N_("Liên kết trang sau không hợp lệ (“{value}”). Vui lòng mở lại danh sách từ trang đầu."), value=raw[:40]
    )


def parse_int(raw: str | None) -> int | None:
    if not raw:
        return None
    if len(raw) > 18 or not raw.isascii() or not raw.isdigit():
        raise bad_cursor(raw)
    return int(raw)


def parse_text(raw: str | None, *, max_length: int) -> str | None:
    """A text key (a code, a user name): any printable text up to the column's length."""
    if not raw:
        return None
    if len(raw) > max_length or not raw.isprintable():
        raise bad_cursor(raw)
    return raw


def _split(raw: str) -> tuple[str, int]:
    key, sep, ident = raw.rpartition("_")
    if not sep or len(raw) > MAX_CURSOR:
        raise bad_cursor(raw)
    number = parse_int(ident)
    if number is None:
        raise bad_cursor(raw)
    return key, number


def date_id(day: dt.date | None, ident: int) -> str:
    """``2026-12-01_42``; a missing date is written as an empty key (``_42``)."""
    return f"{day.isoformat() if day else ''}_{ident}"


def parse_date_id(raw: str | None) -> tuple[dt.date | None, int] | None:
    if not raw:
        return None
    key, ident = _split(raw)
    if not key:
        return None, ident
    try:
        return dt.date.fromisoformat(key), ident
    except ValueError:
        raise bad_cursor(raw) from None


def time_id(moment: dt.datetime, ident: int) -> str:
    """``2026-03-01T08:15:00.123456+00:00_42`` (UTC, microseconds kept so equal times still order by id)."""
    return f"{moment.astimezone(dt.UTC).isoformat()}_{ident}"


def parse_time_id(raw: str | None) -> tuple[dt.datetime, int] | None:
    if not raw:
        return None
    key, ident = _split(raw)
    try:
        moment = dt.datetime.fromisoformat(key)
    except ValueError:
        raise bad_cursor(raw) from None
    if moment.tzinfo is None:
        raise bad_cursor(raw)
    return moment.astimezone(dt.UTC), ident
