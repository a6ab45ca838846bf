"""create_app: the one place that wires routers, static files, templates, error handlers and state."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, sessionmaker
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .config import Settings
from .db import make_engine, make_sessionmaker
from .errors import AppError, NotAuthenticated, PasswordChangeRequired, PayloadTooLarge
from .i18n import N_, gettext, pick_language
from .routes import (
    account,
    admin,
    admin_audio,
    admin_review,
    admin_users,
    api,
    api_interviews,
    auth,
    enumerator,
    feedback_agency,
    feedback_public,
    fieldwork_admin,
    kiosk,
    public,
    public_results,
    reports,
)
from .security import Signer
from .templating import make_templates

logger = logging.getLogger(__name__)


class BodySizeLimit:
    """Rejects request bodies over ``max_bytes`` (declared or streamed) before they reach a route."""

    # Staff pages that take file uploads (login-protected); public forms keep the small limit.
    UPLOAD_PREFIXES = ("/admin/", "/reports/")

    def __init__(self, app: ASGIApp, max_bytes: int, max_upload_bytes: int | None = None) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.max_upload_bytes = max_upload_bytes or max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path: str = scope.get("path", "")
        limit = self.max_upload_bytes if path.startswith(self.UPLOAD_PREFIXES) else self.max_bytes
        for name, value in scope.get("headers", []):
            if name == b"content-length":
                try:
                    too_big = int(value) > limit
                except ValueError:
                    too_big = True
                if too_big:
                    await _plain_413(send)
                    return
        received = 0

        async def limited_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise PayloadTooLarge()
            return message

        await self.app(scope, limited_receive, send)


async def _plain_413(send: Send) -> None:
    body = "Dữ liệu gửi lên quá lớn.".encode()
    await send(
        {
            "type": "http.response.start",
            "status": 413,
            "headers": [(b"content-type", b"text/plain; charset=utf-8"), (b"content-length", str(len(body)).encode())],
        }
    )
    await send({"type": "http.response.body", "body": body})


class SecurityHeaders:
    """Adds the security headers (unless a route set its own) and `Vary: HX-Request` to every response.

    A plain ASGI middleware: Starlette's `@app.middleware("http")` runs each request in an extra task with
    memory streams, a measurable share of a citizen submission's CPU."""

    def __init__(self, app: ASGIApp, headers: dict[str, str]) -> None:
        self.app = app
        self.headers = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                raw: list[tuple[bytes, bytes]] = list(message.get("headers", []))
                present = {name.lower() for name, _ in raw}
                raw += [(name, value) for name, value in self.headers if name not in present]
                vary = [value for name, value in raw if name.lower() == b"vary"]
                raw = [(name, value) for name, value in raw if name.lower() != b"vary"]
                raw.append((b"vary", b", ".join([*vary, b"HX-Request"])))
                message = {**message, "headers": raw}
            await send(message)

        await self.app(scope, receive, send_with_headers)


def _security_headers(settings: Settings) -> dict[str, str]:
    cdn_origin = "/".join(settings.htmx_cdn_url.split("/")[:3])
    return {
        "Content-Security-Policy": (
            f"default-src 'self'; script-src 'self' {cdn_origin}; style-src 'self'; img-src 'self' data:; "
            "connect-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
        ),
        "X-Content-Type-Options": "nosniff",
        "Referrer-Policy": "no-referrer",
        "X-Frame-Options": "DENY",
        "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
    }


