"""PostgreSQL restarted again and again under readers: every answer must be a 200 or a 503.

    python -m bench.restart_stress                      # 12 restarts, 6 clients
    python -m bench.restart_stress --restarts 30 --clients 8 --health-only

Needs the local PostgreSQL cluster (127.0.0.1:5432, database ``test`` or ``DATABASE_URL``) and
the right to run ``pg_ctlcluster`` (as the CI machines allow). It works in a schema of its own,
dropped afterwards, and starts PostgreSQL again whatever happens.

1. Migrate a fresh schema with ``sel-time db upgrade``, add a rota manager with an API token.
2. Start gunicorn (``-w 2``, as production runs it) against it.
3. ``--clients`` threads read, round robin, ``/health``, ``/api/v1/organisations``,
   ``/api/v1/people`` and ``/api/v1/costs`` (``--health-only``: just ``/health``), while
   PostgreSQL is stopped (``-m fast``: every connection is ended, as a restart does) and
   started again ``--restarts`` times at random moments, 0.5-2 s apart and 0.5-2 s away.
4. Print the replies by status after each restart and the server's log lines at warning and
   above. Exit 1 if any reply was other than 200 or 503.

This is the stress behind the README's reliability row; ``tests/core/test_postgres_restart.py``
runs a short version of it in CI.
"""
from __future__ import annotations

import argparse
import os
import random
import secrets
import signal
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from http.client import HTTPConnection, HTTPException
from pathlib import Path

import sqlalchemy as sa

from bench.feeds_bench import free_port, wait_healthy

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PG = (os.environ.get("DATABASE_URL", "")
      if os.environ.get("DATABASE_URL", "").startswith("postgresql+psycopg")
      else "postgresql+psycopg://postgres@127.0.0.1:5432/test")
READS = ["/health", "/api/v1/organisations", "/api/v1/people?per_page=5",
         "/api/v1/costs?by=organisation"]


def cluster() -> str:
    return max(p.name for p in Path("/etc/postgresql").iterdir())


def pg_ctl(action: str, *options: str) -> None:
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", cluster(), "main", action,
                    *options], check=True, capture_output=True, timeout=120)


def pg_ready() -> bool:
    ready = subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False)
    return ready.returncode == 0


def prepare(url: str) -> str:
    """Migrate the schema and return a rota manager's API token."""
    env = {**os.environ, "DATABASE_URL": url}
    done = subprocess.run([str(BIN / "sel-time"), "db", "upgrade"], env=env, cwd=ROOT,
                          capture_output=True, text=True, check=False)
    if done.returncode:
        sys.exit("migration failed:\n" + done.stderr)
    from config import TestingConfig
    from sel_time import create_app
    from sel_time.core.auth import create_api_token
    from sel_time.core.extensions import db
    from sel_time.models import User, UserRole

    app = create_app(TestingConfig, SQLALCHEMY_DATABASE_URI=url)
    with app.app_context():
        user = User(email="rota@stress.example", name="Rota Manager", role=UserRole.ROTA_MANAGER)
        db.session.add(user)
        db.session.flush()
        _, token = create_api_token(user, "restart stress")
        db.session.commit()
        db.engine.dispose()
    return token


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--restarts", type=int, default=12)
    parser.add_argument("--clients", type=int, default=6)
    parser.add_argument("--health-only", action="store_true")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    schema = f"stress_{uuid.uuid4().hex[:8]}"
    admin = sa.create_engine(PG, pool_pre_ping=True)
    with admin.begin() as conn:
        conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
    url = f"{PG}{'&' if '?' in PG else '?'}options=-csearch_path%3D{schema}"
    log = tempfile.NamedTemporaryFile(prefix="restart-stress-", suffix=".log", delete=False)  # noqa: SIM115
    server = None
    counts: Counter[int] = Counter()
    bad: list[tuple[str, int]] = []
    stop = threading.Event()
    try:
        token = prepare(url)
        port = free_port()
        env = {**os.environ, "DATABASE_URL": url, "SECRET_KEY": secrets.token_hex(32)}
        server = subprocess.Popen([str(BIN / "gunicorn"), "-w", "2", "-b", f"127.0.0.1:{port}",
                                   "--log-level", "warning", "sel_time:create_app()"],
                                  cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=log,
                                  start_new_session=True)
        paths = ["/health"] if args.health_only else READS
        if not wait_healthy(port, 60):
            sys.exit("gunicorn did not answer /health")

        def read(n: int) -> None:
            i = n
            while not stop.is_set():
                path = paths[i % len(paths)]
                i += 1
                conn = HTTPConnection("127.0.0.1", port, timeout=20)
                try:
                    conn.request("GET", path, headers={"Authorization": f"Bearer {token}"})
                    r = conn.getresponse()
                    r.read()
                    status = r.status
                except (OSError, HTTPException):
                    status = 0
                finally:
                    conn.close()
                counts[status] += 1
                if status not in (200, 503):
                    bad.append((path, status))

        readers = [threading.Thread(target=read, args=(n,), daemon=True)
                   for n in range(args.clients)]
        for t in readers:
            t.start()
        for n in range(args.restarts):
            time.sleep(rng.uniform(0.5, 2.0))
            pg_ctl("stop", "-m", "fast")
            time.sleep(rng.uniform(0.5, 2.0))
            pg_ctl("start")
            while not pg_ready():
                time.sleep(0.05)
            print(f"restart {n + 1:>3} of {args.restarts}: {dict(sorted(counts.items()))}, "
                  f"other than 200/503: {len(bad)}", flush=True)
        time.sleep(2.0)
    finally:
        stop.set()
        if not pg_ready():
            pg_ctl("start")
            while not pg_ready():
                time.sleep(0.1)
        if server is not None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait()
        with admin.begin() as conn:
            conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        admin.dispose()
    lines = Path(log.name).read_text(errors="replace").splitlines()
    Path(log.name).unlink()
    total = sum(counts.values())
    print(f"\n{args.restarts} restarts, {args.clients} clients, gunicorn -w 2: {total:,} replies, "
          f"{counts[503]:,} answered 503, {len(bad)} other than 200/503 {bad[:5] if bad else ''}")
    warnings = [line for line in lines if "] WARNING " in line]
    errors = [line for line in lines if "] ERROR " in line or line.startswith("Traceback")]
    print(f"server log: {len(lines):,} lines, {len(warnings):,} warnings (a 503 logs one), "
          f"{len(errors)} errors or tracebacks{':' if errors else ''}")
    for line in errors[:8]:
        print("  " + line[:200])
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
