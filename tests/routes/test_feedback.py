"""Feedback over HTTP: the public form and tracking page, agency inbox and detail, staff entry, admin editors."""

from __future__ import annotations

import datetime as dt
import re
import uuid

import numpy as np
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey_app.config import Settings
from survey_app.models import AuditEvent, FeedbackItem, Holiday, KeywordRule, RoutingRule, User, UserScope
from survey_app.questionnaire import ItemRole
from survey_app.security import Signer
from survey_app.services import feedback, feedback_inbox, feedback_summary
from survey_app.services import questionnaires as q_service
from survey_app.services.accounts import Scope
from survey_app.services.demo import synthetic_form
from survey_app.services.keyset import PAGE_SIZE
from tests.conftest import TEST_SECRET
from tests.factories import make_point, make_user

PASSWORD = "mat-khau-dai-123"
TEXT = "Chờ khám 3 tiếng, cán bộ cáu gắt. Số của tôi 0912 345 678, CCCD 014095001234."


def _ticket(seconds_ago: float = 30) -> str:
    started = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=seconds_ago)
    return Signer(TEST_SECRET).dumps("feedback", {"sid": str(uuid.uuid4()), "t": started.isoformat()})


def _post(client: TestClient, token: str, **fields: str) -> object:
    data = {"ticket": _ticket(), "text": TEXT, **fields}
    return client.post(f"/q/{token}/gop-y", data=data)


def _count(db_session: Session) -> int:
    return db_session.scalar(select(func.count()).select_from(FeedbackItem)) or 0


