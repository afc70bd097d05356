"""Load: the cached feed, the plan grid for the whole demo and the cost summaries under
concurrent clients, with gunicorn on loopback.

    python -m bench.load_bench                       # demo, 12-week plan, serve, load
    python -m bench.load_bench --duration 10 --users 20 --feed-connections 16

1. Load the south-east-London demo into a temporary SQLite database through the migrations,
   plan 12 weeks (CP-SAT, 30 s) and publish: `bench.feeds_bench.build_demo`, which also issues
   a leader's feed link.
2. Start gunicorn (`-w 2`, as production runs it) on loopback against that database. Sign a
   rota manager in (a session cookie signed with the server's secret, as `/login` would set)
   and give the finance officer an API token.
3. Load, one after another, for `--duration` seconds each, with keep-alive clients:
   - `GET /health` (Flask plus one query): the baseline, measured in the same run;
   - `GET /feeds/<token>.ics`, cached, `--feed-connections` clients;
   - `GET /manage/plans/<id>?org=` (the grid page of the published plan for every
     organisation: all people of the demo), `--users` clients, asking for gzip as browsers
     do (the target), then again without (for comparison);
   - `GET /api/v1/costs?by=organisation,month` (bearer token), `--users` clients.
   Each prints requests/s, p50, p99, errors and its throughput relative to the baseline.

Targets on 2 cores: the feed >= 1,000 requests/s at p99 <= 50 ms; the grid and the cost
summaries p99 <= 300 ms at 20 concurrent users. The load generator is `wrk` when installed
(`--client wrk`), else a Python client (processes of threads with `http.client` connections).
The client shares the machine's cores with the server, so the figures are a floor.
"""
from __future__ import annotations

import argparse
import os
import platform
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Sequence
from http.client import HTTPConnection
from pathlib import Path
from typing import Any

from bench.feeds_bench import (
    SECRET_KEY,
    build_demo,
    free_port,
    load_python,
    load_wrk,
    start_gunicorn,
    verdict,
)

FEED_RPS, FEED_P99 = 1_000.0, 50.0
PAGE_P99 = 300.0
# what Chrome, Edge and Firefox send; every browser a rota manager uses asks for gzip
BROWSER_ENCODINGS = "gzip, deflate, br"


def prepare(db_path: Path) -> dict[str, Any]:
    """The published plan's id, a rota manager's session cookie and a finance API token."""
    import sqlalchemy as sa

    from config import DevelopmentConfig
    from sel_time import create_app
    from sel_time.core.auth import create_api_token
    from sel_time.core.extensions import db
    from sel_time.models import Person, Plan, PlanStatus, User, UserRole

    app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_path}",
                     SECRET_KEY=SECRET_KEY)
    with app.app_context():
        plan = db.session.scalar(sa.select(Plan).where(Plan.status == PlanStatus.PUBLISHED)
                                 .order_by(Plan.id.desc()))
        assert plan is not None
        manager = db.session.scalar(sa.select(User).where(User.role == UserRole.ROTA_MANAGER)
                                    .order_by(User.id))
        finance = db.session.scalar(sa.select(User).where(User.role == UserRole.FINANCE)
                                    .order_by(User.id))
        assert manager is not None and finance is not None
        _, token = create_api_token(finance, "load bench")
        people = db.session.scalar(sa.select(sa.func.count(Person.id))) or 0
        db.session.commit()
        serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
        assert serializer is not None
        cookie = serializer.dumps({"_user_id": str(manager.id), "_fresh": True})
        out = {"plan": plan.id, "people": people, "token": token,
               "cookie": f"{app.config.get('SESSION_COOKIE_NAME', 'session')}={cookie}",
               "sessions": len(plan.sessions)}
        db.session.remove()
        db.engine.dispose()
    return out


