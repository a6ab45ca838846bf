"""The citizen form at /q/{token}: no login, mobile first, works without JavaScript."""

from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import RedirectResponse, Response
from starlette.datastructures import FormData

from ..deps import LanguageDep, SessionDep, SignerDep
from ..errors import NotFound
from ..models import QuestionnaireVersion, ReceptionPoint, utcnow
from ..questionnaire import SECTOR_LABELS
from ..security import issue_ticket, read_ticket
from ..services import points as points_service
from ..services import questionnaires as q_service
from ..services import submissions

router = APIRouter(tags=["public"])
ACCESS_RULE = "public"


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
def show_form(request: Request, token: str, session: SessionDep, signer: SignerDep, lang: LanguageDep) -> Response:
    point = points_service.get_by_token(session, token=token)
    version = _version_for(session, point)
    ticket = issue_ticket(signer, submission_id=str(uuid.uuid4()), version_id=version.id, now=utcnow())
    return _render_form(request, point=point, version=version, lang=lang, ticket=ticket)


def _form_lists(form: FormData) -> dict[str, list[str]]:
    result: dict[str, list[str]] = {}
    for key, value in form.multi_items():
        if isinstance(value, str):
            result.setdefault(key, []).append(value)
    return result


@router.post("/q/{token}", name="public.submit")
async def submit(request: Request, token: str, session: SessionDep, signer: SignerDep, lang: LanguageDep) -> Response:
    point = points_service.get_by_token(session, token=token)
    form = _form_lists(await request.form())
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
        validated = submissions.validate_answers(q_service.parsed(version), form)
        if not validated.ok:
            return _render_form(
                request, point=point, version=version, lang=lang, ticket=form["ticket"][0], validated=validated,
                notice="Phiếu còn {count} câu cần sửa. Vui lòng xem các câu được đánh dấu.", status_code=422,
            )
        started = ticket.started_at if ticket.started_at <= utcnow() else None
        submissions.store_response(
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
        )
        session.commit()
    target = request.url_for("public.thanks", token=token).include_query_params(s=submission_id, lang=lang)
    if request.headers.get("HX-Request"):
        return Response(status_code=204, headers={"HX-Redirect": str(target)})
    return RedirectResponse(str(target), status_code=303)


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
