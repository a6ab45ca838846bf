"""Desk kiosk mode: a tablet at a one-stop desk runs one reception point's form full screen, offline.

- /admin/kiosks…: an admin creates a kiosk for a point and gets a signed pairing link (and its QR code).
- /kiosk/ghep/{ticket}: opened once on the tablet; exchanges the link for a bearer token kept in IndexedDB.
- /kiosk/{slug}/: the kiosk page (cached by the service worker, scope /kiosk/); it shows only the public form;
  /kiosk/{slug}/de-dang/ the low-literacy variant. Both take ?lang= (every language cached for offline use).
- POST /api/v1/kiosk/responses: the same batch protocol as POST /api/v1/interviews, with a kiosk token.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, ValidationError

from ..deps import CurrentUser, LanguageDep, SessionDep, SettingsDep, SignerDep, require_roles
from ..errors import AppError, NotFound, PayloadTooLarge, ValidationFailed
from ..i18n import LANGUAGE_NAMES, N_, pick_language
from ..models import KioskDevice, ReceptionPoint
from ..questionnaire import SECTOR_LABELS, Questionnaire
from ..services import interviews
from ..services import kiosk as kiosk_service
from ..services import points as points_service
from ..services import questionnaires as q_service
from ..services.keyset import parse_int
from . import paging
from .api_interviews import ItemResultOut, SyncResult
from .csrf import check_same_origin
from .public import NOTICE_VERSION, easy_context

admin_router = APIRouter(prefix="/admin", tags=["admin"], dependencies=[Depends(require_roles("admin"))])
public_router = APIRouter(prefix="/kiosk", tags=["kiosk"])
api_router = APIRouter(prefix="/api/v1", tags=["api"])
bearer = HTTPBearer(auto_error=False, description="Mã của máy kiosk (nhận khi ghép máy tại /kiosk/ghep/…)")


# --- administration ------------------------------------------------------------------------------------
def _kiosk(session: SessionDep, kiosk_id: int) -> KioskDevice:
    kiosk = session.get(KioskDevice, kiosk_id)
    if kiosk is None:
        raise NotFound()
    return kiosk


def _admin_page(
    request: Request, session: SessionDep, signer: SignerDep, lang: str, user: CurrentUser, *,
    point: ReceptionPoint | None = None, error: str | None = None, status_code: int = 200, point_code: str = "",
) -> Response:
    kiosks = kiosk_service.list_kiosks(session, point_id=point.id if point else None,
                                       before_id=parse_int(request.query_params.get("before")))
    params: dict[str, Any] = {"point_id": point.id} if point else {}
    route = "admin.point_kiosks" if point else "admin.kiosks"
    pairing = {}
    for k in kiosks:
        ticket = kiosk_service.pairing_ticket(signer, k)
        if ticket:
            pairing[k.id] = str(request.url_for("kiosk.pair_form", ticket=ticket))
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "kiosk/admin.html",
        {"lang": lang, "user": user, "kiosks": kiosks, "pairing": pairing, "point": point, "error": error,
         "point_code": point_code, "sectors": SECTOR_LABELS,
         "stored": kiosk_service.stored_counts(session, kiosk_ids=[k.id for k in kiosks]),
         "next_url": paging.next_url(request, route, kiosks, param="before", **params),
         "first_url": paging.first_url(request, route, param="before", **params)},
        status_code=status_code,
    )


@admin_router.get("/kiosks", name="admin.kiosks")
def kiosks(request: Request, session: SessionDep, signer: SignerDep, lang: LanguageDep, user: CurrentUser) -> Response:
    return _admin_page(request, session, signer, lang, user)


@admin_router.get("/points/{point_id}/kiosk", name="admin.point_kiosks")
def point_kiosks(
    request: Request, point_id: int, session: SessionDep, signer: SignerDep, lang: LanguageDep, user: CurrentUser
) -> Response:
    point = session.get(ReceptionPoint, point_id)
    if point is None:
        raise NotFound()
    return _admin_page(request, session, signer, lang, user, point=point)


@admin_router.post("/kiosks", name="admin.kiosks_create", dependencies=[Depends(check_same_origin)])
def create(
    request: Request, session: SessionDep, signer: SignerDep, lang: LanguageDep, user: CurrentUser,
    point_id: int = Form(0), point_code: str = Form("", max_length=40), label: str = Form("", max_length=300),
) -> Response:
    # From a point's own kiosk page the point is fixed (point_id); from the list of every kiosk the officer
    # types the point's code (a province has thousands of points: no drop-down of all of them).
    code = point_code.strip().upper()
    point = session.get(ReceptionPoint, point_id) if point_id else points_service.get_by_code(session, code=code)
    try:
        if point is None and code:
            raise ValidationFailed(N_("Không có điểm tiếp nhận mã “{code}”."), code=code)
        if point is None:
            raise ValidationFailed(N_("Vui lòng chọn điểm tiếp nhận."))
        kiosk_service.create_kiosk(session, actor=user, point=point, label=label)
    except ValidationFailed as exc:
        session.rollback()
        fixed = session.get(ReceptionPoint, point_id) if point_id else None
        return _admin_page(request, session, signer, lang, user, point=fixed, error=exc.translated(lang),
                           status_code=422, point_code=point_code)
    session.commit()
    return RedirectResponse(str(request.url_for("admin.point_kiosks", point_id=point.id)), status_code=303)


@admin_router.post("/kiosks/{kiosk_id}/repair", name="admin.kiosks_repair", dependencies=[Depends(check_same_origin)])
def repair(request: Request, kiosk_id: int, session: SessionDep, user: CurrentUser) -> Response:
    kiosk = _kiosk(session, kiosk_id)
    kiosk_service.reset_pairing(session, actor=user, kiosk=kiosk)
    session.commit()
    return RedirectResponse(str(request.url_for("admin.point_kiosks", point_id=kiosk.point_id)), status_code=303)


@admin_router.post("/kiosks/{kiosk_id}/revoke", name="admin.kiosks_revoke", dependencies=[Depends(check_same_origin)])
def revoke(request: Request, kiosk_id: int, session: SessionDep, user: CurrentUser) -> Response:
    kiosk = _kiosk(session, kiosk_id)
    kiosk_service.revoke(session, actor=user, kiosk=kiosk)
    session.commit()
    return RedirectResponse(str(request.url_for("admin.point_kiosks", point_id=kiosk.point_id)), status_code=303)


@admin_router.get("/kiosks/{kiosk_id}/pair.svg", name="admin.kiosks_qr")
def pairing_qr(request: Request, kiosk_id: int, session: SessionDep, signer: SignerDep) -> Response:
    ticket = kiosk_service.pairing_ticket(signer, _kiosk(session, kiosk_id))
    if ticket is None:
        raise NotFound(N_("Máy kiosk đã được ghép hoặc đã bị thu hồi."))
    svg = points_service.qr_svg(str(request.url_for("kiosk.pair_form", ticket=ticket)))
    return Response(svg, media_type="image/svg+xml", headers={"Cache-Control": "no-store"})


# --- the tablet ----------------------------------------------------------------------------------------
@public_router.get("/sw.js", name="kiosk.service_worker")
def service_worker(settings: SettingsDep) -> FileResponse:
    return FileResponse(settings.static_dir / "js" / "kiosk" / "sw.js", media_type="text/javascript",
                        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/kiosk/"})


@public_router.get("/ghep/{ticket}", name="kiosk.pair_form")
def pair_form(request: Request, ticket: str, session: SessionDep, signer: SignerDep, lang: LanguageDep) -> Response:
    templates = request.app.state.templates
    try:
        kiosk = kiosk_service.kiosk_for_ticket(session, signer=signer, ticket=ticket)
    except ValidationFailed as exc:
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request, "kiosk/pair.html", {"lang": lang, "kiosk": None, "error": exc.translated(lang)}, status_code=410)
    response: Response = templates.TemplateResponse(request, "kiosk/pair.html",
                                                    {"lang": lang, "kiosk": kiosk, "error": None})
    response.headers["Cache-Control"] = "no-store"
    return response


@public_router.post("/ghep/{ticket}", name="kiosk.pair")
def pair(request: Request, ticket: str, session: SessionDep, signer: SignerDep, lang: LanguageDep) -> JSONResponse:
    """Exchange the pairing link for the kiosk's bearer token (shown once; the link then stops working)."""
    try:
        kiosk = kiosk_service.kiosk_for_ticket(session, signer=signer, ticket=ticket)
    except ValidationFailed as exc:
        return JSONResponse({"detail": exc.translated(lang)}, status_code=410)
    token = kiosk_service.pair(session, kiosk=kiosk)
    session.commit()
    return JSONResponse({"token": token, "kiosk": kiosk.slug, "url": str(request.url_for("kiosk.app", slug=kiosk.slug)),
                         "easy_url": str(request.url_for("kiosk.easy", slug=kiosk.slug))},
                        headers={"Cache-Control": "no-store"})


