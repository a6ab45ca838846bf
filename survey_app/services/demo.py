"""Synthetic demo data for Sơn La: reception points in a dozen real communes and a few thousand
responses with plausible differences between communes and sectors. Clearly synthetic: never use
these numbers as results."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from ..models import Commune, ReceptionPoint, Response
from ..questionnaire import NA_VALUE, Item, ItemType, Questionnaire, is_visible
from . import catalogue, demo_reports
from . import points as points_service
from . import questionnaires as q_service
from .submissions import store_response, validate_answers

DEMO_COMMUNES = (
    "Phường Tô Hiệu", "Phường Chiềng An", "Phường Chiềng Cơi", "Phường Mộc Châu", "Xã Thuận Châu",
    "Xã Mường La", "Xã Bắc Yên", "Xã Phù Yên", "Xã Yên Châu", "Xã Mai Sơn", "Xã Sông Mã", "Xã Sốp Cộp",
)
POINT_NAMES = {
    "health": "Trạm Y tế {name}",
    "primary_education": "Trường Tiểu học {name}",
    "one_stop": "Bộ phận Một cửa {name}",
    "land_certificate": "Chi nhánh Văn phòng đăng ký đất đai {name}",
}
SECTOR_BASE = {"health": 0.45, "primary_education": 0.25, "one_stop": 0.75, "land_certificate": -0.1}


@dataclass(frozen=True)
class DemoSummary:
    communes: int
    points: int
    responses: int

    def __str__(self) -> str:
        return f"{self.communes} xã/phường, {self.points} điểm tiếp nhận, {self.responses} phiếu (dữ liệu tổng hợp giả lập)"


def _short_name(commune: Commune) -> str:
    for prefix in ("Phường ", "Xã "):
        if commune.name.startswith(prefix):
            return prefix.lower() + commune.name[len(prefix) :]
    return commune.name


def _answer(item: Item, latent: float, rng: np.random.Generator) -> list[str]:
    if item.type == ItemType.scale5:
        if item.allow_na and rng.random() < 0.08:
            return [NA_VALUE]
        score = int(np.clip(np.rint(3.3 + latent + rng.normal(0, 0.9)), 1, 5))
        return [str(score)]
    if item.type == ItemType.yesno:
        return ["yes" if rng.random() < 0.9 else "no"]
    if item.type == ItemType.single:
        weights = np.linspace(1.6, 0.6, len(item.options))
        return [item.options[int(rng.choice(len(item.options), p=weights / weights.sum()))].value]
    if item.type == ItemType.multi:
        k = int(rng.integers(1, min(3, len(item.options)) + 1))
        return [o.value for o in rng.choice(np.array(item.options, dtype=object), size=k, replace=False)]
    if item.type == ItemType.number:
        low = item.min if item.min is not None else 0
        high = item.max if item.max is not None else low + 30
        return [str(int(rng.integers(int(low), int(min(high, low + 60)) + 1)))]
    return ["Cần thêm ghế ngồi chờ."] if rng.random() < 0.05 else []


def synthetic_form(q: Questionnaire, latent: float, rng: np.random.Generator) -> dict[str, list[str]]:
    """Answers in form-post shape that respect the questionnaire's skip logic."""
    form: dict[str, list[str]] = {}
    current: dict[str, str | list[str] | None] = {}
    for item in q.items:
        if not is_visible(item, current):
            continue
        if not item.required and item.type != ItemType.text and rng.random() < 0.1:
            continue
        values = _answer(item, latent, rng)
        if values:
            form[item.id] = values
            current[item.id] = values if item.type == ItemType.multi else values[0]
    return form


def seed(session: Session, *, province_code: str, responses: int = 3000, seed: int = 20260601) -> DemoSummary:
    """Idempotent: points are created once; responses are topped up to ``responses``."""
    rng = np.random.default_rng(seed)
    communes = [c for c in catalogue.communes_of(session, province_code=province_code) if c.name in DEMO_COMMUNES]
    points: list[ReceptionPoint] = []
    for commune in communes:
        for sector, template in POINT_NAMES.items():
            name = template.format(name=_short_name(commune))
            point = session.scalar(select(ReceptionPoint).where(ReceptionPoint.name == name))
            if point is None:
                point = points_service.create_point(session, commune=commune, sector=sector, name=name)
            points.append(point)
    have = session.scalar(select(func.count()).select_from(Response)) or 0
    commune_effect = {c.id: float(rng.normal(0, 0.35)) for c in communes}
    versions = {s: q_service.current_for_sector(session, sector=s) for s in POINT_NAMES}
    now = dt.datetime.now(dt.UTC)
    for _ in range(max(0, responses - have)):
        point = points[int(rng.integers(len(points)))]
        version = versions[point.sector]
        if version is None:
            continue
        q = q_service.parsed(version)
        latent = SECTOR_BASE[point.sector] + commune_effect[point.commune_id] + float(rng.normal(0, 0.4))
        validated = validate_answers(q, synthetic_form(q, latent, rng))
        if not validated.ok:  # the generator must respect the questionnaire; a failure is a bug here
            raise RuntimeError(f"demo generator produced invalid answers: {validated.errors}")
        submitted = now - dt.timedelta(days=float(rng.uniform(0, 360)))
        store_response(
            session,
            submission_id=str(uuid.UUID(int=int(rng.integers(0, 2**63)) << 64 | int(rng.integers(0, 2**63)))),
            version=version,
            validated=validated,
            commune_id=point.commune_id,
            sector=point.sector,
            mode="qr",
            language="vi",
            started_at=submitted - dt.timedelta(seconds=float(rng.uniform(90, 400))),
            point=point,
            submitted_at=submitted,
        )
    demo_reports.seed_reports(session, province_code=province_code, commune_ids=[c.id for c in communes])
    total = session.scalar(select(func.count()).select_from(Response)) or 0
    return DemoSummary(communes=len(communes), points=len(points), responses=total)
