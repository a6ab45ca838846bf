"""Sampling plans: systematic PPS with certainty units, multi-stage plans, and village list import.

Systematic PPS (Madow 1949; Cochran, Sampling Techniques, 3rd ed., §9A.8): with n draws from a frame of
total size T, the interval is I = T/n; a unit whose size reaches I is taken with certainty and removed,
and the interval recomputed until no unit reaches it. The others are cumulated in frame order and the
units hit by r, r+I, r+2I, ... (r uniform in [0, I)) are selected; each has inclusion probability
n_rest · size / T_rest < 1. Certainty units may also be forced (PAPI takes the commune seat always).
The draw is reproducible: the random start comes from ``random.Random(seed)``.

A plan draws communes in each stratum (stage 1), villages in each selected commune (stage 2) and
assumes households are drawn with equal probability inside a village (stage 3: target / households).
The design weight of an interview is 1 / (π1 · π2 · π3).
"""

from __future__ import annotations

import csv
import hashlib
import io
import random
import re
import unicodedata
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import Message, ValidationFailed
from ..i18n import N_
from ..models import Commune, SampleCommune, SampleVillage, SurveyRound, User, Village
from ..questionnaire import Sector
from . import audit


class SamplingError(ValidationFailed):
    """Bad sampling parameters (Vietnamese message)."""


@dataclass(frozen=True)
class Unit:
    key: Any
    size: float


@dataclass(frozen=True)
class Selection:
    key: Any
    size: float
    probability: float
    certainty: bool


