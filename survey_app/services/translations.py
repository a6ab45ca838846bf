"""Translator workflow: export the interface and questionnaire texts to a spreadsheet, import it back.

The interface goes to ``locale/<lang>/LC_MESSAGES/messages.po``; questionnaire translations become NEW
questionnaire versions (published versions never change) written next to the current file, published by
the next ``survey-app init``. Nothing is written unless the whole workbook is valid.
"""

from __future__ import annotations

import string
import zipfile
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po, write_po
from openpyxl import Workbook, load_workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils.exceptions import InvalidFileException

from ..i18n import LANG_CODE, LANGUAGE_NAME_ID, catalog_path
from ..questionnaire import LocalText, Questionnaire, QuestionnaireError, load_file

INTERFACE_SHEET = "Giao diện"
REFERENCE_LANG = "en"  # the complete catalog: its message ids are the interface's
INTERFACE_HEADER = ("Mã (msgid)", "Tiếng Việt", "English (tham khảo)")
QUESTIONNAIRE_HEADER = ("Mã", "Tiếng Việt", "English (tham khảo)")
SHEET_TITLE_MAX = 31  # Excel's limit


@dataclass(frozen=True)
class Problem:
    sheet: str
    row: int | None
    message: str

    def __str__(self) -> str:
        where = f"Trang «{self.sheet}»" + (f", dòng {self.row}" if self.row else "")
        return f"{where}: {self.message}"


