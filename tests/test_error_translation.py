"""Error messages follow the chosen language: real flows over HTTP in English and Vietnamese (with the formatted
parameter values), the translatable error type itself, and a static check that no AppError is raised with an
f-string or a literal the catalog extractor cannot see (so untranslatable messages cannot come back)."""

from __future__ import annotations

import ast
import json
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from survey_app.errors import Message, ValidationFailed
from survey_app.i18n import N_
from survey_app.services import report_imports
from tests.factories import CHIENG_AN, make_point, make_user

PROJECT_ROOT = Path(__file__).resolve().parents[1]
SAME_ORIGIN = {"origin": "http://testserver"}


def _admin(client: TestClient, db_session: Session, lang: str) -> None:
    make_user(db_session)
    r = client.post("/login", data={"username": "admin1", "password": "mat-khau-dai-123"})
    assert r.status_code == 303, r.text
    client.cookies.set("lang", lang)


# --- real flows over HTTP --------------------------------------------------------------------------------

VILLAGES = "ma_xa;ten_thon;so_ho\n03688;Bản A;120\n12345;Bản X;10\n03694;Bản C;nhiều\n"
VILLAGE_ERRORS = {
    "en": ["Row 3: no commune/ward with code “12345” was found.",
           "Row 4: the number of households “nhiều” is invalid (it must be a whole number from 0)."],
    "vi": ["Dòng 3: không tìm thấy xã/phường có mã “12345”.",
           "Dòng 4: số hộ “nhiều” không hợp lệ (phải là số nguyên từ 0)."],
}


@pytest.mark.parametrize("lang", ["en", "vi"])
def test_import_file_with_bad_rows(lang: str, client: TestClient, db_session: Session) -> None:
    _admin(client, db_session, lang)
    r = client.post("/admin/fieldwork/villages", files={"file": ("thon.csv", VILLAGES.encode(), "text/csv")},
                    headers=SAME_ORIGIN)
    assert r.status_code == 422
    for message in VILLAGE_ERRORS[lang]:
        assert message in r.text
    other = VILLAGE_ERRORS["vi" if lang == "en" else "en"]
    assert not any(m in r.text for m in other)


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "Year must be between 2000 and 2100."),
    ("vi", "Năm phải từ 2000 đến 2100."),
])
def test_invalid_period(lang: str, expected: str, client: TestClient) -> None:
    r = client.get("/ket-qua", params={"kind": "annual", "year": "1999", "lang": lang})
    assert r.status_code == 422
    assert f'<html lang="{lang}">' in r.text and expected in r.text


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "The start date is invalid (format YYYY-MM-DD)."),
    ("vi", "Ngày bắt đầu không hợp lệ (định dạng YYYY-MM-DD)."),
])
def test_invalid_report_period_behind_login(lang: str, expected: str, client: TestClient, db_session: Session) -> None:
    _admin(client, db_session, lang)
    r = client.get("/reports", params={"kind": "custom", "start": "2026-13-01", "end": "2026-05-31"})
    assert r.status_code == 422 and expected in r.text


BAD_STAFF_FORMS = {  # a form an admin posts, and what it is told in each language
    "reception point": ("/admin/points", {"name": "Quầy 1", "commune_code": CHIENG_AN, "sector": "sao-hoa"},
                        {"en": "Invalid sector: sao-hoa", "vi": "Lĩnh vực không hợp lệ: sao-hoa"}),
    "staff agency": ("/phan-anh/cai-dat/can-bo", {"username": "khong-co", "agency": "Sở Nội vụ"},
                     {"en": "No staff account “khong-co” was found.",
                      "vi": "Không tìm thấy tài khoản cán bộ “khong-co”."}),
}


