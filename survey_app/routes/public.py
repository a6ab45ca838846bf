"""The citizen form at /q/{token}: no login, mobile first, works without JavaScript."""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections import OrderedDict
from typing import Any

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import FileResponse, HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from ..config import Settings
from ..db import begin_write
from ..deps import LanguageDep, SessionDep, SettingsDep, SignerDep, language_of
from ..errors import NotFound
from ..i18n import N_, supported_languages
from ..models import QuestionnaireVersion, ReceptionPoint, utcnow
from ..questionnaire import SECTOR_LABELS, ItemRole, Questionnaire
from ..security import Signer, issue_ticket, read_ticket
from ..services import abuse, feedback, intake, submissions
from ..services import points as points_service
from ..services import questionnaires as q_service
from ..services.audio import available as audio_available
from ..services.audio import find as find_audio
from ..services.audio import prompt_key, prompts_for
from .forms import posted_form
from .urls import route_path

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


NO_QUESTIONNAIRE = N_("Chưa có bảng hỏi cho lĩnh vực này.")


def _version_for(session: SessionDep, point: ReceptionPoint) -> QuestionnaireVersion:
    version = q_service.current_for_sector(session, sector=point.sector)
    if version is None:
        raise NotFound(NO_QUESTIONNAIRE)
    return version


def _questionnaire(session: Session, version_id: int) -> Questionnaire:
    """The parsed version: from this process's cache, read from the database the first time only."""
    questionnaire = q_service.parsed_by_id(version_id)
    if questionnaire is None:
        row = q_service.get_version(session, version_id=version_id)
        if row is None:
            raise NotFound(NO_QUESTIONNAIRE)
        questionnaire = q_service.parsed(row)
    return questionnaire


def easy_context(request: Request, questionnaire: Questionnaire, lang: str) -> dict[str, Any]:
    """Extra context of the low-literacy form: which prompts have audio, and whether it is synthetic."""
    settings: Settings = request.app.state.settings
    return {
        "audio": audio_available(settings.audio_dir, prompts_for(questionnaire, lang)),
        "audio_key": lambda text: prompt_key(text, lang),
    }


TICKET_SLOT = "@@ticket@@"
_FORM_CACHE: OrderedDict[tuple[object, ...], str] = OrderedDict()
_FORM_CACHE_SIZE = 512


