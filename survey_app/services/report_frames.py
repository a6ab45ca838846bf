"""The row path of the reports: the scale items of each sector's questionnaire, the responses of a period as
a DataFrame, and the survey design built on it (raked to transaction volumes or population margins when the
settings ask). Unweighted and design-weighted reports read sums instead (report_aggregates, report_compact)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import case, func, select
from sqlalchemy.orm import Session

from analysis import SurveyDesign, satisfied
from analysis.errors import SurveyError

from ..i18n import N_
from ..models import Commune, PopulationMargin, QuestionnaireVersion, Response, TransactionVolume
from ..questionnaire import ItemRole, ItemType
from . import questionnaires as q_service
from . import report_compact
from .report_periods import Period
from .report_settings import SELF_SELECTED, Label, ReportDataError, ReportSettings


# ---------------------------------------------------------------------------------------------- items
@dataclass(frozen=True)
class ItemInfo:
    id: str
    sector: str
    text: Label  # the questionnaire's text in every language it gives (Vietnamese as a str)
    element: str | None
    column: str  # shared positional column in the frame (q01, q02, ...)


@dataclass(frozen=True)
class SectorItems:
    sector: str
    overall: str | None  # the item id with role "overall"
    items: tuple[ItemInfo, ...]  # scale5 items only
    options: Mapping[str, Mapping[str, str]]  # item id -> code -> label (scale5 and demographic items)
    sex: str | None
    age_group: str | None

    def elements(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for it in self.items:
            if it.element:
                out.setdefault(it.element, []).append(it.column)
        return out

    def item(self, item_id: str) -> ItemInfo | None:
        return next((i for i in self.items if i.id == item_id), None)


SCALE_LABELS = {"1": "Rất không hài lòng", "2": "Không hài lòng", "3": "Bình thường", "4": "Hài lòng",
                "5": "Rất hài lòng", "na": "Không áp dụng / Không biết"}


def sector_items(session: Session) -> dict[str, SectorItems]:
    """The scale5 items of each sector's current questionnaire, with their SIPAS elements."""
    out: dict[str, SectorItems] = {}
    rows = session.scalars(select(QuestionnaireVersion).where(QuestionnaireVersion.is_current.is_(True)))
    for row in rows:
        q = q_service.parsed(row)
        scale = [i for i in q.items if i.type == ItemType.scale5]
        infos = tuple(
            ItemInfo(i.id, row.sector, Label({lang: i.text.get(lang) for lang in i.text.languages()}),
                     i.tags.sipas.value if i.tags.sipas else None, f"q{k:02d}")
            for k, i in enumerate(scale, start=1)
        )
        options: dict[str, dict[str, str]] = {i.id: dict(SCALE_LABELS) for i in scale}
        for i in q.items:
            if i.type == ItemType.single:
                options[i.id] = {o.value: o.label.vi for o in i.options}
        overall = q.item_by_role(ItemRole.overall)
        sex = q.item_by_role(ItemRole.sex)
        age = q.item_by_role(ItemRole.age_group)
        out[row.sector] = SectorItems(row.sector, overall.id if overall else None, infos, options,
                                      sex.id if sex else None, age.id if age else None)
    return out


# ---------------------------------------------------------------------------------------------- loading
BASE_COLUMNS = ("id", "commune_id", "sector", "mode", "point_id", "stratum", "psu", "design_weight")


def _answer_column(items: Mapping[str, str | None], name: str) -> Any:
    """One SQL expression picking, for each response, the answer to its own sector's item."""
    whens = [(Response.sector == sector, Response.answers[item].as_string()) for sector, item in items.items() if item]
    return case(*whens, else_=None).label(name) if whens else None


def response_filters(period: Period, settings: ReportSettings) -> list[Any]:
    lo, hi = period.bounds_utc()
    conds = [Response.submitted_at >= lo, Response.submitted_at < hi, Response.mode.in_(settings.modes)]
    if not settings.include_flagged:
        conds.append(Response.flagged.is_(False))
    return conds


