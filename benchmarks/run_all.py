"""One entry point for every benchmark: runs each script in turn and prints their Markdown tables.

    .venv/bin/python benchmarks/run_all.py            # everything at the sizes the issues name
    .venv/bin/python benchmarks/run_all.py --quick    # smaller sizes, a few minutes

Not a test. Each figure is printed beside its comparator measured in the same run (R survey and samplics
for estimation, a one-row-insert floor for submissions, ODK Web Forms' published size for the first load).
The machine's load average is printed with each section: on a shared 2-core machine, compare ratios.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def section(title: str, args: list[str]) -> None:
    print(f"\n## {title}\n")
    print(f"`{' '.join(['python', *args])}` — load average at start {os.getloadavg()[0]:.1f}\n", flush=True)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, *args], cwd=HERE.parent, text=True, capture_output=True)
    print(result.stdout.strip())
    if result.returncode != 0:
        print(f"\n**failed** (exit {result.returncode}):\n```\n{result.stderr.strip()[-2000:]}\n```")
    print(f"\n_{time.perf_counter() - start:.0f} s_", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--national", action="store_true", help="also 10,000,000 rows × 3,321 communes")
    args = parser.parse_args()
    quick = args.quick
    print("# Benchmarks")
    section("Estimation vs R survey and samplics",
            ["benchmarks/estimate.py", *(["--rows", "200000"] if quick else [])])
    if args.national:
        section("Estimation at national scale", ["benchmarks/estimate.py", "--national"])
    section("Citizen submissions vs the bare insert floor",
            ["benchmarks/submit.py", *(["--count", "400", "--seconds", "20"] if quick else [])])
    section("First load of the citizen form (Chromium, slow 3G) and of the enumerator app", ["benchmarks/first_load.py"])
    section("Report pages and exports with 1M and 10M responses (PostgreSQL)",
            ["benchmarks/reports.py", *(["--rows", "100000"] if quick else [])])
    section("Query plans and the partitioning study (PostgreSQL)",
            ["benchmarks/query_plans.py", "--rows", "200000" if quick else "2000000"])


if __name__ == "__main__":
    main()
