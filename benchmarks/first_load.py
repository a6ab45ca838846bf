"""First load in Chromium of the citizen form (bytes transferred and time to first contentful paint, on
loopback and under emulated slow 3G: 400 kbit/s, 400 ms RTT) and of the enumerator's offline app (bytes
transferred from the login page until the app can work offline: app shell with the assignments and
questionnaires, assets, service worker and what it caches, sync token).

Run: .venv/bin/python benchmarks/first_load.py   (prints a Markdown table; not a test)
The CDN copy of htmx cannot load here (no internet), so CDN requests are aborted and the page falls
back to the local copy, which is what a commune with a blocked or unreachable CDN gets.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
from playwright.sync_api import sync_playwright
from sqlalchemy.orm import Session

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from survey_app.db import make_engine  # noqa: E402
from tests.browser.conftest import CDN_PATTERN, CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.services.test_fieldwork import make_field_setup  # noqa: E402
from tests.support.postgres import free_port  # noqa: E402

ODK_WEB_FORMS_BYTES = 1.1e6  # published figure for a simple form (not measured here)
ENUMERATOR, PASSWORD = "dtv_bench", "mat-khau-dai-123"
TABLET = {"viewport": {"width": 600, "height": 960}, "has_touch": True}
PROFILES = {
    "loopback": None,
    "slow 3G (400 kbit/s, 400 ms RTT)": {"latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8},
}


def _serve(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    database = f"sqlite:///{tmp / 'bench.sqlite3'}"
    env = {**os.environ, "SURVEY_DATABASE_URL": database, "SURVEY_BASE_URL": f"http://127.0.0.1:{port}"}
    run = [sys.executable, "-m", "survey_app.cli"]
    subprocess.run([*run, "init"], env=env, cwd=ROOT, check=True, capture_output=True)
    _seed_enumerator(database)
    out = subprocess.run([*run, "points", "add", "--commune", "03667", "--sector", "health", "--name", "Trạm Y tế"],
                         env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    url = out.strip().split("\t")[1]
    proc = subprocess.Popen([*run, "serve", "--port", str(port)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    for _ in range(200):
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return proc, url
        except httpx.HTTPError:
            time.sleep(0.1)
    proc.kill()
    raise SystemExit("server did not start")


def _seed_enumerator(database: str) -> None:
    """An enumerator with one assignment (a sampled village of a fieldwork round), as the tests make them."""
    engine = make_engine(database)
    try:
        with Session(engine, expire_on_commit=False) as session:
            make_field_setup(session, username=ENUMERATOR, password=PASSWORD)
    finally:
        engine.dispose()


def transferred_counter(sink: list[int]) -> Callable[[dict[str, Any]], None]:
    return lambda event: sink.append(int(event["encodedDataLength"]))


def measure(url: str, conditions: dict[str, float] | None, runs: int) -> tuple[float, float, int]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        fcps, loads, sizes = [], [], []
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
            context.route(CDN_PATTERN, lambda route: route.abort())
            page = context.new_page()
            cdp = context.new_cdp_session(page)
            cdp.send("Network.enable")
            if conditions:
                cdp.send("Network.emulateNetworkConditions", {"offline": False, **conditions})
            transferred: list[int] = []
            cdp.on("Network.loadingFinished", transferred_counter(transferred))
            start = time.perf_counter()
            page.goto(url, wait_until="load")
            page.wait_for_function("window.htmx !== undefined")
            loads.append(time.perf_counter() - start)
            fcp = page.evaluate("performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? -1")
            fcps.append(float(fcp) / 1000)
            page.wait_for_timeout(300)
            sizes.append(sum(transferred))
            context.close()
        browser.close()
    fcps.sort()
    loads.sort()
    return fcps[len(fcps) // 2], loads[len(loads) // 2], max(sizes)


class CountingProxy:
    """A loopback TCP proxy in front of the server that counts the bytes the server sends (HTTP headers and
    compressed bodies, as on the wire). It sees every request, the service worker's included, and none that a
    browser cache answered: what a tablet actually downloads."""

    def __init__(self, target_port: int) -> None:
        self.target_port = target_port
        self.sent = 0
        self._lock = threading.Lock()
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            upstream = socket.create_connection(("127.0.0.1", self.target_port))
            threading.Thread(target=self._pipe, args=(client, upstream, False), daemon=True).start()
            threading.Thread(target=self._pipe, args=(upstream, client, True), daemon=True).start()

    def _pipe(self, source: socket.socket, sink: socket.socket, count: bool) -> None:
        with contextlib.suppress(OSError):
            while data := source.recv(65536):
                if count:
                    with self._lock:
                        self.sent += len(data)
                sink.sendall(data)
        with contextlib.suppress(OSError):
            sink.shutdown(socket.SHUT_WR)

    def take(self) -> int:
        """Bytes sent since the last call."""
        with self._lock:
            sent, self.sent = self.sent, 0
        return sent

    def close(self) -> None:
        self._listener.close()


def measure_enumerator(base: str, proxy: CountingProxy) -> tuple[int, int]:
    """Bytes the server sends for the login page, then for the app until it can work offline (app shell with
    the assignments and questionnaires, assets, the service worker and what it caches, the sync token).
    A fresh browser context: nothing is cached beforehand."""
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(locale="vi-VN", **TABLET)  # type: ignore[arg-type]
        context.route(CDN_PATTERN, lambda route: route.abort())
        page = context.new_page()
        proxy.take()
        page.goto(f"{base}/login?next=/enumerator/", wait_until="load")
        page.wait_for_timeout(500)
        login = proxy.take()
        page.get_by_label("Tên đăng nhập").fill(ENUMERATOR)
        page.get_by_label("Mật khẩu").fill(PASSWORD)
        page.get_by_role("button", name="Đăng nhập").click()
        page.wait_for_url("**/enumerator/")
        # Ready offline: the service worker active, the app shell cached, the sync token stored.
        page.evaluate("navigator.serviceWorker.ready")
        page.wait_for_function("caches.match('/enumerator/').then(r => !!r)", polling=200)
        page.wait_for_function("DieuTra.meta('token').then(t => !!t)", polling=200)
        page.wait_for_timeout(1000)
        app = proxy.take()
        context.close()
        browser.close()
    return login, app


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--runs", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        proc, url = _serve(Path(tmp))
        try:
            print("| network | first contentful paint (s) | load incl. htmx (s) | bytes transferred | vs ODK Web Forms ~1.1 MB |")
            print("|---|---|---|---|---|")
            for name, conditions in PROFILES.items():
                fcp, load, size = measure(url, conditions, args.runs)
                print(f"| {name} | {fcp:.2f} | {load:.2f} | {size / 1024:.1f} KB | {ODK_WEB_FORMS_BYTES / size:.0f}× smaller |")
            proxy = CountingProxy(int(urlsplit(url).port or 80))
            try:
                # The same citizen page through the proxy: its count should agree with Chromium's own above.
                through = urlunsplit(urlsplit(url)._replace(netloc=f"127.0.0.1:{proxy.port}"))
                proxy.take()
                measure(through, None, 1)
                citizen = proxy.take()
                login, app = measure_enumerator(f"http://127.0.0.1:{proxy.port}", proxy)
            finally:
                proxy.close()
            rows = [("citizen form (cross-check of the count above)", citizen),
                    ("enumerator app: login page", login),
                    ("enumerator app: after login until ready offline (app shell with the assignments and "
                     "questionnaires, assets, service worker and its cache, sync token)", app),
                    ("enumerator app: together", login + app)]
            print()
            print("| first load, counted by a proxy in front of the server (loopback) | bytes sent by the server | "
                  "vs ODK Web Forms ~1.1 MB |")
            print("|---|---|---|")
            for label, size in rows:
                print(f"| {label} | {size / 1024:.1f} KB | {ODK_WEB_FORMS_BYTES / size:.0f}× smaller |")
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
