"""Working-day arithmetic for answer deadlines: weekends and the configured public holidays are skipped.

Holidays are concrete dates kept in the ``holiday`` table (seeded for 2026 and 2027, edited by the admin);
the lunar calendar is never computed here. Dates are Vietnamese local dates (UTC+7, no daylight saving).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ValidationFailed
from ..i18n import N_
from ..models import Holiday

DEFAULT_DEADLINE_DAYS = 15
VIETNAM_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")


def local_date(moment: dt.datetime) -> dt.date:
    """The calendar date in Vietnam of an aware timestamp (naive values are taken as UTC)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=dt.UTC)
    return moment.astimezone(VIETNAM_TZ).date()


def is_working_day(day: dt.date, holidays: Collection[dt.date]) -> bool:
    return day.weekday() < 5 and day not in holidays


def add_working_days(start: dt.date, days: int, holidays: Collection[dt.date]) -> dt.date:
    """The date ``days`` working days after ``start`` (the day of receipt itself does not count).

    Received on Friday with 1 working day: the deadline is Monday (or the first working day after it).
    """
    if days < 0:
        raise ValueError("days must be >= 0")
    day = start
    remaining = days
    while remaining > 0:
        day += dt.timedelta(days=1)
        if is_working_day(day, holidays):
            remaining -= 1
    return day


def working_days_between(start: dt.date, end: dt.date, holidays: Collection[dt.date]) -> int:
    """Working days after ``start`` up to and including ``end`` (0 when ``end`` <= ``start``)."""
    count = 0
    day = start
    while day < end:
        day += dt.timedelta(days=1)
        if is_working_day(day, holidays):
            count += 1
    return count


def holidays_between(session: Session, *, start: dt.date, end: dt.date) -> frozenset[dt.date]:
    return frozenset(session.scalars(select(Holiday.day).where(Holiday.day >= start, Holiday.day <= end)))


def deadline_for(session: Session, *, received: dt.datetime, days: int = DEFAULT_DEADLINE_DAYS) -> dt.date:
    start = local_date(received)
    # Enough calendar days to cover any run of holidays (Tết plus weekends is under two weeks).
    holidays = holidays_between(session, start=start, end=start + dt.timedelta(days=days * 2 + 30))
    return add_working_days(start, days, holidays)


def list_holidays(session: Session, *, year: int | None = None) -> list[Holiday]:
    stmt = select(Holiday).order_by(Holiday.day)
    if year is not None:
        stmt = stmt.where(Holiday.day >= dt.date(year, 1, 1), Holiday.day <= dt.date(year, 12, 31))
    return list(session.scalars(stmt))


def add_holiday(session: Session, *, day: dt.date, name: str) -> Holiday:
    name = " ".join(name.split())[:120]
    if not name:
        raise ValidationFailed(N_("Vui lòng nhập tên ngày nghỉ."))
    if session.scalar(select(Holiday.id).where(Holiday.day == day)) is not None:
        raise ValidationFailed(N_("Ngày {day} đã có trong danh sách ngày nghỉ."), day=day.strftime("%d/%m/%Y"))
    holiday = Holiday(day=day, name=name)
    session.add(holiday)
    session.flush()
    return holiday


def parse_day(value: str) -> dt.date:
    """Accepts 2026-09-02 (the date input) or 02/09/2026 (typed by hand)."""
    value = value.strip()
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        try:
            return dt.datetime.strptime(value, fmt).date()
        except ValueError:
            continue
    raise ValidationFailed(N_("Ngày không hợp lệ (ví dụ 02/09/2026)."))
