"""Shared fixtures: the same suite runs on SQLite and on a real PostgreSQL server started here.

Each backend is migrated once with Alembic (the only way the schema is created) and loaded with the
catalogue and questionnaires; every test then runs inside a transaction that is rolled back
("join into an external transaction" recipe), so routes may commit freely.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session, sessionmaker

from survey_app.app import create_app
from survey_app.config import PROJECT_ROOT, Settings
from survey_app.db import make_engine
from survey_app.migrate import upgrade_to_head
from survey_app.services import catalogue
from survey_app.services import questionnaires as q_service
from tests.support.postgres import TempPostgres, start_temp_postgres

BACKENDS = ("sqlite", "postgresql")
TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="session")
def pg_server() -> Iterator[TempPostgres]:
    server = start_temp_postgres()
    yield server
    server.stop()


def prepare(url: str) -> Engine:
    upgrade_to_head(url)
    engine = make_engine(url)
    with Session(engine) as session:
        catalogue.load_catalogue(session)
        q_service.sync_questionnaires(session, directory=PROJECT_ROOT / "questionnaires")
        session.commit()
    return engine


@pytest.fixture(scope="session", params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path_factory.mktemp('sqlite') / 'test.sqlite3'}"
    server: TempPostgres = request.getfixturevalue("pg_server")
    return server.create_database("survey_test")


@pytest.fixture(scope="session")
def engine(backend_url: str) -> Iterator[Engine]:
    engine = prepare(backend_url)
    yield engine
    engine.dispose()


@pytest.fixture
def connection(engine: Engine) -> Iterator[object]:
    conn = engine.connect()
    outer = conn.begin()
    yield conn
    if outer.is_active:
        outer.rollback()
    conn.close()


@pytest.fixture
def session_factory(connection: object) -> sessionmaker[Session]:
    return sessionmaker(bind=connection, join_transaction_mode="create_savepoint", expire_on_commit=False)  # type: ignore[call-overload, no-any-return]


@pytest.fixture
def db_session(session_factory: sessionmaker[Session]) -> Iterator[Session]:
    session = session_factory()
    yield session
    session.close()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        environment="test",
        secret_key=TEST_SECRET,
        database_url="sqlite:///unused-in-route-tests",
        base_url="http://testserver",
    )


@pytest.fixture
def app(settings: Settings, session_factory: sessionmaker[Session]) -> FastAPI:
    return create_app(settings, session_factory=session_factory)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    with TestClient(app, follow_redirects=False) as c:
        yield c
