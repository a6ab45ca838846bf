"""The questionnaire file format: a Pydantic model, loading, validation and content hashing.

Questionnaires are data (``questionnaires/*.yaml``). Skip logic is structured data evaluated by
:func:`is_visible`; nothing in a questionnaire is ever evaluated as code. No web imports here.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

LANG_PATTERN = r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$"
ITEM_ID_PATTERN = r"^[A-Za-z][A-Za-z0-9_]{0,39}$"
NA_VALUE = "na"  # "Không áp dụng / Không biết": excluded from satisfaction denominators


class Sector(StrEnum):
    health = "health"
    primary_education = "primary_education"
    one_stop = "one_stop"
    land_certificate = "land_certificate"


SECTOR_LABELS: dict[str, dict[str, str]] = {
    "health": {"vi": "Y tế công lập", "en": "Public health care"},
    "primary_education": {"vi": "Giáo dục tiểu học công lập", "en": "Public primary education"},
    "one_stop": {"vi": "Bộ phận Một cửa", "en": "One-stop desks"},
    "land_certificate": {"vi": "Giấy chứng nhận quyền sử dụng đất", "en": "Land-use-right certificates"},
}


class SipasElement(StrEnum):
    access = "access"  # Tiếp cận dịch vụ
    procedure = "procedure"  # Thủ tục hành chính
    civil_servant = "civil_servant"  # Công chức trực tiếp giải quyết công việc
    result = "result"  # Kết quả cung ứng dịch vụ
    feedback = "feedback"  # Tiếp nhận, giải quyết góp ý, phản ánh, kiến nghị


SIPAS_LABELS: dict[str, dict[str, str]] = {
    "access": {"vi": "Tiếp cận dịch vụ", "en": "Access to the service"},
    "procedure": {"vi": "Thủ tục hành chính", "en": "Administrative procedure"},
    "civil_servant": {"vi": "Công chức trực tiếp giải quyết công việc", "en": "Civil servants"},
    "result": {"vi": "Kết quả cung ứng dịch vụ", "en": "Service result"},
    "feedback": {
        "vi": "Tiếp nhận, giải quyết góp ý, phản ánh, kiến nghị",
        "en": "Handling of feedback and complaints",
    },
}


class ItemType(StrEnum):
    scale5 = "scale5"  # 1 Rất không hài lòng … 5 Rất hài lòng (+ optional "na")
    single = "single"
    multi = "multi"
    yesno = "yesno"
    number = "number"
    text = "text"


class ItemRole(StrEnum):
    """What later stages use an item for (weighting, routing of comments, headline index)."""

    overall = "overall"
    comment = "comment"
    sex = "sex"
    age_group = "age_group"
    ethnicity = "ethnicity"
    residence = "residence"
    used_service = "used_service"
    procedure_domain = "procedure_domain"


ROLE_TYPES: dict[str, tuple[str, ...]] = {
    "overall": ("scale5",),
    "comment": ("text",),
    "sex": ("single",),
    "age_group": ("single",),
    "ethnicity": ("single",),
    "residence": ("single",),
    "used_service": ("yesno",),
    "procedure_domain": ("single",),
}


class LocalText(BaseModel):
    """A text in several languages; Vietnamese is required and is the fallback."""

    model_config = ConfigDict(extra="allow", frozen=True)

    vi: Annotated[str, Field(min_length=1)]
    en: str | None = None

    @model_validator(mode="after")
    def _check_extra_languages(self) -> LocalText:
        for key, value in (self.model_extra or {}).items():
            if not isinstance(value, str) or not value:
                raise ValueError(f"translation '{key}' must be a non-empty string")
        return self

    def get(self, lang: str) -> str:
        if lang == "vi":
            return self.vi
        if lang == "en" and self.en:
            return self.en
        extra = (self.model_extra or {}).get(lang)
        return extra if isinstance(extra, str) and extra else self.vi

    def languages(self) -> set[str]:
        langs = {"vi"} | set(self.model_extra or {})
        if self.en:
            langs.add("en")
        return langs


class Option(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    value: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z0-9_.+<>=-]+$")]
    label: LocalText


class Condition(BaseModel):
    """Show the item only if the answer to ``item`` is (or, for multi, contains) one of ``in``."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    item: Annotated[str, Field(pattern=ITEM_ID_PATTERN)]
    in_: Annotated[list[str], Field(alias="in", min_length=1)]


