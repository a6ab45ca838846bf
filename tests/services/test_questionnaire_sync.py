import shutil
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from survey_app.config import PROJECT_ROOT
from survey_app.errors import ConfigurationError
from survey_app.services import questionnaires as q_service


def _copy(tmp_path: Path) -> Path:
    target = tmp_path / "q"
    shutil.copytree(PROJECT_ROOT / "questionnaires", target)
    return target


def test_unchanged_files_publish_nothing_new(db_session: Session, tmp_path: Path) -> None:
    assert q_service.sync_questionnaires(db_session, directory=_copy(tmp_path)) == []


def test_editing_a_published_version_is_refused(db_session: Session, tmp_path: Path) -> None:
    directory = _copy(tmp_path)
    path = directory / "health.yaml"
    path.write_text(path.read_text(encoding="utf-8").replace("Ông/Bà", "Anh/Chị", 1), encoding="utf-8")
    with pytest.raises(ConfigurationError, match="health"):
        q_service.sync_questionnaires(db_session, directory=directory)


def test_reformatting_is_not_a_change(db_session: Session, tmp_path: Path) -> None:
    import yaml

    directory = _copy(tmp_path)
    path = directory / "health.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=True, width=60), encoding="utf-8")
    assert q_service.sync_questionnaires(db_session, directory=directory) == []


def test_new_version_is_published_and_becomes_current(db_session: Session, tmp_path: Path) -> None:
    import yaml

    directory = _copy(tmp_path)
    data = yaml.safe_load((directory / "health.yaml").read_text(encoding="utf-8"))
    data["version"] = 2
    data["title"]["vi"] = data["title"]["vi"] + " (2)"
    (directory / "health_v2.yaml").write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    published = q_service.sync_questionnaires(db_session, directory=directory)
    assert [(p.questionnaire_id, p.version) for p in published] == [("health", 2)]
    current = q_service.current_for_sector(db_session, sector="health")
    assert current is not None and current.version == 2
