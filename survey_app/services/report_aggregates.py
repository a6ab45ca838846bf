"""Every table of a report period, computed once per period × settings × data version and cached per process:
from the cells' sums (unweighted and design-weighted reports) or from the rows (raked reports)."""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from analysis import SurveyDesign, quality_flags, sipas_index

from ..errors import Message
from ..i18n import N_
from ..models import Commune, PopulationMargin, ReceptionPoint, ReportTarget, TransactionVolume
from . import report_compact, report_stats
from .report_frames import (
    ItemInfo,
    SectorItems,
    build_design,
    check_design_weights,
    load_frame,
    population_totals,
    sector_items,
    transaction_targets,
)
from .report_periods import Period
from .report_settings import LINEAR_WEIGHTINGS, SELF_SELECTED, WEIGHTINGS, ReportSettings


# ---------------------------------------------------------------------------------------------- results
@dataclass(frozen=True)
class Estimate:
    """One published figure in percent, with its interval and quality flags."""

    estimate: float | None
    se: float | None
    ci_low: float | None
    ci_high: float | None
    n: int
    cv: float | None
    suppressed: bool
    cv_flag: bool
    source: str = "direct"  # direct or model-based (Fay–Herriot)

    @property
    def shown(self) -> bool:
        return not self.suppressed and self.estimate is not None

    @property
    def source_label(self) -> Message:
        return Message(N_("Trực tiếp") if self.source == "direct" else N_("Mô hình (Fay–Herriot)"))


def finite(value: Any, scale: float = 1.0) -> float | None:
    """``value × scale`` as a float; None for a missing, non-numeric, NaN or infinite value."""
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else v * scale


def estimate_from_row(row: Any, *, scale: float) -> Estimate:
    return Estimate(
        estimate=finite(row["estimate"], scale), se=finite(row["se"], scale), ci_low=finite(row["ci_low"], scale),
        ci_high=finite(row["ci_high"], scale), n=int(row["n"]), cv=finite(row["cv"]),
        suppressed=bool(row["suppress"]), cv_flag=bool(row["cv_flag"]),
    )


EMPTY = Estimate(None, None, None, None, 0, None, True, True)