class Tags(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    sipas: SipasElement | None = None
    papi: str | None = Field(default=None, description="PAPI axis/component, e.g. '6.1', 'D4.2'")
    agency: str | None = Field(default=None, description="Responsible agency, e.g. 'Sở Y tế'")


class Item(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=ITEM_ID_PATTERN)]
    type: ItemType
    text: LocalText
    interviewer_text: LocalText | None = None
    help: LocalText | None = None
    required: bool = True
    allow_na: bool = Field(default=False, description="scale5 only: offer 'Không áp dụng / Không biết'")
    options: list[Option] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    integer: bool = True
    max_length: int = Field(default=1000, ge=1, le=5000)
    show_if: list[Condition] = Field(default_factory=list, description="all conditions must hold")
    role: ItemRole | None = None
    tags: Tags = Field(default_factory=Tags)
    source: str | None = None
    verified: bool = True

    @model_validator(mode="after")
    def _check_type(self) -> Item:
        if self.type in (ItemType.single, ItemType.multi):
            if len(self.options) < 2:
                raise ValueError(f"item {self.id}: {self.type} needs at least two options")
            values = [o.value for o in self.options]
            if len(set(values)) != len(values):
                raise ValueError(f"item {self.id}: option values must be unique")
        elif self.options:
            raise ValueError(f"item {self.id}: options are only allowed for single and multi items")
        if self.allow_na and self.type != ItemType.scale5:
            raise ValueError(f"item {self.id}: allow_na is only for scale5 items")
        if self.type != ItemType.number and (self.min is not None or self.max is not None):
            raise ValueError(f"item {self.id}: min/max are only for number items")
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"item {self.id}: min is greater than max")
        return self

    def allowed_values(self) -> list[str]:
        """The stored codes this item accepts (for scale5, yesno, single and multi)."""
        if self.type == ItemType.scale5:
            return ["1", "2", "3", "4", "5"] + ([NA_VALUE] if self.allow_na else [])
        if self.type == ItemType.yesno:
            return ["yes", "no"]
        return [o.value for o in self.options]


class Page(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=ITEM_ID_PATTERN)]
    title: LocalText
    items: Annotated[list[Item], Field(min_length=1)]


