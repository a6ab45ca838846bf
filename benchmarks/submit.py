"""Citizen submissions per second against the real server, next to a one-row-insert "floor".

For each backend, this script
  1. creates a throw-away database (SQLite file, or a temporary PostgreSQL server from
     tests/support/postgres.py), runs `survey-app init` and `survey-app points add`;
  2. starts `survey-app serve` and, beside it, benchmarks/floor_app.py on the same database with the same
     number of workers (one row, one transaction per request);
  3. in --rounds rounds, drives from N concurrent clients in turn: the floor; the POST of a valid answer set
     alone, on forms fetched before the clock (303 expected); the whole citizen visit, GET /q/{token} (read
     the signed `ticket`) then POST;
  4. prints a Markdown table: submissions/s, p50/p99 latency of a whole submission, the ratio, and the
     server-side CPU per submission (web workers + PostgreSQL), which other load on the machine does not skew.

Each simulated citizen is a new phone (fresh device cookie) with its own address (X-Forwarded-For, which
`serve` trusts from 127.0.0.1 as behind a reverse proxy); --same-network sends everything from one address
instead (burst detectors' worst case; the per-network submit limit is lifted for that run).

Loopback only; every run is bounded in count and in time. Not a test: run it by hand.

    .venv/bin/python benchmarks/submit.py --clients 8 --count 2000 --seconds 60 --backends sqlite,postgresql
"""

from __future__ import annotations

import argparse
import contextlib
import itertools
import math
import os
import random
import re
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "benchmarks")]

from survey_app.questionnaire import ItemType, Questionnaire, is_visible, load_file  # noqa: E402

COMMUNE = "03667"
WARMUP = 30  # submissions per run before the clock starts (imports, pools, caches)


# --------------------------------------------------------------------------- servers


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def survey_app_cmd() -> list[str]:
    script = Path(sys.executable).parent / "survey-app"
    return [str(script)] if script.exists() else [sys.executable, "-m", "survey_app.cli"]


def run_cli(env: dict[str, str], *args: str) -> str:
    out = subprocess.run([*survey_app_cmd(), *args], env=env, cwd=ROOT, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"survey-app {' '.join(args)} failed ({out.returncode}):\n{out.stdout}\n{out.stderr}")
    return out.stdout


_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu(roots: list[int]) -> float:
    """CPU seconds (user + system) used so far by the processes ``roots`` and all their descendants (Linux /proc),
    including descendants that have exited and been reaped (a PostgreSQL backend whose connection closed)."""
    return sum(tree_cpu_parts(roots))


def tree_cpu_parts(roots: list[int]) -> tuple[float, float]:
    """:func:`tree_cpu` as (live processes, exited and reaped descendants such as autovacuum workers)."""
    stats: dict[int, tuple[int, float, float]] = {}  # pid -> (ppid, own cpu seconds, reaped children's)
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        # utime + stime, and cutime + cstime: the reaped children's (not in /proc any more, so never counted twice)
        stats[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICKS,
                                  (int(fields[13]) + int(fields[14])) / _TICKS)
    children: dict[int, list[int]] = {}
    for pid, (ppid, _, _) in stats.items():
        children.setdefault(ppid, []).append(pid)
    live, reaped, todo = 0.0, 0.0, [r for r in roots if r in stats]
    while todo:
        pid = todo.pop()
        live += stats[pid][1]
        reaped += stats[pid][2]
        todo += children.get(pid, [])
    return live, reaped


