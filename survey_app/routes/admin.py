"""Administration: reception points, QR codes and printable posters (admin role)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response

from ..deps import CurrentUser, LanguageDep, SessionDep, SettingsDep, require_roles
from ..errors import NotFound, ValidationFailed
from ..i18n import N_
from ..models import ReceptionPoint
from ..questionnaire import SECTOR_LABELS
from ..services import audit, catalogue, keyset
from ..services import points as points_service
from . import paging
from .csrf import check_same_origin

router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_roles("admin"))])


def _point(session: SessionDep, point_id: int) -> ReceptionPoint:
    point = session.get(ReceptionPoint, point_id)
    if point is None:
        raise NotFound()
    return point


def _render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context, status_code=status_code)  # type: ignore[no-any-return]


@router.get("", name="admin.home")
def home(request: Request) -> Response:
    return RedirectResponse(str(request.url_for("admin.points")), status_code=303)


def _points_page(
    request: Request, session: SessionDep, settings: SettingsDep, lang: str, user: CurrentUser,
    error: str | None = None, status_code: int = 200, commune: str = "", sector: str = "", after: str = "",
) -> Response:
    # A province has thousands of points at national scale: one page at a time, filtered by commune and sector.
    communes = catalogue.communes_of(session, province_code=settings.province_code)
    commune_row = next((c for c in communes if c.code == commune), None)
    page = points_service.page_points(
        session, commune_id=commune_row.id if commune_row else (-1 if commune else None),
        sector=sector if sector in SECTOR_LABELS else None, after=keyset.parse_text(after, max_length=40),
    )
    return _render(
        request,
        "admin/points.html",
        {
            "lang": lang,
            "user": user,
            "points": page.rows,
            "sectors": SECTOR_LABELS,
            "base_url": settings.base_url,
            "error": error,
            "communes": communes,
            "filter_commune": commune,
            "filter_sector": sector,
            "next_url": paging.next_url(request, "admin.points", page, param="after"),
            "first_url": paging.first_url(request, "admin.points", param="after"),
        },
        status_code,
    )


@router.get("/points", name="admin.points")
def list_points(
    request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    commune: str = "", sector: str = "", after: str = "",
) -> Response:
    return _points_page(request, session, settings, lang, user, commune=commune[:10], sector=sector[:30], after=after)


@router.post("/points", name="admin.points_create", dependencies=[Depends(check_same_origin)])
def create_point(
    request: Request,
    session: SessionDep,
    settings: SettingsDep,
    lang: LanguageDep,
    user: CurrentUser,
    name: str = Form("", max_length=300),
    commune_code: str = Form("", max_length=10),
    sector: str = Form("", max_length=30),
) -> Response:
    commune = catalogue.get_commune(session, commune_code)
    try:
        if commune is None:
            raise ValidationFailed(N_("Không tìm thấy xã/phường đã chọn."))
        point = points_service.create_point(session, commune=commune, sector=sector, name=name)
        audit.record(session, actor=user, action="point_created", target_type="point", target_id=point.code)
    except ValidationFailed as exc:
        session.rollback()
        return _points_page(request, session, settings, lang, user, error=exc.translated(lang), status_code=422)
    session.commit()
    return RedirectResponse(str(request.url_for("admin.points")), status_code=303)


@router.post("/points/{point_id}/rotate", name="admin.points_rotate", dependencies=[Depends(check_same_origin)])
def rotate(request: Request, point_id: int, session: SessionDep, user: CurrentUser) -> Response:
    point = points_service.rotate_token(session, point=_point(session, point_id))
    audit.record(session, actor=user, action="point_rotated", target_type="point", target_id=point.code)
    session.commit()
    return RedirectResponse(str(request.url_for("admin.points")), status_code=303)


@router.post("/points/{point_id}/revoke", name="admin.points_revoke", dependencies=[Depends(check_same_origin)])
def revoke(request: Request, point_id: int, session: SessionDep, user: CurrentUser) -> Response:
    point = points_service.revoke(session, point=_point(session, point_id))
    audit.record(session, actor=user, action="point_revoked", target_type="point", target_id=point.code)
    session.commit()
    return RedirectResponse(str(request.url_for("admin.points")), status_code=303)


@router.get("/points/{point_id}/qr.svg", name="admin.points_qr_svg")
def qr_svg(point_id: int, session: SessionDep, settings: SettingsDep) -> Response:
    point = _point(session, point_id)
    svg = points_service.qr_svg(points_service.public_url(settings.base_url, point.token))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


@router.get("/points/{point_id}/qr.png", name="admin.points_qr_png")
def qr_png(point_id: int, session: SessionDep, settings: SettingsDep) -> Response:
    point = _point(session, point_id)
    png = points_service.qr_png(points_service.public_url(settings.base_url, point.token))
    return Response(png, media_type="image/png", headers={"Cache-Control": "no-store"})


def _posters(request: Request, points: list[ReceptionPoint], settings: SettingsDep, lang: str) -> Response:
    posters = [
        {
            "point": p,
            "url": points_service.public_url(settings.base_url, p.token),
            "short_url": points_service.public_url(settings.base_url, p.token).split("://", 1)[-1],
            "svg": points_service.qr_svg(points_service.public_url(settings.base_url, p.token)),
            "easy_svg": points_service.qr_svg(points_service.public_url(settings.base_url, p.token) + "/de-dang"),
            "sector": SECTOR_LABELS[p.sector]["vi"],
        }
        for p in points
    ]
    return _render(request, "admin/posters.html", {"lang": lang, "posters": posters})


@router.get("/points/{point_id}/poster", name="admin.points_poster")
def poster(request: Request, point_id: int, session: SessionDep, settings: SettingsDep, lang: LanguageDep) -> Response:
    point = _point(session, point_id)
    if not point.active:
        raise NotFound()
    return _posters(request, [point], settings, lang)


@router.get("/communes/{commune_code}/posters", name="admin.commune_posters")
def commune_posters(
    request: Request, commune_code: str, session: SessionDep, settings: SettingsDep, lang: LanguageDep
) -> Response:
    commune = catalogue.get_commune(session, commune_code)
    if commune is None:
        raise NotFound()
    return _posters(request, points_service.list_points(session, commune_id=commune.id, active_only=True), settings, lang)
