"""Agency side of feedback: inbox with filters and overdue flags, item detail (status, public answer,
internal notes, reassignment), staff entry of hotline calls and suggestion-box notes; admin editors for
the routing table, keyword rules, public holidays and users' agencies."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select

from ..deps import CurrentUser, LanguageDep, SessionDep, SettingsDep, require_roles
from ..errors import Message, NotFound, ValidationFailed
from ..i18n import N_
from ..models import FeedbackItem, Holiday, KeywordRule, RoutingRule, User
from ..services import accounts, audit, catalogue, feedback, feedback_inbox, keyset, routing, workdays
from . import paging
from .csrf import check_same_origin

STAFF = ("admin", "reviewer", "commune")
router = APIRouter(prefix="/phan-anh", tags=["feedback"], dependencies=[Depends(require_roles(*STAFF))])
admin_only = [Depends(require_roles("admin"))]


def _render(request: Request, template: str, context: dict[str, Any], status_code: int = 200) -> Response:
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(request, template, context, status_code=status_code)
    response.headers["Cache-Control"] = "no-store"
    return response


def _common(session: SessionDep, user: User, lang: str) -> dict[str, Any]:
    return {
        "lang": lang, "user": user, "agencies": sorted(routing.agencies_of(session, user)),
        "statuses": feedback.STATUSES, "channels": feedback.CHANNELS, "categories": routing.CATEGORY_LABELS,
        "sectors": routing.SECTOR_LABELS, "agency_label": routing.agency_label,
        "format_code": feedback.format_code, "vn_time": feedback.local_time_text,
    }


@router.get("", name="feedback.inbox")
def inbox(
    request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    status: str = "open", category: str = "", sector: str = "", commune: str = "", overdue: str = "",
    agency: str = "", code: str = "", tao: str = "", after: str = "",
) -> Response:
    commune_row = catalogue.get_commune(session, commune[:10]) if commune else None
    filters = feedback_inbox.InboxFilters(
        status=status[:20], category=category[:30], sector=sector[:30],
        commune_id=commune_row.id if commune_row else (-1 if commune else None), overdue=overdue == "1",
        agency=agency[:200], code=code[:30],
    )
    page = feedback_inbox.inbox(session, user=user, filters=filters, after=keyset.parse_date_id(after))
    return _render(request, "feedback/inbox.html", {
        **_common(session, user, lang), "rows": page.rows, "filters": filters, "commune_code": commune[:10],
        "communes": catalogue.communes_of(session, province_code=settings.province_code),
        "all_agencies": feedback.assigned_agencies(session),
        "created": feedback.normalise_code(tao),
        "next_url": paging.next_url(request, "feedback.inbox", page, param="after", drop=("tao",)),
        "first_url": paging.first_url(request, "feedback.inbox", param="after", drop=("tao",)),
    })


def _new_page(
    request: Request, session: SessionDep, settings: SettingsDep, lang: str, user: User,
    values: dict[str, str] | None = None, errors: dict[str, Message] | None = None, status_code: int = 200,
) -> Response:
    return _render(request, "feedback/new.html", {
        **_common(session, user, lang), "values": values or {},
        "errors": {k: m.translated(lang) for k, m in (errors or {}).items()},
        "staff_channels": feedback.STAFF_CHANNELS,
        "communes": catalogue.communes_of(session, province_code=settings.province_code),
    }, status_code)


@router.get("/moi", name="feedback.new_form")
def new_form(request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser) -> Response:
    return _new_page(request, session, settings, lang, user)


@router.post("/moi", name="feedback.create", dependencies=[Depends(check_same_origin)])
def create(
    request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    channel: str = Form("", max_length=30), sector: str = Form("", max_length=30),
    commune: str = Form("", max_length=10), text: str = Form("", max_length=4000),
    wants_reply: str = Form("", max_length=2), phone: str = Form("", max_length=40),
    email: str = Form("", max_length=250), consent: str = Form("", max_length=2),
) -> Response:
    values = {"channel": channel, "sector": sector, "commune": commune, "text": text, "wants_reply": wants_reply,
              "phone": phone, "email": email, "consent": consent}
    checked = feedback.validate_submission(text=text, wants_reply=wants_reply == "1", phone=phone, email=email,
                                           consent=consent == "1")
    errors = dict(checked.errors)
    if channel not in feedback.STAFF_CHANNELS:
        errors["channel"] = Message(N_("Vui lòng chọn kênh tiếp nhận."))
    if sector and sector not in routing.SECTOR_LABELS:
        errors["sector"] = Message(N_("Lĩnh vực không hợp lệ."))
    commune_row = catalogue.get_commune(session, commune) if commune else None
    if commune and commune_row is None:
        errors["commune"] = Message(N_("Không tìm thấy xã/phường đã chọn."))
    if errors:
        return _new_page(request, session, settings, lang, user, values, errors, 422)
    item = feedback.create_item(
        session, text=checked.text, channel=channel, sector=sector or None, commune=commune_row,
        contact=checked.contact, wants_reply=checked.wants_reply, actor=user,
    )
    session.commit()
    target = request.url_for("feedback.inbox").include_query_params(tao=item.tracking_code)
    return RedirectResponse(str(target), status_code=303)


# --- admin editors (declared before /{item_id} so the literal paths win) --------------------------------

def _settings_page(
    request: Request, session: SessionDep, settings: SettingsDep, lang: str, user: User, error: str | None = None,
    status_code: int = 200, after: str = "",
) -> Response:
    # Staff grow with the province (every commune has officers): one keyset page, edited row by row.
    staff = accounts.page_users(session, roles=STAFF, after=keyset.parse_text(after, max_length=80))
    return _render(request, "feedback/settings.html", {
        **_common(session, user, lang), "rules": routing.list_routing_rules(session),
        "keywords": routing.list_keyword_rules(session), "holidays": workdays.list_holidays(session),
        "communes": catalogue.communes_of(session, province_code=settings.province_code), "staff": staff.rows,
        "staff_after": after, "role_labels": accounts.ROLE_LABELS,
        "agencies_of": lambda u: sorted(routing.agencies_of(session, u)), "error": error,
        "commune_agency": routing.COMMUNE_AGENCY, "default_days": workdays.DEFAULT_DEADLINE_DAYS,
        "next_url": paging.next_url(request, "feedback.settings", staff, param="after"),
        "first_url": paging.first_url(request, "feedback.settings", param="after"),
    }, status_code)


@router.get("/cai-dat", name="feedback.settings", dependencies=admin_only)
def settings_page(
    request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    after: str = "",
) -> Response:
    return _settings_page(request, session, settings, lang, user, after=after)


def _saved(
    request: Request, session: SessionDep, user: User, what: str, details: dict[str, Any], after: str = "",
) -> Response:
    audit.record(session, actor=user, action="feedback_settings_changed", target_type=what, details=details)
    session.commit()
    target = request.url_for("feedback.settings")
    # Back to the page of staff the change was made on.
    return RedirectResponse(str(target.include_query_params(after=after) if after else target), status_code=303)


@router.post("/cai-dat/phan-cong", name="feedback.routing_add",
             dependencies=[*admin_only, Depends(check_same_origin)])
def routing_add(
    request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    sector: str = Form("", max_length=30), agency: str = Form("", max_length=250),
    commune: str = Form("", max_length=10), point_match: str = Form("", max_length=200),
    deadline_days: str = Form("", max_length=5),
) -> Response:
    try:
        commune_row = catalogue.get_commune(session, commune) if commune else None
        if commune and commune_row is None:
            raise ValidationFailed(N_("Không tìm thấy xã/phường đã chọn."))
        if not deadline_days.strip().isdigit():
            raise ValidationFailed(N_("Thời hạn trả lời phải là một số ngày làm việc."))
        rule = routing.add_routing_rule(session, sector=sector, agency=agency, commune=commune_row,
                                        point_match=point_match, deadline_days=int(deadline_days))
    except ValidationFailed as exc:
        session.rollback()
        return _settings_page(request, session, settings, lang, user, exc.translated(lang), 422)
    return _saved(request, session, user, "routing_rule", {"added": rule.id, "sector": sector, "agency": rule.agency})


def _delete(session: SessionDep, model: type[RoutingRule] | type[KeywordRule] | type[Holiday], rule_id: int) -> None:
    row = session.get(model, rule_id)
    if row is None:
        raise NotFound()
    session.delete(row)
    session.flush()


@router.post("/cai-dat/phan-cong/{rule_id}/xoa", name="feedback.routing_delete",
             dependencies=[*admin_only, Depends(check_same_origin)])
def routing_delete(request: Request, rule_id: int, session: SessionDep, user: CurrentUser) -> Response:
    _delete(session, RoutingRule, rule_id)
    return _saved(request, session, user, "routing_rule", {"deleted": rule_id})


@router.post("/cai-dat/tu-khoa", name="feedback.keyword_add", dependencies=[*admin_only, Depends(check_same_origin)])
def keyword_add(
    request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    keyword: str = Form("", max_length=150), category: str = Form("", max_length=30),
    sector: str = Form("", max_length=30), priority: str = Form("0", max_length=5),
) -> Response:
    try:
        try:
            level = int(priority or "0")
        except ValueError:
            raise ValidationFailed(N_("Độ ưu tiên phải là một số nguyên.")) from None
        rule = routing.add_keyword_rule(session, keyword=keyword, category=category, sector=sector or None,
                                        priority=level)
    except ValidationFailed as exc:
        session.rollback()
        return _settings_page(request, session, settings, lang, user, exc.translated(lang), 422)
    return _saved(request, session, user, "keyword_rule", {"added": rule.keyword, "category": rule.category})


@router.post("/cai-dat/tu-khoa/{rule_id}/xoa", name="feedback.keyword_delete",
             dependencies=[*admin_only, Depends(check_same_origin)])
def keyword_delete(request: Request, rule_id: int, session: SessionDep, user: CurrentUser) -> Response:
    _delete(session, KeywordRule, rule_id)
    return _saved(request, session, user, "keyword_rule", {"deleted": rule_id})


@router.post("/cai-dat/ngay-nghi", name="feedback.holiday_add", dependencies=[*admin_only, Depends(check_same_origin)])
def holiday_add(
    request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    day: str = Form("", max_length=20), name: str = Form("", max_length=200),
) -> Response:
    try:
        holiday = workdays.add_holiday(session, day=workdays.parse_day(day), name=name)
    except ValidationFailed as exc:
        session.rollback()
        return _settings_page(request, session, settings, lang, user, exc.translated(lang), 422)
    return _saved(request, session, user, "holiday", {"added": holiday.day.isoformat()})


@router.post("/cai-dat/ngay-nghi/{rule_id}/xoa", name="feedback.holiday_delete",
             dependencies=[*admin_only, Depends(check_same_origin)])
def holiday_delete(request: Request, rule_id: int, session: SessionDep, user: CurrentUser) -> Response:
    _delete(session, Holiday, rule_id)
    return _saved(request, session, user, "holiday", {"deleted": rule_id})


@router.post("/cai-dat/can-bo", name="feedback.user_agency", dependencies=[*admin_only, Depends(check_same_origin)])
def user_agency(
    request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    username: str = Form("", max_length=80), agency: str = Form("", max_length=250),
    after: str = Form("", max_length=80),
) -> Response:
    target = session.scalar(select(User).where(User.username == username, User.role.in_(STAFF)))
    name = " ".join(agency.split())
    if target is None or len(name) > 200:
        error = (Message(N_("Không tìm thấy tài khoản cán bộ “{username}”."), username=username) if target is None
                 else Message(N_("Tên cơ quan quá dài (tối đa 200 ký tự).")))
        return _settings_page(request, session, settings, lang, user, error.translated(lang), 422, after=after)
    target.agency = name or None
    return _saved(request, session, user, "user", {"username": target.username, "agency": target.agency},
                  after=after)


# --- one item ---------------------------------------------------------------------------------------------

def _detail_page(
    request: Request, session: SessionDep, settings: SettingsDep, lang: str, user: User, item: FeedbackItem,
    error: str | None = None, status_code: int = 200,
) -> Response:
    view = feedback_inbox.view_item(session, user=user, item=item)
    session.commit()  # the audit event of an unmasked view
    allowed = feedback.TRANSITIONS.get(item.status, ())
    return _render(request, "feedback/detail.html", {
        **_common(session, user, lang), "view": view, "item": item, "error": error,
        "transitions": [s for s in allowed if s != "answered"],
        "can_act": view.full, "can_reassign": view.full or user.role == "admin",
        "known_agencies": feedback.known_agencies(
            session, province_communes=catalogue.communes_of(session, province_code=settings.province_code)),
    }, status_code)


@router.get("/{item_id}", name="feedback.detail")
def detail(
    request: Request, item_id: int, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser
) -> Response:
    item = feedback_inbox.get_visible(session, user=user, item_id=item_id)
    return _detail_page(request, session, settings, lang, user, item)


def _act(request: Request, session: SessionDep, settings: SettingsDep, lang: str, user: User, item_id: int,
         action: Any) -> Response:
    """Run one workflow action; a refused one re-renders the page with the Vietnamese reason (422)."""
    item = feedback_inbox.get_visible(session, user=user, item_id=item_id)
    try:
        action(item)
    except ValidationFailed as exc:
        session.rollback()
        return _detail_page(request, session, settings, lang, user, item, exc.translated(lang), 422)
    session.commit()
    if not feedback_inbox.can_see(session, user=user, item=item):  # reassigned away: back to the inbox
        return RedirectResponse(str(request.url_for("feedback.inbox")), status_code=303)
    return RedirectResponse(str(request.url_for("feedback.detail", item_id=item_id)), status_code=303)


@router.post("/{item_id}/trang-thai", name="feedback.status", dependencies=[Depends(check_same_origin)])
def change_status(
    request: Request, item_id: int, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    status: str = Form("", max_length=20),
) -> Response:
    return _act(request, session, settings, lang, user, item_id,
                lambda item: feedback_inbox.change_status(session, user=user, item=item, status=status))


@router.post("/{item_id}/tra-loi", name="feedback.answer", dependencies=[Depends(check_same_origin)])
def answer(
    request: Request, item_id: int, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    answer: str = Form("", max_length=5000),
) -> Response:
    return _act(request, session, settings, lang, user, item_id,
                lambda item: feedback_inbox.answer(session, user=user, item=item, text=answer))


@router.post("/{item_id}/ghi-chu", name="feedback.note", dependencies=[Depends(check_same_origin)])
def note(
    request: Request, item_id: int, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    text: str = Form("", max_length=4000),
) -> Response:
    return _act(request, session, settings, lang, user, item_id,
                lambda item: feedback_inbox.add_note(session, user=user, item=item, text=text))


@router.post("/{item_id}/chuyen", name="feedback.reassign", dependencies=[Depends(check_same_origin)])
def reassign(
    request: Request, item_id: int, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    agency: str = Form("", max_length=250), reason: str = Form("", max_length=1000),
) -> Response:
    return _act(request, session, settings, lang, user, item_id,
                lambda item: feedback_inbox.reassign(session, user=user, item=item, agency=agency, reason=reason))
