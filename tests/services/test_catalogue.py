from sqlalchemy import func, select
from sqlalchemy.orm import Session

from survey_app.models import Commune, Province
from survey_app.services import catalogue
from survey_app.text import fold


def test_full_catalogue_is_loaded(db_session: Session) -> None:
    assert db_session.scalar(select(func.count()).select_from(Province)) == 34
    assert db_session.scalar(select(func.count()).select_from(Commune)) == 3321
    son_la = catalogue.get_province(db_session, "14")
    assert son_la is not None and son_la.name == "Sơn La"
    assert len(catalogue.communes_of(db_session, province_code="14")) == 75


def test_loading_twice_adds_nothing(db_session: Session) -> None:
    assert catalogue.load_catalogue(db_session) == (0, 0)


def test_codes_are_official_and_versioned(db_session: Session) -> None:
    chieng_an = catalogue.get_commune(db_session, "03667")
    assert chieng_an is not None
    assert chieng_an.name == "Phường Chiềng An"
    assert chieng_an.division_type == "phường"
    assert chieng_an.code_scheme == "2025"


def test_search_with_and_without_diacritics(db_session: Session) -> None:
    for query in ("chieng an", "Chiềng An", "CHIENG AN", "phuong chieng an", "  chiềng   an "):
        names = [c.name for c in catalogue.search_communes(db_session, query=query, province_code="14")]
        assert "Phường Chiềng An" in names, query
    assert catalogue.search_communes(db_session, query="", province_code="14") == []
    assert catalogue.search_communes(db_session, query="%", province_code="14") == []


def test_search_handles_d_with_stroke(db_session: Session) -> None:
    names = [c.name for c in catalogue.search_communes(db_session, query="doan ket", province_code="14")]
    assert "Xã Đoàn Kết" in names


def test_fold() -> None:
    assert fold("Phường Chiềng An") == "phuong chieng an"
    assert fold("Đặc khu Phú Quốc") == "dac khu phu quoc"