def _kiosk_by_slug(session: SessionDep, slug: str) -> KioskDevice:
    kiosk = kiosk_service.get_by_slug(session, slug=slug)
    if kiosk is None:
        raise NotFound(N_("Máy kiosk không tồn tại hoặc đã bị thu hồi."))
    return kiosk


def _languages(questionnaire: Questionnaire) -> list[tuple[str, str]]:
    """The language switch of the citizen form: the questionnaire's languages that have an interface catalog."""
    return [(code, LANGUAGE_NAMES[code]) for code in questionnaire.languages if code in LANGUAGE_NAMES]


def _shell(request: Request, slug: str, session: SessionDep, settings: SettingsDep, *, easy: bool) -> Response:
    kiosk = _kiosk_by_slug(session, slug)
    version = q_service.current_for_sector(session, sector=kiosk.point.sector)
    if version is None:
        raise NotFound(N_("Chưa có bảng hỏi cho lĩnh vực này."))
    questionnaire = q_service.parsed(version)
    # Only ?lang= and never the cookie: a shared device starts every respondent in Vietnamese.
    lang = pick_language(request.query_params.get("lang"), "vi")
    labels = SECTOR_LABELS[kiosk.point.sector]
    context: dict[str, Any] = {
        "lang": lang, "languages": _languages(questionnaire), "ui": "easy" if easy else "form",
        "shell": request.url_for("kiosk.easy" if easy else "kiosk.app", slug=kiosk.slug).path,
        "kiosk": kiosk, "point": kiosk.point, "version": version, "questionnaire": questionnaire,
        "sector_label": labels.get(lang, labels["vi"]), "raw": {}, "errors": {},
        "min_interval": settings.kiosk_min_interval_seconds, "idle_reset": settings.kiosk_idle_reset_seconds,
    }
    if easy:
        context.update(easy_context(request, questionnaire, lang))
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(request, "kiosk/easy.html" if easy else "kiosk/app.html", context)
    response.headers["Cache-Control"] = "no-cache"
    return response


