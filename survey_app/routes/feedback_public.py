"""Public feedback pages: the standalone form per reception point (/q/{token}/gop-y) and the citizen's
tracking page (/theo-doi) that shows only status, dates and the public answer, and takes the rating."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import RedirectResponse, Response

from ..deps import LanguageDep, SessionDep, SettingsDep, SignerDep
from ..errors import Message, ValidationFailed
from ..i18n import N_
from ..models import FeedbackItem, ReceptionPoint, utcnow
from ..questionnaire import SECTOR_LABELS
from ..security import FORM_TICKET_MAX_AGE, Signer
from ..services import abuse, feedback, ratelimit
from ..services import points as points_service
from .csrf import check_same_origin

router = APIRouter(tags=["feedback"])
HONEYPOT_FIELD = "website"
MIN_SECONDS = 3  # nobody types a complaint in less; bots do
TRACK_LIMIT = 30  # tracking-code look-ups per network per window: codes cannot be enumerated
TRACK_WINDOW = dt.timedelta(minutes=10)


def _ticket(signer: Signer, now: dt.datetime) -> str:
    return signer.dumps("feedback", {"sid": str(uuid.uuid4()), "t": now.isoformat()})


def _read_ticket(signer: Signer, token: str) -> tuple[str, dt.datetime] | None:
    data = signer.loads("feedback", token, max_age=FORM_TICKET_MAX_AGE)
    try:
        return (str(uuid.UUID(str(data["sid"]))), dt.datetime.fromisoformat(str(data["t"]))) if data else None
    except (KeyError, ValueError, TypeError):
        return None


def _network_hash(request: Request, secret: str, now: dt.datetime) -> str:
    host = request.client.host if request.client else "unknown"
    return abuse.keyed_hash(secret, "network", host, day=now.date())


def _render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _form_page(
    request: Request, *, point: ReceptionPoint, lang: str, ticket: str, values: dict[str, str] | None = None,
    errors: dict[str, Message] | None = None, notice: str | None = None, status_code: int = 200,
) -> Response:
    context = {
        "lang": lang, "point": point, "ticket": ticket, "values": values or {},
        "errors": {k: m.translated(lang) for k, m in (errors or {}).items()},
        "notice": notice, "sector_label": SECTOR_LABELS[point.sector]["vi"],
        "action": request.url_for("feedback_public.submit", token=point.token),
        "survey_url": request.url_for("public.form", token=point.token),
        "track_url": request.url_for("feedback_public.track"),
    }
    return _render(request, "public/feedback_form.html", context, status_code)


@router.get("/q/{token}/gop-y", name="feedback_public.form")
def show_form(request: Request, token: str, session: SessionDep, signer: SignerDep, lang: LanguageDep) -> Response:
    point = points_service.get_by_token(session, token=token)
    return _form_page(request, point=point, lang=lang, ticket=_ticket(signer, utcnow()))


@router.post("/q/{token}/gop-y", name="feedback_public.submit")
async def submit(
    request: Request, token: str, session: SessionDep, signer: SignerDep, settings: SettingsDep, lang: LanguageDep
) -> Response:
    raw = await request.form()  # read the body before the first query (see routes/public.py)
    values = {k: v for k, v in raw.items() if isinstance(v, str)}
    point = points_service.get_by_token(session, token=token)
    now = utcnow()
    ticket = _read_ticket(signer, values.get("ticket", ""))
    kept = {k: values.get(k, "")[:2100] for k in ("text", "phone", "email", "wants_reply", "consent")}
    if ticket is None:
        return _form_page(request, point=point, lang=lang, ticket=_ticket(signer, now), values=kept, status_code=422,
                          notice=N_("Phiên làm việc đã hết hạn. Nội dung vẫn được giữ, vui lòng bấm Gửi lại."))
    submission_id, started = ticket
    checked = feedback.validate_submission(
        text=values.get("text", ""), wants_reply=values.get("wants_reply") == "1", phone=values.get("phone", ""),
        email=values.get("email", ""), consent=values.get("consent") == "1",
    )
    if not checked.ok:
        return _form_page(request, point=point, lang=lang, ticket=values["ticket"], values=kept, errors=checked.errors,
                          status_code=422, notice=N_("Vui lòng xem lại các mục được đánh dấu."))
    if values.get(HONEYPOT_FIELD, "").strip() or now - started < dt.timedelta(seconds=MIN_SECONDS):
        return _form_page(request, point=point, lang=lang, ticket=values["ticket"], values=kept, status_code=422,
                          notice=N_("Chưa gửi được. Vui lòng kiểm tra lại nội dung rồi bấm Gửi lại."))
    network = _network_hash(request, settings.secret_key, now)
    if ratelimit.count(session, kind="feedback", key=network, window=dt.timedelta(minutes=settings.submit_burst_minutes),
                       now=now) >= settings.submit_burst_limit:
        return _form_page(
            request, point=point, lang=lang, ticket=values["ticket"], values=kept, status_code=429,
            notice=N_("Có quá nhiều góp ý được gửi từ mạng này. Nội dung vẫn được giữ; vui lòng gửi lại sau ít phút."))
    item = feedback.create_item(
        session, text=checked.text, channel="form", sector=point.sector, commune=point.commune, point=point,
        contact=checked.contact, wants_reply=checked.wants_reply, submission_id=submission_id,
    )
    ratelimit.hit(session, kind="feedback", key=network, now=now)
    session.commit()
    target = request.url_for("feedback_public.track").include_query_params(ma=feedback.format_code(item.tracking_code),
                                                                         moi=1)
    return RedirectResponse(str(target), status_code=303)


def _track_page(
    request: Request, *, lang: str, code: str = "", item: FeedbackItem | None = None, not_found: bool = False,
    error: str | None = None, flash: str | None = None, status_code: int = 200,
) -> Response:
    context = {
        "lang": lang, "code": code, "status": feedback.public_status(item) if item else None, "not_found": not_found,
        "error": error, "flash": flash, "rating_labels": feedback.RATING_LABELS,
        "action": request.url_for("feedback_public.track"), "rate_action": request.url_for("feedback_public.rate"),
    }
    return _render(request, "public/feedback_track.html", context, status_code)


def _throttled(request: Request, session: SessionDep, settings: SettingsDep, now: dt.datetime) -> bool:
    network = _network_hash(request, settings.secret_key, now)
    if ratelimit.count(session, kind="track", key=network, window=TRACK_WINDOW, now=now) >= TRACK_LIMIT:
        return True
    ratelimit.hit(session, kind="track", key=network, now=now)
    session.commit()
    return False


@router.get("/theo-doi", name="feedback_public.track")
def track(
    request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, ma: str = "", moi: str = "",
    da: str = "",
) -> Response:
    code = ma.strip()[:30]
    if not code:
        return _track_page(request, lang=lang)
    if _throttled(request, session, settings, utcnow()):
        return _track_page(request, lang=lang, code=code, status_code=429,
                           error=N_("Tra cứu quá nhiều lần. Vui lòng thử lại sau ít phút."))
    item = feedback.find_by_code(session, code=code)
    if item is None:
        return _track_page(request, lang=lang, code=code, not_found=True, status_code=404)
    flash = None
    if moi == "1":
        flash = N_("Đã gửi góp ý. Vui lòng ghi lại mã theo dõi để xem kết quả trả lời.")
    elif da == "1":
        flash = N_("Cảm ơn Ông/Bà đã đánh giá cách giải quyết.")
    return _track_page(request, lang=lang, code=feedback.format_code(item.tracking_code), item=item, flash=flash)


@router.post("/theo-doi/danh-gia", name="feedback_public.rate", dependencies=[Depends(check_same_origin)])
async def rate(request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep) -> Response:
    raw = await request.form()
    code = str(raw.get("ma", ""))[:30]
    rating = str(raw.get("rating", ""))[:2]
    if _throttled(request, session, settings, utcnow()):
        return _track_page(request, lang=lang, code=code, status_code=429,
                           error=N_("Tra cứu quá nhiều lần. Vui lòng thử lại sau ít phút."))
    item = feedback.find_by_code(session, code=code)
    if item is None:
        return _track_page(request, lang=lang, code=code, not_found=True, status_code=404)
    try:
        feedback.rate(session, item=item, rating=rating)
    except ValidationFailed as exc:
        session.rollback()
        return _track_page(request, lang=lang, code=feedback.format_code(item.tracking_code), item=item,
                           error=exc.translated(lang), status_code=422)
    session.commit()
    target = request.url_for("feedback_public.track").include_query_params(ma=feedback.format_code(item.tracking_code),
                                                                         da=1)
    return RedirectResponse(str(target), status_code=303)
