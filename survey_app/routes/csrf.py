"""CSRF defence for cookie-authenticated state changes: the request must come from our own origin."""

from __future__ import annotations

from urllib.parse import urlsplit

from fastapi import Request

from ..errors import Forbidden
from ..i18n import N_


def check_same_origin(request: Request) -> None:
    """Refuse cross-site POSTs (Sec-Fetch-Site, then Origin, then Referer); SameSite=Lax is the second layer."""
    fetch_site = request.headers.get("sec-fetch-site")
    if fetch_site is not None:
        if fetch_site in ("same-origin", "none"):
            return
        raise Forbidden(N_("Yêu cầu bị từ chối (CSRF)."))
    origin = request.headers.get("origin") or request.headers.get("referer")
    if origin is None:
        return  # non-browser clients (curl, tests) send neither header and carry no ambient cookie risk
    host = request.headers.get("host", "")
    if urlsplit(origin).netloc != host:
        raise Forbidden(N_("Yêu cầu bị từ chối (CSRF)."))