@contextlib.contextmanager
def server(cmd: list[str], env: dict[str, str], ready_url: str, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server in its own process group, wait until ``ready_url`` answers 200, stop it afterwards."""
    with log.open("wb") as out:
        proc = subprocess.Popen(cmd, env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        try:
            deadline = time.monotonic() + 30
            while True:
                if proc.poll() is not None:
                    raise RuntimeError(f"server exited with {proc.returncode}:\n{log.read_text(errors='replace')}")
                with contextlib.suppress(httpx.TransportError):
                    if httpx.get(ready_url, timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise RuntimeError(f"server did not answer {ready_url} within 30 s:\n{log.read_text(errors='replace')}")
                time.sleep(0.1)
            yield proc
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGTERM)  # uvicorn's supervisor stops its workers
                try:
                    proc.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                    proc.wait()


def _nothing() -> None:
    return None


@dataclass
class Backend:
    name: str
    url: str
    env: dict[str, str]
    token: str
    workdir: Path
    cleanup: Callable[[], None] = _nothing
    db_pids: Callable[[], list[int]] = list  # the database server's processes (PostgreSQL postmaster)


def prepare_backend(name: str, workdir: Path, *, same_network: bool) -> Backend:
    cleanup: Callable[[], None] = _nothing
    if name == "sqlite":
        url = f"sqlite:///{(workdir / 'bench.sqlite3').as_posix()}"
    elif name == "postgresql":
        from tests.support.postgres import start_temp_postgres

        pg = start_temp_postgres()
        cleanup = pg.stop
        url = pg.create_database("survey_bench")

        def db_pids() -> list[int]:
            return [int((pg.datadir / "postmaster.pid").read_text().split()[0])]

    else:
        raise SystemExit(f"unknown backend {name!r} (sqlite, postgresql)")
    env = {
        **os.environ,
        "SURVEY_DATABASE_URL": url,
        "SURVEY_SECRET_KEY": secrets.token_urlsafe(32),
        # Not "production": its device cookie is Secure, which a client on plain http:// would not send back.
        "SURVEY_ENVIRONMENT": "demo",
        "BENCH_DATABASE_URL": url,
        # Real citizens take minutes; without this every benchmark response would be flagged "too fast"
        # (an extra query and insert that ordinary traffic does not pay).
        "SURVEY_MIN_COMPLETION_SECONDS": "0",
    }
    if same_network:
        # Every submission comes from one network: lift the per-network burst limit (30 per 10 min by
        # default, answered with 429) so that the cost of the burst detectors is what gets measured.
        env["SURVEY_SUBMIT_BURST_LIMIT"] = str(10**9)
    try:
        run_cli(env, "init")
        printed = run_cli(env, "points", "add", "--commune", COMMUNE, "--sector", "health", "--name", "Trạm Y tế bench")
        match = re.search(r"/q/([A-Za-z0-9_-]+)\s*$", printed.strip())
        if not match:
            raise RuntimeError(f"no URL in the output of `survey-app points add`: {printed!r}")
        # The floor's table is made here once, not by several workers racing at start-up.
        from floor_app import _Base

        from survey_app.db import make_engine

        engine = make_engine(url)
        _Base.metadata.create_all(engine)
        engine.dispose()
    except BaseException:
        cleanup()
        raise
    return Backend(name, url, env, match.group(1), workdir, cleanup, db_pids if name == "postgresql" else list)


# --------------------------------------------------------------------------- clients


class AnswerMaker:
    """Random valid answers: every visible required item, skip logic followed like the form does."""

    def __init__(self, questionnaire: Questionnaire) -> None:
        self.q = questionnaire

    def __call__(self, rng: random.Random) -> dict[str, str | list[str]]:
        chosen: dict[str, str | list[str]] = {}
        for item in self.q.items:
            if not item.required or not is_visible(item, chosen):
                continue
            if item.type in (ItemType.scale5, ItemType.single, ItemType.yesno):
                chosen[item.id] = rng.choice(item.allowed_values())
            elif item.type == ItemType.multi:
                chosen[item.id] = rng.sample(item.allowed_values(), 1)
            elif item.type == ItemType.number:
                low = item.min if item.min is not None else 0
                high = item.max if item.max is not None else low + 100
                chosen[item.id] = str(rng.randint(int(low), int(high)))
            else:
                chosen[item.id] = "Cần cải thiện thời gian chờ."
        return chosen


TICKET = re.compile(r'name="ticket" value="([^"]+)"')
_ADDRESSES = itertools.count(1)  # shared by every run: no address comes back in a later run
_SEEDS = itertools.count(1)


def new_address() -> str:
    """A client address never used before in this benchmark (10.0.0.1, 10.0.0.2, …). Reusing addresses across
    runs would make later runs meet the staff-burst detector (5 responses per network and point in 15 minutes)
    and pay for flagging that ordinary traffic does not."""
    n = next(_ADDRESSES)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


@dataclass
class RunResult:
    label: str
    latencies: list[float] = field(default_factory=list)  # seconds, whole submission
    first_step: list[float] = field(default_factory=list)  # GET of the form (citizen flow only)
    elapsed: float = 0.0
    cpu: float = 0.0  # CPU seconds used by this (client) process during the measured run
    load: float = 0.0  # 1-minute load average when the measured run started
    server_cpu: float = 0.0  # CPU seconds used by the web server processes and the database server
    db_cpu: float = 0.0  # of which the database server (PostgreSQL; 0 for SQLite, which runs in the web process)
    db_exited_cpu: float = 0.0  # of which the database's exited children (autovacuum workers, closed connections)
    errors: int = 0
    first_error: str = ""

    @property
    def done(self) -> int:
        return len(self.latencies)

    def add(self, other: RunResult) -> None:
        """Fold in another round of the same kind of run."""
        self.latencies += other.latencies
        self.first_step += other.first_step
        self.elapsed += other.elapsed
        self.cpu += other.cpu
        self.server_cpu += other.server_cpu
        self.db_cpu += other.db_cpu
        self.db_exited_cpu += other.db_exited_cpu
        self.errors += other.errors
        self.first_error = self.first_error or other.first_error
        self.load = self.load or other.load

    @property
    def rate(self) -> float:
        return self.done / self.elapsed if self.elapsed else 0.0

    @property
    def cpu_ms(self) -> float:
        """Server-side CPU milliseconds per submission (web workers + database): insensitive to other load."""
        return 1000 * self.server_cpu / self.done if self.done else float("nan")

    @property
    def db_cpu_ms(self) -> float:
        return 1000 * self.db_cpu / self.done if self.done else float("nan")

    @property
    def db_exited_cpu_ms(self) -> float:
        return 1000 * self.db_exited_cpu / self.done if self.done else float("nan")

    def pct(self, q: float, values: list[float] | None = None) -> float:
        data = sorted(self.latencies if values is None else values)
        if not data:
            return float("nan")
        return data[min(len(data) - 1, round(q * (len(data) - 1)))] * 1000


def citizen_submission(
    base: str, token: str, answers: AnswerMaker, *, same_network: bool
) -> Callable[[httpx.Client, random.Random], float]:
    """One citizen: a new phone (no cookie yet) on its own network, unless ``same_network``.

    The server runs behind a reverse proxy in production (`serve` trusts X-Forwarded-For from
    127.0.0.1), so each simulated citizen gets its own client address that way.
    """
    form_url = f"{base}/q/{token}"

    def one(client: httpx.Client, rng: random.Random) -> float:
        client.cookies.clear()  # the device cookie set by the GET goes back with the POST, as on a phone
        if not same_network:
            client.headers["X-Forwarded-For"] = new_address()
        t0 = time.perf_counter()
        page = client.get(form_url)
        if page.status_code != 200:
            raise RuntimeError(f"GET form: {page.status_code}")
        match = TICKET.search(page.text)
        if not match:
            raise RuntimeError("no ticket in the form")
        t1 = time.perf_counter()
        data: dict[str, str | list[str]] = {"ticket": match.group(1), "lang": "vi", **answers(rng)}
        sent = client.post(form_url, data=data)
        if sent.status_code != 303 or "/cam-on" not in sent.headers.get("location", ""):
            raise RuntimeError(f"POST answers: {sent.status_code} {sent.text[:300]!r}")
        return t1 - t0

    return one


@dataclass(frozen=True)
class Fetched:
    ticket: str
    device: str  # the device cookie the GET set
    address: str


def fetch_forms(base: str, token: str, n: int, *, same_network: bool, clients: int) -> list[Fetched]:
    """``n`` blank forms as ``n`` citizens opened them (ticket, device cookie, address), fetched before the clock."""
    addresses = [new_address() for _ in range(n)]
    fetched: list[Fetched] = []
    lock = threading.Lock()

    def worker(part: list[str]) -> None:
        with httpx.Client(timeout=30) as client:
            for address in part:
                client.cookies.clear()
                page = client.get(f"{base}/q/{token}", headers={} if same_network else {"X-Forwarded-For": address})
                match = TICKET.search(page.text)
                if page.status_code != 200 or not match:
                    raise RuntimeError(f"GET form: {page.status_code}")
                with lock:
                    fetched.append(Fetched(match.group(1), client.cookies.get("sv_device") or "", address))

    threads = [threading.Thread(target=worker, args=(addresses[i::clients],)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if len(fetched) != n:
        raise RuntimeError(f"fetched {len(fetched)} of {n} forms")
    return fetched


def citizen_post(
    base: str, token: str, answers: AnswerMaker, forms: list[Fetched], *, same_network: bool
) -> Callable[[httpx.Client, random.Random], float]:
    """The submission alone: POST the answers of a form opened earlier (same device cookie and address)."""
    form_url = f"{base}/q/{token}"
    lock = threading.Lock()

    def one(client: httpx.Client, rng: random.Random) -> float:
        with lock:
            form = forms.pop()
        client.cookies.clear()
        client.cookies.set("sv_device", form.device)
        headers = {} if same_network else {"X-Forwarded-For": form.address}
        data: dict[str, str | list[str]] = {"ticket": form.ticket, "lang": "vi", **answers(rng)}
        sent = client.post(form_url, data=data, headers=headers)
        if sent.status_code != 303 or "/cam-on" not in sent.headers.get("location", ""):
            raise RuntimeError(f"POST answers: {sent.status_code} {sent.text[:300]!r}")
        return 0.0

    return one


def floor_submission(base: str) -> Callable[[httpx.Client, random.Random], float]:
    url = f"{base}/floor"

    def one(client: httpx.Client, rng: random.Random) -> float:
        response = client.post(url)
        if response.status_code != 204:
            raise RuntimeError(f"POST floor: {response.status_code} {response.text[:300]!r}")
        return 0.0

    return one


def drive(
    label: str,
    one: Callable[[httpx.Client, random.Random], float],
    *,
    clients: int,
    count: int,
    seconds: float,
    server_cpu: Callable[[], tuple[float, float, float]],
    warmup: int = WARMUP,
) -> RunResult:
    """``clients`` threads, each with its own keep-alive connection, until ``count`` submissions or ``seconds``
    (after ``warmup`` unmeasured ones)."""
    result = RunResult(label)
    lock = threading.Lock()
    issued = 0
    stop_at = 0.0

    def take() -> bool:
        nonlocal issued
        with lock:
            if issued >= count or time.perf_counter() >= stop_at:
                return False
            issued += 1
            return True

    def worker(seed: int, measured: bool) -> None:
        # A new seed for every worker of every run: repeating a run's answer sequences would trip the
        # duplicate-answers detector (3 identical answer sets per point in an hour) in later runs.
        rng = random.Random(seed)
        with httpx.Client(timeout=30, follow_redirects=False) as client:
            while take():
                t0 = time.perf_counter()
                try:
                    first = one(client, rng)
                except Exception as exc:
                    with lock:
                        result.errors += 1
                        result.first_error = result.first_error or f"{type(exc).__name__}: {exc}"
                    continue
                if measured:
                    with lock:
                        result.latencies.append(time.perf_counter() - t0)
                        result.first_step.append(first)

    def run(n: int, measured: bool) -> float:
        nonlocal issued, count, stop_at
        issued, count, stop_at = 0, n, time.perf_counter() + seconds
        threads = [threading.Thread(target=worker, args=(next(_SEEDS), measured)) for _ in range(clients)]
        start = time.perf_counter()
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        return time.perf_counter() - start

    total = count
    if warmup:
        run(warmup, measured=False)
    result.load = os.getloadavg()[0]
    cpu, (web_used, db_used, exited_used) = time.process_time(), server_cpu()
    result.elapsed = run(total, measured=True)
    result.cpu = time.process_time() - cpu
    web_now, db_now, exited_now = server_cpu()
    result.server_cpu = web_now - web_used + db_now - db_used
    result.db_cpu = db_now - db_used
    result.db_exited_cpu = exited_now - exited_used
    return result


# --------------------------------------------------------------------------- main


@dataclass
class Row:
    backend: str
    workers: int
    citizen: RunResult
    floor: RunResult
    post: RunResult  # the POST of the answers alone (forms fetched before the clock)
    round_ratios: list[tuple[float, float]] = field(default_factory=list)  # (visit, POST) ÷ floor, per round


def serve_cmd(port: int, workers: int) -> list[str]:
    return [*survey_app_cmd(), "serve", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers)]


# The floor under uvicorn with the same listening socket as `survey-app serve` (TCP_NODELAY, see cli.py).
_FLOOR_RUNNER = "from survey_app.cli import _nodelay_listener; _nodelay_listener(); import uvicorn.main; uvicorn.main.main()"


def floor_cmd(port: int, workers: int) -> list[str]:
    return [
        sys.executable, "-c", _FLOOR_RUNNER, "--app-dir", str(ROOT / "benchmarks"), "floor_app:create_app", "--factory",
        "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers), "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip


def run_config(
    backend: Backend, workers: int, args: argparse.Namespace, answers: AnswerMaker
) -> Row:
    """The floor, the POST alone and the whole visit, interleaved in ``args.rounds`` rounds.

    Both servers run side by side (the idle one costs nothing) and each round measures the three in turn, so a
    change in the machine's speed during the run (it shares its cores with other tenants: the floor's rate
    moved by 2× between runs minutes apart) falls on all three alike instead of on whichever ran last."""
    tag = f"{backend.name}-{workers}"
    citizen_base, floor_base = f"http://127.0.0.1:{free_port()}", f"http://127.0.0.1:{free_port()}"
    chunk = max(1, args.count // args.rounds)
    with (
        server(serve_cmd(int(citizen_base.rsplit(":", 1)[1]), workers), backend.env,
               f"{citizen_base}/q/{backend.token}", backend.workdir / f"serve-{tag}.log") as citizen_proc,
        server(floor_cmd(int(floor_base.rsplit(":", 1)[1]), workers), backend.env, f"{floor_base}/",
               backend.workdir / f"floor-{tag}.log") as floor_proc,
    ):  # fmt: skip
        def citizen_cpu() -> tuple[float, float, float]:
            live, exited = tree_cpu_parts(backend.db_pids())
            return tree_cpu([citizen_proc.pid]), live + exited, exited

        def floor_cpu() -> tuple[float, float, float]:
            live, exited = tree_cpu_parts(backend.db_pids())
            return tree_cpu([floor_proc.pid]), live + exited, exited

        print(f"[{tag}] fetching {WARMUP + chunk * args.rounds} forms for the POST-alone runs …", file=sys.stderr,
              flush=True)
        forms = fetch_forms(citizen_base, backend.token, WARMUP + chunk * args.rounds,
                            same_network=args.same_network, clients=args.clients)
        visit = citizen_submission(citizen_base, backend.token, answers, same_network=args.same_network)
        post = citizen_post(citizen_base, backend.token, answers, forms, same_network=args.same_network)
        floor = floor_submission(floor_base)
        row = Row(backend.name, workers, RunResult("citizen"), RunResult("floor"), RunResult("post"))
        for number in range(args.rounds):
            warmup = WARMUP if number == 0 else 0
            print(f"[{tag}] round {number + 1}/{args.rounds} …", file=sys.stderr, flush=True)
            measured = {
                "floor": drive("floor", floor, clients=args.clients, count=chunk, seconds=args.seconds / args.rounds,
                               server_cpu=floor_cpu, warmup=warmup),
                "post": drive("post", post, clients=args.clients, count=chunk, seconds=args.seconds / args.rounds,
                              server_cpu=citizen_cpu, warmup=warmup),
                "citizen": drive("citizen", visit, clients=args.clients, count=chunk,
                                 seconds=args.seconds / args.rounds, server_cpu=citizen_cpu, warmup=warmup),
            }  # fmt: skip
            row.round_ratios.append(
                (measured["citizen"].rate / measured["floor"].rate, measured["post"].rate / measured["floor"].rate)
            )
            row.floor.add(measured["floor"])
            row.citizen.add(measured["citizen"])
            row.post.add(measured["post"])
        return row


def table(rows: list[Row], args: argparse.Namespace) -> str:
    origin = "each submission from its own phone and address"
    if args.same_network:
        origin = "every submission from ONE network address"
    lines = [
        f"{args.clients} clients, up to {args.count} submissions or {args.seconds:g} s per run, loopback, "
        f"{os.cpu_count()} CPUs shared by clients, servers and anything else running; {origin}.",
        "",
        "| Backend | Workers | GET+POST /s (n) | p50 / p99 ms (GET's p50) | POST alone /s (n) | p50 / p99 ms | Floor /s (n) "
        "| p50 / p99 ms | Ratio GET+POST / POST | POST ratio per round (min / median / max) "
        "| Server CPU ms: GET+POST / POST / floor (of which database) | CPU ratio GET+POST / POST | Errors |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        c, p, f = r.citizen, r.post, r.floor
        lines.append(
            f"| {r.backend} | {r.workers} | {c.rate:.0f} ({c.done}) | {c.pct(0.5):.1f} / {c.pct(0.99):.1f} "
            f"({c.pct(0.5, c.first_step):.1f}) | "
            f"{p.rate:.0f} ({p.done}) | {p.pct(0.5):.1f} / {p.pct(0.99):.1f} | "
            f"{f.rate:.0f} ({f.done}) | {f.pct(0.5):.1f} / {f.pct(0.99):.1f} | "
            f"{_ratio(c.rate, f.rate)} / {_ratio(p.rate, f.rate)} | {_spread([b for _, b in r.round_ratios])} | "
            f"{c.cpu_ms:.1f} / {p.cpu_ms:.1f} / {f.cpu_ms:.1f}{_db_share(c, p, f)} | "
            f"{_ratio(f.cpu_ms, c.cpu_ms)} / {_ratio(f.cpu_ms, p.cpu_ms)} | {c.errors} / {p.errors} / {f.errors} |"
        )
    lines += [
        "",
        "GET+POST is a citizen's whole visit: GET /q/{token} (cached blank form, signed ticket, device cookie) + POST of",
        "the answers (ticket check, validation, device and network checks, insert, abuse detectors, 303); its latency",
        "covers both requests (the GET's own p50 in brackets). POST alone is the submission itself: the same POSTs on",
        "forms (ticket, device cookie, address) fetched before the clock started. The floor is one POST inserting one",
        "row (benchmarks/floor_app.py) "
        "with the same number of workers. Ratio = citizen ÷ floor per second (target ≥ 50%). The three are measured",
        f"in turn in {args.rounds} rounds of {max(1, args.count // args.rounds)}, both servers up throughout, so a change in the",
        "machine's speed falls on all three alike; the per-round column shows how much the POST-alone ratio still moved.",
        "Server CPU = CPU time of the web server processes (+ PostgreSQL server, including exited children such as",
        "autovacuum workers: the database and its exited children in brackets) per submission; CPU ratio = floor ÷ citizen,",
        "the throughput ratio to expect when the server side is CPU-bound, whatever else the machine is doing.",
        "Client CPU (s) / wall (s) / load average at start, per run: "
        + "; ".join(
            f"{r.backend}×{r.workers} citizen {r.citizen.cpu:.0f}/{r.citizen.elapsed:.0f}/"
            f"{r.citizen.load:.1f}, floor {r.floor.cpu:.0f}/{r.floor.elapsed:.0f}/{r.floor.load:.1f}"
            for r in rows
        ),
    ]
    return "\n".join(lines)


def count_flags(url: str) -> tuple[int, int]:
    from sqlalchemy import text

    from survey_app.db import make_engine

    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            stored = conn.execute(text("SELECT count(*) FROM response")).scalar_one()
            flags = conn.execute(text("SELECT count(DISTINCT response_id) FROM response_flag")).scalar_one()
        return int(stored), int(flags)
    finally:
        engine.dispose()


def _db_share(*runs: RunResult) -> str:
    if not any(r.db_cpu for r in runs):
        return ""  # SQLite: the database works inside the web process
    return (" (" + " / ".join(f"{r.db_cpu_ms:.1f}" for r in runs) + "; exited children "
            + " / ".join(f"{r.db_exited_cpu_ms:.1f}" for r in runs) + ")")


def _spread(ratios: list[float]) -> str:
    if not ratios:
        return "–"
    ordered = sorted(ratios)
    return f"{ordered[0]:.0%} / {statistics.median(ordered):.0%} / {ordered[-1]:.0%}"


def _ratio(a: float, b: float) -> str:
    return "–" if math.isnan(a) or math.isnan(b) or not b else f"{a / b:.0%}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clients", type=int, default=8, help="concurrent clients (default 8)")
    parser.add_argument("--count", type=int, default=2000, help="submissions per run (default 2000)")
    parser.add_argument("--seconds", type=float, default=60, help="time limit per run (default 60)")
    parser.add_argument("--rounds", type=int, default=4,
                        help="interleave floor, POST and visit in this many rounds of count/rounds each (default 4)")
    parser.add_argument("--backends", default="sqlite,postgresql", help="comma-separated: sqlite,postgresql")
    parser.add_argument(
        "--same-network",
        action="store_true",
        help="all submissions from one client address (burst-detector worst case) instead of one address each",
    )
    parser.add_argument("--keep", action="store_true", help="keep the working directory (server logs)")
    args = parser.parse_args(argv)
    if args.clients < 1 or args.count < 1 or args.seconds <= 0 or args.rounds < 1:
        parser.error("--clients, --count, --seconds and --rounds must be positive")
    names = [b.strip() for b in args.backends.split(",") if b.strip()]
    plan = {"sqlite": [1], "postgresql": [1, 2]}
    for name in names:
        if name not in plan:
            parser.error(f"unknown backend {name!r} (sqlite, postgresql)")

    answers = AnswerMaker(load_file(ROOT / "questionnaires" / "health.yaml"))
    rows: list[Row] = []
    flagged: dict[str, tuple[int, int]] = {}
    workroot = Path(tempfile.mkdtemp(prefix="survey-bench-"))
    try:
        for name in names:
            workdir = workroot / name
            workdir.mkdir()
            backend = prepare_backend(name, workdir, same_network=args.same_network)
            try:
                for workers in plan[name]:
                    rows.append(run_config(backend, workers, args, answers))
                    print(table(rows[-1:], args).splitlines()[4], file=sys.stderr, flush=True)  # as measured
                flagged[name] = count_flags(backend.url)
            finally:
                backend.cleanup()
    finally:
        if args.keep:
            print(f"logs kept in {workroot}", file=sys.stderr)
        else:
            shutil.rmtree(workroot, ignore_errors=True)
    for row in rows:
        for r in (row.citizen, row.post, row.floor):
            if r.errors:
                print(f"{row.backend}×{row.workers} {r.label}: {r.errors} failed, first: {r.first_error}", file=sys.stderr)
    print(table(rows, args))
    print("Responses stored / flagged by the abuse detectors during the runs (a realistic run flags almost none): "
          + "; ".join(f"{name} {stored:,} / {flags:,}" for name, (stored, flags) in flagged.items()))
    return 0 if all(r.citizen.errors == 0 and r.post.errors == 0 and r.floor.errors == 0 for r in rows) else 1


if __name__ == "__main__":
    raise SystemExit(main())
