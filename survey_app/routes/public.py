"""The citizen form at /q/{token}: no login, mobile first, works without JavaScript."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from ..deps import LanguageDep, SessionDep, SettingsDep, SignerDep
from ..errors import NotFound
from ..models import QuestionnaireVersion, ReceptionPoint, utcnow
from ..questionnaire import SECTOR_LABELS
from ..security import issue_ticket, read_ticket
from ..services import abuse, ratelimit, submissions
from ..services import points as points_service
from ..services import questionnaires as q_service

router = APIRouter(tags=["public"])
DEVICE_COOKIE = "sv_device"
HONEYPOT_FIELD = "website"
NOTICE_VERSION = "2026-01"  # bump when the privacy notice text on the form changes


def _device_token(request: Request) -> tuple[str, bool]:
    """The first-party device cookie (random; not linked to any person). Returns (token, is_new)."""
    token = request.cookies.get(DEVICE_COOKIE, "")
    if 20 <= len(token) <= 64 and token.replace("-", "").replace("_", "").isalnum():
        return token, False
    return secrets.token_urlsafe(18), True


def _set_device_cookie(response: Response, token: str, secure: bool) -> None:
    response.set_cookie(DEVICE_COOKIE, token, max_age=365 * 86400, httponly=True, samesite="lax", secure=secure)


def _network_hash(request: Request, secret: str, now: dt.datetime) -> str:
    host = request.client.host if request.client else "unknown"
    return abuse.keyed_hash(secret, "network", host, day=now.date())


def _already_answered(request: Request, point: ReceptionPoint, lang: str) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "public/already.html", {"lang": lang, "point": point}, status_code=200
    )


def _version_for(session: SessionDep, point: ReceptionPoint) -> QuestionnaireVersion:
    version = q_service.current_for_sector(session, sector=point.sector)
    if version is None:
        raise NotFound("Chưa có bảng hỏi cho lĩnh vực này.")
    return version


def _render_form(
    request: Request,
    *,
    point: ReceptionPoint,
    version: QuestionnaireVersion,
    lang: str,
    ticket: str,
    validated: submissions.ValidatedAnswers | None = None,
    notice: str | None = None,
    status_code: int = 200,
) -> Response:
    questionnaire = q_service.parsed(version)
    context: dict[str, Any] = {
        "lang": lang,
        "point": point,
        "questionnaire": questionnaire,
        "sector_label": SECTOR_LABELS[point.sector].get(lang, SECTOR_LABELS[point.sector]["vi"]),
        "ticket": ticket,
        "raw": validated.raw if validated else {},
        "errors": validated.errors if validated else {},
        "notice": notice,
        "action": request.url_for("public.submit", token=point.token),
    }
    templates = request.app.state.templates
    template = "public/_form.html" if request.headers.get("HX-Request") else "public/form.html"
    response: Response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    if request.query_params.get("lang") == lang:
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


@router.get("/q/{token}", name="public.form")
def show_form(
    request: Request, token: str, session: SessionDep, signer: SignerDep, settings: SettingsDep, lang: LanguageDep
) -> Response:
    point = points_service.get_by_token(session, token=token)
    version = _version_for(session, point)
    device, new_device = _device_token(request)
    now = utcnow()
    window = dt.timedelta(hours=settings.device_window_hours)
    device_hash = abuse.keyed_hash(settings.secret_key, "device", device)
    if not new_device and abuse.answered_recently(session, point_id=point.id, device_hash=device_hash, window=window, now=now):
        return _already_answered(request, point, lang)
    ticket = issue_ticket(signer, submission_id=str(uuid.uuid4()), version_id=version.id, now=now)
    response = _render_form(request, point=point, version=version, lang=lang, ticket=ticket)
    if new_device:
        _set_device_cookie(response, device, settings.environment == "production")
    return response


def _form_lists(form: FormData) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            result.setdefault(key, []).append(value)
    return result


@router.post("/q/{token}", name="public.submit")
async def submit(
    request: Request, token: str, session: SessionDep, signer: SignerDep, settings: SettingsDep, lang: LanguageDep
) -> Response:
    # Read the body before the first query: no await inside the database transaction (on SQLite a read
    # snapshot kept across an await makes the later INSERT fail at once with "database is locked").
    form = _form_lists(await request.form())
    point = points_service.get_by_token(session, token=token)
    rules = abuse.thresholds_from(settings)
    now = utcnow()
    device, new_device = _device_token(request)
    device_hash = abuse.keyed_hash(settings.secret_key, "device", device)
    network_hash = _network_hash(request, settings.secret_key, now)
    posted_lang = (form.get("lang") or [""])[0]
    lang = posted_lang if posted_lang in ("vi", "en") else lang
    ticket = read_ticket(signer, (form.get("ticket") or [""])[0])
    version = q_service.get_version(session, version_id=ticket.version_id) if ticket else None
    if ticket is None or version is None or version.sector != point.sector:
        # Expired or tampered form: keep what was typed, give a fresh ticket, ask to send again.
        version = _version_for(session, point)
        fresh = issue_ticket(signer, submission_id=str(uuid.uuid4()), version_id=version.id, now=utcnow())
        validated = submissions.validate_answers(q_service.parsed(version), form)
        return _render_form(
            request, point=point, version=version, lang=lang, ticket=fresh, validated=validated,
            notice="Phiên làm phiếu đã hết hạn. Các câu trả lời vẫn được giữ, vui lòng bấm Gửi lại.", status_code=422,
        )
    submission_id = submissions.parse_submission_id(ticket.submission_id)
    if submission_id is None:
        raise NotFound()
    existing = submissions.get_by_submission_id(session, submission_id=submission_id)
    if existing is None:
        questionnaire = q_service.parsed(version)
        validated = submissions.validate_answers(questionnaire, form)
        if not validated.ok:
            return _render_form(
                request, point=point, version=version, lang=lang, ticket=form["ticket"][0], validated=validated,
                notice="Phiếu còn {count} câu cần sửa. Vui lòng xem các câu được đánh dấu.", status_code=422,
            )
        if not new_device and abuse.answered_recently(
            session, point_id=point.id, device_hash=device_hash, window=rules.device_window, now=now
        ):
            return _already_answered(request, point, lang)
        if abuse.over_burst_limit(session, network_hash=network_hash, rules=rules, now=now):
            return _render_form(
                request, point=point, version=version, lang=lang, ticket=form["ticket"][0], validated=validated,
                notice="Có quá nhiều phiếu được gửi từ mạng này. Các câu trả lời vẫn được giữ; vui lòng gửi lại sau ít phút.",
                status_code=429,
            )
        started = ticket.started_at if ticket.started_at <= now else None
        stored = submissions.store_response(
            session,
            submission_id=submission_id,
            version=version,
            validated=validated,
            commune_id=point.commune_id,
            sector=point.sector,
            mode="qr",
            language=lang,
            started_at=started,
            point=point,
            device_hash=device_hash,
            network_hash=network_hash,
            notice_version=NOTICE_VERSION,
        )
        if stored.created:
            ratelimit.hit(session, kind="submit", key=network_hash, now=now)
            abuse.flag_response(
                session, response=stored.response, rules=rules, started_at=started, now=now,
                honeypot=bool("".join(form.get(HONEYPOT_FIELD, [])).strip()),
                scale_items=[i.id for i in questionnaire.items if i.type == "scale5"],
            )
        session.commit()
    target = request.url_for("public.thanks", token=token).include_query_params(s=submission_id, lang=lang)
    result: Response
    if request.headers.get("HX-Request"):
        result = Response(status_code=204, headers={"HX-Redirect": str(target)})
    else:
        result = RedirectResponse(str(target), status_code=303)
    if new_device:
        _set_device_cookie(result, device, settings.environment == "production")
    return result


@router.get("/q/{token}/cam-on", name="public.thanks")
def thanks(request: Request, token: str, session: SessionDep, lang: LanguageDep, s: str = "") -> Response:
    point = points_service.get_by_token(session, token=token)
    submission_id = submissions.parse_submission_id(s)
    response = submissions.get_by_submission_id(session, submission_id=submission_id) if submission_id else None
    if response is None or response.reception_point_id != point.id:
        raise NotFound()
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        "public/thanks.html",
        {"lang": lang, "point": point, "code": submission_id[:8].upper() if submission_id else "",
         "form_url": request.url_for("public.form", token=token)},
    )