def load_frame(
    session: Session, *, period: Period, settings: ReportSettings, catalogue: Mapping[str, SectorItems],
    with_items: bool = True, extra: Mapping[str, Mapping[str, str | None]] | None = None,
) -> pd.DataFrame:
    """Responses of the period as a DataFrame: design columns, ``overall`` (satisfied 0/1/NaN) and the
    scale5 item columns ``q01``… (answer codes 1–5, NaN for "na" or no answer).

    Item answers are extracted in SQL (only the needed ones) and read in partitions, so the rows are never
    held as Python objects all at once.
    """
    answer_cols: dict[str, dict[str, str | None]] = {"overall": {s: c.overall for s, c in catalogue.items()}}
    if with_items:
        width = max((len(c.items) for c in catalogue.values()), default=0)
        for k in range(1, width + 1):
            col = f"q{k:02d}"
            answer_cols[col] = {s: (c.items[k - 1].id if k <= len(c.items) else None) for s, c in catalogue.items()}
    for name, mapping in (extra or {}).items():
        answer_cols[name] = dict(mapping)
    if not extra and any(answer_cols["overall"].values()):
        fast = report_compact.load_codes_postgres(
            session, bounds=period.bounds_utc(), modes=settings.modes, include_flagged=settings.include_flagged,
            columns=answer_cols)
        if fast is not None:
            return fast
    exprs = [e for name, m in answer_cols.items() if (e := _answer_column(m, name)) is not None]
    stmt = select(Response.id, Response.commune_id, Response.sector, Response.mode,
                  Response.reception_point_id.label("point_id"), Response.stratum, Response.psu,  # type: ignore[attr-defined]
                  Response.design_weight, *exprs).where(*response_filters(period, settings))  # type: ignore[attr-defined]
    names = [*BASE_COLUMNS, *(e.name for e in exprs)]
    parts: list[pd.DataFrame] = []
    result = session.execute(stmt.execution_options(yield_per=100_000))
    for chunk in result.partitions():
        raw = pd.DataFrame.from_records(chunk, columns=names)
        parts.append(_code_chunk(raw, answer_cols, extra or {}))
    if not parts:
        empty = pd.DataFrame({c: pd.Series(dtype="float64") for c in names})
        return _code_chunk(empty, answer_cols, extra or {})
    return pd.concat(parts, ignore_index=True)


def _code_chunk(raw: pd.DataFrame, answer_cols: Mapping[str, object], extra: Mapping[str, object]) -> pd.DataFrame:
    out = pd.DataFrame({
        "id": raw["id"].astype("int64"),
        "commune_id": raw["commune_id"].astype("int64"),
        "sector": raw["sector"].astype(str),
        "mode": raw["mode"].astype(str),
        "point_id": pd.to_numeric(raw["point_id"], errors="coerce"),
        "stratum": raw["stratum"].astype(object),
        "psu": raw["psu"].astype(object),
        "design_weight": pd.to_numeric(raw["design_weight"], errors="coerce").astype("float64"),
    })
    for name in answer_cols:
        if name not in raw.columns:
            continue
        if name in extra:
            out[name] = raw[name].astype(object)
        elif name == "overall":
            out[name] = satisfied(raw[name])
        else:  # raw 1–5 codes; "na" and anything else become NaN (out of every denominator)
            codes = pd.to_numeric(raw[name], errors="coerce")
            out[name] = codes.where(codes.isin([1, 2, 3, 4, 5])).astype("float64")
    return out


# ---------------------------------------------------------------------------------------------- design
def check_design_weights(weighted: int, total: int, modes: Any) -> None:
    """Design weights describe the household sample only: refuse self-selected modes and unweighted rows."""
    if set(modes) & set(SELF_SELECTED):
        raise ReportDataError(N_("Trọng số thiết kế chỉ áp dụng cho phiếu điều tra viên và phiếu giấy: hãy bỏ chọn QR và ki-ốt."))
    if weighted < total:
        raise ReportDataError(N_(
            "{count} phiếu trong kỳ không có trọng số thiết kế (không thuộc mẫu của đợt điều tra nào). "
            "Hãy chọn cách gia quyền khác."), count=total - weighted)


def _design_columns(frame: pd.DataFrame, *, fieldwork: bool = False) -> pd.DataFrame:
    """Strata and PSUs: communes and (reception point | commune × mode); or the fieldwork round's own."""
    frame = frame.copy()
    if fieldwork:
        frame["stratum"] = frame["stratum"].fillna("").astype(str)
        frame["psu"] = frame["stratum"] + "/" + frame["psu"].fillna("").astype(str)
        frame["w0"] = frame["design_weight"].astype("float64")
        return frame
    frame["stratum"] = frame["commune_id"].astype(str)
    has_point = frame["point_id"].notna() & frame["mode"].isin(SELF_SELECTED)
    point = frame["point_id"].fillna(0).astype("int64").astype(str)
    frame["psu"] = np.where(has_point, "p" + point, "c" + frame["commune_id"].astype(str) + "-" + frame["mode"])
    frame["w0"] = 1.0
    return frame


def transaction_targets(session: Session, *, period: Period) -> dict[int, int]:
    """Transactions per reception point in volume rows that lie within the period."""
    rows = session.execute(
        select(TransactionVolume.reception_point_id, func.sum(TransactionVolume.transactions))
        .where(TransactionVolume.period_start >= period.start, TransactionVolume.period_end <= period.end)
        .group_by(TransactionVolume.reception_point_id)
    ).all()
    return {int(pid): int(total) for pid, total in rows}