def _rng(seed: int | str) -> random.Random:
    # Strings are hashed so the same text gives the same stream on every platform and Python version.
    digest = hashlib.sha256(str(seed).encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def inclusion_probabilities(units: Sequence[Unit], n: int, *, certainty: Collection[Any] = ()) -> dict[Any, float]:
    """π for every unit of the frame under systematic PPS of n (sums to n)."""
    keys = [u.key for u in units]
    if len(set(keys)) != len(keys):
        raise SamplingError(N_("Danh sách đơn vị có mã trùng nhau."))
    if any(u.size < 0 for u in units):
        raise SamplingError(N_("Quy mô (số hộ) không được âm."))
    forced = set(certainty)
    unknown = forced - set(keys)
    if unknown:
        raise SamplingError(N_("Đơn vị chọn chắc chắn không có trong danh sách."))
    positive = [u for u in units if u.size > 0 or u.key in forced]
    if n < 1:
        raise SamplingError(N_("Số đơn vị cần chọn phải từ 1 trở lên."))
    if n > len(positive):
        raise SamplingError(N_("Chỉ có {count} đơn vị có quy mô lớn hơn 0, không thể chọn {n}."), count=len(positive), n=n)
    if len(forced) > n:
        raise SamplingError(N_("Số đơn vị chọn chắc chắn nhiều hơn số đơn vị cần chọn."))
    certain = set(forced)
    while True:
        rest = [u for u in positive if u.key not in certain]
        n_rest = n - len(certain)
        total = sum(u.size for u in rest)
        if n_rest == 0 or total <= 0:
            break
        interval = total / n_rest
        big = {u.key for u in rest if u.size >= interval}
        if not big:
            break
        certain |= big
    probs: dict[Any, float] = {u.key: 0.0 for u in units}
    for key in certain:
        probs[key] = 1.0
    rest = [u for u in positive if u.key not in certain]
    n_rest = n - len(certain)
    total = sum(u.size for u in rest)
    if n_rest > 0:
        if total <= 0:
            raise SamplingError(N_("Không đủ đơn vị có quy mô lớn hơn 0."))
        for u in rest:
            probs[u.key] = n_rest * u.size / total
    return probs


def systematic_pps(
    units: Sequence[Unit], n: int, *, seed: int | str, certainty: Collection[Any] = ()
) -> list[Selection]:
    """Select n units (frame order kept: sort the frame to get implicit stratification)."""
    probs = inclusion_probabilities(units, n, certainty=certainty)
    chosen = [Selection(u.key, u.size, 1.0, True) for u in units if probs[u.key] >= 1.0]
    rest = [u for u in units if 0 < probs[u.key] < 1.0]
    n_rest = n - len(chosen)
    if n_rest > 0:
        total = sum(u.size for u in rest)
        interval = total / n_rest
        start = _rng(seed).random() * interval
        points = [start + j * interval for j in range(n_rest)]
        cumulative = 0.0
        index = 0
        for u in rest:
            low, cumulative = cumulative, cumulative + u.size
            hit = False
            while index < len(points) and points[index] < cumulative:
                if points[index] >= low:
                    hit = True
                index += 1
            if hit:
                chosen.append(Selection(u.key, u.size, probs[u.key], False))
        # Floating error at the very end of the frame can leave the last point unmatched.
        if len(chosen) < n:
            remaining = [u for u in reversed(rest) if u.key not in {c.key for c in chosen}]
            chosen.append(Selection(remaining[0].key, remaining[0].size, probs[remaining[0].key], False))
    order = {u.key: i for i, u in enumerate(units)}
    return sorted(chosen, key=lambda s: order[s.key])


def replacement_order(units: Sequence[Unit], selected: Collection[Any], *, seed: int | str, k: int) -> list[Unit]:
    """Up to k unselected units (size > 0) in a random but reproducible order: the replacement list."""
    pool = [u for u in units if u.key not in set(selected) and u.size > 0]
    _rng(f"replace|{seed}").shuffle(pool)
    return pool[:k]


# --- village list import -----------------------------------------------------------------------------
HEADERS = {
    "commune_code": ("ma_xa", "mã xã", "ma xa", "commune_code", "mã xã/phường"),
    "village": ("ten_thon", "tên thôn", "ten thon", "thôn/bản", "tên thôn, bản", "village", "village_name"),
    "households": ("so_ho", "số hộ", "so ho", "households"),
}
OPTIONAL_HEADERS = {"lat": ("vi_do", "vĩ độ", "lat"), "lon": ("kinh_do", "kinh độ", "lon")}


@dataclass(frozen=True)
class ImportResult:
    created: int
    updated: int
    errors: list[Message]

    def shown(self, lang: str) -> dict[str, object]:
        """What the import page shows: the counts and each bad row in ``lang``."""
        return {"created": self.created, "updated": self.updated, "errors": [e.translated(lang) for e in self.errors]}


def _norm(text: str) -> str:
    return unicodedata.normalize("NFC", text).strip().lower()


def read_rows(filename: str, content: bytes) -> list[list[str]]:
    """Rows of a CSV (UTF-8, comma or semicolon) or XLSX file as text cells."""
    if filename.lower().endswith(".xlsx"):
        from openpyxl import load_workbook  # imported here: only the import page needs it

        try:
            workbook = load_workbook(io.BytesIO(content), read_only=True, data_only=True)
        except Exception as exc:  # any unreadable file is the user's error, not ours
            raise ValidationFailed(N_("Không đọc được tệp Excel (.xlsx).")) from exc
        sheet = workbook.worksheets[0]
        rows = [["" if c is None else str(c).strip() for c in row] for row in sheet.iter_rows(values_only=True)]
        workbook.close()
        return rows
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise ValidationFailed(N_("Tệp CSV phải được lưu với mã UTF-8.")) from exc
    first = text.split("\n", 1)[0]
    delimiter = ";" if first.count(";") > first.count(",") else ","
    return [[c.strip() for c in row] for row in csv.reader(io.StringIO(text), delimiter=delimiter)]


def _households(text: str) -> int:
    """A non-negative whole number (thousands separators and Excel's "12.0" accepted), or -1."""
    if re.fullmatch(r"\d{1,3}([.,]\d{3})+", text):
        text = re.sub(r"[.,]", "", text)
    elif re.fullmatch(r"\d+\.0+", text):
        text = text.split(".")[0]
    return int(text) if text.isdigit() else -1


def _coordinates(cells: Sequence[str], columns: Mapping[str, int]) -> tuple[float | None, float | None] | None:
    """(lat, lon) when both are given and plausible, (None, None) when absent, None when invalid."""
    if "lat" not in columns or "lon" not in columns:
        return (None, None)
    lat_text, lon_text = cells[columns["lat"]].strip(), cells[columns["lon"]].strip()
    if not lat_text and not lon_text:
        return (None, None)
    try:
        lat, lon = float(lat_text.replace(",", ".")), float(lon_text.replace(",", "."))
    except ValueError:
        return None
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None


def import_villages(session: Session, *, rows: Sequence[Sequence[str]], actor: User | None) -> ImportResult:
    """Create or update villages; a bad row is reported (in Vietnamese, with its line number) and skipped."""
    if not rows:
        raise ValidationFailed(N_("Tệp không có dữ liệu."))
    header = [_norm(c) for c in rows[0]]
    columns: dict[str, int] = {}
    for key, names in HEADERS.items():
        for i, name in enumerate(header):
            if name in names:
                columns[key] = i
                break
    missing = [key for key in HEADERS if key not in columns]
    for key, names in OPTIONAL_HEADERS.items():
        for i, name in enumerate(header):
            if name in names:
                columns[key] = i
    if missing:
        raise ValidationFailed(N_("Dòng tiêu đề phải có các cột: ma_xa, ten_thon, so_ho (Mã xã, Tên thôn, Số hộ)."))
    communes = {c.code: c for c in session.scalars(select(Commune))}
    created = updated = 0
    errors: list[Message] = []
    seen: set[tuple[int, str]] = set()
    for line, row in enumerate(rows[1:], start=2):
        cells = list(row) + [""] * (len(header) - len(row))
        if not any(c.strip() for c in cells):
            continue
        code = cells[columns["commune_code"]].strip()
        name = " ".join(unicodedata.normalize("NFC", cells[columns["village"]]).split())
        raw_size = cells[columns["households"]].strip()
        if code.isdigit() and len(code) < 5:
            code = code.zfill(5)  # spreadsheets drop the leading zeros of commune codes
        commune = communes.get(code)
        if commune is None:
            errors.append(Message(N_("Dòng {row}: không tìm thấy xã/phường có mã “{code}”."), row=line, code=code))
            continue
        if not name or len(name) > 120:
            errors.append(Message(N_("Dòng {row}: thiếu tên thôn/bản (hoặc dài quá 120 ký tự)."), row=line))
            continue
        households = _households(raw_size)
        if households < 0 or households > 100_000:
            errors.append(Message(N_("Dòng {row}: số hộ “{value}” không hợp lệ (phải là số nguyên từ 0)."), row=line,
                                  value=cells[columns["households"]]))
            continue
        coords = _coordinates(cells, columns)
        if coords is None:
            errors.append(Message(N_("Dòng {row}: toạ độ (vĩ độ, kinh độ) không hợp lệ."), row=line))
            continue
        if (commune.id, name.lower()) in seen:
            errors.append(Message(N_("Dòng {row}: thôn “{village}” của {commune} bị lặp trong tệp."), row=line, village=name,
                                  commune=commune.name))
            continue
        seen.add((commune.id, name.lower()))
        village = session.scalar(select(Village).where(Village.commune_id == commune.id, Village.name == name))
        if village is None:
            session.add(Village(commune_id=commune.id, name=name, households=households, lat=coords[0], lon=coords[1]))
            created += 1
        else:
            village.households = households
            village.lat, village.lon = coords
            updated += 1
    session.flush()
    audit.record(session, actor=actor, action="villages_imported", details={"created": created, "updated": updated,
                                                                             "errors": len(errors)})
    return ImportResult(created, updated, errors)


# --- plans --------------------------------------------------------------------------------------------
def default_stratum(commune: Commune) -> str:
    """Urban wards, rural communes and special zones form the default strata."""
    kind = _norm(commune.division_type)
    if kind.startswith("phường"):
        return "Phường"
    if kind.startswith("đặc khu"):
        return "Đặc khu"
    return "Xã"


@dataclass(frozen=True)
class PlanParameters:
    name: str
    sector: str
    seed: str
    communes_per_stratum: Mapping[str, int]
    villages_per_commune: int
    interviews_per_village: int
    certainty_communes: Sequence[str] = ()  # commune codes taken with certainty (e.g. the commune seat)
    replacements_per_commune: int = 2
    double_entry: bool = False
    backcheck_rate: float = 0.10


def create_plan(session: Session, *, params: PlanParameters, actor: User | None) -> SurveyRound:
    """Draw a three-stage sample from the village frame and store every stage's probability."""
    if params.sector not in {s.value for s in Sector}:
        raise SamplingError(N_("Lĩnh vực không hợp lệ."))
    if not params.name.strip():
        raise SamplingError(N_("Vui lòng đặt tên đợt khảo sát."))
    if params.villages_per_commune < 1 or params.interviews_per_village < 1:
        raise SamplingError(N_("Số thôn mỗi xã và số phiếu mỗi thôn phải từ 1 trở lên."))
    if not 0 < params.backcheck_rate <= 1:
        raise SamplingError(N_("Tỷ lệ phúc tra phải trong khoảng (0; 1]."))
    villages = list(session.scalars(select(Village).order_by(Village.commune_id, Village.name)))
    by_commune: dict[int, list[Village]] = {}
    for v in villages:
        by_commune.setdefault(v.commune_id, []).append(v)
    if not by_commune:
        raise SamplingError(N_("Chưa có danh sách thôn/bản. Vui lòng nhập danh sách trước khi chọn mẫu."))
    communes = {c.id: c for c in session.scalars(select(Commune).where(Commune.id.in_(by_commune)))}
    code_to_id = {c.code: c.id for c in communes.values()}
    missing = [code for code in params.certainty_communes if code not in code_to_id]
    if missing:
        raise SamplingError(N_("Xã chọn chắc chắn không có trong danh sách thôn: {codes}."), codes=", ".join(missing))
    strata: dict[str, list[Unit]] = {}
    for cid in sorted(communes, key=lambda i: communes[i].code):
        size = sum(v.households for v in by_commune[cid])
        strata.setdefault(default_stratum(communes[cid]), []).append(Unit(cid, size))
    unknown = set(params.communes_per_stratum) - set(strata)
    if unknown:
        raise SamplingError(N_("Tầng không có trong khung mẫu: {strata}."), strata=", ".join(sorted(unknown)))
    survey_round = SurveyRound(
        name=params.name.strip()[:200], sector=params.sector, seed=params.seed, double_entry=params.double_entry,
        backcheck_rate=params.backcheck_rate,
        parameters={"communes_per_stratum": dict(params.communes_per_stratum),
                    "villages_per_commune": params.villages_per_commune,
                    "interviews_per_village": params.interviews_per_village,
                    "certainty_communes": list(params.certainty_communes),
                    "replacements_per_commune": params.replacements_per_commune},
    )
    session.add(survey_round)
    session.flush()
    forced = {code_to_id[c] for c in params.certainty_communes}
    for stratum, n in sorted(params.communes_per_stratum.items()):
        if n <= 0:
            continue
        units = strata[stratum]
        picks = systematic_pps(units, n, seed=f"{params.seed}|{stratum}",
                               certainty=[u.key for u in units if u.key in forced])
        for pick in picks:
            sc = SampleCommune(round_id=survey_round.id, commune_id=pick.key, stratum=stratum, size=pick.size,
                               probability=pick.probability, certainty=pick.certainty)
            session.add(sc)
            session.flush()
            _draw_villages(session, survey_round=survey_round, sample_commune=sc, villages=by_commune[pick.key],
                           params=params)
    audit.record(session, actor=actor, action="sample_drawn", target_type="survey_round", target_id=survey_round.id,
                 details={"seed": params.seed, "sector": params.sector})
    return survey_round


def _draw_villages(
    session: Session, *, survey_round: SurveyRound, sample_commune: SampleCommune, villages: list[Village],
    params: PlanParameters,
) -> None:
    units = [Unit(v.id, float(v.households)) for v in villages]
    m = min(params.villages_per_commune, len([u for u in units if u.size > 0]))
    if m == 0:
        return
    seed = f"{params.seed}|{sample_commune.commune_id}"
    picks = systematic_pps(units, m, seed=seed)
    probs = inclusion_probabilities(units, m)
    # Replacements get the probability they would have had if drawn (an approximation, as in PAPI practice).
    for unit in replacement_order(units, [p.key for p in picks], seed=seed, k=params.replacements_per_commune):
        picks.append(Selection(unit.key, unit.size, probs[unit.key], False))
    replacement_keys = {p.key for p in picks[m:]}
    for index, pick in enumerate(picks):
        households = max(pick.size, 1.0)
        target = params.interviews_per_village
        p_household = min(1.0, target / households)
        pi = sample_commune.probability * pick.probability * p_household
        session.add(SampleVillage(
            round_id=survey_round.id, sample_commune_id=sample_commune.id, village_id=pick.key, size=pick.size,
            prob_commune=sample_commune.probability, prob_village=pick.probability, prob_household=p_household,
            design_weight=1.0 / pi, certainty=pick.certainty, target=target,
            status="replacement" if pick.key in replacement_keys else "selected",
            rank=index - m + 1 if pick.key in replacement_keys else None,
        ))
    session.flush()


def stratum_label(sample_village: SampleVillage) -> str:
    return sample_village.sample_commune.stratum


def psu_code(sample_village: SampleVillage) -> str:
    """A stable PSU identifier for the analysis: commune code and village id."""
    return f"{sample_village.sample_commune.commune.code}-{sample_village.village_id}"
