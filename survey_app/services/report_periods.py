"""Reporting windows of the provinces: six-month, annual, quarters and custom ranges.

Six-month: 1 December of the previous year – 31 May (report due before 10 June). Annual: 1 December of the
previous year – 30 November (due before 10 December). Quarters are calendar quarters. Boundaries are local
dates in Vietnam (UTC+7): a response submitted at 23:30 on 31 May, Hà Nội time, belongs to the six-month window.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from ..errors import Message, ValidationFailed
from ..i18n import N_

VN_TZ = dt.timezone(dt.timedelta(hours=7), "ICT")
KINDS = ("six_month", "annual", "quarter", "custom")
KIND_LABELS = {"six_month": N_("6 tháng"), "annual": N_("Cả năm"), "quarter": N_("Quý"), "custom": N_("Tuỳ chọn")}


@dataclass(frozen=True)
class Period:
    kind: str
    start: dt.date  # first day, inclusive
    end: dt.date  # last day, inclusive
    year: int = 0
    quarter: int = 0

    @property
    def label(self) -> Message:
        """Vietnamese as a string (exports); a page shows ``label.translated(lang)``."""
        start, end = self.start.strftime("%d/%m/%Y"), self.end.strftime("%d/%m/%Y")
        if self.kind == "six_month":
            return Message(N_("6 tháng đầu năm {year} ({start} – {end})"), year=self.year, start=start, end=end)
        if self.kind == "annual":
            return Message(N_("Năm {year} ({start} – {end})"), year=self.year, start=start, end=end)
        if self.kind == "quarter":
            return Message(N_("Quý {quarter}/{year} ({start} – {end})"), quarter=self.quarter, year=self.year,
                           start=start, end=end)
        return Message(N_("{start} – {end}"), start=start, end=end)

    @property
    def due(self) -> dt.date | None:
        """The date the report is due (before it), where the province's calendar sets one."""
        if self.kind == "six_month":
            return dt.date(self.year, 6, 10)
        if self.kind == "annual":
            return dt.date(self.year, 12, 10)
        return None

    @property
    def key(self) -> str:
        return f"{self.kind}:{self.start.isoformat()}:{self.end.isoformat()}"

    def bounds_utc(self) -> tuple[dt.datetime, dt.datetime]:
        """[start, end) as UTC instants (local midnight in Vietnam)."""
        lo = dt.datetime.combine(self.start, dt.time(), VN_TZ).astimezone(dt.UTC)
        hi = dt.datetime.combine(self.end + dt.timedelta(days=1), dt.time(), VN_TZ).astimezone(dt.UTC)
        return lo, hi

    def query(self) -> dict[str, str]:
        """Query parameters that rebuild this period with :func:`parse_period`."""
        if self.kind in ("six_month", "annual"):
            return {"kind": self.kind, "year": str(self.year)}
        if self.kind == "quarter":
            return {"kind": "quarter", "year": str(self.year), "q": str(self.quarter)}
        return {"kind": "custom", "start": self.start.isoformat(), "end": self.end.isoformat()}


def six_month(year: int) -> Period:
    return Period("six_month", dt.date(year - 1, 12, 1), dt.date(year, 5, 31), year=year)


def annual(year: int) -> Period:
    return Period("annual", dt.date(year - 1, 12, 1), dt.date(year, 11, 30), year=year)


def quarter(year: int, q: int) -> Period:
    if q not in (1, 2, 3, 4):
        raise ValidationFailed(N_("Quý phải là 1, 2, 3 hoặc 4."))
    start = dt.date(year, 3 * q - 2, 1)
    end = dt.date(year + 1, 1, 1) if q == 4 else dt.date(year, 3 * q + 1, 1)
    return Period("quarter", start, end - dt.timedelta(days=1), year=year, quarter=q)


def custom(start: dt.date, end: dt.date) -> Period:
    if end < start:
        raise ValidationFailed(N_("Ngày kết thúc phải sau ngày bắt đầu."))
    if (end - start).days > 3 * 366:
        raise ValidationFailed(N_("Khoảng thời gian tối đa là 3 năm."))
    return Period("custom", start, end, year=end.year)


def previous(period: Period) -> Period:
    """The previous period of the same kind (for a custom range: the same number of days just before it)."""
    if period.kind == "six_month":
        return six_month(period.year - 1)
    if period.kind == "annual":
        return annual(period.year - 1)
    if period.kind == "quarter":
        return quarter(period.year - 1, 4) if period.quarter == 1 else quarter(period.year, period.quarter - 1)
    days = (period.end - period.start).days + 1
    end = period.start - dt.timedelta(days=1)
    return custom(end - dt.timedelta(days=days - 1), end)


def current(kind: str = "six_month", *, today: dt.date | None = None) -> Period:
    """The period of ``kind`` that contains ``today`` (local date in Vietnam)."""
    today = today or dt.datetime.now(VN_TZ).date()
    if kind == "annual":
        return annual(today.year + 1 if today.month == 12 else today.year)
    if kind == "quarter":
        return quarter(today.year, (today.month - 1) // 3 + 1)
    # Six-month: Dec–May belongs to the next year's first half; June–Nov to the rest of the annual window.
    if today.month == 12:
        return six_month(today.year + 1)
    return six_month(today.year)


def _int(value: str | None, name: Message, lo: int, hi: int) -> int:
    try:
        number = int(value or "")
    except ValueError:
        raise ValidationFailed(N_("{name} không hợp lệ."), name=name) from None
    if not lo <= number <= hi:
        raise ValidationFailed(N_("{name} phải từ {lo} đến {hi}."), name=name, lo=lo, hi=hi)
    return number


def _date(value: str | None, message_id: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value or "")
    except ValueError:
        raise ValidationFailed(message_id) from None


def parse_period(
    *, kind: str | None, year: str | None = None, q: str | None = None, start: str | None = None,
    end: str | None = None, today: dt.date | None = None,
) -> Period:
    """Build a period from query parameters; missing parameters give the current six-month window."""
    if not kind:
        return current("six_month", today=today)
    if kind not in KINDS:
        raise ValidationFailed(N_("Loại kỳ báo cáo không hợp lệ."))
    if kind == "custom":
        return custom(_date(start, N_("Ngày bắt đầu không hợp lệ (định dạng YYYY-MM-DD).")),
                      _date(end, N_("Ngày kết thúc không hợp lệ (định dạng YYYY-MM-DD).")))
    if not year:
        return current(kind, today=today)
    y = _int(year, Message(N_("Năm")), 2000, 2100)
    if kind == "six_month":
        return six_month(y)
    if kind == "annual":
        return annual(y)
    return quarter(y, _int(q, Message(N_("Quý")), 1, 4))
