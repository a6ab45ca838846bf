"""Assignments, progress, replacements, back-check sampling and interview quality flags."""

from __future__ import annotations

import datetime as dt
import math
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey_app.errors import ValidationFailed
from survey_app.models import (
    Assignment,
    BackCheck,
    QuestionnaireVersion,
    Response,
    ResponseFlag,
    SampleVillage,
    SurveyRound,
    User,
)
from survey_app.models.fieldwork import design_of
from survey_app.questionnaire import ItemType, Questionnaire, is_visible
from survey_app.services import fieldwork, interviews, sampling
from survey_app.services import questionnaires as q_service
from survey_app.services.sampling import PlanParameters
from tests.factories import make_user

SECTOR = "one_stop"
FRAME = {"03688": [("Bản Nà Ngụa", 120, 21.40, 103.70), ("Bản Huổi Ngùa", 95, None, None), ("Bản Lái", 60, None, None)],
         "03694": [("Bản Pá Sang", 140, None, None), ("Bản Co Sủ", 85, None, None)],
         "03703": [("Bản Bó", 70, None, None), ("Bản Hua Ná", 150, None, None)]}


@dataclass
class FieldSetup:
    survey_round: SurveyRound
    sample_village: SampleVillage
    assignment: Assignment
    enumerator: User
    admin: User
    version: QuestionnaireVersion
    questionnaire: Questionnaire


def make_field_setup(session: Session, *, username: str = "dtv1", double_entry: bool = False,
                     password: str = "mat-khau-dai-123") -> FieldSetup:
    rows = [["ma_xa", "ten_thon", "so_ho", "vi_do", "kinh_do"]]
    for code, villages in FRAME.items():
        for name, households, lat, lon in villages:
            rows.append([code, name, str(households), "" if lat is None else str(lat), "" if lon is None else str(lon)])
    assert sampling.import_villages(session, rows=rows, actor=None).errors == []
    params = PlanParameters(name="Khảo sát 2026", sector=SECTOR, seed="seed-2026", communes_per_stratum={"Xã": 3},
                            villages_per_commune=1, interviews_per_village=10, replacements_per_commune=1,
                            double_entry=double_entry)
    survey_round = sampling.create_plan(session, params=params, actor=None)
    admin = session.scalar(select(User).where(User.username == "giamsat")) or make_user(session, username="giamsat")
    enumerator = make_user(session, username=username, role="enumerator", password=password)
    sample_village = session.scalars(
        select(SampleVillage).where(SampleVillage.round_id == survey_round.id, SampleVillage.status == "selected")
        .order_by(SampleVillage.id)
    ).first()
    assert sample_village is not None
    assignment = fieldwork.assign(session, actor=admin, sample_village=sample_village, enumerator=enumerator, target=10)
    version = q_service.current_for_sector(session, sector=SECTOR)
    assert version is not None
    session.commit()
    return FieldSetup(survey_round, sample_village, assignment, enumerator, admin, version, q_service.parsed(version))


def answers_for(questionnaire: Questionnaire, *, vary: bool = True) -> dict[str, Any]:
    """A valid answer to every required visible item (scale answers vary unless asked not to)."""
    chosen: dict[str, Any] = {}
    scale = ["4", "5", "3", "4", "2"]
    k = 0
    for item in questionnaire.items:
        if not item.required or not is_visible(item, chosen):
            continue
        if item.type == ItemType.scale5:
            chosen[item.id] = scale[k % len(scale)] if vary else "5"
            k += 1
        elif item.type == ItemType.single:
            chosen[item.id] = item.options[0].value
        elif item.type == ItemType.multi:
            chosen[item.id] = [item.options[0].value]
        elif item.type == ItemType.yesno:
            chosen[item.id] = "yes"
        elif item.type == ItemType.number:
            chosen[item.id] = str(int(item.min or 1))
    return chosen


