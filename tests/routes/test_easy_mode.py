"""Low-literacy mode and audio prompts: faces, synthetic voice labelled as such, uploads take precedence."""

from __future__ import annotations

import io
import os
import re
import shutil
import wave
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from survey_app.app import create_app
from survey_app.config import Settings
from survey_app.services import audio
from survey_app.services import questionnaires as q_service
from tests.factories import make_point


def _need_espeak() -> None:
    if shutil.which("espeak-ng") is None:
        if os.environ.get("CI"):
            pytest.fail("espeak-ng is missing but CI is set", pytrace=False)
        pytest.skip("espeak-ng not installed")


@pytest.fixture
def audio_client(settings: Settings, session_factory: sessionmaker[Session], tmp_path: Path) -> Iterator[TestClient]:
    app = create_app(settings.model_copy(update={"audio_dir": tmp_path / "audio"}), session_factory=session_factory)
    with TestClient(app, follow_redirects=False) as c:
        yield c


def test_easy_form_has_faces_for_every_scale_item(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    r = client.get(f"/q/{point.token}/de-dang")
    assert r.status_code == 200
    q = q_service.parsed(q_service.current_for_sector(db_session, sector="health"))  # type: ignore[arg-type]
    scale = [i for i in q.items if i.type == "scale5"]
    assert r.text.count('class="faces"') == len(scale)
    assert r.text.count('<svg class="face"') == 5 * len(scale)
    assert 'name="ui" value="easy"' in r.text and "Rất hài lòng" in r.text
    assert 'class="play"' not in r.text  # no audio built in this settings' directory


def test_easy_errors_rerender_the_easy_form(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    page = client.get(f"/q/{point.token}/de-dang")
    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
    assert ticket
    r = client.post(f"/q/{point.token}", data={"ticket": ticket.group(1), "ui": "easy"})
    assert r.status_code == 422 and 'class="faces"' in r.text and "Vui lòng chọn một câu trả lời." in r.text


def test_synthetic_audio_is_built_served_and_labelled(audio_client: TestClient, db_session: Session, tmp_path: Path) -> None:
    _need_espeak()
    point = make_point(db_session)
    q = q_service.parsed(q_service.current_for_sector(db_session, sector="health"))  # type: ignore[arg-type]
    created, _ = audio.build(q, audio_dir=tmp_path / "audio")
    assert created == len(audio.prompts_for(q, "vi"))
    assert audio.build(q, audio_dir=tmp_path / "audio") == (0, created)  # cached
    page = audio_client.get(f"/q/{point.token}/de-dang")
    assert page.text.count('class="play"') == len(q.items)
    assert "Giọng đọc do máy tổng hợp" in page.text
    src = re.search(r'class="play" data-src="([^"]+)"', page.text)
    assert src
    r = audio_client.get(src.group(1))
    assert r.status_code == 200 and r.headers["content-type"] == "audio/wav" and r.headers["x-synthetic-voice"] == "1"
    with wave.open(io.BytesIO(r.content)) as w:
        assert w.getnchannels() == 1 and w.getnframes() > w.getframerate() * 0.5  # at least half a second of speech


def test_uploaded_recording_takes_precedence(audio_client: TestClient, db_session: Session, tmp_path: Path) -> None:
    point = make_point(db_session)
    q = q_service.parsed(q_service.current_for_sector(db_session, sector="health"))  # type: ignore[arg-type]
    key = audio.prompt_key(q.items[0].text.get("vi"), "vi")
    (tmp_path / "audio" / "synthetic").mkdir(parents=True)
    (tmp_path / "audio" / "synthetic" / f"{key}.wav").write_bytes(b"RIFF-synthetic")
    audio.save_upload(tmp_path / "audio", key=key, filename="cau1.mp3", data=b"ID3-recorded-by-a-native-speaker")
    r = audio_client.get(f"/audio/{key}")
    assert r.headers["content-type"] == "audio/mpeg" and r.headers["x-synthetic-voice"] == "0"
    assert r.content.startswith(b"ID3")
    page = audio_client.get(f"/q/{point.token}/de-dang")
    assert "Giọng đọc do máy tổng hợp" not in page.text  # the only prompt with audio is a real recording


def test_audio_rejects_bad_keys_and_uploads(audio_client: TestClient, tmp_path: Path) -> None:
    assert audio_client.get("/audio/../../etc/passwd").status_code == 404
    assert audio_client.get("/audio/" + "a" * 24).status_code == 404
    with pytest.raises(audio.AudioError, match="Chỉ nhận tệp âm thanh"):
        audio.save_upload(tmp_path, key="a" * 24, filename="x.exe", data=b"MZ")
    with pytest.raises(audio.AudioError, match="2 MB"):
        audio.save_upload(tmp_path, key="a" * 24, filename="x.wav", data=b"")


def test_admin_uploads_a_recording_that_replaces_the_synthetic_voice(
    audio_client: TestClient, db_session: Session, tmp_path: Path
) -> None:
    from sqlalchemy import select

    from survey_app.models import AuditEvent
    from tests.factories import make_user

    q = q_service.parsed(q_service.current_for_sector(db_session, sector="health"))  # type: ignore[arg-type]
    key = audio.prompt_key(q.items[0].text.get("vi"), "vi")
    (tmp_path / "audio" / "synthetic").mkdir(parents=True)
    (tmp_path / "audio" / "synthetic" / f"{key}.wav").write_bytes(b"RIFF-synthetic")
    make_user(db_session)
    audio_client.post("/login", data={"username": "admin1", "password": "mat-khau-dai-123"})
    page = audio_client.get("/admin/audio")
    assert page.status_code == 200 and q.items[0].text.get("vi") in page.text and "Giọng tổng hợp" in page.text
    recording = b"ID3" + b"\x00" * 400_000  # larger than the public body limit, allowed for staff uploads
    r = audio_client.post("/admin/audio", data={"key": key}, files={"recording": ("cau1.mp3", recording, "audio/mpeg")})
    assert r.status_code == 303
    served = audio_client.get(f"/audio/{key}")
    assert served.headers["x-synthetic-voice"] == "0" and served.content == recording
    assert db_session.scalar(select(AuditEvent.id).where(AuditEvent.action == "audio_uploaded")) is not None
    bad = audio_client.post("/admin/audio", data={"key": key}, files={"recording": ("x.exe", b"MZ", "application/x-msdownload")})
    assert bad.status_code == 422 and "Chỉ nhận tệp âm thanh" in bad.text


def test_public_form_keeps_the_small_body_limit(client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    r = client.post(f"/q/{point.token}", content=b"a=" + b"x" * 400_000,
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413