@pytest.mark.parametrize("lang", ["en", "vi"])
@pytest.mark.parametrize("form", BAD_STAFF_FORMS)
def test_bad_staff_form(form: str, lang: str, client: TestClient, db_session: Session) -> None:
    path, data, expected = BAD_STAFF_FORMS[form]
    _admin(client, db_session, lang)
    r = client.post(path, data=data, headers=SAME_ORIGIN)
    assert r.status_code == 422 and expected[lang] in r.text


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "The date 15/07/2026 is already in the list of holidays."),
    ("vi", "Ngày 15/07/2026 đã có trong danh sách ngày nghỉ."),
])
def test_feedback_settings_error(lang: str, expected: str, client: TestClient, db_session: Session) -> None:
    _admin(client, db_session, lang)
    form = {"day": "15/07/2026", "name": "Ngày nghỉ bù"}
    assert client.post("/phan-anh/cai-dat/ngay-nghi", data=form, headers=SAME_ORIGIN).status_code == 303
    r = client.post("/phan-anh/cai-dat/ngay-nghi", data=form, headers=SAME_ORIGIN)
    assert r.status_code == 422 and expected in r.text


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "Please write your feedback (at least 5 characters)."),
    ("vi", "Vui lòng nhập nội dung góp ý, phản ánh (ít nhất 5 ký tự)."),
])
def test_citizen_feedback_form_error(lang: str, expected: str, client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    page = client.get(f"/q/{point.token}/gop-y", params={"lang": lang})
    ticket = page.text.split('name="ticket" value="')[1].split('"')[0]
    r = client.post(f"/q/{point.token}/gop-y", params={"lang": lang}, data={"ticket": ticket, "text": "ok"},
                    headers=SAME_ORIGIN)
    assert r.status_code == 422 and expected in r.text


@pytest.mark.parametrize(("lang", "expected"), [
    ("en", "The app's login token is missing. Please log in again."),
    ("vi", "Thiếu mã đăng nhập của ứng dụng. Vui lòng đăng nhập lại."),
])
def test_api_error_json(lang: str, expected: str, client: TestClient) -> None:
    r = client.post("/api/v1/interviews", params={"lang": lang}, json={"interviews": []})
    assert r.status_code == 401 and json.loads(r.text)["detail"] == expected


# --- the error type ----------------------------------------------------------------------------------------

def test_detail_stays_vietnamese_and_translated_formats_named_parameters() -> None:
    exc = ValidationFailed(N_("Tài khoản {username} đã tồn tại."), username="canbo1")
    assert exc.detail == str(exc) == "Tài khoản canbo1 đã tồn tại."
    assert exc.message_id == "Tài khoản {username} đã tồn tại." and exc.params == {"username": "canbo1"}
    assert exc.translated("en") == "The account canbo1 already exists."
    assert exc.translated("zz") == exc.detail  # a language without a catalog falls back to Vietnamese
    bare = ValidationFailed()
    assert bare.detail == "Yêu cầu không hợp lệ" and not bare.has_detail and bare.translated("en") == "Invalid request"


def test_nested_messages_are_translated_into_the_same_language(db_session: Session) -> None:
    point = make_point(db_session)
    body = ("ma_diem,tu_ngay,den_ngay,so_giao_dich,nguon\n"
            f"{point.code},2025-12-01,2026-05-31,1200,Sổ\n"
            "KHONG-CO,2025-12-01,2026-05-31,10,x\n"
            f"{point.code},2026-13-01,2026-05-31,5,x\n")
    result = report_imports.import_file(db_session, kind="volumes", filename="v.csv", content=body.encode(),
                                        province_code="14")
    assert result.errors == ["Dòng 3: không có điểm tiếp nhận mã “KHONG-CO”.",  # still plain Vietnamese text
                             "Dòng 4: Từ ngày “2026-13-01” không đúng định dạng (YYYY-MM-DD hoặc DD/MM/YYYY)."]
    assert [e.translated("en") for e in result.errors] == [
        "Row 3: there is no reception point with code “KHONG-CO”.",
        "Row 4: Start date “2026-13-01” is not in the format YYYY-MM-DD or DD/MM/YYYY."]
    with pytest.raises(ValidationFailed) as raised:
        report_imports.save_official_score(db_session, province_code="14", index_name="PAPI", year="1999",
                                           component="total", label="", value="40", unit="", source="x", actor="a")
    assert raised.value.translated("en") == "The score was not saved: the year must be between 2000 and 2100."
    assert raised.value.detail == "Chưa lưu được điểm số: năm phải từ 2000 đến 2100."


def test_message_is_its_vietnamese_text() -> None:
    m = Message(N_("Dòng {row}: {error}."), row=7, error=Message(N_("thiếu giới tính hoặc nhóm tuổi")))
    assert m == "Dòng 7: thiếu giới tính hoặc nhóm tuổi." and m.translated("en") == "Row 7: sex or age group is missing."


# --- static check ------------------------------------------------------------------------------------------

NOT_YET_CONVERTED: set[str] = set()


def _callee(node: ast.Call) -> str | None:
    func = node.func
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else None


def _translatable_types(trees: dict[str, ast.Module]) -> set[str]:
    """AppError and every class deriving from it anywhere in the package (by name), plus Message."""
    bases: dict[str, set[str]] = {}
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases.setdefault(node.name, set()).update(
                    b.id if isinstance(b, ast.Name) else b.attr for b in node.bases if isinstance(b, ast.Name | ast.Attribute))
    found = {"AppError"}
    while True:
        more = {name for name, parents in bases.items() if parents & found} - found
        if not more:
            return found | {"Message"}
        found |= more


def _is_text_built_at_runtime(arg: ast.expr) -> str | None:
    if isinstance(arg, ast.JoinedStr):
        return "f-string"
    if isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute) and arg.func.attr == "format":
        return ".format()"
    if isinstance(arg, ast.BinOp) and any(isinstance(side, ast.Constant | ast.JoinedStr) and isinstance(
            getattr(side, "value", ""), str) for side in (arg.left, arg.right)):
        return "text built with + or %"
    return None