@dataclass(frozen=True)
class Aggregates:
    """Every table of one period × settings × data version (computed lazily, then kept).

    Uncalibrated settings carry the period's :class:`~report_compact.Cells` (sums per cell); raked settings
    carry the row-level design (raking needs the rows)."""

    period: Period
    settings: ReportSettings
    catalogue: Mapping[str, SectorItems]
    design: SurveyDesign | None  # raked settings; None when the period has no responses
    weight_note: Message
    cells: report_compact.Cells | None = None  # unweighted / design-weighted settings
    _memo: dict[str, Any] = field(default_factory=dict, compare=False, repr=False)
    _lock: threading.RLock = field(default_factory=threading.RLock, compare=False, repr=False)

    @property
    def n(self) -> int:
        if self.cells is not None:
            return self.cells.total
        return 0 if self.design is None else self.design.n

    @property
    def empty(self) -> bool:
        return self.n == 0

    @property
    def _weighted(self) -> bool:
        return self.settings.weighting == "design"

    def _keys(self) -> pd.DataFrame:
        assert self.cells is not None
        cells = self.cells
        keys: pd.DataFrame = self._cached("keys", lambda: cells.design_keys(
            fieldwork=self._weighted, self_selected=SELF_SELECTED))
        return keys

    def _empty(self, by: Sequence[str]) -> pd.DataFrame:
        cols = [*by, "component", "variable", "level", "n", "estimate", "se", "ci_low", "ci_high", "cv", "suppress", "cv_flag"]
        return pd.DataFrame({c: pd.Series(dtype="object") for c in cols})

    def _cached(self, key: str, make: Callable[[], Any]) -> Any:
        with self._lock:
            if key not in self._memo:
                self._memo[key] = make()
            return self._memo[key]

    def _flags(self, table: pd.DataFrame) -> pd.DataFrame:
        return quality_flags(table, min_n=self.settings.min_n, max_cv=self.settings.max_cv)

    def overall(self, by: Sequence[str]) -> pd.DataFrame:
        """Share satisfied on the ``overall`` item by domain (R ``svyby(~overall, by, svymean)``), flagged."""
        def make() -> pd.DataFrame:
            if self.empty:
                return self._empty(by)
            if self.cells is not None:
                overall = {s: c.overall for s, c in self.catalogue.items()}
                return self._flags(report_compact.overall_table(
                    self.cells, self._keys(), overall, by=by, weighted=self._weighted, level=self.settings.level))
            assert self.design is not None
            return self._flags(self.design.mean("overall", by=list(by), level=self.settings.level))
        out: pd.DataFrame = self._cached("overall:" + ",".join(by), make)
        return out

    def sipas(self, sector: str, by: Sequence[str] = ()) -> pd.DataFrame:
        """SIPAS-style items, elements and index of one sector (percent), by domain, flagged."""
        def make() -> pd.DataFrame:
            elements = self.catalogue[sector].elements() if sector in self.catalogue else {}
            if not elements or self.empty:
                return pd.DataFrame()
            if self.cells is not None:
                return self._flags(report_compact.sipas_table(
                    self.cells, self._keys(), self.catalogue[sector], by=by, weighted=self._weighted,
                    level=self.settings.level))
            assert self.design is not None
            table = sipas_index(self.design, elements, by=["sector", *by], recode=True, items=True,
                                level=self.settings.level, overall="SIPAS")
            return self._flags(table[table["sector"] == sector].reset_index(drop=True))
        out: pd.DataFrame = self._cached(f"sipas:{sector}:" + ",".join(by), make)
        return out

    def distribution(self, sector: str, info: ItemInfo, *, weighted: bool, by: Sequence[str] = ()) -> pd.DataFrame:
        """Share of each answer 1–5 among those who answered the item, in the sector (× ``by``), flagged."""
        def make() -> pd.DataFrame:
            if self.cells is not None:
                return self._flags(report_compact.distribution_table(
                    self.cells, self._keys(), sector, info.id, info.column, weighted=weighted and self._weighted,
                    level=self.settings.level, by=by))
            assert self.design is not None
            base = self.design
            design = base if weighted else SurveyDesign(base.data, weights="w0", strata="stratum", psu="psu",
                                                        lonely_psu="adjust")
            table = design.proportion(info.column, by=["sector", *by], levels=[1.0, 2.0, 3.0, 4.0, 5.0],
                                      level=self.settings.level)
            return self._flags(table[table["sector"] == sector])
        out: pd.DataFrame = self._cached(f"dist:{'w' if weighted else 'u'}:{sector}:{info.id}:{','.join(by)}", make)
        return out

    def not_applicable(self, sector: str, info: ItemInfo, commune_id: int | None = None) -> int:
        """Respondents of the sector (in the commune) who did not rate the item (answered "na" or skipped it)."""
        if self.cells is not None:
            keys = self.cells.keys
            in_s = (keys["sector"] == sector).to_numpy()
            if commune_id is not None:
                in_s = in_s & (keys["commune_id"] == commune_id).to_numpy()
            rated = sum(int((self.cells.count(f"a:{info.id}={lv}") * in_s).sum()) for lv in report_compact.LEVELS)
            return int((self.cells.count(report_compact.STAT_ALL) * in_s).sum()) - rated
        if self.design is None:
            return 0
        data = self.design.data
        in_sector = data["sector"] == sector
        if commune_id is not None:
            in_sector = in_sector & (data["commune_id"] == commune_id)
        return int(in_sector.sum()) - int(data.loc[in_sector, info.column].notna().sum())

    def weight_of(self, ids: pd.Series, design_weight: pd.Series) -> pd.Series:
        """The report's weight of each listed response (NaN for a response outside the report)."""
        if self.cells is not None:
            return design_weight.astype("float64") if self._weighted else pd.Series(1.0, index=ids.index)
        if self.design is None:
            return pd.Series(np.nan, index=ids.index)
        return ids.map(pd.Series(self.design.weights, index=self.design.data["id"].to_numpy())).astype("float64")


_CACHE: OrderedDict[tuple[Any, ...], Aggregates] = OrderedDict()
_CACHE_LOCK = threading.Lock()
CACHE_SIZE = 16


def clear_cache() -> None:
    with _CACHE_LOCK:
        _CACHE.clear()


