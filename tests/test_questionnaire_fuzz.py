"""Fuzzing the questionnaire loader: any file either loads or is refused with QuestionnaireError,
naming the file; nothing else escapes (no crash, no evaluation of content)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from survey_app.config import PROJECT_ROOT
from survey_app.questionnaire import Questionnaire, QuestionnaireError, load_file

scalars = st.none() | st.booleans() | st.integers(-5, 5) | st.text(max_size=12) | st.sampled_from(
    ["vi", "en", "scale5", "single", "yesno", "overall", "health", "!!python/object:os.system", "na", "1"]
)
trees = st.recursive(
    scalars,
    lambda children: st.lists(children, max_size=4) | st.dictionaries(
        st.sampled_from(["id", "version", "sector", "title", "pages", "items", "type", "text", "options", "value",
                         "label", "show_if", "item", "in", "role", "vi", "en", "required", "allow_na", "min", "max"]),
        children, max_size=6),
    max_leaves=25,
)
BASE: dict[str, Any] = yaml.safe_load((PROJECT_ROOT / "questionnaires" / "health.yaml").read_text(encoding="utf-8"))


def _check(path: Path) -> None:
    try:
        q = load_file(path)
    except QuestionnaireError as exc:
        assert path.name in str(exc)
    else:
        assert isinstance(q, Questionnaire) and q.content_hash()


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(raw=st.binary(max_size=300) | st.text(max_size=300).map(str.encode))
def test_arbitrary_bytes(raw: bytes, tmp_path: Path) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_bytes(raw)
    _check(path)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(tree=trees)
def test_arbitrary_structures(tree: Any, tmp_path: Path) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(tree, allow_unicode=True), encoding="utf-8")
    _check(path)


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(page=st.integers(0, 3), item=st.integers(0, 5), key=st.sampled_from(
    ["type", "options", "show_if", "role", "min", "max", "allow_na", "text", "id", "required"]), value=trees)
def test_mutations_of_a_real_questionnaire(page: int, item: int, key: str, value: Any, tmp_path: Path) -> None:
    import copy

    data = copy.deepcopy(BASE)
    items = data["pages"][page % len(data["pages"])]["items"]
    items[item % len(items)][key] = value
    path = tmp_path / "fuzz.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    _check(path)


def test_yaml_tags_are_never_constructed(tmp_path: Path) -> None:
    marker = tmp_path / "hacked"
    path = tmp_path / "evil.yaml"
    path.write_text(f'id: !!python/object/apply:os.system ["touch {marker}"]\nversion: 1\n', encoding="utf-8")
    _check(path)
    assert not marker.exists()
