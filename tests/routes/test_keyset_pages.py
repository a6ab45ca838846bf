"""Keyset-paginated lists: each test stores more rows than one page, walks the pages through the real
"Trang sau" links of the HTML with a filter applied, and checks that every matching row appears exactly once,
in the page's order; a cursor edited into nonsense is a Vietnamese 422, never a 500."""

from __future__ import annotations

import datetime as dt
import html
import re
import uuid
from typing import Any
from urllib.parse import urlencode

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from survey_app.models import (
    BackCheck,
    Comment,
    FeedbackItem,
    PaperEntry,
    Response,
    ResponseFlag,
    SampleCommune,
    SampleVillage,
    User,
    UserScope,
    Village,
)
from survey_app.security import hash_password
from survey_app.services import audit, catalogue, feedback, feedback_inbox, keyset
from survey_app.services import points as points_service
from survey_app.services import questionnaires as q_service
from tests.factories import CHIENG_AN, make_user
from tests.services.test_fieldwork import answers_for, make_field_setup
from tests.services.test_reports import PERIOD

PASSWORD = "mat-khau-dai-123"
CHIENG_COI = "03670"
PAGE = keyset.PAGE_SIZE
NEXT = re.compile(r'<a href="([^"]+)" rel="next">')
BAD_MESSAGE = "Liên kết trang sau không hợp lệ"


def walk(client: TestClient, url: str, row: re.Pattern[str]) -> tuple[list[str], int]:
    """Every row the pages show, in order, following the next-page links; and the number of pages."""
    seen: list[str] = []
    pages = 0
    next_url: str | None = url
    while next_url:
        r = client.get(next_url)
        assert r.status_code == 200, r.text[:500]
        pages += 1
        assert pages <= 20, "the next-page links do not end"
        seen += [html.unescape(x) for x in row.findall(r.text)]
        found = NEXT.search(r.text)
        next_url = html.unescape(found.group(1)) if found else None
    return seen, pages


def login(client: TestClient, username: str) -> None:
    client.cookies.clear()
    r = client.post("/login", data={"username": username, "password": PASSWORD})
    assert r.status_code == 303, r.text


def assert_bad_cursor(client: TestClient, url: str) -> None:
    r = client.get(url)
    assert r.status_code == 422, (url, r.status_code)
    assert BAD_MESSAGE in html.unescape(r.text)


def add_users(session: Session, names: list[str], role: str) -> None:
    digest = hash_password(PASSWORD)  # hashing is slow on purpose: once for all the rows
    session.add_all(User(username=n, password_hash=digest, role=role, must_change_password=False) for n in names)
    session.commit()