@public_router.get("/{slug}/", name="kiosk.app")
def app_shell(request: Request, slug: str, session: SessionDep, settings: SettingsDep) -> Response:
    return _shell(request, slug, session, settings, easy=False)


@public_router.get("/{slug}/de-dang/", name="kiosk.easy")
def easy_shell(request: Request, slug: str, session: SessionDep, settings: SettingsDep) -> Response:
    """The low-literacy variant (one question per screen, large faces, audio), chosen when the tablet is paired."""
    return _shell(request, slug, session, settings, easy=True)


@public_router.get("/{slug}/manifest.webmanifest", name="kiosk.manifest")
def manifest(request: Request, slug: str, session: SessionDep, ui: str = "") -> Response:
    kiosk = _kiosk_by_slug(session, slug)
    scope = request.url_for("kiosk.app", slug=kiosk.slug).path
    start = request.url_for("kiosk.easy", slug=kiosk.slug).path if ui == "easy" else scope
    body = {
        "name": f"Khảo sát sự hài lòng — {kiosk.point.name}", "short_name": "Khảo sát", "lang": "vi",
        "start_url": start, "scope": scope, "display": "fullscreen", "orientation": "any",
        "background_color": "#f5f7f9", "theme_color": "#0b4f8a",
        "icons": [{"src": "/static/enumerator/icon.svg", "sizes": "any", "type": "image/svg+xml", "purpose": "any"}],
    }
    return Response(json.dumps(body, ensure_ascii=False), media_type="application/manifest+json",
                    headers={"Cache-Control": "no-cache"})


