"""Reception points (điểm tiếp nhận), their unguessable tokens and QR codes."""

from __future__ import annotations

import io
import re
import secrets
from collections.abc import Iterator

import qrcode
import qrcode.image.svg
from sqlalchemy import bindparam, func, select
from sqlalchemy.orm import Session, joinedload

from ..errors import PointNotFound, ValidationFailed
from ..i18n import N_
from ..models import Commune, ReceptionPoint, utcnow
from ..questionnaire import Sector
from .keyset import PAGE_SIZE, Page, page_of

TOKEN_BYTES = 16  # 128 bits: not guessable, still a short URL
SECTOR_PREFIX = {"health": "YT", "primary_education": "GD", "one_stop": "MC", "land_certificate": "DD"}


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def public_path(token: str) -> str:
    return f"/q/{token}"


def public_url(base_url: str, token: str) -> str:
    return base_url.rstrip("/") + public_path(token)


def _next_code(session: Session, commune: Commune, sector: str) -> str:
    prefix = f"{commune.code}-{SECTOR_PREFIX[sector]}"
    count = session.scalar(select(func.count()).where(ReceptionPoint.code.like(prefix + "-%"))) or 0
    return f"{prefix}-{count + 1:02d}"


def create_point(
    session: Session, *, commune: Commune, sector: str, name: str, code: str | None = None
) -> ReceptionPoint:
    if sector not in {s.value for s in Sector}:
        raise ValidationFailed(N_("Lĩnh vực không hợp lệ: {sectors}"), sectors=sector)
    name = " ".join(name.split())
    if not name or len(name) > 200:
        raise ValidationFailed(N_("Tên điểm tiếp nhận phải có từ 1 đến 200 ký tự."))
    if code is not None and not re.fullmatch(r"[A-Za-z0-9_-]{1,40}", code):
        raise ValidationFailed(N_("Mã điểm tiếp nhận chỉ gồm chữ, số, '-' và '_' (tối đa 40 ký tự)."))
    code = code or _next_code(session, commune, sector)
    if session.scalar(select(ReceptionPoint.id).where(ReceptionPoint.code == code)) is not None:
        raise ValidationFailed(N_("Mã điểm tiếp nhận {code} đã tồn tại."), code=code)
    point = ReceptionPoint(code=code, name=name, commune_id=commune.id, sector=sector, token=new_token())
    session.add(point)
    session.flush()
    return point


def rotate_token(session: Session, *, point: ReceptionPoint) -> ReceptionPoint:
    """Issue a new token; the old QR code stops working at once."""
    point.token = new_token()
    point.token_rotated_at = utcnow()
    session.flush()
    return point


def revoke(session: Session, *, point: ReceptionPoint) -> ReceptionPoint:
    point.active = False
    point.revoked_at = utcnow()
    session.flush()
    return point


_ACTIVE_BY_TOKEN = select(ReceptionPoint).where(ReceptionPoint.token == bindparam("token"),
                                                ReceptionPoint.active.is_(True))


def get_by_token(session: Session, *, token: str) -> ReceptionPoint:
    if not re.fullmatch(r"[A-Za-z0-9_-]{8,64}", token):
        raise PointNotFound()
    # No eager commune: the citizen form is rendered once per point and cached; a page that shows the
    # commune loads it lazily.
    point = session.scalar(_ACTIVE_BY_TOKEN, {"token": token})
    if point is None:
        raise PointNotFound()
    return point


def get_by_code(session: Session, *, code: str) -> ReceptionPoint | None:
    return session.scalar(
        select(ReceptionPoint).options(joinedload(ReceptionPoint.commune)).where(ReceptionPoint.code == code)
    )


def list_points(
    session: Session, *, commune_id: int | None = None, sector: str | None = None, active_only: bool = False
) -> list[ReceptionPoint]:
    stmt = select(ReceptionPoint).options(joinedload(ReceptionPoint.commune)).order_by(ReceptionPoint.code)
    if commune_id is not None:
        stmt = stmt.where(ReceptionPoint.commune_id == commune_id)
    if sector is not None:
        stmt = stmt.where(ReceptionPoint.sector == sector)
    if active_only:
        stmt = stmt.where(ReceptionPoint.active.is_(True))
    return list(session.scalars(stmt))


def page_points(
    session: Session, *, commune_id: int | None = None, sector: str | None = None, after: str | None = None,
    limit: int = PAGE_SIZE,
) -> Page[ReceptionPoint]:
    """One page of the admin list in code order, keyset by the unique code (its index serves the walk; a
    commune's own points are few enough to sort)."""
    stmt = (select(ReceptionPoint).options(joinedload(ReceptionPoint.commune))
            .order_by(ReceptionPoint.code).limit(limit + 1))
    if commune_id is not None:
        stmt = stmt.where(ReceptionPoint.commune_id == commune_id)
    if sector is not None:
        stmt = stmt.where(ReceptionPoint.sector == sector)
    if after is not None:
        stmt = stmt.where(ReceptionPoint.code > after)
    return page_of(list(session.scalars(stmt)), limit=limit, key=lambda p: p.code)


EXPORT_HEADER = ("code", "name", "commune_code", "sector", "url", "active")


def export_rows(session: Session, *, base_url: str) -> Iterator[tuple[str, ...]]:
    yield EXPORT_HEADER
    for p in list_points(session):
        yield (p.code, p.name, p.commune.code, p.sector, public_url(base_url, p.token), "1" if p.active else "0")


def _qr(url: str) -> qrcode.QRCode:
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=10, border=4)
    qr.add_data(url)
    qr.make(fit=True)
    return qr


def qr_svg(url: str) -> str:
    """An SVG path image (scales cleanly on an A5 poster)."""
    img = _qr(url).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    text: str = img.to_string(encoding="unicode")
    # No XML declaration, so the same string serves as a file and inline in a poster page.
    return text[text.index("<svg") :]


def qr_png(url: str) -> bytes:
    buf = io.BytesIO()
    _qr(url).make_image(fill_color="black", back_color="white").save(buf, format="PNG")
    return buf.getvalue()
