"""First load of the citizen form in Chromium: bytes transferred and time to first contentful paint,
on loopback without throttling and under emulated slow 3G (400 kbit/s, 400 ms RTT).

Run: .venv/bin/python benchmarks/first_load.py   (prints a Markdown table; not a test)
The CDN copy of htmx cannot load here (no internet), so CDN requests are aborted and the page falls
back to the local copy, which is what a commune with a blocked or unreachable CDN gets.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from tests.browser.conftest import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from tests.support.postgres import free_port  # noqa: E402

ODK_WEB_FORMS_BYTES = 1.1e6  # published figure for a simple form (not measured here)
PROFILES = {
    "loopback": None,
    "slow 3G (400 kbit/s, 400 ms RTT)": {"latency": 400, "downloadThroughput": 400_000 / 8, "uploadThroughput": 400_000 / 8},
}


def _serve(tmp: Path) -> tuple[subprocess.Popen[bytes], str]:
    port = free_port()
    env = {**os.environ, "SURVEY_DATABASE_URL": f"sqlite:///{tmp / 'bench.sqlite3'}",
           "SURVEY_BASE_URL": f"http://127.0.0.1:{port}"}
    run = [sys.executable, "-m", "survey_app.cli"]
    subprocess.run([*run, "init"], env=env, cwd=ROOT, check=True, capture_output=True)
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


def transferred_counter(sink: list[int]) -> Callable[[dict[str, Any]], None]:
    return lambda event: sink.append(int(event["encodedDataLength"]))


def measure(url: str, conditions: dict[str, float] | None, runs: int) -> tuple[float, float, int]:
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        fcps, loads, sizes = [], [], []
        for _ in range(runs):
            context = browser.new_context(viewport={"width": 360, "height": 740}, is_mobile=True)
            context.route("https://cdn.jsdelivr.net/**", lambda route: route.abort())
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
        finally:
            proc.terminate()
            proc.wait(timeout=10)


if __name__ == "__main__":
    main()