def untranslatable_errors(source: str, filename: str, types: set[str]) -> list[str]:
    """Where an AppError (or Message) gets text that cannot be a catalog id: an f-string, .format(), text
    concatenation, or a plain literal the extractor does not see (it must be wrapped in N_())."""
    problems = []
    for node in ast.walk(ast.parse(source, filename)):
        if not isinstance(node, ast.Call):
            continue
        if _callee(node) == "N_" and not (len(node.args) == 1 and isinstance(node.args[0], ast.Constant)):
            problems.append(f"{filename}:{node.lineno}: N_() needs one plain string literal")
        if _callee(node) not in types:
            continue
        for arg in [*node.args, *(k.value for k in node.keywords)]:
            kind = _is_text_built_at_runtime(arg)
            if kind:
                problems.append(f"{filename}:{node.lineno}: {_callee(node)} with {kind}; use N_(\"… {{name}} …\"), name=…")
        first = node.args[0] if node.args else None
        if isinstance(first, ast.Constant) and isinstance(first.value, str):
            problems.append(f"{filename}:{node.lineno}: {_callee(node)}({first.value!r}) is not extracted; wrap it in N_()")
    return problems


def _package_files() -> dict[str, str]:
    return {str(p.relative_to(PROJECT_ROOT)): p.read_text(encoding="utf-8")
            for p in sorted((PROJECT_ROOT / "survey_app").rglob("*.py"))}


def test_no_app_error_is_raised_with_text_built_at_runtime() -> None:
    files = _package_files()
    types = _translatable_types({name: ast.parse(text, name) for name, text in files.items()})
    assert {"ValidationFailed", "NotFound", "PayloadTooLarge", "SamplingError", "TokenRejected"} <= types
    problems = [p for name, text in files.items() if name not in NOT_YET_CONVERTED
                for p in untranslatable_errors(text, name, types)]
    assert not problems, "\n".join(problems)


def test_the_static_check_catches_each_kind_of_untranslatable_text() -> None:
    bad = '''
class ImportFailed(ValidationFailed):
    pass
def f(code, n):
    raise ValidationFailed(f"Mã {code} đã tồn tại.")
    raise ImportFailed("Dòng {n}".format(n=n))
    raise NotFound("Không thấy " + code)
    raise ValidationFailed("Tệp trống.")
    raise ValidationFailed(N_(f"Mã {code}"))
    raise ValueError(f"developer message {code}")
    raise ValidationFailed(N_("Mã {code} đã tồn tại."), code=code)
'''
    trees = {name: ast.parse(text, name) for name, text in {**_package_files(), "bad.py": bad}.items()}
    problems = untranslatable_errors(bad, "bad.py", _translatable_types(trees))
    lines = sorted(int(p.split(":")[1]) for p in problems)
    assert lines == [5, 6, 7, 8, 9], problems  # ImportFailed counts as it derives from ValidationFailed
