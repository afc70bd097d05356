"""The task queue: eight independent scope solves drained by one worker process, then by two,
in one run on this machine (the wall-time ratio is the figure; target >= 1.7x on 2 cores),
timed from when a worker takes the first plan (the workers' own start-up, a few seconds of
imports, is printed beside it but is not the queue's throughput), and
the p99 of ``GET /health`` from the web process while two workers solve, beside idle.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1:5432/sel_queue_bench \\
        python -m bench.queue_bench [--queue redis://127.0.0.1:6379/2] [--scopes 8]

PostgreSQL is needed for two workers (SQLite has one writer: with a SQLite database the bench
drains with one worker only and says so). The queue is a SQLite file under a temporary
directory unless ``--queue`` names Redis. Each scope is one organisation of ``--people``
leaders with a weekly commitment over 12 weeks, solved with ``--time-limit`` seconds and one
CP-SAT thread (SOLVER_WORKERS=1), so one solve uses one core.
"""

from __future__ import annotations

import argparse
import os
import secrets
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from config import TestingConfig  # noqa: E402
from sel_time import create_app  # noqa: E402
from sel_time.core.audit import CLI_ACTOR  # noqa: E402
from sel_time.core.clock import today_london  # noqa: E402
from sel_time.core.extensions import db  # noqa: E402
from sel_time.core.transaction import boundary  # noqa: E402
from sel_time.directory import records  # noqa: E402
from sel_time.models import Plan, PlanStatus  # noqa: E402
from sel_time.plans import tasks  # noqa: E402
from sel_time.plans.planning import request_plan  # noqa: E402
from tests.support.workers import workers  # noqa: E402


def create(entity: str, **data: object) -> object:
    obj = records.create(records.ENTITIES[entity], data, CLI_ACTOR)
    db.session.commit()
    return obj


def seed(scopes: int, people: int) -> list[str]:
    create("rates", staff_group="consultant", label="Consultant", rate_per_hour="100.00",
           effective_from="2025-01-01", source="bench figures")
    days = ("Mon", "Tue", "Wed", "Thu", "Fri")
    pattern = [{"day": d, "half": h, "kind": "clinical"} for d in days for h in ("AM", "PM")]
    out = []
    for i in range(scopes):
        org = create("organisations", code=f"b{i}", name=f"Bench trust {i}", kind="acute_trust",
                     borough="Lambeth")
        dept = create("departments", organisation_id=org.id, code=f"b{i}-d",  # type: ignore[attr-defined]
                      name="Department", max_away=2)
        for j in range(people):
            p = create("people", organisation_id=org.id, department_id=dept.id,  # type: ignore[attr-defined]
                       name=f"Lead {i}-{j}", email=f"b{i}.{j}@nhs.net", profession="consultant",
                       band=None, pattern=pattern)
            role = create("roles", host_organisation_id=org.id, code=f"b{i}r{j}",  # type: ignore[attr-defined]
                          title=f"Lead {i}-{j}", level="place", commitment_amount=1,
                          commitment_unit="session", commitment_per="week")
            create("assignments", person_id=p.id, role_id=role.id,  # type: ignore[attr-defined]
                   start_date="2025-01-01")
        out.append(f"organisation:b{i}")
    return out


def drain(app_url: str, queue_url: str, scopes: list[str], count: int, limit: float,
          probe: bool, log_dir: Path) -> tuple[float, list[float]]:
    start = today_london() + timedelta(days=(7 - today_london().weekday()) % 7 or 7)
    with boundary():
        for plan in db.session.scalars(sa.select(Plan).where(Plan.active_scope.is_not(None))):
            plan.active_scope, plan.status = None, PlanStatus.SUPERSEDED
    with boundary():
        ids = []
        for scope in scopes:
            plan = request_plan(start, 12, scope, limit, CLI_ACTOR)
            tasks.queue_solve(plan)
            ids.append(plan.id)
    latencies: list[float] = []
    from sel_time import create_app as make

    web = make(TestingConfig, SQLALCHEMY_DATABASE_URI=app_url, QUEUE_URL=queue_url,
               QUEUE_IMMEDIATE=False)
    client = web.test_client()
    t0 = time.monotonic()
    first_taken: float | None = None  # when a worker took the first plan (workers are up)
    with workers(app_url, queue_url, count=count, log_dir=log_dir,
                 SEL_TIME_SOLVER_WORKERS="1"):
        while True:
            if probe:
                t = time.perf_counter()
                client.get("/health")
                latencies.append(time.perf_counter() - t)
            db.session.expire_all()
            counts = dict(db.session.execute(
                sa.select(Plan.status, sa.func.count(Plan.id)).where(Plan.id.in_(ids))
                .group_by(Plan.status)).all())
            db.session.rollback()
            if first_taken is None and counts.get(PlanStatus.QUEUED, 0) < len(ids):
                first_taken = time.monotonic()
            if not counts.get(PlanStatus.QUEUED, 0) + counts.get(PlanStatus.RUNNING, 0):
                break
            time.sleep(0.25 if probe else 0.1)  # a probe every 0.25 s: little of a core
    end = time.monotonic()
    print(f"  {count} worker(s): {end - t0:.1f} s from the processes' start, "
          f"{end - (first_taken or t0):.1f} s from the first plan taken", flush=True)
    return end - (first_taken or t0), latencies


def p99(xs: list[float]) -> float:
    return statistics.quantiles(xs, n=100)[98] * 1000 if len(xs) >= 2 else float("nan")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scopes", type=int, default=8)
    parser.add_argument("--people", type=int, default=120)  # solves of a few seconds each
    parser.add_argument("--time-limit", type=float, default=20)
    parser.add_argument("--queue", default="")
    args = parser.parse_args()
    os.environ.setdefault("SECRET_KEY", secrets.token_hex(32))
    tmp = Path(tempfile.mkdtemp(prefix="queue-bench-"))
    db_url = os.environ.get("DATABASE_URL") or f"sqlite:///{tmp / 'bench.sqlite'}"
    queue_url = args.queue or f"sqlite:///{tmp / 'queue.sqlite'}"
    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=db_url, QUEUE_URL=queue_url,
                     QUEUE_IMMEDIATE=False)
    with app.app_context():
        if db_url.startswith("postgres"):
            db.session.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
            db.session.commit()
        db.create_all()
        scopes = seed(args.scopes, args.people)
        if args.queue.startswith("redis"):
            import redis

            redis.Redis.from_url(args.queue).flushdb()
        idle = []
        client = app.test_client()
        for _ in range(200):
            t = time.perf_counter()
            client.get("/health")
            idle.append(time.perf_counter() - t)
        one, _ = drain(db_url, queue_url, scopes, 1, args.time_limit, False, tmp)
        print(f"{args.scopes} scopes, 1 worker:  {one:6.1f} s (drained)", flush=True)
        if not db_url.startswith("postgres"):
            print("SQLite database: one writer, so one worker only (set DATABASE_URL to "
                  "PostgreSQL for two)")
            return 0
        two, busy = drain(db_url, queue_url, scopes, 2, args.time_limit, True, tmp)
        print(f"{args.scopes} scopes, 2 workers: {two:6.1f} s (drained)   ratio {one / two:.2f}x "
              f"(target >= 1.7x)")
        print(f"/health p99: idle {p99(idle):.1f} ms, two workers solving {p99(busy):.1f} ms "
              f"({len(busy)} requests)")
        print(f"threads in this (web) process after both runs: {threading.active_count()}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
