"""Translator workflow: XLSX export → fill in → import, with a made-up test language "zz" (no real language's
text is invented here)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from openpyxl import load_workbook

from survey_app import cli, i18n
from survey_app.questionnaire import load_file
from survey_app.services import translations as tr

PROJECT_ROOT = Path(__file__).resolve().parents[2]
LANG_NAME = "Zedish (made-up test language)"
TEAM_ID = "Phiếu còn {count} câu cần sửa. Vui lòng xem các câu được đánh dấu."


@pytest.fixture
def dirs(tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the questionnaires and of the reference (English) catalog."""
    qdir = tmp_path / "questionnaires"
    shutil.copytree(PROJECT_ROOT / "questionnaires", qdir)
    locale = tmp_path / "locale"
    shutil.copytree(i18n.LOCALE_DIR / "en", locale / "en")
    return qdir, locale


def fill(path: Path, interface: dict[str, str], health: dict[str, str]) -> None:
    """Write translations into column D, as a translator would in a spreadsheet program."""
    wb = load_workbook(path)
    for sheet, texts in ((tr.INTERFACE_SHEET, interface), ("health", health)):
        ws = wb[sheet]
        for row in ws.iter_rows(min_row=2):
            if row[0].value in texts:
                row[3].value = texts[row[0].value]
    wb.save(path)


def export(tmp_path: Path, dirs: tuple[Path, Path]) -> Path:
    qdir, locale = dirs
    path = tmp_path / "zz.xlsx"
    tr.export_workbook(path, lang="zz", questionnaire_dir=qdir, locale_dir=locale)
    return path


def test_export_lists_every_interface_string_and_questionnaire_text(tmp_path: Path, dirs: tuple[Path, Path]) -> None:
    qdir, locale = dirs
    path = export(tmp_path, dirs)
    wb = load_workbook(path)
    assert wb.sheetnames[0] == tr.INTERFACE_SHEET
    assert {"health", "one_stop", "land_certificate", "primary_education"} <= set(wb.sheetnames)
    ui = wb[tr.INTERFACE_SHEET]
    assert [c.value for c in ui[1]][3] == "zz"
    reference = {str(m.id): m.string for m in tr.reference_catalog(locale) if m.id}
    rows = {r[0]: r for r in ui.iter_rows(min_row=2, values_only=True)}
    assert set(rows) == set(reference)
    assert rows[TEAM_ID][2] == reference[TEAM_ID]
    assert "{count}" in rows[TEAM_ID][4]  # the note warns to keep the placeholder
    health = load_file(qdir / "health.yaml")
    keys = [r[0] for r in wb["health"].iter_rows(min_row=2, values_only=True)]
    assert "H1a.option.noi_tru" in keys and "title" in keys and f"page.{health.pages[0].id}" in keys
    assert len(keys) == len(set(keys)) == len(list(tr.questionnaire_texts(health)))


def test_round_trip_writes_catalog_and_new_questionnaire_version(tmp_path: Path, dirs: tuple[Path, Path]) -> None:
    qdir, locale = dirs
    path = export(tmp_path, dirs)
    interface = {i18n.LANGUAGE_NAME_ID: LANG_NAME, "Gửi ý kiến": "ZZ-submit", TEAM_ID: "ZZ {count} fix"}
    health = {"title": "ZZ health title", "H1a.text": "ZZ H1a", "H1a.option.noi_tru": "ZZ inpatient"}
    fill(path, interface, health)
    result = tr.import_workbook(path, questionnaire_dir=qdir, locale_dir=locale)

    assert result.lang == "zz" and result.interface_translated == 3
    assert i18n.read_catalog(i18n.catalog_path("zz", locale)) == interface
    assert [p.name for p in result.questionnaires] == ["health_v2.yaml"]
    old, new = load_file(qdir / "health.yaml"), load_file(qdir / "health_v2.yaml")
    assert new.version == old.version + 1 and new.languages == [*old.languages, "zz"]
    assert new.title.get("zz") == "ZZ health title"
    assert new.item("H1a").options[1].label.get("zz") == "ZZ inpatient"
    assert new.item("H2").text.get("zz") == old.item("H2").text.vi  # per-item fallback to Vietnamese
    assert new.item("H2").text.en == old.item("H2").text.en  # nothing else changed
    # Questionnaires without a translation get no new version.
    assert sorted(p.name for p in qdir.glob("*.yaml")) == sorted([*(p.name for p in (PROJECT_ROOT / "questionnaires").glob("*.yaml")), "health_v2.yaml"])

    # Exporting again prefills what was imported, from the new version.
    again = tmp_path / "again.xlsx"
    tr.export_workbook(again, lang="zz", questionnaire_dir=qdir, locale_dir=locale)
    wb = load_workbook(again)
    ui = {r[0]: r[3] for r in wb[tr.INTERFACE_SHEET].iter_rows(min_row=2, values_only=True)}
    assert {k: v for k, v in ui.items() if v} == interface
    hs = {r[0]: r[3] for r in wb["health"].iter_rows(min_row=2, values_only=True)}
    assert {k: v for k, v in hs.items() if v} == health
    # Re-importing the unchanged sheet creates no further version.
    result = tr.import_workbook(again, questionnaire_dir=qdir, locale_dir=locale)
    assert result.questionnaires == []


