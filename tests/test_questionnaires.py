"""The questionnaire files in ``questionnaires/`` and the schema contract they rely on.

Run: ``.venv/bin/python -m pytest tests/test_questionnaires.py -q -p no:cacheprovider``
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from pydantic import ValidationError

from survey_app.questionnaire import (
    ItemRole,
    ItemType,
    LocalText,
    Questionnaire,
    QuestionnaireError,
    SipasElement,
    load_directory,
    load_file,
    schema_text,
)

QUESTIONNAIRE_DIR = Path(__file__).resolve().parents[1] / "questionnaires"
SCHEMA_FILE = QUESTIONNAIRE_DIR / "schema.json"
REGENERATE = (
    '.venv/bin/python -c "from survey_app.questionnaire import schema_text; '
    "open('questionnaires/schema.json','w').write(schema_text())\""
)

YAML_FILES = sorted(QUESTIONNAIRE_DIR.glob("*.yaml"))
EXPECTED_IDS = {"health", "primary_education", "one_stop", "land_certificate"}
EXPECTED_AGENCY = {
    "health": "Sở Y tế",
    "primary_education": "Sở Giáo dục và Đào tạo",
    "one_stop": "UBND cấp xã / Văn phòng UBND tỉnh",
    "land_certificate": "Sở Nông nghiệp và Môi trường",
}
ALL_SIPAS_REQUIRED = {"one_stop", "land_certificate"}

RESPONDENT_ROLES = {
    ItemRole.sex: ["nam", "nu", "khac"],
    ItemRole.age_group: ["18_24", "25_34", "35_49", "50_60", "60_plus"],
    ItemRole.ethnicity: ["kinh", "thai", "mong", "muong", "dao", "kho_mu", "tay", "nung", "khac"],
    ItemRole.residence: ["thanh_thi", "nong_thon", "vung_sau"],
    ItemRole.used_service: ["yes", "no"],
}
PROCEDURE_DOMAINS = ["chung_thuc", "ho_tich", "dat_dai", "xay_dung", "dau_tu", "khac"]

# Vietnamese words that are correctly written without any diacritic (option labels only).
PLAIN_VIETNAMESE_LABELS = {"Kinh", "Dao", "Nam"}
NUMERIC_LABEL = re.compile(r"^[\d\s–\-+<>=.,%/]+$")
ASCII_WORD = re.compile(r"(?<!\w)[A-Za-z]+(?!\w)")
# A Vietnamese syllable ending in -c, -ch, -p, -t carries a sắc or nặng tone, and "uô/ươ", "iê", "yê" carry a
# circumflex or horn: written in plain ASCII such a word has certainly lost its diacritics ("duoc", "viec").
LOST_DIACRITICS = re.compile(r"(c|ch|p|t)$|uo[a-z]|ie[a-z]|ye[a-z]")
# Frequent words that are not Vietnamese without their marks ("không", "Ông/Bà").
PLAIN_NOT_VIETNAMESE = {"khong", "hoac", "nguoi"}
ADDRESS = re.compile(r"(?i)(?<!\w)(ong|ông)\s*/\s*(ba|bà)(?!\w)")


QIDS = [path.stem for path in YAML_FILES]


@functools.cache
def _q(qid: str) -> Questionnaire:
    """Loaded lazily, so that one broken file fails its own tests instead of the whole module's collection."""
    return load_file(QUESTIONNAIRE_DIR / f"{qid}.yaml")


def _texts(q: Questionnaire) -> Iterator[tuple[str, LocalText, bool]]:
    """Every localised text: (where, text, is_option_label)."""
    yield "title", q.title, False
    if q.intro:
        yield "intro", q.intro, False
    if q.respondent:
        yield "respondent", q.respondent, False
    for page in q.pages:
        yield f"page {page.id} title", page.title, False
        for item in page.items:
            yield f"{item.id} text", item.text, False
            if item.interviewer_text:
                yield f"{item.id} interviewer_text", item.interviewer_text, False
            if item.help:
                yield f"{item.id} help", item.help, False
            for option in item.options:
                yield f"{item.id} option {option.value}", option.label, True


def _has_non_ascii_letter(text: str) -> bool:
    return any(ch.isalpha() and not ch.isascii() for ch in text)


# --------------------------------------------------------------------------------------------------------------
# The files


