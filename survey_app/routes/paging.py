"""Links of keyset-paginated pages: the next page keeps every filter of the current one and carries the cursor."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from fastapi import Request

from ..services.keyset import Page


def next_url(
    request: Request, route: str, page: Page[Any], *, param: str, drop: tuple[str, ...] = (), **path_params: Any
) -> str | None:
    """The "Trang sau" link, or None on the last page. Built from the route (not the current URL) so a page
    re-rendered after a POST still links to the list; ``drop`` names one-time parameters (a notice)."""
    if page.next_key is None:
        return None
    query = [(k, v) for k, v in request.query_params.multi_items() if k != param and k not in drop]
    query.append((param, page.next_key))
    return f"{request.url_for(route, **path_params).path}?{urlencode(query)}"


def first_url(
    request: Request, route: str, *, param: str, drop: tuple[str, ...] = (), **path_params: Any
) -> str | None:
    """Back to the first page with the same filters, when the current page is not the first."""
    if not request.query_params.get(param):
        return None
    query = [(k, v) for k, v in request.query_params.multi_items() if k != param and k not in drop]
    path = request.url_for(route, **path_params).path
    return f"{path}?{urlencode(query)}" if query else path
