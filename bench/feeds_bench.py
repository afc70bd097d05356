"""Calendar feeds: time to render every demo feed, and the cached feed endpoint under gunicorn.

    python -m bench.feeds_bench                      # demo, 12-week plan, render, serve, load
    python -m bench.feeds_bench --duration 10 --connections 16 --client python

1. Load the south-east-London demo into a temporary SQLite database, plan 12 weeks (CP-SAT,
   30 s), publish, then render every feed of the demo with the feed cache and the event memo
   emptied: all at once as after a publish (`service.rendered_feeds`, what `render_all` and
   the nightly job run) and one at a time (`all_feeds` + `get_feed`, as each first request
   after a change). Target: all feeds in <= 5 s.
2. Start gunicorn (2 sync workers, as production runs it) on loopback against that database,
   issue a leader's feed link, warm the cache, then load `GET /feeds/<token>.ics` with
   concurrent clients for `--duration` seconds. Baselines in the same run, same workers:
   gunicorn serving fixed bytes of the same size without Flask (`static_app`, the floor), and
   the app's `GET /health` (Flask plus one database query). Targets on 2 cores:
   >= 1,000 requests/s and p99 <= 50 ms for the cached feed.

The load generator is `wrk` when it is installed (`--client wrk`) and otherwise this script's
own: processes of threads, each with an `http.client` connection reused across requests
(gunicorn's sync workers close it after each response; http.client reopens it). The client
shares the machine's cores with the server, so the figures are a floor, not a ceiling.
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import os
import platform
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
from dataclasses import dataclass
from datetime import date, timedelta
from http.client import HTTPConnection
from pathlib import Path
from typing import Any, Sequence

ROOT = Path(__file__).resolve().parent.parent
RENDER_TARGET_S = 5.0
RPS_TARGET = 1_000.0
# The key the benches' apps and their gunicorn share (production settings need a strong one).
SECRET_KEY = secrets.token_hex(32)
P99_TARGET_MS = 50.0


# ---- 1. a published demo and the time to render all of its feeds ------------------------------


def next_monday(today: date) -> date:
    return today + timedelta(days=(7 - today.weekday()) % 7 or 7)


def build_demo(db_path: Path, weeks: int, time_limit: float) -> dict[str, Any]:
    """Load the demo, plan and publish; return what the later steps need."""
    import sqlalchemy as sa
    from flask_migrate import upgrade

    from config import DevelopmentConfig
    from sel_time import create_app
    from sel_time.core.audit import CLI_ACTOR
    from sel_time.core.clock import today_london
    from sel_time.core.extensions import db
    from sel_time.demo import load_demo
    from sel_time.feeds.routes import feed_url
    from sel_time.feeds.service import issue_token
    from sel_time.models import FeedKind, PlanStatus, User, UserRole
    from sel_time.plans.planning import request_plan, run_plan
    from sel_time.plans.publishing import publish

    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_path}",
                     SECRET_KEY=SECRET_KEY)
    out: dict[str, Any] = {}
    with app.app_context():
        upgrade()  # the schema as production has it (so /health reads its revision)
        start = next_monday(today_london())
        load_demo(db.session, start=start)
        db.session.commit()
        t0 = time.perf_counter()
        plan = request_plan(start, weeks, "system", time_limit, CLI_ACTOR)
        db.session.commit()
        plan = run_plan(plan.id)
        if plan.status != PlanStatus.DRAFT:
            sys.exit(f"the plan did not solve: {plan.status.value} {plan.error}")
        report = publish(plan.id, CLI_ACTOR)
        db.session.commit()
        out["plan_s"] = time.perf_counter() - t0
        out["publish"] = report.summary()
        out["render"] = render_all_feeds()
        leader = db.session.scalar(sa.select(User).where(User.role == UserRole.LEADER,
                                                         User.person_id.is_not(None)).order_by(User.id))
        assert leader is not None and leader.person_id is not None
        _, secret = issue_token(leader, FeedKind.PERSON, leader.person_id, CLI_ACTOR)
        db.session.commit()
        out["feed_path"] = "/feeds/" + feed_url(secret)["url"].rsplit("/feeds/", 1)[1]
        db.session.remove()
        db.engine.dispose()
    return out


def render_all_feeds() -> dict[str, Any]:
    """Render every feed from cold (no cached bodies, no memoised events), twice: as after a
    publish (`service.rendered_feeds`, one load of the sessions for all feeds) and one feed at
    a time (`all_feeds` + `get_feed`, as each first request after a change does)."""
    from sel_time.core.extensions import db
    from sel_time.feeds import render, service

    def cold() -> None:
        service.mark_all_stale()
        db.session.commit()
        render._vevent_bytes.cache_clear()
        render._vtimezone_bytes.cache_clear()
        db.session.expire_all()

    out: dict[str, Any] = {}
    for label in ("one at a time", "all at once"):
        cold()
        wall, cpu = time.perf_counter(), time.process_time()
        if label == "all at once":
            bodies = {(kind, i): feed.body for kind, i, _, feed in service.rendered_feeds()}
        else:
            bodies = {(kind, i): service.get_feed(kind, i).body
                      for kind, i, _ in service.all_feeds()}
        db.session.commit()
        out[label] = (time.perf_counter() - wall, time.process_time() - cpu)
        out.setdefault("bodies", bodies)
        assert bodies == out["bodies"], "the two ways of rendering disagree"
    bodies = out.pop("bodies")
    sizes: dict[str, list[int]] = {}
    for (kind, _), body in bodies.items():
        sizes.setdefault(kind.value, []).append(len(body))
    out.update(feeds=len(bodies), events=sum(b.count(b"BEGIN:VEVENT") for b in bodies.values()),
               sizes=sizes, seconds=out["all at once"][0])
    return out


# ---- 2. the cached feed under gunicorn ---------------------------------------------------------


def static_app(environ: dict[str, Any], start_response: Any) -> list[bytes]:
    """The floor: gunicorn answering every request with the same bytes (no Flask, no database)."""
    start_response("200 OK", [("Content-Type", "text/calendar; charset=utf-8"),
                              ("Content-Length", str(len(STATIC_BODY)))])
    return [STATIC_BODY]


STATIC_BODY = b"BEGIN:VCALENDAR\r\n" + b"X" * 18_000 + b"\r\nEND:VCALENDAR\r\n"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_healthy(port: int, timeout: float) -> bool:
    """Wait up to ``timeout`` seconds for ``GET /health`` on loopback to answer 200."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            conn = HTTPConnection("127.0.0.1", port, timeout=2)
            conn.request("GET", "/health")
            if conn.getresponse().status == 200:
                return True
        except OSError:
            time.sleep(0.2)
    return False