# --- sync API ------------------------------------------------------------------------------------------
class KioskTokenRejected(AppError):
    status_code = 401
    public_message = N_("Máy kiosk chưa được ghép hoặc đã bị thu hồi.")


def token_kiosk(
    session: SessionDep, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> KioskDevice:
    try:
        return kiosk_service.kiosk_for_token(session, token=credentials.credentials if credentials else None)
    except kiosk_service.TokenRefused as exc:
        raise KioskTokenRejected(exc.message) from exc


class KioskResponseIn(BaseModel):
    """One response given at the kiosk."""

    model_config = ConfigDict(extra="ignore")

    uuid: str = Field(min_length=32, max_length=36, description="UUID sinh trên máy; gửi lại nhiều lần vẫn an toàn")
    questionnaire_version_id: int
    language: str = Field(default="vi", max_length=10)
    answers: dict[str, str | list[str] | float | None] = Field(default_factory=dict, max_length=300)
    started_at: AwareDatetime | None = Field(default=None, description="Lúc người trả lời bắt đầu (đồng hồ của máy)")
    ended_at: AwareDatetime = Field(description="Lúc hoàn thành phiếu (đồng hồ của máy); dùng cho khoảng cách tối thiểu")


BatchItem = Annotated[KioskResponseIn | dict[str, Any], Field(union_mode="left_to_right")]


class KioskBatch(BaseModel):
    responses: list[BatchItem] = Field(description=f"Tối đa {kiosk_service.MAX_BATCH} phiếu mỗi lần")


def _schema_error(raw: dict[str, Any]) -> interviews.ItemResult:
    uuid = str(raw.get("uuid") or "")[:36]
    try:
        KioskResponseIn.model_validate(raw)
    except ValidationError as exc:
        fields = {".".join(str(p) for p in e["loc"]): "Giá trị không hợp lệ" for e in exc.errors()[:20]}
        return interviews.ItemResult(uuid, "invalid", "Dữ liệu phiếu không đúng định dạng.", fields)
    return interviews.ItemResult(uuid, "invalid", "Dữ liệu phiếu không đúng định dạng.")


@api_router.post(
    "/kiosk/responses", name="api.kiosk_responses", response_model=SyncResult,
    responses={401: {"description": "Mã máy kiosk thiếu, không đúng hoặc đã bị thu hồi"},
               413: {"description": "Quá nhiều phiếu hoặc dữ liệu quá lớn trong một lần gửi"}},
)
def sync_responses(
    batch: KioskBatch, session: SessionDep, settings: SettingsDep, kiosk: Annotated[KioskDevice, Depends(token_kiosk)]
) -> SyncResult:
    """Store a batch of kiosk responses (mode `kiosk`); every item gets its own result, in the order sent.

    Same results as POST /api/v1/interviews. Responses closer than the minimum interval to another response
    of the same kiosk (by the tablet's clock) are `invalid`; many responses in a short window are flagged.
    """
    if len(batch.responses) > kiosk_service.MAX_BATCH:
        raise PayloadTooLarge(
            N_("Mỗi lần đồng bộ tối đa {limit} phiếu (nhận được {count}). Hãy chia nhỏ và gửi lại; không phiếu nào bị mất."),
            limit=kiosk_service.MAX_BATCH, count=len(batch.responses),
        )
    items = [i.model_dump() if isinstance(i, KioskResponseIn) else _schema_error(i) for i in batch.responses]
    results = kiosk_service.sync_batch(session, kiosk=kiosk, items=items, rules=kiosk_service.rules_from(settings),
                                       notice_version=NOTICE_VERSION)
    session.commit()
    out = [ItemResultOut(uuid=r.uuid, status=r.status, message=r.message, errors=r.errors, flags=r.flags)
           for r in results]
    count = {s: sum(1 for r in results if r.status == s) for s in ("stored", "duplicate", "conflict", "invalid")}
    return SyncResult(results=out, stored=count["stored"], duplicates=count["duplicate"], conflicts=count["conflict"],
                      invalid=count["invalid"])


router = APIRouter()
router.include_router(api_router)
router.include_router(admin_router, include_in_schema=False)
router.include_router(public_router, include_in_schema=False)
