import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey_app.models import Comment, Response
from survey_app.questionnaire import Questionnaire
from survey_app.services import questionnaires as q_service
from survey_app.services.submissions import parse_submission_id, store_response, validate_answers
from tests.factories import make_point

SMALL = Questionnaire.model_validate(
    {
        "id": "small",
        "version": 1,
        "sector": "health",
        "title": {"vi": "Thử", "en": "Test"},
        "pages": [
            {
                "id": "p1",
                "title": {"vi": "Trang một"},
                "items": [
                    {"id": "visit", "type": "single", "text": {"vi": "Loại khám"},
                     "options": [{"value": "out", "label": {"vi": "Ngoại trú"}}, {"value": "in", "label": {"vi": "Nội trú"}}]},
                    {"id": "bed", "type": "scale5", "text": {"vi": "Giường bệnh"}, "show_if": [{"item": "visit", "in": ["in"]}]},
                    {"id": "staff", "type": "scale5", "allow_na": True, "text": {"vi": "Thái độ nhân viên"}},
                    {"id": "days", "type": "number", "min": 0, "max": 90, "required": False, "text": {"vi": "Số ngày"}},
                    {"id": "channels", "type": "multi", "required": False, "text": {"vi": "Kênh"},
                     "options": [{"value": "web", "label": {"vi": "Web"}}, {"value": "phone", "label": {"vi": "Điện thoại"}}]},
                    {"id": "used", "type": "yesno", "text": {"vi": "Đã sử dụng dịch vụ?"}},
                    {"id": "note", "type": "text", "required": False, "max_length": 20, "text": {"vi": "Góp ý"}},
                ],
            }
        ],
    }
)


def test_valid_answers() -> None:
    v = validate_answers(SMALL, {"visit": ["in"], "bed": ["4"], "staff": ["na"], "days": ["3"], "channels": ["web", "phone"],
                                 "used": ["yes"], "note": ["  Tốt  "], "unknown": ["x"]})
    assert v.ok, v.errors
    assert v.answers == {"visit": "in", "bed": "4", "staff": "na", "days": 3, "channels": ["web", "phone"], "used": "yes"}
    assert v.texts == {"note": "Tốt"}


def test_required_and_allowed_values() -> None:
    v = validate_answers(SMALL, {"visit": ["in"], "staff": ["7"], "used": ["maybe"]})
    assert set(v.errors) == {"bed", "staff", "used"}
    assert v.errors["bed"].message == "Vui lòng chọn một câu trả lời."
    assert v.errors["staff"].message == "Câu trả lời không hợp lệ."
    assert v.raw["staff"] == "7"  # kept for re-rendering


def test_hidden_items_are_dropped_not_stored() -> None:
    v = validate_answers(SMALL, {"visit": ["out"], "bed": ["1"], "staff": ["5"], "used": ["no"]})
    assert v.ok and "bed" not in v.answers


@pytest.mark.parametrize(
    ("value", "message"),
    [("abc", "Vui lòng nhập một số."), ("2.5", "Vui lòng nhập một số nguyên."), ("91", "Giá trị phải từ {min} đến {max}."),
     ("-1", "Giá trị phải từ {min} đến {max}."), ("nan", "Vui lòng nhập một số."), ("1e400", "Vui lòng nhập một số.")],
)
def test_number_errors(value: str, message: str) -> None:
    v = validate_answers(SMALL, {"visit": ["out"], "staff": ["5"], "used": ["yes"], "days": [value]})
    assert v.errors["days"].message == message


def test_text_limits_and_control_characters() -> None:
    v = validate_answers(SMALL, {"visit": ["out"], "staff": ["5"], "used": ["yes"], "note": ["x" * 21]})
    assert v.errors["note"].params == {"max": 20}
    v = validate_answers(SMALL, {"visit": ["out"], "staff": ["5"], "used": ["yes"], "note": ["a\x00b\x1bc"]})
    assert v.texts == {"note": "abc"}


def test_multi_rejects_unknown_and_single_rejects_two_values() -> None:
    v = validate_answers(SMALL, {"visit": ["out", "in"], "staff": ["5"], "used": ["yes"], "channels": ["web", "fax"]})
    assert set(v.errors) == {"visit", "channels"}


def test_parse_submission_id() -> None:
    u = uuid.uuid4()
    assert parse_submission_id(str(u).upper()) == str(u)
    assert parse_submission_id("not-a-uuid") is None
    assert parse_submission_id(None) is None


def test_store_is_idempotent_on_submission_id(db_session: Session) -> None:
    point = make_point(db_session)
    version = q_service.current_for_sector(db_session, sector="health")
    assert version is not None
    q = q_service.parsed(version)
    import numpy as np

    from survey_app.services.demo import synthetic_form

    validated = validate_answers(q, synthetic_form(q, 0.5, np.random.default_rng(1)))
    validated.texts["note"] = "Cần thêm ghế"
    sid = str(uuid.uuid4())
    kwargs = dict(submission_id=sid, version=version, validated=validated, commune_id=point.commune_id,
                  sector="health", mode="qr", language="vi", started_at=None, point=point)
    first = store_response(db_session, **kwargs)  # type: ignore[arg-type]
    second = store_response(db_session, **kwargs)  # type: ignore[arg-type]
    db_session.commit()
    assert first.created and not second.created and first.response.id == second.response.id
    assert db_session.scalar(select(func.count()).select_from(Response).where(Response.submission_id == sid)) == 1
    stored = db_session.get(Response, first.response.id)
    assert stored is not None and stored.questionnaire_hash == version.content_hash
    assert stored.answers == validated.answers
    assert db_session.scalar(select(Comment.text).where(Comment.response_id == stored.id)) == "Cần thêm ghế"


def test_invalid_answers_are_never_stored(db_session: Session) -> None:
    point = make_point(db_session)
    version = q_service.current_for_sector(db_session, sector="health")
    assert version is not None
    bad = validate_answers(SMALL, {})
    with pytest.raises(ValueError):
        store_response(db_session, submission_id=str(uuid.uuid4()), version=version, validated=bad,
                       commune_id=point.commune_id, sector="health", mode="qr", language="vi", started_at=None)
