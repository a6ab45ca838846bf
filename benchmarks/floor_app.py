"""The "floor" for benchmarks/submit.py: the same stack doing the least a submission could cost.

FastAPI + uvicorn + SQLAlchemy (engine from survey_app.db.make_engine, so the same SQLite pragmas
and the same psycopg driver), one POST route, one ORM row inserted in one transaction per request.
No templates, no form parsing, no validation, no signed ticket. Not part of the application.

    BENCH_DATABASE_URL=sqlite:///… uvicorn --app-dir benchmarks floor_app:create_app --factory
"""

from __future__ import annotations

import datetime as dt
import os
import uuid

from fastapi import FastAPI
from fastapi.responses import PlainTextResponse, Response
from sqlalchemy import DateTime, String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from survey_app.db import make_engine, make_sessionmaker


class _Base(DeclarativeBase):
    pass


class FloorRow(_Base):
    __tablename__ = "bench_floor"

    id: Mapped[int] = mapped_column(primary_key=True)
    submission_id: Mapped[str] = mapped_column(String(36), unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(DateTime(timezone=True))


def create_app() -> FastAPI:
    engine = make_engine(os.environ["BENCH_DATABASE_URL"])
    _Base.metadata.create_all(engine)  # checkfirst: several workers may race, the table is made beforehand
    sessions = make_sessionmaker(engine)
    app = FastAPI(docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/")
    def ready() -> Response:
        return PlainTextResponse("ok")

    @app.post("/floor")
    def insert_one() -> Response:
        with sessions() as session, session.begin():
            session.add(FloorRow(submission_id=str(uuid.uuid4()), created_at=dt.datetime.now(dt.UTC)))
        return Response(status_code=204)

    return app