def _render_form(
    request: Request,
    *,
    point: ReceptionPoint,
    version_id: int,
    questionnaire: Questionnaire,
    lang: str,
    ticket: str,
    validated: submissions.ValidatedAnswers | None = None,
    notice: str | None = None,
    status_code: int = 200,
    easy: bool = False,
) -> Response:
    templates = request.app.state.templates
    partial = bool(request.headers.get("HX-Request")) and not easy
    template = "public/easy.html" if easy else "public/_form.html" if partial else "public/form.html"
    # A blank form differs between citizens only by its ticket: render once per point, version and
    # language, then fill the ticket in. Rendering is most of the cost of a GET.
    blank = validated is None and notice is None and not easy
    key = (str(request.base_url), point.id, point.token, point.name, version_id, lang, partial, easy)
    html = _FORM_CACHE.get(key) if blank else None
    if html is None:
        context: dict[str, Any] = {
            "request": request,
            "lang": lang,
            "point": point,
            "questionnaire": questionnaire,
            "sector_label": SECTOR_LABELS[point.sector].get(lang, SECTOR_LABELS[point.sector]["vi"]),
            "ticket": TICKET_SLOT if blank else ticket,
            "raw": validated.raw if validated else {},
            "errors": validated.errors if validated else {},
            "notice": notice,
            "action": request.url_for("public.submit", token=point.token),
        }
        if easy:
            context.update(easy_context(request, questionnaire, lang))
        if not blank:
            response: Response = templates.TemplateResponse(request, template, context, status_code=status_code)
        else:
            html = templates.get_template(template).render(context)
            _FORM_CACHE[key] = html
            if len(_FORM_CACHE) > _FORM_CACHE_SIZE:
                _FORM_CACHE.popitem(last=False)
    if html is not None:
        response = HTMLResponse(html.replace(TICKET_SLOT, ticket), status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    if request.query_params.get("lang") == lang:
        response.set_cookie("lang", lang, max_age=365 * 86400, samesite="lax", httponly=True)
    return response


async def submit(request: Request) -> Response:
    # Read the body first, then do the (synchronous) database work in the thread pool: no await inside
    # the transaction, and the event loop stays free for other citizens while we talk to the database.
    form = await posted_form(request)
    return await run_in_threadpool(_submit_in_session, request, request.path_params["token"], form)


# The busiest route is a plain Starlette route, first in the router: FastAPI's parameter solving and
# response handling have nothing to do here (solving its dependencies was 8 % of a submission's CPU), and
# routing tries routes in order.
router.add_route("/q/{token}", submit, methods=["POST"], name="public.submit", include_in_schema=False)


@router.get("/q/{token}", name="public.form")
def show_form(
    request: Request, token: str, session: SessionDep, signer: SignerDep, settings: SettingsDep, lang: LanguageDep
) -> Response:
    return _show(request, token, session, signer, settings, lang, easy=False)


@router.get("/q/{token}/de-dang", name="public.easy")
def show_easy_form(
    request: Request, token: str, session: SessionDep, signer: SignerDep, settings: SettingsDep, lang: LanguageDep
) -> Response:
    """Low-literacy mode: one question per screen, large faces, audio prompts, minimal reading."""
    return _show(request, token, session, signer, settings, lang, easy=True)


def _show(
    request: Request, token: str, session: Session, signer: Signer, settings: Settings, lang: str, *, easy: bool
) -> Response:
    device, new_device = _device_token(request)
    now = utcnow()
    device_hash = abuse.keyed_hash(settings.secret_key, "device", device)
    view = intake.form_view(session, token=token, device_hash=device_hash, now=now,
                            window=dt.timedelta(hours=settings.device_window_hours))
    if view.version_id is None:
        raise NotFound(NO_QUESTIONNAIRE)
    if view.answered_recently and not new_device:
        return _already_answered(request, view.point, lang)
    ticket = issue_ticket(signer, submission_id=str(uuid.uuid4()), version_id=view.version_id, now=now)
    response = _render_form(request, point=view.point, version_id=view.version_id, lang=lang, ticket=ticket, easy=easy,
                            questionnaire=_questionnaire(session, view.version_id))
    if new_device:
        _set_device_cookie(response, device, settings.environment == "production")
    return response


@router.get("/audio/{key}", name="public.audio")
def audio(key: str, settings: SettingsDep) -> Response:
    found = find_audio(settings.audio_dir, key)
    if found is None:
        raise NotFound()
    return FileResponse(found.path, media_type=found.media_type,
                        headers={"Cache-Control": "public, max-age=86400", "X-Synthetic-Voice": "1" if found.synthetic else "0"})




def _submit_in_session(request: Request, token: str, form: dict[str, list[str]]) -> Response:
    state = request.app.state
    with state.sessionmaker() as session:
        return _submit(request, token, form, session, state.signer, state.settings, language_of(request))


def _submit(
    request: Request, token: str, form: dict[str, list[str]], session: Session, signer: Signer, settings: Settings,
    lang: str,
) -> Response:
    begin_write(session)
    easy = form.get("ui") == ["easy"]  # the low-literacy variant posts here too; errors re-render it
    rules = abuse.thresholds_from(settings)
    now = utcnow()
    device, new_device = _device_token(request)
    device_hash = abuse.keyed_hash(settings.secret_key, "device", device)
    network_hash = _network_hash(request, settings.secret_key, now)
    posted_lang = (form.get("lang") or [""])[0]
    lang = posted_lang if posted_lang in supported_languages() else lang
    ticket = read_ticket(signer, (form.get("ticket") or [""])[0])
    submission_id = submissions.parse_submission_id(ticket.submission_id) if ticket else None
    questionnaire = _known_version(session, ticket.version_id) if ticket else None
    if ticket is None or submission_id is None or questionnaire is None:
        return _expired(request, session, signer, token=token, form=form, lang=lang, easy=easy)
    validated = submissions.validate_answers(questionnaire, form)
    answers_hash = submissions.answers_fingerprint(validated.answers)
    # The reads, in one statement: point, version, duplicate submission, device, network and group counts.
    pre = intake.preflight(
        session, token=token, version_id=ticket.version_id, submission_id=submission_id, device_hash=device_hash,
        network_hash=network_hash, answers_hash=answers_hash, rules=rules,
        now=now,
    )
    if pre.version is None or pre.version.sector != pre.sector:
        return _expired(request, session, signer, token=token, form=form, lang=lang, easy=easy)
    if not pre.stored:
        if not validated.ok:
            return _render_form(
                request, point=points_service.get_by_token(session, token=token), version_id=pre.version.id,
                lang=lang, ticket=form["ticket"][0], questionnaire=questionnaire, validated=validated,
                notice=N_("Phiếu còn {count} câu cần sửa. Vui lòng xem các câu được đánh dấu."), status_code=422, easy=easy,
            )
        if pre.answered_recently and not new_device:
            return _already_answered(request, points_service.get_by_token(session, token=token), lang)
        if pre.network_count >= rules.submit_burst_limit:
            return _render_form(
                request, point=points_service.get_by_token(session, token=token), version_id=pre.version.id,
                lang=lang, ticket=form["ticket"][0], questionnaire=questionnaire, validated=validated,
                notice=N_("Có quá nhiều phiếu được gửi từ mạng này. Các câu trả lời vẫn được giữ; vui lòng gửi lại sau ít phút."),
                status_code=429, easy=easy,
            )
        started = ticket.started_at if ticket.started_at <= now else None
        stored = submissions.store_response(
            session,
            submission_id=submission_id,
            version=pre.version,
            validated=validated,
            commune_id=pre.commune_id,
            sector=pre.sector,
            mode="qr",
            language=lang,
            started_at=started,
            point=intake.PointRef(pre.point_id),
            device_hash=device_hash,
            network_hash=network_hash,
            notice_version=NOTICE_VERSION,
            answers_hash=answers_hash,
        )
        if stored.created:
            reasons = abuse.flag_response(
                session, stored=stored, rules=rules, started_at=started, now=now,
                honeypot=bool("".join(form.get(HONEYPOT_FIELD, [])).strip()),
                scale_items=[i.id for i in questionnaire.items if i.type == "scale5"],
                counted_before=pre.group_counts,
            )
            comment_item = questionnaire.item_by_role(ItemRole.comment)
            if comment_item is not None and comment_item.id in validated.texts and "honeypot" not in reasons:
                feedback.create_from_response(session, response=stored.response)  # the comment → agency inbox
        session.commit()
    target = route_path(request, "public.thanks", query={"s": submission_id, "lang": lang}, token=token)
    result: Response
    if request.headers.get("HX-Request"):
        result = Response(status_code=204, headers={"HX-Redirect": target})
    else:
        result = RedirectResponse(target, status_code=303)
    if new_device:
        _set_device_cookie(result, device, settings.environment == "production")
    return result


def _known_version(session: Session, version_id: int) -> Questionnaire | None:
    try:
        return _questionnaire(session, version_id)
    except NotFound:
        return None


def _expired(
    request: Request, session: Session, signer: Signer, *, token: str, form: dict[str, list[str]], lang: str,
    easy: bool,
) -> Response:
    """Expired or tampered form: keep what was typed, give a fresh ticket, ask to send again."""
    point = points_service.get_by_token(session, token=token)
    version = _version_for(session, point)
    fresh = issue_ticket(signer, submission_id=str(uuid.uuid4()), version_id=version.id, now=utcnow())
    validated = submissions.validate_answers(q_service.parsed(version), form)
    return _render_form(
        request, point=point, version_id=version.id, questionnaire=q_service.parsed(version), lang=lang, ticket=fresh,
        validated=validated,
        notice=N_("Phiên làm phiếu đã hết hạn. Các câu trả lời vẫn được giữ, vui lòng bấm Gửi lại."),
        status_code=422, easy=easy,
    )


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