def _login(client: TestClient, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 303, r.text


def _reviewer(db_session: Session, username: str, sector: str) -> User:
    user = make_user(db_session, username=username, role="reviewer")
    user.scopes.append(UserScope(sector=sector))
    db_session.commit()
    return user


def _code_from(location: str) -> str:
    match = re.search(r"ma=([A-Z0-9-]+)", location)
    assert match, location
    return match.group(1)


def test_questionnaire_and_poster_link_to_the_feedback_form(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    assert f"/q/{point.token}/gop-y" in client.get(f"/q/{point.token}").text
    make_user(db_session)
    _login(client, "admin1")
    poster = client.get(f"/admin/points/{point.id}/poster").text
    assert f"/q/{point.token}/gop-y" in poster
    form = client.get(f"/q/{point.token}/gop-y")
    assert form.status_code == 200 and "Góp ý, phản ánh, kiến nghị" in form.text and point.name in form.text


def test_public_submission_gives_a_tracking_code_and_routes(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    data = {"ticket": _ticket(), "text": TEXT, "wants_reply": "1", "phone": "0912 345 678", "consent": "1"}
    r = client.post(f"/q/{point.token}/gop-y", data=data)
    assert r.status_code == 303 and "/theo-doi?ma=" in r.headers["location"]
    again = client.post(f"/q/{point.token}/gop-y", data=data)  # double tap: same item
    assert again.headers["location"] == r.headers["location"]
    item = db_session.scalar(select(FeedbackItem).order_by(FeedbackItem.id.desc()))
    assert item is not None and _count(db_session) == 1
    assert (item.channel, item.agency, item.status, item.reception_point_id) == ("form", "Sở Y tế", "assigned", point.id)
    assert item.contact is not None and item.contact.phone == "0912 345 678" and item.contact.consent_at is not None
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and feedback.format_code(item.tracking_code) in page.text
    assert "Đã gửi góp ý" in page.text


def test_invalid_submissions_keep_the_text(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    r = _post(client, point.token, text="")
    assert r.status_code == 422 and "Vui lòng nhập nội dung" in r.text  # type: ignore[attr-defined]
    r = _post(client, point.token, wants_reply="1", phone="0912345678")
    assert r.status_code == 422 and "đánh dấu đồng ý" in r.text and "cán bộ cáu gắt" in r.text  # type: ignore[attr-defined]
    r = client.post(f"/q/{point.token}/gop-y", data={"ticket": "forged", "text": TEXT})
    assert r.status_code == 422 and "hết hạn" in r.text and "cán bộ cáu gắt" in r.text
    assert _count(db_session) == 0


def test_bots_are_refused(client: TestClient, db_session: Session, settings: Settings) -> None:
    point = make_point(db_session)
    assert _post(client, point.token, website="http://spam.example").status_code == 422  # type: ignore[attr-defined]
    fast = client.post(f"/q/{point.token}/gop-y", data={"ticket": _ticket(seconds_ago=0.5), "text": TEXT})
    assert fast.status_code == 422
    assert _count(db_session) == 0
    settings.submit_burst_limit = 2
    assert [_post(client, point.token).status_code for _ in range(3)] == [303, 303, 429]  # type: ignore[attr-defined]
    assert _count(db_session) == 2


def test_tracking_page_shows_only_status_dates_and_public_answer(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    location = _post(client, point.token, wants_reply="1", email="sang@gmail.com", consent="1").headers["location"]  # type: ignore[attr-defined]
    code = _code_from(location)
    agent = _reviewer(db_session, "syt", "health")
    item = feedback.find_by_code(db_session, code=code)
    assert item is not None
    feedback_inbox.add_note(db_session, user=agent, item=item, text="Ghi chú nội bộ: trạm trưởng Nguyễn Văn A.")
    before = client.get(f"/theo-doi?ma={code}")
    assert "Đã chuyển cơ quan xử lý" in before.text and "Bạn có hài lòng" not in before.text
    feedback_inbox.answer(db_session, user=agent, item=item, text="Đã nhắc nhở cán bộ. Liên hệ lại 0212 3852 123.")
    db_session.commit()
    page = client.get(f"/theo-doi?ma={code.lower().replace('-', ' ')}")
    assert page.status_code == 200
    assert "Đã trả lời" in page.text and "Đã nhắc nhở cán bộ." in page.text
    assert "Bạn có hài lòng với cách giải quyết?" in page.text
    for secret in ("cán bộ cáu gắt", "0912", "014095001234", "Ghi chú nội bộ", "sang@gmail.com", "Sở Y tế",
                   "Thái độ", "0212 3852 123", "syt"):
        assert secret not in page.text, secret
    rated = client.post("/theo-doi/danh-gia", data={"ma": code, "rating": "5"})
    assert rated.status_code == 303
    db_session.refresh(item)
    assert item.rating == "5"
    after = client.get(rated.headers["location"])
    assert "Rất hài lòng" in after.text and 'name="rating"' not in after.text
    twice = client.post("/theo-doi/danh-gia", data={"ma": code, "rating": "1"})
    assert twice.status_code == 422 and "đã đánh giá" in twice.text
    db_session.refresh(item)
    assert item.rating == "5"


def test_unknown_codes_and_enumeration(client: TestClient, db_session: Session) -> None:
    r = client.get("/theo-doi?ma=ABCDE-23456")
    assert r.status_code == 404 and "Không tìm thấy mã theo dõi" in r.text
    assert client.get("/theo-doi").status_code == 200
    assert client.post("/theo-doi/danh-gia", data={"ma": "nonsense", "rating": "5"}).status_code == 404
    statuses = [client.get("/theo-doi?ma=ABCDE-23456").status_code for _ in range(35)]
    assert statuses[-1] == 429 and "Tra cứu quá nhiều lần" in client.get("/theo-doi?ma=ABCDE-23457").text


def test_inbox_is_scoped_to_the_agency(client: TestClient, db_session: Session) -> None:
    health_point = make_point(db_session, sector="health")
    school_point = make_point(db_session, sector="primary_education")
    _post(client, health_point.token)
    _post(client, school_point.token, text="Trường thu tiền học thêm, ép học thêm buổi chiều.")
    health = db_session.scalar(select(FeedbackItem).where(FeedbackItem.sector == "health"))
    school = db_session.scalar(select(FeedbackItem).where(FeedbackItem.sector == "primary_education"))
    assert health is not None and school is not None
    _reviewer(db_session, "syt", "health")
    _reviewer(db_session, "sgd", "primary_education")
    _login(client, "syt")
    inbox = client.get("/phan-anh")
    assert inbox.status_code == 200 and feedback.format_code(health.tracking_code) in inbox.text
    assert feedback.format_code(school.tracking_code) not in inbox.text
    assert "0912 345 678" not in inbox.text  # snippets are masked even for the agency
    assert client.get(f"/phan-anh/{school.id}").status_code == 404
    _login(client, "sgd")
    assert feedback.format_code(school.tracking_code) in client.get("/phan-anh").text
    assert client.get(f"/phan-anh/{health.id}").status_code == 404


def test_detail_masks_for_admin_and_audits_the_agency(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    _post(client, point.token, wants_reply="1", phone="0988 777 666", consent="1")
    item = db_session.scalar(select(FeedbackItem))
    assert item is not None
    make_user(db_session, username="noivu", role="admin")
    _reviewer(db_session, "syt", "health")
    _login(client, "noivu")
    masked = client.get(f"/phan-anh/{item.id}")
    assert masked.status_code == 200 and "0912 345 678" not in masked.text and "014095001234" not in masked.text
    assert "0988 777 666" not in masked.text and "••••••••66" in masked.text and "đã che" in masked.text
    assert db_session.scalar(select(func.count()).where(AuditEvent.action == "feedback_viewed")) == 0
    _login(client, "syt")
    full = client.get(f"/phan-anh/{item.id}")
    assert "0912 345 678" in full.text and "0988 777 666" in full.text
    events = list(db_session.scalars(select(AuditEvent).where(AuditEvent.action == "feedback_viewed")))
    assert len(events) == 1 and events[0].actor == "syt" and events[0].target_id == str(item.id)


def test_agency_answers_changes_status_and_reassigns(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    _post(client, point.token)
    item = db_session.scalar(select(FeedbackItem))
    assert item is not None
    _reviewer(db_session, "syt", "health")
    _login(client, "syt")
    bad = client.post(f"/phan-anh/{item.id}/tra-loi", data={"answer": ""})
    assert bad.status_code == 422 and "Vui lòng nhập nội dung trả lời" in bad.text
    assert client.post(f"/phan-anh/{item.id}/trang-thai", data={"status": "in_progress"}).status_code == 303
    assert client.post(f"/phan-anh/{item.id}/ghi-chu", data={"text": "Đã xác minh."}).status_code == 303
    r = client.post(f"/phan-anh/{item.id}/tra-loi", data={"answer": "Trạm đã bố trí thêm bác sĩ buổi sáng."})
    assert r.status_code == 303
    db_session.refresh(item)
    assert item.status == "answered" and item.public_answer and item.answered_at is not None
    page = client.get(f"/phan-anh/{item.id}")
    assert "Đã xác minh." in page.text and "Trạm đã bố trí thêm bác sĩ" in page.text
    no_reason = client.post(f"/phan-anh/{item.id}/chuyen", data={"agency": "Sở Xây dựng", "reason": ""})
    assert no_reason.status_code == 422 and "lý do" in no_reason.text
    moved = client.post(f"/phan-anh/{item.id}/chuyen", data={"agency": "Sở Xây dựng", "reason": "Sai lĩnh vực"})
    assert moved.status_code == 303 and moved.headers["location"].endswith("/phan-anh")
    db_session.refresh(item)
    assert item.agency == "Sở Xây dựng"
    assert client.get(f"/phan-anh/{item.id}").status_code == 404
    audit = db_session.scalar(select(AuditEvent).where(AuditEvent.action == "feedback_reassigned"))
    assert audit is not None and audit.details["reason"] == "Sai lĩnh vực"


def test_admin_cannot_answer_for_an_agency(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    _post(client, point.token)
    item = db_session.scalar(select(FeedbackItem))
    assert item is not None
    make_user(db_session, username="noivu", role="admin")
    _login(client, "noivu")
    assert client.post(f"/phan-anh/{item.id}/tra-loi", data={"answer": "Trả lời thay sở."}).status_code == 403


def test_staff_enter_hotline_calls(client: TestClient, db_session: Session) -> None:
    officer = make_user(db_session, username="xa", role="commune")
    from survey_app.services import catalogue

    commune = catalogue.get_commune(db_session, "03667")
    assert commune is not None
    officer.scopes.append(UserScope(commune_id=commune.id))
    db_session.commit()
    _login(client, "xa")
    assert client.get("/phan-anh/moi").status_code == 200
    bad = client.post("/phan-anh/moi", data={"channel": "", "text": "Bộ phận một cửa trả hồ sơ không rõ lý do"})
    assert bad.status_code == 422 and "kênh tiếp nhận" in bad.text and "trả hồ sơ không rõ lý do" in bad.text
    r = client.post("/phan-anh/moi", data={"channel": "hotline", "sector": "one_stop", "commune": "03667",
                                           "text": "Bộ phận một cửa trả hồ sơ không rõ lý do"})
    assert r.status_code == 303
    item = db_session.scalar(select(FeedbackItem).where(FeedbackItem.channel == "hotline"))
    assert item is not None and item.agency == "UBND Phường Chiềng An" and item.created_by == "xa"
    inbox = client.get(r.headers["location"])
    assert feedback.format_code(item.tracking_code) in inbox.text and "Mã theo dõi cho người dân" in inbox.text


def test_admin_edits_routing_keywords_holidays_and_agencies(client: TestClient, db_session: Session) -> None:
    make_user(db_session, username="noivu", role="admin")
    target = _reviewer(db_session, "ytxa", "health")
    _login(client, "noivu")
    page = client.get("/phan-anh/cai-dat")
    assert page.status_code == 200 and "Sở Y tế" in page.text and "Tết Nguyên đán" in page.text
    r = client.post("/phan-anh/cai-dat/phan-cong", data={"sector": "health", "agency": "Trung tâm Y tế khu vực",
                                                          "commune": "03670", "deadline_days": "10"})
    assert r.status_code == 303
    assert db_session.scalar(select(RoutingRule).where(RoutingRule.agency == "Trung tâm Y tế khu vực")) is not None
    bad = client.post("/phan-anh/cai-dat/phan-cong", data={"sector": "health", "agency": "X", "deadline_days": "abc"})
    assert bad.status_code == 422 and "ngày làm việc" in bad.text
    assert client.post("/phan-anh/cai-dat/tu-khoa", data={"keyword": "Tiêm chủng", "category": "quality",
                                                           "sector": "health", "priority": "2"}).status_code == 303
    assert db_session.scalar(select(KeywordRule).where(KeywordRule.keyword == "tiem chung")) is not None
    assert client.post("/phan-anh/cai-dat/ngay-nghi", data={"day": "24/11/2026", "name": "Ngày Văn hoá"}).status_code == 303
    holiday = db_session.scalar(select(Holiday).where(Holiday.day == dt.date(2026, 11, 24)))
    assert holiday is not None
    assert client.post("/phan-anh/cai-dat/ngay-nghi", data={"day": "hôm qua", "name": "x"}).status_code == 422
    assert client.post(f"/phan-anh/cai-dat/ngay-nghi/{holiday.id}/xoa").status_code == 303
    assert client.post("/phan-anh/cai-dat/can-bo", data={"username": "ytxa", "agency": "Trung tâm Y tế khu vực"}).status_code == 303
    db_session.refresh(target)
    assert target.agency == "Trung tâm Y tế khu vực"
    changes = db_session.scalar(select(func.count()).where(AuditEvent.action == "feedback_settings_changed"))
    assert changes == 5


def test_staff_agencies_are_paged_and_edited_row_by_row(client: TestClient, db_session: Session) -> None:
    make_user(db_session, username="admin", role="admin")
    # Cheap accounts: the password hash is not what is tested here.
    db_session.add_all(User(username=f"xa{i:03d}", password_hash="x", role="commune", must_change_password=False)
                       for i in range(PAGE_SIZE + 5))
    db_session.add(User(username="dtv1", password_hash="x", role="enumerator", must_change_password=False))
    db_session.commit()
    _login(client, "admin")
    first = client.get("/phan-anh/cai-dat")
    assert first.status_code == 200
    shown = re.findall(r'name="username" value="([^"]+)"', first.text)
    assert len(shown) == PAGE_SIZE and shown == sorted(shown) and "dtv1" not in shown  # enumerators are not staff
    assert "Cán bộ UBND xã/phường" in first.text  # the role's label, not its code
    after = re.search(r'href="(/phan-anh/cai-dat\?after=[^"]+)" rel="next"', first.text)
    assert after is not None
    second = client.get(after.group(1).replace("&amp;", "&"))
    rest = re.findall(r'name="username" value="([^"]+)"', second.text)
    assert rest == [f"xa{i:03d}" for i in range(PAGE_SIZE + 5) if f"xa{i:03d}" not in shown]
    assert "Về trang đầu" in second.text
    cursor = after.group(1).split("after=", 1)[1]
    saved = client.post("/phan-anh/cai-dat/can-bo", data={"username": rest[0], "agency": "  UBND   xã thử  ",
                                                           "after": cursor})
    assert saved.status_code == 303 and saved.headers["location"].endswith(f"/phan-anh/cai-dat?after={cursor}")
    edited = db_session.scalar(select(User).where(User.username == rest[0]))
    assert edited is not None
    db_session.refresh(edited)
    assert edited.agency == "UBND xã thử"
    for data, message in (({"username": "dtv1", "agency": "Sở Nội vụ"}, "Không tìm thấy tài khoản cán bộ “dtv1”."),
                          ({"username": "khong-co", "agency": "Sở Nội vụ"}, "Không tìm thấy tài khoản cán bộ “khong-co”."),
                          ({"username": rest[0], "agency": "x" * 201}, "Tên cơ quan quá dài (tối đa 200 ký tự).")):
        bad = client.post("/phan-anh/cai-dat/can-bo", data=data)
        assert bad.status_code == 422 and message in bad.text
    db_session.refresh(edited)
    assert edited.agency == "UBND xã thử"  # a rejected change loses nothing already saved


def test_comments_are_escaped(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    _post(client, point.token, text="<script>alert('x')</script> chờ lâu quá")
    item = db_session.scalar(select(FeedbackItem))
    assert item is not None
    _reviewer(db_session, "syt", "health")
    _login(client, "syt")
    for path in ("/phan-anh", f"/phan-anh/{item.id}"):
        page = client.get(path).text
        assert "<script>alert" not in page and "&lt;script&gt;" in page


def test_questionnaire_comment_becomes_feedback(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    version = q_service.current_for_sector(db_session, sector="health")
    assert version is not None
    questionnaire = q_service.parsed(version)
    comment_item = questionnaire.item_by_role(ItemRole.comment)
    assert comment_item is not None
    form_page = client.get(f"/q/{point.token}").text
    ticket = re.search(r'name="ticket" value="([^"]+)"', form_page)
    assert ticket
    data = synthetic_form(questionnaire, 0.5, np.random.default_rng(7))
    data[comment_item.id] = ["Bác sĩ tận tình nhưng nhà vệ sinh quá bẩn."]
    r = client.post(f"/q/{point.token}", data={**data, "ticket": [ticket.group(1)]})
    assert r.status_code == 303
    client.post(f"/q/{point.token}", data={**data, "ticket": [ticket.group(1)]})  # a retry adds nothing
    items = list(db_session.scalars(select(FeedbackItem)))
    assert len(items) == 1
    item = items[0]
    assert (item.channel, item.agency, item.category, item.wants_reply) == (
        "questionnaire_comment", "Sở Y tế", "facilities", False)
    assert item.comment_id is not None and item.contact is None


def test_done_means_qr_complaint_at_health_station_answered_and_rated(client: TestClient, db_session: Session) -> None:
    """Done means: a complaint left through the QR code of a commune health station reaches Sở Y tế's
    inbox, is answered, and the citizen's rating of the answer is counted by feedback_summary for health."""
    station = make_point(db_session, sector="health", commune_code="03670", name="Trạm Y tế phường Chiềng Cơi")
    sent = client.post(f"/q/{station.token}/gop-y", data={
        "ticket": _ticket(), "text": "Trạm y tế đóng cửa lúc 15 giờ, tôi chờ lâu mà không ai tiếp."})
    code = _code_from(sent.headers["location"])
    _reviewer(db_session, "can_bo_syt", "health")
    _login(client, "can_bo_syt")
    inbox = client.get("/phan-anh")
    assert code in inbox.text
    item = feedback.find_by_code(db_session, code=code)
    assert item is not None
    assert client.post(f"/phan-anh/{item.id}/tra-loi",
                       data={"answer": "Trạm đã điều chỉnh giờ làm việc đến 17 giờ."}).status_code == 303
    client.cookies.clear()  # the citizen, not logged in
    assert "Trạm đã điều chỉnh giờ làm việc" in client.get(f"/theo-doi?ma={code}").text
    assert client.post("/theo-doi/danh-gia", data={"ma": code, "rating": "4"}).status_code == 303
    db_session.expire_all()  # the report reads what the requests committed
    today = feedback.local_today()
    summary = feedback_summary.feedback_summary(db_session, start=today, end=today,
                                        scope=Scope(frozenset({"health"}), None, True))
    assert (summary.total, summary.ratings, summary.satisfied) == (1, 1, 1)
    assert summary.by_agency == {"Sở Y tế": 1} and summary.by_commune == {"Phường Chiềng Cơi": 1}
    assert summary.answered_on_time == 1 and summary.satisfaction_share == 1.0
