"""The bridge between stored responses and the analysis library: responses → sufficient statistics or
DataFrames → ``analysis`` → frozen report objects. No statistic is computed anywhere else in the web application.

Design used for every estimate (stated on every report; see :func:`method_notes`):

- every response of the period (all sectors and communes of the province, the chosen modes, flagged responses
  excluded unless asked) is in the design, so that every domain is estimated on the full design;
- unweighted: strata = commune; PSU = reception point for QR/kiosk answers, and commune × mode for enumerator
  and paper questionnaires; weight 1;
- design-weighted (household survey): the fieldwork round's strata, PSUs and design weights written on each
  interview (enumerator and paper questionnaires only);
- raked: weights 1 raked to transaction volumes per reception point and period (QR/kiosk only), or to population
  margins sector × sex and sector × age group; SEs account for the raking (R ``svyrecvar``);
- single-PSU strata: R's ``survey.lonely.psu = "adjust"``;
- satisfied = answer 4 or 5 on a 5-level item; "na" is out of the denominator; only ``scale5`` items count.

Where the numbers come from: unweighted and design-weighted reports are linear in sums per cell (commune ×
sector × mode × point × fieldwork PSU), kept in SQL by services/report_stats.py and read with one GROUP BY for
whole-month periods, or summed from the rows for other periods (services/report_compact.py); raked reports need
the rows (report_frames.load_frame). The aggregates of a period (report_aggregates) are cached per process, keyed
by the period, the settings and the data version (the sums' version, bumped by every change, plus the weighting
tables): new data changes the key. The settings and the method note are in report_settings; this module turns the
aggregates into what the report pages and exports show.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy.stats import norm
from sqlalchemy import or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from analysis.sae import fay_herriot_table, smooth_sampling_variances

from ..errors import Message, ValidationFailed
from ..i18n import N_
from ..models import Commune, ReceptionPoint, ReportTarget, Response
from ..questionnaire import SIPAS_LABELS
from .report_aggregates import EMPTY, Aggregates, Estimate, aggregates, estimate_from_row, finite
from .report_frames import SCALE_LABELS, ItemInfo, response_filters
from .report_periods import Period
from .report_settings import DEFAULT_TARGETS, SECTORS, Label, ReportDataError, ReportSettings, sector_label


# ---------------------------------------------------------------------------------------------- targets
def targets(session: Session) -> dict[str, float]:
    out = dict(DEFAULT_TARGETS)
    for row in session.scalars(select(ReportTarget)):
        out[row.sector] = row.target_percent
    return out


def set_target(session: Session, *, sector: str, percent: float, source: str) -> ReportTarget:
    if sector not in SECTORS:
        raise ValidationFailed(N_("Lĩnh vực không hợp lệ."))
    if not 0 <= percent <= 100:
        raise ValidationFailed(N_("Chỉ tiêu phải từ 0 đến 100%."))
    row = session.scalar(select(ReportTarget).where(ReportTarget.sector == sector))
    if row is None:
        row = ReportTarget(sector=sector, target_percent=percent, source=source[:300])
        session.add(row)
    else:
        row.target_percent, row.source = percent, source[:300]
    session.flush()
    return row


# ---------------------------------------------------------------------------------------------- views
@dataclass(frozen=True)
class SectorRow:
    sector: str
    label: Label
    overall: Estimate
    sipas: Estimate
    target: float
    previous: Estimate
    change: float | None

    @property
    def meets_target(self) -> bool | None:
        if not self.overall.shown or self.overall.estimate is None:
            return None
        return self.overall.estimate >= self.target


@dataclass(frozen=True)
class Overview:
    period: Period
    previous_period: Period
    settings: ReportSettings
    rows: tuple[SectorRow, ...]
    n_total: int
    weight_note: Message


def _lookup(table: pd.DataFrame, scale: float, **keys: Any) -> Estimate:
    if table.empty:
        return EMPTY
    mask = np.ones(len(table), dtype=bool)
    for col, value in keys.items():
        mask &= (table[col] == value).to_numpy()
    hit = table[mask]
    return EMPTY if hit.empty else estimate_from_row(hit.iloc[0], scale=scale)


def _sipas_index_row(agg: Aggregates, sector: str, **keys: Any) -> Estimate:
    table = agg.sipas(sector, tuple(keys))
    if table.empty:
        return EMPTY
    return _lookup(table[table["component"] == "index"], 1.0, **keys)


def overview(
    session: Session, *, period: Period, previous_period: Period, settings: ReportSettings, province_id: int,
    sectors: Sequence[str],
) -> Overview:
    """Province overview: per sector the overall satisfaction (percent) with CI and n, SIPAS index, target,
    and change since the previous period of the same kind."""
    agg = aggregates(session, period=period, settings=settings, province_id=province_id)
    try:
        prev = aggregates(session, period=previous_period, settings=settings, province_id=province_id)
        prev_table: pd.DataFrame | None = prev.overall(["sector"])
    except ReportDataError:
        prev_table = None
    table = agg.overall(["sector"])
    goal = targets(session)
    rows = []
    for s in sectors:
        cur = _lookup(table, 100.0, sector=s)
        before = _lookup(prev_table, 100.0, sector=s) if prev_table is not None else EMPTY
        change = None
        if cur.shown and before.shown and cur.estimate is not None and before.estimate is not None:
            change = cur.estimate - before.estimate
        rows.append(SectorRow(s, sector_label(s), cur, _sipas_index_row(agg, s), goal.get(s, 85.0), before, change))
    return Overview(period, previous_period, settings, tuple(rows), agg.n, agg.weight_note)


@dataclass(frozen=True)
class Cell:
    commune_id: int
    commune: str
    sector: str
    value: Estimate


@dataclass(frozen=True)
class CommuneTable:
    sectors: tuple[str, ...]
    communes: tuple[tuple[int, str], ...]
    cells: Mapping[tuple[int, str], Cell]
    sae_notes: tuple[Message, ...]  # sectors where the Fay–Herriot model could not be fitted


def commune_table(
    session: Session, *, period: Period, settings: ReportSettings, province_id: int, sectors: Sequence[str],
    commune_ids: frozenset[int] | None,
) -> CommuneTable:
    """Commune × sector overall satisfaction; with SAE on, small or unstable cells get the Fay–Herriot EBLUP."""
    agg = aggregates(session, period=period, settings=settings, province_id=province_id)
    table = agg.overall(["commune_id", "sector"])
    names = dict(session.execute(select(Commune.id, Commune.name).where(Commune.province_id == province_id)).all())
    cells: dict[tuple[int, str], Cell] = {}
    notes = []
    for s in sectors:
        part = table[table["sector"] == s].reset_index(drop=True)
        if commune_ids is not None:
            part = part[part["commune_id"].isin(commune_ids)].reset_index(drop=True)
        model = sae_estimates(agg, s) if settings.sae else None
        if settings.sae and model is None:
            notes.append(Message(N_("{sector}: quá ít xã có số liệu để ước lượng Fay–Herriot; chỉ dùng ước lượng trực tiếp."),
                                 sector=sector_label(s)))
        for _, row in part.iterrows():
            cid = int(row["commune_id"])
            est = estimate_from_row(row, scale=100.0)
            if model is not None and cid in model:
                est = model[cid]
            cells[(cid, s)] = Cell(cid, names.get(cid, str(cid)), s, est)
    communes = tuple(sorted({(c.commune_id, c.commune) for c in cells.values()}, key=lambda x: x[1]))
    return CommuneTable(tuple(sectors), communes, cells, tuple(notes))


def sae_estimates(agg: Aggregates, sector: str) -> dict[int, Estimate] | None:
    """Fay–Herriot (REML, intercept only) on the communes' direct estimates of one sector.

    ψ_d is smoothed (pooled deff × p̄(1 − p̄)/n_d) because a commune's direct variance is 0 when p̂ is 0 or 1.
    Cells with n ≥ min n and CV ≤ the threshold keep the direct estimate; the others are model-based
    (EBLUP, interval ± z·√MSE clipped to [0, 100])."""
    def make() -> pd.DataFrame:
        table = agg.overall(["commune_id", "sector"])
        part = table[(table["sector"] == sector) & table["estimate"].notna()].reset_index(drop=True)
        if len(part) < 3:
            return pd.DataFrame()
        part = part.assign(vardir=part["se"] ** 2)
        part["psi"] = smooth_sampling_variances(part["estimate"], part["n"], part["vardir"], method="pooled")
        fh = fay_herriot_table(part, area="commune_id", estimate="estimate", variance="psi", covariates=[])
        return fh.merge(part[["commune_id", "n", "estimate", "se", "ci_low", "ci_high", "cv"]],
                        left_on="area", right_on="commune_id", suffixes=("", "_direct"))
    fh = agg._cached(f"sae:{sector}", make)
    if fh.empty:
        return None
    z = float(norm.ppf(0.5 + agg.settings.level / 2))
    out = {}
    for _, r in fh.iterrows():
        n = int(r["n"])
        cv_direct = finite(r["cv_direct"])
        direct_ok = n >= agg.settings.min_n and cv_direct is not None and cv_direct <= agg.settings.max_cv
        if direct_ok:
            out[int(r["area"])] = Estimate(
                finite(r["estimate_direct"], 100), finite(r["se"], 100), finite(r["ci_low"], 100), finite(r["ci_high"], 100), n,
                cv_direct, False, False, "direct")
        else:
            e, rmse = float(r["eblup"]), math.sqrt(float(r["mse"]))
            cv = rmse / abs(e) if e else None
            out[int(r["area"])] = Estimate(
                e * 100, rmse * 100, max(0.0, e - z * rmse) * 100, min(1.0, e + z * rmse) * 100, n, cv,
                n < 1, cv is None or cv > agg.settings.max_cv, "model-based")
    return out


@dataclass(frozen=True)
class PointRow:
    point_id: int
    name: str
    commune: str
    value: Estimate


@dataclass(frozen=True)
class ItemRow:
    item: ItemInfo
    element_label: Label
    value: Estimate


@dataclass(frozen=True)
class SectorView:
    sector: str
    label: Label
    overall: Estimate
    sipas: Estimate
    elements: tuple[tuple[str, Label, Estimate], ...]  # element code, label, estimate
    items: tuple[ItemRow, ...]
    weakest: tuple[ItemRow, ...]
    points: tuple[PointRow, ...]


def _element_rows(agg: Aggregates, sector: str, **keys: Any) -> tuple[tuple[str, Label, Estimate], ...]:
    table = agg.sipas(sector, tuple(keys))
    if table.empty:
        return ()
    el = table[table["component"] == "element"]
    order = [e for e in SIPAS_LABELS if e in set(el["variable"])]
    return tuple((e, Label(SIPAS_LABELS[e]), _lookup(el, 1.0, variable=e, **keys)) for e in order)


def _item_rows(agg: Aggregates, sector: str, **keys: Any) -> tuple[ItemRow, ...]:
    table = agg.sipas(sector, tuple(keys))
    if table.empty:
        return ()
    items = table[table["component"] == "item"]
    out = []
    for info in agg.catalogue[sector].items:
        if info.element is None:
            continue
        label = Label(SIPAS_LABELS[info.element])
        out.append(ItemRow(info, label, _lookup(items, 1.0, variable=info.column, **keys)))
    return tuple(out)


def sector_view(
    session: Session, *, period: Period, settings: ReportSettings, province_id: int, sector: str,
    commune_ids: frozenset[int] | None,
) -> SectorView:
    """A department's view of its sector: reception points, the five SIPAS elements, weakest items."""
    agg = aggregates(session, period=period, settings=settings, province_id=province_id)
    if sector not in agg.catalogue:
        raise ValidationFailed(N_("Lĩnh vực chưa có bảng hỏi."))
    by_point = agg.overall(["sector", "psu"])
    by_point = by_point[(by_point["sector"] == sector) & by_point["psu"].astype(str).str.startswith("p")]
    ids = [int(p[1:]) for p in by_point["psu"]]
    meta = {pid: (name, cname, cid) for pid, name, cname, cid in session.execute(
        select(ReceptionPoint.id, ReceptionPoint.name, Commune.name, Commune.id)
        .join(Commune, Commune.id == ReceptionPoint.commune_id).where(ReceptionPoint.id.in_(ids))
    )}
    points = []
    for pid, (_, row) in zip(ids, by_point.iterrows(), strict=True):
        name, cname, cid = meta.get(pid, (f"#{pid}", "", None))
        if commune_ids is not None and cid not in commune_ids:
            continue
        points.append(PointRow(pid, name, cname, estimate_from_row(row, scale=100.0)))
    points.sort(key=lambda p: (p.commune, p.name))
    items = _item_rows(agg, sector)
    weakest = tuple(sorted((i for i in items if i.value.shown), key=lambda i: i.value.estimate or 0.0)[:5])
    return SectorView(sector, sector_label(sector), _lookup(agg.overall(["sector"]), 100.0, sector=sector),
                      _sipas_index_row(agg, sector), _element_rows(agg, sector), items, weakest, tuple(points))