def fetch(port: int, path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    conn = HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        conn.request("GET", path, headers=headers)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--weeks", type=int, default=12)
    parser.add_argument("--time-limit", type=float, default=30.0, help="solver seconds")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--users", type=int, default=20,
                        help="clients for the grid and the summaries")
    parser.add_argument("--feed-connections", type=int, default=16)
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per load run")
    parser.add_argument("--client", choices=("auto", "wrk", "python"), default="auto")
    parser.add_argument("--database", type=Path, default=None,
                        help="reuse a demo database built by an earlier run (kept with --keep)")
    parser.add_argument("--keep", type=Path, default=None, help="copy the demo database here")
    args = parser.parse_args(argv)
    client = args.client if args.client != "auto" else ("wrk" if shutil.which("wrk") else "python")
    load = load_wrk if client == "wrk" else load_python

    print(f"sel-time load bench · Python {platform.python_version()} · {os.cpu_count()} cores · "
          f"load average {os.getloadavg()[0]:.1f} at the start")
    with tempfile.TemporaryDirectory(prefix="load-bench-") as tmp:
        db_path = Path(tmp) / "bench.sqlite"
        if args.database:
            shutil.copyfile(args.database, db_path)
            import sqlalchemy as sa

            from config import DevelopmentConfig
            from sel_time import create_app
            from sel_time.core.audit import CLI_ACTOR
            from sel_time.core.extensions import db
            from sel_time.feeds.routes import feed_url
            from sel_time.feeds.service import issue_token
            from sel_time.models import FeedKind, User, UserRole

            app = create_app(DevelopmentConfig, SQLALCHEMY_DATABASE_URI=f"sqlite:///{db_path}",
                             SECRET_KEY=SECRET_KEY)
            with app.app_context():
                leader = db.session.scalar(sa.select(User).where(User.role == UserRole.LEADER,
                                                                 User.person_id.is_not(None)).order_by(User.id))
                assert leader is not None and leader.person_id is not None
                _, secret = issue_token(leader, FeedKind.PERSON, leader.person_id, CLI_ACTOR)
                db.session.commit()
                feed_path = "/feeds/" + feed_url(secret)["url"].rsplit("/feeds/", 1)[1]
                demo: dict[str, Any] = {"feed_path": feed_path}
                db.session.remove()
                db.engine.dispose()
            print(f"\nReusing the demo database {args.database}")
        else:
            demo = build_demo(db_path, args.weeks, args.time_limit)
            print(f"\nDemo planned ({args.weeks} weeks) and published in {demo['plan_s']:.1f} s: "
                  f"{demo['publish']}")
            if args.keep:
                shutil.copyfile(db_path, args.keep)
        extra = prepare(db_path)
        print(f"Published plan {extra['plan']}: {extra['sessions']:,} sessions, "
              f"{extra['people']} people")
        cookie = {"Cookie": extra["cookie"]}
        browser = {**cookie, "Accept-Encoding": BROWSER_ENCODINGS}
        bearer = {"Authorization": f"Bearer {extra['token']}"}
        grid_path = f"/manage/plans/{extra['plan']}?org="
        costs_path = "/api/v1/costs?by=organisation,month"
        port = free_port()
        server = start_gunicorn(db_path, port, args.workers)
        try:
            # warm up each path once (feed cache, templates) and check it answers as it should
            for path, headers in ((demo["feed_path"], {}), (grid_path, cookie),
                                  (grid_path, browser), (costs_path, bearer)):
                t0 = time.perf_counter()
                status, body = fetch(port, path, headers)
                assert status == 200, (path, status, body[:300])
                gz = " gzip" if "Accept-Encoding" in headers else ""
                print(f"   first GET {path.split('?')[0][:40]:<40}{gz:5} {status} "
                      f"{len(body) / 1024:8.1f} KiB {(time.perf_counter() - t0) * 1000:8.1f} ms")
            # every worker renders the grid and the summary once before the clock runs
            from concurrent.futures import ThreadPoolExecutor

            with ThreadPoolExecutor(2 * args.workers) as pool:
                list(pool.map(lambda pair: fetch(port, *pair),
                              [(grid_path, browser), (costs_path, bearer)] * 2 * args.workers))
            _, grid_body = fetch(port, grid_path, cookie)
            shown = grid_body.count(b'<th scope="row"')
            print(f"   the grid page shows {shown} people rows")
            print(f"\ngunicorn -w {args.workers} on loopback, {client} client, "
                  f"{args.duration:g} s each; load average {os.getloadavg()[0]:.1f}")
            users, feed_conns, duration = args.users, args.feed_connections, args.duration
            runs = [
                (load("GET /health (baseline)", port, "/health", users, duration), None),
                (load("cached leader feed", port, demo["feed_path"], feed_conns, duration), "feed"),
                (load("plan grid, browser (gzip)", port, grid_path, users, duration, browser),
                 "page"),
                (load("plan grid, no gzip", port, grid_path, users, duration, cookie), "info"),
                (load("costs by org, month", port, costs_path, users, duration, bearer), "page"),
            ]
        finally:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=30)
            except subprocess.TimeoutExpired:  # workers still busy with queued requests
                server.kill()
                server.wait(timeout=30)
    base = runs[0][0]
    print(f"   {'':<24} {'clients':>7} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7} "
          f"{'÷ health':>8}")
    ok = True
    conns = [args.users, args.feed_connections, args.users, args.users, args.users]
    for (run, kind), n in zip(runs, conns):
        print(f"   {run.label:<24} {n:>7} {run.rps:>8,.0f} {run.p50_ms:>8.1f} {run.p99_ms:>8.1f} "
              f"{run.errors:>7} {run.rps / base.rps:>8.3f}")
    for run, kind in runs:
        if kind == "feed":
            good = run.rps >= FEED_RPS and run.p99_ms <= FEED_P99 and run.errors == 0
            print(f"   {run.label}: {run.rps:,.0f} req/s (>= {FEED_RPS:,.0f}), "
                  f"p99 {run.p99_ms:.1f} ms (<= {FEED_P99:g}): {verdict(good)}")
        elif kind == "page":
            good = run.p99_ms <= PAGE_P99 and run.errors == 0
            print(f"   {run.label}: p99 {run.p99_ms:.1f} ms at {args.users} users "
                  f"(<= {PAGE_P99:g}): {verdict(good)}")
        elif kind == "info":  # a client that does not ask for gzip: reported, not the target
            print(f"   {run.label}: p99 {run.p99_ms:.1f} ms at {args.users} users (for comparison)")
            continue
        else:
            continue
        ok = ok and good
    print(f"   load average {os.getloadavg()[0]:.1f} at the end "
          f"({os.cpu_count()} cores shared with the client)")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
