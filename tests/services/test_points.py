import csv
import io

import pytest
import zxingcpp
from PIL import Image
from sqlalchemy.orm import Session

from survey_app.errors import PointNotFound, ValidationFailed
from survey_app.services import catalogue
from survey_app.services import points as points_service
from tests.factories import make_point


def test_create_point_has_code_and_unguessable_token(db_session: Session) -> None:
    a = make_point(db_session)
    b = make_point(db_session)
    assert a.code == "03667-YT-01" and b.code == "03667-YT-02"
    assert len(a.token) >= 20 and a.token != b.token
    assert points_service.get_by_token(db_session, token=a.token).id == a.id


def test_rotate_and_revoke(db_session: Session) -> None:
    point = make_point(db_session)
    old = point.token
    points_service.rotate_token(db_session, point=point)
    assert point.token != old and point.token_rotated_at is not None
    with pytest.raises(PointNotFound):
        points_service.get_by_token(db_session, token=old)
    points_service.revoke(db_session, point=point)
    with pytest.raises(PointNotFound):
        points_service.get_by_token(db_session, token=point.token)


@pytest.mark.parametrize("token", ["", "short", "../../etc/passwd", "x" * 200, "a b c d e f g h"])
def test_malformed_tokens_are_not_found(db_session: Session, token: str) -> None:
    with pytest.raises(PointNotFound):
        points_service.get_by_token(db_session, token=token)


def test_invalid_point_input(db_session: Session) -> None:
    commune = catalogue.get_commune(db_session, "03667")
    assert commune is not None
    with pytest.raises(ValidationFailed):
        points_service.create_point(db_session, commune=commune, sector="police", name="X")
    with pytest.raises(ValidationFailed):
        points_service.create_point(db_session, commune=commune, sector="health", name="   ")
    make_point(db_session)
    with pytest.raises(ValidationFailed):
        points_service.create_point(db_session, commune=commune, sector="health", name="Y", code="03667-YT-01")


def test_qr_png_decodes_to_the_public_url() -> None:
    url = points_service.public_url("https://khaosat.sonla.gov.vn/", "AbCdEf123456_-xyz")
    assert url == "https://khaosat.sonla.gov.vn/q/AbCdEf123456_-xyz"
    image = Image.open(io.BytesIO(points_service.qr_png(url)))
    results = zxingcpp.read_barcodes(image)
    assert [r.text for r in results] == [url]
    assert results[0].format == zxingcpp.BarcodeFormat.QRCode


def test_qr_svg_is_a_standalone_svg() -> None:
    svg = points_service.qr_svg("http://127.0.0.1:8000/q/abcdefgh1234")
    assert svg.startswith("<svg") and "<path" in svg and svg.rstrip().endswith("</svg>")


def test_export_rows(db_session: Session) -> None:
    point = make_point(db_session, sector="one_stop")
    text = "\n".join(",".join(r) for r in points_service.export_rows(db_session, base_url="http://h"))
    rows = list(csv.DictReader(io.StringIO(text)))
    assert list(rows[0].keys()) == ["code", "name", "commune_code", "sector", "url", "active"]
    mine = next(r for r in rows if r["code"] == point.code)
    assert mine == {
        "code": point.code, "name": point.name, "commune_code": "03667", "sector": "one_stop",
        "url": f"http://h/q/{point.token}", "active": "1",
    }