def aggregates(session: Session, *, period: Period, settings: ReportSettings, province_id: int) -> Aggregates:
    """The cached aggregates for a period (per process; safe with several stateless workers because the key
    includes the data version, so no worker serves figures older than the data it can see)."""
    catalogue = sector_items(session)
    report_stats.ensure_fresh(session, catalogue)
    key = (period.key, settings, province_id, data_version(session))
    with _CACHE_LOCK:
        hit = _CACHE.get(key)
        if hit is not None:
            _CACHE.move_to_end(key)
            return hit
    agg = compute_aggregates(session, period=period, settings=settings, province_id=province_id, catalogue=catalogue)
    with _CACHE_LOCK:
        _CACHE[key] = agg
        while len(_CACHE) > CACHE_SIZE:
            _CACHE.popitem(last=False)
    return agg


def month_range(period: Period) -> tuple[dt.date, dt.date] | None:
    """[first month, month after the last) when the period covers whole months, else None."""
    after = period.end + dt.timedelta(days=1)
    if period.start.day != 1 or after.day != 1:
        return None
    return period.start, after


def _cells(session: Session, *, period: Period, settings: ReportSettings, province_id: int,
           catalogue: Mapping[str, SectorItems]) -> report_compact.Cells:
    """The period's cells: from the materialised SQL sums (whole months), else summed from the rows."""
    months = month_range(period)
    if months is not None and not (session.new or session.dirty or session.deleted):
        long = report_stats.read(session, months=months, modes=settings.modes,
                                 include_flagged=settings.include_flagged, province_id=province_id)
        return report_compact.Cells.from_long(long)
    frame = _in_province(session, load_frame(session, period=period, settings=settings, catalogue=catalogue),
                         province_id)
    return report_compact.Cells.from_frame(frame, catalogue)


def _in_province(session: Session, frame: pd.DataFrame, province_id: int) -> pd.DataFrame:
    communes = set(session.scalars(select(Commune.id).where(Commune.province_id == province_id)))
    return frame[frame["commune_id"].isin(communes)].reset_index(drop=True)


def compute_aggregates(
    session: Session, *, period: Period, settings: ReportSettings, province_id: int,
    catalogue: Mapping[str, SectorItems] | None = None,
) -> Aggregates:
    catalogue = catalogue if catalogue is not None else sector_items(session)
    note = Message(WEIGHTINGS[settings.weighting])
    if settings.weighting in LINEAR_WEIGHTINGS:
        cells = _cells(session, period=period, settings=settings, province_id=province_id, catalogue=catalogue)
        if settings.weighting == "design" and cells.total:
            modes = set(cells.keys["mode"])
            check_design_weights(int(cells.count(report_compact.STAT_WEIGHTED).sum()), cells.total, modes)
        return Aggregates(period, settings, catalogue, None, note, cells)
    extra: dict[str, dict[str, str | None]] = {}
    if settings.weighting == "population":
        extra = {"sex": {s: c.sex for s, c in catalogue.items()}, "age_group": {s: c.age_group for s, c in catalogue.items()}}
    frame = _in_province(session, load_frame(session, period=period, settings=settings, catalogue=catalogue,
                                             extra=extra), province_id)
    volumes = transaction_targets(session, period=period) if settings.weighting == "transactions" else None
    population = (population_totals(session, province_id=province_id, year=period.end.year)
                  if settings.weighting == "population" else None)
    point_names = dict(session.execute(select(ReceptionPoint.id, ReceptionPoint.name)).all()) if volumes is not None else {}
    if frame.empty:
        return Aggregates(period, settings, catalogue, None, note)
    design = build_design(frame, settings=settings, volumes=volumes, population=population, points=point_names)
    if design.steps:
        ws = design.weight_summary()
        note = Message(N_("{weighting} — hiệu ứng gia quyền Kish {deff:.2f}, cỡ mẫu hiệu dụng {n_eff:.0f}"),
                       weighting=note, deff=ws.weighting_effect, n_eff=ws.effective_n)
    return Aggregates(period, settings, catalogue, design, note)


def data_version(session: Session) -> tuple[Any, ...]:
    """Changes whenever responses arrive or are flagged (the stats' version, bumped by every refresh and
    retraction; call report_stats.ensure_fresh first), or the weighting tables change. Only small tables and
    index probes are read, so it costs the same at 10 million responses as at 100."""
    aux = []
    for model in (TransactionVolume, PopulationMargin, ReportTarget):
        a = session.execute(select(func.max(model.id), func.count(model.id))).one()
        aux.append((a[0], a[1]))
    return (report_stats.version(session), *aux)