def population_totals(session: Session, *, province_id: int, year: int) -> pd.DataFrame:
    """Province totals by sex and age group from the most recent reference year not after ``year``."""
    ref = session.scalar(
        select(func.max(PopulationMargin.reference_year))
        .join(Commune, Commune.id == PopulationMargin.commune_id)
        .where(Commune.province_id == province_id, PopulationMargin.reference_year <= year)
    )
    if ref is None:
        return pd.DataFrame(columns=["sex", "age_group", "population"])
    rows = session.execute(
        select(PopulationMargin.sex, PopulationMargin.age_group, func.sum(PopulationMargin.population))
        .join(Commune, Commune.id == PopulationMargin.commune_id)
        .where(Commune.province_id == province_id, PopulationMargin.reference_year == ref)
        .group_by(PopulationMargin.sex, PopulationMargin.age_group)
    ).all()
    return pd.DataFrame(rows, columns=["sex", "age_group", "population"])


def _sample_share_targets(levels: pd.Series, shares: Mapping[Any, float], total: float) -> dict[Any, float]:
    """Targets for one margin: respondents whose level is unknown (missing, "khác") keep their sample share;
    the rest of the total is split by the population shares."""
    counts = levels.value_counts()
    unknown = {lv: float(c) for lv, c in counts.items() if lv not in shares}
    unknown_share = sum(unknown.values()) / max(float(counts.sum()), 1.0)
    out = {lv: total * (c / max(float(counts.sum()), 1.0)) for lv, c in unknown.items()}
    for lv, sh in shares.items():
        if lv in set(counts.index):
            out[lv] = total * (1 - unknown_share) * sh
    return out


def build_design(
    frame: pd.DataFrame, *, settings: ReportSettings, volumes: Mapping[int, int] | None = None,
    population: pd.DataFrame | None = None, points: Mapping[int, str] | None = None,
) -> SurveyDesign:
    """The survey design of a report frame (see the module docstring); raked as the settings ask."""
    if settings.weighting == "design":
        check_design_weights(int(frame["design_weight"].notna().sum()), len(frame), frame["mode"])
    frame = _design_columns(frame, fieldwork=settings.weighting == "design")
    design = SurveyDesign(frame, weights="w0", strata="stratum", psu="psu", lonely_psu="adjust")
    if settings.weighting == "transactions":
        if set(frame["mode"]) - set(SELF_SELECTED):
            raise ReportDataError(N_(
                "Hiệu chỉnh theo số giao dịch chỉ áp dụng cho phiếu QR hoặc ki-ốt: hãy bỏ chọn các hình thức khác."))
        vols = volumes or {}
        used = sorted({int(p) for p in frame["point_id"].dropna()})
        missing = [p for p in used if vols.get(p, 0) <= 0]
        if missing:
            names = ", ".join((points or {}).get(p, f"#{p}") for p in missing[:5])
            if len(missing) > 5:
                raise ReportDataError(N_(
                    "Chưa có số giao dịch trong kỳ của: {names} và {count} điểm khác. Hãy nhập số giao dịch hoặc "
                    "chọn cách gia quyền khác."), names=names, count=len(missing) - 5)
            raise ReportDataError(N_(
                "Chưa có số giao dịch trong kỳ của: {names}. Hãy nhập số giao dịch hoặc chọn cách gia quyền khác."),
                names=names)
        if used:
            design = design.rake({"psu": {f"p{p}": float(vols[p]) for p in used}})
    elif settings.weighting == "population":
        pop = population if population is not None else pd.DataFrame()
        if pop.empty or "sex" not in frame or "age_group" not in frame:
            raise ReportDataError(N_("Chưa có số liệu dân số theo giới tính và nhóm tuổi để hiệu chỉnh."))
        total = float(pop["population"].sum())
        sex_share = (pop.groupby("sex")["population"].sum() / total).to_dict()
        age_share = (pop.groupby("age_group")["population"].sum() / total).to_dict()
        frame = design.data.copy()
        frame["sex"] = frame["sex"].fillna("khong_ro").astype(str)
        frame["age_group"] = frame["age_group"].fillna("khong_ro").astype(str)
        design = SurveyDesign(frame, weights="w0", strata="stratum", psu="psu", lonely_psu="adjust")
        margins: dict[tuple[str, str], dict[tuple[str, str], float]] = {("sector", "sex"): {}, ("sector", "age_group"): {}}
        for sector, part in frame.groupby("sector"):
            for var, shares in (("sex", sex_share), ("age_group", age_share)):
                for lv, t in _sample_share_targets(part[var], shares, total).items():
                    margins[("sector", var)][(str(sector), lv)] = t
        try:
            design = design.rake(margins)
        except SurveyError as exc:
            raise ReportDataError(N_("Không hiệu chỉnh được theo dân số: {error}"), error=str(exc)) from exc
    return design