def start_gunicorn(db_path: Path, port: int, workers: int,
                   app: str = "sel_time:create_app()") -> subprocess.Popen[bytes]:
    env = {k: v for k, v in os.environ.items() if k not in ("DATABASE_URL", "SEL_TIME_ENV")}
    env["DATABASE_URL"] = f"sqlite:///{db_path}"
    env["SECRET_KEY"] = SECRET_KEY  # production settings, as deployed
    gunicorn = Path(sys.executable).parent / "gunicorn"
    proc = subprocess.Popen(
        [str(gunicorn), "-w", str(workers), "-b", f"127.0.0.1:{port}", "--log-level", "warning",
         app],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    if wait_healthy(port, 30):
        return proc
    proc.kill()
    sys.exit("gunicorn did not start:\n" + (proc.stderr.read().decode() if proc.stderr else ""))


@dataclass
class Load:
    label: str
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float
    bytes_per_response: int

    @property
    def rps(self) -> float:
        return self.requests / self.seconds


def _client_worker(port: int, path: str, headers: dict[str, str], threads: int, stop_at: float,
                   queue: Any) -> None:
    latencies: list[float] = []
    errors = [0]
    size = [0]
    lock = threading.Lock()

    def run() -> None:
        conn = HTTPConnection("127.0.0.1", port, timeout=30)
        mine: list[float] = []
        bad = 0
        while time.perf_counter() < stop_at:
            t0 = time.perf_counter()
            try:
                conn.request("GET", path, headers=headers)
                response = conn.getresponse()
                body = response.read()
                ok = response.status == 200
            except OSError:
                conn.close()
                ok, body = False, b""
            mine.append(time.perf_counter() - t0)
            bad += not ok
            if ok:
                size[0] = len(body)
        conn.close()
        with lock:
            latencies.extend(mine)
            errors[0] += bad

    pool = [threading.Thread(target=run) for _ in range(threads)]
    for t in pool:
        t.start()
    for t in pool:
        t.join()
    queue.put((latencies, errors[0], size[0]))


def load_python(label: str, port: int, path: str, connections: int, duration: float,
                headers: dict[str, str] | None = None) -> Load:
    headers = headers or {}
    ctx = mp.get_context("fork")
    processes = min(connections, max(1, os.cpu_count() or 1))
    per = [connections // processes + (i < connections % processes) for i in range(processes)]
    queue: Any = ctx.Queue()
    stop_at = time.perf_counter() + 0.5 + duration
    procs = [ctx.Process(target=_client_worker, args=(port, path, headers, n, stop_at, queue))
             for n in per]
    for p in procs:
        p.start()
    results = [queue.get() for _ in procs]
    for p in procs:
        p.join()
    latencies = sorted(x for r in results for x in r[0])
    errors = sum(r[1] for r in results)
    return Load(label, len(latencies) - errors, errors, duration,
                statistics.median(latencies) * 1000, _percentile(latencies, 0.99) * 1000,
                max(r[2] for r in results))


_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3}


def load_wrk(label: str, port: int, path: str, connections: int, duration: float,
             headers: dict[str, str] | None = None) -> Load:
    args = ["wrk", "-t", str(min(connections, 2)), "-c", str(connections), "-d", f"{duration:g}s",
            "--timeout", "10s", "--latency"]
    for name, value in (headers or {}).items():
        args += ["-H", f"{name}: {value}"]
    out = subprocess.run([*args, f"http://127.0.0.1:{port}{path}"], capture_output=True, text=True,
                         check=True).stdout
    requests = int(re.search(r"(\d+) requests in", out).group(1))  # type: ignore[union-attr]
    m = re.search(r"requests in ([\d.]+)(\w+),", out)
    assert m is not None, out
    seconds = float(m.group(1)) * {"s": 1, "ms": 1e-3, "m": 60}[m.group(2)]
    lat = dict(re.findall(r"^\s+(\d+)%\s+([\d.]+\w+)\s*$", out, re.MULTILINE))

    def ms(text: str) -> float:
        mm = re.fullmatch(r"([\d.]+)(us|ms|s)", text)
        assert mm is not None, text
        return float(mm.group(1)) * _UNITS[mm.group(2)]

    errors = int(m2.group(1)) if (m2 := re.search(r"Non-2xx or 3xx responses: (\d+)", out)) else 0
    socket_errors = r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)"
    if m3 := re.search(socket_errors, out):
        errors += sum(int(x) for x in m3.groups())
    return Load(label, requests - errors, errors, seconds, ms(lat["50"]), ms(lat["99"]), 0)


