"""The JSON API: contract tests and schemathesis (no 5xx, responses match the OpenAPI schema)."""

from __future__ import annotations

import schemathesis
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings


def test_commune_search(client: TestClient) -> None:
    r = client.get("/api/v1/communes", params={"q": "chieng an"})
    assert r.status_code == 200
    assert {"code": "03667", "name": "Phường Chiềng An", "division_type": "phường", "province_code": "14"} in r.json()
    assert client.get("/api/v1/communes", params={"q": "x", "province": "abc"}).status_code == 422


def test_questionnaire_and_health(client: TestClient) -> None:
    q = client.get("/api/v1/questionnaires/health").json()
    assert q["id"] == "health" and len(q["content_hash"]) == 64 and q["definition"]["pages"]
    assert client.get("/api/v1/questionnaires/police").status_code == 422
    assert client.get("/api/v1/health").json() == {"status": "ok", "database": "ok"}
    assert client.get("/api/v1/nothing-here").headers["content-type"].startswith("application/json")


def test_api_conforms_to_its_schema(app: FastAPI) -> None:
    """Every operation, fuzzed from its own schema: no 5xx, status and body as documented."""
    schema = schemathesis.openapi.from_asgi("/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert {op.path for op in operations} >= {"/api/v1/communes", "/api/v1/health", "/api/v1/questionnaires/{sector}"}
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck), database=None)
        def check(case: schemathesis.Case) -> None:
            case.call_and_validate()

        check()