def problems_of(path: Path, dirs: tuple[Path, Path]) -> list[tr.Problem]:
    qdir, locale = dirs
    with pytest.raises(tr.TranslationImportError) as exc:
        tr.import_workbook(path, questionnaire_dir=qdir, locale_dir=locale)
    assert not i18n.catalog_path("zz", locale).exists()  # nothing written
    assert not (qdir / "health_v2.yaml").exists()
    return exc.value.problems


def test_changed_placeholder_is_reported_with_its_row(tmp_path: Path, dirs: tuple[Path, Path]) -> None:
    path = export(tmp_path, dirs)
    fill(path, {TEAM_ID: "ZZ {cout} fix", "Gửi ý kiến": "ZZ {"}, {})
    rows = {r[0]: i for i, r in enumerate(load_workbook(path)[tr.INTERFACE_SHEET].iter_rows(values_only=True), start=1)}
    problems = problems_of(path, dirs)
    by_row = {p.row: p for p in problems}
    assert set(by_row) == {rows[TEAM_ID], rows["Gửi ý kiến"]}
    assert "{count}" in by_row[rows[TEAM_ID]].message and "{cout}" in by_row[rows[TEAM_ID]].message
    assert "ngoặc nhọn" in by_row[rows["Gửi ý kiến"]].message
    assert all(p.sheet == tr.INTERFACE_SHEET for p in problems)
    assert str(by_row[rows[TEAM_ID]]).startswith(f"Trang «{tr.INTERFACE_SHEET}», dòng {rows[TEAM_ID]}:")


def test_missing_row_unknown_key_and_stale_vietnamese_are_reported(tmp_path: Path, dirs: tuple[Path, Path]) -> None:
    path = export(tmp_path, dirs)
    fill(path, {"Gửi ý kiến": "ZZ-submit"}, {"title": "ZZ"})
    wb = load_workbook(path)
    ws = wb["health"]
    removed = ws.cell(row=3, column=1).value
    ws.delete_rows(3)
    ws.cell(row=4, column=1).value = "H99.text"
    changed_key = ws.cell(row=5, column=1).value
    ws.cell(row=5, column=2).value = "Câu hỏi đã bị sửa"
    wb.save(path)
    problems = problems_of(path, dirs)
    assert all(p.sheet == "health" for p in problems)
    messages = {(p.row, p.message) for p in problems}
    assert any(row is None and removed in msg and "thiếu dòng" in msg for row, msg in messages)
    assert any(row == 4 and "H99.text" in msg and "không có trong hệ thống" in msg for row, msg in messages)
    assert any(row == 5 and changed_key in msg and "đã thay đổi" in msg for row, msg in messages)


def test_bad_language_code_and_unknown_sheet(tmp_path: Path, dirs: tuple[Path, Path]) -> None:
    path = export(tmp_path, dirs)
    wb = load_workbook(path)
    wb[tr.INTERFACE_SHEET]["D1"] = "Tiếng Zed"
    wb.save(path)
    [problem] = problems_of(path, dirs)
    assert problem.row == 1 and "ISO 639" in problem.message

    path = export(tmp_path, dirs)
    fill(path, {"Gửi ý kiến": "ZZ-submit"}, {})
    wb = load_workbook(path)
    wb.create_sheet("khong_co").append(["Mã", "Tiếng Việt", "English", "zz"])
    wb.save(path)
    [problem] = problems_of(path, dirs)
    assert problem.sheet == "khong_co" and "không có bảng hỏi" in problem.message


def test_export_refuses_a_bad_code(tmp_path: Path, dirs: tuple[Path, Path]) -> None:
    qdir, locale = dirs
    for code in ("x-test", "Thai", "vi", ""):
        with pytest.raises(ValueError, match="không hợp lệ"):
            tr.export_workbook(tmp_path / "x.xlsx", lang=code, questionnaire_dir=qdir, locale_dir=locale)


def test_cli_reports_problems_without_a_traceback(
    tmp_path: Path, dirs: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    qdir, _locale = dirs
    path = tmp_path / "zz.xlsx"
    assert cli.main(["translations", "export", "--lang", "zz", str(path), "--questionnaire-dir", str(qdir)]) == 0
    fill(path, {TEAM_ID: "ZZ {minutes}"}, {})
    assert cli.main(["translations", "import", str(path), "--questionnaire-dir", str(qdir)]) == 2
    err = capsys.readouterr().err
    assert "Không nhập được bản dịch (1 lỗi)" in err and "dòng" in err and "{count}" in err
    assert "Traceback" not in err
    assert not i18n.catalog_path("zz").exists()

    (tmp_path / "broken.xlsx").write_bytes(b"not a workbook")
    assert cli.main(["translations", "import", str(tmp_path / "broken.xlsx"), "--questionnaire-dir", str(qdir)]) == 2
    assert "không mở được tệp XLSX" in capsys.readouterr().err
