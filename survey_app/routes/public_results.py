"""Public results page (no login): province and commune indices by sector with CIs and n, small cells
suppressed, method note, no free text, no reception-point rankings. Served from the per-process aggregate
cache, keyed by period, settings and data version."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import Response

from ..deps import LanguageDep, SessionDep, SettingsDep
from ..errors import NotFound
from ..i18n import LANGUAGE_NAMES, supported_languages
from ..services import catalogue, charts, report_periods, report_settings
from ..services import reports as svc

router = APIRouter(tags=["public"])
PUBLIC_SETTINGS = report_settings.ReportSettings()  # unweighted, flagged excluded, min n 30: the publication defaults


@router.get("/ket-qua", name="public.results")
def results(request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, kind: str | None = None,
            year: str | None = None, q: str | None = None) -> Response:
    period = report_periods.parse_period(kind=kind if kind in ("six_month", "annual", "quarter") else None, year=year, q=q)
    province = catalogue.get_province(session, settings.province_code)
    if province is None:
        raise NotFound()
    sectors = list(report_settings.SECTORS)
    ov = svc.overview(session, period=period, previous_period=report_periods.previous(period), settings=PUBLIC_SETTINGS,
                      province_id=province.id, sectors=sectors)
    table = svc.commune_table(session, period=period, settings=PUBLIC_SETTINGS, province_id=province.id,
                              sectors=sectors, commune_ids=None)
    bars = [charts.Bar(r.label.translated(lang), r.overall.estimate if r.overall.shown else None,
                       r.overall.ci_low if r.overall.shown else None, r.overall.ci_high if r.overall.shown else None,
                       r.target) for r in ov.rows]
    languages = [(code, LANGUAGE_NAMES[code], f"?{request.url.include_query_params(lang=code).query}")
                 for code in supported_languages() if code != lang]
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(request, "public/results.html", {
        "lang": lang, "languages": languages, "province": province, "period": period, "ov": ov, "table": table,
        "terms": report_settings, "charts": charts, "bars": bars, "settings": PUBLIC_SETTINGS,
        "sector_label": report_settings.sector_label, "periods": report_periods})
    response.headers["Cache-Control"] = "public, max-age=300"
    if not request.query_params.get("lang"):
        response.headers["Vary"] = "Cookie"  # the language then comes from the cookie: a shared cache must not mix them
    return response
