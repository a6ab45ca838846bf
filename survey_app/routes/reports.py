"""Reports for departments and communes: overview, commune × sector heat map, sector, commune, item, official
scores, weighting data, and exports. Every view is scoped with accounts.scope_of(user)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi.responses import RedirectResponse, Response, StreamingResponse
from sqlalchemy import select

from ..config import Settings
from ..deps import CurrentUser, LanguageDep, SessionDep, SettingsDep, language_of, require_roles
from ..errors import AppError, Forbidden, Message, NotFound, ValidationFailed
from ..i18n import LANGUAGE_NAMES, N_, supported_languages
from ..models import Commune, User
from ..services import (
    audit,
    catalogue,
    charts,
    keyset,
    report_aggregates,
    report_exports,
    report_imports,
    report_periods,
    report_settings,
)
from ..services import reports as svc
from ..services.accounts import Scope, scope_of
from .csrf import check_same_origin

REPORT_ROLES = ("admin", "reviewer", "commune", "viewer")
router = APIRouter(prefix="/reports", tags=["reports"], dependencies=[Depends(require_roles(*REPORT_ROLES))])
admin_only = [Depends(require_roles("admin")), Depends(check_same_origin)]
LANG_COOKIE_AGE = 365 * 86400


@dataclass(frozen=True)
class Params:
    period: report_periods.Period
    previous: report_periods.Period
    settings: report_settings.ReportSettings
    query: dict[str, Any]

    def qs(self, **extra: Any) -> str:
        data = {**self.period.query(), **self.settings.query(), **extra}
        return urlencode(data, doseq=True)


def report_params(
    kind: str | None = None, year: str | None = None, q: str | None = None, start: str | None = None,
    end: str | None = None, modes: Annotated[list[str] | None, Query()] = None, flagged: str | None = None,
    weighting: str | None = None, min_n: str | None = None, sae: str | None = None,
) -> Params:
    period = report_periods.parse_period(kind=kind, year=year, q=q, start=start, end=end)
    settings = report_settings.parse_settings(modes=modes, flagged=flagged, weighting=weighting, min_n=min_n, sae=sae)
    return Params(period, report_periods.previous(period), settings, {})


ParamsDep = Annotated[Params, Depends(report_params)]


def _province_id(session: SessionDep, settings: Settings) -> int:
    province = catalogue.get_province(session, settings.province_code)
    if province is None:
        raise NotFound()
    return province.id


def _keep_lang(request: Request) -> dict[str, str]:
    """The language asked for in the address, to carry through a redirect."""
    lang = request.query_params.get("lang")
    return {"lang": lang} if lang else {}


def _bar(label: str, e: report_aggregates.Estimate, target: float | None = None) -> charts.Bar:
    if not e.shown:
        return charts.Bar(label, None, target=target)
    return charts.Bar(label, e.estimate, e.ci_low, e.ci_high, target)


def _sectors(scope: Scope) -> list[str]:
    return [s for s in report_settings.SECTORS if scope.sectors is None or s in scope.sectors]


def _render(request: Request, template: str, user: User, params: Params, status: int = 200,
            error: AppError | None = None, **ctx: Any) -> Response:
    templates = request.app.state.templates
    lang = language_of(request)
    # The switch links to this same page in each other language (GET only: a form re-shown after a POST has no
    # address of its own to reload).
    languages = [(code, LANGUAGE_NAMES[code], f"?{request.url.include_query_params(lang=code).query}")
                 for code in supported_languages() if code != lang] if request.method == "GET" else []
    base = {"lang": lang, "languages": languages, "user": user, "p": params, "scope": scope_of(user), "terms": report_settings,
            "charts": charts, "periods": report_periods, "sector_label": report_settings.sector_label,
            "error": error.translated(lang) if error is not None else None}
    response: Response = templates.TemplateResponse(request, template, {**base, **ctx}, status_code=status)
    if request.query_params.get("lang") == lang and request.cookies.get("lang") != lang:
        # Remember the choice, so the report links (which do not carry it) and the other staff pages keep it.
        response.set_cookie("lang", lang, max_age=LANG_COOKIE_AGE, httponly=True, samesite="lax",
                            secure=request.app.state.settings.environment == "production")
    return response


def _computed(request: Request, user: User, params: Params, template: str, make: Any, **ctx: Any) -> Response:
    """Render, or re-render the page with the Vietnamese reason when the settings cannot be applied (422)."""
    try:
        data = make()
    except report_settings.ReportDataError as exc:
        return _render(request, template, user, params, status=422, error=exc, **ctx)
    return _render(request, template, user, params, **ctx, **data)


@router.get("", name="reports.overview")
def overview(request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser, params: ParamsDep,
             lang: LanguageDep) -> Response:
    scope = scope_of(user)
    if scope.commune_ids is not None:  # commune officers (and commune-scoped reviewers) start at their commune
        commune = session.get(Commune, min(scope.commune_ids)) if scope.commune_ids else None
        if commune is None:
            return RedirectResponse(f"{request.url_for('reports.communes')}?{params.qs(**_keep_lang(request))}",
                                    status_code=303)
        url = request.url_for("reports.commune", commune_code=commune.code)
        return RedirectResponse(f"{url}?{params.qs(**_keep_lang(request))}", status_code=303)
    province_id = _province_id(session, settings)

    def make() -> dict[str, Any]:
        ov = svc.overview(session, period=params.period, previous_period=params.previous, settings=params.settings,
                          province_id=province_id, sectors=_sectors(scope))
        return {"ov": ov, "bars": [_bar(r.label.translated(lang), r.overall, r.target) for r in ov.rows]}

    return _computed(request, user, params, "reports/overview.html", make)


@router.get("/communes", name="reports.communes")
def communes(
    request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser, params: ParamsDep,
    sort: str = "name",
) -> Response:
    scope = scope_of(user)
    province_id = _province_id(session, settings)
    sectors = _sectors(scope)

    def make() -> dict[str, Any]:
        table = svc.commune_table(session, period=params.period, settings=params.settings, province_id=province_id,
                                  sectors=sectors, commune_ids=scope.commune_ids)
        rows = list(table.communes)
        if sort in sectors:
            def key(c: tuple[int, str]) -> float:
                cell = table.cells.get((c[0], sort))
                return cell.value.estimate if cell and cell.value.shown and cell.value.estimate is not None else 999.0
            rows.sort(key=key)
        codes = dict(session.query(Commune.id, Commune.code).filter(Commune.id.in_([c[0] for c in rows])).all())
        heat = [(name, [_heat_cell(table.cells.get((cid, s))) for s in table.sectors]) for cid, name in rows]
        return {"table": table, "rows": rows, "codes": codes, "sort": sort, "heat": heat}

    return _computed(request, user, params, "reports/communes.html", make)


def _heat_cell(cell: svc.Cell | None) -> charts.HeatCell | None:
    if cell is None:
        return None
    v = cell.value
    if not v.shown:
        return charts.HeatCell(None, f"n={v.n}")
    ci = f"{v.ci_low:.1f}–{v.ci_high:.1f}%, " if v.ci_low is not None and v.ci_high is not None else ""
    return charts.HeatCell(v.estimate, f"{ci}n={v.n}")


def _check_sector(scope: Scope, sector: str) -> None:
    if sector not in report_settings.SECTORS:
        raise NotFound()
    if not scope.allows(sector=sector):
        raise Forbidden()


@router.get("/sectors/{sector}", name="reports.sector")
def sector(request: Request, sector: str, session: SessionDep, settings: SettingsDep, user: CurrentUser,
           params: ParamsDep, lang: LanguageDep, before: str = "") -> Response:
    scope = scope_of(user)
    _check_sector(scope, sector)
    province_id = _province_id(session, settings)
    cursor = keyset.parse_time_id(before)  # comments come one keyset page at a time

    def make() -> dict[str, Any]:
        view = svc.sector_view(session, period=params.period, settings=params.settings, province_id=province_id,
                               sector=sector, commune_ids=scope.commune_ids)
        trend = svc.trend(session, period=params.period, settings=params.settings, province_id=province_id, sector=sector)
        notes = keyset.Page[Any]([], None)
        if scope.free_text:
            notes = keyset.page_of(
                svc.comments(session, period=params.period, settings=params.settings, sector=sector,
                             commune_ids=scope.commune_ids, limit=keyset.PAGE_SIZE + 1, before=cursor),
                limit=keyset.PAGE_SIZE, key=lambda c: keyset.time_id(c.submitted_at, c.id))
            audit.record(session, actor=user, action="comments_viewed", target_type="sector", target_id=sector,
                         details={"period": params.period.key, "count": len(notes)})
            session.commit()
        return {"view": view, "trend": trend, "comments": notes.rows, "comments_next": notes.next_key,
                "trend_points": [(label, e.estimate if e.shown else None) for label, e in trend],
                "element_bars": [_bar(label.translated(lang), e) for _, label, e in view.elements]}

    return _computed(request, user, params, "reports/sector.html", make, sector=sector)


@router.get("/communes/{commune_code}", name="reports.commune")
def commune(request: Request, commune_code: str, session: SessionDep, settings: SettingsDep, user: CurrentUser,
            params: ParamsDep) -> Response:
    scope = scope_of(user)
    row = catalogue.get_commune(session, commune_code)
    province_id = _province_id(session, settings)
    if row is None or row.province_id != province_id:
        raise NotFound()
    if not scope.allows(commune_id=row.id):
        raise Forbidden()
    return _computed(request, user, params, "reports/commune.html", lambda: {"view": svc.commune_view(
        session, period=params.period, settings=params.settings, province_id=province_id, commune=row,
        sectors=_sectors(scope))}, commune=row)


@router.get("/sectors/{sector}/items/{item_id}", name="reports.item")
def item(request: Request, sector: str, item_id: str, session: SessionDep, settings: SettingsDep, user: CurrentUser,
         params: ParamsDep, commune: str | None = None) -> Response:
    """Province-wide, or in one commune (``?commune=<code>``); a commune officer only ever sees their communes."""
    scope = scope_of(user)
    _check_sector(scope, sector)
    province_id = _province_id(session, settings)
    row = None
    if commune:
        row = catalogue.get_commune(session, commune)
        if row is None or row.province_id != province_id:
            raise NotFound()
        if not scope.allows(commune_id=row.id):
            raise Forbidden()
    elif scope.commune_ids is not None:
        row = session.scalars(select(Commune).where(Commune.id.in_(scope.commune_ids)).order_by(Commune.name)).first()
        if row is None:
            raise Forbidden()
    return _computed(request, user, params, "reports/item.html", lambda: {"drill": svc.item_drilldown(
        session, period=params.period, settings=params.settings, province_id=province_id, sector=sector,
        item_id=item_id, commune_id=row.id if row is not None else None)}, sector=sector, commune=row)


# ------------------------------------------------------------------------------------ official scores, data
@router.get("/official", name="reports.official")
def official(request: Request, session: SessionDep, user: CurrentUser, params: ParamsDep) -> Response:
    return _render(request, "reports/official.html", user, params, scores=report_imports.official_scores(session),
                   targets=svc.targets(session))


@router.post("/official", name="reports.official_save", dependencies=admin_only)
def official_save(
    request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser, params: ParamsDep,
    index_name: str = Form(""), year: str = Form(""), component: str = Form(""), label: str = Form(""),
    value: str = Form(""), unit: str = Form(""), source: str = Form(""),
) -> Response:
    try:
        report_imports.save_official_score(
            session, province_code=settings.province_code, index_name=index_name, year=year, component=component,
            label=label, value=value, unit=unit, source=source, actor=user.username)
    except ValidationFailed as exc:
        session.rollback()
        return _render(request, "reports/official.html", user, params, status=422, error=exc,
                       scores=report_imports.official_scores(session), targets=svc.targets(session))
    session.commit()
    return RedirectResponse(str(request.url_for("reports.official")), status_code=303)


@router.post("/targets", name="reports.targets_save", dependencies=admin_only)
def targets_save(request: Request, session: SessionDep, user: CurrentUser, params: ParamsDep,
                 sector: str = Form(""), percent: str = Form("")) -> Response:
    try:
        svc.set_target(session, sector=sector, percent=report_imports.parse_number(percent, Message(N_("Chỉ tiêu"))),
                       source=f"Nhập bởi {user.username}")
    except ValidationFailed as exc:
        session.rollback()
        return _render(request, "reports/official.html", user, params, status=422, error=exc,
                       scores=report_imports.official_scores(session), targets=svc.targets(session))
    session.commit()
    return RedirectResponse(str(request.url_for("reports.official")), status_code=303)


@router.get("/data", name="reports.data", dependencies=[Depends(require_roles("admin"))])
def data(request: Request, session: SessionDep, user: CurrentUser, params: ParamsDep) -> Response:
    return _render(request, "reports/data.html", user, params, summary=report_imports.summary(session))


@router.post("/data", name="reports.data_import", dependencies=admin_only)
async def data_import(
    request: Request, session: SessionDep, settings: SettingsDep, user: CurrentUser, params: ParamsDep,
    kind: str = Form(""), upload: UploadFile = File(...),
) -> Response:
    content = await upload.read()
    result = report_imports.import_file(session, kind=kind, filename=upload.filename or "", content=content,
                                        province_code=settings.province_code, is_synthetic=False)
    if result.errors:
        session.rollback()
        return _render(request, "reports/data.html", user, params, status=422, result=result,
                       summary=report_imports.summary(session))
    session.commit()
    return _render(request, "reports/data.html", user, params, result=result, summary=report_imports.summary(session))


# ------------------------------------------------------------------------------------ exports
def _export_scope(user: User, sector: str | None) -> Scope:
    scope = scope_of(user)
    if sector is not None:
        _check_sector(scope, sector)
    return scope


@router.get("/export/tables/{table}.{fmt}", name="reports.export")
def export_table(
    request: Request, table: str, fmt: str, session: SessionDep, settings: SettingsDep, user: CurrentUser,
    params: ParamsDep, sector: str | None = None,
) -> Response:
    if fmt not in ("csv", "xlsx") or table not in report_exports.TABLES:
        raise NotFound()
    scope = _export_scope(user, sector)
    if table == "overview" and scope.commune_ids is not None:
        raise Forbidden()
    if table == "sector" and sector is None:
        raise NotFound()
    province_id = _province_id(session, settings)
    try:
        frame = report_exports.estimate_frame(session, table=table, period=params.period, previous=params.previous,
                                              settings=params.settings, province_id=province_id, scope=scope,
                                              sectors=_sectors(scope), sector=sector)
    except report_settings.ReportDataError as exc:
        raise ValidationFailed(exc.message) from exc
    audit.record(session, actor=user, action="export", target_type=table, target_id=fmt,
                 details={"period": params.period.key, "sector": sector})
    session.commit()
    name = f"{table}_{params.period.start:%Y%m%d}_{params.period.end:%Y%m%d}"
    meta = report_exports.settings_rows(params.period, params.settings)
    if fmt == "csv":
        return Response(report_exports.to_csv(frame), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="{name}.csv"'})
    return Response(report_exports.to_xlsx(frame, meta, report_settings.method_notes(params.settings)),
                    media_type=report_exports.XLSX_TYPE,
                    headers={"Content-Disposition": f'attachment; filename="{name}.xlsx"'})


@router.get("/export/report.{fmt}", name="reports.export_report")
def export_report(
    request: Request, fmt: str, session: SessionDep, settings: SettingsDep, user: CurrentUser, params: ParamsDep,
    sector: str | None = None,
) -> Response:
    if fmt not in ("pdf", "docx"):
        raise NotFound()
    scope = _export_scope(user, sector)
    if scope.commune_ids is not None:
        raise Forbidden()  # the province report; commune officers export their commune tables instead
    province = catalogue.get_province(session, settings.province_code)
    if province is None:
        raise NotFound()
    sectors = [sector] if sector else _sectors(scope)
    try:
        doc = report_exports.build_document(session, period=params.period, previous=params.previous,
                                            settings=params.settings, province=province, sectors=sectors, scope=scope)
    except report_settings.ReportDataError as exc:
        raise ValidationFailed(exc.message) from exc
    audit.record(session, actor=user, action="export", target_type="report", target_id=fmt,
                 details={"period": params.period.key, "sectors": sectors})
    session.commit()
    name = f"bao_cao_hai_long_{params.period.start:%Y%m%d}_{params.period.end:%Y%m%d}.{fmt}"
    body = report_exports.to_pdf(doc) if fmt == "pdf" else report_exports.to_docx(doc)
    media = "application/pdf" if fmt == "pdf" else report_exports.DOCX_TYPE
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{name}"'})


@router.get("/export/responses.{fmt}", name="reports.export_raw",
            dependencies=[Depends(require_roles("admin", "reviewer", "commune"))])
def export_raw(request: Request, fmt: str, session: SessionDep, settings: SettingsDep, user: CurrentUser,
               params: ParamsDep) -> Response:
    if fmt not in ("csv", "sav", "dta"):
        raise NotFound()
    scope = scope_of(user)
    province_id = _province_id(session, settings)
    audit.record(session, actor=user, action="export", target_type="responses", target_id=fmt,
                 details={"period": params.period.key})
    session.commit()
    name = f"phieu_{params.period.start:%Y%m%d}_{params.period.end:%Y%m%d}.{fmt}"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    if fmt == "csv":
        factory = request.app.state.sessionmaker
        stream = report_exports.stream_responses_csv(factory, period=params.period, settings=params.settings,
                                                     province_id=province_id, scope=scope)
        return StreamingResponse(stream, media_type="text/csv; charset=utf-8", headers=headers)
    body = report_exports.to_stat_file(session, fmt=fmt, period=params.period, settings=params.settings,
                                       province_id=province_id, scope=scope)
    return Response(body, media_type="application/octet-stream", headers=headers)