def test_directory_holds_only_yaml_and_the_schema() -> None:
    # load_directory reads *.yaml only: a *.yml or misnamed file would be silently ignored.
    others = sorted(p.name for p in QUESTIONNAIRE_DIR.iterdir() if p.suffix != ".yaml" and p != SCHEMA_FILE)
    assert others == []


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_file_loads(path: Path) -> None:
    q = load_file(path)
    assert q.id == path.stem, "file name must be <id>.yaml"
    assert q.sector.value == q.id
    assert q.languages[:2] == ["vi", "en"]


def test_directory_loads_all_four() -> None:
    qs = load_directory(QUESTIONNAIRE_DIR)
    assert {q.id for q in qs} >= EXPECTED_IDS


def test_schema_json_is_current() -> None:
    assert SCHEMA_FILE.exists(), f"questionnaires/schema.json is missing; from the project root run: {REGENERATE}"
    assert SCHEMA_FILE.read_text(encoding="utf-8") == schema_text(), (
        "questionnaires/schema.json no longer matches survey_app/questionnaire.py. If the model change is intended, "
        f"regenerate it from the project root with: {REGENERATE}"
    )


# --------------------------------------------------------------------------------------------------------------
# Content rules for every questionnaire

per_questionnaire = pytest.mark.parametrize("qid", QIDS)


@per_questionnaire
def test_exactly_one_overall_item(qid: str) -> None:
    q = _q(qid)
    overall = [i for i in q.items if i.role == ItemRole.overall]
    assert len(overall) == 1
    assert overall[0].type == ItemType.scale5
    assert overall[0].required


@per_questionnaire
def test_exactly_one_optional_comment(qid: str) -> None:
    q = _q(qid)
    comments = [i for i in q.items if i.role == ItemRole.comment]
    assert len(comments) == 1
    comment = comments[0]
    assert comment.type == ItemType.text
    assert not comment.required
    assert comment.max_length == 1000
    assert comment.tags.sipas == SipasElement.feedback


@per_questionnaire
def test_respondent_block(qid: str) -> None:
    q = _q(qid)
    last_page_ids = {i.id for i in q.pages[-1].items}
    for role, values in RESPONDENT_ROLES.items():
        items = [i for i in q.items if i.role == role]
        assert len(items) == 1, f"{qid}: expected one item with role {role.value}"
        item = items[0]
        assert item.id in last_page_ids, f"{qid}: {item.id} belongs on the last (respondent) page"
        assert item.allowed_values() == values, f"{qid}: codes of {item.id}"
        if role == ItemRole.used_service:
            assert item.type == ItemType.yesno and item.required
        else:
            assert item.type == ItemType.single and not item.required


@per_questionnaire
def test_sipas_coverage(qid: str) -> None:
    q = _q(qid)
    elements = {i.tags.sipas for i in q.items if i.tags.sipas is not None}
    if qid in ALL_SIPAS_REQUIRED:
        assert elements == set(SipasElement)
    else:
        assert len(elements) >= 3, elements
    # every element present is measured by at least one satisfaction item, not only by factual questions
    scale_elements = {i.tags.sipas for i in q.items if i.tags.sipas is not None and i.type == ItemType.scale5}
    assert elements - {SipasElement.feedback} <= scale_elements


@per_questionnaire
def test_agency_and_source_on_every_service_item(qid: str) -> None:
    q = _q(qid)
    respondent_roles = set(RESPONDENT_ROLES)
    for item in q.items:
        if item.role in respondent_roles:
            continue
        assert item.tags.agency == EXPECTED_AGENCY[qid], item.id
        assert item.source, f"{qid}: {item.id} has no source"


@per_questionnaire
def test_length_fits_a_three_minute_form(qid: str) -> None:
    q = _q(qid)
    questions = [i for i in q.items if i.role not in set(RESPONDENT_ROLES)]
    assert 12 <= len(questions) <= 21, len(questions)
    assert 3 <= len(q.pages) <= 5


@per_questionnaire
def test_every_text_has_vietnamese_and_english(qid: str) -> None:
    q = _q(qid)
    for where, text, _ in _texts(q):
        assert text.vi.strip(), f"{qid}: {where} has no Vietnamese"
        assert text.en and text.en.strip(), f"{qid}: {where} has no English"