@dataclass(frozen=True)
class CommuneSector:
    sector: str
    label: Label
    overall: Estimate
    sipas: Estimate
    elements: tuple[tuple[str, Label, Estimate], ...]


@dataclass(frozen=True)
class CommuneView:
    commune_id: int
    name: str
    sectors: tuple[CommuneSector, ...]


def commune_view(
    session: Session, *, period: Period, settings: ReportSettings, province_id: int, commune: Commune,
    sectors: Sequence[str],
) -> CommuneView:
    agg = aggregates(session, period=period, settings=settings, province_id=province_id)
    table = agg.overall(["commune_id", "sector"])
    rows = []
    for s in sectors:
        if s not in agg.catalogue:
            continue
        rows.append(CommuneSector(
            s, sector_label(s), _lookup(table, 100.0, commune_id=commune.id, sector=s),
            _sipas_index_row(agg, s, commune_id=commune.id), _element_rows(agg, s, commune_id=commune.id)))
    return CommuneView(commune.id, commune.name, tuple(rows))


@dataclass(frozen=True)
class DistributionRow:
    code: str
    label: str
    weighted: Estimate
    unweighted: Estimate


@dataclass(frozen=True)
class ItemDrill:
    sector: str
    item: ItemInfo
    rows: tuple[DistributionRow, ...]
    rate: Estimate
    n_na: int


