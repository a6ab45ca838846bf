"""Deadline arithmetic: N working days after receipt, skipping weekends and the configured holidays."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from survey_app.errors import ValidationFailed
from survey_app.services import workdays
from survey_app.services.workdays import add_working_days, working_days_between

D = dt.date


def test_weekend_is_skipped() -> None:
    friday = D(2026, 11, 20)
    assert add_working_days(friday, 1, set()) == D(2026, 11, 23)  # Monday
    assert add_working_days(friday, 5, set()) == D(2026, 11, 27)
    assert add_working_days(D(2026, 11, 21), 1, set()) == D(2026, 11, 23)  # received on Saturday
    assert add_working_days(friday, 0, set()) == friday


def test_fifteen_working_days_is_three_weeks_without_holidays() -> None:
    monday = D(2026, 10, 5)
    assert add_working_days(monday, 15, set()) == D(2026, 10, 26)
    assert working_days_between(monday, D(2026, 10, 26), set()) == 15


def test_holidays_push_the_deadline() -> None:
    holidays = {D(2026, 4, 27), D(2026, 4, 30), D(2026, 5, 1)}
    # Received Friday 24/4/2026: 27/4 (Giỗ Tổ, nghỉ bù), 30/4 and 1/5 do not count.
    assert add_working_days(D(2026, 4, 24), 2, holidays) == D(2026, 4, 29)
    assert add_working_days(D(2026, 4, 24), 3, holidays) == D(2026, 5, 4)
    assert add_working_days(D(2026, 4, 24), 3, set()) == D(2026, 4, 29)


def test_negative_days_refused() -> None:
    with pytest.raises(ValueError):
        add_working_days(D(2026, 1, 1), -1, set())


def test_local_date_uses_vietnam_time() -> None:
    late_utc = dt.datetime(2026, 11, 20, 18, 30, tzinfo=dt.UTC)  # 01:30 on 21/11 in Hà Nội
    assert workdays.local_date(late_utc) == D(2026, 11, 21)


def test_seeded_tet_2026_and_2027(db_session: Session) -> None:
    # Received Friday 13/2/2026 just before Tết Bính Ngọ: 16-20/2 are holidays, so 1 working day is 23/2.
    received = dt.datetime(2026, 2, 13, 3, 0, tzinfo=dt.UTC)
    assert workdays.deadline_for(db_session, received=received, days=1) == D(2026, 2, 23)
    # Default 15 working days from 2/2/2026 (Monday): 3 weeks + the 5 Tết days.
    assert workdays.deadline_for(db_session, received=dt.datetime(2026, 2, 2, 2, tzinfo=dt.UTC)) == D(2026, 3, 2)
    days_2027 = {h.day for h in workdays.list_holidays(db_session, year=2027)}
    assert {D(2027, 1, 1), D(2027, 4, 30), D(2027, 9, 2)} <= days_2027
    assert len({h.day for h in workdays.list_holidays(db_session, year=2026)}) >= 11


def test_admin_added_holiday_changes_the_deadline(db_session: Session) -> None:
    received = dt.datetime(2026, 11, 20, 2, tzinfo=dt.UTC)  # Friday
    assert workdays.deadline_for(db_session, received=received, days=1) == D(2026, 11, 23)
    workdays.add_holiday(db_session, day=D(2026, 11, 23), name="Ngày nghỉ do tỉnh quyết định")
    assert workdays.deadline_for(db_session, received=received, days=1) == D(2026, 11, 24)
    with pytest.raises(ValidationFailed):
        workdays.add_holiday(db_session, day=D(2026, 11, 23), name="Trùng")


@pytest.mark.parametrize(("text", "expected"), [("2026-09-02", D(2026, 9, 2)), ("02/09/2026", D(2026, 9, 2))])
def test_parse_day(text: str, expected: dt.date) -> None:
    assert workdays.parse_day(text) == expected


def test_parse_day_refuses_nonsense() -> None:
    with pytest.raises(ValidationFailed, match="Ngày không hợp lệ"):
        workdays.parse_day("31/02/2026")
