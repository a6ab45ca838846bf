"""kill -9 the server during sustained submissions: every acknowledged submission is stored exactly once,
and clients that retry with the same submission id after the restart create no duplicates.
Loopback only, bounded in count and time."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest
from sqlalchemy import create_engine, select, text

from survey_app.config import PROJECT_ROOT
from survey_app.models import Response
from survey_app.questionnaire import load_file
from survey_app.services.demo import synthetic_form
from tests.support.postgres import TempPostgres, free_port

CLIENTS = 4
TARGET_ACKS_BEFORE_KILL = 30
DEADLINE_S = 60


def _env(url: str, port: int) -> dict[str, str]:
    return {
        **os.environ,
        "SURVEY_DATABASE_URL": url,
        "SURVEY_BASE_URL": f"http://127.0.0.1:{port}",
        "SURVEY_SECRET_KEY": "durability-test-secret-0123456789abcdef",
        "SURVEY_SUBMIT_BURST_LIMIT": "100000",
        "SURVEY_MIN_COMPLETION_SECONDS": "0",
    }


def _cli(args: list[str], env: dict[str, str]) -> str:
    out = subprocess.run([sys.executable, "-m", "survey_app.cli", *args], env=env, cwd=PROJECT_ROOT,
                         capture_output=True, text=True, timeout=300, check=True)
    return out.stdout


def _start(env: dict[str, str], port: int) -> subprocess.Popen[bytes]:
    proc = subprocess.Popen([sys.executable, "-m", "survey_app.cli", "serve", "--port", str(port)], env=env,
                            cwd=PROJECT_ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=1).status_code == 200:
                return proc
        except httpx.HTTPError:
            time.sleep(0.2)
    proc.kill()
    raise RuntimeError("server did not start")


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'kill9.sqlite3'}"
        return
    server: TempPostgres = request.getfixturevalue("pg_server")
    yield server.create_database(f"kill9_{os.getpid()}_{int(time.time() * 1000) % 100000}")


def test_acknowledged_submissions_survive_kill_9(database_url: str) -> None:
    port = free_port()
    env = _env(database_url, port)
    _cli(["init"], env)
    url = _cli(["points", "add", "--commune", "03667", "--sector", "health", "--name", "Trạm Y tế thử độ bền"], env)
    token = url.strip().split("/q/")[-1]
    questionnaire = load_file(PROJECT_ROOT / "questionnaires" / "health.yaml")
    base = f"http://127.0.0.1:{port}"

    acked: set[str] = set()
    pending: list[tuple[str, dict[str, list[str]]]] = []  # (ticket, answers) posted without an acknowledgement
    lock = threading.Lock()
    stop = threading.Event()

    def worker(seed: int) -> None:
        rng = np.random.default_rng(seed)
        while not stop.is_set():
            data = synthetic_form(questionnaire, 0.3, rng)
            try:
                with httpx.Client(timeout=5) as c:  # a new phone each time: no device cookie
                    page = c.get(f"{base}/q/{token}")
                    ticket = re.search(r'name="ticket" value="([^"]+)"', page.text)
                    if ticket is None:
                        continue
                    form = {**data, "ticket": [ticket.group(1)]}
                    try:
                        r = c.post(f"{base}/q/{token}", data=form)
                    except httpx.HTTPError:
                        with lock:
                            pending.append((ticket.group(1), form))
                        continue
                    if r.status_code == 303:
                        sid = re.search(r"[?&]s=([0-9a-f-]{36})", r.headers["location"])
                        assert sid is not None
                        with lock:
                            acked.add(sid.group(1))
                    else:
                        with lock:
                            pending.append((ticket.group(1), form))
            except httpx.HTTPError:
                time.sleep(0.05)

    server = _start(env, port)
    threads = [threading.Thread(target=worker, args=(i,), daemon=True) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + DEADLINE_S
    while len(acked) < TARGET_ACKS_BEFORE_KILL and time.monotonic() < deadline:
        time.sleep(0.05)
    os.kill(server.pid, signal.SIGKILL)  # mid-traffic, no shutdown
    server.wait(timeout=10)
    stop.set()
    for t in threads:
        t.join(timeout=10)
    acked_before_kill = set(acked)
    assert len(acked_before_kill) >= 10, "too few submissions before the kill to say anything"

    server = _start(env, port)
    try:
        # clients retry what they never saw acknowledged, with the same signed ticket (same submission id)
        for _ticket, form in pending + pending[:5]:  # the second time for a few: a retry of a retry changes nothing
            with httpx.Client(timeout=10) as c:  # each phone retries its own form
                r = c.post(f"{base}/q/{token}", data=form)
            assert r.status_code == 303, r.status_code
            sid = re.search(r"[?&]s=([0-9a-f-]{36})", r.headers["location"])
            assert sid is not None
            acked.add(sid.group(1))
    finally:
        server.terminate()
        server.wait(timeout=10)

    engine = create_engine(database_url)
    with engine.connect() as conn:
        stored = conn.execute(select(Response.submission_id)).scalars().all()
        if conn.dialect.name == "sqlite":
            assert conn.execute(text("PRAGMA integrity_check")).scalar() == "ok"
    engine.dispose()
    assert len(stored) == len(set(stored)), "a submission id was stored twice"
    assert acked_before_kill <= set(stored), "an acknowledged submission was lost"
    assert acked <= set(stored)
    print(f"\nkill -9 [{database_url.split(':')[0]}]: {len(acked_before_kill)} acknowledged before the kill, "
          f"{len(pending)} retried after restart, {len(stored)} stored, 0 lost, 0 duplicated")