def interview_item(setup: FieldSetup, *, minutes: float = 15, ended: dt.datetime | None = None, **changes: Any) -> dict[str, Any]:
    ended = ended or dt.datetime(2026, 3, 10, 3, 30, tzinfo=dt.UTC)  # 10:30 in Vietnam
    item: dict[str, Any] = {
        "uuid": str(uuid.uuid4()), "assignment_id": setup.assignment.id, "outcome": "completed",
        "questionnaire_version_id": setup.version.id, "language": "vi", "answers": answers_for(setup.questionnaire),
        "started_at": ended - dt.timedelta(minutes=minutes), "ended_at": ended, "page_seconds": {"p1": 60.0},
        "eligibility": {"adult": True, "used_service": True}, "gps_consent": False, "gps": None,
    }
    item.update(changes)
    return item


RULES = fieldwork.QualityRules()


def _sync(session: Session, setup: FieldSetup, *items: dict[str, Any]) -> list[interviews.ItemResult]:
    return interviews.sync_batch(session, enumerator=setup.enumerator, items=list(items), rules=RULES,
                                 now=dt.datetime(2026, 3, 10, 12, 0, tzinfo=dt.UTC))


def _flags(session: Session, response_id: int) -> set[str]:
    return set(session.scalars(select(ResponseFlag.reason).where(ResponseFlag.response_id == response_id)))


def _response(session: Session, item: dict[str, Any]) -> Response:
    response = session.scalar(select(Response).where(Response.submission_id == item["uuid"]))
    assert response is not None
    return response


def test_stored_interview_carries_mode_and_design_variables(db_session: Session) -> None:
    setup = make_field_setup(db_session)
    item = interview_item(setup)
    assert [r.status for r in _sync(db_session, setup, item)] == ["stored"]
    response = _response(db_session, item)
    sv = setup.sample_village
    assert response.mode == "enumerator"
    design = design_of(response)
    assert design["stratum"] == "Xã" and design["interviewer_id"] == setup.enumerator.id
    assert design["psu"] == f"{sv.sample_commune.commune.code}-{sv.village_id}"
    assert math.isclose(design["design_weight"], 1 / (sv.prob_commune * sv.prob_village * sv.prob_household))
    assert response.submitted_at == item["ended_at"]
    assert _flags(db_session, response.id) == set()


def test_quality_flags(db_session: Session) -> None:
    setup = make_field_setup(db_session)
    short = interview_item(setup, minutes=1)
    late = interview_item(setup, ended=dt.datetime(2026, 3, 9, 15, 30, tzinfo=dt.UTC))  # 22:30 in Vietnam
    straight = interview_item(setup, ended=dt.datetime(2026, 3, 9, 4, 0, tzinfo=dt.UTC),
                              answers=answers_for(setup.questionnaire, vary=False))
    _sync(db_session, setup, short, late, straight)
    assert "interview_too_short" in _flags(db_session, _response(db_session, short).id)
    assert _flags(db_session, _response(db_session, late).id) == {"outside_hours"}
    assert "straight_lining" in _flags(db_session, _response(db_session, straight).id)
    assert _response(db_session, late).flagged


def test_same_minute_flags_every_interview_in_the_group(db_session: Session) -> None:
    setup = make_field_setup(db_session)
    minute = dt.datetime(2026, 3, 8, 2, 15, 10, tzinfo=dt.UTC)
    first = interview_item(setup, ended=minute)
    _sync(db_session, setup, first)
    assert "same_minute" not in _flags(db_session, _response(db_session, first).id)
    second = interview_item(setup, ended=minute + dt.timedelta(seconds=40))
    other_minute = interview_item(setup, ended=minute + dt.timedelta(minutes=3))
    _sync(db_session, setup, second, other_minute)
    assert "same_minute" in _flags(db_session, _response(db_session, first).id)
    assert "same_minute" in _flags(db_session, _response(db_session, second).id)
    assert "same_minute" not in _flags(db_session, _response(db_session, other_minute).id)


