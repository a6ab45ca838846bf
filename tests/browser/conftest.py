"""Browser fixtures: one live server (real uvicorn, fresh SQLite file) and one headless Chromium per session.

Independent of the parametrized database fixtures in tests/conftest.py: these tests talk to a real
server over a socket, exactly as a citizen's phone does, and look in the database file afterwards.

Chromium is Debian's (/usr/bin/chromium), driven through Playwright. Outside CI the browser tests are
skipped when it is missing; with CI set they fail instead, so a broken CI image cannot pass silently.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from playwright.sync_api import Browser, Locator, sync_playwright
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from survey_app.app import create_app
from survey_app.cli import prepare_database
from survey_app.config import PROJECT_ROOT, Settings
from survey_app.db import make_engine
from survey_app.questionnaire import Item, ItemType
from survey_app.services import catalogue
from survey_app.services import points as points_service

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # the suite runs as root in containers
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
CDN_PATTERN = "https://cdn.jsdelivr.net/**"
ARTIFACTS = PROJECT_ROOT / "test-artifacts"
BROWSER_SECRET = "browser-test-secret-key-0123456789-abcdefghij"
COMMUNE_CODE = "03667"
PHONE = {"viewport": {"width": 360, "height": 740}, "is_mobile": True, "has_touch": True, "device_scale_factor": 2}


@dataclass(frozen=True)
class LiveServer:
    base_url: str
    database_url: str
    engine: Engine  # the test's own connection pool to the same SQLite file
    token: str
    point_id: int

    @property
    def form_url(self) -> str:
        return f"{self.base_url}{points_service.public_path(self.token)}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def live_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    db_path = tmp_path_factory.mktemp("browser-db") / "survey.sqlite3"
    database_url = f"sqlite:///{db_path.as_posix()}"
    port = _free_port()
    settings = Settings(
        environment="test",
        secret_key=BROWSER_SECRET,
        database_url=database_url,
        base_url=f"http://127.0.0.1:{port}",
    )
    prepare_database(settings, quiet=True)
    engine = make_engine(database_url)
    with Session(engine) as session:
        commune = catalogue.get_commune(session, COMMUNE_CODE)
        assert commune is not None, f"commune {COMMUNE_CODE} missing from the catalogue"
        point = points_service.create_point(session, commune=commune, sector="health", name="Trạm Y tế thử nghiệm")
        session.commit()
        token, point_id = point.token, point.id

    config = uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, name="live-server", daemon=True)
    thread.start()
    live = LiveServer(settings.base_url, database_url, engine, token, point_id)
    deadline = time.monotonic() + 20
    while True:
        if not thread.is_alive():
            raise RuntimeError("the live server thread stopped during start-up")
        try:
            if server.started and httpx.get(live.form_url, timeout=2).status_code == 200:
                break
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"the live server did not answer on {settings.base_url} within 20 s")
        time.sleep(0.05)
    yield live
    server.should_exit = True
    thread.join(timeout=10)
    engine.dispose()


def _require_chromium() -> None:
    if Path(CHROMIUM).exists():
        return
    if os.environ.get("CI"):
        pytest.fail(f"{CHROMIUM} is missing but CI is set: the browser tests must run in CI", pytrace=False)
    pytest.skip(f"{CHROMIUM} not found (install Debian's 'chromium'); browser tests run only where it exists or in CI")


@pytest.fixture(scope="session")
def chromium_browser() -> Iterator[Browser]:
    _require_chromium()
    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture(scope="session")
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS


def fill_items(form: Locator, items: Iterable[Item], answers: Mapping[str, Any]) -> None:
    """Answer ``items`` of an offline form (kiosk, enumerator) the way a person taps: numbers typed, choices checked."""
    for item in items:
        value = answers.get(item.id)
        if value is None:
            continue
        box = form.locator(f"#q-{item.id}")
        if item.type == ItemType.number:
            box.locator("input").fill(str(value))
        else:
            box.locator(f"input[value='{value[0] if isinstance(value, list) else value}']").check()