def item_drilldown(
    session: Session, *, period: Period, settings: ReportSettings, province_id: int, sector: str, item_id: str,
    commune_id: int | None = None,
) -> ItemDrill:
    """Distribution of the answers to one item in the sector (percent), weighted and unweighted; in one commune
    when ``commune_id`` is given (a domain of the full design, as everywhere)."""
    agg = aggregates(session, period=period, settings=settings, province_id=province_id)
    info = agg.catalogue[sector].item(item_id) if sector in agg.catalogue else None
    if info is None:
        raise ValidationFailed(N_("Không có câu hỏi này trong bảng hỏi của lĩnh vực."))

    if agg.empty:
        return ItemDrill(sector, info, tuple(DistributionRow(str(k), SCALE_LABELS[str(k)], EMPTY, EMPTY) for k in range(1, 6)),
                         EMPTY, 0)
    by: tuple[str, ...] = () if commune_id is None else ("commune_id",)
    where: dict[str, Any] = {} if commune_id is None else {"commune_id": commune_id}
    weighted = agg.distribution(sector, info, weighted=True, by=by)
    unweighted = agg.distribution(sector, info, weighted=False, by=by)
    rows = tuple(
        DistributionRow(str(k), SCALE_LABELS[str(k)], _lookup(weighted, 100.0, level=float(k), **where),
                        _lookup(unweighted, 100.0, level=float(k), **where))
        for k in range(1, 6)
    )
    items = agg.sipas(sector, by)
    rate = (_lookup(items[items["component"] == "item"], 1.0, variable=info.column, **where)
            if not items.empty else EMPTY)
    return ItemDrill(sector, info, rows, rate, agg.not_applicable(sector, info, commune_id))


