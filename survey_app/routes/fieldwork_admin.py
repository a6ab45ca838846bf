"""Supervisors (admin): sampling plans, assignments, progress, paper entry (with double entry and the
comparison screen) and back-checks."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import func, select

from ..deps import CurrentUser, LanguageDep, SessionDep, require_roles
from ..errors import AppError, NotFound, ValidationFailed
from ..i18n import N_, gettext
from ..models import BackCheck, PaperEntry, SampleVillage, SurveyRound, User, Village
from ..questionnaire import SECTOR_LABELS
from ..services import fieldwork, fieldwork_lists, interviews, keyset, sampling, submissions
from ..services import questionnaires as q_service
from . import paging
from .csrf import check_same_origin
from .forms import posted_form

router = APIRouter(prefix="/admin/fieldwork", tags=["fieldwork"], dependencies=[Depends(require_roles("admin"))])
same_origin = [Depends(check_same_origin)]


def _render(request: Request, template: str, context: dict[str, Any], status: int = 200) -> Response:
    templates = request.app.state.templates
    return templates.TemplateResponse(request, template, context, status_code=status)  # type: ignore[no-any-return]


def _round(session: SessionDep, round_id: int) -> SurveyRound:
    survey_round = session.get(SurveyRound, round_id)
    if survey_round is None:
        raise NotFound()
    return survey_round


def _sample_village(session: SessionDep, survey_round: SurveyRound, sv_id: int) -> SampleVillage:
    sv = session.get(SampleVillage, sv_id)
    if sv is None or sv.round_id != survey_round.id:
        raise NotFound()
    return sv


def _rounds_page(request: Request, session: SessionDep, user: User, lang: str, *, error: AppError | None = None,
                 imported: sampling.ImportResult | None = None, status: int = 200) -> Response:
    rounds = list(session.scalars(select(SurveyRound).order_by(SurveyRound.id.desc())))
    villages = session.scalar(select(func.count()).select_from(Village)) or 0
    return _render(request, "fieldwork/rounds.html", {
        "lang": lang, "user": user, "rounds": rounds, "village_count": villages,
        "error": error.translated(lang) if error else None, "imported": imported.shown(lang) if imported else None,
        "sectors": SECTOR_LABELS}, status)


@router.get("", name="fieldwork.rounds")
def rounds(request: Request, session: SessionDep, user: CurrentUser, lang: LanguageDep) -> Response:
    return _rounds_page(request, session, user, lang)


@router.post("/villages", name="fieldwork.villages_import", dependencies=same_origin)
async def villages_import(
    request: Request, session: SessionDep, user: CurrentUser, lang: LanguageDep, file: UploadFile = File(...)
) -> Response:
    content = await file.read()  # read before the first query (see routes/public.py on SQLite locks)
    try:
        rows = sampling.read_rows(file.filename or "", content)
        result = sampling.import_villages(session, rows=rows, actor=user)
    except ValidationFailed as exc:
        session.rollback()
        return _rounds_page(request, session, user, lang, error=exc, status=422)
    session.commit()
    return _rounds_page(request, session, user, lang, imported=result, status=422 if result.errors else 200)


@router.post("/rounds", name="fieldwork.rounds_create", dependencies=same_origin)
def rounds_create(
    request: Request, session: SessionDep, user: CurrentUser, lang: LanguageDep,
    name: str = Form("", max_length=200), sector: str = Form("", max_length=30), seed: str = Form("", max_length=60),
    communes_ward: int = Form(0, ge=0, le=500), communes_rural: int = Form(0, ge=0, le=500),
    communes_special: int = Form(0, ge=0, le=50), villages_per_commune: int = Form(2, ge=1, le=50),
    interviews_per_village: int = Form(10, ge=1, le=500), certainty: str = Form("", max_length=500),
    replacements: int = Form(2, ge=0, le=20), double_entry: bool = Form(False), backcheck_percent: float = Form(10),
) -> Response:
    wanted = {"Phường": communes_ward, "Xã": communes_rural, "Đặc khu": communes_special}
    params = sampling.PlanParameters(
        name=name, sector=sector, seed=seed.strip() or name.strip(),
        communes_per_stratum={k: v for k, v in wanted.items() if v > 0}, villages_per_commune=villages_per_commune,
        interviews_per_village=interviews_per_village,
        certainty_communes=[c.strip() for c in certainty.replace(";", ",").split(",") if c.strip()],
        replacements_per_commune=replacements, double_entry=double_entry, backcheck_rate=backcheck_percent / 100,
    )
    try:
        if not params.communes_per_stratum:
            raise ValidationFailed(N_("Vui lòng nhập số xã/phường cần chọn ở ít nhất một tầng."))
        survey_round = sampling.create_plan(session, params=params, actor=user)
    except ValidationFailed as exc:
        session.rollback()
        return _rounds_page(request, session, user, lang, error=exc, status=422)
    session.commit()
    return RedirectResponse(str(request.url_for("fieldwork.round", round_id=survey_round.id)), 303)


@router.get("/rounds/{round_id}", name="fieldwork.round")
def round_detail(request: Request, round_id: int, session: SessionDep, user: CurrentUser, lang: LanguageDep,
                 commune: str = "", after: str = "", thu_hoi: str = "") -> Response:
    return _round_page(request, round_id, session, user, lang, commune=commune, after=after, revoked=thu_hoi[:80])


def _round_page(request: Request, round_id: int, session: SessionDep, user: User, lang: str,
                error: AppError | None = None, commune: str = "", after: str = "", revoked: str = "") -> Response:
    survey_round = _round(session, round_id)
    communes = fieldwork_lists.sample_communes(session, round_id=round_id)
    chosen = next((c for c in communes if str(c.id) == commune), None)
    page = fieldwork_lists.page_sample_villages(
        session, round_id=round_id, sample_commune_id=chosen.id if chosen else (-1 if commune else None),
        after=keyset.parse_int(after))
    # One list for every row's enumerator field (a <datalist>), not a <select> of all enumerators per village.
    enumerators = list(session.scalars(select(User).where(User.role == "enumerator", User.active.is_(True))
                                       .order_by(User.username)))
    return _render(request, "fieldwork/round.html", {
        "lang": lang, "user": user, "round": survey_round, "villages": page.rows, "enumerators": enumerators,
        "sample_communes": communes, "filter_commune": commune,
        "next_url": paging.next_url(request, "fieldwork.round", page, param="after", drop=("thu_hoi",),
                                    round_id=round_id),
        "first_url": paging.first_url(request, "fieldwork.round", param="after", drop=("thu_hoi",), round_id=round_id),
        "revoked": revoked,
        "progress": fieldwork.progress(session, survey_round=survey_round), "sector": SECTOR_LABELS[survey_round.sector],
        "error": error.translated(lang) if error else None}, 422 if error else 200)


@router.post("/rounds/{round_id}/assign", name="fieldwork.assign", dependencies=same_origin)
def assign(request: Request, round_id: int, session: SessionDep, user: CurrentUser, lang: LanguageDep,
           sample_village_id: int = Form(0), enumerator: str = Form("", max_length=80),
           target: int = Form(10)) -> Response:
    survey_round = _round(session, round_id)
    sv = _sample_village(session, survey_round, sample_village_id)
    person = session.scalar(select(User).where(User.username == enumerator))
    try:
        if person is None:
            raise ValidationFailed(N_("Không tìm thấy điều tra viên."))
        fieldwork.assign(session, actor=user, sample_village=sv, enumerator=person, target=target)
    except ValidationFailed as exc:
        session.rollback()
        return _round_page(request, round_id, session, user, lang, error=exc)
    session.commit()
    return RedirectResponse(str(request.url_for("fieldwork.round", round_id=round_id)), 303)


@router.post("/rounds/{round_id}/villages/{sv_id}/replace", name="fieldwork.replace", dependencies=same_origin)
def replace(request: Request, round_id: int, sv_id: int, session: SessionDep, user: CurrentUser,
            lang: LanguageDep) -> Response:
    survey_round = _round(session, round_id)
    try:
        fieldwork.replace_village(session, actor=user, sample_village=_sample_village(session, survey_round, sv_id))
    except ValidationFailed as exc:
        session.rollback()
        return _round_page(request, round_id, session, user, lang, error=exc)
    session.commit()
    return RedirectResponse(str(request.url_for("fieldwork.round", round_id=round_id)), 303)


@router.post("/rounds/{round_id}/villages/{sv_id}/issued", name="fieldwork.issued", dependencies=same_origin)
def issued(request: Request, round_id: int, sv_id: int, session: SessionDep, user: CurrentUser, lang: LanguageDep,
           count: int = Form(0)) -> Response:
    survey_round = _round(session, round_id)
    try:
        fieldwork.set_issued(session, actor=user, sample_village=_sample_village(session, survey_round, sv_id),
                             issued=count)
    except ValidationFailed as exc:
        session.rollback()
        return _round_page(request, round_id, session, user, lang, error=exc)
    session.commit()
    return RedirectResponse(str(request.url_for("fieldwork.round", round_id=round_id)), 303)


@router.post("/rounds/{round_id}/revoke", name="fieldwork.tokens_revoke", dependencies=same_origin)
def tokens_revoke(request: Request, round_id: int, session: SessionDep, user: CurrentUser, lang: LanguageDep,
                  enumerator: str = Form("", max_length=80)) -> Response:
    """A lost tablet: one field naming the enumerator (not a button per enumerator, which grows with the team)."""
    _round(session, round_id)
    person = session.scalar(select(User).where(User.username == enumerator.strip(), User.role == "enumerator"))
    if person is None:
        return _round_page(request, round_id, session, user, lang,
                           error=ValidationFailed(N_("Không tìm thấy điều tra viên “{username}”."), username=enumerator))
    interviews.revoke_tokens(session, actor=user, user=person)
    session.commit()
    target = request.url_for("fieldwork.round", round_id=round_id).include_query_params(thu_hoi=person.username)
    return RedirectResponse(str(target), 303)


# --- paper entry -----------------------------------------------------------------------------------------
def _paper_page(request: Request, session: SessionDep, user: User, lang: str, survey_round: SurveyRound, *,
                validated: submissions.ValidatedAnswers | None = None, notice: str | None = None,
                chosen: dict[str, str] | None = None, status: int = 200) -> Response:
    version = q_service.current_for_sector(session, sector=survey_round.sector)
    if version is None:
        raise NotFound(N_("Chưa có bảng hỏi cho lĩnh vực này."))
    villages = list(session.scalars(select(SampleVillage).where(
        SampleVillage.round_id == survey_round.id, SampleVillage.status.in_(("selected", "active")))))
    return _render(request, "fieldwork/paper.html", {
        "lang": lang, "user": user, "round": survey_round, "version": version, "villages": villages,
        "questionnaire": q_service.parsed(version), "raw": validated.raw if validated else {},
        "errors": validated.errors if validated else {}, "notice": notice, "chosen": chosen or {},
        "done": request.query_params.get("done"), "sheet": request.query_params.get("sheet", "")}, status)


@router.get("/rounds/{round_id}/paper", name="fieldwork.paper_form")
def paper_form(request: Request, round_id: int, session: SessionDep, user: CurrentUser, lang: LanguageDep) -> Response:
    return _paper_page(request, session, user, lang, _round(session, round_id))


@router.post("/rounds/{round_id}/paper", name="fieldwork.paper_submit", dependencies=same_origin)
async def paper_submit(request: Request, round_id: int, session: SessionDep, user: CurrentUser,
                       lang: LanguageDep) -> Response:
    form = await posted_form(request)
    survey_round = _round(session, round_id)
    version = q_service.current_for_sector(session, sector=survey_round.sector)
    if version is None:
        raise NotFound()
    validated = submissions.validate_answers(q_service.parsed(version), form)
    chosen = {"sheet_code": (form.get("sheet_code") or [""])[0], "sample_village_id": (form.get("sample_village_id") or [""])[0]}
    if not validated.ok:
        return _paper_page(request, session, user, lang, survey_round, validated=validated, chosen=chosen, status=422,
                           notice=gettext(N_("Phiếu còn câu cần sửa. Vui lòng xem các câu được đánh dấu."), lang))
    try:
        sv_id = int(chosen["sample_village_id"] or 0)
        sv = session.get(SampleVillage, sv_id)
        if sv is None:
            raise ValidationFailed(N_("Vui lòng chọn thôn/bản."))
        outcome = interviews.enter_paper(session, actor=user, survey_round=survey_round, sample_village=sv,
                                         sheet_code=chosen["sheet_code"], validated=validated, version_id=version.id)
    except ValidationFailed as exc:
        session.rollback()
        return _paper_page(request, session, user, lang, survey_round, validated=validated, chosen=chosen, status=422,
                           notice=exc.translated(lang))
    session.commit()
    done = "stored" if outcome.response else ("differ" if outcome.differences else "first")
    target = request.url_for("fieldwork.paper_form", round_id=round_id).include_query_params(
        done=done, sheet=outcome.entry.sheet_code)
    return RedirectResponse(str(target), 303)


@router.get("/rounds/{round_id}/paper/compare", name="fieldwork.paper_compare")
def paper_compare(request: Request, round_id: int, session: SessionDep, user: CurrentUser, lang: LanguageDep,
                  after: str = "") -> Response:
    return _compare_page(request, round_id, session, user, lang, after=after)


def _compare_page(request: Request, round_id: int, session: SessionDep, user: User, lang: str,
                  error: AppError | None = None, after: str = "") -> Response:
    survey_round = _round(session, round_id)
    page = fieldwork_lists.page_comparisons(session, round_id=round_id, after=keyset.parse_text(after, max_length=40))
    pairs = page.rows
    questionnaires = {p[0].questionnaire_version_id: q_service.parsed(q_service.get_version(
        session, version_id=p[0].questionnaire_version_id)) for p in pairs}  # type: ignore[arg-type]
    return _render(request, "fieldwork/compare.html", {
        "lang": lang, "user": user, "round": survey_round, "pairs": pairs, "questionnaires": questionnaires,
        "next_url": paging.next_url(request, "fieldwork.paper_compare", page, param="after", round_id=round_id),
        "first_url": paging.first_url(request, "fieldwork.paper_compare", param="after", round_id=round_id),
        "error": error.translated(lang) if error else None}, 422 if error else 200)


def _as_form(values: dict[str, Any]) -> dict[str, list[str]]:
    return {k: [str(x) for x in (v if isinstance(v, list) else [v])] for k, v in values.items() if v is not None}


@router.post("/rounds/{round_id}/paper/compare/{sheet_code}", name="fieldwork.paper_resolve", dependencies=same_origin)
async def paper_resolve(request: Request, round_id: int, sheet_code: str, session: SessionDep, user: CurrentUser,
                        lang: LanguageDep) -> Response:
    form = await posted_form(request)
    survey_round = _round(session, round_id)
    entries = list(session.scalars(select(PaperEntry).where(
        PaperEntry.round_id == round_id, PaperEntry.sheet_code == sheet_code).order_by(PaperEntry.entry_no)))
    if len(entries) != 2:
        raise NotFound()
    first, second = entries
    merged = {**first.answers, **first.texts}
    for item_id in interviews.compare_entries(first, second):
        pick = (form.get(f"pick_{item_id}") or [""])[0]
        if pick not in ("1", "2"):
            return _compare_page(request, round_id, session, user, lang, error=ValidationFailed(
                N_("Phiếu {sheet_code}: vui lòng chọn giá trị đúng cho câu {item}."), sheet_code=sheet_code, item=item_id))
        source = first if pick == "1" else second
        merged.pop(item_id, None)
        value = {**source.answers, **source.texts}.get(item_id)
        if value is not None:
            merged[item_id] = value
    version = q_service.get_version(session, version_id=first.questionnaire_version_id)
    assert version is not None
    validated = submissions.validate_answers(q_service.parsed(version), _as_form(merged))
    try:
        if not validated.ok:
            raise ValidationFailed(N_("Phiếu {sheet_code}: các giá trị đã chọn chưa hợp lệ ({items})."), sheet_code=sheet_code,
                                   items=", ".join(validated.errors))
        interviews.resolve_paper(session, actor=user, survey_round=survey_round, sheet_code=sheet_code,
                                 validated=validated)
    except ValidationFailed as exc:
        session.rollback()
        return _compare_page(request, round_id, session, user, lang, error=exc)
    session.commit()
    return RedirectResponse(str(request.url_for("fieldwork.paper_compare", round_id=round_id)), 303)


# --- back-checks ----------------------------------------------------------------------------------------
@router.get("/rounds/{round_id}/backchecks", name="fieldwork.backchecks")
def backchecks(request: Request, round_id: int, session: SessionDep, user: CurrentUser, lang: LanguageDep,
               outcome: str = "", after: str = "") -> Response:
    return _backchecks_page(request, round_id, session, user, lang, outcome=outcome, after=after)


def _backchecks_page(request: Request, round_id: int, session: SessionDep, user: User, lang: str,
                     error: AppError | None = None, outcome: str = "", after: str = "") -> Response:
    survey_round = _round(session, round_id)
    page = fieldwork_lists.page_backchecks(
        session, round_id=round_id, outcome=outcome if outcome in fieldwork_lists.BACKCHECK_FILTERS else None,
        after=keyset.parse_int(after))
    rows = []
    for row in page.rows:
        questionnaire = q_service.parsed(row.version)
        items = [questionnaire.item(i) for i in fieldwork.backcheck_items(row.version, row.response)]
        # Not "items": in a template, r.items would be the dict's method (the page failed with any row).
        rows.append({"check": row.check, "response": row.response, "questions": items, "enumerator": row.enumerator})
    return _render(request, "fieldwork/backchecks.html", {
        "lang": lang, "user": user, "round": survey_round, "rows": rows, "outcomes": fieldwork.BACKCHECK_OUTCOMES,
        "summary": fieldwork.backcheck_summary(session, survey_round=survey_round), "filter_outcome": outcome,
        "next_url": paging.next_url(request, "fieldwork.backchecks", page, param="after", round_id=round_id),
        "first_url": paging.first_url(request, "fieldwork.backchecks", param="after", round_id=round_id),
        "error": error.translated(lang) if error else None}, 422 if error else 200)


@router.post("/rounds/{round_id}/backchecks/draw", name="fieldwork.backchecks_draw", dependencies=same_origin)
def backchecks_draw(request: Request, round_id: int, session: SessionDep, user: CurrentUser) -> Response:
    fieldwork.draw_backchecks(session, actor=user, survey_round=_round(session, round_id))
    session.commit()
    return RedirectResponse(str(request.url_for("fieldwork.backchecks", round_id=round_id)), 303)


@router.post("/backchecks/{check_id}", name="fieldwork.backcheck_record", dependencies=same_origin)
async def backcheck_record(request: Request, check_id: int, session: SessionDep, user: CurrentUser,
                           lang: LanguageDep) -> Response:
    form = await posted_form(request)
    check = session.get(BackCheck, check_id)
    if check is None:
        raise NotFound()
    answers = {k[2:]: v[0] for k, v in form.items() if k.startswith("a_") and v}
    try:
        fieldwork.record_backcheck(session, actor=user, check=check, outcome=(form.get("outcome") or [""])[0],
                                   answers=answers, note=(form.get("note") or [""])[0])
    except ValidationFailed as exc:
        session.rollback()
        return _backchecks_page(request, check.round_id, session, user, lang, error=exc)
    session.commit()
    return RedirectResponse(str(request.url_for("fieldwork.backchecks", round_id=check.round_id)), 303)
