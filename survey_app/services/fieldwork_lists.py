"""The supervisors' long fieldwork lists, one keyset page at a time: a round's sample villages, its back-checks
and the paper sheets waiting for a double-entry comparison. Each query is an ordered range of an index that
starts with the round (see the models' ``ix_*_round_id_id`` and the unique (round, sheet, entry) key)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload

from ..models import BackCheck, PaperEntry, QuestionnaireVersion, Response, SampleCommune, SampleVillage, User
from . import interviews, keyset
from . import questionnaires as q_service

BACKCHECK_FILTERS = ("pending", "done")


def page_sample_villages(
    session: Session, *, round_id: int, sample_commune_id: int | None = None, after: int | None = None,
    limit: int = keyset.PAGE_SIZE,
) -> keyset.Page[SampleVillage]:
    """In drawing order (id): commune by commune, the selected villages, then the replacements by rank. A
    village keeps its place when it is replaced, so the rows do not move while a supervisor works down them."""
    stmt = (select(SampleVillage)
            .options(joinedload(SampleVillage.village),
                     joinedload(SampleVillage.sample_commune).joinedload(SampleCommune.commune))
            .where(SampleVillage.round_id == round_id).order_by(SampleVillage.id).limit(limit + 1))
    if sample_commune_id is not None:
        stmt = stmt.where(SampleVillage.sample_commune_id == sample_commune_id)
    if after is not None:
        stmt = stmt.where(SampleVillage.id > after)
    return keyset.page_of(list(session.scalars(stmt)), limit=limit, key=lambda v: str(v.id))


def sample_communes(session: Session, *, round_id: int) -> list[SampleCommune]:
    """The round's first-stage communes (a few hundred at most: fixed when the plan is drawn), for the filter."""
    return list(session.scalars(select(SampleCommune).options(joinedload(SampleCommune.commune))
                                .where(SampleCommune.round_id == round_id).order_by(SampleCommune.id)))


@dataclass(frozen=True)
class BackCheckRow:
    check: BackCheck
    response: Response
    version: QuestionnaireVersion
    enumerator: User | None


def page_backchecks(
    session: Session, *, round_id: int, outcome: str | None = None, after: int | None = None,
    limit: int = keyset.PAGE_SIZE,
) -> keyset.Page[BackCheckRow]:
    """In drawing order (id). ``outcome``: "pending" (still to re-contact), "done", or None for all."""
    stmt = select(BackCheck).where(BackCheck.round_id == round_id).order_by(BackCheck.id).limit(limit + 1)
    if outcome == "pending":
        stmt = stmt.where(BackCheck.outcome == "pending")
    elif outcome == "done":
        stmt = stmt.where(BackCheck.outcome != "pending")
    if after is not None:
        stmt = stmt.where(BackCheck.id > after)
    fetched = list(session.scalars(stmt))
    checks = fetched[:limit]
    # One query each for the page's responses and enumerators (not one per row).
    responses = {r.id: r for r in session.scalars(select(Response).where(Response.id.in_([c.response_id for c in checks])))}
    people = {u.id: u for u in session.scalars(select(User).where(User.id.in_({c.enumerator_id for c in checks})))}
    rows = []
    for check in checks:
        response = responses.get(check.response_id)
        if response is None:  # the response was deleted (retention): nothing left to re-contact
            continue
        version = q_service.get_version(session, version_id=response.questionnaire_version_id)
        assert version is not None
        rows.append(BackCheckRow(check, response, version, people.get(check.enumerator_id)))
    # The key comes from the checks read, so a skipped row never ends the list early.
    return keyset.Page(rows, str(checks[-1].id) if len(fetched) > limit else None)


def page_comparisons(
    session: Session, *, round_id: int, after: str | None = None, limit: int = keyset.PAGE_SIZE,
) -> keyset.Page[tuple[PaperEntry, PaperEntry, list[str]]]:
    """Sheets typed twice whose two typings still wait for a supervisor, in sheet-code order."""
    codes_stmt = (select(PaperEntry.sheet_code)
                  .where(PaperEntry.round_id == round_id, PaperEntry.response_id.is_(None))
                  .group_by(PaperEntry.sheet_code).having(func.count() == 2)
                  .order_by(PaperEntry.sheet_code).limit(limit + 1))
    if after is not None:
        codes_stmt = codes_stmt.where(PaperEntry.sheet_code > after)
    codes = list(session.scalars(codes_stmt))
    entries = list(session.scalars(select(PaperEntry).where(
        PaperEntry.round_id == round_id, PaperEntry.response_id.is_(None), PaperEntry.sheet_code.in_(codes[:limit]),
    ).order_by(PaperEntry.sheet_code, PaperEntry.entry_no)))
    pairs: dict[str, list[PaperEntry]] = {}
    for e in entries:
        pairs.setdefault(e.sheet_code, []).append(e)
    rows = [(p[0], p[1], interviews.compare_entries(p[0], p[1])) for p in pairs.values() if len(p) == 2]
    return keyset.Page(rows, codes[limit - 1] if len(codes) > limit else None)
