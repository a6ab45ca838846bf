"""Admin: audio prompts of the current questionnaires — upload a native speaker's recording per prompt;
it replaces the synthetic voice from then on."""

from __future__ import annotations

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import RedirectResponse, Response

from ..deps import CurrentUser, LanguageDep, SessionDep, SettingsDep, require_roles
from ..questionnaire import SECTOR_LABELS, Sector
from ..services import audio, audit
from ..services import questionnaires as q_service
from .csrf import check_same_origin

router = APIRouter(prefix="/admin/audio", tags=["admin"], dependencies=[Depends(require_roles("admin"))])


def _page(
    request: Request, session: SessionDep, settings: SettingsDep, lang: str, user: CurrentUser,
    error: str | None = None, status: int = 200,
) -> Response:
    groups = []
    for sector in Sector:
        version = q_service.current_for_sector(session, sector=sector.value)
        if version is None:
            continue
        prompts = audio.prompts_for(q_service.parsed(version), "vi")
        found = {p.key: audio.find(settings.audio_dir, p.key) for p in prompts}
        groups.append({"sector": SECTOR_LABELS[sector.value]["vi"], "prompts": prompts, "found": found})
    templates = request.app.state.templates
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request, "admin/audio.html", {"lang": lang, "user": user, "groups": groups, "error": error}, status_code=status
    )


@router.get("", name="admin.audio")
def audio_page(request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser) -> Response:
    return _page(request, session, settings, lang, user)


@router.post("", name="admin.audio_upload", dependencies=[Depends(check_same_origin)])
async def upload(
    request: Request, session: SessionDep, settings: SettingsDep, lang: LanguageDep, user: CurrentUser,
    key: str = Form("", max_length=40), recording: UploadFile = File(...),
) -> Response:
    data = await recording.read(audio.MAX_UPLOAD_BYTES + 1)
    try:
        audio.save_upload(settings.audio_dir, key=key, filename=recording.filename or "", data=data)
    except audio.AudioError as exc:
        return _page(request, session, settings, lang, user, error=str(exc), status=422)
    audit.record(session, actor=user, action="audio_uploaded", target_type="audio", target_id=key)
    session.commit()
    return RedirectResponse(str(request.url_for("admin.audio")), status_code=303)