@per_questionnaire
def test_vietnamese_has_diacritics(qid: str) -> None:
    q = _q(qid)
    for where, text, is_option in _texts(q):
        vi = text.vi.strip()
        if is_option and (NUMERIC_LABEL.match(vi) or vi in PLAIN_VIETNAMESE_LABELS):
            continue
        assert _has_non_ascii_letter(vi), f"{qid}: {where} looks like Vietnamese without diacritics: {vi!r}"
        for word in ASCII_WORD.findall(vi):
            if word.isupper() and len(word) > 1:  # acronyms: BHYT, UBND
                continue
            assert not LOST_DIACRITICS.search(word.lower()), f"{qid}: {where}: {word!r} has lost its diacritics"
            assert word.lower() not in PLAIN_NOT_VIETNAMESE, f"{qid}: {where}: {word!r} has lost its diacritics"
        for match in ADDRESS.finditer(vi):
            assert match.group(0) == "Ông/Bà", f"{qid}: {where}: write Ông/Bà, not {match.group(0)!r}"


@per_questionnaire
def test_show_if_refers_to_earlier_items(qid: str) -> None:
    q = _q(qid)
    seen: dict[str, Any] = {}
    for item in q.items:
        for cond in item.show_if:
            assert cond.item in seen, f"{qid}: {item.id} depends on {cond.item}, which is not earlier"
            assert set(cond.in_) <= set(seen[cond.item].allowed_values())
        seen[item.id] = item


def test_one_stop_procedure_domain() -> None:
    q = _q("one_stop")
    items = [i for i in q.items if i.role == ItemRole.procedure_domain]
    assert len(items) == 1
    assert items[0].type == ItemType.single
    assert items[0].allowed_values() == PROCEDURE_DOMAINS


def _shuffled(data: Any) -> Any:
    """The same data with every mapping's keys in reverse order."""
    if isinstance(data, dict):
        return {k: _shuffled(data[k]) for k in reversed(list(data))}
    if isinstance(data, list):
        return [_shuffled(v) for v in data]
    return data


