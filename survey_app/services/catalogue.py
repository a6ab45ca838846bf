"""The administrative catalogue (34 provinces, 3,321 commune-level units) from `vietnam-provinces`."""

from __future__ import annotations

from sqlalchemy import func, insert, select
from sqlalchemy.orm import Session
from vietnam_provinces import Province as VPProvince
from vietnam_provinces import Ward as VPWard

from ..models import CURRENT_CODE_SCHEME, Commune, Province
from ..text import fold


def province_code(value: int) -> str:
    return f"{value:02d}"


def commune_code(value: int) -> str:
    return f"{value:05d}"


def load_catalogue(session: Session) -> tuple[int, int]:
    """Insert the current catalogue if it is not loaded yet (idempotent). Returns (provinces, communes) added."""
    existing = {
        code: pid
        for code, pid in session.execute(
            select(Province.code, Province.id).where(Province.code_scheme == CURRENT_CODE_SCHEME)
        )
    }
    added_p = 0
    for p in VPProvince.iter_all():
        code = province_code(int(p.code))
        if code in existing:
            continue
        row = Province(
            code_scheme=CURRENT_CODE_SCHEME,
            code=code,
            name=p.name,
            name_ascii=fold(p.name),
            division_type=str(p.division_type.value),
        )
        session.add(row)
        session.flush()
        existing[code] = row.id
        added_p += 1
    have = set(
        session.scalars(select(Commune.code).where(Commune.code_scheme == CURRENT_CODE_SCHEME))
    )
    rows = []
    for w in VPWard.iter_all():
        code = commune_code(int(w.code))
        if code in have:
            continue
        rows.append(
            {
                "code_scheme": CURRENT_CODE_SCHEME,
                "code": code,
                "province_id": existing[province_code(int(w.province_code))],
                "name": w.name,
                "name_ascii": fold(w.name),
                "division_type": str(w.division_type.value),
            }
        )
    if rows:
        session.execute(insert(Commune), rows)
    return added_p, len(rows)


def get_province(session: Session, code: str) -> Province | None:
    return session.scalar(
        select(Province).where(Province.code_scheme == CURRENT_CODE_SCHEME, Province.code == code)
    )


def get_commune(session: Session, code: str) -> Commune | None:
    return session.scalar(
        select(Commune).where(Commune.code_scheme == CURRENT_CODE_SCHEME, Commune.code == code)
    )


def communes_of(session: Session, *, province_code: str) -> list[Commune]:
    return list(
        session.scalars(
            select(Commune)
            .join(Province)
            .where(Province.code == province_code, Commune.code_scheme == CURRENT_CODE_SCHEME)
            .order_by(Commune.code)
        )
    )


def search_communes(
    session: Session, *, query: str, province_code: str | None = None, limit: int = 20
) -> list[Commune]:
    """Accent-insensitive search on the commune name (with or without "xã"/"phường")."""
    # Only letters, digits and spaces reach the LIKE pattern: no wildcard injection.
    folded = " ".join("".join(ch for ch in fold(query) if ch.isalnum() or ch == " ").split())
    if not folded:
        return []
    pattern = f"%{folded}%"
    stmt = select(Commune).where(Commune.code_scheme == CURRENT_CODE_SCHEME, Commune.name_ascii.like(pattern))
    if province_code:
        stmt = stmt.join(Province).where(Province.code == province_code)
    # Names that start with the query (after the unit type) first, then shorter names.
    stmt = stmt.order_by(func.length(Commune.name_ascii), Commune.code).limit(limit)
    return list(session.scalars(stmt))
