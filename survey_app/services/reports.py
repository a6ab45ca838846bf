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
the rows (load_frame). The aggregates of a period are cached per process, keyed by the period, the settings and
the data version (the sums' version, bumped by every change, plus the weighting tables): new data changes the key.
"""

from __future__ import annotations

import datetime as dt
import math
import threading
from collections import OrderedDict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar

import numpy as np
import pandas as pd
from scipy.stats import norm
from sqlalchemy import case, func, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.sql import Select

from analysis import SurveyDesign, quality_flags, satisfied, sipas_index
from analysis.errors import SurveyError
from analysis.sae import fay_herriot_table, smooth_sampling_variances

from ..errors import Message, ValidationFailed
from ..i18n import N_, gettext, supported_languages
from ..models import (
    Commune,
    PopulationMargin,
    QuestionnaireVersion,
    ReceptionPoint,
    ReportTarget,
    Response,
    TransactionVolume,
)
from ..questionnaire import SECTOR_LABELS, SIPAS_LABELS, ItemRole, ItemType, Sector
from . import questionnaires as q_service
from . import report_compact, report_stats
from .report_periods import Period

MODES = ("qr", "enumerator", "paper", "kiosk")
MODE_LABELS = {"qr": N_("Mã QR"), "enumerator": N_("Điều tra viên"), "paper": N_("Phiếu giấy"), "kiosk": N_("Ki-ốt")}
SELF_SELECTED = ("qr", "kiosk")
WEIGHTINGS = {
    "unweighted": N_("Không gia quyền (mỗi phiếu có trọng số 1)"),
    "transactions": N_("Hiệu chỉnh (raking) theo số giao dịch của từng điểm tiếp nhận trong kỳ (chỉ phiếu QR/ki-ốt)"),
    "population": N_("Hiệu chỉnh (raking) theo cơ cấu dân số: lĩnh vực × giới tính và lĩnh vực × nhóm tuổi"),
    "design": N_("Trọng số thiết kế của mẫu điều tra hộ (tầng và đơn vị mẫu cấp 1 của đợt điều tra; "
                 "chỉ phiếu điều tra viên và phiếu giấy)"),
}
LINEAR_WEIGHTINGS = ("unweighted", "design")  # estimated from the cells' sums (report_compact), never from rows
DEFAULT_TARGETS = {"one_stop": 90.0, "land_certificate": 85.0, "health": 85.0, "primary_education": 85.0}
TARGET_SOURCE = "Kế hoạch CCHC của tỉnh: thủ tục hành chính ≥ 90%; đất đai, xây dựng, đầu tư ≥ 85%; y tế, giáo dục công ≥ 85%"
SECTORS = tuple(s.value for s in Sector)
INDEX_OVERALL = N_("Tỷ lệ hài lòng chung (câu hỏi đánh giá chung)")
INDEX_SIPAS = N_("Chỉ số SIPAS (trung bình 5 yếu tố)")


class Label(Message):
    """A text kept per language beside the code rather than in the catalog (SECTOR_LABELS, SIPAS_LABELS, the
    questionnaire's item texts). Like a Message it is its Vietnamese text as a ``str`` (exports stay
    Vietnamese) and ``translated(lang)`` is what a page shows, falling back to Vietnamese."""

    texts: Mapping[str, str]

    def __new__(cls, texts: Mapping[str, str]) -> Label:
        text = str.__new__(cls, texts["vi"])
        text.message_id, text.params, text.texts = texts["vi"], {}, dict(texts)
        return text

    def translated(self, lang: str) -> str:
        return self.texts.get(lang) or self.texts["vi"]

    def __reduce__(self) -> tuple[Any, ...]:  # str's own pickling would pass the text, not the mapping
        return (Label, (dict(self.texts),))

    def __repr__(self) -> str:
        return f"Label({dict(self.texts)!r})"

    @classmethod
    def of_messages(cls, parts: Sequence[str], separator: str = ", ") -> Label:
        """Catalog message ids joined, e.g. the chosen collection modes, in every available language."""
        return cls({lang: separator.join(gettext(p, lang) for p in parts) for lang in supported_languages()})


# ---------------------------------------------------------------------------------------------- settings
@dataclass(frozen=True)
class ReportSettings:
    """The choices a report is made with; shown on the report and in every export."""

    modes: tuple[str, ...] = ("qr", "enumerator", "paper")
    include_flagged: bool = False
    weighting: str = "unweighted"
    min_n: int = 30
    sae: bool = False
    max_cv: float = 0.30
    level: float = 0.95

    def describe(self) -> list[tuple[Message, str]]:
        """(setting, value) rows: Vietnamese as strings (exports), ``translated(lang)`` on a page."""
        return [
            (Message(N_("Hình thức thu thập")), Label.of_messages([MODE_LABELS[m] for m in self.modes])),
            (Message(N_("Phiếu bị gắn cờ")), Message(N_("Có tính") if self.include_flagged else N_("Loại trừ"))),
            (Message(N_("Gia quyền")), Message(WEIGHTINGS[self.weighting])),
            (Message(N_("Số phiếu tối thiểu để công bố")), str(self.min_n)),
            (Message(N_("Ngưỡng hệ số biến thiên (CV)")), f"{self.max_cv:.0%}"),
            (Message(N_("Ước lượng cho địa bàn nhỏ (Fay–Herriot)")), Message(N_("Bật") if self.sae else N_("Tắt"))),
            (Message(N_("Độ tin cậy của khoảng")), f"{self.level:.0%}"),
        ]

    def query(self) -> dict[str, Any]:
        return {"modes": list(self.modes), "flagged": "1" if self.include_flagged else "0",
                "weighting": self.weighting, "min_n": str(self.min_n), "sae": "1" if self.sae else "0"}


def parse_settings(
    *, modes: Sequence[str] | None = None, flagged: str | None = None, weighting: str | None = None,
    min_n: str | None = None, sae: str | None = None,
) -> ReportSettings:
    chosen = tuple(m for m in MODES if m in set(modes or ())) or ReportSettings().modes
    if modes and set(modes) - set(MODES):
        raise ValidationFailed(N_("Hình thức thu thập không hợp lệ."))
    w = weighting or "unweighted"
    if w not in WEIGHTINGS:
        raise ValidationFailed(N_("Cách gia quyền không hợp lệ."))
    try:
        n = int(min_n) if min_n else 30
    except ValueError:
        raise ValidationFailed(N_("Số phiếu tối thiểu phải là số nguyên.")) from None
    if not 1 <= n <= 10000:
        raise ValidationFailed(N_("Số phiếu tối thiểu phải từ 1 đến 10000."))
    return ReportSettings(modes=chosen, include_flagged=flagged == "1", weighting=w, min_n=n, sae=sae == "1")


class ReportDataError(ValidationFailed):
    """The report cannot be computed with these settings (e.g. missing transaction volumes)."""


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


def _filters(period: Period, settings: ReportSettings) -> list[Any]:
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
                  Response.design_weight, *exprs).where(*_filters(period, settings))  # type: ignore[attr-defined]
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


def data_version(session: Session) -> tuple[Any, ...]:
    """Changes whenever responses arrive or are flagged (the stats' version, bumped by every refresh and
    retraction; call report_stats.ensure_fresh first), or the weighting tables change. Only small tables and
    index probes are read, so it costs the same at 10 million responses as at 100."""
    aux = []
    for model in (TransactionVolume, PopulationMargin, ReportTarget):
        a = session.execute(select(func.max(model.id), func.count(model.id))).one()
        aux.append((a[0], a[1]))
    return (report_stats.version(session), *aux)


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


def _f(value: Any, scale: float = 1.0) -> float | None:
    try:
        v = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(v) or math.isinf(v) else v * scale


def estimate_from_row(row: Any, *, scale: float) -> Estimate:
    return Estimate(
        estimate=_f(row["estimate"], scale), se=_f(row["se"], scale), ci_low=_f(row["ci_low"], scale),
        ci_high=_f(row["ci_high"], scale), n=int(row["n"]), cv=_f(row["cv"]),
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


def sector_label(sector: str) -> Label:
    return Label(SECTOR_LABELS.get(sector) or {"vi": sector})


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


T = TypeVar("T")


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
        direct_ok = n >= agg.settings.min_n and _f(r["cv_direct"]) is not None and float(r["cv_direct"]) <= agg.settings.max_cv
        if direct_ok:
            out[int(r["area"])] = Estimate(
                _f(r["estimate_direct"], 100), _f(r["se"], 100), _f(r["ci_low"], 100), _f(r["ci_high"], 100), n,
                _f(r["cv_direct"]), False, False, "direct")
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
        .where(Response.sector == sector, *_filters(period, settings))
        .order_by(Response.submitted_at.desc(), Comment.id.desc()).limit(limit)
    )
    if commune_ids is not None:
        stmt = stmt.where(Response.commune_id.in_(commune_ids))
    if before is not None:
        at, comment_id = before
        stmt = stmt.where(Response.submitted_at <= at,
                          or_(Response.submitted_at < at, Comment.id < comment_id))
    return stmt


DESIGN_NOTES = {
    "design": N_(
        "Thiết kế mẫu: mẫu điều tra hộ của đợt điều tra thực địa. Tầng = tầng của kế hoạch chọn mẫu; đơn vị mẫu bậc "
        "một (PSU) = thôn/bản được chọn; trọng số thiết kế của mỗi phiếu = 1 / (xác suất chọn xã × xác suất chọn "
        "thôn/bản × xác suất chọn hộ), ghi trên từng phiếu điều tra viên và phiếu giấy. Tầng chỉ có một PSU: cách "
        "“adjust” của gói R survey."),
    "other": N_(
        "Thiết kế mẫu: tầng = xã/phường; đơn vị mẫu bậc một (PSU) = điểm tiếp nhận với phiếu QR/ki-ốt, xã × hình thức "
        "với phiếu điều tra viên và phiếu giấy; trọng số ban đầu của mỗi phiếu là 1 (trọng số thiết kế của mẫu điều "
        "tra hộ chỉ được dùng khi chọn gia quyền theo trọng số thiết kế). Tầng chỉ có một PSU: cách “adjust” của gói "
        "R survey."),
}


def method_notes(settings: ReportSettings, *, weight_note: str = "") -> list[str]:
    """The method note printed on every report and export. Each note is a Message: Vietnamese as a string (the
    exports), ``translated(lang)`` on a page."""
    weighting = weight_note or Message(WEIGHTINGS[settings.weighting])
    if settings.weighting in LINEAR_WEIGHTINGS:
        variance = Message(N_("Gia quyền: {weighting}. Sai số chuẩn tính theo tuyến tính hoá Taylor theo tầng và PSU "
                              "(như hàm svymean của gói R survey)."), weighting=weighting)
    else:
        variance = Message(N_("Gia quyền: {weighting}. Sai số chuẩn tính theo tuyến tính hoá Taylor, có tính đến hiệu "
                              "chỉnh (như hàm svyrecvar của gói R survey)."), weighting=weighting)
    notes: list[str] = [
        Message(N_("Tỷ lệ hài lòng của một câu hỏi = tỷ lệ (có trọng số) người trả lời “Hài lòng” hoặc “Rất hài lòng” "
                   "(mức 4–5) trong số người đã trả lời câu đó; “Không áp dụng / Không biết” không tính vào mẫu số. "
                   "Chỉ tính các câu hỏi thang 5 mức.")),
        Message(N_("{index}: tỷ lệ hài lòng với câu hỏi đánh giá chung của bảng hỏi từng lĩnh vực."),
                index=Message(INDEX_OVERALL)),
        Message(N_("{index}: trung bình các yếu tố; mỗi yếu tố là trung bình tỷ lệ hài lòng các câu hỏi của yếu tố "
                   "đó (theo phương pháp SIPAS, Quyết định 1001/QĐ-BNV). Phương sai tính bằng tuyến tính hoá toàn bộ "
                   "véc-tơ tỷ lệ."), index=Message(INDEX_SIPAS)),
        Message(DESIGN_NOTES["design" if settings.weighting == "design" else "other"]),
        variance,
        Message(N_("Khoảng tin cậy {level:.0%}: khoảng logit cho tỷ lệ (bậc tự do = số PSU − số tầng); khoảng t cho "
                   "chỉ số SIPAS."), level=settings.level),
        Message(N_("Ô có ít hơn {min_n} phiếu không được công bố (đánh dấu “—”); ô có hệ số biến thiên (CV) trên "
                   "{max_cv:.0%} được đánh dấu “cần thận trọng”."), min_n=settings.min_n, max_cv=settings.max_cv),
        Message(N_("Phiếu bị gắn cờ nghi vấn được tính.") if settings.include_flagged
                else N_("Phiếu bị gắn cờ nghi vấn bị loại trừ.")),
        Message(N_("Đánh giá từng hồ sơ theo Quyết định 766/QĐ-TTg là tổng thể giao dịch, không phải mẫu: không gộp "
                   "vào các ước lượng này.")),
    ]
    if settings.sae:
        notes.append(Message(N_(
            "Ước lượng cho địa bàn nhỏ: mô hình Fay–Herriot (REML, chỉ hệ số chặn) trên ước lượng trực tiếp của các "
            "xã; ô đủ số phiếu và CV đạt ngưỡng giữ ước lượng trực tiếp, các ô khác dùng EBLUP; sai số theo Prasad–Rao.")))
    return notes


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
