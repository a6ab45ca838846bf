"""First load of the citizen form: our own HTML + CSS + JS stays within 40 kB (uncompressed).

Counted: the HTML document and everything it loads from /static, except the vendored htmx
(static/vendor/htmx.min.js) and the CDN copy of it, which are third-party and cached for a long time.
Measured twice, independently: in the browser (Playwright response events) and with httpx by
following the page's <link rel=stylesheet> and <script src> tags.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urljoin, urlsplit

import httpx
import pytest
from playwright.sync_api import Browser, Response

from .conftest import CDN_PATTERN, PHONE, LiveServer

pytestmark = pytest.mark.browser

BUDGET = 40_000  # bytes, uncompressed
EXCLUDED_PATHS = {"/static/vendor/htmx.min.js"}


def _counted(url: str, page_url: str) -> bool:
    parts, page = urlsplit(url), urlsplit(page_url)
    if parts.netloc != page.netloc:
        return False  # the CDN
    if parts.path == page.path:
        return True  # the document
    return parts.path.startswith("/static/") and parts.path not in EXCLUDED_PATHS


def _report(label: str, sizes: dict[str, int]) -> int:
    total = sum(sizes.values())
    print(f"\n{label}: {total} bytes (budget {BUDGET})")
    for url, size in sizes.items():
        print(f"  {size:>7}  {urlsplit(url).path}")
    return total


class _Assets(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "link" and "stylesheet" in (a.get("rel") or "").split() and a.get("href"):
            self.urls.append(a["href"] or "")
        elif tag == "script" and a.get("src"):
            self.urls.append(a["src"] or "")


def measure_with_httpx(form_url: str) -> tuple[dict[str, int], int]:
    """Uncompressed sizes (httpx decodes any Content-Encoding), and the bytes actually transferred."""
    with httpx.Client(timeout=10, headers={"Accept-Encoding": "gzip"}) as client:
        page = client.get(form_url)
        assert page.status_code == 200
        sizes = {form_url: len(page.content)}
        wire = page.num_bytes_downloaded
        parser = _Assets()
        parser.feed(page.text)
        assert parser.urls, "no stylesheet or script found in the page"
        for ref in parser.urls:
            url = urljoin(form_url, ref)
            if not _counted(url, form_url):
                continue
            asset = client.get(url)
            assert asset.status_code == 200, url
            sizes[url] = len(asset.content)
            wire += asset.num_bytes_downloaded
    return sizes, wire


def measure_with_browser(browser: Browser, form_url: str) -> tuple[dict[str, int], list[str]]:
    context = browser.new_context(**PHONE)  # type: ignore[arg-type]
    context.route(CDN_PATTERN, lambda route: route.abort("internetdisconnected"))
    try:
        page = context.new_page()
        responses: list[Response] = []
        page.on("response", lambda r: responses.append(r))
        page.goto(form_url, wait_until="load")
        page.wait_for_function("() => window.htmx !== undefined")  # the fallback chain has finished
        page.wait_for_load_state("networkidle")
        sizes = {r.url: len(r.body()) for r in responses if _counted(r.url, form_url)}
        seen = [r.url for r in responses]
    finally:
        context.close()
    return sizes, seen


def test_first_load_weight_httpx(live_server: LiveServer) -> None:
    sizes, wire = measure_with_httpx(live_server.form_url)
    assert any(urlsplit(u).path.endswith(".css") for u in sizes) and any(urlsplit(u).path.endswith(".js") for u in sizes)
    total = _report("httpx (HTML + own CSS + own JS)", sizes)
    print(f"  ({wire} bytes on the wire with Accept-Encoding: gzip)")
    assert total <= BUDGET


def test_first_load_weight_browser(chromium_browser: Browser, live_server: LiveServer) -> None:
    sizes, seen = measure_with_browser(chromium_browser, live_server.form_url)
    total = _report("browser (HTML + own CSS + own JS)", sizes)
    assert any(u.endswith("/static/vendor/htmx.min.js") for u in seen)  # loaded, just not counted
    # Both methods must see the same files and (within the varying signed ticket) the same bytes.
    independent, _ = measure_with_httpx(live_server.form_url)
    assert {urlsplit(u).path for u in sizes} == {urlsplit(u).path for u in independent}
    assert abs(total - sum(independent.values())) <= 64
    assert total <= BUDGET