def test_gps_far_from_the_village_only_with_consent_and_coordinates(db_session: Session) -> None:
    setup = make_field_setup(db_session)
    village = setup.sample_village.village
    village.lat, village.lon = 21.40, 103.70
    db_session.flush()
    near = interview_item(setup, gps_consent=True, gps={"lat": 21.41, "lon": 103.71, "accuracy_m": 12.0},
                          ended=dt.datetime(2026, 3, 7, 2, 0, tzinfo=dt.UTC))
    far = interview_item(setup, gps_consent=True, gps={"lat": 21.33, "lon": 103.91, "accuracy_m": 12.0},
                         ended=dt.datetime(2026, 3, 7, 3, 0, tzinfo=dt.UTC))
    no_consent = interview_item(setup, gps_consent=False, gps={"lat": 10.0, "lon": 106.0},
                                ended=dt.datetime(2026, 3, 7, 4, 0, tzinfo=dt.UTC))
    _sync(db_session, setup, near, far, no_consent)
    assert "gps_far" not in _flags(db_session, _response(db_session, near).id)
    assert "gps_far" in _flags(db_session, _response(db_session, far).id)
    assert "gps_far" not in _flags(db_session, _response(db_session, no_consent).id)
    from survey_app.models import Interview

    stored = db_session.scalar(select(Interview).where(Interview.uuid == no_consent["uuid"]))
    assert stored is not None and stored.gps_lat is None  # location without consent is never kept


def test_distance_km_is_haversine() -> None:
    # Hà Nội (21.0285, 105.8542) to Sơn La city (21.3256, 103.9188): about 203 km.
    assert 195 < fieldwork.distance_km(21.0285, 105.8542, 21.3256, 103.9188) < 210


def test_backcheck_draws_ten_percent_per_enumerator_reproducibly(db_session: Session) -> None:
    setup = make_field_setup(db_session)
    other = make_field_setup(db_session, username="dtv2")
    base = dt.datetime(2026, 3, 1, 2, 0, tzinfo=dt.UTC)
    first = [interview_item(setup, ended=base + dt.timedelta(hours=i)) for i in range(23)]
    second = [interview_item(other, ended=base + dt.timedelta(hours=i)) for i in range(4)]
    _sync(db_session, setup, *first)
    _sync(db_session, other, *second)
    added = fieldwork.draw_backchecks(db_session, actor=setup.admin, survey_round=setup.survey_round)
    added_other = fieldwork.draw_backchecks(db_session, actor=setup.admin, survey_round=other.survey_round)
    checks = list(db_session.scalars(select(BackCheck)))
    per_enum = {e: sum(1 for c in checks if c.enumerator_id == e) for e in {c.enumerator_id for c in checks}}
    assert per_enum == {setup.enumerator.id: 3, other.enumerator.id: 1}  # ceil(10% × 23) = 3; at least one
    assert (added, added_other) == (3, 1)
    # Drawing again adds nothing; the draw is reproducible for the same round seed and counts.
    assert fieldwork.draw_backchecks(db_session, actor=setup.admin, survey_round=setup.survey_round) == 0
    drawn = sorted(c.response_id for c in checks if c.enumerator_id == setup.enumerator.id)
    for c in checks:
        if c.enumerator_id == setup.enumerator.id:
            db_session.delete(c)
    db_session.flush()
    fieldwork.draw_backchecks(db_session, actor=setup.admin, survey_round=setup.survey_round)
    again = sorted(db_session.scalars(select(BackCheck.response_id).where(BackCheck.enumerator_id == setup.enumerator.id)))
    assert again == drawn
    with pytest.raises(ValidationFailed):
        fieldwork.draw_backchecks(db_session, actor=setup.admin, survey_round=setup.survey_round, rate=0)


