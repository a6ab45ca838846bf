"""Routing feedback to the responsible agency and suggesting a category, from admin-editable tables.

Routing rules: sector × (all communes | one commune) × (any point | points whose folded name contains a
fragment). The most specific active rule wins (point match, then commune, then province-wide; ties: the
oldest rule). Defaults are the Sơn La 2026 assignments, seeded by the migration.
Keyword rules: accent-insensitive whole-word phrases; the highest priority match gives the category.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from ..errors import ValidationFailed
from ..i18n import N_
from ..models import Commune, KeywordRule, ReceptionPoint, RoutingRule, User
from ..text import fold
from .accounts import DEPARTMENT_SECTORS
from .workdays import DEFAULT_DEADLINE_DAYS

COMMUNE_AGENCY = "@ubnd_xa"  # in a routing rule: the People's Committee of the item's own commune

SECTOR_LABELS = {
    "health": N_("Y tế công lập"),
    "primary_education": N_("Giáo dục tiểu học công lập"),
    "land_certificate": N_("Giấy chứng nhận quyền sử dụng đất"),
    "one_stop": N_("Bộ phận Một cửa"),
    "construction_permit": N_("Cấp phép xây dựng"),
    "other": N_("Lĩnh vực khác"),
}
CATEGORY_LABELS = {
    "misconduct": N_("Nhũng nhiễu, tiêu cực"),
    "attitude": N_("Thái độ, ứng xử của cán bộ"),
    "waiting": N_("Thời gian chờ, trễ hẹn"),
    "fees": N_("Phí, lệ phí, chi phí"),
    "facilities": N_("Cơ sở vật chất"),
    "procedure": N_("Thủ tục, hồ sơ, giấy tờ"),
    "quality": N_("Chuyên môn, chất lượng dịch vụ"),
    "other": N_("Khác"),
}
PROVINCIAL_AGENCIES = (
    "Sở Y tế",
    "Sở Giáo dục và Đào tạo",
    "Sở Nông nghiệp và Môi trường",
    "Sở Xây dựng",
    "Văn phòng UBND tỉnh",
    "Sở Nội vụ",
    "Sở Tư pháp",
    "Thanh tra tỉnh",
)


def commune_agency(commune: Commune) -> str:
    return f"UBND {commune.name}"


def agency_label(agency: str | None) -> str:
    if agency is None:
        return N_("Chưa phân công")
    return N_("UBND xã/phường nơi tiếp nhận") if agency == COMMUNE_AGENCY else agency


def agencies_of(session: Session, user: User) -> frozenset[str]:
    """The agencies whose feedback the user handles: their explicit agency, else one derived from the scope
    (a sector reviewer belongs to that sector's department; a commune officer to their communes' UBND)."""
    if user.agency:
        return frozenset({user.agency})
    if user.role == "reviewer":
        by_sector = {sector: dept for dept, sector in DEPARTMENT_SECTORS.items()}
        return frozenset(by_sector[s.sector] for s in user.scopes if s.sector in by_sector)
    if user.role == "commune":
        ids = [s.commune_id for s in user.scopes if s.commune_id is not None]
        if ids:
            return frozenset(commune_agency(c) for c in session.scalars(select(Commune).where(Commune.id.in_(ids))))
    return frozenset()


@dataclass(frozen=True)
class RouteDecision:
    agency: str | None
    deadline_days: int
    rule_id: int | None


def route(
    session: Session, *, sector: str, commune: Commune | None, point: ReceptionPoint | None = None
) -> RouteDecision:
    rules = session.scalars(
        select(RoutingRule).where(RoutingRule.sector == sector, RoutingRule.active.is_(True)).order_by(RoutingRule.id)
    )
    point_name = fold(point.name) if point is not None else ""
    best: tuple[int, RoutingRule] | None = None
    for rule in rules:
        if rule.commune_id is not None and (commune is None or rule.commune_id != commune.id):
            continue
        if rule.point_match and (not point_name or fold(rule.point_match) not in point_name):
            continue
        score = (2 if rule.point_match else 0) + (1 if rule.commune_id is not None else 0)
        if best is None or score > best[0]:
            best = (score, rule)
    if best is None:
        return RouteDecision(None, DEFAULT_DEADLINE_DAYS, None)
    rule = best[1]
    agency: str | None = rule.agency
    if agency == COMMUNE_AGENCY:
        agency = commune_agency(commune) if commune is not None else None
    return RouteDecision(agency, rule.deadline_days, rule.id)


@dataclass(frozen=True)
class Suggestion:
    category: str
    sector: str | None
    keyword: str | None


def _matches(keyword: str, folded_text: str) -> bool:
    return re.search(rf"(?<!\w){re.escape(keyword)}(?!\w)", folded_text) is not None


def suggest(session: Session, *, text: str) -> Suggestion:
    """Category (and a sector hint) from the keyword rules; "other" when nothing matches."""
    folded = fold(text)
    rules = session.scalars(select(KeywordRule).order_by(KeywordRule.priority.desc(), KeywordRule.id))
    category: str | None = None
    sector: str | None = None
    keyword: str | None = None
    for rule in rules:
        if not _matches(rule.keyword, folded):
            continue
        if category is None:
            category, keyword = rule.category, rule.keyword
        if sector is None and rule.sector:
            sector = rule.sector
        if category is not None and sector is not None:
            break
    return Suggestion(category or "other", sector, keyword)


def list_routing_rules(session: Session) -> list[RoutingRule]:
    return list(session.scalars(select(RoutingRule).order_by(RoutingRule.sector, RoutingRule.id)))


def add_routing_rule(
    session: Session, *, sector: str, agency: str, commune: Commune | None = None, point_match: str = "",
    deadline_days: int = DEFAULT_DEADLINE_DAYS,
) -> RoutingRule:
    if sector not in SECTOR_LABELS:
        raise ValidationFailed(N_("Lĩnh vực không hợp lệ."))
    agency = " ".join(agency.split())
    if not agency or len(agency) > 200:
        raise ValidationFailed(N_("Vui lòng nhập tên cơ quan chịu trách nhiệm (tối đa 200 ký tự)."))
    if not 1 <= deadline_days <= 90:
        raise ValidationFailed(N_("Thời hạn trả lời phải từ 1 đến 90 ngày làm việc."))
    match = fold(point_match)[:120] or None
    rule = RoutingRule(sector=sector, agency=agency, commune_id=commune.id if commune else None, point_match=match,
                       deadline_days=deadline_days, active=True)
    session.add(rule)
    session.flush()
    return rule


def list_keyword_rules(session: Session) -> list[KeywordRule]:
    return list(session.scalars(select(KeywordRule).order_by(KeywordRule.priority.desc(), KeywordRule.keyword)))


def add_keyword_rule(
    session: Session, *, keyword: str, category: str, sector: str | None = None, priority: int = 0
) -> KeywordRule:
    folded = fold(keyword)
    if not folded or len(folded) > 100:
        raise ValidationFailed(N_("Vui lòng nhập từ khoá (tối đa 100 ký tự)."))
    if category not in CATEGORY_LABELS:
        raise ValidationFailed(N_("Nhóm nội dung không hợp lệ."))
    if sector is not None and sector not in SECTOR_LABELS:
        raise ValidationFailed(N_("Lĩnh vực không hợp lệ."))
    if not -100 <= priority <= 100:
        raise ValidationFailed(N_("Độ ưu tiên phải từ -100 đến 100."))
    exists = session.scalar(select(KeywordRule.id).where(KeywordRule.keyword == folded, KeywordRule.category == category))
    if exists is not None:
        raise ValidationFailed(N_("Từ khoá “{keyword}” đã có cho nhóm này."), keyword=folded)
    rule = KeywordRule(keyword=folded, category=category, sector=sector, priority=priority)
    session.add(rule)
    session.flush()
    return rule