# --- reception points -------------------------------------------------------------------------------------
def test_points_pages_with_commune_and_sector_filter(client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    chieng_an = catalogue.get_commune(db_session, CHIENG_AN)
    chieng_coi = catalogue.get_commune(db_session, CHIENG_COI)
    assert chieng_an is not None and chieng_coi is not None
    wanted = [points_service.create_point(db_session, commune=chieng_an, sector="health", name=f"Trạm {k}").code
              for k in range(PAGE + 13)]
    for k in range(4):  # other sector, other commune: filtered out
        points_service.create_point(db_session, commune=chieng_an, sector="one_stop", name=f"Một cửa {k}")
        points_service.create_point(db_session, commune=chieng_coi, sector="health", name=f"Trạm Chiềng Cơi {k}")
    db_session.commit()
    login(client, "admin1")
    seen, pages = walk(client, f"/admin/points?commune={CHIENG_AN}&sector=health", re.compile(r"<tr>\s*<td>([^<]+)</td>"))
    assert seen == sorted(wanted) and pages == 2
    first = client.get("/admin/points")
    assert "Trang sau" in first.text and "Về trang đầu" not in first.text  # 8 more points than one page
    assert_bad_cursor(client, "/admin/points?after=" + "x" * 41)
    assert_bad_cursor(client, "/admin/points?after=%01")


# --- users --------------------------------------------------------------------------------------------------
def test_users_pages_with_role_filter(client: TestClient, db_session: Session) -> None:
    make_user(db_session)
    enumerators = [f"dtv-{k:03d}" for k in range(PAGE + 7)]
    add_users(db_session, enumerators, "enumerator")
    add_users(db_session, ["ca-bo-so", "dtv-reviewer", "xem"], "reviewer")
    login(client, "admin1")
    seen, pages = walk(client, "/admin/users?role=enumerator", re.compile(r"<td><b>([^<]+)</b>"))
    assert seen == sorted(enumerators) and pages == 2
    everyone, _ = walk(client, "/admin/users", re.compile(r"<td><b>([^<]+)</b>"))
    assert sorted(everyone) == everyone and len(everyone) == len(set(everyone)) == PAGE + 7 + 3 + 1
    assert_bad_cursor(client, "/admin/users?role=enumerator&after=" + "a" * 81)


# --- feedback inbox -----------------------------------------------------------------------------------------
def _feedback(session: Session, *, agency: str, sector: str, commune_code: str, deadline: dt.date | None,
              status: str = "assigned") -> FeedbackItem:
    commune = catalogue.get_commune(session, commune_code)
    assert commune is not None
    item = FeedbackItem(tracking_code=feedback.new_tracking_code(), channel="hotline", text="Phòng chờ quá nóng.",
                        sector=sector, commune_id=commune.id, agency=agency, status=status, deadline=deadline)
    session.add(item)
    return item


def test_inbox_pages_by_deadline_keep_every_filter(client: TestClient, db_session: Session) -> None:
    reviewer = make_user(db_session, username="syt", role="reviewer")
    reviewer.scopes.append(UserScope(sector="health"))
    start = dt.date(2026, 12, 1)
    wanted = []
    for k in range(PAGE + 12):  # about three items per deadline, in the three open statuses: the id breaks ties
        wanted.append(_feedback(db_session, agency="Sở Y tế", sector="health", commune_code=CHIENG_AN,
                                deadline=start + dt.timedelta(days=(k * 7) % 23 // 3),
                                status=feedback.OPEN_STATUSES[k % 3]))
    wanted += [_feedback(db_session, agency="Sở Y tế", sector="health", commune_code=CHIENG_AN, deadline=None)
               for _ in range(2)]
    others = [
        _feedback(db_session, agency="Sở Y tế", sector="health", commune_code=CHIENG_AN, deadline=start, status="closed"),
        _feedback(db_session, agency="Sở Y tế", sector="health", commune_code=CHIENG_COI, deadline=start),
        _feedback(db_session, agency="Sở Giáo dục và Đào tạo", sector="primary_education", commune_code=CHIENG_AN,
                  deadline=start),
    ]
    db_session.commit()
    login(client, "syt")
    # Default status "open" plus a commune filter: the closed item and the other commune stay out.
    seen, pages = walk(client, f"/phan-anh?commune={CHIENG_AN}&sector=health", re.compile(r'/phan-anh/(\d+)"'))
    expected = sorted(wanted, key=lambda i: (i.deadline is None, i.deadline or start, i.id))
    assert [int(x) for x in seen] == [i.id for i in expected] and pages == 2
    assert not {i.id for i in others} & {int(x) for x in seen}
    assert_bad_cursor(client, "/phan-anh?after=2026-13-45_3")
    assert_bad_cursor(client, "/phan-anh?after=2026-12-01")
    assert_bad_cursor(client, "/phan-anh?after=2026-12-01_x")


def test_inbox_page_size_and_cursor_in_the_service(db_session: Session) -> None:
    """The last page has no next cursor even when it is exactly full."""
    admin = make_user(db_session, username="noivu", role="admin")
    for k in range(6):
        _feedback(db_session, agency="Sở Y tế", sector="health", commune_code=CHIENG_AN,
                  deadline=dt.date(2026, 12, 1) + dt.timedelta(days=k % 2))
    db_session.commit()
    filters = feedback_inbox.InboxFilters(status="all", sector="health")
    first = feedback_inbox.inbox(db_session, user=admin, filters=filters, limit=3)
    second = feedback_inbox.inbox(db_session, user=admin, filters=filters, limit=3,
                            after=keyset.parse_date_id(first.next_key))
    assert len(first) == len(second) == 3 and second.next_key is None
    assert not {r.item.id for r in first} & {r.item.id for r in second}


# --- fieldwork: a round's sample, back-checks, double-entry comparisons --------------------------------------
def test_round_sample_pages_with_commune_filter(client: TestClient, db_session: Session) -> None:
    setup = make_field_setup(db_session)
    sample_commune = db_session.get(SampleCommune, setup.sample_village.sample_commune_id)
    assert sample_commune is not None
    before = db_session.query(SampleVillage).filter_by(round_id=setup.survey_round.id,
                                                        sample_commune_id=sample_commune.id).count()
    names = []
    for k in range(PAGE + 5):
        village = Village(commune_id=sample_commune.commune_id, name=f"Bản Thử {k:03d}", households=50 + k)
        db_session.add(village)
        db_session.flush()
        db_session.add(SampleVillage(
            round_id=setup.survey_round.id, sample_commune_id=sample_commune.id, village_id=village.id, size=50 + k,
            prob_commune=0.5, prob_village=0.1, prob_household=0.2, design_weight=100.0, target=10))
        names.append(village.name)
    db_session.commit()
    login(client, "giamsat")
    url = f"/admin/fieldwork/rounds/{setup.survey_round.id}?commune={sample_commune.id}"
    seen, pages = walk(client, url, re.compile(r"<td>([^<]+)<br><small>"))
    assert seen[before:] == names and len(seen) == before + len(names) and pages == 2
    everything, _ = walk(client, f"/admin/fieldwork/rounds/{setup.survey_round.id}", re.compile(r"<td>([^<]+)<br><small>"))
    assert len(everything) == len(set(everything)) > len(seen)  # the other sample communes' villages too
    assert_bad_cursor(client, f"/admin/fieldwork/rounds/{setup.survey_round.id}?after=abc")


def _response(session: Session, setup: Any, when: dt.datetime) -> Response:
    response = Response(
        submission_id=str(uuid.uuid4()), questionnaire_version_id=setup.version.id,
        questionnaire_id=setup.version.questionnaire_id, questionnaire_version=setup.version.version,
        questionnaire_hash=setup.version.content_hash, commune_id=setup.sample_village.sample_commune.commune_id,
        sector=setup.version.sector, mode="enumerator", language="vi", answers=answers_for(setup.questionnaire),
        submitted_at=when,
    )
    session.add(response)
    session.flush()
    return response


def test_backcheck_pages_with_outcome_filter(client: TestClient, db_session: Session) -> None:
    setup = make_field_setup(db_session)
    when = dt.datetime(2026, 11, 2, 3, tzinfo=dt.UTC)
    pending = []
    for k in range(PAGE + 12):
        response = _response(db_session, setup, when + dt.timedelta(minutes=k))
        check = BackCheck(round_id=setup.survey_round.id, response_id=response.id, enumerator_id=setup.enumerator.id,
                          outcome="confirmed" if k % 8 == 0 else "pending")
        db_session.add(check)
        db_session.flush()
        if check.outcome == "pending":
            pending.append(str(response.id))
    db_session.commit()
    login(client, "giamsat")
    url = f"/admin/fieldwork/rounds/{setup.survey_round.id}/backchecks?outcome=pending"
    seen, pages = walk(client, url, re.compile(r"Phiếu #(\d+)"))
    assert seen == pending and pages == 2
    done, _ = walk(client, f"/admin/fieldwork/rounds/{setup.survey_round.id}/backchecks?outcome=done",
                   re.compile(r"Phiếu #(\d+)"))
    assert len(done) == PAGE + 12 - len(pending) and not set(done) & set(pending)
    assert_bad_cursor(client, f"/admin/fieldwork/rounds/{setup.survey_round.id}/backchecks?after=-4")


def test_comparison_pages_only_pending_pairs(client: TestClient, db_session: Session) -> None:
    setup = make_field_setup(db_session, double_entry=True)
    item = next(i for i in setup.questionnaire.items if i.type.value == "scale5")
    base = answers_for(setup.questionnaire)

    def entry(sheet: str, no: int, value: str, response_id: int | None = None) -> PaperEntry:
        return PaperEntry(round_id=setup.survey_round.id, sample_village_id=setup.sample_village.id, sheet_code=sheet,
                          entry_no=no, questionnaire_version_id=setup.version.id, answers={**base, item.id: value},
                          texts={}, entered_by_id=setup.admin.id, response_id=response_id)

    wanted = [f"S{k:04d}" for k in range(PAGE + 3)]
    for sheet in wanted:
        db_session.add_all([entry(sheet, 1, "4"), entry(sheet, 2, "5")])
    db_session.add(entry("S0000A", 1, "4"))  # typed once: nothing to compare yet
    resolved = _response(db_session, setup, dt.datetime(2026, 11, 2, tzinfo=dt.UTC))
    db_session.add_all([entry("S0001A", 1, "4", resolved.id), entry("S0001A", 2, "5", resolved.id)])
    db_session.commit()
    login(client, "giamsat")
    seen, pages = walk(client, f"/admin/fieldwork/rounds/{setup.survey_round.id}/paper/compare",
                       re.compile(r"Phiếu số ([^<]+)</h2>"))
    assert seen == wanted and pages == 2
    assert_bad_cursor(client, f"/admin/fieldwork/rounds/{setup.survey_round.id}/paper/compare?after=" + "9" * 41)


# --- comments on the report sector page ------------------------------------------------------------------------
def test_sector_comments_pages_newest_first_with_mode_filter(client: TestClient, db_session: Session) -> None:
    version = q_service.current_for_sector(db_session, sector="health")
    commune = catalogue.get_commune(db_session, CHIENG_AN)
    assert version is not None and commune is not None
    start, _ = PERIOD.bounds_utc()
    expected: list[tuple[dt.datetime, int, str]] = []

    def add(k: int, mode: str, when: dt.datetime, sector: str = "health") -> None:
        response = Response(
            submission_id=str(uuid.uuid4()), questionnaire_version_id=version.id, questionnaire_id=version.questionnaire_id,
            questionnaire_version=version.version, questionnaire_hash=version.content_hash, commune_id=commune.id,
            sector=sector, mode=mode, language="vi", answers={}, submitted_at=when)
        db_session.add(response)
        db_session.flush()
        for j in range(2 if k % 4 == 0 else 1):  # some responses carry two comments with the same time
            text = f"Góp ý thử {mode} {k}-{j}"
            comment = Comment(response_id=response.id, item_id="comment", text=text)
            db_session.add(comment)
            db_session.flush()
            if mode == "qr" and sector == "health":
                expected.append((when, comment.id, text))

    for k in range(PAGE):
        add(k, "qr", start + dt.timedelta(days=1 + k // 3, hours=k % 3))  # equal days, distinct hours
    for k in range(5):
        add(100 + k, "enumerator", start + dt.timedelta(days=2))  # filtered out by modes=qr
        add(200 + k, "qr", start + dt.timedelta(days=2), sector="one_stop")  # other sector
    db_session.commit()
    reviewer = make_user(db_session, username="yte", role="reviewer")
    reviewer.scopes.append(UserScope(sector="health"))
    db_session.commit()
    login(client, "yte")
    query = f"kind=six_month&year={PERIOD.year}&modes=qr"
    seen, pages = walk(client, f"/reports/sectors/health?{query}", re.compile(r"<br>(Góp ý thử [^<]+)</li>"))
    expected.sort(key=lambda x: (x[0], x[1]), reverse=True)
    assert seen == [text for _, _, text in expected] and len(seen) > PAGE and pages == 2
    assert_bad_cursor(client, f"/reports/sectors/health?{query}&before=hôm-qua")
    assert_bad_cursor(client, f"/reports/sectors/health?{query}&before=2026-03-01T08:00:00_5")  # no time zone


@pytest.mark.parametrize("raw", ["", "12", "abc", "1_2_3", "2026-12-01_", "_7", "9" * 30])
def test_cursor_parsing_never_raises_anything_but_a_validation_error(raw: str) -> None:
    for parse in (keyset.parse_int, keyset.parse_date_id, keyset.parse_time_id,
                  lambda r: keyset.parse_text(r, max_length=40)):
        try:
            parse(raw)
        except Exception as exc:  # the point is which exception
            assert type(exc).__name__ == "ValidationFailed", (raw, exc)


def test_cursors_round_trip() -> None:
    moment = dt.datetime(2026, 3, 1, 8, 15, 0, 123456, tzinfo=dt.UTC)
    assert keyset.parse_time_id(keyset.time_id(moment, 42)) == (moment, 42)
    assert keyset.parse_date_id(keyset.date_id(dt.date(2026, 12, 1), 7)) == (dt.date(2026, 12, 1), 7)
    assert keyset.parse_date_id(keyset.date_id(None, 7)) == (None, 7)


# --- flagged responses ----------------------------------------------------------------------------------------
FLAG_ROW = re.compile(r"<td>#(\d+)</td>")


def test_flag_pages_by_status_end_without_an_empty_page(client: TestClient, db_session: Session) -> None:
    setup = make_field_setup(db_session)
    now = dt.datetime.now(dt.UTC)
    responses = [_response(db_session, setup, now) for _ in range(PAGE + 6)]
    for r in responses[:PAGE]:  # exactly one page of open flags
        db_session.add(ResponseFlag(response_id=r.id, reason="too_fast"))
    for r in responses[PAGE:]:
        db_session.add(ResponseFlag(response_id=r.id, reason="too_fast", status="confirmed"))
    db_session.commit()
    login(client, "giamsat")
    seen, pages = walk(client, "/admin/flags?status=open", FLAG_ROW)
    # A page of exactly PAGE rows has no "next" link to an empty page (the old pager showed one).
    assert pages == 1 and seen == [str(r.id) for r in reversed(responses[:PAGE])]
    for r in responses[:7]:
        db_session.add(ResponseFlag(response_id=r.id, reason="straight_lining", status="confirmed"))
    db_session.commit()
    seen, pages = walk(client, "/admin/flags?status=confirmed", FLAG_ROW)
    assert pages == 1 and len(seen) == 13
    for r in responses[7:PAGE]:
        db_session.add(ResponseFlag(response_id=r.id, reason="straight_lining", status="confirmed"))
    db_session.commit()
    seen, pages = walk(client, "/admin/flags?status=confirmed", FLAG_ROW)  # the status filter kept on page 2
    assert pages == 2 and len(seen) == PAGE + 6 and "Về trang đầu" in client.get(
        "/admin/flags?status=confirmed&before=999999").text
    assert_bad_cursor(client, "/admin/flags?status=open&before=abc")


# --- audit trail ------------------------------------------------------------------------------------------------
def test_audit_pages_keep_an_actor_filter_that_needs_encoding(client: TestClient, db_session: Session) -> None:
    make_user(db_session, username="giamsat")
    odd = "Nguyễn Văn A & B?x=1"  # a failed login records whatever name was typed
    for _ in range(PAGE + 4):
        audit.record(db_session, actor=None, actor_name=odd, action="login_failed")
    for _ in range(5):
        audit.record(db_session, actor=None, actor_name="ai-do", action="login_failed")
    db_session.commit()
    login(client, "giamsat")
    row = re.compile(r"<tr><td>[^<]+</td><td>([^<]+)</td><td>login_failed</td>")
    seen, pages = walk(client, "/admin/audit?" + urlencode({"action": "login_failed", "actor": odd}), row)
    assert pages == 2 and seen == [odd] * (PAGE + 4)
    everyone, pages = walk(client, "/admin/audit?action=login_failed", row)
    assert pages == 2 and len(everyone) == PAGE + 4 + 5
    assert_bad_cursor(client, "/admin/audit?before=12a")