def test_backcheck_outcomes_and_mismatch_flags(db_session: Session) -> None:
    setup = make_field_setup(db_session)
    items = [interview_item(setup, ended=dt.datetime(2026, 3, 2, 2 + i, 0, tzinfo=dt.UTC)) for i in range(3)]
    _sync(db_session, setup, *items)
    fieldwork.draw_backchecks(db_session, actor=setup.admin, survey_round=setup.survey_round, rate=1.0)
    checks = list(db_session.scalars(select(BackCheck).order_by(BackCheck.response_id)))
    assert len(checks) == 3
    responses = [db_session.get(Response, c.response_id) for c in checks]
    asked = fieldwork.backcheck_items(setup.version, responses[0])  # type: ignore[arg-type]
    assert asked
    same = {k: str(responses[0].answers[k]) for k in asked}  # type: ignore[union-attr]
    fieldwork.record_backcheck(db_session, actor=setup.admin, check=checks[0], outcome="confirmed", answers=same)
    assert checks[0].outcome == "confirmed" and _flags(db_session, checks[0].response_id) == set()
    changed = {k: str(responses[1].answers[k]) for k in asked}  # type: ignore[union-attr]
    changed[asked[0]] = "1" if changed[asked[0]] != "1" else "2"
    fieldwork.record_backcheck(db_session, actor=setup.admin, check=checks[1], outcome="confirmed", answers=changed)
    assert checks[1].outcome == "mismatch"
    assert _flags(db_session, checks[1].response_id) == {"backcheck_mismatch"}
    fieldwork.record_backcheck(db_session, actor=setup.admin, check=checks[2], outcome="not_interviewed", answers={},
                               note="Hộ nói không ai đến phỏng vấn")
    assert _flags(db_session, checks[2].response_id) == {"backcheck_not_interviewed"}
    assert db_session.get(Response, checks[2].response_id).flagged  # type: ignore[union-attr]
    summary = fieldwork.backcheck_summary(db_session, survey_round=setup.survey_round)
    assert summary == [{"enumerator": "dtv1", "completed": 3, "drawn": 3, "checked": 3, "problems": 2}]
    with pytest.raises(ValidationFailed):
        fieldwork.record_backcheck(db_session, actor=setup.admin, check=checks[0], outcome="maybe", answers={})


def test_progress_by_enumerator_village_and_commune(db_session: Session) -> None:
    setup = make_field_setup(db_session)
    done = [interview_item(setup, ended=dt.datetime(2026, 3, 3, 2 + i, 0, tzinfo=dt.UTC)) for i in range(4)]
    refused = interview_item(setup, outcome="refused", answers={}, questionnaire_version_id=None, eligibility=None)
    absent = interview_item(setup, outcome="absent", answers={}, questionnaire_version_id=None, eligibility=None)
    assert [r.status for r in _sync(db_session, setup, *done, refused, absent)] == ["stored"] * 6
    progress = fieldwork.progress(db_session, survey_round=setup.survey_round)
    [enum] = progress["enumerators"]
    assert (enum.target, enum.completed, enum.refused, enum.other) == (10, 4, 1, 1)
    assert enum.status == "Đang làm" and enum.share == 0.4
    village = next(v for v in progress["villages"] if v.extra["id"] == setup.sample_village.id)
    assert (village.completed, village.refused) == (4, 1)
    assert sum(c.target for c in progress["communes"]) == 30
    # Replacing the village brings in the commune's replacement and ends the assignment.
    replacement = fieldwork.replace_village(db_session, actor=setup.admin, sample_village=setup.sample_village)
    assert replacement.status == "active" and replacement.replaces_id == setup.sample_village.id
    assert fieldwork.assignments_for(db_session, enumerator=setup.enumerator) == []
    progress = fieldwork.progress(db_session, survey_round=setup.survey_round)
    assert sum(c.replaced for c in progress["communes"]) == 1
    with pytest.raises(ValidationFailed, match="hết thôn dự phòng"):
        fieldwork.replace_village(db_session, actor=setup.admin, sample_village=replacement)