class Questionnaire(BaseModel):
    """A versioned instrument. Once published, a version's content never changes."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{1,39}$")]
    version: Annotated[int, Field(ge=1)]
    sector: Sector
    title: LocalText
    intro: LocalText | None = None
    respondent: LocalText | None = Field(default=None, description="who answers, e.g. patients and relatives")
    languages: list[Annotated[str, Field(pattern=LANG_PATTERN)]] = Field(default_factory=lambda: ["vi", "en"])
    estimated_minutes: Annotated[float, Field(gt=0, le=30)] = 3
    pages: Annotated[list[Page], Field(min_length=1)]

    @field_validator("languages")
    @classmethod
    def _vietnamese_first(cls, value: list[str]) -> list[str]:
        if not value or value[0] != "vi":
            raise ValueError("languages must start with 'vi'")
        return value

    @model_validator(mode="after")
    def _check_roles_and_languages(self) -> Questionnaire:
        roles: dict[str, str] = {}
        allowed_langs = set(self.languages)
        for item in self.items:
            if item.role is not None:
                if item.role.value in roles:
                    raise ValueError(f"role {item.role.value} is used by both {roles[item.role.value]} and {item.id}")
                if item.type.value not in ROLE_TYPES[item.role.value]:
                    raise ValueError(f"item {item.id}: role {item.role.value} needs type {ROLE_TYPES[item.role.value][0]}")
                roles[item.role.value] = item.id
            texts = [item.text, item.interviewer_text, item.help, *(o.label for o in item.options)]
            for text in texts:
                if text is not None and not text.languages() <= allowed_langs:
                    unknown = sorted(text.languages() - allowed_langs)
                    raise ValueError(f"item {item.id}: translation {unknown} is not in languages {self.languages}")
        return self

    @model_validator(mode="after")
    def _check_references(self) -> Questionnaire:
        seen: dict[str, Item] = {}
        page_ids: set[str] = set()
        for page in self.pages:
            if page.id in page_ids:
                raise ValueError(f"duplicate page id {page.id}")
            page_ids.add(page.id)
            for item in page.items:
                if item.id in seen:
                    raise ValueError(f"duplicate item id {item.id}")
                for cond in item.show_if:
                    ref = seen.get(cond.item)
                    if ref is None:
                        raise ValueError(f"item {item.id}: show_if refers to {cond.item}, which is not an earlier item")
                    if ref.type in (ItemType.number, ItemType.text):
                        raise ValueError(f"item {item.id}: show_if can only refer to a choice item, not {cond.item}")
                    allowed = set(ref.allowed_values())
                    if allowed and not set(cond.in_) <= allowed:
                        raise ValueError(f"item {item.id}: show_if values {cond.in_} not allowed for {cond.item}")
                seen[item.id] = item
        return self

    @property
    def items(self) -> list[Item]:
        return [item for page in self.pages for item in page.items]

    def item(self, item_id: str) -> Item:
        for item in self.items:
            if item.id == item_id:
                return item
        raise KeyError(item_id)

    def item_by_role(self, role: ItemRole) -> Item | None:
        return next((i for i in self.items if i.role == role), None)

    def content_hash(self) -> str:
        return content_hash(self)


Answer = str | list[str] | None


def is_visible(item: Item, answers: Mapping[str, Answer]) -> bool:
    """Evaluate an item's structured skip logic against the answers given so far."""
    for cond in item.show_if:
        given = answers.get(cond.item)
        if given is None:
            return False
        values = given if isinstance(given, list) else [given]
        if not set(values) & set(cond.in_):
            return False
    return True


def content_hash(questionnaire: Questionnaire) -> str:
    """SHA-256 of the canonical JSON form: formatting and key order of the YAML do not matter."""
    canonical = json.dumps(
        questionnaire.model_dump(mode="json", by_alias=True), sort_keys=True, ensure_ascii=False, separators=(",", ":")
    )
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class QuestionnaireError(ValueError):
    """A questionnaire file that cannot be loaded; the message names the file and the problem."""


def load_file(path: Path) -> Questionnaire:
    try:
        data: Any = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise QuestionnaireError(f"{path.name}: cannot read YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise QuestionnaireError(f"{path.name}: the top level must be a mapping")
    try:
        return Questionnaire.model_validate(data)
    except ValueError as exc:
        raise QuestionnaireError(f"{path.name}: {exc}") from exc


def load_directory(directory: Path) -> list[Questionnaire]:
    """Load every ``*.yaml`` file; (id, version) must be unique across files."""
    result: list[Questionnaire] = []
    seen: dict[tuple[str, int], str] = {}
    for path in sorted(directory.glob("*.yaml")):
        q = load_file(path)
        key = (q.id, q.version)
        if key in seen:
            raise QuestionnaireError(f"{path.name}: {q.id} version {q.version} is also defined in {seen[key]}")
        seen[key] = path.name
        result.append(q)
    return result


def json_schema() -> dict[str, Any]:
    schema = Questionnaire.model_json_schema(by_alias=True)
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["$id"] = "https://example.invalid/survey-app/questionnaire.schema.json"
    return schema


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


Language = Literal["vi", "en"]