@dataclass(frozen=True)
class CommentRow:
    submitted_at: dt.datetime
    commune: str
    point: str
    text: str
    id: int = 0  # the comment's id: with submitted_at, the keyset of the next page


def comments(
    session: Session, *, period: Period, settings: ReportSettings, sector: str, commune_ids: frozenset[int] | None,
    limit: int = 200, before: tuple[dt.datetime, int] | None = None,
) -> list[CommentRow]:
    """Free-text comments of the sector in the period, newest first (the caller checks scope.free_text and
    records the audit event). Keyset by (submitted_at, comment id): ``before`` is the last row of the previous
    page; the time bound is a range of ix_response_submitted_id, the id only breaks ties."""
    stmt = comments_statement(period=period, settings=settings, sector=sector, commune_ids=commune_ids, limit=limit,
                              before=before)
    return [CommentRow(at, cname, pname or "", text, cid) for at, cname, pname, text, cid in session.execute(stmt)]


def comments_statement(
    *, period: Period, settings: ReportSettings, sector: str, commune_ids: frozenset[int] | None, limit: int,
    before: tuple[dt.datetime, int] | None,
) -> Select[dt.datetime, str, str, str, int]:
    """The statement behind :func:`comments` (benchmarks/query_plans.py explains it)."""
    from ..models import Comment

    stmt = (
        select(Response.submitted_at, Commune.name, ReceptionPoint.name, Comment.text, Comment.id)
        .join(Response, Response.id == Comment.response_id)
        .join(Commune, Commune.id == Response.commune_id)
        .outerjoin(ReceptionPoint, ReceptionPoint.id == Response.reception_point_id)
        .where(Response.sector == sector, *response_filters(period, settings))
        .order_by(Response.submitted_at.desc(), Comment.id.desc()).limit(limit)
    )
    if commune_ids is not None:
        stmt = stmt.where(Response.commune_id.in_(commune_ids))
    if before is not None:
        at, comment_id = before
        stmt = stmt.where(Response.submitted_at <= at,
                          or_(Response.submitted_at < at, Comment.id < comment_id))
    return stmt


def trend(
    session: Session, *, period: Period, settings: ReportSettings, province_id: int, sector: str, count: int = 4,
) -> list[tuple[str, Estimate]]:
    """The sector's overall satisfaction over the last ``count`` periods of the same kind (oldest first)."""
    from .report_periods import previous

    periods = [period]
    for _ in range(count - 1):
        periods.insert(0, previous(periods[0]))
    out = []
    for p in periods:
        try:
            table = aggregates(session, period=p, settings=settings, province_id=province_id).overall(["sector"])
            out.append((f"{p.start:%m/%y}–{p.end:%m/%y}", _lookup(table, 100.0, sector=sector)))
        except ReportDataError:
            out.append((f"{p.start:%m/%y}–{p.end:%m/%y}", EMPTY))
    return out