@pytest.mark.parametrize("path", YAML_FILES, ids=lambda p: p.name)
def test_content_hash_stable_under_reformatting(path: Path) -> None:
    original = load_file(path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    variants = [
        yaml.safe_dump(data, allow_unicode=True, sort_keys=True, default_flow_style=False),
        yaml.safe_dump(_shuffled(data), allow_unicode=False, sort_keys=False, default_flow_style=True, width=60),
    ]
    for text in variants:
        assert text != path.read_text(encoding="utf-8")
        reloaded = Questionnaire.model_validate(yaml.safe_load(text))
        assert reloaded.content_hash() == original.content_hash()
    # and the hash does notice a change of content
    data["pages"][0]["items"][0]["text"]["vi"] += " "
    assert Questionnaire.model_validate(data).content_hash() != original.content_hash()


# --------------------------------------------------------------------------------------------------------------
# The schema itself, on small inline questionnaires

BASE = """
id: mini
version: 1
sector: one_stop
title: {vi: "Khảo sát thử", en: "Test survey"}
pages:
  - id: p1
    title: {vi: "Trang 1", en: "Page 1"}
    items:
      - id: A1
        type: yesno
        text: {vi: "Ông/Bà đã nhận kết quả chưa?", en: "Have you received the result?"}
      - id: A2
        type: scale5
        allow_na: true
        text: {vi: "Ông/Bà hài lòng ở mức nào?", en: "How satisfied are you?"}
        show_if: [{item: A1, in: ["yes"]}]
      - id: A3
        type: single
        text: {vi: "Hình thức nộp hồ sơ", en: "Channel"}
        options:
          - {value: truc_tiep, label: {vi: "Trực tiếp", en: "In person"}}
          - {value: truc_tuyen, label: {vi: "Trực tuyến", en: "Online"}}
"""


def _base() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load(BASE)
    return data


def _items(data: dict[str, Any]) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = data["pages"][0]["items"]
    return items


def test_inline_base_is_valid() -> None:
    q = Questionnaire.model_validate(_base())
    assert [i.id for i in q.items] == ["A1", "A2", "A3"]


def test_show_if_referring_to_a_later_item_is_rejected() -> None:
    data = _base()
    _items(data)[1]["show_if"] = [{"item": "A3", "in": ["truc_tiep"]}]
    with pytest.raises(ValidationError, match="not an earlier item"):
        Questionnaire.model_validate(data)


def test_show_if_referring_to_itself_or_unknown_item_is_rejected() -> None:
    for ref in ("A2", "Z9"):
        data = _base()
        _items(data)[1]["show_if"] = [{"item": ref, "in": ["yes"]}]
        with pytest.raises(ValidationError, match="not an earlier item"):
            Questionnaire.model_validate(data)


def test_show_if_with_a_value_the_item_cannot_take_is_rejected() -> None:
    data = _base()
    _items(data)[1]["show_if"] = [{"item": "A1", "in": ["maybe"]}]
    with pytest.raises(ValidationError, match="not allowed"):
        Questionnaire.model_validate(data)


def test_unknown_item_type_is_rejected() -> None:
    data = _base()
    _items(data)[0]["type"] = "slider"
    with pytest.raises(ValidationError):
        Questionnaire.model_validate(data)


def test_single_with_one_option_is_rejected() -> None:
    data = _base()
    _items(data)[2]["options"] = _items(data)[2]["options"][:1]
    with pytest.raises(ValidationError, match="at least two options"):
        Questionnaire.model_validate(data)


def test_duplicate_option_values_are_rejected() -> None:
    data = _base()
    _items(data)[2]["options"][1]["value"] = "truc_tiep"
    with pytest.raises(ValidationError, match="unique"):
        Questionnaire.model_validate(data)


def test_allow_na_outside_scale5_is_rejected() -> None:
    data = _base()
    _items(data)[0]["allow_na"] = True
    with pytest.raises(ValidationError, match="allow_na"):
        Questionnaire.model_validate(data)


@pytest.mark.parametrize(
    "where",
    ["questionnaire", "page", "item", "option", "tags", "condition"],
)
def test_unknown_keys_are_rejected(where: str) -> None:
    data = _base()
    target: dict[str, Any] = {
        "questionnaire": data,
        "page": data["pages"][0],
        "item": _items(data)[0],
        "option": _items(data)[2]["options"][0],
        "condition": _items(data)[1]["show_if"][0],
        "tags": _items(data)[0].setdefault("tags", {}),
    }[where]
    target["colour"] = "red"
    with pytest.raises(ValidationError, match="colour"):
        Questionnaire.model_validate(data)


def test_duplicate_item_ids_are_rejected() -> None:
    data = _base()
    _items(data)[2]["id"] = "A1"
    with pytest.raises(ValidationError, match="duplicate item id"):
        Questionnaire.model_validate(data)


def test_load_file_names_the_file(tmp_path: Path) -> None:
    data = _base()
    _items(data)[0]["type"] = "slider"
    bad = tmp_path / "broken.yaml"
    bad.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(QuestionnaireError, match=r"broken\.yaml"):
        load_file(bad)


def test_unquoted_yes_in_show_if_is_not_silently_accepted(tmp_path: Path) -> None:
    # YAML 1.1 reads a bare `yes` as the boolean true: the file must fail loudly rather than never show the item.
    path = tmp_path / "bare_yes.yaml"
    path.write_text(BASE.replace('in: ["yes"]', "in: [yes]"), encoding="utf-8")
    with pytest.raises(QuestionnaireError):
        load_file(path)


def test_a_role_may_be_used_once() -> None:
    data = _base()
    _items(data)[1]["role"] = "overall"
    Questionnaire.model_validate(data)
    _items(data).append({"id": "A4", "type": "scale5", "role": "overall", "text": {"vi": "Nhìn chung"}})
    with pytest.raises(ValidationError, match="role overall is used by both A2 and A4"):
        Questionnaire.model_validate(data)


def test_role_needs_a_matching_type() -> None:
    data = _base()
    _items(data)[2]["role"] = "overall"  # a single-choice item cannot be the overall satisfaction item
    with pytest.raises(ValidationError, match="role overall needs type scale5"):
        Questionnaire.model_validate(data)


def test_translation_in_an_undeclared_language_is_rejected() -> None:
    data = _base()
    _items(data)[0]["text"]["eng"] = "typo for en"
    with pytest.raises(ValidationError, match="not in languages"):
        Questionnaire.model_validate(data)
    data = _base()
    data["languages"] = ["vi", "en", "tha"]
    _items(data)[0]["text"]["tha"] = "câu hỏi thử (made-up test language)"
    assert Questionnaire.model_validate(data).items[0].text.get("tha").startswith("câu hỏi thử")
    assert Questionnaire.model_validate(data).items[1].text.get("tha") == "Ông/Bà hài lòng ở mức nào?"  # falls back to vi


def test_show_if_on_a_number_item_is_rejected() -> None:
    data = _base()
    _items(data).insert(0, {"id": "N0", "type": "number", "text": {"vi": "Số lần"}})
    _items(data)[2]["show_if"] = [{"item": "N0", "in": ["1"]}]
    with pytest.raises(ValidationError, match="only refer to a choice item"):
        Questionnaire.model_validate(data)
