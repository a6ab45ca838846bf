"""Every non-public route declares who may use it, and the rule holds for every role."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute, iter_route_contexts
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session
from starlette.routing import Mount, Route

from tests.factories import make_point, make_user

# Deliberately public, with the reason.
PUBLIC = {
    "public.form": "citizen questionnaire behind an unguessable QR token",
    "public.submit": "citizen questionnaire submission",
    "public.thanks": "thank-you page for a stored submission id",
    "public.easy": "low-literacy variant of the citizen questionnaire",
    "public.audio": "audio prompts of the public questionnaires",
    "auth.login_form": "login page",
    "auth.login": "login",
    "auth.logout": "clears the caller's own cookie",
    "openapi": "the JSON API's schema",
    "api.health": "liveness for load balancers; says nothing but ok",
    "api.communes": "the public administrative catalogue",
    "api.questionnaire": "the questionnaire citizens already see on the public form",
    "swagger_ui_html": "API documentation page",
    "swagger_ui_redirect": "API documentation page",
    "api.interviews": "tablet sync API: bearer-token auth of its own (tests/routes/test_api_interviews.py)",
    "enumerator.service_worker": "static service-worker script of the enumerator app (no data)",
    "feedback_public.form": "citizen feedback form behind the reception point's unguessable QR token",
    "feedback_public.submit": "citizen feedback submission (honeypot, minimum time, network rate limit)",
    "feedback_public.track": "tracking page: needs the 10-character code; shows only status, dates, public answer",
    "feedback_public.rate": "the citizen's rating of the handling; needs the tracking code",
    "public.results": "published satisfaction results (aggregates only, small cells suppressed, no free text)",
    "api.kiosk_responses": "kiosk sync API: bearer-token auth of its own (tests/routes/test_kiosk.py)",
    "kiosk.service_worker": "static service-worker script of the desk kiosk (no data)",
    "kiosk.pair_form": "kiosk pairing page: needs the signed one-time link an admin issued",
    "kiosk.pair": "exchanges the signed one-time pairing link for the kiosk token",
    "kiosk.app": "desk kiosk page behind an unguessable id; shows only the point's public questionnaire",
    "kiosk.easy": "low-literacy variant of the desk kiosk page (same unguessable id, same public questionnaire)",
    "kiosk.manifest": "web app manifest of the desk kiosk page (no data)",
}
ROLES = ("admin", "reviewer", "commune", "enumerator", "viewer")
ADMIN = {"admin"}
ANY = set(ROLES)
# route name -> roles allowed. A new protected route must be added here (the coverage test fails otherwise).
MATRIX: dict[str, set[str]] = {
    "admin.home": ADMIN, "admin.points": ADMIN, "admin.points_create": ADMIN, "admin.points_rotate": ADMIN,
    "admin.points_revoke": ADMIN, "admin.points_qr_svg": ADMIN, "admin.points_qr_png": ADMIN,
    "admin.points_poster": ADMIN, "admin.commune_posters": ADMIN,
    "admin.users": ADMIN, "admin.users_create": ADMIN, "admin.users_update": ADMIN, "admin.users_reset": ADMIN,
    "admin.audio": ADMIN, "admin.audio_upload": ADMIN,
    "admin.flags": ADMIN, "admin.flags_review": ADMIN, "admin.audit": ADMIN,
    "account.password_form": ANY, "account.password": ANY,
    "enumerator.app": {"enumerator", "admin"}, "enumerator.token": {"enumerator", "admin"},
    **dict.fromkeys(("fieldwork.rounds", "fieldwork.villages_import", "fieldwork.rounds_create", "fieldwork.round",
                     "fieldwork.assign", "fieldwork.replace", "fieldwork.issued", "fieldwork.tokens_revoke",
                     "fieldwork.paper_form", "fieldwork.paper_submit", "fieldwork.paper_compare",
                     "fieldwork.paper_resolve", "fieldwork.backchecks", "fieldwork.backchecks_draw",
                     "fieldwork.backcheck_record"), ADMIN),
    **{name: {"admin", "reviewer", "commune"} for name in (
        "feedback.inbox", "feedback.new_form", "feedback.create", "feedback.detail", "feedback.status",
        "feedback.answer", "feedback.note", "feedback.reassign")},
    **{name: ADMIN for name in (
        "feedback.settings", "feedback.routing_add", "feedback.routing_delete", "feedback.keyword_add",
        "feedback.keyword_delete", "feedback.holiday_add", "feedback.holiday_delete", "feedback.user_agency")},
    **{name: {"admin", "reviewer", "commune", "viewer"} for name in (
        "reports.overview", "reports.communes", "reports.sector", "reports.commune", "reports.item",
        "reports.official", "reports.export", "reports.export_report")},
    **{name: ADMIN for name in ("reports.official_save", "reports.targets_save", "reports.data", "reports.data_import")},
    "reports.export_raw": {"admin", "reviewer", "commune"},
    **dict.fromkeys(("admin.kiosks", "admin.point_kiosks", "admin.kiosks_create", "admin.kiosks_repair",
                     "admin.kiosks_revoke", "admin.kiosks_qr"), ADMIN),
}


def _guard_sets(dependant: Any) -> list[frozenset[str]]:
    sets = []
    for dep in dependant.dependencies:
        if getattr(dep.call, "roles", None):
            sets.append(frozenset(dep.call.roles))
        sets += _guard_sets(dep)
    return sets


def _guards(dependant: Any) -> set[str]:
    """The roles that pass every guard on the route (empty when it has no guard)."""
    sets = _guard_sets(dependant)
    return set(frozenset.intersection(*sets)) if sets else set()


def _routes(app: FastAPI) -> list[Any]:
    """Every route of the app, flattened through included routers."""
    return [rc.original_route for rc in iter_route_contexts(app.routes)]


def test_every_route_is_public_or_guarded(app: FastAPI) -> None:
    missing = []
    for route in _routes(app):
        if isinstance(route, Mount):
            assert route.name == "static"
            continue
        assert isinstance(route, APIRoute | Route)
        if route.name in PUBLIC:
            continue
        if not isinstance(route, APIRoute) or not _guards(route.dependant):
            missing.append(route.name)
        elif route.name not in MATRIX:
            missing.append(f"{route.name} (guarded, but not in the role matrix)")
        else:
            assert _guards(route.dependant) == MATRIX[route.name], route.name
    assert missing == [], f"routes without a declared access rule: {missing}"


def _path(app: FastAPI, name: str, ids: dict[str, Any]) -> tuple[str, set[str]]:
    route = next(r for r in _routes(app) if getattr(r, "name", None) == name)
    assert isinstance(route, APIRoute)
    params = {p: ids[p] for p in route.param_convertors}
    return app.url_path_for(name, **params), route.methods


@pytest.mark.parametrize("role", ROLES)
def test_role_matrix(role: str, app: FastAPI, client: TestClient, db_session: Session) -> None:
    user = make_user(db_session, username=f"u_{role}", role=role)
    if role == "reviewer":
        from survey_app.models import UserScope

        user.scopes.append(UserScope(sector="health"))
        db_session.commit()
    if role == "commune":  # a commune officer sees their own commune's reports
        from survey_app.models import UserScope
        from survey_app.services import catalogue

        user.scopes.append(UserScope(commune_id=catalogue.get_commune(db_session, "03667").id))
        db_session.commit()
    point = make_point(db_session)
    ids = {"point_id": point.id, "user_id": user.id, "commune_code": "03667", "flag_id": 999999, "item_id": 999999, "rule_id": 999999,
           "round_id": 999999, "sv_id": 999999, "sheet_code": "X1", "check_id": 999999, "kiosk_id": 999999,
           "sector": "health", "table": "communes", "fmt": "csv"}
    r = client.post("/login", data={"username": f"u_{role}", "password": "mat-khau-dai-123"})
    assert r.status_code == 303
    for name, allowed in MATRIX.items():
        path, methods = _path(app, name, ids)
        method = "GET" if "GET" in methods else "POST"
        if method == "POST" and name.endswith(("rotate", "revoke", "reset")):
            continue  # state changes checked elsewhere; here only refusal matters
        response = client.request(method, path, data={} if method == "POST" else None)
        if role in allowed:
            assert response.status_code not in (401, 403), (role, name, response.status_code)
        else:
            assert response.status_code == 403, (role, name, response.status_code)


def test_anonymous_is_sent_to_login(app: FastAPI, client: TestClient, db_session: Session) -> None:
    point = make_point(db_session)
    ids = {"point_id": point.id, "user_id": 1, "commune_code": "03667", "flag_id": 1, "item_id": 1, "rule_id": 1,
           "round_id": 1, "sv_id": 1, "sheet_code": "X1", "check_id": 1, "kiosk_id": 1,
           "sector": "health", "table": "communes", "fmt": "csv"}
    for name in MATRIX:
        path, methods = _path(app, name, ids)
        method = "GET" if "GET" in methods else "POST"
        r = client.request(method, path)
        assert r.status_code == 303 and "/login" in r.headers["location"], (name, r.status_code)


@pytest.mark.parametrize("role", ["admin", "viewer"])
def test_state_changes_are_refused_to_other_roles(role: str, client: TestClient, db_session: Session) -> None:
    make_user(db_session, username="someone", role=role)
    point = make_point(db_session)
    client.post("/login", data={"username": "someone", "password": "mat-khau-dai-123"})
    r = client.post(f"/admin/points/{point.id}/revoke")
    assert r.status_code == (303 if role == "admin" else 403)
    db_session.refresh(point)
    assert point.active == (role != "admin")