class TranslationImportError(ValueError):
    """The workbook was refused; ``problems`` names each bad row. Nothing was written."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass
class ImportResult:
    lang: str
    catalog: Path
    interface_translated: int
    interface_total: int
    questionnaires: list[Path] = field(default_factory=list)


# --- extraction and catalogs -------------------------------------------------------------------------

def extract_messages(project_root: Path) -> dict[str, list[tuple[str, int]]]:
    """Every message id in templates and Python, with its locations, using the mapping in babel.cfg."""
    with (project_root / "babel.cfg").open(encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)  # type: ignore[no-untyped-call]
    found: dict[str, list[tuple[str, int]]] = {}
    found_all = extract_from_dir(
        str(project_root), method_map, options_map,
        directory_filter=lambda d: not Path(d).name.startswith((".", "__")),  # the default skips templates/_macros
    )
    for filename, lineno, message, _comments, _context in found_all:
        msgid = message[0] if isinstance(message, tuple) else message
        if msgid:
            found.setdefault(msgid, []).append((filename, lineno))
    return found


def read_po_catalog(path: Path) -> Catalog:
    with path.open("rb") as fh:
        return read_po(fh)


def reference_catalog(locale_dir: Path | None = None) -> Catalog:
    return read_po_catalog(catalog_path(REFERENCE_LANG, locale_dir))


def placeholders(text: str) -> Counter[str] | None:
    """The ``{name}`` fields of a format string; None when the braces do not form a valid one."""
    try:
        return Counter(name for _lit, name, _spec, _conv in string.Formatter().parse(text) if name is not None)
    except ValueError:
        return None


def write_catalog(
    lang: str, translations: Mapping[str, str], *, reference: Catalog, locale_dir: Path | None = None
) -> Path:
    """Write ``lang``'s catalog with the reference catalog's ids, locations and comments, in its order."""
    catalog = Catalog(
        locale=lang, project="survey-app", fuzzy=False,
        header_comment=f"# Interface of survey-app in «{lang}». The message ids are the Vietnamese texts.\n#",
    )
    for message in reference:
        if not message.id or not isinstance(message.id, str):
            continue
        catalog.add(
            message.id, translations.get(message.id, ""), locations=message.locations,
            auto_comments=message.auto_comments, flags=[f for f in message.flags if f != "fuzzy"],
        )
    path = catalog_path(lang, locale_dir)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("wb") as fh:
        write_po(fh, catalog, width=0, omit_header=False)
    return path


# --- questionnaire texts -----------------------------------------------------------------------------

def latest_questionnaires(directory: Path) -> dict[str, tuple[Questionnaire, Path]]:
    """The highest version of each questionnaire in ``directory`` and the file it came from."""
    latest: dict[str, tuple[Questionnaire, Path]] = {}
    for path in sorted(directory.glob("*.yaml")):
        q = load_file(path)
        if q.id not in latest or q.version > latest[q.id][0].version:
            latest[q.id] = (q, path)
    return latest


def questionnaire_texts(q: Questionnaire) -> Iterator[tuple[str, LocalText]]:
    """Every translatable text with a stable key: item id / option key."""
    yield "title", q.title
    if q.intro:
        yield "intro", q.intro
    if q.respondent:
        yield "respondent", q.respondent
    for page in q.pages:
        yield f"page.{page.id}", page.title
        for item in page.items:
            yield f"{item.id}.text", item.text
            if item.interviewer_text:
                yield f"{item.id}.interviewer_text", item.interviewer_text
            if item.help:
                yield f"{item.id}.help", item.help
            for option in item.options:
                yield f"{item.id}.option.{option.value}", option.label


def _translation(text: LocalText, lang: str) -> str:
    if lang == "vi":
        return text.vi
    if lang == "en":
        return text.en or ""
    value = (text.model_extra or {}).get(lang)
    return value if isinstance(value, str) else ""


def _set_text(node: dict[str, Any], lang: str, value: str) -> None:
    if value:
        node[lang] = value
    else:
        node.pop(lang, None)


def translated_questionnaire(q: Questionnaire, lang: str, texts: Mapping[str, str]) -> Questionnaire:
    """Version + 1 of ``q`` with ``lang`` in its languages and the given texts (empty = Vietnamese fallback)."""
    data: dict[str, Any] = q.model_dump(mode="json", by_alias=True, exclude_none=True)
    data["version"] = q.version + 1
    if lang not in data["languages"]:
        data["languages"] = [*data["languages"], lang]
    for key in ("title", "intro", "respondent"):
        if key in data and key in texts:
            _set_text(data[key], lang, texts[key])
    for page in data["pages"]:
        if f"page.{page['id']}" in texts:
            _set_text(page["title"], lang, texts[f"page.{page['id']}"])
        for item in page["items"]:
            for part in ("text", "interviewer_text", "help"):
                key = f"{item['id']}.{part}"
                if part in item and key in texts:
                    _set_text(item[part], lang, texts[key])
            for option in item.get("options", []):
                key = f"{item['id']}.option.{option['value']}"
                if key in texts:
                    _set_text(option["label"], lang, texts[key])
    return Questionnaire.model_validate(data)


def _sheet_title(questionnaire_id: str) -> str:
    return questionnaire_id[:SHEET_TITLE_MAX]


# --- export ------------------------------------------------------------------------------------------

def export_workbook(
    path: Path, *, lang: str, questionnaire_dir: Path, locale_dir: Path | None = None
) -> None:
    """Write the interface sheet and one sheet per questionnaire, prefilled with existing ``lang`` texts."""
    if not LANG_CODE.match(lang) or lang == "vi":
        raise ValueError(f"Mã ngôn ngữ «{lang}» không hợp lệ: dùng mã ISO 639 gồm 2–3 chữ cái thường, ví dụ «tdd».")
    reference = reference_catalog(locale_dir)
    existing_path = catalog_path(lang, locale_dir)
    existing: Mapping[str, str] = {}
    if existing_path.exists():
        existing = {str(m.id): str(m.string) for m in read_po_catalog(existing_path) if m.id and isinstance(m.string, str)}

    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = INTERFACE_SHEET
    ws.append([*INTERFACE_HEADER, lang, "Ghi chú"])
    for message in reference:
        if not message.id or not isinstance(message.id, str):
            continue
        msgid = message.id
        notes = []
        fields = placeholders(msgid)
        if fields:
            notes.append("Giữ nguyên: " + ", ".join("{" + name + "}" for name in sorted(fields)))
        if msgid == LANGUAGE_NAME_ID:
            notes.append("Tên ngôn ngữ hiển thị trong nút chọn ngôn ngữ.")
        notes.append(", ".join(f"{f}:{n}" for f, n in message.locations[:3]))
        english = message.string if isinstance(message.string, str) else ""
        ws.append([msgid, msgid, english, existing.get(msgid, ""), " · ".join(n for n in notes if n)])
    _format_sheet(ws, widths=(40, 60, 60, 60, 40))

    for q, _path in latest_questionnaires(questionnaire_dir).values():
        qs = wb.create_sheet(_sheet_title(q.id))
        qs.append([*QUESTIONNAIRE_HEADER, lang])
        for key, text in questionnaire_texts(q):
            qs.append([key, text.vi, text.en or "", _translation(text, lang)])
        _format_sheet(qs, widths=(24, 70, 70, 70))
    wb.save(path)


def _format_sheet(ws: Any, *, widths: tuple[int, ...]) -> None:
    for cell in ws[1]:
        cell.font = Font(bold=True)
    for col, width in zip("ABCDE", widths, strict=False):
        ws.column_dimensions[col].width = width
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            cell.alignment = Alignment(wrap_text=True, vertical="top")
    ws.freeze_panes = "A2"


# --- import ------------------------------------------------------------------------------------------

def _cell(value: object) -> str:
    if value is None:
        return ""
    return str(value).strip()


def _check_placeholders(source: str, translation: str) -> str | None:
    if not translation:
        return None
    wanted, given = placeholders(source), placeholders(translation)
    if given is None:
        return "dấu ngoặc nhọn { } không khớp nhau; chỉ dùng chúng cho chỗ giữ chỗ như {count}."
    if wanted is not None and wanted != given:
        need = ", ".join("{" + n + "}" for n in sorted(wanted)) or "không có"
        got = ", ".join("{" + n + "}" for n in sorted(given)) or "không có"
        return f"chỗ giữ chỗ phải giữ nguyên đúng như tiếng Việt (cần: {need}; bản dịch có: {got})."
    return None


def _read_rows(
    ws: Any, sheet: str, expected: Mapping[str, str], problems: list[Problem], *, check_vietnamese: bool
) -> dict[str, str]:
    """key → translation (column D) for a sheet whose keys must be exactly ``expected`` (key → Vietnamese)."""
    found: dict[str, str] = {}
    for row_number, row in enumerate(ws.iter_rows(min_row=2, values_only=True), start=2):
        values = [*row, None, None, None, None][:4]
        key, vietnamese, _english, translation = (_cell(v) for v in values)
        if not key and not translation:
            continue
        if not key:
            problems.append(Problem(sheet, row_number, "thiếu mã ở cột A (đừng xoá hay sửa cột mã)."))
            continue
        if key not in expected:
            problems.append(Problem(sheet, row_number, f"mã «{key[:80]}» không có trong hệ thống (bị sửa hoặc bảng tính cũ)."))
            continue
        if key in found:
            problems.append(Problem(sheet, row_number, f"mã «{key[:80]}» xuất hiện hai lần."))
            continue
        if check_vietnamese and vietnamese != expected[key].strip():
            problems.append(Problem(sheet, row_number, f"văn bản tiếng Việt của «{key}» đã thay đổi; hãy xuất lại bảng tính."))
        issue = _check_placeholders(expected[key], translation)
        if issue:
            problems.append(Problem(sheet, row_number, issue))
        found[key] = translation
    missing = [k for k in expected if k not in found]
    for key in missing[:20]:
        problems.append(Problem(sheet, None, f"thiếu dòng «{key[:80]}» (không được xoá dòng)."))
    if len(missing) > 20:
        problems.append(Problem(sheet, None, f"… và {len(missing) - 20} dòng khác bị thiếu."))
    return found


def import_workbook(path: Path, *, questionnaire_dir: Path, locale_dir: Path | None = None) -> ImportResult:
    """Validate the whole workbook, then write the catalog and the new questionnaire versions."""
    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except (OSError, InvalidFileException, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise TranslationImportError([Problem(path.name, None, f"không mở được tệp XLSX ({exc}).")]) from exc
    problems: list[Problem] = []
    if INTERFACE_SHEET not in wb.sheetnames:
        raise TranslationImportError([Problem(INTERFACE_SHEET, None, "không tìm thấy trang này trong tệp.")])

    ws = wb[INTERFACE_SHEET]
    header: tuple[Any, ...] = next(ws.iter_rows(min_row=1, max_row=1, values_only=True), ())
    lang = _cell(header[3] if len(header) > 3 else None)
    if not LANG_CODE.match(lang) or lang == "vi":
        raise TranslationImportError([Problem(
            INTERFACE_SHEET, 1, f"ô D1 phải là mã ngôn ngữ ISO 639 (2–3 chữ cái thường, ví dụ «tdd»), không phải «{lang}».",
        )])

    reference = reference_catalog(locale_dir)
    expected = {str(m.id): str(m.id) for m in reference if m.id and isinstance(m.id, str)}
    interface = _read_rows(ws, INTERFACE_SHEET, expected, problems, check_vietnamese=False)

    if not questionnaire_dir.is_dir():
        raise TranslationImportError([Problem(str(questionnaire_dir), None, "không tìm thấy thư mục bảng hỏi.")])
    try:
        latest = latest_questionnaires(questionnaire_dir)
    except QuestionnaireError as exc:
        raise TranslationImportError([Problem(str(questionnaire_dir), None, str(exc))]) from exc
    by_title = {_sheet_title(qid): qid for qid in latest}
    pending: list[tuple[Questionnaire, Path]] = []
    for sheet in wb.sheetnames:
        if sheet == INTERFACE_SHEET:
            continue
        if sheet not in by_title:
            problems.append(Problem(sheet, None, "không có bảng hỏi nào mang mã này."))
            continue
        q, source = latest[by_title[sheet]]
        qs = wb[sheet]
        q_header: tuple[Any, ...] = next(qs.iter_rows(min_row=1, max_row=1, values_only=True), ())
        if _cell(q_header[3] if len(q_header) > 3 else None) != lang:
            problems.append(Problem(sheet, 1, f"ô D1 phải là mã ngôn ngữ «{lang}» như trang «{INTERFACE_SHEET}»."))
            continue
        reference_texts = {key: text.vi for key, text in questionnaire_texts(q)}
        texts = _read_rows(qs, sheet, reference_texts, problems, check_vietnamese=True)
        current = {key: _translation(text, lang) for key, text in questionnaire_texts(q)}
        if all(texts.get(k, "") == v for k, v in current.items()) and (lang in q.languages or not any(texts.values())):
            continue  # nothing new for this questionnaire
        try:
            new = translated_questionnaire(q, lang, texts)
        except ValueError as exc:
            problems.append(Problem(sheet, None, f"bảng hỏi mới không hợp lệ: {exc}"))
            continue
        target = source.with_name(f"{q.id}_v{new.version}.yaml")
        if target.exists():
            problems.append(Problem(sheet, None, f"tệp {target.name} đã tồn tại; hãy công bố hoặc xoá nó trước."))
            continue
        pending.append((new, target))
    wb.close()
    if not problems and not any(interface.values()) and not pending:
        problems.append(Problem(INTERFACE_SHEET, None, f"chưa có bản dịch nào ở cột «{lang}»; không có gì để nhập."))
    if problems:
        raise TranslationImportError(problems)

    catalog = write_catalog(lang, interface, reference=reference, locale_dir=locale_dir)
    written = []
    for new, target in pending:
        header_comment = (
            f"# {new.id} version {new.version}: adds the «{lang}» translation imported from a spreadsheet"
            " (survey-app translations import).\n"
        )
        body = yaml.safe_dump(
            new.model_dump(mode="json", by_alias=True, exclude_none=True), allow_unicode=True, sort_keys=False, width=1000
        )
        target.write_text(header_comment + body, encoding="utf-8")
        written.append(target)
    return ImportResult(
        lang=lang, catalog=catalog, interface_translated=sum(1 for v in interface.values() if v),
        interface_total=len(expected), questionnaires=written,
    )