def _percentile(values: Sequence[float], q: float) -> float:
    return values[min(len(values) - 1, int(q * len(values)))] if values else float("nan")


# ---- report ------------------------------------------------------------------------------------


def verdict(ok: bool) -> str:
    return "meets target" if ok else "MISSES target"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--time-limit", type=float, default=30.0, help="solver seconds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load run")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    args = parser.parse_args(argv)
    client = args.client
    if client == "auto":
        client = "wrk" if shutil.which("wrk") else "python"
    load = load_wrk if client == "wrk" else load_python

    print(f"sel-time feeds bench · Python {platform.python_version()} · {os.cpu_count()} cores · "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory(prefix="feeds-bench-") as tmp:
        db_path = Path(tmp) / "bench.sqlite"
        demo = build_demo(db_path, args.weeks, args.time_limit)
        render = demo["render"]
        print(f"\nDemo planned ({args.weeks} weeks) and published in {demo['plan_s']:.1f} s: "
              f"{demo['publish']}")
        print(f"1. Render every demo feed from cold: {render['feeds']} feeds, "
              f"{render['events']:,} events in all")
        for kind, values in render["sizes"].items():
            print(f"   {kind:<13} {len(values):>4} feeds, largest {max(values) / 1024:,.1f} KiB")
        for label in ("all at once", "one at a time"):
            wall, cpu = render[label]
            print(f"   {label:<14} {wall:6.2f} s wall, {cpu:6.2f} s CPU")
        print(f"   all at once (after a publish) {render['seconds']:.2f} s "
              f"(target <= {RENDER_TARGET_S:g} s): {verdict(render['seconds'] <= RENDER_TARGET_S)}")

        port, static_port = free_port(), free_port()
        server = start_gunicorn(db_path, port, args.workers)
        static = start_gunicorn(db_path, static_port, args.workers, "bench.feeds_bench:static_app")
        try:
            conn = HTTPConnection("127.0.0.1", port, timeout=10)
            conn.request("GET", demo["feed_path"])
            first = conn.getresponse()
            body = first.read()
            assert first.status == 200 and body.startswith(b"BEGIN:VCALENDAR"), first.status
            print(f"\n2. gunicorn -w {args.workers} (sync) on loopback, {client} client, "
                  f"{args.connections} connections, {args.duration:g} s each; "
                  f"load average {os.getloadavg()[0]:.1f}")
            conns, duration = args.connections, args.duration
            runs = [load("static bytes (no Flask)", static_port, "/", conns, duration),
                    load("GET /health (Flask+DB)", port, "/health", conns, duration),
                    load("cached leader feed", port, demo["feed_path"], conns, duration)]
        finally:
            for proc in (server, static):
                proc.send_signal(signal.SIGTERM)
                proc.wait(timeout=30)
        print(f"   {'':<26} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}")
        for run in runs:
            print(f"   {run.label:<26} {run.rps:>8,.0f} {run.p50_ms:>8.2f} {run.p99_ms:>8.2f} "
                  f"{run.errors:>7}")
        static_run, health, feed = runs
        print(f"   feed body {len(body) / 1024:.1f} KiB; feed/static throughput "
              f"{feed.rps / static_run.rps:.2f}, feed/health {feed.rps / health.rps:.2f}")
        ok_rps, ok_p99 = feed.rps >= RPS_TARGET, feed.p99_ms <= P99_TARGET_MS
        print(f"   throughput {feed.rps:,.0f} req/s (target >= {RPS_TARGET:,.0f}): "
              f"{verdict(ok_rps)}")
        print(f"   p99 {feed.p99_ms:.1f} ms (target <= {P99_TARGET_MS:g} ms): {verdict(ok_p99)}")
        print(f"   load average {os.getloadavg()[0]:.1f} at the end (figures are for a machine "
              f"with {os.cpu_count()} cores shared with that load)")
        ok = render["seconds"] <= RENDER_TARGET_S and ok_rps and ok_p99 and feed.errors == 0
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
