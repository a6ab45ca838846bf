"""Feedback services: routing, keyword categories, workflow, masking-aware views, scoping, summary, retention."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from survey_app.errors import Forbidden, NotFound, ValidationFailed
from survey_app.models import AuditEvent, FeedbackContact, FeedbackItem, User, UserScope
from survey_app.services import catalogue, feedback, feedback_inbox, feedback_summary, privacy, routing
from survey_app.services import points as points_service
from survey_app.services.accounts import Scope
from survey_app.services.masking import PHONE_MASK
from tests.factories import CHIENG_AN, make_point, make_user

CHIENG_COI = "03670"
TO_HIEU = "03646"
COMPLAINT = "Chờ khám 3 tiếng, cán bộ cáu gắt. Gọi tôi: 0912 345 678."


def _commune(session: Session, code: str = CHIENG_AN):  # type: ignore[no-untyped-def]
    commune = catalogue.get_commune(session, code)
    assert commune is not None
    return commune


def _reviewer(session: Session, username: str, sector: str, communes: list[int] | None = None) -> User:
    user = make_user(session, username=username, role="reviewer")
    for commune_id in communes or [None]:  # type: ignore[list-item]
        user.scopes.append(UserScope(sector=sector, commune_id=commune_id))
    session.commit()
    return user


def _commune_officer(session: Session, username: str, code: str = CHIENG_AN) -> User:
    user = make_user(session, username=username, role="commune")
    user.scopes.append(UserScope(commune_id=_commune(session, code).id))
    session.commit()
    return user


def _item(session: Session, *, sector: str = "health", code: str = CHIENG_AN, text: str = COMPLAINT,
          point_name: str | None = None, **kwargs: object) -> FeedbackItem:
    point = make_point(session, sector=sector, commune_code=code, name=point_name) if sector != "construction_permit" else None
    return feedback.create_item(session, text=text, channel="form", sector=sector, commune=_commune(session, code),
                                point=point, **kwargs)  # type: ignore[arg-type]


@pytest.mark.parametrize(("sector", "expected"), [
    ("health", "Sở Y tế"),
    ("primary_education", "Sở Giáo dục và Đào tạo"),
    ("land_certificate", "Sở Nông nghiệp và Môi trường"),
    ("one_stop", "UBND Phường Chiềng An"),
    ("construction_permit", "Sở Xây dựng"),
])
def test_default_routing_of_son_la_2026(db_session: Session, sector: str, expected: str) -> None:
    item = _item(db_session, sector=sector)
    assert item.agency == expected and item.status == "assigned" and item.assigned_at is not None


def test_provincial_one_stop_centre_goes_to_the_provincial_office(db_session: Session) -> None:
    item = _item(db_session, sector="one_stop", code=TO_HIEU,
                 point_name="Trung tâm Phục vụ hành chính công tỉnh Sơn La")
    assert item.agency == "Văn phòng UBND tỉnh"
    commune_desk = _item(db_session, sector="one_stop", code=TO_HIEU,
                         point_name="Trung tâm Phục vụ hành chính công phường Tô Hiệu")
    assert commune_desk.agency == "UBND Phường Tô Hiệu"


def test_more_specific_rule_wins_and_unrouted_items_wait(db_session: Session) -> None:
    routing.add_routing_rule(db_session, sector="health", agency="Trung tâm Y tế khu vực Thành phố",
                             commune=_commune(db_session, CHIENG_COI), deadline_days=5)
    local = _item(db_session, code=CHIENG_COI)
    elsewhere = _item(db_session, code=CHIENG_AN)
    assert local.agency == "Trung tâm Y tế khu vực Thành phố" and elsewhere.agency == "Sở Y tế"
    assert local.deadline is not None and elsewhere.deadline is not None and local.deadline < elsewhere.deadline
    other = feedback.create_item(db_session, text="Đèn đường hỏng cả tháng nay.", channel="hotline", sector=None,
                                 commune=None)
    assert other.sector == "other" and other.agency is None and other.status == "received"


@pytest.mark.parametrize(("text", "category"), [
    ("Chờ lâu quá, 3 tiếng chưa tới lượt", "waiting"),
    ("CHO LAU QUA", "waiting"),
    ("Cán bộ thái độ cáu gắt với người già", "attitude"),
    ("Cán bộ cáu gắt và đòi phong bì mới làm", "misconduct"),  # misconduct outranks attitude
    ("Nhà vệ sinh bẩn, không có nước uống", "facilities"),
    ("Phiếu này rất hay", "other"),  # no whole-word match ("phi" in "phiếu" is not "phí")
])
def test_keyword_category_is_accent_insensitive(db_session: Session, text: str, category: str) -> None:
    assert routing.suggest(db_session, text=text).category == category


def test_keyword_sector_hint_routes_hotline_calls(db_session: Session) -> None:
    item = feedback.create_item(db_session, text="Làm sổ đỏ 6 tháng chưa xong, hồ sơ bị trả lại 3 lần.",
                                channel="hotline", sector=None, commune=_commune(db_session))
    assert item.sector == "land_certificate" and item.agency == "Sở Nông nghiệp và Môi trường"
    routing.add_keyword_rule(db_session, keyword="Đèn đường", category="facilities", sector="construction_permit")
    lamp = feedback.create_item(db_session, text="den duong hong", channel="box", sector=None, commune=None)
    assert lamp.category == "facilities" and lamp.agency == "Sở Xây dựng"
    with pytest.raises(ValidationFailed):
        routing.add_keyword_rule(db_session, keyword="den duong", category="facilities")


def test_tracking_codes_are_readable_and_unique(db_session: Session) -> None:
    codes = {_item(db_session).tracking_code for _ in range(5)}
    assert len(codes) == 5
    for code in codes:
        assert len(code) == 10 and not set(code) & set("01OIL")
        assert feedback.normalise_code(feedback.format_code(code).lower().replace("-", " - ")) == code
    assert feedback.normalise_code("ABCDE-0OIL1") == ""


def test_contact_needs_a_reply_request_and_consent() -> None:
    no_consent = feedback.validate_submission(text="Xin trả lời giúp tôi", wants_reply=True, phone="0912345678",
                                              email="", consent=False)
    assert "consent" in no_consent.errors
    unasked = feedback.validate_submission(text="Xin trả lời giúp tôi", wants_reply=False, phone="0912345678",
                                           email="", consent=True)
    assert "contact" in unasked.errors
    bad = feedback.validate_submission(text="Xin trả lời giúp tôi", wants_reply=True, phone="abc", email="x@",
                                       consent=True)
    assert {"phone", "email"} <= set(bad.errors)
    ok = feedback.validate_submission(text="Xin trả lời giúp tôi", wants_reply=True, phone="0912 345 678", email="",
                                      consent=True)
    assert ok.ok and ok.contact == feedback.Contact("0912 345 678", None)
    assert "text" in feedback.validate_submission(text="  ", wants_reply=False, phone="", email="", consent=False).errors


def test_workflow_and_rating(db_session: Session) -> None:
    agent = _reviewer(db_session, "syt", "health")
    item = _item(db_session)
    with pytest.raises(ValidationFailed):
        feedback_inbox.change_status(db_session, user=agent, item=item, status="closed")
    with pytest.raises(ValidationFailed, match="trả lời"):
        feedback_inbox.change_status(db_session, user=agent, item=item, status="answered")
    with pytest.raises(ValidationFailed, match="chưa được trả lời"):
        feedback.rate(db_session, item=item, rating="5")
    feedback_inbox.change_status(db_session, user=agent, item=item, status="in_progress")
    feedback_inbox.add_note(db_session, user=agent, item=item, text="Đã gọi trạm trưởng xác minh.")
    feedback_inbox.answer(db_session, user=agent, item=item, text="Sở đã nhắc nhở trạm y tế và bổ sung ghế chờ.")
    assert item.status == "answered" and item.answered_at is not None
    feedback.rate(db_session, item=item, rating="4")
    with pytest.raises(ValidationFailed, match="đã đánh giá"):
        feedback.rate(db_session, item=item, rating="1")
    feedback_inbox.change_status(db_session, user=agent, item=item, status="closed")
    assert item.status == "closed" and item.rating == "4"
    kinds = [e.kind for e in feedback_inbox.view_item(db_session, user=agent, item=item).events]
    assert kinds == ["created", "assigned", "status", "status", "rated", "status"]


def test_other_agencies_cannot_act(db_session: Session) -> None:
    education = _reviewer(db_session, "sgd", "primary_education")
    admin = make_user(db_session, username="noivu", role="admin")
    item = _item(db_session)
    for user in (education, admin):
        with pytest.raises(Forbidden):
            feedback_inbox.answer(db_session, user=user, item=item, text="Không phải việc của tôi nhưng vẫn trả lời.")
    with pytest.raises(NotFound):
        feedback_inbox.get_visible(db_session, user=education, item_id=item.id)
    assert feedback_inbox.get_visible(db_session, user=admin, item_id=item.id) is item


def test_full_text_only_for_the_responsible_agency_and_audited(db_session: Session) -> None:
    agent = _reviewer(db_session, "syt", "health")
    admin = make_user(db_session, username="noivu", role="admin")
    checked = feedback.validate_submission(text=COMPLAINT, wants_reply=True, phone="0912 345 678",
                                           email="sang@gmail.com", consent=True)
    item = _item(db_session, contact=checked.contact, wants_reply=True)
    admin_view = feedback_inbox.view_item(db_session, user=admin, item=item)
    assert not admin_view.full and "0912 345 678" not in admin_view.text and PHONE_MASK in admin_view.text
    assert admin_view.contact_phone == "••••••••78" and admin_view.contact_email == "s•••@gmail.com"
    assert db_session.scalar(select(AuditEvent).where(AuditEvent.action == "feedback_viewed")) is None
    full = feedback_inbox.view_item(db_session, user=agent, item=item)
    assert full.full and full.text == COMPLAINT and full.contact_phone == "0912 345 678"
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "feedback_viewed"))
    assert event is not None and event.actor == "syt" and event.details == {"unmasked": True, "contact": True}
    assert "0912" not in str(event.details)
    admin.agency = "Sở Y tế"  # an admin who works for the agency sees what the agency sees
    assert feedback_inbox.view_item(db_session, user=admin, item=item).full


def test_inbox_scoping(db_session: Session) -> None:
    health = _item(db_session, sector="health")
    school = _item(db_session, sector="primary_education")
    desk = _item(db_session, sector="one_stop", code=CHIENG_AN)
    other_desk = _item(db_session, sector="one_stop", code=CHIENG_COI)
    everything = feedback_inbox.InboxFilters(status="all")

    def seen(user: User) -> set[int]:
        return {row.item.id for row in feedback_inbox.inbox(db_session, user=user, filters=everything)}

    assert seen(_reviewer(db_session, "syt", "health")) >= {health.id}
    assert not seen(_reviewer(db_session, "syt2", "health")) & {school.id, desk.id, other_desk.id}
    assert school.id in seen(_reviewer(db_session, "sgd", "primary_education"))
    officer = seen(_commune_officer(db_session, "xa_chieng_an"))
    assert desk.id in officer and not officer & {health.id, school.id, other_desk.id}
    limited = _reviewer(db_session, "syt_coi", "health", communes=[_commune(db_session, CHIENG_COI).id])
    assert health.id not in seen(limited)
    assert seen(make_user(db_session, username="xem", role="viewer")) == set()
    assert {health.id, school.id, desk.id, other_desk.id} <= seen(make_user(db_session, username="noivu", role="admin"))
    rows = feedback_inbox.inbox(db_session, user=make_user(db_session, username="noivu2", role="admin"), filters=everything)
    assert all("0912 345 678" not in r.snippet for r in rows)


def test_overdue_flag_and_filter(db_session: Session) -> None:
    agent = _reviewer(db_session, "syt", "health")
    old = _item(db_session, received_at=dt.datetime(2026, 1, 5, 2, tzinfo=dt.UTC))
    fresh = _item(db_session)
    rows = feedback_inbox.inbox(db_session, user=agent, filters=feedback_inbox.InboxFilters(overdue=True))
    ids = {r.item.id for r in rows}
    assert old.id in ids and fresh.id not in ids and all(r.overdue for r in rows)


def test_reassignment_keeps_reason_in_history_and_audit(db_session: Session) -> None:
    agent = _reviewer(db_session, "syt", "health")
    item = _item(db_session)
    with pytest.raises(ValidationFailed, match="lý do"):
        feedback_inbox.reassign(db_session, user=agent, item=item, agency="Sở Xây dựng", reason="")
    feedback_inbox.reassign(db_session, user=agent, item=item, agency="Sở Xây dựng", reason="Nội dung về giấy phép xây dựng")
    assert item.agency == "Sở Xây dựng" and not feedback_inbox.can_see(db_session, user=agent, item=item)
    event = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "feedback_reassigned"))
    assert event is not None and event.details["from"] == "Sở Y tế" and "giấy phép" in event.details["reason"]


def test_contacts_are_purged_by_retention(db_session: Session) -> None:
    contact = feedback.Contact("0912345678", "a@b.vn")
    old = _item(db_session, contact=contact, wants_reply=True)
    new = _item(db_session, contact=contact, wants_reply=True)
    assert old.contact is not None and new.contact is not None
    old.contact.consent_at = dt.datetime.now(dt.UTC) - dt.timedelta(days=200)
    db_session.flush()
    removed = privacy.apply_retention(db_session, rate_event_retention_hours=48, contact_retention_days=180)
    assert removed["feedback_contact"] == 1
    db_session.refresh(old.contact)
    assert old.contact.phone is None and old.contact.email is None and old.contact.purged_at is not None
    assert new.contact.phone == "0912345678"
    agent = _reviewer(db_session, "syt", "health")
    assert not feedback_inbox.view_item(db_session, user=agent, item=old).has_contact
    assert any("feedback_contact" in h.where for h in privacy.inventory(contact_retention_days=180,
                                                                        rate_event_retention_hours=48))
    assert db_session.scalar(select(FeedbackContact).where(FeedbackContact.phone == "0912345678")) is not None


def test_summary_counts_on_time_and_satisfaction(db_session: Session) -> None:
    agent = _reviewer(db_session, "syt", "health")
    base = dt.datetime(2026, 3, 2, 2, tzinfo=dt.UTC)  # Monday; deadline 15 working days later = 20/3
    on_time = _item(db_session, received_at=base)
    late = _item(db_session, received_at=base)
    unanswered = _item(db_session, received_at=base)
    school = _item(db_session, sector="primary_education", received_at=base)
    feedback_inbox.answer(db_session, user=agent, item=on_time, text="Đã xử lý xong.", now=base + dt.timedelta(days=3))
    feedback_inbox.answer(db_session, user=agent, item=late, text="Đã xử lý, xin lỗi vì chậm.",
                    now=base + dt.timedelta(days=40))
    feedback.rate(db_session, item=on_time, rating="5")
    feedback.rate(db_session, item=late, rating="2")
    health = Scope(frozenset({"health"}), None, True)
    summary = feedback_summary.feedback_summary(db_session, start=dt.date(2026, 3, 1), end=dt.date(2026, 5, 31), scope=health)
    assert summary.total == 3 and summary.by_agency == {"Sở Y tế": 3}
    assert summary.due == 3 and summary.answered == 2 and summary.answered_on_time == 1
    assert summary.on_time_share == pytest.approx(1 / 3)
    assert summary.ratings == 2 and summary.satisfied == 1 and summary.satisfaction_share == 0.5
    assert sum(r["received"] for r in summary.records()) == 3
    assert unanswered.id and school.id
    province = feedback_summary.feedback_summary(db_session, start=dt.date(2026, 3, 1), end=dt.date(2026, 5, 31))
    assert province.total == 4 and province.by_agency["Sở Giáo dục và Đào tạo"] == 1
    empty = feedback_summary.feedback_summary(db_session, start=dt.date(2020, 1, 1), end=dt.date(2020, 1, 31))
    assert empty.total == 0 and empty.on_time_share is None and empty.satisfaction_share is None


def test_done_means_commune_health_station_complaint_reaches_so_y_te_and_rating_is_counted(db_session: Session) -> None:
    """Done means: a complaint left via the QR code of a commune health station reaches Sở Y tế's inbox,
    is answered, and the citizen's rating of the answer is counted by feedback_summary for health."""
    station = make_point(db_session, sector="health", commune_code=CHIENG_COI, name="Trạm Y tế phường Chiềng Cơi")
    point = points_service.get_by_token(db_session, token=station.token)
    checked = feedback.validate_submission(text="Trạm y tế đóng cửa sớm, chờ lâu mà không ai tiếp.",
                                           wants_reply=False, phone="", email="", consent=False)
    item = feedback.create_item(db_session, text=checked.text, channel="form", sector=point.sector,
                                commune=point.commune, point=point)
    so_y_te = _reviewer(db_session, "can_bo_syt", "health")
    inbox = feedback_inbox.inbox(db_session, user=so_y_te, filters=feedback_inbox.InboxFilters())
    assert item.id in {r.item.id for r in inbox}
    feedback_inbox.answer(db_session, user=so_y_te, item=item, text="Trạm đã điều chỉnh giờ làm việc đến 17 giờ.")
    found = feedback.find_by_code(db_session, code=feedback.format_code(item.tracking_code))
    assert found is item and feedback.public_status(found).can_rate
    feedback.rate(db_session, item=found, rating="4")
    today = feedback.local_today()
    summary = feedback_summary.feedback_summary(db_session, start=today, end=today,
                                        scope=Scope(frozenset({"health"}), None, True))
    assert summary.ratings == 1 and summary.satisfied == 1 and summary.satisfaction_share == 1.0
    assert summary.by_agency == {"Sở Y tế": 1} and summary.by_category == {"waiting": 1}
    assert summary.by_commune == {"Phường Chiềng Cơi": 1}
