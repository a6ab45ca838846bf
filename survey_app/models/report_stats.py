"""Materialised sufficient statistics for the reports (see services/report_stats.py).

A *cell* is one month (Vietnam time) × commune × sector × mode × reception point × fieldwork stratum and PSU ×
flagged state; its *stats* are counts and design-weight sums of respondents: everyone (``*``), those with a
design weight (``dw``), each answer ``a:<item>=<1..5>`` and each SIPAS element or index answered at least once
(``e:<element>``). Estimates, standard errors and intervals of the linearised (uncalibrated) reports depend on
the responses only through these sums, so reports never read raw rows for them.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean, Date, Float, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ..db import Base
from .core import UTCDateTime, utcnow


class ReportPending(Base):
    """Responses whose contributions are not (or no longer) in the sums. Filled by a database trigger on every
    insert into ``response`` (whatever the code path, even a bulk COPY), and by a flag change after
    aggregation; emptied by the refresh. A queue table rather than a column on ``response``: marking 10 million
    wide rows would rewrite them and every index on them."""

    __tablename__ = "report_pending"

    response_id: Mapped[int] = mapped_column(ForeignKey("response.id", ondelete="CASCADE"), primary_key=True)


class ReportCell(Base):
    __tablename__ = "report_cell"
    __table_args__ = (UniqueConstraint("month", "commune_id", "sector", "mode", "point_id", "stratum", "psu",
                                       "flagged", name="uq_report_cell_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    month: Mapped[dt.date] = mapped_column(Date)  # first day of the month, Vietnam time
    commune_id: Mapped[int] = mapped_column(ForeignKey("commune.id"))
    sector: Mapped[str] = mapped_column(String(30))
    mode: Mapped[str] = mapped_column(String(12))
    point_id: Mapped[int] = mapped_column(Integer)  # 0 = no reception point (enumerator, paper)
    stratum: Mapped[str] = mapped_column(String(60))  # fieldwork stratum, "" when none
    psu: Mapped[str] = mapped_column(String(60))  # fieldwork PSU, "" when none
    flagged: Mapped[bool] = mapped_column(Boolean)


class ReportCellStat(Base):
    __tablename__ = "report_cell_stat"

    cell_id: Mapped[int] = mapped_column(ForeignKey("report_cell.id", ondelete="CASCADE"), primary_key=True)
    stat: Mapped[str] = mapped_column(String(80), primary_key=True)
    n: Mapped[int] = mapped_column(Integer)
    w: Mapped[float] = mapped_column(Float)  # sum of the design weights (0 when none)


class ReportStatState(Base):
    """One row: bumped on every change of the stats (the reports' cache key) and the catalogue signature the
    element stats were built with (a new questionnaire version with other elements triggers a rebuild)."""

    __tablename__ = "report_stat_state"

    id: Mapped[int] = mapped_column(primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    signature: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), default=utcnow)