def create_app(
    settings: Settings | None = None, *, session_factory: sessionmaker[Session] | None = None
) -> FastAPI:
    """Build the application. Nothing reads the environment or opens a database at import time."""
    settings = settings or Settings()
    app = FastAPI(title="Khảo sát sự hài lòng", version="0.1.0", docs_url="/api/docs", redoc_url=None)
    if session_factory is None:
        engine = make_engine(settings.database_url, pool_size=settings.db_pool_size)
        session_factory = make_sessionmaker(engine)
        app.state.engine = engine
    app.state.settings = settings
    app.state.sessionmaker = session_factory
    app.state.templates = make_templates()
    app.state.signer = Signer(settings.secret_key)

    # The citizen's form first: routing tries routes in order, and it is the busiest page (no path overlaps).
    app.include_router(public.router, include_in_schema=False)
    app.mount("/static", StaticFiles(directory=str(settings.static_dir)), name="static")
    app.include_router(api.router)
    app.include_router(api_interviews.router)
    app.include_router(kiosk.router)  # its sync API is documented; its HTML pages are not
    # HTML pages are not part of the JSON API's OpenAPI description.
    for html_router in (auth.router, account.router, admin.router, admin_users.router, admin_review.router,
                        admin_audio.router):
        app.include_router(html_router, include_in_schema=False)
    for feedback_router in (feedback_public.router, feedback_agency.router):
        app.include_router(feedback_router, include_in_schema=False)
    for fieldwork_router in (enumerator.router, fieldwork_admin.router):
        app.include_router(fieldwork_router, include_in_schema=False)
    for report_router in (reports.router, public_results.router):
        app.include_router(report_router, include_in_schema=False)

    app.add_middleware(SecurityHeaders, headers=_security_headers(settings))
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes, max_upload_bytes=settings.max_upload_bytes)
    # Weak mobile connections: compress pages and our static files (htmx: 51 KB → 16 KB).
    app.add_middleware(GZipMiddleware, minimum_size=1024, compresslevel=6)
    _install_error_handlers(app)
    return app


def _error_page(request: Request, status: int, message: str, detail: str | None = None) -> Response:
    lang = pick_language(request.query_params.get("lang") or request.cookies.get("lang"))
    if request.url.path.startswith("/api/"):
        return JSONResponse({"detail": gettext(detail or message, lang)}, status_code=status)
    templates = request.app.state.templates
    template = f"errors/{status}.html" if status in (403, 404, 413, 500) else "errors/error.html"
    return templates.TemplateResponse(  # type: ignore[no-any-return]
        request,
        template,
        {"lang": lang, "status": status, "message": message, "detail": detail},
        status_code=status,
    )


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(NotAuthenticated)
    async def _login_required(request: Request, exc: NotAuthenticated) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "Chưa đăng nhập"}, status_code=401)
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return RedirectResponse(str(request.url_for("auth.login_form").include_query_params(next=target)), 303)

    @app.exception_handler(PasswordChangeRequired)
    async def _password_change(request: Request, exc: PasswordChangeRequired) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "Phải đổi mật khẩu ban đầu"}, status_code=403)
        return RedirectResponse(str(request.url_for("account.password_form")), 303)

    @app.exception_handler(AppError)
    async def _app_error(request: Request, exc: AppError) -> Response:
        lang = pick_language(request.query_params.get("lang") or request.cookies.get("lang"))
        return _error_page(request, exc.status_code, exc.public_message, exc.translated(lang) if exc.has_detail else None)

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if exc.status_code == 404:
            return _error_page(request, 404, "Không tìm thấy trang")
        if exc.status_code == 405:
            return _error_page(request, 405, "Yêu cầu không hợp lệ")
        return _error_page(request, exc.status_code, "Yêu cầu không hợp lệ")

    @app.exception_handler(RequestValidationError)
    async def _validation(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/api/"):
            # The documented 422 shape, so API clients (and the OpenAPI contract) get what they expect.
            return JSONResponse({"detail": jsonable_encoder(exc.errors())}, status_code=422)
        return _error_page(request, 400, "Yêu cầu không hợp lệ")

    @app.exception_handler(OperationalError)
    async def _database_down(request: Request, exc: OperationalError) -> Response:
        # The database is unreachable (restart, failover, full disk). Citizens keep their answers: the
        # page carries every posted field back in a form they can send again once the service recovers.
        logger.error("database unavailable on %s %s: %s", request.method, request.url.path, type(exc.orig).__name__)
        if request.url.path.startswith("/api/"):
            return JSONResponse({"detail": "Hệ thống tạm thời gián đoạn, vui lòng thử lại sau."}, status_code=503,
                                headers={"Retry-After": "30"})
        fields: list[tuple[str, str]] = []
        if request.method == "POST":
            try:
                form = await request.form()
                fields = [(k, v) for k, v in form.multi_items() if isinstance(v, str)]
            except Exception:
                fields = []
        lang = pick_language(request.query_params.get("lang") or request.cookies.get("lang"))
        templates = request.app.state.templates
        return templates.TemplateResponse(  # type: ignore[no-any-return]
            request, "errors/503.html",
            {"lang": lang, "fields": fields, "action": str(request.url) if request.method == "POST" else None},
            status_code=503, headers={"Retry-After": "30"},
        )

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        logger.exception("unhandled error on %s %s", request.method, request.url.path)
        return _error_page(request, 500, N_("Lỗi máy chủ"))
