"""Counts of citizen feedback for reports: by category, agency and commune, the share answered on time and
the citizens' satisfaction with the handling."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ValidationFailed
from ..i18n import N_
from ..models import (
    Commune,
    FeedbackItem,
)
from . import workdays
from .accounts import Scope
from .feedback import OPEN_STATUSES, SATISFIED, answered_on_time

# --- reporting ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class FeedbackSummaryRow:
    """Counts for one (category, sector, agency, commune) cell; a list of these is a tidy DataFrame."""

    category: str
    sector: str
    agency: str  # "" when not yet assigned
    commune_id: int | None
    commune_name: str
    received: int
    answered: int
    due: int
    answered_on_time: int
    overdue_open: int
    ratings: int
    satisfied: int


@dataclass(frozen=True)
class FeedbackSummary:
    """Feedback received in [start, end] (local dates, inclusive) within a scope.

    ``on_time_share`` = answered_on_time / due, where an item is *due* when it has been answered or its
    deadline passed before ``end`` (so an unanswered overdue item counts against the agency).
    ``satisfaction_share`` = ratings "4" Hài lòng or "5" Rất hài lòng / all ratings of the handling.
    Both are None when their denominator is 0; numerators and denominators are kept to recompute them.
    """

    start: dt.date
    end: dt.date
    total: int
    by_category: dict[str, int]
    by_agency: dict[str, int]
    by_commune: dict[str, int]
    due: int
    answered: int
    answered_on_time: int
    ratings: int
    satisfied: int
    rows: tuple[FeedbackSummaryRow, ...]

    @property
    def on_time_share(self) -> float | None:
        return self.answered_on_time / self.due if self.due else None

    @property
    def satisfaction_share(self) -> float | None:
        return self.satisfied / self.ratings if self.ratings else None

    def records(self) -> list[dict[str, object]]:
        """``pandas.DataFrame(summary.records())`` gives one row per cell."""
        return [dict(row.__dict__) for row in self.rows]


def _local_midnight_utc(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=workdays.VIETNAM_TZ).astimezone(dt.UTC)


def feedback_summary(session: Session, *, start: dt.date, end: dt.date, scope: Scope | None = None) -> FeedbackSummary:
    """Counts by category, agency and commune, share answered on time and satisfaction with the handling.

    ``scope`` is an :class:`~survey_app.services.accounts.Scope` (``sectors``/``commune_ids``, None = all);
    None means the whole province.
    """
    if end < start:
        raise ValidationFailed(N_("Ngày kết thúc phải sau ngày bắt đầu."))
    stmt = select(FeedbackItem, Commune.name).outerjoin(Commune, Commune.id == FeedbackItem.commune_id).where(
        FeedbackItem.received_at >= _local_midnight_utc(start),
        FeedbackItem.received_at < _local_midnight_utc(end + dt.timedelta(days=1)),
    )
    sectors = scope.sectors if scope is not None else None
    communes = scope.commune_ids if scope is not None else None
    if sectors is not None:
        stmt = stmt.where(FeedbackItem.sector.in_(sorted(sectors)))
    if communes is not None:
        stmt = stmt.where(FeedbackItem.commune_id.in_(sorted(communes)))
    cells: dict[tuple[str, str, str, int | None, str], list[int]] = {}
    for item, commune_name in session.execute(stmt):
        key = (item.category, item.sector, item.agency or "", item.commune_id, commune_name or "")
        counts = cells.setdefault(key, [0] * 7)
        on_time = answered_on_time(item)
        is_due = item.answered_at is not None or (item.deadline is not None and item.deadline < end)
        counts[0] += 1
        counts[1] += item.answered_at is not None
        counts[2] += is_due
        counts[3] += bool(on_time)
        counts[4] += item.status in OPEN_STATUSES and item.deadline is not None and item.deadline < end
        counts[5] += item.rating is not None
        counts[6] += item.rating in SATISFIED
    rows = tuple(FeedbackSummaryRow(*key, *counts) for key, counts in sorted(cells.items(), key=lambda kv: str(kv[0])))
    by_category: dict[str, int] = {}
    by_agency: dict[str, int] = {}
    by_commune: dict[str, int] = {}
    for row in rows:
        by_category[row.category] = by_category.get(row.category, 0) + row.received
        by_agency[row.agency] = by_agency.get(row.agency, 0) + row.received
        by_commune[row.commune_name] = by_commune.get(row.commune_name, 0) + row.received
    return FeedbackSummary(
        start=start, end=end, total=sum(r.received for r in rows), by_category=by_category, by_agency=by_agency,
        by_commune=by_commune, due=sum(r.due for r in rows), answered=sum(r.answered for r in rows),
        answered_on_time=sum(r.answered_on_time for r in rows), ratings=sum(r.ratings for r in rows),
        satisfied=sum(r.satisfied for r in rows), rows=rows,
    )
