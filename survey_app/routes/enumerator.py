"""The enumerator's tablet app under /enumerator/: one page (the cached app shell) with today's
assignments and the questionnaires in interviewer wording, the service worker, and the API token."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse, JSONResponse, Response
from sqlalchemy import func, select

from ..deps import CurrentUser, LanguageDep, SessionDep, SettingsDep, require_roles
from ..models import Interview, SurveyRound
from ..questionnaire import Item, Questionnaire
from ..services import fieldwork, interviews
from ..services import questionnaires as q_service
from .csrf import check_same_origin

router = APIRouter(prefix="/enumerator", tags=["enumerator"])
guard = Depends(require_roles("enumerator", "admin"))


def _interviewer_wording(questionnaire: Questionnaire) -> Questionnaire:
    """The same questionnaire with the interviewer's wording where it differs from the self-completed one."""
    def swap(item: Item) -> Item:
        return item.model_copy(update={"text": item.interviewer_text}) if item.interviewer_text else item

    pages = [page.model_copy(update={"items": [swap(i) for i in page.items]}) for page in questionnaire.pages]
    return questionnaire.model_copy(update={"pages": pages})


@router.get("/", name="enumerator.app", dependencies=[guard])
def app_shell(request: Request, session: SessionDep, user: CurrentUser, lang: LanguageDep) -> Response:
    assignments = fieldwork.assignments_for(session, enumerator=user)
    forms: dict[int, dict[str, Any]] = {}
    rows = []
    for a in assignments:
        survey_round = session.get(SurveyRound, a.sample_village.round_id)
        assert survey_round is not None
        version = q_service.current_for_sector(session, sector=survey_round.sector)
        if version is None:
            continue
        if version.id not in forms:
            forms[version.id] = {"version": version, "questionnaire": _interviewer_wording(q_service.parsed(version))}
        done = session.scalar(select(func.count()).where(Interview.assignment_id == a.id,
                                                         Interview.outcome == "completed")) or 0
        rows.append({"assignment": a, "round": survey_round, "version": version, "done": done})
    templates = request.app.state.templates
    response: Response = templates.TemplateResponse(
        request, "enumerator/app.html",
        {"lang": lang, "user": user, "rows": rows, "forms": list(forms.values()), "raw": {}, "errors": {}},
    )
    response.headers["Cache-Control"] = "no-cache"
    # Location is asked only on this page, and only after the respondent consents (see app.js).
    response.headers["Permissions-Policy"] = "camera=(), microphone=(), geolocation=(self)"
    return response


@router.post("/token", name="enumerator.token", dependencies=[guard, Depends(check_same_origin)])
def token(session: SessionDep, user: CurrentUser) -> JSONResponse:
    """A bearer token for the offline app (shown once; the server keeps only its hash)."""
    plain, row = interviews.issue_token(session, user=user)
    session.commit()
    return JSONResponse({"token": plain, "user": user.username, "expires_at": row.expires_at.isoformat()},
                        headers={"Cache-Control": "no-store"})


@router.get("/sw.js", name="enumerator.service_worker")
def service_worker(settings: SettingsDep) -> FileResponse:
    # Served from /enumerator/ so that its scope covers the app pages.
    return FileResponse(settings.static_dir / "js" / "enumerator" / "sw.js", media_type="text/javascript",
                        headers={"Cache-Control": "no-cache", "Service-Worker-Allowed": "/enumerator/"})

