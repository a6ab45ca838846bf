"""Publishing questionnaire files into the database and reading them back.

A published (id, version) is immutable: if the file's content hash differs from the stored one, start-up
is refused with a message that asks for a new version number.
"""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import bindparam, select, update
from sqlalchemy.orm import Session

from ..errors import ConfigurationError
from ..models import QuestionnaireVersion
from ..questionnaire import Questionnaire, load_directory


def sync_questionnaires(session: Session, *, directory: Path) -> list[QuestionnaireVersion]:
    """Publish new versions found in ``directory``; refuse edited published versions."""
    published: list[QuestionnaireVersion] = []
    for q in load_directory(directory):
        digest = q.content_hash()
        row = session.scalar(
            select(QuestionnaireVersion).where(
                QuestionnaireVersion.questionnaire_id == q.id, QuestionnaireVersion.version == q.version
            )
        )
        if row is not None:
            if row.content_hash != digest:
                raise ConfigurationError(
                    f"Bảng hỏi {q.id} phiên bản {q.version} đã được công bố và không được sửa; "
                    f"hãy tăng số phiên bản (version) trong tệp. "
                    f"(questionnaire {q.id} v{q.version} was published with hash {row.content_hash[:12]}, "
                    f"file now hashes to {digest[:12]})"
                )
            continue
        row = QuestionnaireVersion(
            questionnaire_id=q.id,
            version=q.version,
            sector=q.sector.value,
            content_hash=digest,
            definition=q.model_dump(mode="json", by_alias=True),
        )
        session.add(row)
        session.flush()
        published.append(row)
    _mark_current(session)
    return published


def _mark_current(session: Session) -> None:
    """The highest version of each questionnaire is the one served."""
    session.execute(update(QuestionnaireVersion).values(is_current=False))
    latest: dict[str, QuestionnaireVersion] = {}
    for row in session.scalars(select(QuestionnaireVersion)):
        if row.questionnaire_id not in latest or row.version > latest[row.questionnaire_id].version:
            latest[row.questionnaire_id] = row
    for row in latest.values():
        row.is_current = True
    session.flush()


_PARSED: dict[str, Questionnaire] = {}
_HASH_BY_ID: dict[int, str] = {}  # a stored version never changes, so its id names its content


def parsed(row: QuestionnaireVersion) -> Questionnaire:
    """The validated model of a stored version, parsed once per process (keyed by its immutable hash)."""
    cached = _PARSED.get(row.content_hash)
    if cached is None:
        cached = Questionnaire.model_validate(row.definition)
        if len(_PARSED) > 256:
            _PARSED.clear()
        _PARSED[row.content_hash] = cached
    _HASH_BY_ID[row.id] = row.content_hash
    return cached


def parsed_by_id(version_id: int) -> Questionnaire | None:
    """The parsed version if this process has parsed it before (no database access)."""
    content_hash = _HASH_BY_ID.get(version_id)
    return _PARSED.get(content_hash) if content_hash is not None else None


# Built once: both run on every citizen form view and submission, where building a statement costs more than
# running it.
_CURRENT = (select(QuestionnaireVersion)
            .where(QuestionnaireVersion.sector == bindparam("sector"), QuestionnaireVersion.is_current.is_(True))
            .order_by(QuestionnaireVersion.questionnaire_id).limit(1))
_BY_ID = select(QuestionnaireVersion).where(QuestionnaireVersion.id == bindparam("id"))


def current_for_sector(session: Session, *, sector: str) -> QuestionnaireVersion | None:
    return session.scalar(_CURRENT, {"sector": sector})


def get_version(session: Session, *, version_id: int) -> QuestionnaireVersion | None:
    return session.scalar(_BY_ID, {"id": version_id})