def test_assignment_rules(db_session: Session) -> None:
    setup = make_field_setup(db_session)
    viewer = make_user(db_session, username="xem", role="viewer")
    with pytest.raises(ValidationFailed, match="điều tra viên"):
        fieldwork.assign(db_session, actor=setup.admin, sample_village=setup.sample_village, enumerator=viewer, target=5)
    with pytest.raises(ValidationFailed, match="Chỉ tiêu"):
        fieldwork.assign(db_session, actor=setup.admin, sample_village=setup.sample_village, enumerator=setup.enumerator,
                         target=0)
    again = fieldwork.assign(db_session, actor=setup.admin, sample_village=setup.sample_village,
                             enumerator=setup.enumerator, target=12)
    assert again.id == setup.assignment.id and again.target == 12


# --- supervisor screens (HTTP): village import, plans, paper entry with double entry, back-checks -----------
def _login(client: Any, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": "mat-khau-dai-123"})
    assert r.status_code == 303


def _paper_form(setup: FieldSetup, sheet: str, **changes: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"sheet_code": sheet, "sample_village_id": str(setup.sample_village.id)}
    data.update(answers_for(setup.questionnaire))
    data.update(changes)
    return data


def test_paper_double_entry_and_comparison(client: Any, db_session: Session) -> None:
    setup = make_field_setup(db_session, double_entry=True)
    make_user(db_session, username="nhaplieu2")
    _login(client, "giamsat")
    url = f"/admin/fieldwork/rounds/{setup.survey_round.id}/paper"
    assert client.get(url).status_code == 200
    r = client.post(url, data=_paper_form(setup, "p-001"))
    assert r.status_code == 303 and "done=first" in r.headers["location"]
    r = client.post(url, data=_paper_form(setup, "P-001"))
    assert r.status_code == 422 and "người khác" in r.text
    _login(client, "nhaplieu2")
    scale_item = next(i.id for i in setup.questionnaire.items if i.type == ItemType.scale5 and i.required)
    first_value = answers_for(setup.questionnaire)[scale_item]
    other = "1" if first_value != "1" else "2"
    r = client.post(url, data=_paper_form(setup, "P-001", **{scale_item: other}))
    assert r.status_code == 303 and "done=differ" in r.headers["location"]
    page = client.get(f"{url}/compare")
    assert "Phiếu số P-001" in page.text and f'name="pick_{scale_item}"' in page.text
    assert client.post(f"{url}/compare/P-001", data={}).status_code == 422  # a choice is required
    r = client.post(f"{url}/compare/P-001", data={f"pick_{scale_item}": "2"})
    assert r.status_code == 303
    response = db_session.scalar(select(Response).where(Response.mode == "paper"))
    assert response is not None and response.answers[scale_item] == other
    design = design_of(response)
    assert design["psu"] and design["stratum"] == "Xã" and design["interviewer_id"] is None
    assert math.isclose(design["design_weight"], setup.sample_village.design_weight)
    assert "Không có phiếu nào cần đối chiếu" in client.get(f"{url}/compare").text
    progress = fieldwork.progress(db_session, survey_round=setup.survey_round)
    village = next(v for v in progress["villages"] if v.extra["id"] == setup.sample_village.id)
    assert (village.returned, village.completed) == (1, 1)


def test_paper_single_entry_keeps_input_on_errors(client: Any, db_session: Session) -> None:
    setup = make_field_setup(db_session)
    _login(client, "giamsat")
    url = f"/admin/fieldwork/rounds/{setup.survey_round.id}/paper"
    data = _paper_form(setup, "A7")
    missing = next(i.id for i in setup.questionnaire.items if i.type == ItemType.scale5 and i.required)
    kept = next(k for k in data if k not in (missing, "sheet_code", "sample_village_id"))
    del data[missing]
    r = client.post(url, data=data)
    assert r.status_code == 422 and "Vui lòng chọn một câu trả lời." in r.text and 'value="A7"' in r.text
    assert f'name="{kept}" value="{data[kept]}" checked' in r.text  # nothing typed is lost
    r = client.post(url, data=_paper_form(setup, "A7"))
    assert r.status_code == 303 and "done=stored" in r.headers["location"]
    r = client.post(url, data=_paper_form(setup, "a7"))
    assert r.status_code == 422 and "đã được nhập" in r.text
    assert db_session.scalar(select(func.count()).select_from(Response).where(Response.mode == "paper")) == 1


def test_supervisor_pages_import_plan_assign_and_backcheck(client: Any, db_session: Session) -> None:
    make_user(db_session, username="giamsat")
    enumerator = make_user(db_session, username="dtv9", role="enumerator")
    _login(client, "giamsat")
    csv = "ma_xa;ten_thon;so_ho\n03688;Bản A;120\n03688;Bản B;80\n03694;Bản C;90\n03694;Bản D;50\n12345;Bản X;10\n"
    r = client.post("/admin/fieldwork/villages", files={"file": ("thon.csv", csv.encode(), "text/csv")})
    assert r.status_code == 422 and "Đã thêm 4 thôn/bản" in r.text and "Dòng 6: không tìm thấy xã/phường có mã" in r.text
    r = client.post("/admin/fieldwork/rounds", data={"name": "Thử", "sector": "one_stop", "communes_rural": "9"})
    assert r.status_code == 422 and "không thể chọn 9" in r.text
    r = client.post("/admin/fieldwork/rounds", data={"name": "Thử", "sector": "one_stop", "seed": "s1",
                                                     "communes_rural": "2", "villages_per_commune": "1",
                                                     "interviews_per_village": "5", "replacements": "1"})
    assert r.status_code == 303
    page = client.get(r.headers["location"])
    assert page.status_code == 200 and "Được chọn" in page.text and "Dự phòng 1" in page.text
    round_id = int(r.headers["location"].rstrip("/").split("/")[-1])
    sv = db_session.scalars(select(SampleVillage).where(SampleVillage.round_id == round_id,
                                                        SampleVillage.status == "selected")).first()
    assert sv is not None
    r = client.post(f"/admin/fieldwork/rounds/{round_id}/assign",
                    data={"sample_village_id": str(sv.id), "enumerator": "dtv9", "target": "5"})
    assert r.status_code == 303
    assert [a.sample_village_id for a in fieldwork.assignments_for(db_session, enumerator=enumerator)] == [sv.id]
    assert client.post(f"/admin/fieldwork/rounds/{round_id}/villages/{sv.id}/issued", data={"count": "12"}).status_code == 303
    db_session.refresh(sv)
    assert sv.issued == 12
    assert client.post(f"/admin/fieldwork/rounds/{round_id}/backchecks/draw").status_code == 303
    assert "Chưa có phiếu hoàn thành" in client.get(f"/admin/fieldwork/rounds/{round_id}/backchecks").text
    # A lost tablet: revoke the enumerator's sync codes by name; a supervisor is not an enumerator.
    _, token = interviews.issue_token(db_session, user=enumerator)
    db_session.commit()
    for name in ("khong-co", "giamsat"):
        r = client.post(f"/admin/fieldwork/rounds/{round_id}/revoke", data={"enumerator": name})
        assert r.status_code == 422 and f"Không tìm thấy điều tra viên “{name}”." in r.text
    assert token.revoked_at is None
    r = client.post(f"/admin/fieldwork/rounds/{round_id}/revoke", data={"enumerator": " dtv9 "})
    assert r.status_code == 303
    assert "Đã thu hồi mã đồng bộ của dtv9." in client.get(r.headers["location"]).text
    db_session.refresh(token)
    assert token.revoked_at is not None
